/*
 * fwsel-enroll.h: adding X.509 certificates to a varstore's KEK and db,
 * offline, as the firmware's own authenticated variables
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-varstore.h"

G_BEGIN_DECLS

/* Microsoft's signature owner GUID, given to Microsoft's CAs */
#define FWSEL_OWNER_MICROSOFT "77fa9abd-0359-4d32-bd60-28f4e78f784b"
/* fwsel's, given to any other certificate unless the user names one */
#define FWSEL_OWNER_FWSEL "8b4713ac-8916-4842-98c0-2453b281d1e8"

/* One certificate to add */
typedef struct {
    fwselSigDbKind db;          /* FWSEL_SIGDB_KEK or FWSEL_SIGDB_DB */
    char *path;                 /* its file, for messages */
    guint8 *der;
    gsize len;
    fwselGuid owner;
    fwselSignature *sig;        /* decoded: subject, validity, fingerprint */
} fwselEnrollCert;

void fwselEnrollCertFree(fwselEnrollCert *cert);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselEnrollCert, fwselEnrollCertFree);

/* "77fa9abd-0359-4d32-bd60-28f4e78f784b" to its stored form */
int fwselGuidParse(const char *text, fwselGuid *guid);

/*
 * Reads a certificate file: DER, or PEM (one CERTIFICATE block).
 * @owner: the signature owner GUID, NULL for the default (Microsoft's for
 * a certificate whose subject is one of Microsoft's CAs, else fwsel's).
 */
fwselEnrollCert *fwselEnrollCertLoad(const char *path,
                                     fwselSigDbKind db,
                                     const char *owner,
                                     GError **error);

/*
 * The raw image of @store with @certs (fwselEnrollCert *) appended to KEK
 * and db, each in an EFI_SIGNATURE_LIST of its own; the variable store
 * compacted (deleted and superseded entries dropped, as the firmware's
 * reclaim does).  A certificate already in that database is skipped with
 * a note.  Returns NULL with *@len 0 and no error when nothing is left to
 * add.
 */
guint8 *fwselVarstoreEnroll(const fwselVarstore *store,
                            const fwselVarstoreInfo *info,
                            GPtrArray *certs,
                            GPtrArray *notes,
                            gsize *len,
                            GError **error);

G_END_DECLS
