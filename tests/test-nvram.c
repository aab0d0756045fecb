/*
 * test-nvram.c: per-domain varstores: crash safety, races, unsafe paths,
 * odd templates, full disks, sparseness, qcow2 conversion, check and
 * remove, and the virt-fwsel nvram command
 *
 * Environment (set by meson): NVRAM_HELPER (tests/nvram-helper),
 * FWSEL_BIN (virt-fwsel), FWSEL_TESTS_DATA (tests-data).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fwsel.h"

#define KiB 1024
#define MiB (1024 * 1024)


/* ---- helpers ---------------------------------------------------------- */

static void
nvramRemoveTree(const char *path)
{
    struct stat sb;

    if (lstat(path, &sb) < 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        const char *name;

        while (dir && (name = g_dir_read_name(dir))) {
            g_autofree char *child = g_build_filename(path, name, NULL);

            nvramRemoveTree(child);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}


typedef struct {
    char *dir;          /* the test's scratch directory (no symlinks) */
    char *mount;        /* a tmpfs mounted for the test, or NULL */
} nvramFixture;


static void
nvramSetup(nvramFixture *fx, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *made = g_dir_make_tmp("fwsel-nvram-XXXXXX", NULL);

    g_assert_nonnull(made);
    /* the library refuses symlinked directory components */
    fx->dir = realpath(made, NULL);
    g_assert_nonnull(fx->dir);
    fx->mount = NULL;
}


static void
nvramTeardown(nvramFixture *fx, gconstpointer data G_GNUC_UNUSED)
{
    if (fx->mount) {
        umount2(fx->mount, MNT_DETACH);
        g_free(fx->mount);
    }
    nvramRemoveTree(fx->dir);
    free(fx->dir);
}


/* Mounts a tmpfs of @size at DIR/@name; NULL (test skipped) if we cannot */
static const char *
nvramMountTmpfs(nvramFixture *fx, const char *name, const char *size)
{
    g_autofree char *path = g_build_filename(fx->dir, name, NULL);
    g_autofree char *opts = g_strdup_printf("size=%s,mode=0755", size);

    g_assert_cmpint(mkdir(path, 0755), ==, 0);
    if (mount("tmpfs", path, "tmpfs", 0, opts) < 0) {
        g_autofree char *msg = g_strdup_printf("cannot mount a tmpfs (%s): needs root",
                                               g_strerror(errno));
        g_test_skip(msg);
        return NULL;
    }
    fx->mount = g_steal_pointer(&path);
    return fx->mount;
}


/* Whether a tmpfs can be mounted here, without skipping the test */
static bool
nvramCanMount(const nvramFixture *fx)
{
    g_autofree char *path = g_build_filename(fx->dir, "probe", NULL);
    bool ok;

    g_assert_cmpint(mkdir(path, 0755), ==, 0);
    ok = mount("tmpfs", path, "tmpfs", 0, "size=64k") == 0;
    if (ok)
        umount2(path, MNT_DETACH);
    rmdir(path);
    return ok;
}


static char *
nvramPath(const nvramFixture *fx, const char *name)
{
    return g_build_filename(fx->dir, name, NULL);
}


static char *
nvramMkdir(const nvramFixture *fx, const char *name)
{
    char *path = nvramPath(fx, name);

    g_assert_cmpint(g_mkdir_with_parents(path, 0755), ==, 0);
    return path;
}


static void
nvramFillRandom(char *buf, size_t len, GRand *rand)
{
    size_t i;

    for (i = 0; i < len; i++)
        buf[i] = (char) g_rand_int_range(rand, 1, 256);
}


/*
 * A template of @size bytes: zeros except @dataLen random bytes at
 * @dataOff.  With @writeZeros the zeros are written too (not holes).
 */
static void
nvramMakeTemplate(const char *path, off_t size, off_t dataOff, size_t dataLen,
                  guint32 seed, bool writeZeros)
{
    g_autoptr(GRand) rand = g_rand_new_with_seed(seed);
    g_autofree char *buf = g_malloc0(MAX(dataLen, (size_t) MiB));
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    off_t off;

    g_assert_cmpint(fd, >=, 0);
    if (writeZeros) {
        for (off = 0; off < size; off += MiB)
            g_assert_cmpint(pwrite(fd, buf, MIN((off_t) MiB, size - off), off), >, 0);
    }
    nvramFillRandom(buf, dataLen, rand);
    if (dataLen)
        g_assert_cmpint(pwrite(fd, buf, dataLen, dataOff), ==, (ssize_t) dataLen);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
}


static void
nvramWriteFile(const char *path, const char *contents, gsize len)
{
    g_autoptr(GError) err = NULL;

    g_assert_true(g_file_set_contents(path, contents, len, &err));
}


static bool
nvramSameContents(const char *a, const char *b)
{
    g_autofree char *ca = NULL;
    g_autofree char *cb = NULL;
    gsize la;
    gsize lb;

    if (!g_file_get_contents(a, &ca, &la, NULL) || !g_file_get_contents(b, &cb, &lb, NULL))
        return false;
    return la == lb && memcmp(ca, cb, la) == 0;
}


static bool
nvramExists(const char *path)
{
    struct stat sb;

    return lstat(path, &sb) == 0;
}


static int
nvramCmpName(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *) a, *(char *const *) b);
}


/* The names in @dir, sorted, joined by spaces */
static char *
nvramListDir(const char *dir)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    const char *name;

    g_assert_nonnull(d);
    while ((name = g_dir_read_name(d)))
        g_ptr_array_add(names, g_strdup(name));
    g_ptr_array_sort(names, nvramCmpName);
    g_ptr_array_add(names, NULL);
    return g_strjoinv(" ", (char **) names->pdata);
}


static const fwselNvramOwner nvramNoChown = { false, 0, 0 };


static int
nvramCopy(const char *tmpl, fwselFormat srcFmt, const char *dir, const char *name,
          fwselFormat dstFmt, unsigned int flags, GError **err)
{
    return fwselNvramCopy(tmpl, srcFmt, dir, name, dstFmt, &nvramNoChown, flags, NULL, err);
}


static bool
nvramHaveQemuImg(void)
{
    g_autofree char *bin = g_find_program_in_path("qemu-img");

    return bin != NULL;
}


static const char *
nvramEnv(const char *name)
{
    const char *val = g_getenv(name);

    if (!val)
        g_error("%s is not set: run this test through meson", name);
    return val;
}


/* ---- create, basics --------------------------------------------------- */

static void
testCreateBasic(nvramFixture *fx, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *tmpl = nvramPath(fx, "VARS.fd");
    g_autofree char *dir = nvramMkdir(fx, "nvram");
    g_autofree char *final = g_build_filename(dir, "guest_VARS.fd", NULL);
    g_autofree char *listing = NULL;
    g_autoptr(GError) err = NULL;
    struct stat before;
    struct stat after;

    nvramMakeTemplate(tmpl, 528 * KiB, 4 * KiB, 200 * KiB, 1, false);
    umask(022);

    g_assert_cmpint(nvramCopy(tmpl, FWSEL_FORMAT_RAW, dir, "guest_VARS.fd",
                              FWSEL_FORMAT_RAW, 0, &err), ==, FWSEL_NVRAM_CREATED);
    g_assert_no_error(err);
    g_assert_true(nvramSameContents(tmpl, final));
    g_assert_cmpint(lstat(final, &before), ==, 0);
    g_assert_cmpint(before.st_mode & 07777, ==, 0600);
    g_assert_cmpint(before.st_nlink, ==, 1);

    /* an existing file is left alone, even one that differs */
    nvramWriteFile(final, "user data", 9);
    g_assert_cmpint(lstat(final, &before), ==, 0);
    g_assert_cmpint(nvramCopy(tmpl, FWSEL_FORMAT_RAW, dir, "guest_VARS.fd",
                              FWSEL_FORMAT_RAW, 0, &err), ==, FWSEL_NVRAM_EXISTED);
    g_assert_cmpint(lstat(final, &after), ==, 0);
    g_assert_cmpint(before.st_ino, ==, after.st_ino);
    g_assert_cmpint(before.st_mtim.tv_nsec, ==, after.st_mtim.tv_nsec);

    /* a migration destination refuses it */
    g_assert_cmpint(nvramCopy(tmpl, FWSEL_FORMAT_RAW, dir, "guest_VARS.fd",
                              FWSEL_FORMAT_RAW, FWSEL_NVRAM_INCOMING, &err), ==, -1);
    g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_EXISTS);
    g_assert_nonnull(strstr(err->message, "migration destination"));
    g_clear_error(&err);

    {
        g_autofree char *contents = NULL;

        g_assert_true(g_file_get_contents(final, &contents, NULL, NULL));
        g_assert_cmpstr(contents, ==, "user data");
    }
    listing = nvramListDir(dir);
    g_assert_cmpstr(listing, ==, "guest_VARS.fd");
}


static void
testCreateOwner(nvramFixture *fx, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *tmpl = nvramPath(fx, "VARS.fd");
    g_autofree char *dir = nvramMkdir(fx, "nvram");
    g_autofree char *final = g_build_filename(dir, "g_VARS.fd", NULL);
    g_autoptr(GError) err = NULL;
    fwselNvramOwner owner;
    struct stat sb;

    if (geteuid() != 0) {
        g_test_skip("chown needs root");
        return;
    }
    nvramMakeTemplate(tmpl, 64 * KiB, 0, 64 * KiB, 2, false);
    g_assert_cmpint(fwselNvramOwnerParse("12345:54321", &owner, &err), ==, 0);
    g_assert_true(owner.chown);
    g_assert_cmpint(fwselNvramCopy(tmpl, FWSEL_FORMAT_RAW, dir, "g_VARS.fd", FWSEL_FORMAT_RAW,
                                   &owner, 0, NULL, &err), ==, FWSEL_NVRAM_CREATED);
    g_assert_cmpint(lstat(final, &sb), ==, 0);
    g_assert_cmpint(sb.st_uid, ==, 12345);
    g_assert_cmpint(sb.st_gid, ==, 54321);
    g_assert_cmpint(sb.st_mode & 07777, ==, 0600);

    g_assert_cmpint(fwselNvramOwnerParse("root", &owner, &err), ==, 0);
    g_assert_cmpint(owner.uid, ==, 0);
    g_assert_cmpint(fwselNvramOwnerParse("+0:+0", &owner, &err), ==, 0);
    g_assert_cmpint(fwselNvramOwnerParse("no-such-user-fwsel:root", &owner, &err), ==, -1);
    g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_cmpint(fwselNvramOwnerParse("a:b:c", &owner, &err), ==, -1);
    g_clear_error(&err);
    g_assert_cmpint(fwselNvramOwnerParse(":root", &owner, &err), ==, -1);
}


