/*
 * fwsel-varstore.h: reading edk2 varstores (the NVRAM files of UEFI
 * guests) and decoding what decides Secure Boot: PK, KEK, db, dbx
 * (EFI_SIGNATURE_LIST, X.509 through GnuTLS), and the boot entries
 *
 * A varstore is hostile input: every length is checked against the
 * bytes it claims, and anything malformed is an error (FWSEL_ERROR_INVALID)
 * naming the file and the byte offset of the structure at fault.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <json-c/json.h>
#include "fwsel-types.h"
#include "fwsel-resolver.h"

G_BEGIN_DECLS

/* The largest varstore (the raw image the guest sees) fwsel reads: the
 * 64 MiB flash of aarch64 builds */
#define FWSEL_VARSTORE_MAX_SIZE (64 * 1024 * 1024)

/* A variable header's State byte, as the firmware reads it */
typedef enum {
    FWSEL_VAR_STATE_ADDED = 0,              /* 0x3f: live */
    FWSEL_VAR_STATE_IN_DELETED_TRANSITION,  /* 0x3e: live until its new copy is added */
    FWSEL_VAR_STATE_DELETED,                /* VAR_DELETED bit cleared */
    FWSEL_VAR_STATE_HEADER_VALID_ONLY,      /* 0x7f: the write never finished */
    FWSEL_VAR_STATE_OTHER,                  /* any other value: skipped by the firmware */

    FWSEL_VAR_STATE_LAST
} fwselVarState;
FWSEL_ENUM_DECL(fwselVarState);

typedef struct {
    guint8 b[16];       /* as stored: the first three fields little-endian */
} fwselGuid;

/* "8be4df61-93ca-11d2-aa0d-00e098032b8c"; @buf has 37 bytes */
void fwselGuidFormat(const fwselGuid *guid, char buf[37]);

/* One variable of the store */
typedef struct {
    char *name;                 /* UTF-8 */
    fwselGuid guid;
    guint32 attributes;
    fwselVarState state;
    guint8 stateByte;
    gsize offset;               /* of its header in the file */
    gsize dataOffset;           /* of its data in the file */
    const guint8 *data;         /* into the store's buffer */
    gsize dataSize;
    /* authenticated stores only */
    guint64 monotonicCount;
    char *timestamp;            /* "2025-03-10T02:53:39Z", NULL when all zero */
    guint32 pubKeyIndex;
} fwselVar;

typedef struct {
    char *path;                 /* as shown in messages */
    fwselFormat format;         /* of the file: raw or qcow2 */
    guint8 *buf;                /* the raw image (qcow2: converted) */
    gsize size;
    guint64 fvLength;
    gsize storeOffset;          /* of the variable store header */
    gsize storeSize;
    gsize used;                 /* end of the last variable header + data */
    bool authenticated;
    int blank;                  /* -1, or the value of every byte (0x00,
                                 * 0xff): never formatted; the firmware
                                 * formats it at its first boot */
    GPtrArray *vars;            /* fwselVar *: the live ones, in store order */
    guint skipped[FWSEL_VAR_STATE_LAST]; /* entries the firmware ignores,
                                          * by state (ADDED: duplicates) */
} fwselVarstore;

void fwselVarstoreFree(fwselVarstore *store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselVarstore, fwselVarstoreFree);

/* Parses @len bytes of a raw image; takes @buf */
fwselVarstore *fwselVarstoreParse(const char *path,
                                  guint8 *buf,
                                  gsize len,
                                  GError **error);

/* Reads an open varstore file, raw or qcow2 (converted by qemu-img) */
fwselVarstore *fwselVarstoreReadFD(int fd,
                                   const char *path,
                                   GError **error);

/* Reads @path on the host @root (or this machine when @root is NULL) */
fwselVarstore *fwselVarstoreRead(const fwselRoot *root,
                                 const char *path,
                                 GError **error);

const fwselVar *fwselVarstoreLookup(const fwselVarstore *store,
                                    const char *name,
                                    const char *guid);


/* ---- decoded contents ------------------------------------------------ */

typedef enum {
    FWSEL_SIG_X509 = 0,
    FWSEL_SIG_SHA256,
    FWSEL_SIG_OTHER,

    FWSEL_SIG_LAST
} fwselSigType;
FWSEL_ENUM_DECL(fwselSigType);

/* One EFI_SIGNATURE_DATA */
typedef struct {
    fwselSigType type;
    char typeGuid[37];
    char owner[37];
    gsize offset;               /* in the file */
    gsize list;                 /* index of its EFI_SIGNATURE_LIST */
    /* FWSEL_SIG_X509 */
    char *subject;              /* RFC 4514 */
    char *commonName;           /* the subject's CN, NULL without one */
    char *organization;         /* the subject's O, NULL without one */
    char *issuer;
    char *serial;               /* hex */
    char *notBefore;            /* ISO 8601, UTC */
    char *notAfter;
    char *sha256;               /* of the DER certificate, hex */
    /* FWSEL_SIG_SHA256 */
    char *hash;
} fwselSignature;

void fwselSignatureFree(fwselSignature *sig);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselSignature, fwselSignatureFree);

/* An X.509 certificate (DER) decoded as fwselVarstoreDecode does */
fwselSignature *fwselSignatureFromDER(const guint8 *der,
                                      gsize len,
                                      const char *path,
                                      GError **error);

/* PK, KEK, db or dbx */
typedef struct {
    const char *name;
    bool present;
    gsize lists;
    GPtrArray *sigs;            /* fwselSignature * */
    guint count[FWSEL_SIG_LAST];
} fwselSigDb;

typedef struct {
    guint16 number;
    bool present;               /* listed in BootOrder but missing: false */
    guint32 attributes;
    guint16 filePathLength;
    char *description;
} fwselBootOption;

typedef enum {
    FWSEL_SIGDB_PK = 0,
    FWSEL_SIGDB_KEK,
    FWSEL_SIGDB_DB,
    FWSEL_SIGDB_DBX,

    FWSEL_SIGDB_LAST
} fwselSigDbKind;

typedef struct {
    /* -1: not stored.  SecureBoot and SetupMode are volatile: a varstore
     * normally lacks them, and the firmware derives them at boot. */
    int secureBoot;
    int setupMode;
    int secureBootEnable;
    int customMode;
    /* what the firmware will set at the next boot */
    int secureBootAtBoot;
    int setupModeAtBoot;
    fwselSigDb dbs[FWSEL_SIGDB_LAST];
    bool hasBootOrder;
    GArray *bootOrder;          /* guint16 */
    GPtrArray *boot;            /* fwselBootOption *: Boot#### in store order */
} fwselVarstoreInfo;

void fwselVarstoreInfoFree(fwselVarstoreInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselVarstoreInfo, fwselVarstoreInfoFree);

fwselVarstoreInfo *fwselVarstoreDecode(const fwselVarstore *store,
                                       GError **error);

/* Human-readable report, and its JSON form */
char *fwselVarstoreFormat(const fwselVarstore *store,
                          const fwselVarstoreInfo *info);
json_object *fwselVarstoreToJSON(const fwselVarstore *store,
                                 const fwselVarstoreInfo *info);

/* One line for a table of templates or guests: "secure boot on; PK: CN;
 * KEK: CN, CN; db: CN, CN; dbx: N hashes" (a subject stands for a
 * certificate without a CN) */
char *fwselVarstoreSummary(const fwselVarstore *store,
                           const fwselVarstoreInfo *info);

G_END_DECLS
