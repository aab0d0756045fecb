/*
 * resolver.c: root-confined path resolution and file access
 *
 * One walk serves every reader: each component is opened with O_PATH and
 * O_NOFOLLOW relative to the directory before it; a symbolic link is read
 * and its target pushed back onto the queue of components (an absolute
 * target starts again at the root, ".." stops at the root).  Files are
 * finally opened relative to their resolved parent directory, so a
 * component swapped for a link behind our back is seen as a link, never
 * followed blindly.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fwsel-resolver.h"
#include "fwsel-util.h"

FWSEL_ENUM_IMPL(fwselPathKind, FWSEL_PATH_LAST,
                "missing", "regular file", "directory", "special file");

/* as the kernel's limit on links followed in one lookup */
#define FWSEL_MAX_SYMLINKS 40

struct _fwselRoot {
    char *path;         /* "/" or the directory standing in for it */
    int fd;             /* O_PATH directory */
};


void
fwselCloseFD(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;

        close(*fd);
        errno = saved;
        *fd = -1;
    }
}


/* Hands an FWSEL_AUTOCLOSE descriptor to the caller */
int
fwselStealFD(int *fd)
{
    int ret = *fd;

    *fd = -1;
    return ret;
}


void
fwselPathFactClear(fwselPathFact *fact)
{
    g_clear_pointer(&fact->canonical, g_free);
    *fact = (fwselPathFact) { 0 };
}


void
fwselPathFactCopy(fwselPathFact *to, const fwselPathFact *from)
{
    *to = *from;
    to->canonical = g_strdup(from->canonical);
}


/* Both name the same file once links are followed (paths that lead
 * nowhere compare as their canonical spelling) */
bool
fwselPathFactSameFile(const fwselPathFact *a, const fwselPathFact *b)
{
    return a->canonical && b->canonical && g_str_equal(a->canonical, b->canonical);
}


/**
 * fwselRootOpen:
 * @dir: the directory standing in for "/", or NULL, "" or "/" for the
 *       real host
 */
fwselRoot *
fwselRootOpen(const char *dir, GError **error)
{
    g_autoptr(fwselRoot) root = g_new0(fwselRoot, 1);

    if (!dir || !*dir)
        dir = "/";
    root->path = g_strdup(dir);
    if ((root->fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "--root: '%s' is not a directory", dir);
        return NULL;
    }
    return g_steal_pointer(&root);
}


void
fwselRootFree(fwselRoot *root)
{
    if (!root)
        return;
    fwselCloseFD(&root->fd);
    g_free(root->path);
    g_free(root);
}


const char *
fwselRootPath(const fwselRoot *root)
{
    return root->path;
}


/* True when the root is the real host's "/" */
bool
fwselRootIsHost(const fwselRoot *root)
{
    struct stat a;
    struct stat b;

    if (g_str_equal(root->path, "/"))
        return true;
    return fstat(root->fd, &a) == 0 && stat("/", &b) == 0 &&
           a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}


/* ---- the walk ------------------------------------------------------------ */

typedef struct {
    int rootfd;             /* not owned */
    GPtrArray *names;       /* char *: components resolved so far */
    GArray *fds;            /* int: the O_PATH fd of each name, -1 once missing */
    bool missing;
    int error;
    bool viaLink;
    unsigned int links;
} fwselWalk;


static void
fwselWalkInit(fwselWalk *w, int rootfd)
{
    *w = (fwselWalk) { 0 };
    w->rootfd = rootfd;
    w->names = g_ptr_array_new_with_free_func(g_free);
    w->fds = g_array_new(FALSE, FALSE, sizeof(int));
}


static int
fwselWalkTop(const fwselWalk *w)
{
    if (w->fds->len == 0)
        return w->rootfd;
    return g_array_index(w->fds, int, w->fds->len - 1);
}


/* The directory the last name lives in */
static int
fwselWalkParent(const fwselWalk *w)
{
    if (w->fds->len < 2)
        return w->rootfd;
    return g_array_index(w->fds, int, w->fds->len - 2);
}


static void
fwselWalkPop(fwselWalk *w)
{
    int fd;

    if (w->names->len == 0)
        return;
    fd = g_array_index(w->fds, int, w->fds->len - 1);
    fwselCloseFD(&fd);
    g_array_set_size(w->fds, w->fds->len - 1);
    g_ptr_array_set_size(w->names, w->names->len - 1);
}


static void
fwselWalkClear(fwselWalk *w)
{
    while (w->names->len > 0)
        fwselWalkPop(w);
    g_ptr_array_unref(w->names);
    g_array_unref(w->fds);
}


