/*
 * fuzz-common.h: what the libFuzzer harnesses share
 *
 * Each harness is one LLVMFuzzerTestOneInput over one reader of input
 * that other people write.  A harness aborts (a crash libFuzzer records)
 * when an invariant of the reader does not hold, not only when a
 * sanitizer fires.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "fwsel.h"
#include "fwsel-xmlpatch.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond, ...) \
    do { \
        if (!(cond)) { \
            fprintf(stderr, "fuzz invariant failed at %s:%d: %s: ", \
                    __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__); \
            fputc('\n', stderr); \
            abort(); \
        } \
    } while (0)

/* A function's contract: NULL (or < 0) exactly when @err is set */
#define FUZZ_ASSERT_ERROR_MATCHES(failed, err) \
    FUZZ_ASSERT((failed) == ((err) != NULL), "failed=%d, error=%s", \
                (int) (failed), (err) ? (err)->message : "(none)")


/* The input as a C string: the readers of text files get it NUL-terminated */
static inline char *
fuzzTerminated(const uint8_t *data, size_t size)
{
    char *text = g_malloc(size + 1);

    memcpy(text, data, size);
    text[size] = '\0';
    return text;
}


/* tests-data: $FWSEL_TESTS_DATA, else the source tree's */
static inline const char *
fuzzTestsData(void)
{
    const char *dir = g_getenv("FWSEL_TESTS_DATA");

    return dir && *dir ? dir : FWSEL_FUZZ_TESTS_DATA;
}


/* The catalog of a host tree under tests-data/hosts, as @libvirt (NULL:
 * the newest modelled) answers, without ever running QEMU */
static inline fwselCatalog *
fuzzCatalogLoad(const char *host, const char *libvirt)
{
    g_autoptr(fwselHostOptions) opts = fwselHostOptionsNew();
    g_autoptr(GError) err = NULL;
    g_autofree char *root = g_build_filename(fuzzTestsData(), "hosts", host, NULL);
    fwselCatalog *catalog;

    fwselHostOptionsSetProbe(opts, false);
    if (fwselHostOptionsSetRoot(opts, root, &err) < 0 ||
        (libvirt && fwselHostOptionsSetLibvirt(opts, libvirt, &err) < 0) ||
        !(catalog = fwselCatalogLoad(opts, &err))) {
        fprintf(stderr, "fuzz: cannot load the catalog of %s: %s\n", root, err->message);
        abort();
    }
    return catalog;
}


