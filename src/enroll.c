/*
 * enroll.c: adding certificates to KEK and db of an edk2 varstore offline
 *
 * edk2 trusts the contents of its variable flash: it authenticates a
 * write to PK, KEK, db or dbx when the guest makes it (SetVariable with a
 * time-based authentication descriptor), and stores only the result: the
 * variable's data (EFI_SIGNATURE_LISTs), with the authenticated header's
 * TimeStamp set to the time of the last write.  So an offline enrollment
 * writes what the firmware would have stored after an authenticated
 * append:
 *
 *   the variable's data plus one EFI_SIGNATURE_LIST per new certificate
 *   (type EFI_CERT_X509_GUID, no list header, one EFI_SIGNATURE_DATA:
 *   owner GUID then the DER certificate);
 *   attributes NV|BS|RT|TIME_BASED_AUTHENTICATED_WRITE_ACCESS (0x27) for a
 *   new variable, the old ones otherwise;
 *   TimeStamp: the later of the old one and the newest notBefore of the
 *   certificates added (an append never moves it back; a later signed
 *   update with an earlier timestamp than "now" stays possible);
 *   MonotonicCount and PubKeyIndex 0, as for every time-based variable.
 *
 * The store is written anew, the firmware's live variables in their
 * order, each header 4-byte aligned, the rest erased (0xff): what edk2's
 * reclaim leaves.  The firmware volume header, the variable store header
 * and everything after the store (the fault-tolerant-write areas) are
 * kept byte for byte.
 *
 * Unless the firmware stopped in the middle of a fault-tolerant write:
 * edk2 then finishes that write at its next boot, copying the spare
 * block over the variable store, and would undo the enrollment.  The
 * working block (signature GUID below, after the store) holds a queue of
 * write headers (40 bytes: state bits, caller GUID at 4, NumberOfWrites
 * at 24, PrivateDataSize at 32), each followed by its records (40 bytes
 * plus the private data).  Flash erases to 1, so a state bit is set when
 * it is 0: bit 0 HeaderAllocated, bit 2 Complete.  The firmware skips
 * complete headers; one allocated and not complete is a pending write.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "fwsel-enroll.h"
#include "fwsel-sbfacts.h"
#include "fwsel-util.h"

#define FWSEL_ENROLL_MAX_CERT (64 * 1024)

/* the authenticated variable header (AUTHENTICATED_VARIABLE_HEADER) */
#define FWSEL_AUTH_HEADER 60
#define FWSEL_AUTH_STATE 2
#define FWSEL_AUTH_ATTRIBUTES 4
#define FWSEL_AUTH_MONOTONIC 8
#define FWSEL_AUTH_TIME 16
#define FWSEL_AUTH_PUBKEY 32
#define FWSEL_AUTH_NAME_SIZE 36
#define FWSEL_AUTH_DATA_SIZE 40
#define FWSEL_AUTH_GUID 44
#define FWSEL_STORE_HEADER 28
#define FWSEL_VAR_ADDED 0x3f

#define FWSEL_ATTR_TIME_BASED 0x27  /* NV | BS | RT | time-based authenticated */
#define FWSEL_GUID_GLOBAL "8be4df61-93ca-11d2-aa0d-00e098032b8c"
#define FWSEL_GUID_IMAGE_SECURITY_DB "d719b2cb-3d3a-4596-a3bc-dad00e67656f"
#define FWSEL_GUID_CERT_X509 "a5c059a1-94e4-4aa7-87b5-ab155c2bf072"
#define FWSEL_GUID_FTW_WORKING "9e58292b-7c68-497d-a0ce-6500fd9f1b95"

/* fault-tolerant write working block and queue */
#define FWSEL_FTW_HEADER 32
#define FWSEL_FTW_QUEUE_SIZE 24
#define FWSEL_FTW_WRITE_HEADER 40
#define FWSEL_FTW_WRITES 24
#define FWSEL_FTW_PRIVATE 32
#define FWSEL_FTW_RECORD 40
#define FWSEL_FTW_ALLOCATED 0x1
#define FWSEL_FTW_COMPLETE 0x4