/* ---- unsafe paths ----------------------------------------------------- */

static void
testSymlinkFinal(nvramFixture *fx, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *tmpl = nvramPath(fx, "VARS.fd");
    g_autofree char *victim = nvramPath(fx, "victim");
    g_autofree char *dir = nvramMkdir(fx, "nvram");
    g_autofree char *final = g_build_filename(dir, "g_VARS.fd", NULL);
    g_autofree char *listing = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *contents = NULL;
    unsigned int flags[] = { 0, FWSEL_NVRAM_INCOMING, FWSEL_NVRAM_REPLACE,
                             FWSEL_NVRAM_REPLACE | FWSEL_NVRAM_BACKUP };
    size_t i;

    nvramMakeTemplate(tmpl, 64 * KiB, 0, 64 * KiB, 3, false);
    nvramWriteFile(victim, "precious", 8);
    g_assert_cmpint(symlink(victim, final), ==, 0);

    for (i = 0; i < G_N_ELEMENTS(flags); i++) {
        g_assert_cmpint(nvramCopy(tmpl, FWSEL_FORMAT_RAW, dir, "g_VARS.fd",
                                  FWSEL_FORMAT_RAW, flags[i], &err), ==, -1);
        g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_UNSAFE);
        g_assert_nonnull(strstr(err->message, "symbolic link"));
        g_clear_error(&err);
    }

    g_assert_true(g_file_get_contents(victim, &contents, NULL, NULL));
    g_assert_cmpstr(contents, ==, "precious");
    g_assert_true(g_file_test(final, G_FILE_TEST_IS_SYMLINK));
    listing = nvramListDir(dir);
    g_assert_cmpstr(listing, ==, "g_VARS.fd");
}


static void
testSymlinkDir(nvramFixture *fx, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *tmpl = nvramPath(fx, "VARS.fd");
    g_autofree char *real = nvramMkdir(fx, "real/nvram");
    g_autofree char *link = nvramPath(fx, "link");
    g_autofree char *viaLink = g_build_filename(link, "nvram", NULL);
    g_autofree char *link2 = nvramPath(fx, "link2");
    g_autofree char *listing = NULL;
    g_autoptr(GError) err = NULL;

    nvramMakeTemplate(tmpl, 64 * KiB, 0, 64 * KiB, 4, false);
    g_assert_cmpint(symlink("real", link), ==, 0);

    g_assert_cmpint(nvramCopy(tmpl, FWSEL_FORMAT_RAW, viaLink, "g_VARS.fd",
                              FWSEL_FORMAT_RAW, 0, &err), ==, -1);
    g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_UNSAFE);
    g_assert_nonnull(strstr(err->message, "link is a symbolic link"));
    g_clear_error(&err);

    /* the last component too */
    g_assert_cmpint(symlink("real/nvram", link2), ==, 0);
    g_assert_cmpint(nvramCopy(tmpl, FWSEL_FORMAT_RAW, link2, "g_VARS.fd",
                              FWSEL_FORMAT_RAW, FWSEL_NVRAM_REPLACE, &err), ==, -1);
    g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_UNSAFE);
    g_clear_error(&err);

    listing = nvramListDir(real);
    g_assert_cmpstr(listing, ==, "");
}


/* ---- odd templates ---------------------------------------------------- */

static void
testTemplateFifo(nvramFixture *fx, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *fifo = nvramPath(fx, "VARS.fd");
    g_autofree char *dir = nvramMkdir(fx, "nvram");
    g_autofree char *listing = NULL;
    g_autoptr(GError) err = NULL;

    g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
    /* with no writer, a blocking open would hang here forever */
    g_assert_cmpint(nvramCopy(fifo, FWSEL_FORMAT_RAW, dir, "g_VARS.fd",
                              FWSEL_FORMAT_RAW, 0, &err), ==, -1);
    g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "is a FIFO, not a regular file"));
    listing = nvramListDir(dir);
    g_assert_cmpstr(listing, ==, "");
}


static void
testTemplateDir(nvramFixture *fx, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *tdir = nvramMkdir(fx, "VARS.fd");
    g_autofree char *dir = nvramMkdir(fx, "nvram");
    g_autofree char *old = g_build_filename(dir, "g_VARS.fd", NULL);
    g_autofree char *listing = NULL;
    g_autofree char *contents = NULL;
    g_autoptr(GError) err = NULL;

    g_assert_cmpint(nvramCopy(tdir, FWSEL_FORMAT_RAW, dir, "g_VARS.fd",
                              FWSEL_FORMAT_RAW, 0, &err), ==, -1);
    g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "is a directory, not a regular file"));
    g_clear_error(&err);

    /* reset keeps the previous file */
    nvramWriteFile(old, "old vars", 8);
    g_assert_cmpint(nvramCopy(tdir, FWSEL_FORMAT_RAW, dir, "g_VARS.fd",
                              FWSEL_FORMAT_RAW, FWSEL_NVRAM_REPLACE, &err), ==, -1);
    g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_INVALID);
    g_assert_true(g_file_get_contents(old, &contents, NULL, NULL));
    g_assert_cmpstr(contents, ==, "old vars");
    listing = nvramListDir(dir);
    g_assert_cmpstr(listing, ==, "g_VARS.fd");
}


typedef struct {
    const char *tmpl;
    bool shrink;
    bool done;
} nvramSabotage;


static void
nvramSabotageHook(const char *step, void *opaque)
{
    nvramSabotage *s = opaque;

    if (s->done || !g_str_equal(step, "data"))
        return;
    s->done = true;
    if (s->shrink)
        g_assert_cmpint(truncate(s->tmpl, 100 * KiB), ==, 0);
    else
        g_assert_cmpint(unlink(s->tmpl), ==, 0);
}


/* What happens to the template during the copy, and which operation */
typedef struct {
    bool shrink;        /* truncated, else removed */
    bool reset;         /* reset an existing varstore, else create */
} nvramSabotageCase;

static const nvramSabotageCase nvramVanish = { false, false };
static const nvramSabotageCase nvramVanishReset = { false, true };
static const nvramSabotageCase nvramShrink = { true, false };
static const nvramSabotageCase nvramShrinkReset = { true, true };


static void
testTemplateSabotage(nvramFixture *fx, gconstpointer data)
{
    const nvramSabotageCase *tc = data;
    bool shrink = tc->shrink;
    bool reset = tc->reset;
    g_autofree char *tmpl = nvramPath(fx, "VARS.fd");
    g_autofree char *dir = nvramMkdir(fx, "nvram");
    g_autofree char *old = g_build_filename(dir, "g_VARS.fd", NULL);
    g_autofree char *listing = NULL;
    g_autofree char *contents = NULL;
    g_autoptr(GError) err = NULL;
    nvramSabotage s = { tmpl, shrink, false };

    /* several chunks, so the copy is under way when the hook strikes */
    nvramMakeTemplate(tmpl, 512 * KiB, 0, 512 * KiB, 5, false);
    if (reset)
        nvramWriteFile(old, "old vars", 8);

    fwselNvramSetTestHook(nvramSabotageHook, &s);
    g_assert_cmpint(nvramCopy(tmpl, FWSEL_FORMAT_RAW, dir, "g_VARS.fd", FWSEL_FORMAT_RAW,
                              reset ? FWSEL_NVRAM_REPLACE : 0, &err), ==, -1);
    fwselNvramSetTestHook(NULL, NULL);
    g_assert_true(s.done);
    g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_IO);
    g_test_message("%s", err->message);
    g_assert_true(strstr(err->message, shrink ? "shrank" : "removed or replaced"));

    listing = nvramListDir(dir);
    if (reset) {
        g_assert_cmpstr(listing, ==, "g_VARS.fd");
        g_assert_true(g_file_get_contents(old, &contents, NULL, NULL));
        g_assert_cmpstr(contents, ==, "old vars");
    } else {
        g_assert_cmpstr(listing, ==, "");
    }
}


/* ---- full disk -------------------------------------------------------- */

static void
testFullDisk(nvramFixture *fx, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *tmpl = nvramPath(fx, "VARS.fd");
    g_autofree char *old = NULL;
    g_autofree char *oldCopy = nvramPath(fx, "old-copy");
    g_autofree char *listing = NULL;
    g_autoptr(GError) err = NULL;
    const char *dir;

    if (!(dir = nvramMountTmpfs(fx, "small", "256k")))
        return;
    old = g_build_filename(dir, "g_VARS.fd", NULL);
    nvramMakeTemplate(tmpl, 2 * MiB, 0, 2 * MiB, 6, false);

    g_assert_cmpint(nvramCopy(tmpl, FWSEL_FORMAT_RAW, dir, "g_VARS.fd",
                              FWSEL_FORMAT_RAW, 0, &err), ==, -1);
    g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_IO);
    g_assert_nonnull(strstr(err->message, g_strerror(ENOSPC)));
    g_test_message("%s", err->message);
    g_clear_error(&err);
    listing = nvramListDir(dir);
    g_assert_cmpstr(listing, ==, "");
    g_clear_pointer(&listing, g_free);

    /* reset: the old varstore survives a full disk */
    nvramMakeTemplate(oldCopy, 64 * KiB, 0, 64 * KiB, 7, false);
    nvramMakeTemplate(old, 64 * KiB, 0, 64 * KiB, 7, false);
    g_assert_cmpint(nvramCopy(tmpl, FWSEL_FORMAT_RAW, dir, "g_VARS.fd", FWSEL_FORMAT_RAW,
                              FWSEL_NVRAM_REPLACE | FWSEL_NVRAM_BACKUP, &err), ==, -1);
    g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_IO);
    g_assert_true(nvramSameContents(old, oldCopy));
    listing = nvramListDir(dir);
    g_assert_cmpstr(listing, ==, "g_VARS.fd");
}


/* ---- sparseness ------------------------------------------------------- */

