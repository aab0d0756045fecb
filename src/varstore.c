/*
 * varstore.c: reading edk2 varstores and decoding their Secure Boot keys
 * and boot entries
 *
 * The layout, from the UEFI PI specification and edk2's variable driver
 * (all integers little-endian):
 *
 *   firmware volume header (EFI_FIRMWARE_VOLUME_HEADER, "_FVH", file
 *   system GUID EFI_SYSTEM_NV_DATA_FV, 16-bit checksum over HeaderLength)
 *   variable store header (VARIABLE_STORE_HEADER, 28 bytes: signature
 *   GUID authenticated or not, Size counted from this header, Format
 *   0x5a, State 0xfe)
 *   variables, each at a 4-byte aligned offset: header (60 bytes
 *   authenticated, 32 not) starting 0x55AA, then NameSize bytes of
 *   UTF-16LE name, then DataSize bytes of data.  The first header not
 *   starting 0x55AA ends the list.
 *
 * A variable is live when its State is VAR_ADDED, or
 * VAR_IN_DELETED_TRANSITION & VAR_ADDED when no VAR_ADDED copy of the
 * same name and GUID exists (the firmware stopped between writing a new
 * copy and deleting the old one).  Deleted and half-written entries
 * (VAR_HEADER_VALID_ONLY) are counted and skipped.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fwsel-varstore.h"
#include "fwsel-x509.h"
#include "fwsel-nvram.h"
#include "fwsel-util.h"

FWSEL_ENUM_IMPL(fwselVarState, FWSEL_VAR_STATE_LAST,
                "added", "in-deleted-transition", "deleted", "header-valid-only", "other");
FWSEL_ENUM_IMPL(fwselSigType, FWSEL_SIG_LAST,
                "x509", "sha256", "other");

/* Firmware volume header */
#define FWSEL_FV_ZERO_VECTOR 16
#define FWSEL_FV_GUID_OFF 16
#define FWSEL_FV_LENGTH_OFF 32
#define FWSEL_FV_SIGNATURE_OFF 40
#define FWSEL_FV_HEADER_LENGTH_OFF 48
#define FWSEL_FV_CHECKSUM_OFF 50
#define FWSEL_FV_REVISION_OFF 55
#define FWSEL_FV_BLOCKMAP_OFF 56
#define FWSEL_FV_SIGNATURE "_FVH"

/* Variable store header */
#define FWSEL_STORE_HEADER_SIZE 28
#define FWSEL_STORE_FORMATTED 0x5a
#define FWSEL_STORE_HEALTHY 0xfe

/* Variable headers */
#define FWSEL_VAR_START_ID 0x55aa
#define FWSEL_VAR_HEADER_AUTH 60
#define FWSEL_VAR_HEADER_PLAIN 32
#define FWSEL_VAR_ALIGN 4

#define FWSEL_VAR_ADDED 0x3f
#define FWSEL_VAR_DELETED_BIT 0x02          /* cleared by VAR_DELETED (0xfd) */
#define FWSEL_VAR_IN_DELETED_TRANSITION 0x3e /* 0xfe & VAR_ADDED */
#define FWSEL_VAR_HEADER_VALID_ONLY 0x7f

/* EFI_SIGNATURE_LIST: type GUID, list size, header size, signature size */
#define FWSEL_SIGLIST_HEADER 28
#define FWSEL_SIGDATA_OWNER 16

/* EFI_LOAD_OPTION: attributes, file path list length */
#define FWSEL_LOAD_OPTION_HEADER 6
#define FWSEL_LOAD_OPTION_ACTIVE 0x1

#define FWSEL_GUID_NV_DATA_FV "fff12b8d-7696-4c8b-a985-2747075b4f50"
#define FWSEL_GUID_AUTH_VARS "aaf32c78-947b-439a-a180-2e144ec37792"
#define FWSEL_GUID_VARS "ddcf3616-3275-4164-98b6-fe85707ffe7d"
#define FWSEL_GUID_GLOBAL "8be4df61-93ca-11d2-aa0d-00e098032b8c"
#define FWSEL_GUID_IMAGE_SECURITY_DB "d719b2cb-3d3a-4596-a3bc-dad00e67656f"
#define FWSEL_GUID_SECURE_BOOT_ENABLE "f0a30bc7-af08-4556-99c4-001009c93a44"
#define FWSEL_GUID_CUSTOM_MODE "c076ec0c-7028-4399-a072-71ee5c448b9f"
#define FWSEL_GUID_CERT_X509 "a5c059a1-94e4-4aa7-87b5-ab155c2bf072"
#define FWSEL_GUID_CERT_SHA256 "c1c41626-504c-4092-aca9-41f936934328"

#define FWSEL_QCOW2_MAGIC "QFI\xfb"


static guint16
fwselLE16(const guint8 *p)
{
    return (guint16) (p[0] | (p[1] << 8));
}


static guint32
fwselLE32(const guint8 *p)
{
    return (guint32) p[0] | ((guint32) p[1] << 8) | ((guint32) p[2] << 16) |
        ((guint32) p[3] << 24);
}


static guint64
fwselLE64(const guint8 *p)
{
    return (guint64) fwselLE32(p) | ((guint64) fwselLE32(p + 4) << 32);
}


static guint64
fwselBE64(const guint8 *p)
{
    guint64 v = 0;
    size_t i;

    for (i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}


void
fwselGuidFormat(const fwselGuid *guid, char buf[37])
{
    /* byte order of the text form: the first three fields are stored
     * little-endian; -1 is a dash */
    static const int order[] = { 3, 2, 1, 0, -1, 5, 4, -1, 7, 6, -1, 8, 9, -1,
                                 10, 11, 12, 13, 14, 15 };
    static const char hex[] = "0123456789abcdef";
    size_t i;
    char *p = buf;

    for (i = 0; i < G_N_ELEMENTS(order); i++) {
        if (order[i] < 0) {
            *p++ = '-';
        } else {
            *p++ = hex[guid->b[order[i]] >> 4];
            *p++ = hex[guid->b[order[i]] & 0xf];
        }
    }
    *p = '\0';
}


static void
fwselGuidAt(const guint8 *p, char buf[37])
{
    fwselGuid guid;

    memcpy(guid.b, p, sizeof(guid.b));
    fwselGuidFormat(&guid, buf);
}


static bool
fwselGuidIs(const guint8 *p, const char *want)
{
    char buf[37];

    fwselGuidAt(p, buf);
    return g_str_equal(buf, want);
}


/* An error about malformed input at @offset of @path */
static void * G_GNUC_PRINTF(4, 5)
fwselVarstoreError(GError **error, const char *path, gsize offset, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID, "%s: offset 0x%zx: %s",
                path, offset, msg);
    return NULL;
}


/*
 * @s (taken) made safe to print: the varstore is written by the guest,
 * so a name may carry terminal escapes or bytes that are not UTF-8.  Every
 * control character and every byte that is not part of valid UTF-8 is
 * written as \xNN (GnuTLS already escapes the DN syntax with \).
 */
