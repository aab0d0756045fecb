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


/* @dir/@name, written as given (no "//" when @dir is "/") */
char *
fwselPathJoin(const char *dir, const char *name)
{
    return g_strdup_printf("%s/%s", g_str_equal(dir, "/") ? "" : dir, name);
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
    gsize cap;
    int fd;

    /* O_NONBLOCK: a FIFO must not hang the open; it is refused below */
    if ((fd = open(file, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)) < 0) {
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

    /* sized by the file (it may still grow: then the buffer does, up
     * to the limit), not by the limit */
    cap = MIN((gsize) sb.st_size + 1, maxSize + 1);
    buf = g_malloc(cap + 1);
    for (;;) {
        ssize_t n;

        if (got == cap) {
            cap = MIN(cap * 2, maxSize + 1);
            buf = g_realloc(buf, cap + 1);
        }
        n = read(fd, buf + got, cap - got);

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
