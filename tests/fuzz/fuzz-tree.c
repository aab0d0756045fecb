/*
 * fuzz-tree.c: the host-tree walk (descriptor folders and the files they
 * name, under --root), over trees the input builds
 *
 * Descriptor folders are written by packages and by administrators, and
 * under --root (the migration hook, a chroot) the whole tree is someone
 * else's.  The input is a small program: each record makes one entry in
 * a scratch root, a descriptor (from a few templates, naming firmware
 * files by number), a file of raw bytes, an empty file, a symbolic link
 * (to a file or folder inside the tree, to /dev/null, with "..", to
 * itself, to nowhere, or out of the tree), a folder, a FIFO or a sparse
 * file larger than the size limit, in /usr/share/qemu/firmware,
 * /etc/qemu/firmware, /usr/share/OVMF or a folder of its own.  Then the
 * catalog is loaded (as libvirt 9.0, 11.3 or the newest modelled, plain
 * or with the safe policy) and four requests are evaluated.
 *
 * Invariants: loading never fails (every folder is readable); entries
 * come in name order, each in a state that carries what that state
 * needs, and at most one of a name takes part; a descriptor outside the
 * tree, reachable only by escaping it, is never read; a chosen
 * descriptor is an active entry, and with the safe policy its code file
 * exists.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "fwsel-evaluate.h"
#include "fwsel-request.h"

static char *fuzzRoot;          /* the tree, emptied between inputs */
static char *fuzzOutside;       /* a folder beside it, never to be read */

/* The folders an entry may go in (relative to the root) */
static const char *const fuzzDirs[] = {
    "usr/share/qemu/firmware",
    "etc/qemu/firmware",
    "usr/share/OVMF",
    "srv/fw",
};

/* Where a link may point; @OUT@ is the outside folder */
static const char *const fuzzTargets[] = {
    "/usr/share/qemu/firmware/00-fuzz.json",
    "../firmware/01-fuzz.json",
    "/etc/qemu/firmware",
    "/dev/null",
    "../../../../../../..@OUT@/escape.json",
    "@OUT@/escape.json",
    "/usr/share/OVMF/CODE-0.fd",
    "CODE-1.fd",
    "/srv/fw/02-fuzz.json",
    "/nonexistent/x.json",
    "..",
    ".",
    "/",
    "00-fuzz.json",             /* itself, in usr/share/qemu/firmware */
    "/usr/share/qemu/firmware/../../../../srv/fw/03-fuzz.json",
    "../../../etc/qemu/firmware/04-fuzz.json",
};

/* Descriptors; @N@ is a firmware file number */
static const char *const fuzzDescriptors[] = {
    "{ \"interface-types\": [ \"uefi\" ], \"mapping\": { \"device\": \"flash\", "
    "\"executable\": { \"filename\": \"/usr/share/OVMF/CODE-@N@.fd\", \"format\": \"raw\" }, "
    "\"nvram-template\": { \"filename\": \"/usr/share/OVMF/VARS-@N@.fd\", \"format\": \"raw\" } }, "
    "\"targets\": [ { \"architecture\": \"x86_64\", \"machines\": [ \"pc-q35-*\" ] } ], "
    "\"features\": [ \"acpi-s3\", \"requires-smm\", \"secure-boot\", \"enrolled-keys\", "
    "\"verbose-dynamic\" ], \"tags\": [] }",
    "{ \"interface-types\": [ \"uefi\" ], \"mapping\": { \"device\": \"flash\", "
    "\"executable\": { \"filename\": \"/srv/fw/CODE-@N@.fd\", \"format\": \"raw\" }, "
    "\"nvram-template\": { \"filename\": \"/usr/share/OVMF/VARS-@N@.fd\", \"format\": \"raw\" } }, "
    "\"targets\": [ { \"architecture\": \"x86_64\", \"machines\": [ \"pc-q35-*\", "
    "\"pc-i440fx-*\" ] } ], \"features\": [ \"acpi-s3\", \"verbose-dynamic\" ], \"tags\": [] }",
    "{ \"interface-types\": [ \"uefi\" ], \"mapping\": { \"device\": \"flash\", "
    "\"mode\": \"stateless\", \"executable\": { \"filename\": \"/usr/share/OVMF/CODE-@N@.fd\", "
    "\"format\": \"raw\" } }, \"targets\": [ { \"architecture\": \"x86_64\", \"machines\": "
    "[ \"pc-q35-*\" ] } ], \"features\": [ ], \"tags\": [] }",
    "{ \"interface-types\": [ \"uefi\" ], \"mapping\": { \"device\": \"flash\", "
    "\"executable\": { \"filename\": \"../OVMF/CODE-@N@.fd\", \"format\": \"raw\" }, "
    "\"nvram-template\": { \"filename\": \"/usr/share/OVMF/VARS-@N@.fd\", \"format\": \"raw\" } }, "
    "\"targets\": [ { \"architecture\": \"aarch64\", \"machines\": [ \"virt-*\" ] } ], "
    "\"features\": [ \"verbose-static\" ], \"tags\": [] }",
    "{ \"interface-types\": [ \"bios\" ], \"mapping\": { \"device\": \"memory\", "
    "\"filename\": \"/usr/share/OVMF/CODE-@N@.fd\" }, \"targets\": [ { \"architecture\": "
    "\"x86_64\", \"machines\": [ \"pc-*\" ] } ], \"features\": [ ], \"tags\": [] }",
};