void
fwselEnrollCertFree(fwselEnrollCert *cert)
{
    if (!cert)
        return;
    g_free(cert->path);
    g_free(cert->der);
    fwselSignatureFree(cert->sig);
    g_free(cert);
}


int
fwselGuidParse(const char *text, fwselGuid *guid)
{
    /* stored byte for each pair of hex digits of the text, in text order */
    static const int order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
    size_t i;
    size_t n = 0;

    if (!text || strlen(text) != 36 || text[8] != '-' || text[13] != '-' ||
        text[18] != '-' || text[23] != '-')
        return -1;
    for (i = 0; i < 36 && n < 16; ) {
        if (text[i] == '-') {
            i++;
            continue;
        }
        if (!g_ascii_isxdigit(text[i]) || !g_ascii_isxdigit(text[i + 1]))
            return -1;
        guid->b[order[n++]] = (guint8) ((g_ascii_xdigit_value(text[i]) << 4) |
                                        g_ascii_xdigit_value(text[i + 1]));
        i += 2;
    }
    return n == 16 ? 0 : -1;
}


/* The DER bytes of a PEM CERTIFICATE block in @text, NULL when none */
static guint8 *
fwselPemDecode(const char *text, gsize textLen, gsize *len)
{
    static const char begin[] = "-----BEGIN CERTIFICATE-----";
    static const char end[] = "-----END CERTIFICATE-----";
    g_autofree char *copy = g_strndup(text, textLen);
    char *start;
    char *stop;
    guint8 *der;

    if (!(start = strstr(copy, begin)))
        return NULL;
    start += strlen(begin);
    if (!(stop = strstr(start, end)))
        return NULL;
    *stop = '\0';
    der = g_base64_decode(start, len);
    if (*len == 0) {
        g_free(der);
        return NULL;
    }
    return der;
}


/**
 * fwselEnrollCertLoad:
 *
 * See fwsel-enroll.h.
 */
fwselEnrollCert *
fwselEnrollCertLoad(const char *path, fwselSigDbKind db, const char *owner, GError **error)
{
    g_autoptr(fwselEnrollCert) cert = g_new0(fwselEnrollCert, 1);
    g_autofree char *contents = NULL;
    gsize len = 0;
    int ca;

    cert->db = db;
    cert->path = g_strdup(path);
    if (fwselFileReadBounded(path, FWSEL_ENROLL_MAX_CERT, &contents, &len, error) < 0)
        return NULL;
    if (len && (guint8) contents[0] == 0x30) {
        cert->der = (guint8 *) g_steal_pointer(&contents);
        cert->len = len;
    } else if (!(cert->der = fwselPemDecode(contents, len, &cert->len))) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "%s: neither a DER certificate nor a PEM CERTIFICATE block", path);
        return NULL;
    }
    if (!(cert->sig = fwselSignatureFromDER(cert->der, cert->len, path, error)))
        return NULL;

    if (!owner) {
        ca = fwselMsCaIdentify(cert->sig);
        owner = ca >= 0 ? FWSEL_OWNER_MICROSOFT : FWSEL_OWNER_FWSEL;
    }
    if (fwselGuidParse(owner, &cert->owner) < 0) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "--signature-owner: '%s' is not a GUID "
                    "(xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", owner);
        return NULL;
    }
    return g_steal_pointer(&cert);
}


static void
fwselPutLE16(guint8 *p, guint16 v)
{
    p[0] = v & 0xff;
    p[1] = v >> 8;
}


static void
fwselPutLE32(guint8 *p, guint32 v)
{
    fwselPutLE16(p, v & 0xffff);
    fwselPutLE16(p + 2, v >> 16);
}


static void
fwselPutLE64(guint8 *p, guint64 v)
{
    fwselPutLE32(p, v & 0xffffffff);
    fwselPutLE32(p + 4, v >> 32);
}