static void
nvramSparseRun(const char *tmpl, const char *dir)
{
    g_autofree char *final = g_build_filename(dir, "g_VARS.fd", NULL);
    g_autoptr(GError) err = NULL;
    struct stat sb;

    g_assert_cmpint(nvramCopy(tmpl, FWSEL_FORMAT_RAW, dir, "g_VARS.fd",
                              FWSEL_FORMAT_RAW, 0, &err), ==, FWSEL_NVRAM_CREATED);
    g_assert_no_error(err);
    g_assert_cmpint(stat(final, &sb), ==, 0);
    g_assert_cmpint(sb.st_size, ==, 64 * MiB);
    g_test_message("%s: 64 MiB template with 1 MiB of data: %lld KiB allocated",
                   dir, (long long) sb.st_blocks * 512 / KiB);
    g_assert_cmpint((gint64) sb.st_blocks * 512, <=, 2 * MiB);
    g_assert_true(nvramSameContents(tmpl, final));
    g_assert_cmpint(unlink(final), ==, 0);
}


static void
testSparse(nvramFixture *fx, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *holey = nvramPath(fx, "holey.fd");
    g_autofree char *dense = nvramPath(fx, "dense.fd");
    g_autofree char *dir = nvramMkdir(fx, "nvram");
    struct stat sb;
    const char *tmpfs;

    /* a template whose zeros are holes, and one whose zeros are written */
    nvramMakeTemplate(holey, 64 * MiB, 16 * MiB, 1 * MiB, 8, false);
    nvramMakeTemplate(dense, 64 * MiB, 16 * MiB, 1 * MiB, 8, true);
    g_assert_cmpint(stat(dense, &sb), ==, 0);
    g_test_message("dense template: %lld KiB allocated", (long long) sb.st_blocks * 512 / KiB);

    nvramSparseRun(holey, dir);
    nvramSparseRun(dense, dir);

    /* an 8 MiB tmpfs only holds the copy if it stays sparse */
    if ((tmpfs = nvramMountTmpfs(fx, "tmpfs", "8m"))) {
        nvramSparseRun(holey, tmpfs);
        nvramSparseRun(dense, tmpfs);
    }
}


/* ---- qcow2 <-> raw ---------------------------------------------------- */

static bool
nvramQemuImg(const char *const *args, char **out)
{
    g_autofree char *bin = g_find_program_in_path("qemu-img");
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autofree char *err = NULL;
    int status;

    g_assert_nonnull(bin);
    g_ptr_array_add(argv, bin);
    for (; *args; args++)
        g_ptr_array_add(argv, (char *) *args);
    g_ptr_array_add(argv, NULL);
    if (!g_spawn_sync(NULL, (char **) argv->pdata, NULL, 0, NULL, NULL, out, &err,
                      &status, NULL))
        return false;
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_test_message("qemu-img: %s", err);
        return false;
    }
    return true;
}


static void
testConvert(nvramFixture *fx, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *tmpl = nvramPath(fx, "VARS.fd");
    g_autofree char *dir = nvramMkdir(fx, "nvram");
    g_autofree char *qcow = g_build_filename(dir, "g_VARS.qcow2", NULL);
    g_autofree char *back = g_build_filename(dir, "back_VARS.fd", NULL);
    g_autofree char *info = NULL;
    g_autofree char *rawInfo = NULL;
    g_autoptr(GError) err = NULL;

    if (!nvramHaveQemuImg()) {
        g_test_skip("qemu-img is not installed (qemu-utils)");
        return;
    }
    nvramMakeTemplate(tmpl, 528 * KiB, 64 * KiB, 300 * KiB, 9, false);

    g_assert_cmpint(nvramCopy(tmpl, FWSEL_FORMAT_RAW, dir, "g_VARS.qcow2",
                              FWSEL_FORMAT_QCOW2, 0, &err), ==, FWSEL_NVRAM_CREATED);
    g_assert_no_error(err);
    {
        const char *check[] = { "check", "-f", "qcow2", qcow, NULL };
        const char *inf[] = { "info", "--output=json", qcow, NULL };
        g_autofree char *checkOut = NULL;

        g_assert_true(nvramQemuImg(check, &checkOut));
        g_assert_true(nvramQemuImg(inf, &info));
    }
    g_assert_nonnull(strstr(info, "\"format\": \"qcow2\""));
    g_assert_nonnull(strstr(info, "\"virtual-size\": 540672"));

    /* and back: byte for byte the template */
    g_assert_cmpint(nvramCopy(qcow, FWSEL_FORMAT_QCOW2, dir, "back_VARS.fd",
                              FWSEL_FORMAT_RAW, 0, &err), ==, FWSEL_NVRAM_CREATED);
    g_assert_no_error(err);
    g_assert_true(nvramSameContents(tmpl, back));
    {
        const char *inf[] = { "info", "--output=json", back, NULL };

        g_assert_true(nvramQemuImg(inf, &rawInfo));
    }
    g_assert_nonnull(strstr(rawInfo, "\"format\": \"raw\""));

    /* qcow2 to qcow2 is a plain copy that stays valid */
    g_assert_cmpint(nvramCopy(qcow, FWSEL_FORMAT_QCOW2, dir, "copy_VARS.qcow2",
                              FWSEL_FORMAT_QCOW2, FWSEL_NVRAM_REPLACE, &err), ==,
                    FWSEL_NVRAM_CREATED);
    {
        g_autofree char *copy = g_build_filename(dir, "copy_VARS.qcow2", NULL);
        const char *check[] = { "check", "-f", "qcow2", copy, NULL };
        g_autofree char *checkOut = NULL;

        g_assert_true(nvramQemuImg(check, &checkOut));
        g_assert_true(nvramSameContents(qcow, copy));
    }
}


/* ---- reset ------------------------------------------------------------ */

static void
testResetBackup(nvramFixture *fx, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *tmpl = nvramPath(fx, "VARS.fd");
    g_autofree char *dir = nvramMkdir(fx, "nvram");
    g_autofree char *final = g_build_filename(dir, "g_VARS.fd", NULL);
    g_autofree char *backup = NULL;
    g_autofree char *contents = NULL;
    g_autofree char *listing = NULL;
    g_autofree char *expected = NULL;
    g_autoptr(GError) err = NULL;

    nvramMakeTemplate(tmpl, 128 * KiB, 0, 100 * KiB, 10, false);
    nvramWriteFile(final, "enrolled keys", 13);

    g_assert_cmpint(fwselNvramCopy(tmpl, FWSEL_FORMAT_RAW, dir, "g_VARS.fd", FWSEL_FORMAT_RAW,
                                   &nvramNoChown, FWSEL_NVRAM_REPLACE | FWSEL_NVRAM_BACKUP,
                                   &backup, &err), ==, FWSEL_NVRAM_REPLACED);
    g_assert_no_error(err);
    g_assert_nonnull(backup);
    g_assert_true(g_str_has_prefix(backup, final));
    g_assert_true(g_str_has_prefix(backup + strlen(final), ".bak-"));
    g_assert_true(nvramSameContents(tmpl, final));
    g_assert_true(g_file_get_contents(backup, &contents, NULL, NULL));
    g_assert_cmpstr(contents, ==, "enrolled keys");
    listing = nvramListDir(dir);
    {
        g_autofree char *base = g_path_get_basename(backup);

        expected = g_strdup_printf("g_VARS.fd %s", base);
    }
    g_assert_cmpstr(listing, ==, expected);

    /* without --backup the old one is gone; without a file, reset creates */
    g_clear_pointer(&backup, g_free);
    g_assert_cmpint(fwselNvramCopy(tmpl, FWSEL_FORMAT_RAW, dir, "new_VARS.fd",
                                   FWSEL_FORMAT_RAW, &nvramNoChown, FWSEL_NVRAM_REPLACE,
                                   &backup, &err), ==, FWSEL_NVRAM_CREATED);
    g_assert_null(backup);
}


/* ---- running the helper ----------------------------------------------- */

typedef struct {
    bool killed;
    bool reached;       /* got past the clean-up of stale temporary files */
    char *lastStep;     /* the last step reached, or "" */
    char *result;       /* "created", ..., "error ..." or NULL when killed */
} nvramRun;


static void
nvramRunClear(nvramRun *run)
{
    g_free(run->lastStep);
    g_free(run->result);
}


static void
nvramParseOutput(const char *out, nvramRun *run)
{
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    char **l;

    run->lastStep = g_strdup("");
    run->result = NULL;
    run->reached = false;
    for (l = lines; *l; l++) {
        if (g_str_has_prefix(*l, "step ")) {
            g_free(run->lastStep);
            run->lastStep = g_strdup(*l + 5);
            /* create and reset clean up before "open", remove before
             * "dir-synced" */
            if (g_str_equal(run->lastStep, "open") || g_str_equal(run->lastStep, "dir-synced"))
                run->reached = true;
        } else if (g_str_has_prefix(*l, "result ")) {
            run->result = g_strdup(*l + 7);
        } else if (g_str_has_prefix(*l, "error ")) {
            run->result = g_strdup(*l);
        }
    }
}


static GPtrArray *
nvramHelperArgv(const char *op, const char *tmpl, const char *srcFmt, const char *dir,
                const char *dstFmt)
{
    GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(argv, g_strdup(nvramEnv("NVRAM_HELPER")));
    g_ptr_array_add(argv, g_strdup(op));
    g_ptr_array_add(argv, g_strdup(tmpl));
    g_ptr_array_add(argv, g_strdup(srcFmt));
    g_ptr_array_add(argv, g_strdup(dir));
    g_ptr_array_add(argv, g_strdup("g_VARS.fd"));
    g_ptr_array_add(argv, g_strdup(dstFmt));
    return argv;
}


/*
 * Reads @pid's steps from @outFd until it ends; @killAfterUs >= 0 sends
 * SIGKILL after that long unless it has finished by then.  @firstStepUs,
 * when not NULL, receives how long it took to reach its first step.
 */
static void
nvramCollect(GPid pid, int outFd, gint64 start, gint64 killAfterUs, nvramRun *run,
             gint64 *firstStepUs)
{
    g_autoptr(GString) out = g_string_new(NULL);
    bool sent = killAfterUs < 0;
    char buf[4096];
    int status;

    for (;;) {
        struct pollfd pfd = { outFd, POLLIN, 0 };
        struct timespec ts;
        gint64 left = start + killAfterUs - g_get_monotonic_time();
        ssize_t n;
        int ready;

        if (!sent && left <= 0) {
            kill(pid, SIGKILL);
            sent = true;
        }
        ts.tv_sec = left / G_USEC_PER_SEC;
        ts.tv_nsec = (left % G_USEC_PER_SEC) * 1000;
        ready = ppoll(&pfd, 1, sent ? NULL : &ts, NULL);
        if (ready < 0 && errno == EINTR)
            continue;
        g_assert_cmpint(ready, >=, 0);
        if (ready == 0)
            continue;
        n = read(outFd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (firstStepUs && out->len == 0)
            *firstStepUs = g_get_monotonic_time() - start;
        g_string_append_len(out, buf, n);
    }
    close(outFd);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);

    nvramParseOutput(out->str, run);
    run->killed = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
    if (!run->killed) {
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            g_error("nvram copy process failed: %s", out->str);
        g_assert_nonnull(run->result);
    }
}