static char *
fwselDisplaySafe(char *s)
{
    g_autofree char *in = s;
    g_autoptr(GString) out = NULL;
    const char *p;

    if (!in)
        return NULL;
    out = g_string_sized_new(strlen(in));
    for (p = in; *p; ) {
        gunichar c = g_utf8_get_char_validated(p, -1);

        if (c == (gunichar) -1 || c == (gunichar) -2) {
            g_string_append_printf(out, "\\x%02x", (guchar) *p);
            p++;
            continue;
        }
        if (c < 0x20 || (c >= 0x7f && c < 0xa0))
            g_string_append_printf(out, "\\x%02x", (guint) c);
        else
            g_string_append_len(out, p, g_utf8_next_char(p) - p);
        p = g_utf8_next_char(p);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}


/*
 * UTF-16LE of @size bytes at @p, to UTF-8.  @size counts a terminating
 * NUL, which must be there (and nothing after it).
 */
static char *
fwselUtf16Decode(const guint8 *p, gsize size, const char *path, gsize offset,
                 const char *what, GError **error)
{
    g_autofree gunichar2 *units = NULL;
    g_autoptr(GError) convErr = NULL;
    gsize n;
    gsize i;
    char *out;

    if (size < 2 || size % 2)
        return fwselVarstoreError(error, path, offset, "%s: size %zu is not a whole "
                                  "number of UTF-16 characters with a terminating NUL",
                                  what, size);
    n = size / 2;
    units = g_new(gunichar2, n);
    for (i = 0; i < n; i++)
        units[i] = fwselLE16(p + 2 * i);
    if (units[n - 1] != 0)
        return fwselVarstoreError(error, path, offset, "%s: no terminating NUL", what);
    for (i = 0; i + 1 < n; i++) {
        if (units[i] == 0)
            return fwselVarstoreError(error, path, offset + 2 * i,
                                      "%s: NUL character before the end", what);
    }
    if (!(out = g_utf16_to_utf8(units, (glong) (n - 1), NULL, NULL, &convErr)))
        return fwselVarstoreError(error, path, offset, "%s: not valid UTF-16: %s",
                                  what, convErr->message);
    return fwselDisplaySafe(out);
}


/* ---- the store ------------------------------------------------------- */

static void
fwselVarFree(fwselVar *var)
{
    if (!var)
        return;
    g_free(var->name);
    g_free(var->timestamp);
    g_free(var);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselVar, fwselVarFree);


void
fwselVarstoreFree(fwselVarstore *store)
{
    if (!store)
        return;
    g_free(store->path);
    g_free(store->buf);
    if (store->vars)
        g_ptr_array_unref(store->vars);
    g_free(store);
}


static fwselVarState
fwselVarStateFromByte(guint8 state)
{
    if (state == FWSEL_VAR_ADDED)
        return FWSEL_VAR_STATE_ADDED;
    if (state == FWSEL_VAR_IN_DELETED_TRANSITION)
        return FWSEL_VAR_STATE_IN_DELETED_TRANSITION;
    if (state == FWSEL_VAR_HEADER_VALID_ONLY)
        return FWSEL_VAR_STATE_HEADER_VALID_ONLY;
    /* a completely added variable whose VAR_DELETED bit is cleared
     * (0x3d, or 0x3c from in-transition) */
    if ((state & ~(guint8) 0x03) == (FWSEL_VAR_ADDED & ~(guint8) 0x03) &&
        !(state & FWSEL_VAR_DELETED_BIT))
        return FWSEL_VAR_STATE_DELETED;
    return FWSEL_VAR_STATE_OTHER;
}


/* EFI_TIME at @p: NULL when unset (all zero) */
static char *
fwselEfiTimeFormat(const guint8 *p)
{
    static const guint8 zero[16] = { 0 };

    if (memcmp(p, zero, sizeof(zero)) == 0)
        return NULL;
    return g_strdup_printf("%04u-%02u-%02uT%02u:%02u:%02uZ",
                           fwselLE16(p), p[2], p[3], p[4], p[5], p[6]);
}


/* -1, or the value of every byte when they are all the same */
static int
fwselVarstoreUniform(const guint8 *buf, gsize len)
{
    gsize i;

    if (!len)
        return -1;
    for (i = 1; i < len; i++) {
        if (buf[i] != buf[0])
            return -1;
    }
    return buf[0];
}


static int
fwselVarstoreParseFV(fwselVarstore *store, GError **error)
{
    const guint8 *b = store->buf;
    guint16 headerLength;
    guint16 sum = 0;
    gsize off;
    gsize i;

    if (store->size < FWSEL_FV_BLOCKMAP_OFF + 8) {
        fwselVarstoreError(error, store->path, 0,
                           "firmware volume header: file is %zu bytes, too short for one",
                           store->size);
        return -1;
    }
    if (memcmp(b + FWSEL_FV_SIGNATURE_OFF, FWSEL_FV_SIGNATURE, 4) != 0) {
        fwselVarstoreError(error, store->path, FWSEL_FV_SIGNATURE_OFF,
                           "firmware volume header: signature is not \"_FVH\": "
                           "not an edk2 varstore");
        return -1;
    }
    if (!fwselGuidIs(b + FWSEL_FV_GUID_OFF, FWSEL_GUID_NV_DATA_FV)) {
        char guid[37];

        fwselGuidAt(b + FWSEL_FV_GUID_OFF, guid);
        fwselVarstoreError(error, store->path, FWSEL_FV_GUID_OFF,
                           "firmware volume header: file system GUID %s is not the "
                           "NV data volume's (" FWSEL_GUID_NV_DATA_FV ")", guid);
        return -1;
    }

    store->fvLength = fwselLE64(b + FWSEL_FV_LENGTH_OFF);
    headerLength = fwselLE16(b + FWSEL_FV_HEADER_LENGTH_OFF);
    if (headerLength < FWSEL_FV_BLOCKMAP_OFF + 8 || headerLength % 2 ||
        headerLength > store->size) {
        fwselVarstoreError(error, store->path, FWSEL_FV_HEADER_LENGTH_OFF,
                           "firmware volume header: header length %u is not an even "
                           "number between %u and the file size %zu",
                           headerLength, FWSEL_FV_BLOCKMAP_OFF + 8, store->size);
        return -1;
    }
    if (store->fvLength < headerLength || store->fvLength > store->size) {
        fwselVarstoreError(error, store->path, FWSEL_FV_LENGTH_OFF,
                           "firmware volume header: volume length %" G_GUINT64_FORMAT
                           " is not between the header length %u and the file size %zu",
                           store->fvLength, headerLength, store->size);
        return -1;
    }
    for (i = 0; i < headerLength; i += 2)
        sum += fwselLE16(b + i);
    if (sum != 0) {
        fwselVarstoreError(error, store->path, FWSEL_FV_CHECKSUM_OFF,
                           "firmware volume header: checksum 0x%04x is wrong "
                           "(the header's 16-bit words add up to 0x%04x, not 0)",
                           fwselLE16(b + FWSEL_FV_CHECKSUM_OFF), sum);
        return -1;
    }

    /* The block map ends with a zero entry inside the header */
    for (off = FWSEL_FV_BLOCKMAP_OFF; ; off += 8) {
        if (off + 8 > headerLength) {
            fwselVarstoreError(error, store->path, FWSEL_FV_BLOCKMAP_OFF,
                               "firmware volume header: block map has no terminating "
                               "entry within the header length %u", headerLength);
            return -1;
        }
        if (fwselLE32(b + off) == 0 && fwselLE32(b + off + 4) == 0)
            break;
    }

    store->storeOffset = headerLength;
    return 0;
}


static int
fwselVarstoreParseStoreHeader(fwselVarstore *store, GError **error)
{
    const guint8 *h = store->buf + store->storeOffset;
    gsize off = store->storeOffset;
    guint32 size;

    if (off + FWSEL_STORE_HEADER_SIZE > store->fvLength) {
        fwselVarstoreError(error, store->path, off,
                           "variable store header: does not fit in the firmware volume "
                           "(%" G_GUINT64_FORMAT " bytes)", store->fvLength);
        return -1;
    }
    if (fwselGuidIs(h, FWSEL_GUID_AUTH_VARS)) {
        store->authenticated = true;
    } else if (fwselGuidIs(h, FWSEL_GUID_VARS)) {
        store->authenticated = false;
    } else {
        char guid[37];

        fwselGuidAt(h, guid);
        fwselVarstoreError(error, store->path, off,
                           "variable store header: signature GUID %s is neither the "
                           "authenticated (" FWSEL_GUID_AUTH_VARS ") nor the plain ("
                           FWSEL_GUID_VARS ") variable store's", guid);
        return -1;
    }
    size = fwselLE32(h + 16);
    if (size < FWSEL_STORE_HEADER_SIZE || off + size > store->fvLength) {
        fwselVarstoreError(error, store->path, off + 16,
                           "variable store header: size %u does not fit in the firmware "
                           "volume (%" G_GUINT64_FORMAT " bytes, store at 0x%zx)",
                           size, store->fvLength, off);
        return -1;
    }
    if (h[20] != FWSEL_STORE_FORMATTED) {
        fwselVarstoreError(error, store->path, off + 20,
                           "variable store header: format 0x%02x is not 'formatted' (0x%02x)",
                           h[20], FWSEL_STORE_FORMATTED);
        return -1;
    }
    if (h[21] != FWSEL_STORE_HEALTHY) {
        fwselVarstoreError(error, store->path, off + 21,
                           "variable store header: state 0x%02x is not 'healthy' (0x%02x)",
                           h[21], FWSEL_STORE_HEALTHY);
        return -1;
    }
    store->storeSize = size;
    return 0;
}


/* One variable header at @off; *@next receives the next one's offset */
static fwselVar *
fwselVarstoreParseVar(const fwselVarstore *store, gsize off, gsize end, gsize *next,
                      GError **error)
{
    const guint8 *h = store->buf + off;
    gsize hsize = store->authenticated ? FWSEL_VAR_HEADER_AUTH : FWSEL_VAR_HEADER_PLAIN;
    g_autoptr(fwselVar) var = g_new0(fwselVar, 1);
    g_autofree char *what = NULL;
    guint32 nameSize;
    guint32 dataSize;
    gsize nameOff;

    var->offset = off;
    var->stateByte = h[2];
    var->state = fwselVarStateFromByte(h[2]);
    var->attributes = fwselLE32(h + 4);
    if (store->authenticated) {
        var->monotonicCount = fwselLE64(h + 8);
        var->timestamp = fwselEfiTimeFormat(h + 16);
        var->pubKeyIndex = fwselLE32(h + 32);
        nameSize = fwselLE32(h + 36);
        dataSize = fwselLE32(h + 40);
        memcpy(var->guid.b, h + 44, 16);
    } else {
        nameSize = fwselLE32(h + 8);
        dataSize = fwselLE32(h + 12);
        memcpy(var->guid.b, h + 16, 16);
    }

    nameOff = off + hsize;
    /* sizes are 32-bit: their sum cannot overflow a 64-bit gsize */
    if ((guint64) nameSize + dataSize > end - nameOff)
        return fwselVarstoreError(error, store->path, off,
                                  "variable (state 0x%02x): name size %u and data size %u "
                                  "run past the end of the variable store at 0x%zx",
                                  var->stateByte, nameSize, dataSize, end);

    var->dataOffset = nameOff + nameSize;
    var->data = store->buf + var->dataOffset;
    var->dataSize = dataSize;
    *next = var->dataOffset + dataSize;

    /* only live variables are decoded: the firmware never reads the
     * name of a deleted or half-written one */
    if (var->state == FWSEL_VAR_STATE_ADDED ||
        var->state == FWSEL_VAR_STATE_IN_DELETED_TRANSITION) {
        what = g_strdup_printf("name of the variable at 0x%zx", off);
        if (!(var->name = fwselUtf16Decode(store->buf + nameOff, nameSize, store->path,
                                           nameOff, what, error)))
            return NULL;
    }
    return g_steal_pointer(&var);
}


static guint
fwselVarKeyHash(gconstpointer p)
{
    const fwselVar *var = p;

    return g_str_hash(var->name) ^ fwselLE32(var->guid.b);
}


static gboolean
fwselVarKeyEqual(gconstpointer a, gconstpointer b)
{
    const fwselVar *x = a;
    const fwselVar *y = b;

    return g_str_equal(x->name, y->name) && memcmp(x->guid.b, y->guid.b, 16) == 0;
}


static int
fwselVarstoreParseVars(fwselVarstore *store, GError **error)
{
    gsize hsize = store->authenticated ? FWSEL_VAR_HEADER_AUTH : FWSEL_VAR_HEADER_PLAIN;
    gsize end = store->storeOffset + store->storeSize;
    gsize off = store->storeOffset + FWSEL_STORE_HEADER_SIZE;
    g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func((GDestroyNotify) fwselVarFree);
    g_autoptr(GHashTable) added = g_hash_table_new(fwselVarKeyHash, fwselVarKeyEqual);
    g_autoptr(GHashTable) kept = g_hash_table_new(fwselVarKeyHash, fwselVarKeyEqual);
    guint i;

    off = (off + FWSEL_VAR_ALIGN - 1) & ~(gsize) (FWSEL_VAR_ALIGN - 1);
    store->used = off;
    while (off + hsize <= end && fwselLE16(store->buf + off) == FWSEL_VAR_START_ID) {
        gsize next = 0;
        fwselVar *var;

        if (!(var = fwselVarstoreParseVar(store, off, end, &next, error)))
            return -1;
        g_ptr_array_add(all, var);
        if (var->state == FWSEL_VAR_STATE_ADDED && !g_hash_table_contains(added, var))
            g_hash_table_add(added, var);
        store->used = next;
        off = (next + FWSEL_VAR_ALIGN - 1) & ~(gsize) (FWSEL_VAR_ALIGN - 1);
    }

    /* As the firmware looks a variable up: the first added copy, else
     * the first one in deleted transition */
    for (i = 0; i < all->len; i++) {
        fwselVar *var = g_ptr_array_index(all, i);
        bool keep = false;

        switch (var->state) {
        case FWSEL_VAR_STATE_ADDED:
            keep = g_hash_table_lookup(added, var) == var;
            break;
        case FWSEL_VAR_STATE_IN_DELETED_TRANSITION:
            keep = !g_hash_table_contains(added, var) && !g_hash_table_contains(kept, var);
            break;
        case FWSEL_VAR_STATE_DELETED:
        case FWSEL_VAR_STATE_HEADER_VALID_ONLY:
        case FWSEL_VAR_STATE_OTHER:
        case FWSEL_VAR_STATE_LAST:
            break;
        }
        if (keep) {
            g_hash_table_add(kept, var);
            g_ptr_array_add(store->vars, var);
            all->pdata[i] = NULL;   /* now the store's */
        } else {
            store->skipped[var->state]++;
        }
    }
    return 0;
}


/**
 * fwselVarstoreParse:
 * @path: the file's name, for messages
 * @buf: (transfer full): the raw image
 *
 * Parses an edk2 varstore image: the NV data firmware volume at offset 0,
 * its variable store and every variable.
 */
fwselVarstore *
fwselVarstoreParse(const char *path, guint8 *buf, gsize len, GError **error)
{
    g_autoptr(fwselVarstore) store = g_new0(fwselVarstore, 1);

    store->path = g_strdup(path);
    store->buf = buf;
    store->size = len;
    store->format = FWSEL_FORMAT_RAW;
    store->vars = g_ptr_array_new_with_free_func((GDestroyNotify) fwselVarFree);

    /* Erased flash (Debian's AAVMF_VARS.fd is 64 MiB of zeros): the
     * firmware writes the headers at its first boot */
    store->blank = fwselVarstoreUniform(buf, len);
    if (store->blank == 0x00 || store->blank == 0xff)
        return g_steal_pointer(&store);
    store->blank = -1;

    if (fwselVarstoreParseFV(store, error) < 0 ||
        fwselVarstoreParseStoreHeader(store, error) < 0 ||
        fwselVarstoreParseVars(store, error) < 0)
        return NULL;
    return g_steal_pointer(&store);
}


/* Reads at most @max bytes of @fd from its start; fails beyond @max */
static int
fwselVarstoreReadAll(int fd, const char *path, gsize max, guint8 **bufOut, gsize *lenOut,
                     GError **error)
{
    struct stat sb;
    g_autofree char *text = NULL;
    gsize len = 0;

    if (fstat(fd, &sb) < 0) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO, "%s: %s", path, g_strerror(errno));
        return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID, "%s: not a regular file", path);
        return -1;
    }
    if ((guint64) sb.st_size > max) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "%s: %lld bytes, larger than any varstore (%zu bytes at most)",
                    path, (long long) sb.st_size, max);
        return -1;
    }
    if (lseek(fd, 0, SEEK_SET) < 0) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO, "%s: %s", path, g_strerror(errno));
        return -1;
    }
    if (fwselReadFD(fd, path, sb.st_size, max, &text, &len, error) < 0)
        return -1;
    *bufOut = (guint8 *) g_steal_pointer(&text);
    *lenOut = len;
    return 0;
}