static void
fwselWalkPush(fwselWalk *w, const char *name, int fd)
{
    g_ptr_array_add(w->names, g_strdup(name));
    g_array_append_val(w->fds, fd);
}


/* Puts the components of @path at the head of @queue, in order */
static void
fwselWalkQueue(GQueue *queue, const char *path)
{
    char **parts = g_strsplit(path, "/", -1);
    gssize i;

    /* each component is queued or freed here: the array itself is then
     * only a shell (stolen entries would stop g_strfreev early) */
    for (i = (gssize) g_strv_length(parts) - 1; i >= 0; i--) {
        if (*parts[i] && !g_str_equal(parts[i], "."))
            g_queue_push_head(queue, parts[i]);
        else
            g_free(parts[i]);
    }
    g_free(parts);
}


static void
fwselWalkMissing(fwselWalk *w, const char *name, int error)
{
    if (!w->missing) {
        w->missing = true;
        w->error = error;
    }
    fwselWalkPush(w, name, -1);
}


/* Takes one component: a name, "..", or a link to follow */
static void
fwselWalkStep(fwselWalk *w, GQueue *queue, const char *name)
{
    char target[PATH_MAX + 1];
    struct stat sb;
    ssize_t len;
    int fd;

    if (g_str_equal(name, "..")) {
        fwselWalkPop(w);
        return;
    }
    if (w->missing) {
        fwselWalkPush(w, name, -1);
        return;
    }

    if ((fd = openat(fwselWalkTop(w), name, O_PATH | O_NOFOLLOW | O_CLOEXEC)) < 0) {
        fwselWalkMissing(w, name, errno);
        return;
    }
    if (fstat(fd, &sb) < 0) {
        int saved = errno;

        close(fd);
        fwselWalkMissing(w, name, saved);
        return;
    }
    if (!S_ISLNK(sb.st_mode)) {
        fwselWalkPush(w, name, fd);
        return;
    }

    len = readlinkat(fd, "", target, sizeof(target) - 1);
    close(fd);
    w->viaLink = true;
    if (len < 0 || ++w->links > FWSEL_MAX_SYMLINKS) {
        fwselWalkMissing(w, name, len < 0 ? errno : ELOOP);
        return;
    }
    target[len] = '\0';
    if (target[0] == '/') {
        while (w->names->len > 0)
            fwselWalkPop(w);
    }
    fwselWalkQueue(queue, target);
}


static void
fwselWalkRun(fwselWalk *w, const char *path)
{
    g_autoptr(GQueue) queue = g_queue_new();

    fwselWalkQueue(queue, path);
    while (!g_queue_is_empty(queue)) {
        g_autofree char *name = g_queue_pop_head(queue);

        fwselWalkStep(w, queue, name);
    }
}


static char *
fwselWalkCanonical(const fwselWalk *w)
{
    g_autoptr(GString) out = g_string_new(NULL);
    guint i;

    for (i = 0; i < w->names->len; i++) {
        g_string_append_c(out, '/');
        g_string_append(out, g_ptr_array_index(w->names, i));
    }
    if (out->len == 0)
        g_string_append_c(out, '/');
    return g_string_free(g_steal_pointer(&out), FALSE);
}


static void
fwselPathFactFromStat(fwselPathFact *fact, const struct stat *sb)
{
    if (S_ISREG(sb->st_mode))
        fact->kind = FWSEL_PATH_REGULAR;
    else if (S_ISDIR(sb->st_mode))
        fact->kind = FWSEL_PATH_DIRECTORY;
    else
        fact->kind = FWSEL_PATH_OTHER;
    fact->size = sb->st_size;
    fact->mode = sb->st_mode;
    fact->dev = sb->st_dev;
    fact->ino = sb->st_ino;
}


/* Fills @fact from a finished walk */
static void
fwselWalkFact(const fwselWalk *w, fwselPathFact *fact)
{
    struct stat sb;

    *fact = (fwselPathFact) { 0 };
    fact->canonical = fwselWalkCanonical(w);
    fact->viaLink = w->viaLink;
    if (w->missing) {
        /* A copy of a host tree cannot hold device nodes, yet "a link to
         * /dev/null" is how descriptor folders disable a file: inside a
         * tree that has no /dev/null, that name is still the null device. */
        if (g_str_equal(fact->canonical, "/dev/null") && w->error == ENOENT) {
            fact->kind = FWSEL_PATH_OTHER;
            fact->mode = S_IFCHR | 0666;
            return;
        }
        fact->kind = FWSEL_PATH_MISSING;
        fact->error = w->error;
        return;
    }
    if (fstat(fwselWalkTop(w), &sb) < 0) {
        fact->kind = FWSEL_PATH_MISSING;
        fact->error = errno;
        return;
    }
    fwselPathFactFromStat(fact, &sb);
}


