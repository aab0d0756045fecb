/*
 * fwsel-catalog.h: everything selection needs to know about a host,
 * gathered once, before any rule runs
 *
 * The catalog is the input builder's product: the descriptor files in
 * precedence order, the host's settings (qemu.conf), and what every file
 * the descriptors and the nvram list name is on the host.  Once loaded it
 * is never changed (machine aliases are looked up on demand, behind a
 * lock), so one catalog can serve many evaluations on many threads.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-search.h"
#include "fwsel-machines.h"
#include "fwsel-contract.h"

G_BEGIN_DECLS

struct _fwselCatalog {
    fwselRoot *root;
    fwselHostSettings settings;

    /* All descriptor files of the host.  For each basename, the effective
     * file (ACTIVE, INVALID or MASK) comes last; SHADOWED files of the
     * same name come before it, lowest precedence first.  Names are in
     * byte order. */
    size_t nentries;
    fwselEntry **entries;

    /* path as written -> fwselPathFact: every file an active descriptor
     * or the nvram list names */
    GHashTable *files;

    fwselMachines *machines;

    fwselContract contract;     /* whose rules evaluation follows */
};

fwselCatalog *fwselCatalogLoad(const fwselHostOptions *opts, GError **error);
void fwselCatalogFree(fwselCatalog *catalog);

const fwselPathFact *fwselCatalogFile(const fwselCatalog *catalog, const char *path);
bool fwselCatalogFileExists(const fwselCatalog *catalog, const char *path);

bool fwselCatalogHasDescriptors(const fwselCatalog *catalog);

const fwselEntry *fwselCatalogFindByCode(const fwselCatalog *catalog,
                                         const char *path,
                                         const fwselPathFact *loader);

G_END_DECLS
