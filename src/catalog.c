/*
 * catalog.c: gather a host's facts (the input builder)
 *
 * Everything is read here, through the host's root-confined resolver:
 * qemu.conf, the descriptor folders and what every file the descriptors
 * and the nvram list name is.  Evaluation afterwards reads only the
 * catalog.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <string.h>

#include <libxml/parser.h>

#include "fwsel-catalog.h"
#include "fwsel-util.h"


void
fwselCatalogFree(fwselCatalog *catalog)
{
    size_t i;

    if (!catalog)
        return;
    for (i = 0; i < catalog->nentries; i++)
        fwselEntryFree(catalog->entries[i]);
    g_free(catalog->entries);
    if (catalog->files)
        g_hash_table_unref(catalog->files);
    fwselMachinesFree(catalog->machines);
    fwselContractClear(&catalog->contract);
    fwselHostSettingsClear(&catalog->settings);
    fwselRootFree(catalog->root);
    g_free(catalog);
}


/* qemu.conf under the root; a missing file leaves libvirt's defaults */
static int
fwselCatalogLoadQemuConf(fwselCatalog *catalog, GError **error)
{
    const char *file = catalog->settings.qemuConfPath;
    g_autofree char *text = NULL;
    fwselPathFact fact;
    bool missing;

    fwselRootResolve(catalog->root, file, &fact);
    missing = fact.kind == FWSEL_PATH_MISSING;
    fwselPathFactClear(&fact);
    if (missing)
        return 0;

    if (fwselRootReadFile(catalog->root, file, FWSEL_MAX_INPUT_SIZE, &text, NULL, error) < 0)
        return -1;
    return fwselQemuConfParse(&catalog->settings, file, text, error);
}


static void
fwselPathFactFree(fwselPathFact *fact)
{
    fwselPathFactClear(fact);
    g_free(fact);
}


static void
fwselCatalogAddFile(fwselCatalog *catalog, fwselResolveCache *cache, const char *path)
{
    fwselPathFact *fact;

    if (!path || g_hash_table_contains(catalog->files, path))
        return;
    fact = g_new0(fwselPathFact, 1);
    fwselResolveCached(cache, path, fact);
    g_hash_table_insert(catalog->files, g_strdup(path), fact);
}


/* What each file named by a descriptor or the nvram list is */
static void
fwselCatalogLoadFiles(fwselCatalog *catalog)
{
    g_autoptr(fwselResolveCache) cache = fwselResolveCacheNew(catalog->root);
    size_t i;

    catalog->files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) fwselPathFactFree);
    for (i = 0; i < catalog->nentries; i++) {
        const fwselDescriptor *desc = catalog->entries[i]->desc;

        if (!desc)
            continue;
        fwselCatalogAddFile(catalog, cache, fwselDescriptorCodeFile(desc));
        fwselCatalogAddFile(catalog, cache, fwselDescriptorTemplateFile(desc));
    }
    for (i = 0; i < catalog->settings.nnvramPairs; i++) {
        fwselCatalogAddFile(catalog, cache, catalog->settings.nvramPairs[i].loader);
        fwselCatalogAddFile(catalog, cache, catalog->settings.nvramPairs[i].nvram);
    }
}


/**
 * fwselCatalogLoad:
 *
 * Reads the host @opts describe.  Fails only for what makes the host
 * unreadable as a whole: --root not a directory, a qemu.conf that cannot
 * be parsed (libvirt would not start either), a descriptor directory that
 * exists but cannot be listed.  A bad descriptor is an INVALID entry.
 */
fwselCatalog *
fwselCatalogLoad(const fwselHostOptions *opts, GError **error)
{
    g_autoptr(fwselCatalog) catalog = NULL;
    g_autoptr(GPtrArray) entries = NULL;

    if (!opts) {
        g_set_error_literal(error, FWSEL_ERROR, FWSEL_ERROR_INVALID, "no host options");
        return NULL;
    }
    /* libxml2 must be set up before threads parse requests against the
     * catalog (they may, at the same time) */
    xmlInitParser();

    catalog = g_new0(fwselCatalog, 1);
    if (!(catalog->root = fwselRootOpen(opts->root, error)))
        return NULL;
    fwselHostSettingsInit(&catalog->settings, opts);
    if (fwselCatalogLoadQemuConf(catalog, error) < 0)
        return NULL;

    if (opts->libvirt) {
        if (fwselContractFromVersion(&catalog->contract, opts->libvirt, error) < 0)
            return NULL;
    } else {
        fwselContractDetect(&catalog->contract, catalog->root);
    }
    catalog->contract.policy = opts->policy;

    if (!(entries = fwselSearchLoad(catalog->root, catalog->settings.firmwareDirs,
                                    G_N_ELEMENTS(catalog->settings.firmwareDirs), error)))
        return NULL;
    g_ptr_array_set_free_func(entries, NULL);
    catalog->nentries = entries->len;
    catalog->entries = (fwselEntry **) g_ptr_array_free(g_steal_pointer(&entries), FALSE);

    fwselCatalogLoadFiles(catalog);
    catalog->machines = fwselMachinesNew(catalog->root, opts->aliases, opts->probeQemu);
    return g_steal_pointer(&catalog);
}


/**
 * fwselCatalogFile:
 *
 * What @path, named by a descriptor or the nvram list, is on the host.
 * A path the catalog did not gather is reported MISSING.
 */
const fwselPathFact *
fwselCatalogFile(const fwselCatalog *catalog, const char *path)
{
    static const fwselPathFact unknown = { .kind = FWSEL_PATH_MISSING, .error = ENOENT };
    const fwselPathFact *fact = path ? g_hash_table_lookup(catalog->files, path) : NULL;

    return fact ? fact : &unknown;
}


bool
fwselCatalogFileExists(const fwselCatalog *catalog, const char *path)
{
    return fwselCatalogFile(catalog, path)->kind == FWSEL_PATH_REGULAR;
}


/* Any descriptor file (parsed or not, but not an empty mask)? */
bool
fwselCatalogHasDescriptors(const fwselCatalog *catalog)
{
    size_t i;

    for (i = 0; i < catalog->nentries; i++) {
        fwselEntryState state = catalog->entries[i]->state;

        if (state == FWSEL_ENTRY_ACTIVE || state == FWSEL_ENTRY_INVALID)
            return true;
    }
    return false;
}


/**
 * fwselCatalogFindByCode:
 * @loader: what a loader (code) path is on the host
 *
 * The first active descriptor whose code file is that path: one naming it
 * exactly is preferred over one reaching the same file through symbolic
 * links.  NULL when no descriptor describes it.
 */
const fwselEntry *
fwselCatalogFindByCode(const fwselCatalog *catalog,
                       const char *path,
                       const fwselPathFact *loader)
{
    const fwselEntry *viaLink = NULL;
    size_t i;

    for (i = 0; path && i < catalog->nentries; i++) {
        const fwselEntry *e = catalog->entries[i];
        const char *code;

        if (e->state != FWSEL_ENTRY_ACTIVE)
            continue;
        code = fwselDescriptorCodeFile(e->desc);
        if (g_str_equal(code, path))
            return e;
        if (!viaLink && fwselPathFactSameFile(fwselCatalogFile(catalog, code), loader))
            viaLink = e;
    }
    return viaLink;
}