static bool
fwselWalkStart(const fwselRoot *root, const char *path, fwselWalk *w, fwselPathFact *fact)
{
    fwselWalkInit(w, root->fd);
    if (!path || path[0] != '/') {
        *fact = (fwselPathFact) { .kind = FWSEL_PATH_MISSING, .error = EINVAL };
        return false;
    }
    fwselWalkRun(w, path);
    fwselWalkFact(w, fact);
    return true;
}


/**
 * fwselRootResolve:
 * @path: as the host sees it
 *
 * Fills @fact (clear it with fwselPathFactClear) with what @path is.
 * Never fails: a relative path or one that leads nowhere is MISSING,
 * with the reason in fact->error.
 */
void
fwselRootResolve(const fwselRoot *root,
                 const char *path,
                 fwselPathFact *fact)
{
    fwselWalk w;

    fwselWalkStart(root, path, &w, fact);
    fwselWalkClear(&w);
}


/* Opens the walk's final name for real, relative to its parent, and
 * checks that it is still the file the walk found */
static int
fwselWalkOpenFinal(const fwselWalk *w, const fwselPathFact *fact, int flags)
{
    FWSEL_AUTOCLOSE int fd = -1;
    struct stat sb;

    if (w->names->len == 0)
        fd = openat(w->rootfd, ".", flags | O_CLOEXEC);
    else
        fd = openat(fwselWalkParent(w), g_ptr_array_index(w->names, w->names->len - 1),
                    flags | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, &sb) < 0)
        return -1;
    if (sb.st_dev != fact->dev || sb.st_ino != fact->ino) {
        errno = EAGAIN;
        return -1;
    }
    return fwselStealFD(&fd);
}


/**
 * fwselRootOpenFile:
 *
 * Opens the regular file @path names (links followed inside the root)
 * for reading.  A FIFO is refused without blocking.  @fact (may be NULL)
 * receives what the path is.  Errors name @path as the host sees it.
 */
int
fwselRootOpenFile(const fwselRoot *root,
                  const char *path,
                  fwselPathFact *factOut,
                  GError **error)
{
    fwselPathFact fact = { 0 };
    FWSEL_AUTOCLOSE int fd = -1;
    fwselWalk w;
    int ret = -1;

    if (!fwselWalkStart(root, path, &w, &fact)) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "'%s' is not an absolute path", path ? path : "");
        goto cleanup;
    }

    switch (fact.kind) {
    case FWSEL_PATH_MISSING:
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO, "%s: cannot open: %s",
                    path, g_strerror(fact.error));
        goto cleanup;
    case FWSEL_PATH_DIRECTORY:
    case FWSEL_PATH_OTHER:
    case FWSEL_PATH_LAST:
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "%s: not a regular file", path);
        goto cleanup;
    case FWSEL_PATH_REGULAR:
        break;
    }

    if ((fd = fwselWalkOpenFinal(&w, &fact, O_RDONLY | O_NONBLOCK | O_NOCTTY)) < 0 ||
        fcntl(fd, F_SETFL, 0) < 0) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO, "%s: cannot open: %s",
                    path, g_strerror(errno));
        goto cleanup;
    }
    ret = fwselStealFD(&fd);

 cleanup:
    fwselWalkClear(&w);
    if (factOut)
        *factOut = fact;
    else
        fwselPathFactClear(&fact);
    return ret;
}


/**
 * fwselReadFD:
 *
 * Reads the open regular file @fd of @size bytes from its current offset
 * (it may grow while it is read: one byte more tells); NUL terminated.
 */
int
fwselReadFD(int fd,
            const char *path,
            gsize size,
            gsize maxSize,
            char **contents,
            gsize *length,
            GError **error)
{
    g_autofree char *buf = NULL;
    gsize got = 0;

    if (size > maxSize) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "%s: file is %zu bytes, larger than the %zu byte limit",
                    path, (size_t) size, (size_t) maxSize);
        return -1;
    }

    buf = g_malloc(size + 2);
    for (;;) {
        gsize want = size + 1 - got;
        ssize_t n = read(fd, buf + got, want);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO, "%s: cannot read: %s",
                        path, g_strerror(errno));
            return -1;
        }
        if (n == 0)
            break;
        got += n;
        /* a regular file reads short only at its end */
        if ((gsize) n < want)
            break;
        if (got > size) {
            g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                        "%s: file grew while it was read", path);
            return -1;
        }
    }

    buf[got] = '\0';
    *contents = g_steal_pointer(&buf);
    if (length)
        *length = got;
    return 0;
}