/* A qcow2 varstore must stand on its own: no backing file, no external
 * data file (either would make qemu-img open another file by name) */
static int
fwselVarstoreQcow2Check(int fd, const char *path, GError **error)
{
    guint8 h[80];
    guint32 version;

    if (pread(fd, h, sizeof(h), 0) != sizeof(h)) {
        fwselVarstoreError(error, path, 0, "qcow2 header: truncated");
        return -1;
    }
    version = (guint32) (fwselBE64(h) & 0xffffffff);   /* magic, then version */
    if (fwselBE64(h + 8) != 0) {
        fwselVarstoreError(error, path, 8, "qcow2 header: names a backing file: "
                           "a varstore must stand on its own");
        return -1;
    }
    /* incompatible feature bit 2: external data file */
    if (version >= 3 && (fwselBE64(h + 72) & (1 << 2))) {
        fwselVarstoreError(error, path, 72, "qcow2 header: keeps its data in an external "
                           "file: a varstore must stand on its own");
        return -1;
    }
    return 0;
}


/*
 * The first FWSEL_VARSTORE_MAX_SIZE bytes of the qcow2 image @fd as raw
 * bytes, converted by 'qemu-img dd' into an anonymous memory file.  The
 * files are passed as open descriptors, so qemu-img reads exactly the
 * file we opened.
 */
