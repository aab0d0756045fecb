/*
 * fuzz-descriptor.c: the QEMU firmware descriptor reader (JSON files
 * anyone with write access to a descriptor folder drops in)
 *
 * Invariants: a descriptor or an error, never both or neither; a parsed
 * descriptor answers every query the rules ask.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "fuzz-common.h"


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const targets[][2] = {
        { "x86_64", "pc-q35-7.2" }, { "x86_64", "pc-i440fx-7.2" },
        { "aarch64", "virt-7.2" }, { "i686", "pc-q35-7.2" }, { "armv7l", "virt" },
    };
    g_autofree char *json = fuzzTerminated(data, size);
    g_autoptr(fwselDescriptor) desc = NULL;
    g_autoptr(GError) err = NULL;
    size_t i;

    desc = fwselDescriptorParse("/usr/share/qemu/firmware/50-fuzz.json", json, size, &err);
    FUZZ_ASSERT_ERROR_MATCHES(desc == NULL, err);
    if (!desc) {
        FUZZ_ASSERT(err->message && *err->message, "empty error message");
        return 0;
    }

    FUZZ_ASSERT(desc->path && desc->name, "a descriptor without a path or name");
    (void) fwselDescriptorCodeFile(desc);
    (void) fwselDescriptorTemplateFile(desc);
    (void) fwselDescriptorIsSplit(desc);
    (void) fwselDescriptorRelativePath(desc);
    for (i = 0; i < FWSEL_FEATURE_LAST; i++)
        (void) fwselDescriptorHasFeature(desc, i);
    for (i = 0; i < FWSEL_INTERFACE_LAST; i++)
        (void) fwselDescriptorHasInterface(desc, i);
    for (i = 0; i < G_N_ELEMENTS(targets); i++)
        (void) fwselDescriptorSupportsTarget(desc, targets[i][0], targets[i][1]);
    for (i = 0; i < desc->ntargets; i++)
        FUZZ_ASSERT(desc->targets[i].architecture && desc->targets[i].machines,
                    "target %zu without an architecture or machine list", i);
    return 0;
}