/* The description of the descriptor beside the tree */
#define FUZZ_OUTSIDE_MARK "read from outside the root"

static const char *const fuzzRequests[] = {
    "<domain type='qemu'><name>a</name><os firmware='efi'>"
    "<type arch='x86_64' machine='pc-q35-7.2'>hvm</type>"
    "<firmware><feature enabled='yes' name='secure-boot'/></firmware></os>"
    "<features><acpi/><smm state='on'/></features></domain>",
    "<domain type='qemu'><name>b</name><os firmware='efi'>"
    "<type arch='x86_64' machine='pc-q35-7.2'>hvm</type>"
    "<firmware><feature enabled='no' name='secure-boot'/></firmware></os>"
    "<features><acpi/></features></domain>",
    "<domain type='qemu'><name>c</name><os firmware='efi'>"
    "<type arch='aarch64' machine='virt-7.2'>hvm</type></os>"
    "<features><acpi/></features></domain>",
    "<domain type='qemu'><name>d</name><os firmware='efi'>"
    "<type arch='x86_64' machine='pc-q35-7.2'>hvm</type>"
    "<loader stateless='yes'/></os><features><acpi/></features></domain>",
};

static const char *const fuzzVersions[] = { "9.0", "11.3", NULL };


static void
fuzzRemoveContents(const char *path)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *child = g_build_filename(path, name, NULL);
        struct stat sb;

        if (lstat(child, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            fuzzRemoveContents(child);
            rmdir(child);
        } else {
            unlink(child);
        }
    }
}


/* @text with every @token replaced by @value */
static char *
fuzzSubst(const char *text, const char *token, const char *value)
{
    g_auto(GStrv) parts = g_strsplit(text, token, -1);

    return g_strjoinv(value, parts);
}


static void
fuzzCleanup(void)
{
    if (fuzzRoot) {
        fuzzRemoveContents(fuzzRoot);
        rmdir(fuzzRoot);
    }
    if (fuzzOutside) {
        fuzzRemoveContents(fuzzOutside);
        rmdir(fuzzOutside);
    }
}


int
LLVMFuzzerInitialize(int *argc G_GNUC_UNUSED, char ***argv G_GNUC_UNUSED)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *escape = NULL;
    g_autofree char *text = NULL;

    fuzzRoot = g_dir_make_tmp("fwsel-fuzz-tree-XXXXXX", &err);
    FUZZ_ASSERT(fuzzRoot, "%s", err ? err->message : "");
    fuzzOutside = g_dir_make_tmp("fwsel-fuzz-outside-XXXXXX", &err);
    FUZZ_ASSERT(fuzzOutside, "%s", err ? err->message : "");
    atexit(fuzzCleanup);

    /* a valid descriptor outside the tree, with firmware files beside it */
    escape = g_build_filename(fuzzOutside, "escape.json", NULL);
    text = g_strdup_printf("{ \"description\": \"" FUZZ_OUTSIDE_MARK "\", "
                           "\"interface-types\": [ \"uefi\" ], \"mapping\": { \"device\": "
                           "\"flash\", \"mode\": \"stateless\", \"executable\": { "
                           "\"filename\": \"%s/escape.json\", \"format\": \"raw\" } }, "
                           "\"targets\": [ { \"architecture\": \"x86_64\", \"machines\": "
                           "[ \"*\" ] } ], \"features\": [ ], \"tags\": [] }", fuzzOutside);
    FUZZ_ASSERT(g_file_set_contents(escape, text, -1, &err), "%s", err ? err->message : "");
    return 0;
}


