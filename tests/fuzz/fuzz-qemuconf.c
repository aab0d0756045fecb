/*
 * fuzz-qemuconf.c: the reader of libvirt's qemu.conf (user, group, the
 * nvram list of CODE:VARS pairs)
 *
 * Invariants: success or an error, never both or neither; whatever was
 * read leaves settings that can be used and cleared.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "fuzz-common.h"

static fwselHostOptions *fuzzOpts;


int
LLVMFuzzerInitialize(int *argc G_GNUC_UNUSED, char ***argv G_GNUC_UNUSED)
{
    fuzzOpts = fwselHostOptionsNew();
    return 0;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = fuzzTerminated(data, size);
    g_autoptr(GError) err = NULL;
    fwselHostSettings settings;
    size_t i;
    int rc;

    fwselHostSettingsInit(&settings, fuzzOpts);
    rc = fwselQemuConfParse(&settings, "/etc/libvirt/qemu.conf", text, &err);
    FUZZ_ASSERT_ERROR_MATCHES(rc < 0, err);
    if (err)
        FUZZ_ASSERT(g_str_has_prefix(err->message, "/etc/libvirt/qemu.conf:"),
                    "the error does not name the file and line: %s", err->message);

    for (i = 0; i < settings.nnvramPairs; i++)
        FUZZ_ASSERT(settings.nvramPairs[i].loader && settings.nvramPairs[i].nvram,
                    "nvram pair %zu incomplete", i);
    FUZZ_ASSERT(settings.qemuUser && settings.qemuGroup, "no QEMU user or group");
    fwselHostSettingsClear(&settings);
    return 0;
}