/* Runs nvram-helper (a program of its own) to its end */
static void
nvramHelperRun(GPtrArray *argv, nvramRun *run)
{
    g_autoptr(GError) err = NULL;
    GPid pid;
    int outFd;

    g_ptr_array_add(argv, NULL);
    g_assert_true(g_spawn_async_with_pipes(NULL, (char **) argv->pdata, NULL,
                                           G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                                           NULL, &outFd, NULL, &err));
    g_ptr_array_remove_index(argv, argv->len - 1);
    nvramCollect(pid, outFd, g_get_monotonic_time(), -1, run, NULL);
}


/* ---- crash safety ----------------------------------------------------- */

/*
 * One kind of crash test: an operation killed at every step in turn (a
 * program of its own, nvram-helper, that kills itself), then from
 * outside at random moments.  After every run the varstore's path holds
 * nothing (create), the old file or a complete new copy; a backup, when
 * there is one, is the complete old file; the only other names are the
 * varstore's own temporary files left by a killed reset, and the next
 * operation on the varstore removes them.
 */
typedef struct {
    const char *label;
    const char *op;             /* "create", "reset" or "remove" */
    const char *dstFmt;
    const char *option;         /* "--backup", "--incoming" or NULL */
    unsigned int randomRuns;
    guint32 seed;
} nvramCrashSpec;

typedef struct {
    const nvramCrashSpec *spec;
    unsigned int runs;
    unsigned int killed;
    unsigned int completed;
    unsigned int absent;        /* final path: nothing */
    unsigned int isOld;         /* the old file, untouched */
    unsigned int isNew;         /* a complete copy */
    unsigned int backups;       /* complete backups of the old file */
    unsigned int strays;        /* temporary names left by a kill */
    unsigned int cleaned;       /* ... removed by the next operation */
    GPtrArray *pending;         /* names of strays not yet removed */
    GHashTable *lastSteps;      /* step -> count, for killed runs */
} nvramCrashStats;


/* The varstore as the guest sees it: raw bytes, via qemu-img for qcow2 */
static bool
nvramSameVars(const char *file, const char *fmt, const char *expect, const char *scratch)
{
    const char *args[] = { "convert", "-f", "qcow2", "-O", "raw", file, scratch, NULL };
    g_autofree char *out = NULL;

    if (g_str_equal(fmt, "raw"))
        return nvramSameContents(file, expect);
    unlink(scratch);
    return nvramQemuImg(args, &out) && nvramSameContents(scratch, expect);
}


/* A temporary name of varstore g_VARS.fd: .fwsel-g_VARS.fd.<16 hex>.tmp */
static bool
nvramIsOwnTemp(const char *name)
{
    const char *prefix = ".fwsel-g_VARS.fd.";
    size_t i;

    if (!g_str_has_prefix(name, prefix) || strlen(name) != strlen(prefix) + 16 + 4 ||
        !g_str_has_suffix(name, ".tmp"))
        return false;
    for (i = strlen(prefix); i < strlen(prefix) + 16; i++) {
        if (!g_ascii_isxdigit(name[i]))
            return false;
    }
    return true;
}


static void
nvramCrashVerify(nvramCrashStats *st, const nvramRun *run, const char *dir,
                 const char *tmpl, const char *oldCopy, const char *scratch)
{
    const nvramCrashSpec *spec = st->spec;
    g_autofree char *final = g_build_filename(dir, "g_VARS.fd", NULL);
    g_autoptr(GDir) d = g_dir_open(dir, 0, NULL);
    bool remove = g_str_equal(spec->op, "remove");
    bool reset = g_str_equal(spec->op, "reset");
    const char *name;
    guint i;

    st->runs++;
    if (run->killed) {
        st->killed++;
        g_hash_table_insert(st->lastSteps, g_strdup(run->lastStep),
                            GUINT_TO_POINTER(GPOINTER_TO_UINT(
                                g_hash_table_lookup(st->lastSteps, run->lastStep)) + 1));
    } else {
        st->completed++;
        g_assert_cmpstr(run->result, ==,
                        remove ? "removed" : oldCopy ? "replaced" : "created");
    }

    if (!nvramExists(final)) {
        /* reset never leaves the path empty */
        g_assert_false(reset);
        g_assert_true(run->killed || remove);
        st->absent++;
    } else if (oldCopy && nvramSameContents(final, oldCopy)) {
        g_assert_true(run->killed);
        st->isOld++;
    } else if (!remove && nvramSameVars(final, spec->dstFmt, tmpl, scratch)) {
        st->isNew++;
    } else {
        g_error("%s: %s is neither absent, the old file nor a complete copy "
                "(killed after step '%s')", spec->label, final, run->lastStep);
    }

    /* strays of earlier runs are gone once an operation got past its
     * clean-up (create and reset before "open", remove before its end) */
    if (run->reached || !run->killed) {
        for (i = 0; i < st->pending->len; i++) {
            g_autofree char *path = g_build_filename(dir, g_ptr_array_index(st->pending, i),
                                                     NULL);

            if (nvramExists(path))
                g_error("%s: %s, left by an earlier killed run, is still there after a "
                        "run that got to step '%s'", spec->label, path, run->lastStep);
            st->cleaned++;
        }
        g_ptr_array_set_size(st->pending, 0);
    }

    while ((name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);

        if (g_str_equal(name, "g_VARS.fd"))
            continue;
        if (g_str_has_prefix(name, "g_VARS.fd.bak-") && g_strcmp0(spec->option, "--backup") == 0) {
            /* the user's own file from here on: complete, or not there */
            if (!nvramSameContents(path, oldCopy))
                g_error("%s: backup %s is not the old file", spec->label, name);
            st->backups++;
            unlink(path);
            continue;
        }
        if (nvramIsOwnTemp(name) && reset && run->killed &&
            (g_str_equal(run->lastStep, "synced") || g_str_equal(run->lastStep, "linked") ||
             g_str_equal(run->lastStep, "backup"))) {
            if (!g_ptr_array_find_with_equal_func(st->pending, name, g_str_equal, NULL)) {
                st->strays++;
                g_ptr_array_add(st->pending, g_strdup(name));
            }
            continue;
        }
        if (nvramIsOwnTemp(name) &&
            g_ptr_array_find_with_equal_func(st->pending, name, g_str_equal, NULL))
            continue;
        g_error("%s: stray file %s after a run killed after step '%s'", spec->label, name,
                run->lastStep);
    }
}


static void
nvramCrashReport(nvramCrashStats *st)
{
    g_autoptr(GString) steps = g_string_new(NULL);
    GHashTableIter iter;
    gpointer key;
    gpointer value;

    g_hash_table_iter_init(&iter, st->lastSteps);
    while (g_hash_table_iter_next(&iter, &key, &value))
        g_string_append_printf(steps, " %s=%u", *(char *) key ? (char *) key : "(none)",
                               GPOINTER_TO_UINT(value));
    g_test_message("crash %s: %u runs, %u killed, %u completed; final path: "
                   "%u absent, %u old file, %u complete new copy, 0 partial; "
                   "%u complete backups; %u temporary names left, %u removed by the next "
                   "operation; killed after step:%s",
                   st->spec->label, st->runs, st->killed, st->completed, st->absent,
                   st->isOld, st->isNew, st->backups, st->strays, st->cleaned, steps->str);
}