static int
fwselVarstoreReadQcow2(int fd, const char *path, guint8 **buf, gsize *len, GError **error)
{
    g_autofree char *count = g_strdup_printf("count=%d", FWSEL_VARSTORE_MAX_SIZE / 65536);
    FWSEL_AUTOCLOSE int dst = -1;
    /* no backing file, whatever the image names */
    const char *args[] = {
        "dd", "-O", "raw", "bs=65536", count,
        "if=json:{\"driver\": \"qcow2\", \"backing\": null, "
        "\"file\": {\"driver\": \"file\", \"filename\": \"/proc/self/fd/3\"}}",
        "of=/proc/self/fd/4", NULL
    };

    if (fwselVarstoreQcow2Check(fd, path, error) < 0)
        return -1;
    if ((dst = memfd_create("fwsel-varstore", MFD_CLOEXEC)) < 0) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO, "%s: %s", path, g_strerror(errno));
        return -1;
    }
    if (fwselNvramQemuImg(args, fd, dst, NULL, error) < 0) {
        g_prefix_error(error, "%s: not a readable qcow2 image: ", path);
        return -1;
    }
    return fwselVarstoreReadAll(dst, path, FWSEL_VARSTORE_MAX_SIZE, buf, len, error);
}


fwselVarstore *
fwselVarstoreReadFD(int fd, const char *path, GError **error)
{
    guint8 magic[4];
    fwselFormat format = FWSEL_FORMAT_RAW;
    guint8 *buf = NULL;
    gsize len = 0;
    fwselVarstore *store;

    if (pread(fd, magic, sizeof(magic), 0) == sizeof(magic) &&
        memcmp(magic, FWSEL_QCOW2_MAGIC, sizeof(magic)) == 0)
        format = FWSEL_FORMAT_QCOW2;

    if (format == FWSEL_FORMAT_QCOW2) {
        if (fwselVarstoreReadQcow2(fd, path, &buf, &len, error) < 0)
            return NULL;
    } else if (fwselVarstoreReadAll(fd, path, FWSEL_VARSTORE_MAX_SIZE, &buf, &len, error) < 0) {
        return NULL;
    }
    if (!(store = fwselVarstoreParse(path, buf, len, error)))
        return NULL;
    store->format = format;
    return store;
}


/**
 * fwselVarstoreRead:
 * @root: the host (--root), or NULL for a file of this machine
 * @path: as the host sees it (with @root), else any path
 */
fwselVarstore *
fwselVarstoreRead(const fwselRoot *root, const char *path, GError **error)
{
    FWSEL_AUTOCLOSE int fd = -1;

    if (root) {
        if ((fd = fwselRootOpenFile(root, path, NULL, error)) < 0)
            return NULL;
    } else if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO, "%s: cannot open: %s",
                    path, g_strerror(errno));
        return NULL;
    }
    return fwselVarstoreReadFD(fd, path, error);
}


const fwselVar *
fwselVarstoreLookup(const fwselVarstore *store, const char *name, const char *guid)
{
    guint i;

    for (i = 0; i < store->vars->len; i++) {
        const fwselVar *var = g_ptr_array_index(store->vars, i);
        char buf[37];

        fwselGuidFormat(&var->guid, buf);
        if (g_str_equal(var->name, name) && g_str_equal(buf, guid))
            return var;
    }
    return NULL;
}


/* ---- decoding -------------------------------------------------------- */

void
fwselSignatureFree(fwselSignature *sig)
{
    if (!sig)
        return;
    g_free(sig->subject);
    g_free(sig->commonName);
    g_free(sig->organization);
    g_free(sig->issuer);
    g_free(sig->serial);
    g_free(sig->notBefore);
    g_free(sig->notAfter);
    g_free(sig->sha256);
    g_free(sig->hash);
    g_free(sig);
}


static void
fwselBootOptionFree(fwselBootOption *opt)
{
    if (!opt)
        return;
    g_free(opt->description);
    g_free(opt);
}


void
fwselVarstoreInfoFree(fwselVarstoreInfo *info)
{
    size_t i;

    if (!info)
        return;
    for (i = 0; i < G_N_ELEMENTS(info->dbs); i++) {
        if (info->dbs[i].sigs)
            g_ptr_array_unref(info->dbs[i].sigs);
    }
    if (info->bootOrder)
        g_array_unref(info->bootOrder);
    if (info->boot)
        g_ptr_array_unref(info->boot);
    g_free(info);
}


static char *
fwselHex(const guint8 *p, gsize len)
{
    GString *out = g_string_sized_new(len * 2 + 1);
    gsize i;

    for (i = 0; i < len; i++)
        g_string_append_printf(out, "%02x", p[i]);
    return g_string_free(out, FALSE);
}