/* EFI_TIME of an ISO 8601 UTC time; all zero when it cannot be read */
static void
fwselEfiTimeFromISO(guint8 *p, const char *iso)
{
    g_autoptr(GDateTime) dt = iso ? g_date_time_new_from_iso8601(iso, NULL) : NULL;

    memset(p, 0, 16);
    if (!dt)
        return;
    fwselPutLE16(p, (guint16) g_date_time_get_year(dt));
    p[2] = (guint8) g_date_time_get_month(dt);
    p[3] = (guint8) g_date_time_get_day_of_month(dt);
    p[4] = (guint8) g_date_time_get_hour(dt);
    p[5] = (guint8) g_date_time_get_minute(dt);
    p[6] = (guint8) g_date_time_get_second(dt);
}


static guint64
fwselGetLE64(const guint8 *p)
{
    guint64 v = 0;
    int i;

    for (i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}


/*
 * Whether the firmware left a fault-tolerant write unfinished in the
 * working block after the variable store (see the top of this file).
 * Returns the offset of the pending write header, or 0.
 */
static gsize
fwselFtwPending(const fwselVarstore *store)
{
    fwselGuid sig;
    gsize off;

    fwselGuidParse(FWSEL_GUID_FTW_WORKING, &sig);
    for (off = store->storeOffset + store->storeSize; off + FWSEL_FTW_HEADER <= store->fvLength;
         off += 16) {
        gsize queue;
        gsize end;
        gsize pos;

        if (memcmp(store->buf + off, sig.b, 16) != 0)
            continue;
        queue = fwselGetLE64(store->buf + off + FWSEL_FTW_QUEUE_SIZE);
        end = queue > store->fvLength - off - FWSEL_FTW_HEADER ? store->fvLength :
            off + FWSEL_FTW_HEADER + queue;
        for (pos = off + FWSEL_FTW_HEADER; pos + FWSEL_FTW_WRITE_HEADER <= end; ) {
            guint8 state = store->buf[pos];
            guint64 writes = fwselGetLE64(store->buf + pos + FWSEL_FTW_WRITES);
            guint64 priv = fwselGetLE64(store->buf + pos + FWSEL_FTW_PRIVATE);

            if (state & FWSEL_FTW_ALLOCATED)
                return 0;           /* erased: the end of the queue */
            if (state & FWSEL_FTW_COMPLETE)
                return pos;         /* allocated, not complete */
            if (writes > end || priv > end ||
                writes * (FWSEL_FTW_RECORD + priv) > end - pos - FWSEL_FTW_WRITE_HEADER)
                return 0;           /* the firmware stops there too */
            pos += FWSEL_FTW_WRITE_HEADER + writes * (FWSEL_FTW_RECORD + priv);
        }
        return 0;
    }
    return 0;
}


/* The additions to one variable */
typedef struct {
    const char *name;
    const char *guid;
    GByteArray *lists;          /* new EFI_SIGNATURE_LISTs */
    char *newest;               /* latest notBefore of the certificates */
    bool done;                  /* written */
} fwselEnrollTarget;


static bool
fwselSigDbHas(const fwselSigDb *db, const char *sha256)
{
    guint i;

    for (i = 0; db->present && i < db->sigs->len; i++) {
        const fwselSignature *sig = g_ptr_array_index(db->sigs, i);

        if (sig->type == FWSEL_SIG_X509 && g_str_equal(sig->sha256, sha256))
            return true;
    }
    return false;
}


static void
fwselEnrollAppendList(fwselEnrollTarget *t, const fwselEnrollCert *cert)
{
    guint8 head[28 + 16];
    fwselGuid type;
    guint32 sigSize = (guint32) (16 + cert->len);

    fwselGuidParse(FWSEL_GUID_CERT_X509, &type);
    memcpy(head, type.b, 16);
    fwselPutLE32(head + 16, 28 + sigSize);     /* SignatureListSize */
    fwselPutLE32(head + 20, 0);                /* SignatureHeaderSize */
    fwselPutLE32(head + 24, sigSize);          /* SignatureSize */
    memcpy(head + 28, cert->owner.b, 16);
    g_byte_array_append(t->lists, head, sizeof(head));
    g_byte_array_append(t->lists, cert->der, (guint) cert->len);
    if (!t->newest || strcmp(cert->sig->notBefore, t->newest) > 0) {
        g_free(t->newest);
        t->newest = g_strdup(cert->sig->notBefore);
    }
}


/* Writes one variable at *@pos of @out; fails when the store is full */
static int
fwselEnrollPut(const fwselVarstore *store, guint8 *out, gsize *pos, gsize end,
               const guint8 *header, const guint8 *name, gsize nameSize,
               const guint8 *data, gsize dataSize, const guint8 *extra, gsize extraSize,
               GError **error)
{
    gsize need = FWSEL_AUTH_HEADER + nameSize + dataSize + extraSize;

    if (need > end - *pos) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "%s: the variable store (%zu bytes) has no room for the new "
                    "certificates: %zu more bytes needed", store->path, store->storeSize,
                    need - (end - *pos));
        return -1;
    }
    memcpy(out + *pos, header, FWSEL_AUTH_HEADER);
    fwselPutLE32(out + *pos + FWSEL_AUTH_NAME_SIZE, (guint32) nameSize);
    fwselPutLE32(out + *pos + FWSEL_AUTH_DATA_SIZE, (guint32) (dataSize + extraSize));
    memcpy(out + *pos + FWSEL_AUTH_HEADER, name, nameSize);
    if (dataSize)
        memcpy(out + *pos + FWSEL_AUTH_HEADER + nameSize, data, dataSize);
    if (extraSize)
        memcpy(out + *pos + FWSEL_AUTH_HEADER + nameSize + dataSize, extra, extraSize);
    *pos += need;
    *pos = (*pos + 3) & ~(gsize) 3;
    return 0;
}