/* Before each run: the old file for reset and remove, nothing for create */
static void
nvramCrashPrepare(const char *final, const char *oldCopy)
{
    g_autofree char *contents = NULL;
    gsize len;

    unlink(final);
    if (!oldCopy)
        return;
    g_assert_true(g_file_get_contents(oldCopy, &contents, &len, NULL));
    /* a plain write: g_file_set_contents would sync, hundreds of times */
    {
        int fd = open(final, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(write(fd, contents, len), ==, (ssize_t) len);
        close(fd);
    }
}


static GPtrArray *
nvramCrashArgv(const nvramCrashSpec *spec, const char *tmpl, const char *dir)
{
    GPtrArray *argv = nvramHelperArgv(spec->op, tmpl, "raw", dir, spec->dstFmt);

    if (spec->option)
        g_ptr_array_add(argv, g_strdup(spec->option));
    return argv;
}


/* nvram-helper with its steps slowed by @delayUs, SIGKILLed after
 * @killAfterUs (< 0: not) */
static void
nvramSpawnRun(GPtrArray *argv, unsigned int delayUs, gint64 killAfterUs, nvramRun *run,
              gint64 *firstStepUs)
{
    g_autoptr(GError) err = NULL;
    gint64 start = g_get_monotonic_time();
    GPid pid;
    int outFd;

    g_ptr_array_add(argv, g_strdup("--delay"));
    g_ptr_array_add(argv, g_strdup_printf("%u", delayUs));
    g_ptr_array_add(argv, NULL);
    g_assert_true(g_spawn_async_with_pipes(NULL, (char **) argv->pdata, NULL,
                                           G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                                           NULL, &outFd, NULL, &err));
    nvramCollect(pid, outFd, start, killAfterUs, run, firstStepUs);
}


static void
nvramCrashRun(nvramFixture *fx, const nvramCrashSpec *spec)
{
    g_autofree char *tmpl = nvramPath(fx, "VARS.fd");
    g_autofree char *oldCopy = NULL;
    g_autofree char *scratch = nvramPath(fx, "scratch.raw");
    g_autofree char *dir = NULL;
    g_autofree char *final = NULL;
    g_autoptr(GRand) rand = g_rand_new_with_seed(spec->seed);
    g_autoptr(GHashTable) lastSteps = g_hash_table_new_full(g_str_hash, g_str_equal,
                                                            g_free, NULL);
    g_autoptr(GPtrArray) pending = g_ptr_array_new_with_free_func(g_free);
    nvramCrashStats st = { spec, 0, 0, 0, 0, 0, 0, 0, 0, 0, pending, lastSteps };
    bool create = g_str_equal(spec->op, "create");
    unsigned int steps;
    unsigned int k;
    gint64 fullUs;
    gint64 firstUs = 0;

    /* SIGKILL does not lose the page cache, so fsync does not matter to
     * what these runs show; a tmpfs keeps its cost (and that of a busy
     * disk) out of the run time.  Elsewhere, the scratch directory. */
    if (geteuid() == 0 && nvramCanMount(fx))
        dir = g_strdup(nvramMountTmpfs(fx, "nvram", "16m"));
    else
        dir = nvramMkdir(fx, "nvram");
    final = g_build_filename(dir, "g_VARS.fd", NULL);

    /* data, a hole, data: several chunks and a hole to keep */
    nvramMakeTemplate(tmpl, 512 * KiB, 0, 256 * KiB + 123, spec->seed, false);
    {
        int fd = open(tmpl, O_WRONLY | O_CLOEXEC);

        g_assert_cmpint(pwrite(fd, "end", 3, 512 * KiB - 3), ==, 3);
        close(fd);
    }
    if (!create) {
        oldCopy = nvramPath(fx, "old.fd");
        nvramMakeTemplate(oldCopy, 512 * KiB, 0, 512 * KiB, spec->seed + 1, false);
    }

    /* kill at step 1, 2, ... until a run gets through */
    for (steps = 1;; steps++) {
        g_autoptr(GPtrArray) argv = nvramCrashArgv(spec, tmpl, dir);
        nvramRun run;
        bool killed;

        nvramCrashPrepare(final, oldCopy);
        g_ptr_array_add(argv, g_strdup("--kill-at"));
        g_ptr_array_add(argv, g_strdup_printf("%u", steps));
        nvramHelperRun(argv, &run);
        nvramCrashVerify(&st, &run, dir, tmpl, oldCopy, scratch);
        killed = run.killed;
        nvramRunClear(&run);
        if (!killed)
            break;
        g_assert_cmpuint(steps, <, 200);
    }

    /* then SIGKILL from outside at random moments, steps slowed a little;
     * one clean run first to time them */
    {
        g_autoptr(GPtrArray) argv = nvramCrashArgv(spec, tmpl, dir);
        nvramRun run;
        gint64 start = g_get_monotonic_time();

        nvramCrashPrepare(final, oldCopy);
        nvramSpawnRun(argv, 300, -1, &run, &firstUs);
        fullUs = g_get_monotonic_time() - start;
        g_assert_false(run.killed);
        nvramCrashVerify(&st, &run, dir, tmpl, oldCopy, scratch);
        nvramRunClear(&run);
    }
    for (k = 0; k < spec->randomRuns; k++) {
        g_autoptr(GPtrArray) argv = nvramCrashArgv(spec, tmpl, dir);
        nvramRun run;

        nvramCrashPrepare(final, oldCopy);
        /* from a little before the first step to the end */
        nvramSpawnRun(argv, 300, g_rand_int_range(rand, firstUs / 2, (gint32) fullUs + 1),
                      &run, NULL);
        nvramCrashVerify(&st, &run, dir, tmpl, oldCopy, scratch);
        nvramRunClear(&run);
    }

    /* a last complete run leaves nothing but the varstore */
    {
        g_autoptr(GPtrArray) argv = nvramCrashArgv(spec, tmpl, dir);
        g_autofree char *listing = NULL;
        nvramRun run;

        nvramCrashPrepare(final, oldCopy);
        nvramHelperRun(argv, &run);
        nvramCrashVerify(&st, &run, dir, tmpl, oldCopy, scratch);
        nvramRunClear(&run);
        listing = nvramListDir(dir);
        g_assert_cmpstr(listing, ==, g_str_equal(spec->op, "remove") ? "" : "g_VARS.fd");
    }

    g_test_message("crash %s: in %s (%s)", spec->label, dir,
                   fx->mount ? "tmpfs" : "scratch directory");
    nvramCrashReport(&st);
    g_assert_cmpuint(st.runs, ==, steps + spec->randomRuns + 2);
}


/* At least 1,000 kill points in all (the sums are in the test's log) */
static const nvramCrashSpec nvramCrashCreate = {
    "create -> raw", "create", "raw", NULL, 300, 11 };
static const nvramCrashSpec nvramCrashCreateQcow2 = {
    "create -> qcow2", "create", "qcow2", NULL, 40, 13 };
static const nvramCrashSpec nvramCrashIncoming = {
    "create --incoming -> raw", "create", "raw", "--incoming", 150, 16 };
static const nvramCrashSpec nvramCrashReset = {
    "reset -> raw", "reset", "raw", NULL, 300, 12 };
static const nvramCrashSpec nvramCrashResetBackup = {
    "reset --backup -> raw", "reset", "raw", "--backup", 250, 17 };
static const nvramCrashSpec nvramCrashRemove = {
    "remove", "remove", "raw", NULL, 100, 18 };


static void
testCrash(nvramFixture *fx, gconstpointer data)
{
    const nvramCrashSpec *spec = data;

    if (g_str_equal(spec->dstFmt, "qcow2") && !nvramHaveQemuImg()) {
        g_test_skip("qemu-img is not installed (qemu-utils)");
        return;
    }
    nvramCrashRun(fx, spec);
}


/* ---- racing operations ------------------------------------------------ */

/*
 * Two operations on one varstore, released together: both wait at the
 * barrier (nvram-helper --barrier: a copy waits with its file complete
 * and synced, not yet linked; remove waits before it looks).  Whatever
 * the order, the path ends with nothing or a complete file, nothing else
 * is left in the directory, and each reports an outcome that fits.
 */
typedef struct {
    const char *label;
    const char *op[2];
    const char *option[2];
    bool oldFile;               /* a varstore is there before */
    const char *outcomes;       /* "A+B" pairs allowed, space-separated */
} nvramRaceSpec;

static const nvramRaceSpec nvramRaceCreateCreate = {
    "create vs create", { "create", "create" }, { NULL, NULL }, false,
    "created+existed existed+created" };
static const nvramRaceSpec nvramRaceCreateReset = {
    "create vs reset", { "create", "reset" }, { NULL, NULL }, false,
    "created+replaced existed+created created+created" };
static const nvramRaceSpec nvramRaceResetRemove = {
    "reset vs remove", { "reset", "remove" }, { NULL, NULL }, true,
    "replaced+removed created+removed" };
/* the hook of a migration run twice for the same incoming domain */
static const nvramRaceSpec nvramRaceIncoming = {
    "two incoming hooks", { "create", "create" }, { "--incoming", "--incoming" }, false,
    "created+error error+created" };


static void
testRace(nvramFixture *fx, gconstpointer data)
{
    const nvramRaceSpec *spec = data;
    g_autofree char *tmpl = nvramPath(fx, "VARS.fd");
    g_autofree char *old = nvramPath(fx, "old.fd");
    g_autofree char *dir = nvramMkdir(fx, "nvram");
    g_autofree char *final = g_build_filename(dir, "g_VARS.fd", NULL);
    g_auto(GStrv) allowed = g_strsplit(spec->outcomes, " ", -1);
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(GString) summary = g_string_new(NULL);
    GHashTableIter iter;
    gpointer key;
    gpointer value;
    unsigned int round;

    nvramMakeTemplate(tmpl, 256 * KiB, 0, 200 * KiB, 14, false);
    nvramMakeTemplate(old, 256 * KiB, 0, 256 * KiB, 19, false);

    for (round = 0; round < 20; round++) {
        g_autofree char *listing = NULL;
        g_autofree char *barrier = NULL;
        g_autofree char *pair = NULL;
        g_autoptr(GError) err = NULL;
        char *results[2] = { NULL, NULL };
        int ready[2];
        int go[2];
        GPid pids[2];
        int outs[2];
        char c[2];
        int i;

        g_assert_cmpint(pipe(ready), ==, 0);
        g_assert_cmpint(pipe(go), ==, 0);
        barrier = g_strdup_printf("%d,%d", ready[1], go[0]);
        nvramCrashPrepare(final, spec->oldFile ? old : NULL);

        for (i = 0; i < 2; i++) {
            g_autoptr(GPtrArray) argv = nvramHelperArgv(spec->op[i], tmpl, "raw", dir, "raw");

            if (spec->option[i])
                g_ptr_array_add(argv, g_strdup(spec->option[i]));
            g_ptr_array_add(argv, g_strdup("--barrier"));
            g_ptr_array_add(argv, g_strdup(barrier));
            g_ptr_array_add(argv, NULL);
            g_assert_true(g_spawn_async_with_pipes(NULL, (char **) argv->pdata, NULL,
                                                   G_SPAWN_DO_NOT_REAP_CHILD |
                                                   G_SPAWN_LEAVE_DESCRIPTORS_OPEN,
                                                   NULL, NULL, &pids[i], NULL, &outs[i],
                                                   NULL, &err));
        }
        close(ready[1]);
        close(go[0]);
        g_assert_cmpint(read(ready[0], c, 1), ==, 1);
        g_assert_cmpint(read(ready[0], c + 1, 1), ==, 1);
        g_assert_cmpint(write(go[1], "gg", 2), ==, 2);
        close(ready[0]);
        close(go[1]);

        for (i = 0; i < 2; i++) {
            g_autoptr(GString) out = g_string_new(NULL);
            nvramRun run;
            char buf[1024];
            ssize_t n;
            int status;

            while ((n = read(outs[i], buf, sizeof(buf))) > 0)
                g_string_append_len(out, buf, n);
            close(outs[i]);
            g_assert_cmpint(waitpid(pids[i], &status, 0), ==, pids[i]);
            g_assert_true(WIFEXITED(status));
            nvramParseOutput(out->str, &run);
            if (WEXITSTATUS(status) == 0) {
                results[i] = g_strdup(run.result);
            } else if (g_str_has_prefix(out->str, "error ") || strstr(out->str, "\nerror ")) {
                /* only the incoming hook may refuse, and only because the
                 * file is there (FWSEL_ERROR_EXISTS) */
                g_assert_nonnull(spec->option[i]);
                g_assert_true(strstr(out->str, "appeared while it was being created") ||
                              strstr(out->str, "already exists"));
                results[i] = g_strdup("error");
            } else {
                g_error("%s: %s failed: %s", spec->label, spec->op[i], out->str);
            }
            nvramRunClear(&run);
        }

        pair = g_strdup_printf("%s+%s", results[0], results[1]);
        g_free(results[0]);
        g_free(results[1]);
        if (!g_strv_contains((const char * const *) allowed, pair))
            g_error("%s: outcome %s is not one of: %s", spec->label, pair, spec->outcomes);
        g_hash_table_insert(seen, g_strdup(pair), GUINT_TO_POINTER(
            GPOINTER_TO_UINT(g_hash_table_lookup(seen, pair)) + 1));

        if (nvramExists(final))
            g_assert_true(nvramSameContents(tmpl, final));
        listing = nvramListDir(dir);
        g_assert_cmpstr(listing, ==, nvramExists(final) ? "g_VARS.fd" : "");
    }

    g_hash_table_iter_init(&iter, seen);
    while (g_hash_table_iter_next(&iter, &key, &value))
        g_string_append_printf(summary, " %s=%u", (char *) key, GPOINTER_TO_UINT(value));
    g_test_message("race %s: 20 rounds, released together; outcomes:%s; every round "
                   "nothing or a complete file, nothing else left", spec->label,
                   summary->str);
}


/* ---- domain level: check, remove, paths ------------------------------- */

/* The catalog of a host tree (only its settings and root matter here) */
static fwselCatalog *
nvramCatalog(const char *root)
{
    g_autoptr(fwselHostOptions) opts = fwselHostOptionsNew();
    g_autoptr(GError) err = NULL;
    fwselCatalog *catalog;

    g_assert_cmpint(fwselHostOptionsSetRoot(opts, root, &err), ==, 0);
    catalog = fwselCatalogLoad(opts, &err);
    g_assert_no_error(err);
    return catalog;
}


typedef struct {
    fwselCatalog *catalog;
    fwselDomain *dom;
    char *final;        /* on disk */
    char *tmplDisk;
} nvramDomainFx;


static void
nvramDomainInit(nvramDomainFx *d, const nvramFixture *fx, fwselFormat fmt)
{
    g_autofree char *ovmf = nvramMkdir(fx, "usr/share/OVMF");

    d->catalog = nvramCatalog(fx->dir);
    g_free(d->catalog->settings.qemuUser);
    g_free(d->catalog->settings.qemuGroup);
    d->catalog->settings.qemuUser = g_strdup("root");
    d->catalog->settings.qemuGroup = g_strdup("root");

    d->dom = fwselDomainNew();
    d->dom->name = g_strdup("guest");
    d->dom->nvram.present = true;
    d->dom->nvram.templatePath = g_strdup("/usr/share/OVMF/OVMF_VARS_4M.fd");
    d->dom->nvram.templateFormat = FWSEL_FORMAT_RAW;
    d->dom->nvram.format = fmt;
    d->dom->nvram.path = fwselNvramDefaultPath(d->catalog->settings.nvramDir, d->dom, FWSEL_LIBVIRT_11_8, NULL);
    g_assert_nonnull(d->dom->nvram.path);
    d->final = g_build_filename(fx->dir, d->dom->nvram.path, NULL);
    d->tmplDisk = g_build_filename(ovmf, "OVMF_VARS_4M.fd", NULL);
    nvramMakeTemplate(d->tmplDisk, 528 * KiB, 0, 300 * KiB, 15, false);
}


static void
nvramDomainClear(nvramDomainFx *d)
{
    fwselCatalogFree(d->catalog);
    fwselDomainFree(d->dom);
    g_free(d->final);
    g_free(d->tmplDisk);
}


static char *
nvramCheckText(nvramDomainFx *d, int expect)
{
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;

    g_assert_cmpint(fwselNvramCheck(d->catalog, d->dom, problems, &err), ==, expect);
    g_assert_no_error(err);
    g_ptr_array_add(problems, NULL);
    return g_strjoinv("\n", (char **) problems->pdata);
}


static void
testDomainCheck(nvramFixture *fx, gconstpointer data G_GNUC_UNUSED)
{
    nvramDomainFx d;
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    g_autofree char *victim = nvramPath(fx, "elsewhere");
    fwselNvramOwner owner = { false, 0, 0 };

    nvramDomainInit(&d, fx, FWSEL_FORMAT_RAW);

    text = nvramCheckText(&d, FWSEL_NVRAM_ABSENT);
    g_assert_cmpstr(text, ==, "");
    g_clear_pointer(&text, g_free);

    /* create makes the NVRAM directory under the root */
    g_assert_cmpint(fwselNvramCreate(d.catalog, d.dom, &owner, 0, &err), ==,
                    FWSEL_NVRAM_CREATED);
    g_assert_no_error(err);
    g_assert_true(nvramSameContents(d.tmplDisk, d.final));
    text = nvramCheckText(&d, FWSEL_NVRAM_EXISTED);
    g_assert_cmpstr(text, ==, "");
    g_clear_pointer(&text, g_free);

    /* wrong size, wrong mode, wrong owner, an extra link: each reported */
    g_assert_cmpint(truncate(d.final, 4 * MiB), ==, 0);
    g_assert_cmpint(chmod(d.final, 0646), ==, 0);
    if (geteuid() == 0)
        g_assert_cmpint(chown(d.final, 4242, 4242), ==, 0);
    {
        g_autofree char *extra = g_strdup_printf("%s.extra", d.final);

        g_assert_cmpint(link(d.final, extra), ==, 0);
    }
    text = nvramCheckText(&d, FWSEL_NVRAM_EXISTED);
    g_test_message("%s", text);
    g_assert_nonnull(strstr(text, "is 4194304 bytes, its template "
                                  "/usr/share/OVMF/OVMF_VARS_4M.fd is 540672"));
    g_assert_nonnull(strstr(text, "mode 0646 gives other users access"));
    g_assert_nonnull(strstr(text, "has 2 hard links"));
    if (geteuid() == 0)
        g_assert_nonnull(strstr(text, "owned by uid 4242, neither root nor the QEMU user root"));
    g_clear_pointer(&text, g_free);

    /* a qcow2 file where raw is declared */
    g_assert_cmpint(fwselNvramReset(d.catalog, d.dom, &owner, 0, NULL, &err), ==,
                    FWSEL_NVRAM_REPLACED);
    {
        int fd = open(d.final, O_WRONLY | O_CLOEXEC);

        g_assert_cmpint(pwrite(fd, "QFI\xfb", 4, 0), ==, 4);
        close(fd);
    }
    text = nvramCheckText(&d, FWSEL_NVRAM_EXISTED);
    g_test_message("%s", text);
    g_assert_nonnull(strstr(text, "is a qcow2 image, but the domain declares format='raw'"));
    g_clear_pointer(&text, g_free);

    /* a symlink: reported, not followed */
    unlink(d.final);
    nvramWriteFile(victim, "x", 1);
    g_assert_cmpint(symlink(victim, d.final), ==, 0);
    text = nvramCheckText(&d, FWSEL_NVRAM_EXISTED);
    g_assert_cmpstr(text, ==, "/var/lib/libvirt/qemu/nvram/guest_VARS.fd: "
                              "is a symbolic link, not a regular file");
    g_clear_pointer(&text, g_free);

    nvramDomainClear(&d);
}


/* Without --owner, new varstores belong to qemu.conf's user and group */
static void
testDomainOwner(nvramFixture *fx, gconstpointer data G_GNUC_UNUSED)
{
    nvramDomainFx d;
    g_autoptr(GError) err = NULL;
    g_autofree char *etc = nvramMkdir(fx, "etc/libvirt");
    g_autofree char *conf = g_build_filename(etc, "qemu.conf", NULL);
    const char *text = "# stand-in\nuser = \"+4242\"\ngroup = \"+4343\"\n";
    struct stat sb;

    if (geteuid() != 0) {
        g_test_skip("chown needs root");
        return;
    }
    nvramDomainInit(&d, fx, FWSEL_FORMAT_RAW);
    nvramWriteFile(conf, text, strlen(text));
    fwselCatalogFree(d.catalog);
    d.catalog = nvramCatalog(fx->dir);
    g_assert_cmpstr(d.catalog->settings.qemuUser, ==, "+4242");

    g_assert_cmpint(fwselNvramCreate(d.catalog, d.dom, NULL, 0, &err), ==, FWSEL_NVRAM_CREATED);
    g_assert_no_error(err);
    g_assert_cmpint(lstat(d.final, &sb), ==, 0);
    g_assert_cmpint(sb.st_uid, ==, 4242);
    g_assert_cmpint(sb.st_gid, ==, 4343);
    g_assert_cmpint(sb.st_mode & 07777, ==, 0600);

    /* a user that does not exist: a clear error, nothing created */
    g_assert_cmpint(unlink(d.final), ==, 0);
    g_free(d.catalog->settings.qemuUser);
    d.catalog->settings.qemuUser = g_strdup("no-such-user-fwsel");
    g_assert_cmpint(fwselNvramCreate(d.catalog, d.dom, NULL, 0, &err), ==, -1);
    g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "user 'no-such-user-fwsel' does not exist"));
    g_assert_false(nvramExists(d.final));
    nvramDomainClear(&d);
}