/**
 * fwselRootReadFile:
 *
 * Reads a whole regular file of at most @maxSize bytes; the contents are
 * NUL terminated.  Errors name @path as the host sees it.
 */
int
fwselRootReadFile(const fwselRoot *root,
                  const char *path,
                  gsize maxSize,
                  char **contents,
                  gsize *length,
                  GError **error)
{
    FWSEL_AUTOCLOSE int fd = -1;
    fwselPathFact fact = { 0 };
    gsize size;

    fd = fwselRootOpenFile(root, path, &fact, error);
    size = fact.size;
    fwselPathFactClear(&fact);
    if (fd < 0)
        return -1;
    return fwselReadFD(fd, path, size, maxSize, contents, length, error);
}


/**
 * fwselRootOpenDir:
 *
 * Opens the directory @path names, links followed inside the root, for
 * listing.  Returns the fd; -2 without an error when @path is missing
 * or not a directory (@fact, when given, says which); -1 with @error set
 * when it exists but cannot be opened.
 */
int
fwselRootOpenDir(const fwselRoot *root,
                 const char *path,
                 fwselPathFact *factOut,
                 GError **error)
{
    fwselPathFact fact = { 0 };
    fwselWalk w;
    int ret = -2;

    if (fwselWalkStart(root, path, &w, &fact) && fact.kind == FWSEL_PATH_DIRECTORY) {
        if ((ret = fwselWalkOpenFinal(&w, &fact, O_RDONLY | O_DIRECTORY)) < 0)
            g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO,
                        "%s: cannot read directory: %s", path, g_strerror(errno));
    }
    fwselWalkClear(&w);
    if (factOut)
        *factOut = fact;
    else
        fwselPathFactClear(&fact);
    return ret;
}


/**
 * fwselRootOpenDirStrict:
 * @create: make missing components (mode 0755)
 *
 * Opens @path one component at a time without following any symbolic
 * link: for directories fwsel writes user data into.  Returns the fd,
 * -2 (no error) when a component is missing and @create is false, or -1
 * with @error set.
 */
int
fwselRootOpenDirStrict(const fwselRoot *root,
                       const char *path,
                       bool create,
                       GError **error)
{
    g_auto(GStrv) parts = g_strsplit(path, "/", -1);
    g_autoptr(GString) shown = g_string_new(NULL);
    FWSEL_AUTOCLOSE int fd = -1;
    size_t i;

    if ((fd = openat(root->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO, "cannot open root directory %s: %s",
                    root->path, g_strerror(errno));
        return -1;
    }

    for (i = 0; parts[i]; i++) {
        struct stat sb;
        int next;

        if (!*parts[i] || g_str_equal(parts[i], "."))
            continue;
        g_string_append_printf(shown, "/%s", parts[i]);
        if (g_str_equal(parts[i], "..")) {
            g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_UNSAFE,
                        "%s: refusing a directory path with '..'", path);
            return -1;
        }

        next = openat(fd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0 && errno == ENOENT && create) {
            if (mkdirat(fd, parts[i], 0755) < 0 && errno != EEXIST) {
                g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO,
                            "cannot create directory %s: %s", shown->str, g_strerror(errno));
                return -1;
            }
            next = openat(fd, parts[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (next < 0) {
            int saved = errno;

            if (saved == ENOENT && !create)
                return -2;
            if (fstatat(fd, parts[i], &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(sb.st_mode))
                g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_UNSAFE,
                            "%s is a symbolic link: refusing to use a varstore "
                            "directory reached through one", shown->str);
            else if (saved == ENOTDIR)
                g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                            "%s is not a directory", shown->str);
            else
                g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO,
                            "cannot open directory %s: %s", shown->str, g_strerror(saved));
            return -1;
        }
        close(fd);
        fd = next;
    }
    return fwselStealFD(&fd);
}


/* ---- many files in few directories --------------------------------------- */

typedef struct {
    fwselPathFact fact;     /* the directory */
    int fd;                 /* O_PATH, or -1 when it is not a directory */
} fwselCachedDir;

struct _fwselResolveCache {
    const fwselRoot *root;
    GHashTable *dirs;       /* directory as asked -> fwselCachedDir */
};


static void
fwselCachedDirFree(fwselCachedDir *dir)
{
    fwselPathFactClear(&dir->fact);
    fwselCloseFD(&dir->fd);
    g_free(dir);
}