/* Reads the next byte of the program, 0 past its end */
typedef struct {
    const uint8_t *data;
    size_t size;
    size_t pos;
} fuzzReader;

static guint8
fuzzByte(fuzzReader *r)
{
    return r->pos < r->size ? r->data[r->pos++] : 0;
}


static void
fuzzWrite(const char *path, const char *text, gssize len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
                  0644);

    if (fd < 0)
        return;             /* a folder, a link or a FIFO took the name: fine */
    if (len < 0)
        len = strlen(text);
    if (write(fd, text, len) != len)
        FUZZ_ASSERT(false, "writing %s: %s", path, g_strerror(errno));
    close(fd);
}


/* One record: OP DIR NAME ARG [LEN BYTES...] */
static void
fuzzBuildEntry(fuzzReader *r)
{
    guint8 op = fuzzByte(r) % 9;
    const char *dir = fuzzDirs[fuzzByte(r) % G_N_ELEMENTS(fuzzDirs)];
    guint8 name = fuzzByte(r) % 8;
    guint8 arg = fuzzByte(r);
    g_autofree char *base = NULL;
    g_autofree char *path = NULL;

    /* descriptors and firmware files share numbers, so they meet */
    if (g_str_equal(dir, "usr/share/OVMF"))
        base = g_strdup_printf("%s-%u.fd", name % 2 ? "VARS" : "CODE", name / 2);
    else
        base = g_strdup_printf("%02u-fuzz.json", name);
    path = g_build_filename(fuzzRoot, dir, base, NULL);

    switch (op) {
    case 0:
    case 1: {               /* a descriptor naming files of number ARG % 4 */
        const char *tmpl = fuzzDescriptors[arg % G_N_ELEMENTS(fuzzDescriptors)];
        g_autofree char *num = g_strdup_printf("%u", (arg >> 4) % 4);
        g_autofree char *text = fuzzSubst(tmpl, "@N@", num);

        fuzzWrite(path, text, -1);
        break;
    }
    case 2: {               /* raw bytes */
        guint8 len = fuzzByte(r);
        size_t avail = MIN((size_t) len, r->size - MIN(r->pos, r->size));

        fuzzWrite(path, (const char *) r->data + MIN(r->pos, r->size), avail);
        r->pos += avail;
        break;
    }
    case 3:                 /* empty: a mask */
        fuzzWrite(path, "", 0);
        break;
    case 4:
    case 5: {               /* a symbolic link */
        const char *target = fuzzTargets[arg % G_N_ELEMENTS(fuzzTargets)];
        g_autofree char *resolved = fuzzSubst(target, "@OUT@", fuzzOutside);

        if (symlink(resolved, path) < 0 && errno != EEXIST)
            FUZZ_ASSERT(false, "symlink %s: %s", path, g_strerror(errno));
        break;
    }
    case 6:                 /* a folder */
        (void) mkdir(path, 0755);
        break;
    case 7:                 /* a FIFO */
        (void) mkfifo(path, 0644);
        break;
    case 8: {               /* sparse, over the size limit (or a small file) */
        int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644);
        struct stat sb;

        if (fd >= 0 && fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode))
            FUZZ_ASSERT(ftruncate(fd, arg % 2 ? (off_t) 2 * FWSEL_MAX_INPUT_SIZE : 4096) == 0,
                        "ftruncate: %s", g_strerror(errno));
        if (fd >= 0)
            close(fd);
        break;
    }
    }
}


static void
fuzzCheckCatalog(const fwselCatalog *catalog)
{
    g_autoptr(GHashTable) effective = g_hash_table_new(g_str_hash, g_str_equal);
    size_t i;

    for (i = 0; i < catalog->nentries; i++) {
        const fwselEntry *e = catalog->entries[i];

        FUZZ_ASSERT(e->name && e->path && e->state < FWSEL_ENTRY_LAST, "entry %zu", i);
        FUZZ_ASSERT(i == 0 || strcmp(catalog->entries[i - 1]->name, e->name) <= 0,
                    "%s listed after %s", e->name, catalog->entries[i - 1]->name);
        FUZZ_ASSERT((e->state == FWSEL_ENTRY_ACTIVE) == (e->desc != NULL),
                    "%s: state %s, descriptor %p", e->path,
                    fwselEntryStateTypeToString(e->state), (void *) e->desc);
        FUZZ_ASSERT(e->state != FWSEL_ENTRY_INVALID || e->error, "%s: invalid, no reason",
                    e->path);
        FUZZ_ASSERT(e->state != FWSEL_ENTRY_SHADOWED || e->winner, "%s: shadowed by nothing",
                    e->path);
        FUZZ_ASSERT(!e->desc || !e->desc->description ||
                    !strstr(e->desc->description, FUZZ_OUTSIDE_MARK),
                    "%s was read from outside the root %s", e->path, fuzzRoot);
        if (fwselEntryIsEffective(e)) {
            FUZZ_ASSERT(!g_hash_table_contains(effective, e->name),
                        "two files named %s take part", e->name);
            g_hash_table_add(effective, e->name);
        }
    }
}