static void
testDomainQcow2(nvramFixture *fx, gconstpointer data G_GNUC_UNUSED)
{
    nvramDomainFx d;
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    fwselNvramOwner owner = { false, 0, 0 };

    if (!nvramHaveQemuImg()) {
        g_test_skip("qemu-img is not installed (qemu-utils)");
        return;
    }
    nvramDomainInit(&d, fx, FWSEL_FORMAT_QCOW2);
    g_assert_true(g_str_has_suffix(d.dom->nvram.path, "/guest_VARS.qcow2"));
    g_assert_cmpint(fwselNvramCreate(d.catalog, d.dom, &owner, 0, &err), ==,
                    FWSEL_NVRAM_CREATED);
    g_assert_no_error(err);
    text = nvramCheckText(&d, FWSEL_NVRAM_EXISTED);
    g_assert_cmpstr(text, ==, "");
    g_clear_pointer(&text, g_free);

    /* a raw file where qcow2 is declared; the size still fits */
    g_assert_cmpint(unlink(d.final), ==, 0);
    nvramMakeTemplate(d.final, 528 * KiB, 0, 4 * KiB, 16, false);
    g_assert_cmpint(chmod(d.final, 0600), ==, 0);
    text = nvramCheckText(&d, FWSEL_NVRAM_EXISTED);
    g_assert_cmpstr(text, ==, "/var/lib/libvirt/qemu/nvram/guest_VARS.qcow2: is a raw "
                              "image, but the domain declares format='qcow2'");
    nvramDomainClear(&d);
}


