/*
 * util.c: helpers shared by the modules
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fwsel-util.h"

GQuark
fwselErrorQuark(void)
{
    return g_quark_from_static_string("fwsel-error-quark");
}

#define FWSEL_MAX_SYMLINKS 40


const char *
fwselEnumToString(const char *const *list, int last, int type)
{
    if (type < 0 || type >= last)
        return NULL;
    return list[type];
}


int
fwselEnumFromString(const char *const *list, int last, const char *str)
{
    size_t i;

    if (!str)
        return -1;
    for (i = 0; i < (size_t) last; i++) {
        if (g_str_equal(list[i], str))
            return (int) i;
    }
    return -1;
}


FWSEL_ENUM_IMPL(fwselTristate, FWSEL_TRISTATE_LAST, "", "yes", "no");
FWSEL_ENUM_IMPL(fwselSwitch, FWSEL_TRISTATE_LAST, "", "on", "off");


/**
 * fwselPathUnderRoot:
 * @root: directory standing in for "/" (NULL or "/" for the real host)
 * @path: absolute path as the host sees it
 *
 * Returns the path where @path is found when @root is the file system
 * root.  The result is newly allocated.
 */
char *
fwselPathUnderRoot(const char *root, const char *path)
{
    if (!root || !*root || g_str_equal(root, "/"))
        return g_strdup(path);
    while (*path == '/')
        path++;
    return g_build_filename(root, path, NULL);
}


/* @dir/@name, written as given (no "//" when @dir is "/") */
char *
fwselPathJoin(const char *dir, const char *name)
{
    return g_strdup_printf("%s/%s", g_str_equal(dir, "/") ? "" : dir, name);
}


static char *
fwselPathJoinStack(GPtrArray *stack)
{
    g_autoptr(GString) out = g_string_new(NULL);
    guint i;

    for (i = 0; i < stack->len; i++) {
        g_string_append_c(out, '/');
        g_string_append(out, g_ptr_array_index(stack, i));
    }
    if (out->len == 0)
        g_string_append_c(out, '/');
    return g_string_free(g_steal_pointer(&out), FALSE);
}


static void
fwselPathQueueComponents(GQueue *queue, const char *path)
{
    g_auto(GStrv) parts = g_strsplit(path, "/", -1);
    gssize i;

    /* push in reverse so that the first component comes out first */
    for (i = (gssize) g_strv_length(parts) - 1; i >= 0; i--) {
        if (*parts[i] && !g_str_equal(parts[i], "."))
            g_queue_push_head(queue, g_strdup(parts[i]));
    }
}


/**
 * fwselPathResolve:
 * @root: directory standing in for "/" (NULL for the real host)
 * @path: absolute path as the host sees it
 * @resolved: filled with the canonical path, as the host sees it
 *
 * Follows symbolic links the way the kernel would if @root were the
 * root directory: absolute link targets restart at @root and ".." never
 * leaves it.  Components that do not exist are kept as written, so a
 * missing file still has a canonical name to compare.
 *
 * Returns 0 on success, -1 (with @error set) on a link loop or a
 * relative @path.
 */
int
fwselPathResolve(const char *root,
                 const char *path,
                 char **resolved,
                 GError **error)
{
    g_autoptr(GPtrArray) stack = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GQueue) queue = g_queue_new();
    unsigned int links = 0;
    bool missing = false;

    if (!path || path[0] != '/') {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "'%s' is not an absolute path", path ? path : "");
        return -1;
    }

    fwselPathQueueComponents(queue, path);

    while (!g_queue_is_empty(queue)) {
        g_autofree char *comp = g_queue_pop_head(queue);
        g_autofree char *candidate = NULL;
        g_autofree char *onDisk = NULL;
        g_autofree char *target = NULL;
        struct stat sb;

        if (g_str_equal(comp, "..")) {
            if (stack->len > 0)
                g_ptr_array_remove_index(stack, stack->len - 1);
            continue;
        }

        g_ptr_array_add(stack, g_steal_pointer(&comp));
        if (missing)
            continue;

        candidate = fwselPathJoinStack(stack);
        onDisk = fwselPathUnderRoot(root, candidate);

        if (lstat(onDisk, &sb) < 0) {
            /* keep the rest literally: it does not exist (yet) */
            missing = true;
            continue;
        }

        if (!S_ISLNK(sb.st_mode))
            continue;

        if (++links > FWSEL_MAX_SYMLINKS) {
            g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                        "too many levels of symbolic links in '%s'", path);
            return -1;
        }

        if (!(target = g_file_read_link(onDisk, NULL))) {
            missing = true;
            continue;
        }

        g_ptr_array_remove_index(stack, stack->len - 1);
        if (target[0] == '/')
            g_ptr_array_set_size(stack, 0);
        fwselPathQueueComponents(queue, target);
    }

    *resolved = fwselPathJoinStack(stack);
    return 0;
}


/**
 * fwselPathSameFile:
 *
 * True when host paths @a and @b name the same file, symlinks resolved
 * under @root; paths that cannot be resolved compare as written.  Two
 * NULLs are the same, NULL and a path are not.
 */
bool
fwselPathSameFile(const char *root, const char *a, const char *b)
{
    g_autofree char *ra = NULL;
    g_autofree char *rb = NULL;

    if (!a || !b)
        return a == b;
    if (g_str_equal(a, b))
        return true;
    if (fwselPathResolve(root, a, &ra, NULL) < 0 ||
        fwselPathResolve(root, b, &rb, NULL) < 0)
        return false;
    return g_str_equal(ra, rb);
}


/**
 * fwselFileReadBounded:
 *
 * Reads a whole regular file that must not exceed @maxSize bytes.  The
 * contents are NUL terminated.  Errors name @file.
 */
int
fwselFileReadBounded(const char *file,
                     gsize maxSize,
                     char **contents,
                     gsize *length,
                     GError **error)
{
    g_autofree char *buf = NULL;
    struct stat sb;
    gsize got = 0;
    int fd;

    if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO,
                    "%s: cannot open: %s", file, g_strerror(errno));
        return -1;
    }

    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "%s: not a regular file", file);
        close(fd);
        return -1;
    }

    if ((gsize) sb.st_size > maxSize) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "%s: file is %lld bytes, larger than the %zu byte limit",
                    file, (long long) sb.st_size, (size_t) maxSize);
        close(fd);
        return -1;
    }

    buf = g_malloc(maxSize + 1);
    for (;;) {
        ssize_t n = read(fd, buf + got, maxSize + 1 - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO,
                        "%s: cannot read: %s", file, g_strerror(errno));
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        got += n;
        if (got > maxSize) {
            g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                        "%s: file grew beyond the %zu byte limit",
                        file, (size_t) maxSize);
            close(fd);
            return -1;
        }
    }
    close(fd);

    buf[got] = '\0';
    *contents = g_steal_pointer(&buf);
    if (length)
        *length = got;
    return 0;
}


/**
 * fwselPathIsSafeName:
 *
 * True when @name can be used as a single file name component: not
 * empty, no '/', not "." or "..", and short enough for any file system.
 */
bool
fwselPathIsSafeName(const char *name)
{
    if (!name || !*name)
        return false;
    if (strchr(name, '/'))
        return false;
    if (g_str_equal(name, ".") || g_str_equal(name, ".."))
        return false;
    if (strlen(name) > 240)
        return false;
    return true;
}