static char *
fwselTimeFormat(time_t t)
{
    g_autoptr(GDateTime) dt = NULL;

    if (t == (time_t) -1 || !(dt = g_date_time_new_from_unix_utc((gint64) t)))
        return g_strdup("unknown");
    return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
}


static char *
fwselGnutlsString(const fwselGnutls *gt,
                  int (*get)(gnutls_x509_crt_t, gnutls_datum_t *, unsigned),
                  gnutls_x509_crt_t crt)
{
    gnutls_datum_t d = { NULL, 0 };
    char *out;

    if (get(crt, &d, 0) < 0)
        return NULL;
    out = g_strndup((const char *) d.data, d.size);
    (*gt->free)(d.data);
    return fwselDisplaySafe(out);
}


/* The subject's (first) attribute @oid (CN, O), NULL without one */
static char *
fwselSubjectAttribute(const fwselGnutls *gt, gnutls_x509_crt_t crt, const char *oid)
{
    size_t size = 0;
    g_autofree char *buf = NULL;

    if (gt->crtGetDnByOid(crt, oid, 0, 0, NULL, &size) != GNUTLS_E_SHORT_MEMORY_BUFFER ||
        size == 0 || size > 65536)
        return NULL;
    buf = g_malloc0(size + 1);
    if (gt->crtGetDnByOid(crt, oid, 0, 0, buf, &size) < 0)
        return NULL;
    return fwselDisplaySafe(g_steal_pointer(&buf));
}


/* An X.509 certificate (DER) through GnuTLS */
static int
fwselSignatureX509(fwselSignature *sig, const guint8 *der, gsize len, const char *path,
                   const char *varName, GError **error)
{
    const fwselGnutls *gt;
    gnutls_x509_crt_t crt = NULL;
    gnutls_datum_t datum = { (unsigned char *) der, (unsigned int) len };
    guint8 serial[64];
    size_t serialLen = sizeof(serial);
    guint8 fpr[32];
    size_t fprLen = sizeof(fpr);
    int rc;
    int ret = -1;

    if (len > G_MAXUINT) {
        fwselVarstoreError(error, path, sig->offset, "%s: X.509 certificate too large",
                           varName);
        return -1;
    }
    if (!(gt = fwselGnutlsGet(error)))
        return -1;
    if ((rc = gt->crtInit(&crt)) < 0) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO, "GnuTLS: %s", gt->strerror(rc));
        return -1;
    }
    if ((rc = gt->crtImport(crt, &datum, GNUTLS_X509_FMT_DER)) < 0) {
        fwselVarstoreError(error, path, sig->offset,
                           "%s: X.509 certificate of %zu bytes cannot be read: %s",
                           varName, len, gt->strerror(rc));
        goto cleanup;
    }
    if (!(sig->subject = fwselGnutlsString(gt, gt->crtGetDn3, crt)) ||
        !(sig->issuer = fwselGnutlsString(gt, gt->crtGetIssuerDn3, crt)) ||
        gt->crtGetSerial(crt, serial, &serialLen) < 0 ||
        gt->crtGetFingerprint(crt, GNUTLS_DIG_SHA256, fpr, &fprLen) < 0 ||
        fprLen != sizeof(fpr))
        goto bad;
    sig->commonName = fwselSubjectAttribute(gt, crt, GNUTLS_OID_X520_COMMON_NAME);
    sig->organization = fwselSubjectAttribute(gt, crt, GNUTLS_OID_X520_ORGANIZATION_NAME);
    sig->serial = fwselHex(serial, serialLen);
    sig->sha256 = fwselHex(fpr, fprLen);
    sig->notBefore = fwselTimeFormat(gt->crtGetActivationTime(crt));
    sig->notAfter = fwselTimeFormat(gt->crtGetExpirationTime(crt));
    ret = 0;
    goto cleanup;

 bad:
    fwselVarstoreError(error, path, sig->offset,
                       "%s: X.509 certificate lacks a subject, issuer, serial or fingerprint",
                       varName);
 cleanup:
    gt->crtDeinit(crt);
    return ret;
}


/**
 * fwselSignatureFromDER:
 * @path: the certificate's file, for messages
 *
 * A certificate outside a varstore (nvram enroll) decoded like one in it.
 */
fwselSignature *
fwselSignatureFromDER(const guint8 *der, gsize len, const char *path, GError **error)
{
    g_autoptr(fwselSignature) sig = g_new0(fwselSignature, 1);

    sig->type = FWSEL_SIG_X509;
    if (fwselSignatureX509(sig, der, len, path, "certificate", error) < 0)
        return NULL;
    return g_steal_pointer(&sig);
}


/*
 * EFI_SIGNATURE_LISTs filling @var's data exactly.  Offsets in messages
 * are the file's.
 */
static int
fwselSigDbParse(fwselSigDb *db, const fwselVarstore *store, const fwselVar *var,
                GError **error)
{
    const guint8 *p = var->data;
    gsize len = var->dataSize;
    gsize pos = 0;

    db->present = true;
    while (pos < len) {
        gsize base = var->dataOffset + pos;
        char type[37];
        guint32 listSize;
        guint32 headerSize;
        guint32 sigSize;
        fwselSigType kind = FWSEL_SIG_OTHER;
        gsize sigPos;

        if (len - pos < FWSEL_SIGLIST_HEADER) {
            fwselVarstoreError(error, store->path, base,
                               "%s: signature list %zu: %zu bytes left, too few for a "
                               "signature list header (%d)", var->name, db->lists,
                               len - pos, FWSEL_SIGLIST_HEADER);
            return -1;
        }
        fwselGuidAt(p + pos, type);
        listSize = fwselLE32(p + pos + 16);
        headerSize = fwselLE32(p + pos + 20);
        sigSize = fwselLE32(p + pos + 24);
        if (listSize < FWSEL_SIGLIST_HEADER || listSize > len - pos) {
            fwselVarstoreError(error, store->path, base + 16,
                               "%s: signature list %zu: list size %u is not between %d and "
                               "the %zu bytes left in the variable", var->name, db->lists,
                               listSize, FWSEL_SIGLIST_HEADER, len - pos);
            return -1;
        }
        if (headerSize > listSize - FWSEL_SIGLIST_HEADER) {
            fwselVarstoreError(error, store->path, base + 20,
                               "%s: signature list %zu: header size %u does not fit in the "
                               "list size %u", var->name, db->lists, headerSize, listSize);
            return -1;
        }
        if (sigSize <= FWSEL_SIGDATA_OWNER ||
            (listSize - FWSEL_SIGLIST_HEADER - headerSize) % sigSize != 0 ||
            listSize - FWSEL_SIGLIST_HEADER - headerSize == 0) {
            fwselVarstoreError(error, store->path, base + 24,
                               "%s: signature list %zu: signature size %u does not divide "
                               "the list's %u bytes of signatures into whole entries larger "
                               "than an owner GUID", var->name, db->lists, sigSize,
                               listSize - FWSEL_SIGLIST_HEADER - headerSize);
            return -1;
        }
        if (g_str_equal(type, FWSEL_GUID_CERT_X509)) {
            kind = FWSEL_SIG_X509;
        } else if (g_str_equal(type, FWSEL_GUID_CERT_SHA256)) {
            kind = FWSEL_SIG_SHA256;
            if (sigSize != FWSEL_SIGDATA_OWNER + 32) {
                fwselVarstoreError(error, store->path, base + 24,
                                   "%s: signature list %zu: SHA-256 entries are %d bytes, "
                                   "not %u", var->name, db->lists,
                                   FWSEL_SIGDATA_OWNER + 32, sigSize);
                return -1;
            }
        }

        for (sigPos = pos + FWSEL_SIGLIST_HEADER + headerSize;
             sigPos < pos + listSize; sigPos += sigSize) {
            g_autoptr(fwselSignature) sig = g_new0(fwselSignature, 1);
            const guint8 *body = p + sigPos + FWSEL_SIGDATA_OWNER;
            gsize bodyLen = sigSize - FWSEL_SIGDATA_OWNER;

            sig->type = kind;
            sig->list = db->lists;
            sig->offset = var->dataOffset + sigPos;
            g_strlcpy(sig->typeGuid, type, sizeof(sig->typeGuid));
            fwselGuidAt(p + sigPos, sig->owner);
            switch (kind) {
            case FWSEL_SIG_X509:
                if (fwselSignatureX509(sig, body, bodyLen, store->path, var->name, error) < 0)
                    return -1;
                break;
            case FWSEL_SIG_SHA256:
                sig->hash = fwselHex(body, bodyLen);
                break;
            case FWSEL_SIG_OTHER:
            case FWSEL_SIG_LAST:
                break;
            }
            db->count[kind]++;
            g_ptr_array_add(db->sigs, g_steal_pointer(&sig));
        }
        db->lists++;
        pos += listSize;
    }
    return 0;
}


