/*
 * search.c: find descriptor files and apply precedence and masking
 *
 * Directories are read in increasing precedence (/usr/share, /etc, then
 * the user's config dir for session daemons).  A file replaces any file
 * of the same basename from an earlier directory; an empty file replaces
 * it with nothing.  Only names ending in ".json" count, dotfiles are
 * ignored, and so is anything that is not a regular file once symlinks
 * are followed: like libvirt, a link to /dev/null masks nothing.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "fwsel-search.h"
#include "fwsel-util.h"

FWSEL_ENUM_IMPL(fwselEntryState, FWSEL_ENTRY_LAST,
                "active", "invalid", "shadowed", "mask", "ignored");


static void
fwselEntryFree(fwselEntry *entry)
{
    if (!entry)
        return;
    g_free(entry->name);
    g_free(entry->path);
    g_free(entry->winner);
    fwselDescriptorFree(entry->desc);
    g_free(entry->error);
    g_free(entry);
}


void
fwselCatalogFree(fwselCatalog *catalog)
{
    size_t i;

    if (!catalog)
        return;
    for (i = 0; i < catalog->nentries; i++)
        fwselEntryFree(catalog->entries[i]);
    g_free(catalog->entries);
    g_free(catalog);
}


bool
fwselEntryIsEffective(const fwselEntry *entry)
{
    return entry->state != FWSEL_ENTRY_SHADOWED &&
           entry->state != FWSEL_ENTRY_IGNORED;
}


/* What @entry's file is once symlinks are followed: anything but a
 * regular file is IGNORED (with the reason), an empty one is a MASK; a
 * file with content keeps the initial state until it is parsed. */
static void
fwselSearchClassify(fwselEntry *entry, const char *onDisk)
{
    struct stat sb;

    if (stat(onDisk, &sb) < 0) {
        entry->state = FWSEL_ENTRY_IGNORED;
        entry->error = g_strdup_printf("cannot be read: %s", g_strerror(errno));
    } else if (!S_ISREG(sb.st_mode)) {
        entry->state = FWSEL_ENTRY_IGNORED;
        entry->error = g_strdup("not a regular file (a link to /dev/null, a device or a "
                                "directory): it masks nothing; an empty file masks");
    } else if (sb.st_size == 0) {
        entry->state = FWSEL_ENTRY_MASK;
    }
}


static int
fwselSearchCompare(gconstpointer a, gconstpointer b)
{
    const fwselEntry *ea = *(const fwselEntry * const *) a;
    const fwselEntry *eb = *(const fwselEntry * const *) b;

    return strcmp(ea->name, eb->name);
}


/* Adds an entry for every .json file of one directory to @all */
static int
fwselSearchDir(const fwselHost *host,
               const char *dir,
               GPtrArray *all,
               GError **error)
{
    g_autofree char *onDisk = fwselHostPath(host, dir);
    g_autoptr(GError) err = NULL;
    g_autoptr(GDir) d = NULL;
    const char *name;

    if (!(d = g_dir_open(onDisk, 0, &err))) {
        if (g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT) ||
            g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOTDIR))
            return 0;
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO,
                    "%s: cannot read directory: %s", dir, err->message);
        return -1;
    }

    while ((name = g_dir_read_name(d))) {
        g_autofree char *file = NULL;
        fwselEntry *entry;

        if (name[0] == '.' || !g_str_has_suffix(name, ".json"))
            continue;

        entry = g_new0(fwselEntry, 1);
        entry->name = g_strdup(name);
        entry->path = g_build_filename(dir, name, NULL);
        file = fwselHostPath(host, entry->path);
        fwselSearchClassify(entry, file);
        g_ptr_array_add(all, entry);
    }
    return 0;
}


/**
 * fwselCatalogLoad:
 *
 * Reads every descriptor directory of @host and parses the effective
 * files.  A file that cannot be parsed becomes an INVALID entry carrying
 * its error; it never makes the whole catalog fail.  Only a directory
 * that exists but cannot be read is an error.
 */
fwselCatalog *
fwselCatalogLoad(const fwselHost *host, GError **error)
{
    g_autoptr(fwselCatalog) catalog = g_new0(fwselCatalog, 1);
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    size_t d;
    size_t i;

    for (d = 0; d < G_N_ELEMENTS(host->firmwareDirs); d++) {
        if (!host->firmwareDirs[d])
            continue;
        if (fwselSearchDir(host, host->firmwareDirs[d], all, error) < 0) {
            g_ptr_array_set_free_func(all, (GDestroyNotify) fwselEntryFree);
            return NULL;
        }
    }

    /* stable sort: same names stay in directory (precedence) order */
    g_ptr_array_sort(all, fwselSearchCompare);

    for (i = 0; i < all->len; i++) {
        fwselEntry *entry = g_ptr_array_index(all, i);
        fwselEntry *winner = NULL;
        g_autoptr(GError) err = NULL;
        size_t j;

        if (entry->state == FWSEL_ENTRY_IGNORED)
            continue;

        /* the last usable file of a name wins over the earlier ones */
        for (j = i + 1; j < all->len; j++) {
            fwselEntry *other = g_ptr_array_index(all, j);

            if (!g_str_equal(other->name, entry->name))
                break;
            if (other->state != FWSEL_ENTRY_IGNORED)
                winner = other;
        }
        if (winner) {
            entry->state = FWSEL_ENTRY_SHADOWED;
            entry->winner = g_strdup(winner->path);
            continue;
        }

        if (entry->state == FWSEL_ENTRY_MASK)
            continue;
        if ((entry->desc = fwselDescriptorLoad(host->root, entry->path, &err))) {
            entry->state = FWSEL_ENTRY_ACTIVE;
        } else {
            entry->state = FWSEL_ENTRY_INVALID;
            entry->error = g_strdup(err->message);
        }
    }

    catalog->nentries = all->len;
    catalog->entries = (fwselEntry **) g_ptr_array_free(g_steal_pointer(&all), FALSE);
    return g_steal_pointer(&catalog);
}


/**
 * fwselCatalogFindByCode:
 * @root: the host root the paths live under
 * @path: a loader (code) path as the host sees it
 *
 * The first active descriptor whose code file is @path: one naming it
 * exactly is preferred over one reaching the same file through symbolic
 * links.  NULL when no descriptor describes @path.
 */
const fwselDescriptor *
fwselCatalogFindByCode(const fwselCatalog *catalog,
                       const char *root,
                       const char *path)
{
    const fwselDescriptor *viaLink = NULL;
    size_t i;

    for (i = 0; path && i < catalog->nentries; i++) {
        const fwselEntry *e = catalog->entries[i];
        const char *code;

        if (e->state != FWSEL_ENTRY_ACTIVE)
            continue;
        code = fwselDescriptorCodeFile(e->desc);
        if (g_str_equal(code, path))
            return e->desc;
        if (!viaLink && fwselPathSameFile(root, code, path))
            viaLink = e->desc;
    }
    return viaLink;
}