static void
fuzzEvaluate(const fwselCatalog *catalog, const char *xml, bool safe)
{
    g_autoptr(fwselDomainXML) doc = NULL;
    g_autoptr(GError) err = NULL;
    fwselRequest *req;
    fwselResult *result;

    doc = fwselDomainXMLParse("fuzz.xml", xml, strlen(xml), &err);
    FUZZ_ASSERT(doc, "request: %s", err->message);
    req = fwselRequestNew(catalog, fwselDomainXMLGetDomain(doc));
    result = fwselEvaluate(catalog, req);
    FUZZ_ASSERT(result && result->outcome < FWSEL_OUTCOME_LAST, "no outcome");
    FUZZ_ASSERT(result->outcome != FWSEL_OUTCOME_INVALID || result->error,
                "invalid without a reason");
    if (result->outcome == FWSEL_OUTCOME_NOTHING || result->outcome == FWSEL_OUTCOME_INVALID)
        FUZZ_ASSERT(result->nverdicts == 0, "%zu verdicts for %s", result->nverdicts,
                    fwselOutcomeTypeToString(result->outcome));
    else
        FUZZ_ASSERT(result->nverdicts == catalog->nentries, "%zu verdicts for %zu entries",
                    result->nverdicts, catalog->nentries);
    if (result->outcome == FWSEL_OUTCOME_SELECTED) {
        const char *code;

        FUZZ_ASSERT(result->chosen && result->chosen->state == FWSEL_ENTRY_ACTIVE,
                    "chose an entry that is not active");
        /* libvirt does not look (a hazard note says so); the safe policy does */
        code = fwselDescriptorCodeFile(result->chosen->desc);
        FUZZ_ASSERT(!safe || fwselCatalogFileExists(catalog, code), "chose %s, its code file "
                    "%s does not exist", result->chosen->path, code);
    }
    fwselResultFree(result);
    fwselRequestFree(req);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzzReader r = { data, size, 0 };
    g_autoptr(fwselHostOptions) opts = fwselHostOptionsNew();
    g_autoptr(fwselCatalog) catalog = NULL;
    g_autoptr(GError) err = NULL;
    guint8 how = fuzzByte(&r);
    const char *version = fuzzVersions[how % G_N_ELEMENTS(fuzzVersions)];
    size_t i;
    unsigned int n;

    fuzzRemoveContents(fuzzRoot);
    for (i = 0; i < G_N_ELEMENTS(fuzzDirs); i++) {
        g_autofree char *dir = g_build_filename(fuzzRoot, fuzzDirs[i], NULL);

        FUZZ_ASSERT(g_mkdir_with_parents(dir, 0755) == 0, "%s: %s", dir, g_strerror(errno));
    }
    for (n = 0; n < 32 && r.pos < r.size; n++)
        fuzzBuildEntry(&r);

    fwselHostOptionsSetProbe(opts, false);
    FUZZ_ASSERT(fwselHostOptionsSetRoot(opts, fuzzRoot, &err) == 0, "%s", err->message);
    if (version)
        FUZZ_ASSERT(fwselHostOptionsSetLibvirt(opts, version, &err) == 0, "%s", err->message);
    if (how & 0x80)
        fwselHostOptionsSetPolicy(opts, FWSEL_POLICY_SAFE);
    catalog = fwselCatalogLoad(opts, &err);
    FUZZ_ASSERT(catalog, "loading the tree failed: %s", err->message);

    fuzzCheckCatalog(catalog);
    for (i = 0; i < G_N_ELEMENTS(fuzzRequests); i++)
        fuzzEvaluate(catalog, fuzzRequests[i], how & 0x80);
    return 0;
}