/**
 * fwselVarstoreEnroll:
 *
 * See fwsel-enroll.h.
 */
guint8 *
fwselVarstoreEnroll(const fwselVarstore *store, const fwselVarstoreInfo *info,
                    GPtrArray *certs, GPtrArray *notes, gsize *len, GError **error)
{
    fwselEnrollTarget targets[] = {
        { "KEK", FWSEL_GUID_GLOBAL, NULL, NULL, false },
        { "db", FWSEL_GUID_IMAGE_SECURITY_DB, NULL, NULL, false },
    };
    g_autofree guint8 *out = NULL;
    gsize end = store->storeOffset + store->storeSize;
    gsize pos;
    bool any = false;
    guint i;
    size_t t;
    guint8 *ret = NULL;

    *len = 0;
    if (store->blank >= 0) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "%s: blank (erased) flash: the firmware formats it at its first boot; "
                    "start the guest once, then enroll", store->path);
        return NULL;
    }
    if (!store->authenticated) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "%s: a plain variable store (firmware built without Secure Boot) "
                    "cannot hold KEK or db", store->path);
        return NULL;
    }
    if ((pos = fwselFtwPending(store))) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_UNSAFE,
                    "%s: offset 0x%zx: the firmware stopped in the middle of a "
                    "fault-tolerant write, which it would finish at the next boot over "
                    "the new variables; start the guest once and shut it down, then "
                    "enroll", store->path, pos);
        return NULL;
    }

    for (t = 0; t < G_N_ELEMENTS(targets); t++)
        targets[t].lists = g_byte_array_new();
    for (i = 0; i < certs->len; i++) {
        const fwselEnrollCert *cert = g_ptr_array_index(certs, i);
        fwselEnrollTarget *target = &targets[cert->db == FWSEL_SIGDB_KEK ? 0 : 1];
        const char *what = cert->sig->commonName ? cert->sig->commonName : cert->sig->subject;
        guint j;
        bool twice = false;

        for (j = 0; j < i; j++) {
            const fwselEnrollCert *other = g_ptr_array_index(certs, j);

            if (other->db == cert->db && g_str_equal(other->sig->sha256, cert->sig->sha256))
                twice = true;
        }
        if (twice || fwselSigDbHas(&info->dbs[cert->db], cert->sig->sha256)) {
            g_ptr_array_add(notes, g_strdup_printf("%s: %s is already in %s: left as it is",
                                                   cert->path, what, target->name));
            continue;
        }
        fwselEnrollAppendList(target, cert);
        g_ptr_array_add(notes, g_strdup_printf("%s: %s added to %s", cert->path, what,
                                               target->name));
        any = true;
    }
    if (!any)
        goto cleanup;

    out = g_memdup2(store->buf, store->size);
    pos = (store->storeOffset + FWSEL_STORE_HEADER + 3) & ~(gsize) 3;
    memset(out + pos, 0xff, end - pos);

    for (i = 0; i < store->vars->len; i++) {
        const fwselVar *var = g_ptr_array_index(store->vars, i);
        const guint8 *name = store->buf + var->offset + FWSEL_AUTH_HEADER;
        gsize nameSize = var->dataOffset - var->offset - FWSEL_AUTH_HEADER;
        fwselEnrollTarget *target = NULL;
        guint8 header[FWSEL_AUTH_HEADER];
        char guid[37];

        fwselGuidFormat(&var->guid, guid);
        for (t = 0; t < G_N_ELEMENTS(targets); t++) {
            if (g_str_equal(var->name, targets[t].name) && g_str_equal(guid, targets[t].guid))
                target = &targets[t];
        }
        memcpy(header, store->buf + var->offset, sizeof(header));
        header[FWSEL_AUTH_STATE] = FWSEL_VAR_ADDED;
        if (target && target->lists->len) {
            if (!var->timestamp || strcmp(target->newest, var->timestamp) > 0)
                fwselEfiTimeFromISO(header + FWSEL_AUTH_TIME, target->newest);
            target->done = true;
        }
        if (fwselEnrollPut(store, out, &pos, end, header, name, nameSize, var->data,
                           var->dataSize, target ? target->lists->data : NULL,
                           target ? target->lists->len : 0, error) < 0)
            goto cleanup;
    }

    /* KEK or db the store does not have yet */
    for (t = 0; t < G_N_ELEMENTS(targets); t++) {
        fwselEnrollTarget *target = &targets[t];
        g_autofree gunichar2 *utf16 = NULL;
        g_autofree guint8 *name = NULL;
        guint8 header[FWSEL_AUTH_HEADER] = { 0 };
        glong units = 0;
        fwselGuid guid;
        glong k;

        if (target->done || !target->lists->len)
            continue;
        utf16 = g_utf8_to_utf16(target->name, -1, NULL, &units, NULL);
        name = g_new0(guint8, (units + 1) * 2);
        for (k = 0; k < units; k++)
            fwselPutLE16(name + 2 * k, utf16[k]);
        fwselPutLE16(header, 0x55aa);
        header[FWSEL_AUTH_STATE] = FWSEL_VAR_ADDED;
        fwselPutLE32(header + FWSEL_AUTH_ATTRIBUTES, FWSEL_ATTR_TIME_BASED);
        fwselPutLE64(header + FWSEL_AUTH_MONOTONIC, 0);
        fwselEfiTimeFromISO(header + FWSEL_AUTH_TIME, target->newest);
        fwselPutLE32(header + FWSEL_AUTH_PUBKEY, 0);
        fwselGuidParse(target->guid, &guid);
        memcpy(header + FWSEL_AUTH_GUID, guid.b, 16);
        if (fwselEnrollPut(store, out, &pos, end, header, name, (units + 1) * 2,
                           target->lists->data, target->lists->len, NULL, 0, error) < 0)
            goto cleanup;
        g_ptr_array_add(notes, g_strdup_printf("%s did not exist: created", target->name));
    }

    *len = store->size;
    ret = g_steal_pointer(&out);

 cleanup:
    for (t = 0; t < G_N_ELEMENTS(targets); t++) {
        g_byte_array_unref(targets[t].lists);
        g_free(targets[t].newest);
    }
    return ret;
}