/* A one-byte boolean-ish variable: -1 when absent */
static int
fwselVarByte(const fwselVarstore *store, const char *name, const char *guid, GError **error)
{
    const fwselVar *var = fwselVarstoreLookup(store, name, guid);

    if (!var)
        return -1;
    if (var->dataSize != 1) {
        fwselVarstoreError(error, store->path, var->dataOffset,
                           "%s: %zu bytes of data, expected 1", name, var->dataSize);
        return -2;
    }
    return var->data[0];
}


static bool
fwselBootVarNumber(const char *name, guint16 *number)
{
    guint64 n;
    size_t i;

    if (!g_str_has_prefix(name, "Boot") || strlen(name) != 8)
        return false;
    for (i = 4; i < 8; i++) {
        if (!g_ascii_isxdigit(name[i]) || g_ascii_islower(name[i]))
            return false;
    }
    if (!g_ascii_string_to_unsigned(name + 4, 16, 0, 0xffff, &n, NULL))
        return false;
    *number = (guint16) n;
    return true;
}


static fwselBootOption *
fwselBootOptionParse(const fwselVarstore *store, const fwselVar *var, guint16 number,
                     GError **error)
{
    fwselBootOption *opt;
    gsize descEnd;
    char *desc;

    if (var->dataSize < FWSEL_LOAD_OPTION_HEADER + 2)
        return fwselVarstoreError(error, store->path, var->dataOffset,
                                  "%s: %zu bytes, too short for a load option",
                                  var->name, var->dataSize);
    /* the description ends at the first UTF-16 NUL */
    for (descEnd = FWSEL_LOAD_OPTION_HEADER; descEnd + 1 < var->dataSize; descEnd += 2) {
        if (fwselLE16(var->data + descEnd) == 0)
            break;
    }
    if (descEnd + 1 >= var->dataSize)
        return fwselVarstoreError(error, store->path, var->dataOffset + FWSEL_LOAD_OPTION_HEADER,
                                  "%s: description has no terminating NUL", var->name);
    descEnd += 2;
    if (fwselLE16(var->data + 4) > var->dataSize - descEnd)
        return fwselVarstoreError(error, store->path, var->dataOffset + 4,
                                  "%s: file path list length %u runs past the end of the "
                                  "data (%zu bytes after the description)", var->name,
                                  fwselLE16(var->data + 4), var->dataSize - descEnd);
    if (!(desc = fwselUtf16Decode(var->data + FWSEL_LOAD_OPTION_HEADER,
                                  descEnd - FWSEL_LOAD_OPTION_HEADER, store->path,
                                  var->dataOffset + FWSEL_LOAD_OPTION_HEADER,
                                  var->name, error)))
        return NULL;

    opt = g_new0(fwselBootOption, 1);
    opt->number = number;
    opt->present = true;
    opt->attributes = fwselLE32(var->data);
    opt->filePathLength = fwselLE16(var->data + 4);
    opt->description = desc;
    return opt;
}


/**
 * fwselVarstoreDecode:
 *
 * The Secure Boot state, the signature databases and the boot entries of
 * @store.  Malformed contents of these variables are errors.
 */
fwselVarstoreInfo *
fwselVarstoreDecode(const fwselVarstore *store, GError **error)
{
    static const struct {
        const char *name;
        const char *guid;
    } dbs[FWSEL_SIGDB_LAST] = {
        [FWSEL_SIGDB_PK] = { "PK", FWSEL_GUID_GLOBAL },
        [FWSEL_SIGDB_KEK] = { "KEK", FWSEL_GUID_GLOBAL },
        [FWSEL_SIGDB_DB] = { "db", FWSEL_GUID_IMAGE_SECURITY_DB },
        [FWSEL_SIGDB_DBX] = { "dbx", FWSEL_GUID_IMAGE_SECURITY_DB },
    };
    g_autoptr(fwselVarstoreInfo) info = g_new0(fwselVarstoreInfo, 1);
    const fwselVar *order;
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(dbs); i++) {
        const fwselVar *var = fwselVarstoreLookup(store, dbs[i].name, dbs[i].guid);

        info->dbs[i].name = dbs[i].name;
        info->dbs[i].sigs = g_ptr_array_new_with_free_func((GDestroyNotify) fwselSignatureFree);
        if (var && fwselSigDbParse(&info->dbs[i], store, var, error) < 0)
            return NULL;
    }

    if ((info->secureBoot = fwselVarByte(store, "SecureBoot", FWSEL_GUID_GLOBAL, error)) == -2 ||
        (info->setupMode = fwselVarByte(store, "SetupMode", FWSEL_GUID_GLOBAL, error)) == -2 ||
        (info->secureBootEnable = fwselVarByte(store, "SecureBootEnable",
                                               FWSEL_GUID_SECURE_BOOT_ENABLE, error)) == -2 ||
        (info->customMode = fwselVarByte(store, "CustomMode", FWSEL_GUID_CUSTOM_MODE,
                                         error)) == -2)
        return NULL;

    /* What edk2's authenticated variable library sets at boot: user mode
     * when PK exists; Secure Boot on in user mode unless SecureBootEnable
     * says otherwise (it is created, enabled, when missing) */
    info->setupModeAtBoot = info->dbs[FWSEL_SIGDB_PK].present ? 0 : 1;
    info->secureBootAtBoot = info->setupModeAtBoot == 0 &&
        (info->secureBootEnable < 0 || info->secureBootEnable == 1);

    info->bootOrder = g_array_new(FALSE, FALSE, sizeof(guint16));
    if ((order = fwselVarstoreLookup(store, "BootOrder", FWSEL_GUID_GLOBAL))) {
        if (order->dataSize % 2) {
            fwselVarstoreError(error, store->path, order->dataOffset,
                               "BootOrder: %zu bytes, not a list of 16-bit numbers",
                               order->dataSize);
            return NULL;
        }
        info->hasBootOrder = true;
        for (i = 0; i < order->dataSize; i += 2) {
            guint16 n = fwselLE16(order->data + i);

            g_array_append_val(info->bootOrder, n);
        }
    }

    info->boot = g_ptr_array_new_with_free_func((GDestroyNotify) fwselBootOptionFree);
    for (i = 0; i < store->vars->len; i++) {
        const fwselVar *var = g_ptr_array_index(store->vars, i);
        fwselBootOption *opt;
        char guid[37];
        guint16 number;

        fwselGuidFormat(&var->guid, guid);
        if (!g_str_equal(guid, FWSEL_GUID_GLOBAL) || !fwselBootVarNumber(var->name, &number))
            continue;
        if (!(opt = fwselBootOptionParse(store, var, number, error)))
            return NULL;
        g_ptr_array_add(info->boot, opt);
    }
    return g_steal_pointer(&info);
}