/*
 * Temporary files a killed reset left: 'nvram check' (not the check
 * select makes), remove and create of the domain delete those of its own
 * varstore that no process holds, and
 * nothing else (another domain's, a name that only looks alike, a
 * symbolic link, a backup, one a running operation has locked).
 */
static void
testStaleTemporary(nvramFixture *fx, gconstpointer data G_GNUC_UNUSED)
{
    nvramDomainFx d;
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *dir = NULL;
    g_autofree char *locked = NULL;
    g_autofree char *listing = NULL;
    g_autofree char *target = nvramPath(fx, "target");
    fwselNvramOwner owner = { false, 0, 0 };
    static const char *const kept[] = {
        ".fwsel-other_VARS.fd.0123456789abcdef.tmp",
        ".fwsel-guest_VARS.fd.0123456789ABCDEF.tmp",
        ".fwsel-guest_VARS.fd.0123.tmp",
        ".fwsel-guest_VARS.fd.0123456789abcdef.tmp.x",
        "guest_VARS.fd.bak-20260101T000000",
    };
    const char *stale = ".fwsel-guest_VARS.fd.0123456789abcdef.tmp";
    int lockFd;
    size_t i;

    nvramDomainInit(&d, fx, FWSEL_FORMAT_RAW);
    dir = g_path_get_dirname(d.final);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    for (i = 0; i < G_N_ELEMENTS(kept); i++) {
        g_autofree char *path = g_build_filename(dir, kept[i], NULL);

        nvramWriteFile(path, "x", 1);
    }
    {
        g_autofree char *path = g_build_filename(dir, stale, NULL);
        g_autofree char *link = g_build_filename(dir, ".fwsel-guest_VARS.fd.1111111111111111.tmp",
                                                 NULL);

        nvramWriteFile(path, "x", 1);
        nvramWriteFile(target, "x", 1);
        g_assert_cmpint(symlink(target, link), ==, 0);
    }
    /* a reset at work: its file is locked */
    locked = g_build_filename(dir, ".fwsel-guest_VARS.fd.fedcba9876543210.tmp", NULL);
    nvramWriteFile(locked, "x", 1);
    lockFd = open(locked, O_RDONLY | O_CLOEXEC);
    g_assert_cmpint(lockFd, >=, 0);
    g_assert_cmpint(flock(lockFd, LOCK_EX), ==, 0);

    /* checking only looks (select does it too) */
    g_assert_cmpint(fwselNvramCheck(d.catalog, d.dom, problems, &err), ==, FWSEL_NVRAM_ABSENT);
    g_assert_no_error(err);
    {
        g_autofree char *path = g_build_filename(dir, stale, NULL);

        g_assert_true(nvramExists(path));
    }
    /* 'nvram check' cleans first */
    fwselNvramCleanStale(d.catalog, d.dom);
    listing = nvramListDir(dir);
    g_assert_cmpstr(listing, ==,
                    ".fwsel-guest_VARS.fd.0123.tmp .fwsel-guest_VARS.fd.0123456789ABCDEF.tmp "
                    ".fwsel-guest_VARS.fd.0123456789abcdef.tmp.x "
                    ".fwsel-guest_VARS.fd.1111111111111111.tmp "
                    ".fwsel-guest_VARS.fd.fedcba9876543210.tmp "
                    ".fwsel-other_VARS.fd.0123456789abcdef.tmp guest_VARS.fd.bak-20260101T000000");

    /* the operation ended: remove (and create) clean up after it */
    close(lockFd);
    g_assert_cmpint(fwselNvramRemove(d.catalog, d.dom, 0, &err), ==, FWSEL_NVRAM_ABSENT);
    g_assert_false(nvramExists(locked));
    nvramWriteFile(locked, "x", 1);
    g_assert_cmpint(fwselNvramCreate(d.catalog, d.dom, &owner, 0, &err), ==,
                    FWSEL_NVRAM_CREATED);
    g_assert_no_error(err);
    g_clear_pointer(&listing, g_free);
    listing = nvramListDir(dir);
    g_assert_cmpstr(listing, ==,
                    ".fwsel-guest_VARS.fd.0123.tmp .fwsel-guest_VARS.fd.0123456789ABCDEF.tmp "
                    ".fwsel-guest_VARS.fd.0123456789abcdef.tmp.x "
                    ".fwsel-guest_VARS.fd.1111111111111111.tmp "
                    ".fwsel-other_VARS.fd.0123456789abcdef.tmp guest_VARS.fd "
                    "guest_VARS.fd.bak-20260101T000000");
    g_assert_true(nvramExists(target));
    nvramDomainClear(&d);
}


static void
testDomainRemove(nvramFixture *fx, gconstpointer data G_GNUC_UNUSED)
{
    nvramDomainFx d;
    g_autoptr(GError) err = NULL;
    g_autofree char *other = nvramMkdir(fx, "srv/vars");
    g_autofree char *otherFile = g_build_filename(other, "guest.fd", NULL);
    g_autofree char *victim = nvramPath(fx, "victim");
    fwselNvramOwner owner = { false, 0, 0 };

    nvramDomainInit(&d, fx, FWSEL_FORMAT_RAW);

    g_assert_cmpint(fwselNvramRemove(d.catalog, d.dom, 0, &err), ==, FWSEL_NVRAM_ABSENT);
    g_assert_cmpint(fwselNvramCreate(d.catalog, d.dom, &owner, 0, &err), ==,
                    FWSEL_NVRAM_CREATED);
    g_assert_cmpint(fwselNvramRemove(d.catalog, d.dom, 0, &err), ==, FWSEL_NVRAM_REMOVED);
    g_assert_false(nvramExists(d.final));
    g_assert_true(nvramExists(d.tmplDisk));

    /* a symlink at the path: refused, its target kept */
    nvramWriteFile(victim, "x", 1);
    g_assert_cmpint(symlink(victim, d.final), ==, 0);
    g_assert_cmpint(fwselNvramRemove(d.catalog, d.dom, 0, &err), ==, -1);
    g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_UNSAFE);
    g_clear_error(&err);
    g_assert_true(nvramExists(victim));
    g_assert_true(nvramExists(d.final));
    unlink(d.final);

    /* outside the NVRAM directory: only when the domain names the path */
    g_free(d.dom->nvram.path);
    d.dom->nvram.path = g_strdup("/srv/vars/guest.fd");
    nvramWriteFile(otherFile, "x", 1);
    g_assert_cmpint(fwselNvramRemove(d.catalog, d.dom, 0, &err), ==, -1);
    g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_UNSAFE);
    g_assert_nonnull(strstr(err->message, "outside the NVRAM directory"));
    g_clear_error(&err);
    g_assert_true(nvramExists(otherFile));
    g_assert_cmpint(fwselNvramRemove(d.catalog, d.dom, FWSEL_NVRAM_EXPLICIT_PATH, &err), ==,
                    FWSEL_NVRAM_REMOVED);
    g_assert_false(nvramExists(otherFile));

    /* never the template, even when named */
    g_free(d.dom->nvram.path);
    d.dom->nvram.path = g_strdup(d.dom->nvram.templatePath);
    g_assert_cmpint(fwselNvramRemove(d.catalog, d.dom, FWSEL_NVRAM_EXPLICIT_PATH, &err), ==, -1);
    g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_UNSAFE);
    g_clear_error(&err);
    g_assert_true(nvramExists(d.tmplDisk));
    /* nor replaced by a copy of itself (mode 0600, another owner) */
    {
        struct stat before;
        struct stat after;

        g_assert_cmpint(stat(d.tmplDisk, &before), ==, 0);
        g_assert_cmpint(fwselNvramReset(d.catalog, d.dom, &owner, 0, NULL, &err), ==, -1);
        g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_UNSAFE);
        g_assert_nonnull(strstr(err->message, "is its template itself"));
        g_clear_error(&err);
        g_assert_cmpint(stat(d.tmplDisk, &after), ==, 0);
        g_assert_cmpint(before.st_ino, ==, after.st_ino);
        g_assert_cmpint(after.st_mode & 07777, ==, 0644);
    }

    /* a path that climbs out is refused before anything is touched */
    g_free(d.dom->nvram.path);
    d.dom->nvram.path = g_strdup("/var/lib/libvirt/qemu/nvram/../../../../victim");
    g_assert_cmpint(fwselNvramRemove(d.catalog, d.dom, FWSEL_NVRAM_EXPLICIT_PATH, &err), ==, -1);
    g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_UNSAFE);
    g_clear_error(&err);
    g_assert_cmpint(fwselNvramCreate(d.catalog, d.dom, &owner, 0, &err), ==, -1);
    g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_UNSAFE);
    g_clear_error(&err);
    g_assert_true(nvramExists(victim));

    nvramDomainClear(&d);
}


static void
testDomainNames(nvramFixture *fx, gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(fwselCatalog) catalog = nvramCatalog(fx->dir);
    g_autofree char *longName = g_strnfill(241, 'a');
    const char *bad[] = { "../escape", "a/b", "..", ".", "", longName };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(fwselDomain) dom = fwselDomainNew();
        g_autoptr(GError) err = NULL;
        g_autofree char *path = NULL;

        dom->name = g_strdup(bad[i]);
        path = fwselNvramDefaultPath(catalog->settings.nvramDir, dom, FWSEL_LIBVIRT_11_8, &err);
        g_assert_null(path);
        g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_UNSAFE);
    }
}


/* ---- the command ------------------------------------------------------ */

typedef struct {
    int status;
    char *out;
    char *err;
} nvramCmd;


static void
nvramCmdClear(nvramCmd *c)
{
    g_free(c->out);
    g_free(c->err);
}


static void
nvramFwsel(nvramCmd *c, const char *root, const char *const *args)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autoptr(GError) err = NULL;
    int status;

    g_ptr_array_add(argv, (char *) nvramEnv("FWSEL_BIN"));
    g_ptr_array_add(argv, (char *) "--root");
    g_ptr_array_add(argv, (char *) root);
    g_ptr_array_add(argv, (char *) "--no-qemu-probe");
    for (; *args; args++)
        g_ptr_array_add(argv, (char *) *args);
    g_ptr_array_add(argv, NULL);
    g_assert_true(g_spawn_sync(NULL, (char **) argv->pdata, NULL, 0, NULL, NULL,
                               &c->out, &c->err, &status, &err));
    c->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}


