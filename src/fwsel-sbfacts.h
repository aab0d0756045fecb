/*
 * fwsel-sbfacts.h: what a decoded varstore means for Secure Boot updates:
 * who owns it (PK), which of Microsoft's 2011 and 2023 CAs are in KEK and
 * db, which certificates have expired at a given time, and whether the
 * guest needs attention
 *
 * Pure: works on a decoded varstore (fwselVarstoreDecode), no I/O.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-c/json.h>
#include "fwsel-varstore.h"

G_BEGIN_DECLS

/* Microsoft's Secure Boot CAs: the 2011 set, which expires in 2026, and
 * its 2023 successors */
typedef enum {
    FWSEL_MSCA_KEK_2011 = 0,
    FWSEL_MSCA_KEK_2023,
    FWSEL_MSCA_WINDOWS_2011,
    FWSEL_MSCA_WINDOWS_2023,
    FWSEL_MSCA_UEFI_2011,
    FWSEL_MSCA_UEFI_2023,
    FWSEL_MSCA_OPTION_ROM_2023,

    FWSEL_MSCA_LAST
} fwselMsCa;
FWSEL_ENUM_DECL(fwselMsCa);

typedef struct {
    const char *commonName;     /* the subject's CN */
    const char *shortName;      /* for one-line output */
    fwselSigDbKind db;          /* where it belongs: KEK or db */
    const char *sha256;         /* fingerprint of Microsoft's certificate
                                 * (lower-case hex); NULL: not known, the
                                 * subject alone identifies it */
    int year;
} fwselMsCaInfo;

const fwselMsCaInfo *fwselMsCaGetInfo(fwselMsCa ca);

/* Which of Microsoft's CAs @sig's subject names (CN and O), or -1 */
int fwselMsCaIdentify(const fwselSignature *sig);

/* How a CA is in the database it belongs to */
typedef enum {
    FWSEL_CA_ABSENT = 0,
    FWSEL_CA_PRESENT,           /* Microsoft's certificate (fingerprint) */
    FWSEL_CA_SUBJECT_ONLY,      /* its subject, no fingerprint to check */
    FWSEL_CA_IMPOSTOR,          /* its subject, another fingerprint */

    FWSEL_CA_LAST
} fwselCaPresence;
FWSEL_ENUM_DECL(fwselCaPresence);

/* A certificate of PK, KEK or db no longer valid at the audit time */
typedef struct {
    const char *db;             /* "PK", "KEK", "db" */
    char *name;                 /* CN (short name for Microsoft's), else subject */
    char *notAfter;
} fwselSbExpired;

typedef struct _fwselSbFacts {
    char *at;                   /* the audit time, "YYYY-MM-DDTHH:MM:SSZ" */
    bool blank;                 /* erased flash: formatted at the first boot */
    bool secureBoot;            /* at the next boot */
    char *owner;                /* PK's O (else CN, else subject); NULL: no PK */
    char *ownerSubject;
    fwselCaPresence ca[FWSEL_MSCA_LAST];
    guint others[FWSEL_SIGDB_LAST];     /* X.509 certificates that are not
                                         * Microsoft's CAs (KEK, db) */
    GPtrArray *expired;         /* fwselSbExpired * */
    GPtrArray *attention;       /* char *: why the guest needs attention */
} fwselSbFacts;

void fwselSbFactsFree(fwselSbFacts *facts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselSbFacts, fwselSbFactsFree);

/*
 * @at: ISO 8601 UTC time ("2026-12-02T00:00:00Z").  A guest needs
 * attention when Secure Boot is on at its next boot and, of the three
 * 2011 CAs it trusts in KEK or db, one lacks its 2023 successor:
 * KEK CA 2011 -> KEK 2K CA 2023; Windows Production PCA 2011 -> Windows
 * UEFI CA 2023; UEFI CA 2011 -> Microsoft UEFI CA 2023 and Option ROM
 * UEFI CA 2023.  A certificate with a 2023 CA's subject and another
 * fingerprint does not count.
 */
fwselSbFacts *fwselSbFactsGet(const fwselVarstore *store,
                              const fwselVarstoreInfo *info,
                              const char *at);

/* "secure boot on, PK Debian; KEK: ...; db: ...; expired: ..." */
char *fwselSbFactsFormat(const fwselSbFacts *facts);
json_object *fwselSbFactsToJSON(const fwselSbFacts *facts);

/* --at DATE: "YYYY-MM-DD" (midnight UTC) or "YYYY-MM-DDTHH:MM:SSZ"; NULL:
 * now.  Returns the ISO form. */
char *fwselSbTimeParse(const char *text, GError **error);

G_END_DECLS