/* ---- output ---------------------------------------------------------- */

static const fwselBootOption *
fwselBootFind(const fwselVarstoreInfo *info, guint16 number)
{
    guint i;

    for (i = 0; i < info->boot->len; i++) {
        const fwselBootOption *opt = g_ptr_array_index(info->boot, i);

        if (opt->number == number)
            return opt;
    }
    return NULL;
}


/* A volatile variable's value at boot, and what the store holds (it
 * should hold nothing) */
static void
fwselVolatileFormat(GString *out, const char *name, int atBoot, const char *why, int stored)
{
    g_string_append_printf(out, "%s: %d at the next boot, %s", name, atBoot, why);
    if (stored >= 0)
        g_string_append_printf(out, " (the store also holds a stale %d)", stored);
    g_string_append_c(out, '\n');
}


static void
fwselStoredFormat(GString *out, const char *name, int stored)
{
    if (stored < 0)
        g_string_append_printf(out, "%s: not stored\n", name);
    else
        g_string_append_printf(out, "%s: %d\n", name, stored);
}


static void
fwselSigDbFormat(GString *out, const fwselSigDb *db)
{
    guint i;

    if (!db->present) {
        g_string_append_printf(out, "%s: not set\n", db->name);
        return;
    }
    g_string_append_printf(out, "%s: %u entr%s in %zu list%s (%u X.509, %u SHA-256, %u other)\n",
                           db->name, db->sigs->len, db->sigs->len == 1 ? "y" : "ies",
                           db->lists, db->lists == 1 ? "" : "s",
                           db->count[FWSEL_SIG_X509], db->count[FWSEL_SIG_SHA256],
                           db->count[FWSEL_SIG_OTHER]);
    for (i = 0; i < db->sigs->len; i++) {
        const fwselSignature *sig = g_ptr_array_index(db->sigs, i);

        switch (sig->type) {
        case FWSEL_SIG_X509:
            g_string_append_printf(out,
                                   "  x509 owner %s\n"
                                   "    subject: %s\n"
                                   "    issuer: %s\n"
                                   "    serial: %s\n"
                                   "    valid: %s to %s\n"
                                   "    sha256: %s\n",
                                   sig->owner, sig->subject, sig->issuer, sig->serial,
                                   sig->notBefore, sig->notAfter, sig->sha256);
            break;
        case FWSEL_SIG_SHA256:
        case FWSEL_SIG_OTHER:
        case FWSEL_SIG_LAST:
            break;
        }
    }
}


