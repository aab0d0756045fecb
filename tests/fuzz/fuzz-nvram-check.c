/*
 * fuzz-nvram-check.c: virt-fwsel nvram check over arbitrary varstore
 * contents (a varstore is written by the guest's firmware, and the guest
 * is not trusted)
 *
 * The input becomes the domain's varstore in a scratch host root (made
 * once, removed at exit), with the 528 KiB raw template Debian ships; the
 * check runs with the domain declaring format='raw', then 'qcow2'.
 *
 * A qcow2 file is inspected with qemu-img; spawning it for every input
 * that starts with the qcow2 magic would make the harness a slow fuzzer
 * of qemu-img, so it is hidden (PATH=/nonexistent: the check reports
 * that qemu-img is needed) unless FWSEL_FUZZ_QEMU_IMG=1.
 *
 * Invariants: the check never fails for a regular file it can read; it
 * returns EXISTED with problems, each naming the varstore.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fuzz-common.h"

#define FUZZ_NVRAM_DIR "/var/lib/libvirt/qemu/nvram"
#define FUZZ_VARSTORE FUZZ_NVRAM_DIR "/guest_VARS.fd"
#define FUZZ_TEMPLATE "/usr/share/OVMF/OVMF_VARS_4M.fd"
#define FUZZ_TEMPLATE_SIZE (528 * 1024)

static char *fuzzRoot;
static char *fuzzFile;          /* the varstore, on disk */
static fwselCatalog *fuzzCatalog;
static fwselDomain *fuzzDom;


static void
fuzzRemoveTree(const char *path)
{
    g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
    const char *name;

    while (dir && (name = g_dir_read_name(dir))) {
        g_autofree char *child = g_build_filename(path, name, NULL);

        if (g_file_test(child, G_FILE_TEST_IS_DIR) && !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
            fuzzRemoveTree(child);
        else
            unlink(child);
    }
    rmdir(path);
}


static void
fuzzCleanup(void)
{
    if (fuzzRoot)
        fuzzRemoveTree(fuzzRoot);
}


static void
fuzzMakeDir(const char *sub)
{
    g_autofree char *path = g_build_filename(fuzzRoot, sub, NULL);

    FUZZ_ASSERT(g_mkdir_with_parents(path, 0755) == 0, "%s: %s", path, g_strerror(errno));
}


int
LLVMFuzzerInitialize(int *argc G_GNUC_UNUSED, char ***argv G_GNUC_UNUSED)
{
    g_autoptr(fwselHostOptions) opts = fwselHostOptionsNew();
    g_autoptr(GError) err = NULL;
    g_autofree char *made = g_dir_make_tmp("fwsel-fuzz-nvram-XXXXXX", &err);
    g_autofree char *tmpl = NULL;
    int fd;

    if (!g_str_equal(g_getenv("FWSEL_FUZZ_QEMU_IMG") ?: "", "1"))
        g_setenv("PATH", "/nonexistent", TRUE);

    FUZZ_ASSERT(made, "%s", err->message);
    fuzzRoot = realpath(made, NULL);    /* the library refuses symlinked components */
    atexit(fuzzCleanup);
    fuzzMakeDir("usr/share/OVMF");
    fuzzMakeDir(FUZZ_NVRAM_DIR);
    tmpl = g_build_filename(fuzzRoot, FUZZ_TEMPLATE, NULL);
    fd = open(tmpl, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    FUZZ_ASSERT(fd >= 0 && ftruncate(fd, FUZZ_TEMPLATE_SIZE) == 0, "%s", g_strerror(errno));
    close(fd);
    fuzzFile = g_build_filename(fuzzRoot, FUZZ_VARSTORE, NULL);

    fwselHostOptionsSetProbe(opts, false);
    FUZZ_ASSERT(fwselHostOptionsSetRoot(opts, fuzzRoot, &err) == 0 &&
                (fuzzCatalog = fwselCatalogLoad(opts, &err)), "%s", err->message);
    /* a QEMU user that exists here, as tests/test-nvram.c does */
    g_free(fuzzCatalog->settings.qemuUser);
    g_free(fuzzCatalog->settings.qemuGroup);
    fuzzCatalog->settings.qemuUser = g_strdup("root");
    fuzzCatalog->settings.qemuGroup = g_strdup("root");

    fuzzDom = fwselDomainNew();
    fuzzDom->name = g_strdup("guest");
    fuzzDom->nvram.present = true;
    fuzzDom->nvram.path = g_strdup(FUZZ_VARSTORE);
    fuzzDom->nvram.templatePath = g_strdup(FUZZ_TEMPLATE);
    fuzzDom->nvram.templateFormat = FWSEL_FORMAT_RAW;
    return 0;
}


static void
fuzzCheck(fwselFormat declared)
{
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    guint i;
    int rc;

    fuzzDom->nvram.format = declared;
    rc = fwselNvramCheck(fuzzCatalog, fuzzDom, problems, &err);
    FUZZ_ASSERT(rc == FWSEL_NVRAM_EXISTED && !err, "rc %d: %s", rc,
                err ? err->message : "(no error)");
    for (i = 0; i < problems->len; i++)
        FUZZ_ASSERT(g_str_has_prefix(g_ptr_array_index(problems, i), FUZZ_VARSTORE ": "),
                    "a problem that does not name the varstore: %s",
                    (const char *) g_ptr_array_index(problems, i));
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = open(fuzzFile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    size_t done = 0;

    FUZZ_ASSERT(fd >= 0, "%s: %s", fuzzFile, g_strerror(errno));
    while (done < size) {
        ssize_t n = write(fd, data + done, size - done);

        FUZZ_ASSERT(n > 0, "%s: %s", fuzzFile, g_strerror(errno));
        done += n;
    }
    close(fd);

    fuzzCheck(FWSEL_FORMAT_RAW);
    fuzzCheck(FWSEL_FORMAT_QCOW2);
    return 0;
}