fwselResolveCache *
fwselResolveCacheNew(const fwselRoot *root)
{
    fwselResolveCache *cache = g_new0(fwselResolveCache, 1);

    cache->root = root;
    cache->dirs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) fwselCachedDirFree);
    return cache;
}


void
fwselResolveCacheFree(fwselResolveCache *cache)
{
    if (!cache)
        return;
    g_hash_table_unref(cache->dirs);
    g_free(cache);
}


static fwselCachedDir *
fwselResolveCacheDir(fwselResolveCache *cache, const char *dirPath)
{
    fwselCachedDir *dir = g_hash_table_lookup(cache->dirs, dirPath);
    fwselWalk w;

    if (dir)
        return dir;

    dir = g_new0(fwselCachedDir, 1);
    dir->fd = -1;
    fwselWalkStart(cache->root, dirPath, &w, &dir->fact);
    if (dir->fact.kind == FWSEL_PATH_DIRECTORY) {
        /* keep the walk's own fd of the directory */
        if (w.fds->len == 0)
            dir->fd = openat(w.rootfd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        else {
            dir->fd = g_array_index(w.fds, int, w.fds->len - 1);
            g_array_index(w.fds, int, w.fds->len - 1) = -1;
        }
    }
    fwselWalkClear(&w);
    g_hash_table_insert(cache->dirs, g_strdup(dirPath), dir);
    return dir;
}


/**
 * fwselResolveCached:
 *
 * fwselRootResolve, with the directory part of @path resolved once per
 * cache: a plain file in a known directory costs one open and one stat.
 */
void
fwselResolveCached(fwselResolveCache *cache,
                   const char *path,
                   fwselPathFact *fact)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    g_autofree char *dirPath = NULL;
    fwselCachedDir *dir;
    const char *base;
    struct stat sb;

    /* only "/dir/name" with a plain name takes the short way */
    if (!path || path[0] != '/' || !slash || slash == path ||
        !slash[1] || g_str_equal(slash + 1, ".") || g_str_equal(slash + 1, "..")) {
        fwselRootResolve(cache->root, path, fact);
        return;
    }
    base = slash + 1;
    dirPath = g_strndup(path, slash - path);
    dir = fwselResolveCacheDir(cache, dirPath);

    if (dir->fd < 0) {
        /* the directory is missing or not one: so is the file */
        fwselRootResolve(cache->root, path, fact);
        return;
    }

    if (fstatat(dir->fd, base, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
        int saved = errno;

        *fact = (fwselPathFact) { 0 };
        fact->canonical = fwselPathJoin(dir->fact.canonical, base);
        fact->viaLink = dir->fact.viaLink;
        fact->kind = FWSEL_PATH_MISSING;
        fact->error = saved;
        return;
    }

    if (S_ISLNK(sb.st_mode)) {
        g_autofree char *again = fwselPathJoin(dir->fact.canonical, base);

        fwselRootResolve(cache->root, again, fact);
        fact->viaLink = true;
        return;
    }

    *fact = (fwselPathFact) { 0 };
    fact->canonical = fwselPathJoin(dir->fact.canonical, base);
    fact->viaLink = dir->fact.viaLink;
    fwselPathFactFromStat(fact, &sb);
}


/**
 * fwselResolveCacheReadFile:
 *
 * fwselRootReadFile for many files in few directories: a plain file (not
 * a link) in a directory already resolved is opened relative to it.
 */
int
fwselResolveCacheReadFile(fwselResolveCache *cache,
                          const char *path,
                          gsize maxSize,
                          char **contents,
                          gsize *length,
                          GError **error)
{
    const char *slash = path ? strrchr(path, '/') : NULL;
    g_autofree char *dirPath = NULL;
    FWSEL_AUTOCLOSE int fd = -1;
    fwselCachedDir *dir;
    struct stat sb;

    if (!path || path[0] != '/' || !slash || slash == path || !slash[1] ||
        g_str_equal(slash + 1, ".") || g_str_equal(slash + 1, ".."))
        return fwselRootReadFile(cache->root, path, maxSize, contents, length, error);

    dirPath = g_strndup(path, slash - path);
    dir = fwselResolveCacheDir(cache, dirPath);
    if (dir->fd < 0 ||
        (fd = openat(dir->fd, slash + 1,
                     O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0 ||
        fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
        return fwselRootReadFile(cache->root, path, maxSize, contents, length, error);
    return fwselReadFD(fd, path, sb.st_size, maxSize, contents, length, error);
}