char *
fwselVarstoreFormat(const fwselVarstore *store, const fwselVarstoreInfo *info)
{
    g_autoptr(GString) out = g_string_new(NULL);
    guint i;

    g_autofree char *summary = fwselVarstoreSummary(store, info);

    g_string_append_printf(out, "file: %s\n", store->path);
    g_string_append_printf(out, "summary: %s\n", summary);
    if (store->blank >= 0)
        g_string_append_printf(out, "format: %s, blank (%zu bytes, all 0x%02x): the firmware "
                               "formats it at its first boot\n",
                               fwselFormatTypeToString(store->format), store->size,
                               (unsigned) store->blank);
    else
        g_string_append_printf(out, "format: %s, %s variable store at 0x%zx, %zu bytes, "
                           "%zu used (firmware volume of %" G_GUINT64_FORMAT " bytes)\n",
                           fwselFormatTypeToString(store->format),
                           store->authenticated ? "authenticated" : "plain",
                           store->storeOffset, store->storeSize,
                           store->used - store->storeOffset, store->fvLength);
    g_string_append_printf(out, "variables: %u (skipped: %u deleted, %u half-written, "
                           "%u superseded in deleted transition, %u duplicate, %u other)\n",
                           store->vars->len, store->skipped[FWSEL_VAR_STATE_DELETED],
                           store->skipped[FWSEL_VAR_STATE_HEADER_VALID_ONLY],
                           store->skipped[FWSEL_VAR_STATE_IN_DELETED_TRANSITION],
                           store->skipped[FWSEL_VAR_STATE_ADDED],
                           store->skipped[FWSEL_VAR_STATE_OTHER]);
    fwselVolatileFormat(out, "SecureBoot", info->secureBootAtBoot,
                        info->secureBootAtBoot ? "PK enrolled and SecureBootEnable not 0" :
                        info->setupModeAtBoot ? "no PK enrolled" : "SecureBootEnable is 0",
                        info->secureBoot);
    fwselVolatileFormat(out, "SetupMode", info->setupModeAtBoot,
                        info->setupModeAtBoot ? "setup mode: no PK enrolled" :
                        "user mode: PK enrolled", info->setupMode);
    fwselStoredFormat(out, "SecureBootEnable", info->secureBootEnable);
    fwselStoredFormat(out, "CustomMode", info->customMode);

    for (i = 0; i < FWSEL_SIGDB_LAST; i++)
        fwselSigDbFormat(out, &info->dbs[i]);

    if (info->hasBootOrder) {
        g_string_append(out, "BootOrder:");
        for (i = 0; i < info->bootOrder->len; i++)
            g_string_append_printf(out, " %04X", g_array_index(info->bootOrder, guint16, i));
        g_string_append(out, info->bootOrder->len ? "\n" : " (empty)\n");
        for (i = 0; i < info->bootOrder->len; i++) {
            guint16 n = g_array_index(info->bootOrder, guint16, i);

            if (!fwselBootFind(info, n))
                g_string_append_printf(out, "  Boot%04X is listed but not stored\n", n);
        }
    } else {
        g_string_append(out, "BootOrder: not set\n");
    }
    for (i = 0; i < info->boot->len; i++) {
        const fwselBootOption *opt = g_ptr_array_index(info->boot, i);

        g_string_append_printf(out, "Boot%04X: \"%s\" (%s, attributes 0x%08x, "
                               "file path %u bytes)\n",
                               opt->number, opt->description,
                               opt->attributes & FWSEL_LOAD_OPTION_ACTIVE ? "active" : "inactive",
                               opt->attributes, opt->filePathLength);
    }

    g_string_append(out, "variables (GUID, attributes, bytes, name):\n");
    for (i = 0; i < store->vars->len; i++) {
        const fwselVar *var = g_ptr_array_index(store->vars, i);
        char guid[37];

        fwselGuidFormat(&var->guid, guid);
        g_string_append_printf(out, "  %s 0x%02x %6zu %s%s\n", guid, var->attributes,
                               var->dataSize, var->name,
                               var->state == FWSEL_VAR_STATE_ADDED ? "" :
                               " (in deleted transition: no newer copy)");
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}


static json_object *
fwselJSONByte(int value)
{
    return value < 0 ? NULL : json_object_new_int(value);
}


static json_object *
fwselSigDbToJSON(const fwselSigDb *db)
{
    json_object *obj;
    json_object *certs;
    json_object *counts;
    guint i;

    if (!db->present)
        return NULL;
    obj = json_object_new_object();
    certs = json_object_new_array();
    counts = json_object_new_object();
    json_object_object_add(obj, "lists", json_object_new_int64((gint64) db->lists));
    for (i = 0; i < FWSEL_SIG_LAST; i++)
        json_object_object_add(counts, fwselSigTypeTypeToString(i),
                               json_object_new_int((int) db->count[i]));
    json_object_object_add(obj, "counts", counts);
    for (i = 0; i < db->sigs->len; i++) {
        const fwselSignature *sig = g_ptr_array_index(db->sigs, i);
        json_object *c;

        if (sig->type != FWSEL_SIG_X509)
            continue;
        c = json_object_new_object();
        json_object_object_add(c, "owner", json_object_new_string(sig->owner));
        json_object_object_add(c, "subject", json_object_new_string(sig->subject));
        json_object_object_add(c, "cn", sig->commonName ?
                               json_object_new_string(sig->commonName) : NULL);
        json_object_object_add(c, "issuer", json_object_new_string(sig->issuer));
        json_object_object_add(c, "serial", json_object_new_string(sig->serial));
        json_object_object_add(c, "not-before", json_object_new_string(sig->notBefore));
        json_object_object_add(c, "not-after", json_object_new_string(sig->notAfter));
        json_object_object_add(c, "sha256", json_object_new_string(sig->sha256));
        json_object_object_add(c, "offset", json_object_new_int64((gint64) sig->offset));
        json_object_array_add(certs, c);
    }
    json_object_object_add(obj, "x509", certs);
    return obj;
}


json_object *
fwselVarstoreToJSON(const fwselVarstore *store, const fwselVarstoreInfo *info)
{
    json_object *obj = json_object_new_object();
    json_object *st = json_object_new_object();
    json_object *skipped = json_object_new_object();
    json_object *sb = json_object_new_object();
    json_object *vars = json_object_new_array();
    json_object *boot = json_object_new_array();
    guint i;

    g_autofree char *summary = fwselVarstoreSummary(store, info);

    json_object_object_add(obj, "file", json_object_new_string(store->path));
    json_object_object_add(obj, "summary", json_object_new_string(summary));
    json_object_object_add(obj, "format",
                           json_object_new_string(fwselFormatTypeToString(store->format)));
    json_object_object_add(st, "blank", json_object_new_boolean(store->blank >= 0));
    json_object_object_add(st, "authenticated", json_object_new_boolean(store->authenticated));
    json_object_object_add(st, "fv-length", json_object_new_int64((gint64) store->fvLength));
    json_object_object_add(st, "offset", json_object_new_int64((gint64) store->storeOffset));
    json_object_object_add(st, "size", json_object_new_int64((gint64) store->storeSize));
    json_object_object_add(st, "used",
                           json_object_new_int64((gint64) (store->used - store->storeOffset)));
    json_object_object_add(obj, "store", st);
    for (i = 0; i < FWSEL_VAR_STATE_LAST; i++)
        json_object_object_add(skipped, i == FWSEL_VAR_STATE_ADDED ? "duplicate" :
                               fwselVarStateTypeToString(i),
                               json_object_new_int((int) store->skipped[i]));
    json_object_object_add(obj, "skipped", skipped);

    json_object_object_add(sb, "SecureBoot", fwselJSONByte(info->secureBoot));
    json_object_object_add(sb, "SetupMode", fwselJSONByte(info->setupMode));
    json_object_object_add(sb, "SecureBootEnable", fwselJSONByte(info->secureBootEnable));
    json_object_object_add(sb, "CustomMode", fwselJSONByte(info->customMode));
    json_object_object_add(sb, "SecureBoot-at-boot", json_object_new_int(info->secureBootAtBoot));
    json_object_object_add(sb, "SetupMode-at-boot", json_object_new_int(info->setupModeAtBoot));
    json_object_object_add(obj, "secure-boot", sb);

    for (i = 0; i < FWSEL_SIGDB_LAST; i++)
        json_object_object_add(obj, info->dbs[i].name, fwselSigDbToJSON(&info->dbs[i]));

    if (info->hasBootOrder) {
        json_object *order = json_object_new_array();

        for (i = 0; i < info->bootOrder->len; i++)
            json_object_array_add(order, json_object_new_int(g_array_index(info->bootOrder,
                                                                           guint16, i)));
        json_object_object_add(obj, "BootOrder", order);
    } else {
        json_object_object_add(obj, "BootOrder", NULL);
    }
    for (i = 0; i < info->boot->len; i++) {
        const fwselBootOption *opt = g_ptr_array_index(info->boot, i);
        json_object *b = json_object_new_object();
        g_autofree char *name = g_strdup_printf("Boot%04X", opt->number);

        json_object_object_add(b, "name", json_object_new_string(name));
        json_object_object_add(b, "description", json_object_new_string(opt->description));
        json_object_object_add(b, "attributes", json_object_new_int64(opt->attributes));
        json_object_object_add(b, "active",
                               json_object_new_boolean(opt->attributes & FWSEL_LOAD_OPTION_ACTIVE));
        json_object_object_add(b, "file-path-length", json_object_new_int(opt->filePathLength));
        json_object_array_add(boot, b);
    }
    json_object_object_add(obj, "Boot", boot);

    for (i = 0; i < store->vars->len; i++) {
        const fwselVar *var = g_ptr_array_index(store->vars, i);
        json_object *v = json_object_new_object();
        char guid[37];

        fwselGuidFormat(&var->guid, guid);
        json_object_object_add(v, "name", json_object_new_string(var->name));
        json_object_object_add(v, "guid", json_object_new_string(guid));
        json_object_object_add(v, "attributes", json_object_new_int64(var->attributes));
        json_object_object_add(v, "size", json_object_new_int64((gint64) var->dataSize));
        json_object_object_add(v, "state",
                               json_object_new_string(fwselVarStateTypeToString(var->state)));
        json_object_object_add(v, "offset", json_object_new_int64((gint64) var->offset));
        if (var->timestamp)
            json_object_object_add(v, "time", json_object_new_string(var->timestamp));
        json_object_array_add(vars, v);
    }
    json_object_object_add(obj, "variables", vars);
    return obj;
}


/**
 * fwselVarstoreSummary:
 *
 * The varstore in one line, for tables (templates in explain and check,
 * guests in an audit).
 */
char *
fwselVarstoreSummary(const fwselVarstore *store, const fwselVarstoreInfo *info)
{
    g_autoptr(GString) out = g_string_new(NULL);
    size_t i;

    if (store->blank >= 0)
        return g_strdup("blank (formatted at first boot): secure boot off, no keys");
    g_string_append_printf(out, "secure boot %s", info->secureBootAtBoot ? "on" : "off");
    for (i = 0; i < FWSEL_SIGDB_LAST; i++) {
        const fwselSigDb *db = &info->dbs[i];
        const char *sep = ": ";
        guint j;

        if (!db->present)
            continue;
        g_string_append_printf(out, "; %s", db->name);
        for (j = 0; j < db->sigs->len; j++) {
            const fwselSignature *sig = g_ptr_array_index(db->sigs, j);

            if (sig->type != FWSEL_SIG_X509)
                continue;
            g_string_append_printf(out, "%s%s", sep,
                                   sig->commonName ? sig->commonName : sig->subject);
            sep = ", ";
        }
        if (db->count[FWSEL_SIG_SHA256])
            g_string_append_printf(out, "%s%u hash%s", sep, db->count[FWSEL_SIG_SHA256],
                                   db->count[FWSEL_SIG_SHA256] == 1 ? "" : "es");
        if (db->count[FWSEL_SIG_SHA256])
            sep = ", ";
        if (db->count[FWSEL_SIG_OTHER])
            g_string_append_printf(out, "%s%u other", sep, db->count[FWSEL_SIG_OTHER]);
    }
    if (!info->dbs[FWSEL_SIGDB_PK].present)
        g_string_append(out, "; no PK (setup mode)");
    return g_string_free(g_steal_pointer(&out), FALSE);
}
