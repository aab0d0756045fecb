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

#include <dirent.h>
#include <errno.h>
#include <string.h>

#include <unistd.h>

#include "fwsel-search.h"
#include "fwsel-util.h"

FWSEL_ENUM_IMPL(fwselEntryState, FWSEL_ENTRY_LAST,
                "active", "invalid", "shadowed", "mask", "ignored");


void
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


bool
fwselEntryIsEffective(const fwselEntry *entry)
{
    return entry->state != FWSEL_ENTRY_SHADOWED &&
           entry->state != FWSEL_ENTRY_IGNORED;
}


/* What @entry's file is once symlinks are followed (inside the root):
 * anything but a regular file is IGNORED (with the reason), an empty one
 * is a MASK; a file with content keeps the initial state until it is
 * parsed. */
static void
fwselSearchClassify(fwselEntry *entry, fwselResolveCache *cache)
{
    fwselPathFact fact;

    fwselResolveCached(cache, entry->path, &fact);
    switch (fact.kind) {
    case FWSEL_PATH_MISSING:
        entry->state = FWSEL_ENTRY_IGNORED;
        entry->unreadable = fact.error ? fact.error : ENOENT;
        entry->error = g_strdup_printf("cannot be read: %s", g_strerror(fact.error));
        break;
    case FWSEL_PATH_DIRECTORY:
    case FWSEL_PATH_OTHER:
    case FWSEL_PATH_LAST:
        entry->state = FWSEL_ENTRY_IGNORED;
        entry->error = g_strdup("not a regular file (a link to /dev/null, a device or a "
                                "directory): it masks nothing; an empty file masks");
        break;
    case FWSEL_PATH_REGULAR:
        if (fact.size == 0)
            entry->state = FWSEL_ENTRY_MASK;
        break;
    }
    fwselPathFactClear(&fact);
}


static int
fwselSearchCompare(gconstpointer a, gconstpointer b)
{
    const fwselEntry *ea = *(const fwselEntry * const *) a;
    const fwselEntry *eb = *(const fwselEntry * const *) b;

    return strcmp(ea->name, eb->name);
}


/* Adds an entry for every file of one directory to @all */
static int
fwselSearchDir(const fwselRoot *root,
               fwselResolveCache *cache,
               const char *dir,
               GPtrArray *all,
               GError **error)
{
    DIR *d;
    struct dirent *ent;
    int fd;

    if ((fd = fwselRootOpenDir(root, dir, NULL, error)) == -2)
        return 0;
    if (fd < 0)
        return -1;
    if (!(d = fdopendir(fd))) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO,
                    "%s: cannot read directory: %s", dir, g_strerror(errno));
        close(fd);
        return -1;
    }

    while ((errno = 0, ent = readdir(d))) {
        const char *name = ent->d_name;
        fwselEntry *entry;

        /* like libvirt: every name but hidden ones, whatever its suffix */
        if (name[0] == '.')
            continue;

        entry = g_new0(fwselEntry, 1);
        entry->name = g_strdup(name);
        entry->path = fwselPathJoin(dir, name);
        /* a plain file needs no look now: reading it tells whether it is
         * empty (a mask); links and the rest are followed inside the root */
        if (ent->d_type != DT_REG)
            fwselSearchClassify(entry, cache);
        g_ptr_array_add(all, entry);
    }
    closedir(d);
    return 0;
}


/* Reads and parses one effective descriptor file */
static void
fwselSearchParse(fwselResolveCache *cache, fwselDescriptorParser *parser, fwselEntry *entry)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    gsize length;

    if (fwselResolveCacheReadFile(cache, entry->path, FWSEL_MAX_INPUT_SIZE,
                                  &text, &length, &err) < 0) {
        /* "PATH: what" becomes "PATH: (file): what" like a parse error */
        const char *msg = err->message;

        if (g_str_has_prefix(msg, entry->path) && g_str_has_prefix(msg + strlen(entry->path), ": "))
            msg += strlen(entry->path) + 2;
        entry->state = FWSEL_ENTRY_INVALID;
        entry->error = g_strdup_printf("%s: (file): %s", entry->path, msg);
        return;
    }

    if (length == 0) {
        entry->state = FWSEL_ENTRY_MASK;
        return;
    }
    if ((entry->desc = fwselDescriptorParseWith(parser, entry->path, text, length, &err))) {
        entry->state = FWSEL_ENTRY_ACTIVE;
    } else {
        entry->state = FWSEL_ENTRY_INVALID;
        entry->error = g_strdup(err->message);
    }
}