static void
testCommand(nvramFixture *fx, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *host = g_build_filename(nvramEnv("FWSEL_TESTS_DATA"), "hosts",
                                             "debian-bookworm", NULL);
    g_autofree char *root = nvramPath(fx, "root");
    g_autofree char *xml = nvramPath(fx, "guest.xml");
    g_autofree char *evil = nvramPath(fx, "evil.xml");
    g_autofree char *final = NULL;
    g_autofree char *tmpl = NULL;
    const char *cp[] = { "cp", "-a", host, root, NULL };
    const char *domain =
        "<domain type='kvm'>\n"
        "  <name>guest</name>\n"
        "  <os firmware='efi'>\n"
        "    <type arch='x86_64' machine='q35'>hvm</type>\n"
        "  </os>\n"
        "  <features><acpi/></features>\n"
        "</domain>\n";
    nvramCmd c;
    int status;

    g_assert_true(g_spawn_sync(NULL, (char **) cp, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                               NULL, NULL, &status, NULL));
    g_assert_true(g_spawn_check_wait_status(status, NULL));
    nvramWriteFile(xml, domain, strlen(domain));
    final = g_build_filename(root, "var/lib/libvirt/qemu/nvram/guest_VARS.fd", NULL);
    tmpl = g_build_filename(root, "usr/share/OVMF/OVMF_VARS_4M.ms.fd", NULL);

    {
        const char *a[] = { "--owner", "0:0", "nvram", "create", xml, NULL };

        nvramFwsel(&c, root, a);
        g_assert_cmpint(c.status, ==, 0);
        g_assert_cmpstr(c.out, ==, "created /var/lib/libvirt/qemu/nvram/guest_VARS.fd from "
                                   "/usr/share/OVMF/OVMF_VARS_4M.ms.fd\n");
        g_assert_true(nvramSameContents(final, tmpl));
        nvramCmdClear(&c);
    }
    {
        const char *a[] = { "--owner", "0:0", "nvram", "create", xml, NULL };

        nvramFwsel(&c, root, a);
        g_assert_cmpint(c.status, ==, 0);
        g_assert_cmpstr(c.out, ==, "/var/lib/libvirt/qemu/nvram/guest_VARS.fd already "
                                   "exists: left alone\n");
        nvramCmdClear(&c);
    }
    {
        const char *a[] = { "--incoming", "nvram", "create", xml, NULL };

        nvramFwsel(&c, root, a);
        g_assert_cmpint(c.status, ==, 1);
        g_assert_nonnull(strstr(c.err, "a migration destination never touches an existing "
                                       "varstore"));
        nvramCmdClear(&c);
    }
    {
        const char *a[] = { "nvram", "check", xml, NULL };

        nvramFwsel(&c, root, a);
        g_assert_cmpint(c.status, ==, 0);
        g_assert_cmpstr(c.out, ==, "/var/lib/libvirt/qemu/nvram/guest_VARS.fd: ok\n");
        nvramCmdClear(&c);
    }

    /* a varstore of the wrong size: check fails, select warns, exits 0 */
    g_assert_cmpint(truncate(final, 8192), ==, 0);
    {
        const char *a[] = { "nvram", "check", xml, NULL };

        nvramFwsel(&c, root, a);
        g_assert_cmpint(c.status, ==, 1);
        g_assert_nonnull(strstr(c.out, "guest_VARS.fd: is 8192 bytes, its template "
                                       "/usr/share/OVMF/OVMF_VARS_4M.ms.fd is 2048"));
        nvramCmdClear(&c);
    }
    {
        const char *a[] = { "select", xml, NULL };

        nvramFwsel(&c, root, a);
        g_assert_cmpint(c.status, ==, 0);
        g_assert_nonnull(strstr(c.err, "virt-fwsel: warning: existing varstore does not "
                                       "fit: /var/lib/libvirt/qemu/nvram/guest_VARS.fd: is "
                                       "8192 bytes"));
        g_assert_nonnull(strstr(c.out, "<nvram template='/usr/share/OVMF/OVMF_VARS_4M.ms.fd'"));
        nvramCmdClear(&c);
    }
    {
        const char *a[] = { "--owner", "0:0", "--backup", "nvram", "reset", xml, NULL };

        nvramFwsel(&c, root, a);
        g_assert_cmpint(c.status, ==, 0);
        g_assert_nonnull(strstr(c.out, "replaced /var/lib/libvirt/qemu/nvram/guest_VARS.fd "
                                       "with a fresh copy of "
                                       "/usr/share/OVMF/OVMF_VARS_4M.ms.fd\n"
                                       "the old varstore is kept as "
                                       "/var/lib/libvirt/qemu/nvram/guest_VARS.fd.bak-"));
        g_assert_true(nvramSameContents(final, tmpl));
        nvramCmdClear(&c);
    }
    {
        const char *a[] = { "nvram", "remove", xml, NULL };

        nvramFwsel(&c, root, a);
        g_assert_cmpint(c.status, ==, 0);
        g_assert_cmpstr(c.out, ==, "removed /var/lib/libvirt/qemu/nvram/guest_VARS.fd\n");
        g_assert_false(nvramExists(final));
        nvramCmdClear(&c);
    }
    {
        const char *a[] = { "nvram", "check", xml, NULL };

        nvramFwsel(&c, root, a);
        g_assert_cmpint(c.status, ==, 1);
        g_assert_nonnull(strstr(c.out, "does not exist"));
        nvramCmdClear(&c);
    }
    {
        const char *a[] = { "--backup", "nvram", "create", xml, NULL };

        nvramFwsel(&c, root, a);
        g_assert_cmpint(c.status, ==, 2);
        g_assert_nonnull(strstr(c.err, "--backup only applies to nvram reset"));
        nvramCmdClear(&c);
    }

    /* a name that would leave the NVRAM directory: nothing written */
    {
        g_autofree char *bad = g_strdup(domain);
        g_autofree char *listing = NULL;
        g_autofree char *nvdir = g_build_filename(root, "var/lib/libvirt/qemu/nvram", NULL);
        const char *a[] = { "--owner", "0:0", "nvram", "create", evil, NULL };
        char *p = strstr(bad, "guest");

        /* same length: "guest" -> "../xx" */
        memcpy(p, "../xx", 5);
        nvramWriteFile(evil, bad, strlen(bad));
        nvramFwsel(&c, root, a);
        g_assert_cmpint(c.status, ==, 2);
        g_assert_nonnull(strstr(c.err, "domain name '../xx' cannot name a file"));
        listing = nvramListDir(nvdir);
        g_assert_true(g_str_has_prefix(listing, "guest_VARS.fd.bak-"));
        g_assert_null(strchr(listing, ' '));
        nvramCmdClear(&c);
    }

    /* a domain without varstore */
    {
        const char *bios = "<domain type='kvm'><name>b</name><os>"
                           "<type arch='x86_64' machine='q35'>hvm</type></os></domain>\n";
        const char *a[] = { "nvram", "create", evil, NULL };

        nvramWriteFile(evil, bios, strlen(bios));
        nvramFwsel(&c, root, a);
        g_assert_cmpint(c.status, ==, 2);
        g_assert_nonnull(strstr(c.err, "domain b has no varstore"));
        nvramCmdClear(&c);
    }
}


int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

#define NVRAM_TEST(path, func) \
    g_test_add("/nvram/" path, nvramFixture, NULL, nvramSetup, func, nvramTeardown)

    NVRAM_TEST("create-basic", testCreateBasic);
    NVRAM_TEST("create-owner", testCreateOwner);
    NVRAM_TEST("unsafe-symlink-final", testSymlinkFinal);
    NVRAM_TEST("unsafe-symlink-dir", testSymlinkDir);
    NVRAM_TEST("template-fifo", testTemplateFifo);
    NVRAM_TEST("template-directory", testTemplateDir);
    g_test_add("/nvram/template-vanish", nvramFixture, &nvramVanish,
               nvramSetup, testTemplateSabotage, nvramTeardown);
    g_test_add("/nvram/template-vanish-reset", nvramFixture, &nvramVanishReset,
               nvramSetup, testTemplateSabotage, nvramTeardown);
    g_test_add("/nvram/template-shrink", nvramFixture, &nvramShrink,
               nvramSetup, testTemplateSabotage, nvramTeardown);
    g_test_add("/nvram/template-shrink-reset", nvramFixture, &nvramShrinkReset,
               nvramSetup, testTemplateSabotage, nvramTeardown);
    NVRAM_TEST("full-disk", testFullDisk);
    NVRAM_TEST("sparse", testSparse);
    NVRAM_TEST("convert", testConvert);
    NVRAM_TEST("reset-backup", testResetBackup);
    NVRAM_TEST("domain-check", testDomainCheck);
    NVRAM_TEST("domain-owner", testDomainOwner);
    NVRAM_TEST("domain-qcow2", testDomainQcow2);
    NVRAM_TEST("domain-remove", testDomainRemove);
    NVRAM_TEST("stale-temporary", testStaleTemporary);
    NVRAM_TEST("domain-names", testDomainNames);
    NVRAM_TEST("command", testCommand);

    /* the slow ones, run as their own meson test */
#define STRESS_TEST(path, func) \
    g_test_add("/stress/" path, nvramFixture, NULL, nvramSetup, func, nvramTeardown)

#define CRASH_TEST(path, spec) \
    g_test_add("/stress/" path, nvramFixture, &spec, nvramSetup, testCrash, nvramTeardown)
#define RACE_TEST(path, spec) \
    g_test_add("/stress/" path, nvramFixture, &spec, nvramSetup, testRace, nvramTeardown)

    RACE_TEST("race-create-create", nvramRaceCreateCreate);
    RACE_TEST("race-create-reset", nvramRaceCreateReset);
    RACE_TEST("race-reset-remove", nvramRaceResetRemove);
    RACE_TEST("race-incoming-twice", nvramRaceIncoming);
    CRASH_TEST("crash-create", nvramCrashCreate);
    CRASH_TEST("crash-create-incoming", nvramCrashIncoming);
    CRASH_TEST("crash-reset", nvramCrashReset);
    CRASH_TEST("crash-reset-backup", nvramCrashResetBackup);
    CRASH_TEST("crash-create-qcow2", nvramCrashCreateQcow2);
    CRASH_TEST("crash-remove", nvramCrashRemove);

    return g_test_run();
}