/* Parsing is spread over threads from this many files on */
#define FWSEL_SEARCH_PARALLEL_MIN 64
#define FWSEL_SEARCH_THREADS_MAX 4

typedef struct {
    const fwselRoot *root;
    GPtrArray *todo;            /* fwselEntry *, not owned */
    gint next;                  /* atomic: index of the next entry to take */
} fwselSearchWork;


/* Takes entries until none is left; each thread has its own resolver
 * cache and parser, and each entry is written by the one thread that took it */
static gpointer
fwselSearchWorker(gpointer data)
{
    fwselSearchWork *work = data;
    g_autoptr(fwselResolveCache) cache = fwselResolveCacheNew(work->root);
    g_autoptr(fwselDescriptorParser) parser = fwselDescriptorParserNew();
    gint i;

    while ((i = g_atomic_int_add(&work->next, 1)) < (gint) work->todo->len)
        fwselSearchParse(cache, parser, g_ptr_array_index(work->todo, i));
    return NULL;
}


/* Reads and parses every entry of @todo.  With many files (a host with
 * hundreds of drop-ins), reading and JSON parsing dominate the start-up
 * of every command, and they are independent of each other: they run
 * on up to one thread per CPU.  The result does not depend on how the
 * work was split. */
static void
fwselSearchParseAll(const fwselRoot *root, fwselResolveCache *cache, GPtrArray *todo)
{
    g_autoptr(fwselDescriptorParser) parser = fwselDescriptorParserNew();
    fwselSearchWork work = { root, todo, 0 };
    GThread *threads[FWSEL_SEARCH_THREADS_MAX - 1];
    guint nthreads = 0;
    guint i;

    if (todo->len >= FWSEL_SEARCH_PARALLEL_MIN) {
        guint cpus = g_get_num_processors();

        /* the error domain's quark is registered here, before the threads
         * that may report errors in it: they then only look it up */
        (void) FWSEL_ERROR;
        guint want = MIN(cpus, FWSEL_SEARCH_THREADS_MAX) - 1;

        for (nthreads = 0; nthreads < want; nthreads++) {
            /* a thread that cannot be started leaves its share to the others */
            if (!(threads[nthreads] = g_thread_try_new("fwsel-search", fwselSearchWorker,
                                                       &work, NULL)))
                break;
        }
    }

    /* this thread works too, with the caller's cache */
    while ((i = (guint) g_atomic_int_add(&work.next, 1)) < todo->len)
        fwselSearchParse(cache, parser, g_ptr_array_index(todo, i));
    for (i = 0; i < nthreads; i++)
        g_thread_join(threads[i]);
}


/**
 * fwselSearchLoad:
 * @dirs: descriptor directories in increasing precedence; NULL ones are
 *        skipped
 *
 * Every descriptor file of the host as a fwselEntry, in the order
 * described in fwselCatalog: a file that cannot be parsed becomes an
 * INVALID entry carrying its error, it never makes the whole load fail.
 * Only a directory that exists but cannot be read is an error.
 */
GPtrArray *
fwselSearchLoad(const fwselRoot *root,
                char *const *dirs,
                size_t ndirs,
                GError **error)
{
    g_autoptr(GPtrArray) all = g_ptr_array_new_with_free_func((GDestroyNotify) fwselEntryFree);
    g_autoptr(GPtrArray) todo = g_ptr_array_new();
    g_autoptr(fwselResolveCache) cache = fwselResolveCacheNew(root);
    size_t d;
    size_t i;

    for (d = 0; d < ndirs; d++) {
        if (dirs[d] && fwselSearchDir(root, cache, dirs[d], all, error) < 0)
            return NULL;
    }

    /* stable sort: same names stay in directory (precedence) order */
    g_ptr_array_sort(all, fwselSearchCompare);

    for (i = 0; i < all->len; i++) {
        fwselEntry *entry = g_ptr_array_index(all, i);
        fwselEntry *winner = NULL;
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

        if (entry->state != FWSEL_ENTRY_MASK)
            g_ptr_array_add(todo, entry);
    }
    fwselSearchParseAll(root, cache, todo);
    return g_steal_pointer(&all);
}
