/*
 * nvram.c: per-domain varstores: create from the template, reset, check,
 * remove
 *
 * The rules, all for the same reason (a varstore is user data):
 *  - the final path only ever holds a complete file: data goes to an
 *    unnamed O_TMPFILE (or, where the file system lacks it, an O_EXCL
 *    temporary) in the same directory, is synced with its mode and owner,
 *    and is then linked into place; linking never replaces a file, so of
 *    two racing creators exactly one wins and the other finds the file;
 *  - reset replaces by rename, so the path names the old or the new
 *    file, never a mix;
 *  - directories are walked one component at a time with O_NOFOLLOW and
 *    files opened relative to the directory, so a symbolic link anywhere
 *    in the NVRAM directory's path, or at the varstore itself, is refused;
 *  - the template must be a regular file (checked with fstat on a
 *    non-blocking open, so a FIFO cannot hang us) that does not change
 *    while it is copied;
 *  - a temporary name is the varstore's own (.fwsel-NAME.RANDOM.tmp) and
 *    its file is locked (flock) from before it has a name until it is
 *    renamed or removed; one left by a killed process is unlocked, and
 *    the next create, reset, remove or 'nvram check' of that varstore
 *    deletes it (select, which also looks at the varstore, does not).
 *    Nothing else in the directory is ever touched.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <dirent.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/fs.h>
#include <json-c/json.h>

#include "fwsel-nvram.h"
#include "fwsel-util.h"

FWSEL_ENUM_IMPL(fwselNvramResult, FWSEL_NVRAM_RESULT_LAST,
                "created", "existed", "replaced", "removed", "absent");

/* Unit of the copy loop and of hole detection */
#define FWSEL_NVRAM_CHUNK (64 * 1024)
#define FWSEL_NVRAM_BLOCK 4096

#define FWSEL_QCOW2_MAGIC "QFI\xfb"

static fwselNvramHook fwselNvramTestHook;
static void *fwselNvramTestHookOpaque;


void
fwselNvramSetTestHook(fwselNvramHook hook, void *opaque)
{
    fwselNvramTestHook = hook;
    fwselNvramTestHookOpaque = opaque;
}


static void
fwselNvramStep(const char *step)
{
    if (fwselNvramTestHook)
        fwselNvramTestHook(step, fwselNvramTestHookOpaque);
}


static int G_GNUC_PRINTF(3, 4)
fwselNvramError(GError **error, int code, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, FWSEL_ERROR, code, msg);
    return -1;
}


static const char *
fwselNvramFileType(mode_t mode)
{
    if (S_ISDIR(mode))
        return "a directory";
    if (S_ISFIFO(mode))
        return "a FIFO";
    if (S_ISLNK(mode))
        return "a symbolic link";
    if (S_ISSOCK(mode))
        return "a socket";
    if (S_ISCHR(mode))
        return "a character device";
    if (S_ISBLK(mode))
        return "a block device";
    if (S_ISREG(mode))
        return "a regular file";
    return "not a regular file";
}


/* ---- owners ---------------------------------------------------------- */

static bool
fwselNvramParseId(const char *text, guint64 *id)
{
    const char *digits = text[0] == '+' ? text + 1 : text;

    return *digits && g_ascii_string_to_unsigned(digits, 10, 0, G_MAXUINT32 - 1,
                                                 id, NULL);
}


static int
fwselNvramLookupUser(const char *name, uid_t *uid, gid_t *primary, GError **error)
{
    struct passwd *pw;
    guint64 id;

    if (fwselNvramParseId(name, &id)) {
        *uid = id;
        pw = getpwuid(*uid);
        *primary = pw ? pw->pw_gid : (gid_t) -1;
        return 0;
    }
    if (!(pw = getpwnam(name)))
        return fwselNvramError(error, FWSEL_ERROR_INVALID,
                               "user '%s' does not exist on this host", name);
    *uid = pw->pw_uid;
    *primary = pw->pw_gid;
    return 0;
}


static int
fwselNvramLookupGroup(const char *name, gid_t *gid, GError **error)
{
    struct group *gr;
    guint64 id;

    if (fwselNvramParseId(name, &id)) {
        *gid = id;
        return 0;
    }
    if (!(gr = getgrnam(name)))
        return fwselNvramError(error, FWSEL_ERROR_INVALID,
                               "group '%s' does not exist on this host", name);
    *gid = gr->gr_gid;
    return 0;
}


static int
fwselNvramOwnerResolve(const char *user,
                       const char *group,
                       fwselNvramOwner *owner,
                       GError **error)
{
    gid_t primary = (gid_t) -1;

    if (fwselNvramLookupUser(user, &owner->uid, &primary, error) < 0)
        return -1;
    if (group && *group) {
        if (fwselNvramLookupGroup(group, &owner->gid, error) < 0)
            return -1;
    } else if (primary != (gid_t) -1) {
        owner->gid = primary;
    } else {
        return fwselNvramError(error, FWSEL_ERROR_INVALID,
                               "user '%s' has no entry naming its group: give USER:GROUP",
                               user);
    }
    /* only root can give a file away; others keep what they create */
    owner->chown = geteuid() == 0;
    return 0;
}


/**
 * fwselNvramOwnerParse:
 * @spec: "USER:GROUP", "USER" (its primary group), names or numbers
 *        ("+N" is a number too, as in qemu.conf)
 *
 * The --owner override for new varstores.
 */
int
fwselNvramOwnerParse(const char *spec, fwselNvramOwner *owner, GError **error)
{
    g_auto(GStrv) parts = NULL;
    g_autoptr(GError) err = NULL;

    if (!spec || !*spec || spec[0] == ':' || g_str_has_suffix(spec, ":") ||
        g_strv_length((parts = g_strsplit(spec, ":", -1))) > 2)
        return fwselNvramError(error, FWSEL_ERROR_INVALID,
                               "--owner: expected USER:GROUP, got '%s'", spec ? spec : "");
    if (fwselNvramOwnerResolve(parts[0], parts[1], owner, &err) < 0)
        return fwselNvramError(error, FWSEL_ERROR_INVALID, "--owner: %s", err->message);
    return 0;
}


/**
 * fwselNvramOwnerFromHost:
 *
 * The user and group QEMU runs as (qemu.conf "user" and "group", default
 * libvirt-qemu).  Not being root is not an error: new files then keep
 * the caller's ids, as nobody else could give them away.
 */
int
fwselNvramOwnerFromHost(const fwselHostSettings *settings, fwselNvramOwner *owner, GError **error)
{
    g_autoptr(GError) err = NULL;

    memset(owner, 0, sizeof(*owner));
    if (geteuid() != 0)
        return 0;
    if (fwselNvramOwnerResolve(settings->qemuUser, settings->qemuGroup, owner, &err) < 0)
        return fwselNvramError(error, FWSEL_ERROR_INVALID,
                               "%s: the QEMU user and group own new varstores: %s; "
                               "set user/group there or use --owner USER:GROUP",
                               settings->qemuConfPath, err->message);
    return 0;
}


/* ---- paths and directories ------------------------------------------- */

/*
 * Splits a varstore path (as the host sees it) into its directory and
 * file name, refusing anything that could leave the directory.
 */
static int
fwselNvramSplitPath(const char *path, char **dir, char **name, GError **error)
{
    g_auto(GStrv) parts = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    size_t n;
    size_t i;

    if (!path || path[0] != '/')
        return fwselNvramError(error, FWSEL_ERROR_INVALID,
                               "varstore path '%s' is not absolute", path ? path : "");

    parts = g_strsplit(path, "/", -1);
    n = g_strv_length(parts);
    for (i = 0; i < n; i++) {
        if (g_str_equal(parts[i], ".") || g_str_equal(parts[i], ".."))
            return fwselNvramError(error, FWSEL_ERROR_UNSAFE,
                                   "varstore path '%s' contains '%s': refusing a path that "
                                   "can leave its directory", path, parts[i]);
    }
    if (!fwselPathIsSafeName(parts[n - 1]))
        return fwselNvramError(error, FWSEL_ERROR_UNSAFE,
                               "varstore path '%s' does not end in a usable file name", path);

    for (i = 0; i + 1 < n; i++) {
        if (*parts[i])
            g_string_append_printf(out, "/%s", parts[i]);
    }
    if (out->len == 0)
        g_string_append_c(out, '/');
    *dir = g_string_free(g_steal_pointer(&out), FALSE);
    *name = g_strdup(parts[n - 1]);
    return 0;
}


/* ---- the template ---------------------------------------------------- */

/*
 * Opens a template for reading, links followed inside the host's root.
 * A FIFO is refused without blocking.
 */
static int
fwselNvramOpenTemplate(const fwselRoot *root, const char *shown, struct stat *sb,
                       GError **error)
{
    fwselPathFact fact = { 0 };
    g_autoptr(GError) err = NULL;
    FWSEL_AUTOCLOSE int fd = fwselRootOpenFile(root, shown, &fact, &err);
    mode_t mode = fact.mode;
    fwselPathKind kind = fact.kind;
    int missing = fact.error;

    fwselPathFactClear(&fact);
    if (fd < 0) {
        if (kind == FWSEL_PATH_MISSING)
            return fwselNvramError(error, FWSEL_ERROR_IO, "cannot open template %s: %s",
                                   shown, g_strerror(missing));
        if (kind == FWSEL_PATH_REGULAR)
            return fwselNvramError(error, FWSEL_ERROR_IO, "cannot open template %s: %s",
                                   shown, err->message);
        return fwselNvramError(error, FWSEL_ERROR_INVALID,
                               "template %s is %s, not a regular file", shown,
                               fwselNvramFileType(mode));
    }
    if (fstat(fd, sb) < 0)
        return fwselNvramError(error, FWSEL_ERROR_IO, "template %s: %s", shown, g_strerror(errno));
    return fwselStealFD(&fd);
}


/* The template must be the file we opened, whole, from start to end */
static int
fwselNvramTemplateUnchanged(int fd, const struct stat *before, const char *shown,
                            GError **error)
{
    struct stat now;

    if (fstat(fd, &now) < 0)
        return fwselNvramError(error, FWSEL_ERROR_IO, "template %s: %s", shown,
                               g_strerror(errno));
    if (now.st_nlink == 0)
        return fwselNvramError(error, FWSEL_ERROR_IO,
                               "template %s was removed or replaced while it was copied",
                               shown);
    if (now.st_size != before->st_size ||
        now.st_mtim.tv_sec != before->st_mtim.tv_sec ||
        now.st_mtim.tv_nsec != before->st_mtim.tv_nsec)
        return fwselNvramError(error, FWSEL_ERROR_IO,
                               "template %s changed while it was copied (%lld bytes, now %lld)",
                               shown, (long long) before->st_size, (long long) now.st_size);
    return 0;
}


/* ---- copying ---------------------------------------------------------- */

static bool
fwselNvramIsZero(const char *buf, size_t len)
{
    return len == 0 || (buf[0] == 0 && memcmp(buf, buf + 1, len - 1) == 0);
}


static int
fwselNvramWriteAll(int fd, const char *buf, size_t len, off_t off)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, buf, len, off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        buf += n;
        len -= n;
        off += n;
    }
    return 0;
}


/* Writes the non-zero 4 KiB blocks of @buf; zero blocks stay holes */
static int
fwselNvramWriteSparse(int fd, const char *buf, size_t len, off_t off)
{
    size_t start = 0;

    while (start < len) {
        size_t end;

        while (start < len &&
               fwselNvramIsZero(buf + start, MIN(FWSEL_NVRAM_BLOCK, len - start)))
            start += FWSEL_NVRAM_BLOCK;
        if (start >= len)
            break;
        end = start;
        while (end < len && !fwselNvramIsZero(buf + end, MIN(FWSEL_NVRAM_BLOCK, len - end)))
            end += FWSEL_NVRAM_BLOCK;
        end = MIN(end, len);
        if (fwselNvramWriteAll(fd, buf + start, end - start, off + start) < 0)
            return -1;
        start = end;
    }
    return 0;
}


/* Copies [from, to) of @src, reading in chunks and skipping zeros */
static int
fwselNvramCopyRange(int src, int dst, char *buf, off_t from, off_t to,
                    const char *shown, GError **error)
{
    while (from < to) {
        size_t want = MIN((off_t) FWSEL_NVRAM_CHUNK, to - from);
        ssize_t n = pread(src, buf, want, from);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fwselNvramError(error, FWSEL_ERROR_IO, "cannot read template %s: %s",
                                   shown, g_strerror(errno));
        if (n == 0)
            return fwselNvramError(error, FWSEL_ERROR_IO,
                                   "template %s shrank while it was copied", shown);
        if (fwselNvramWriteSparse(dst, buf, n, from) < 0)
            return -1;
        from += n;
        fwselNvramStep("data");
    }
    return 0;
}


/*
 * Copies @src into the empty file @dst.  A reflink shares the blocks on
 * file systems that can (btrfs, XFS); elsewhere only the data extents of
 * the template are read (SEEK_DATA/SEEK_HOLE) and zero blocks are not
 * written, so a 64 MiB varstore that is mostly zeros stays mostly holes.
 * (copy_file_range is not used: on ext4 and tmpfs it writes holes out
 * as zeros.)  Write errors return -1 with errno set and no @error, so
 * the caller can name the destination.
 */
static int
fwselNvramCopyData(int src, const struct stat *sb, int dst, const char *shown,
                   GError **error)
{
    g_autofree char *buf = NULL;
    off_t off = 0;

    if (ioctl(dst, FICLONE, src) == 0) {
        fwselNvramStep("data");
        return 0;
    }

    buf = g_malloc(FWSEL_NVRAM_CHUNK);
    while (off < sb->st_size) {
        off_t data = lseek(src, off, SEEK_DATA);
        off_t hole;

        if (data < 0 && errno == ENXIO)
            break;              /* only a hole is left */
        if (data < 0) {         /* no SEEK_DATA here: all of it is data */
            data = off;
            hole = sb->st_size;
        } else if ((hole = lseek(src, data, SEEK_HOLE)) < 0) {
            hole = sb->st_size;
        }
        hole = MIN(hole, sb->st_size);
        if (fwselNvramCopyRange(src, dst, buf, data, hole, shown, error) < 0)
            return -1;
        off = hole;
    }

    if (ftruncate(dst, sb->st_size) < 0)
        return -1;
    return 0;
}


/* Child side of the qemu-img call: the template is fd 3, the target 4 */
static void
fwselNvramChildFds(gpointer opaque)
{
    const int *fds = opaque;

    if (dup2(fds[0], 3) < 0 || dup2(fds[1], 4) < 0)
        _exit(127);
}


/**
 * fwselNvramQemuImg:
 *
 * Runs qemu-img on open files: @srcFd is seen as /proc/self/fd/3 and
 * @dstFd (or -1) as /proc/self/fd/4, so qemu-img reads and writes exactly
 * the files we checked, whatever happens to their names meanwhile.
 */
int
fwselNvramQemuImg(const char *const *args, int srcFd, int dstFd,
                  char **output, GError **error)
{
    g_autofree char *qemuImg = g_find_program_in_path("qemu-img");
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autoptr(GError) spawnErr = NULL;
    FWSEL_AUTOCLOSE int a = -1;
    FWSEL_AUTOCLOSE int b = -1;
    int fds[2];
    int status;
    size_t i;

    if (!qemuImg)
        return fwselNvramError(error, FWSEL_ERROR_IO,
                               "qemu-img is needed to convert or inspect qcow2 varstores: "
                               "install qemu-utils");

    /* out of the way of 3 and 4, so that dup2 cannot clobber one */
    if ((a = fcntl(srcFd, F_DUPFD_CLOEXEC, 10)) < 0 ||
        (dstFd >= 0 && (b = fcntl(dstFd, F_DUPFD_CLOEXEC, 10)) < 0))
        return fwselNvramError(error, FWSEL_ERROR_IO, "qemu-img: %s", g_strerror(errno));
    fds[0] = a;
    fds[1] = b >= 0 ? b : a;

    g_ptr_array_add(argv, qemuImg);
    for (i = 0; args[i]; i++)
        g_ptr_array_add(argv, (char *) args[i]);
    g_ptr_array_add(argv, NULL);

    if (!g_spawn_sync(NULL, (char **) argv->pdata, NULL,
                      G_SPAWN_LEAVE_DESCRIPTORS_OPEN, fwselNvramChildFds, fds,
                      &out, &err, &status, &spawnErr))
        return fwselNvramError(error, FWSEL_ERROR_IO, "cannot run qemu-img: %s",
                               spawnErr->message);
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_strstrip(err);
        return fwselNvramError(error, FWSEL_ERROR_IO, "qemu-img %s failed: %s",
                               args[0], *err ? err : "no message");
    }
    if (output)
        *output = g_steal_pointer(&out);
    return 0;
}


static int
fwselNvramConvert(int src, fwselFormat srcFormat, int dst, fwselFormat dstFormat,
                  GError **error)
{
    const char *args[] = {
        "convert", "-q",
        "-f", fwselFormatTypeToString(srcFormat),
        "-O", fwselFormatTypeToString(dstFormat),
        "/proc/self/fd/3", "/proc/self/fd/4", NULL
    };

    if (fwselNvramQemuImg(args, src, dst, NULL, error) < 0)
        return -1;
    fwselNvramStep("data");
    return 0;
}


/*
 * The virtual size of an open qcow2 image (or any image qemu-img reads),
 * and whether it names a backing file.
 */
static int
fwselNvramImageInfo(int fd, fwselFormat format, const char *shown,
                    gint64 *virtualSize, bool *hasBacking, GError **error)
{
    const char *args[] = {
        "info", "-U", "--output=json", "-f", fwselFormatTypeToString(format),
        "/proc/self/fd/3", NULL
    };
    g_autofree char *out = NULL;
    json_object *obj;
    json_object *val;

    if (fwselNvramQemuImg(args, fd, -1, &out, error) < 0)
        return -1;

    if (!(obj = json_tokener_parse(out)) ||
        !json_object_object_get_ex(obj, "virtual-size", &val) ||
        !json_object_is_type(val, json_type_int)) {
        json_object_put(obj);
        return fwselNvramError(error, FWSEL_ERROR_IO,
                               "%s: qemu-img info gave no virtual-size", shown);
    }
    *virtualSize = json_object_get_int64(val);
    if (hasBacking)
        *hasBacking = json_object_object_get_ex(obj, "backing-filename", NULL);
    json_object_put(obj);
    return 0;
}


/* ---- linking into place ---------------------------------------------- */

typedef struct {
    int dirfd;
    const char *dirShown;
    const char *name;
    char *shown;            /* dirShown/name */
    int fd;                 /* the new file */
    char *tmpName;          /* its temporary name, NULL while unnamed */
} fwselNvramTarget;


static void
fwselNvramTargetClear(fwselNvramTarget *t)
{
    if (t->tmpName)
        unlinkat(t->dirfd, t->tmpName, 0);
    g_clear_pointer(&t->tmpName, g_free);
    fwselCloseFD(&t->fd);
    g_clear_pointer(&t->shown, g_free);
}


/*
 * Temporary names of the varstore @name: ".fwsel-TAG." + 16 hex digits +
 * ".tmp", where TAG is @name itself, or for a name too long to fit, "~"
 * and the start of its SHA-256.  The prefix and the suffix, so that
 * stale ones can be told from any other file.
 */
#define FWSEL_NVRAM_TMP_RANDOM 16
#define FWSEL_NVRAM_TMP_SUFFIX ".tmp"

static char *
fwselNvramTempPrefix(const char *name)
{
    g_autofree char *sum = NULL;

    if (strlen(name) <= 200)
        return g_strdup_printf(".fwsel-%s.", name);
    sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, name, -1);
    sum[32] = '\0';
    return g_strdup_printf(".fwsel-~%s.", sum);
}


static char *
fwselNvramTempName(const char *name)
{
    g_autofree char *prefix = fwselNvramTempPrefix(name);

    return g_strdup_printf("%s%08x%08x" FWSEL_NVRAM_TMP_SUFFIX, prefix,
                           g_random_int(), g_random_int());
}


/* Whether @entry is one of the temporary names of the varstore whose
 * names start with @prefix */
static bool
fwselNvramIsTempOf(const char *entry, const char *prefix)
{
    size_t plen = strlen(prefix);
    size_t i;

    if (strncmp(entry, prefix, plen) != 0 ||
        strlen(entry) != plen + FWSEL_NVRAM_TMP_RANDOM + strlen(FWSEL_NVRAM_TMP_SUFFIX) ||
        !g_str_equal(entry + plen + FWSEL_NVRAM_TMP_RANDOM, FWSEL_NVRAM_TMP_SUFFIX))
        return false;
    for (i = 0; i < FWSEL_NVRAM_TMP_RANDOM; i++) {
        if (!g_ascii_isxdigit(entry[plen + i]) || g_ascii_isupper(entry[plen + i]))
            return false;
    }
    return true;
}


/*
 * Deletes the temporary files of varstore @name in @dirfd that no process
 * holds any more: a process working on one keeps it locked, and a
 * killed one lost its lock with its life.  A file that cannot be looked
 * at is left alone; this never fails the operation that called it.
 */
static void
fwselNvramRemoveStale(int dirfd, const char *name)
{
    g_autofree char *prefix = fwselNvramTempPrefix(name);
    FWSEL_AUTOCLOSE int listfd = -1;
    struct dirent *ent;
    DIR *d;

    if ((listfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
        !(d = fdopendir(listfd)))
        return;
    listfd = -1;            /* owned by d now */

    while ((ent = readdir(d))) {
        FWSEL_AUTOCLOSE int fd = -1;
        struct stat sb;
        struct stat now;

        if (!fwselNvramIsTempOf(ent->d_name, prefix))
            continue;
        if ((fd = openat(dirfd, ent->d_name,
                         O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0 ||
            fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) ||
            flock(fd, LOCK_EX | LOCK_NB) < 0)
            continue;
        /* still the file that was locked: names are never reused */
        if (fstatat(dirfd, ent->d_name, &now, AT_SYMLINK_NOFOLLOW) < 0 ||
            now.st_dev != sb.st_dev || now.st_ino != sb.st_ino)
            continue;
        if (unlinkat(dirfd, ent->d_name, 0) == 0)
            fwselNvramStep("stale-removed");
    }
    closedir(d);
}


/* The new file stays locked as long as this process has it open (the
 * lock goes with the open file, whatever name it gets) */
static int
fwselNvramTargetLock(fwselNvramTarget *t, GError **error)
{
    if (flock(t->fd, LOCK_EX) < 0)
        return fwselNvramError(error, FWSEL_ERROR_IO, "cannot lock a new file in %s: %s",
                               t->dirShown, g_strerror(errno));
    return 0;
}


/*
 * Opens the new file: unnamed where the file system allows (nothing to
 * clean up whatever happens to the process), else an exclusive
 * temporary name that is never a symbolic link.
 */
static int
fwselNvramTargetOpen(fwselNvramTarget *t, GError **error)
{
    size_t tries;

    t->fd = openat(t->dirfd, ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (t->fd >= 0)
        return fwselNvramTargetLock(t, error);
    if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
        return fwselNvramError(error, FWSEL_ERROR_IO, "cannot create a file in %s: %s",
                               t->dirShown, g_strerror(errno));

    for (tries = 0; tries < 100; tries++) {
        g_autofree char *name = fwselNvramTempName(t->name);

        t->fd = openat(t->dirfd, name,
                       O_CREAT | O_EXCL | O_NOFOLLOW | O_RDWR | O_CLOEXEC, 0600);
        if (t->fd >= 0) {
            t->tmpName = g_steal_pointer(&name);
            return fwselNvramTargetLock(t, error);
        }
        if (errno != EEXIST)
            break;
    }
    return fwselNvramError(error, FWSEL_ERROR_IO, "cannot create a file in %s: %s",
                           t->dirShown, g_strerror(errno));
}


/* Gives the unnamed file a name; fails with EEXIST when @name exists */
static int
fwselNvramTargetLink(fwselNvramTarget *t, const char *name)
{
    g_autofree char *proc = NULL;

    if (t->tmpName)
        return linkat(t->dirfd, t->tmpName, t->dirfd, name, 0);
    if (linkat(t->fd, "", t->dirfd, name, AT_EMPTY_PATH) == 0)
        return 0;
    if (errno != ENOENT && errno != EPERM)
        return -1;
    /* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; /proc does not */
    proc = g_strdup_printf("/proc/self/fd/%d", t->fd);
    return linkat(AT_FDCWD, proc, t->dirfd, name, AT_SYMLINK_FOLLOW);
}


/* What is at the final path now: 0 nothing, 1 a regular file, -1 error */
static int
fwselNvramExisting(const fwselNvramTarget *t, GError **error)
{
    struct stat sb;

    if (fstatat(t->dirfd, t->name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return 0;
        return fwselNvramError(error, FWSEL_ERROR_IO, "%s: %s", t->shown, g_strerror(errno));
    }
    if (S_ISLNK(sb.st_mode))
        return fwselNvramError(error, FWSEL_ERROR_UNSAFE,
                               "%s is a symbolic link: refusing to use it as a varstore",
                               t->shown);
    if (!S_ISREG(sb.st_mode))
        return fwselNvramError(error, FWSEL_ERROR_INVALID, "%s is %s, not a varstore file",
                               t->shown, fwselNvramFileType(sb.st_mode));
    return 1;
}


static int
fwselNvramSyncDir(int dirfd, const char *dirShown, GError **error)
{
    if (fsync(dirfd) < 0 && errno != EINVAL)
        return fwselNvramError(error, FWSEL_ERROR_IO, "cannot sync directory %s: %s",
                               dirShown, g_strerror(errno));
    fwselNvramStep("dir-synced");
    return 0;
}


/* Create: link without replacing; a file that appeared meanwhile wins */
static int
fwselNvramPlaceNew(fwselNvramTarget *t, unsigned int flags, GError **error)
{
    if (fwselNvramTargetLink(t, t->name) < 0) {
        if (errno != EEXIST)
            return fwselNvramError(error, FWSEL_ERROR_IO, "cannot create %s: %s",
                                   t->shown, g_strerror(errno));
        if (fwselNvramExisting(t, error) < 0)
            return -1;
        if (flags & FWSEL_NVRAM_INCOMING)
            return fwselNvramError(error, FWSEL_ERROR_EXISTS,
                                   "%s appeared while it was being created: left alone",
                                   t->shown);
        return FWSEL_NVRAM_EXISTED;
    }
    fwselNvramStep("linked");
    if (t->tmpName)
        unlinkat(t->dirfd, t->tmpName, 0);
    g_clear_pointer(&t->tmpName, g_free);

    if (fwselNvramSyncDir(t->dirfd, t->dirShown, error) < 0)
        return -1;
    return FWSEL_NVRAM_CREATED;
}


/* Links the old file as NAME.bak-TIMESTAMP; NULL when there is none */
static int
fwselNvramBackup(fwselNvramTarget *t, char **backupPath, GError **error)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *stamp = g_date_time_format(now, "%Y%m%dT%H%M%S");
    unsigned int n;

    for (n = 1; n < 100; n++) {
        g_autofree char *bak = n == 1 ? g_strdup_printf("%s.bak-%s", t->name, stamp)
                                      : g_strdup_printf("%s.bak-%s-%u", t->name, stamp, n);

        if (linkat(t->dirfd, t->name, t->dirfd, bak, 0) == 0) {
            fwselNvramStep("backup");
            *backupPath = fwselPathJoin(t->dirShown, bak);
            return 0;
        }
        if (errno == ENOENT)
            return 0;
        if (errno != EEXIST)
            return fwselNvramError(error, FWSEL_ERROR_IO, "cannot back up %s as %s: %s",
                                   t->shown, bak, g_strerror(errno));
    }
    return fwselNvramError(error, FWSEL_ERROR_IO, "cannot back up %s: too many backups "
                           "named %s.bak-%s", t->shown, t->name, stamp);
}


/* Reset: rename over the old file, which is the old one or the new one
 * at every instant */
static int
fwselNvramPlaceReplace(fwselNvramTarget *t, unsigned int flags, char **backupPath,
                       GError **error)
{
    int existing;

    if ((existing = fwselNvramExisting(t, error)) < 0)
        return -1;

    if (!t->tmpName) {
        size_t tries;

        for (tries = 0; tries < 100; tries++) {
            g_autofree char *name = fwselNvramTempName(t->name);

            if (fwselNvramTargetLink(t, name) == 0) {
                t->tmpName = g_steal_pointer(&name);
                break;
            }
            if (errno != EEXIST)
                return fwselNvramError(error, FWSEL_ERROR_IO, "cannot create a file in %s: %s",
                                       t->dirShown, g_strerror(errno));
        }
        if (!t->tmpName)
            return fwselNvramError(error, FWSEL_ERROR_IO, "cannot name a file in %s",
                                   t->dirShown);
        fwselNvramStep("linked");
    }

    if (existing && (flags & FWSEL_NVRAM_BACKUP) &&
        fwselNvramBackup(t, backupPath, error) < 0)
        return -1;

    if (renameat(t->dirfd, t->tmpName, t->dirfd, t->name) < 0)
        return fwselNvramError(error, FWSEL_ERROR_IO, "cannot replace %s: %s",
                               t->shown, g_strerror(errno));
    g_clear_pointer(&t->tmpName, g_free);
    fwselNvramStep("renamed");

    if (fwselNvramSyncDir(t->dirfd, t->dirShown, error) < 0)
        return -1;
    return existing ? FWSEL_NVRAM_REPLACED : FWSEL_NVRAM_CREATED;
}


/*
 * Fills the new file from the template, then mode, owner and fsync: all
 * before the file gets its final name.
 */
static int
fwselNvramFill(fwselNvramTarget *t, int src, const struct stat *srcSb,
               fwselFormat srcFormat, fwselFormat dstFormat,
               const char *srcShown, const fwselNvramOwner *owner, GError **error)
{
    g_autoptr(GError) err = NULL;

    if (srcFormat == dstFormat) {
        if (fwselNvramCopyData(src, srcSb, t->fd, srcShown, &err) < 0) {
            if (err)
                return fwselNvramError(error, err->code, "cannot create %s: %s",
                                       t->shown, err->message);
            return fwselNvramError(error, FWSEL_ERROR_IO, "cannot create %s: writing: %s",
                                   t->shown, g_strerror(errno));
        }
    } else if (fwselNvramConvert(src, srcFormat, t->fd, dstFormat, &err) < 0) {
        return fwselNvramError(error, err->code, "cannot create %s from %s: %s",
                               t->shown, srcShown, err->message);
    }
    fwselNvramStep("copied");

    if (fwselNvramTemplateUnchanged(src, srcSb, srcShown, &err) < 0)
        return fwselNvramError(error, err->code, "cannot create %s: %s",
                               t->shown, err->message);

    if (fchmod(t->fd, 0600) < 0)
        return fwselNvramError(error, FWSEL_ERROR_IO, "cannot create %s: chmod: %s",
                               t->shown, g_strerror(errno));
    if (owner && owner->chown && fchown(t->fd, owner->uid, owner->gid) < 0)
        return fwselNvramError(error, FWSEL_ERROR_IO, "cannot create %s: chown %u:%u: %s",
                               t->shown, (unsigned) owner->uid, (unsigned) owner->gid,
                               g_strerror(errno));
    if (fsync(t->fd) < 0)
        return fwselNvramError(error, FWSEL_ERROR_IO, "cannot create %s: fsync: %s",
                               t->shown, g_strerror(errno));
    fwselNvramStep("synced");
    return 0;
}


static fwselFormat
fwselNvramFormatOr(fwselFormat format, fwselFormat fallback)
{
    return format != FWSEL_FORMAT_NONE ? format : fallback;
}


/*
 * The copy with both views of every path: @root maps host paths to
 * files here, the host paths name files in messages.
 */
static int
fwselNvramCopyUnder(const fwselRoot *root,
                    const char *srcShown,
                    fwselFormat srcFormat,
                    const char *dirShown,
                    const char *name,
                    fwselFormat dstFormat,
                    const fwselNvramOwner *owner,
                    bool createDir,
                    unsigned int flags,
                    char **backupPath,
                    GError **error)
{
    fwselNvramTarget t = { -1, dirShown, name, NULL, -1, NULL };
    FWSEL_AUTOCLOSE int src = -1;
    struct stat srcSb;
    int ret = -1;
    int existing;

    srcFormat = fwselNvramFormatOr(srcFormat, FWSEL_FORMAT_RAW);
    dstFormat = fwselNvramFormatOr(dstFormat, srcFormat);
    if (backupPath)
        *backupPath = NULL;

    if (!fwselPathIsSafeName(name))
        return fwselNvramError(error, FWSEL_ERROR_UNSAFE,
                               "'%s' cannot name a file in %s", name, dirShown);

    t.shown = fwselPathJoin(dirShown, name);
    if ((t.dirfd = fwselRootOpenDirStrict(root, dirShown, createDir, error)) < 0) {
        if (t.dirfd == -2)
            fwselNvramError(error, FWSEL_ERROR_IO, "cannot create %s: directory %s "
                            "does not exist", t.shown, dirShown);
        goto cleanup;
    }

    fwselNvramRemoveStale(t.dirfd, name);
    if ((existing = fwselNvramExisting(&t, error)) < 0)
        goto cleanup;
    if (existing && !(flags & FWSEL_NVRAM_REPLACE)) {
        if (flags & FWSEL_NVRAM_INCOMING) {
            fwselNvramError(error, FWSEL_ERROR_EXISTS,
                            "%s already exists: a migration destination never touches an "
                            "existing varstore (remove it first if it is stale)", t.shown);
            goto cleanup;
        }
        ret = FWSEL_NVRAM_EXISTED;
        goto cleanup;
    }

    if ((src = fwselNvramOpenTemplate(root, srcShown, &srcSb, error)) < 0)
        goto cleanup;
    if (fwselNvramTargetOpen(&t, error) < 0)
        goto cleanup;
    fwselNvramStep("open");

    if (fwselNvramFill(&t, src, &srcSb, srcFormat, dstFormat, srcShown, owner, error) < 0)
        goto cleanup;

    if (flags & FWSEL_NVRAM_REPLACE)
        ret = fwselNvramPlaceReplace(&t, flags, backupPath, error);
    else
        ret = fwselNvramPlaceNew(&t, flags, error);

 cleanup:
    fwselNvramTargetClear(&t);
    fwselCloseFD(&t.dirfd);
    return ret;
}


/**
 * fwselNvramCopy:
 *
 * See fwsel-nvram.h.  Every component of @dirPath is opened without
 * following symbolic links; the directory must exist.
 */
int
fwselNvramCopy(const char *srcPath,
               fwselFormat srcFormat,
               const char *dirPath,
               const char *name,
               fwselFormat dstFormat,
               const fwselNvramOwner *owner,
               unsigned int flags,
               char **backupPath,
               GError **error)
{
    g_autoptr(fwselRoot) root = NULL;

    if (!srcPath || srcPath[0] != '/' || !dirPath || dirPath[0] != '/')
        return fwselNvramError(error, FWSEL_ERROR_INVALID,
                               "template and directory must be absolute paths");
    if (!(root = fwselRootOpen("/", error)))
        return -1;
    return fwselNvramCopyUnder(root, srcPath, srcFormat, dirPath, name, dstFormat,
                               owner, false, flags, backupPath, error);
}


/* ---- domain level ----------------------------------------------------- */

/* The same file on the host (links followed inside its root) */
static bool
fwselNvramSameFile(const fwselCatalog *catalog, const char *a, const char *b)
{
    fwselPathFact fa;
    fwselPathFact fb;
    bool same;

    if (g_str_equal(a, b))
        return true;
    fwselRootResolve(catalog->root, a, &fa);
    fwselRootResolve(catalog->root, b, &fb);
    same = fa.kind != FWSEL_PATH_MISSING && fb.kind != FWSEL_PATH_MISSING &&
           fa.dev == fb.dev && fa.ino == fb.ino;
    fwselPathFactClear(&fa);
    fwselPathFactClear(&fb);
    return same;
}


/**
 * fwselNvramDomainCheck:
 *
 * Whether @dom (after fwselSelect) has a local varstore fwsel can manage.
 */
int
fwselNvramDomainCheck(const fwselDomain *dom, GError **error)
{
    const char *name = dom->name ? dom->name : "(unnamed)";

    if (dom->nvram.source == FWSEL_NVRAM_SOURCE_NETWORK)
        return fwselNvramError(error, FWSEL_ERROR_INVALID,
                               "domain %s keeps its varstore in a <source> that is not a "
                               "local file: nothing to do here", name);
    if (!dom->nvram.present || !dom->nvram.path) {
        if (dom->loader.stateless == FWSEL_TRISTATE_YES)
            return fwselNvramError(error, FWSEL_ERROR_INVALID,
                                   "domain %s uses stateless firmware: it has no varstore",
                                   name);
        return fwselNvramError(error, FWSEL_ERROR_INVALID,
                               "domain %s has no varstore: only a split pflash firmware "
                               "(UEFI with a read-only loader) keeps one", name);
    }
    return 0;
}


static int
fwselNvramDomainTemplate(const fwselDomain *dom, GError **error)
{
    if (!dom->nvram.templatePath)
        return fwselNvramError(error, FWSEL_ERROR_INVALID,
                               "domain %s: no template for %s; name one with "
                               "<nvram template='...'> or qemu.conf's nvram list",
                               dom->name ? dom->name : "(unnamed)", dom->nvram.path);
    return 0;
}


static int
fwselNvramDomainOwner(const fwselCatalog *catalog, const fwselNvramOwner *owner,
                      fwselNvramOwner *out, GError **error)
{
    if (owner) {
        *out = *owner;
        return 0;
    }
    return fwselNvramOwnerFromHost(&catalog->settings, out, error);
}


static int
fwselNvramDomainCopy(const fwselCatalog *catalog,
                     const fwselDomain *dom,
                     const fwselNvramOwner *owner,
                     unsigned int flags,
                     char **backupPath,
                     GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *name = NULL;
    fwselNvramOwner who;

    if (fwselNvramDomainCheck(dom, error) < 0 ||
        fwselNvramDomainTemplate(dom, error) < 0 ||
        fwselNvramSplitPath(dom->nvram.path, &dir, &name, error) < 0 ||
        fwselNvramDomainOwner(catalog, owner, &who, error) < 0)
        return -1;

    if (fwselNvramSameFile(catalog, dom->nvram.path, dom->nvram.templatePath))
        return fwselNvramError(error, FWSEL_ERROR_UNSAFE,
                               "domain %s: the varstore %s is its template itself; give "
                               "the domain a varstore path of its own",
                               dom->name ? dom->name : "(unnamed)", dom->nvram.path);

    /* fwselNvramCopyUnder defaults the formats: raw, then the template's */
    return fwselNvramCopyUnder(catalog->root, dom->nvram.templatePath, dom->nvram.templateFormat,
                               dir, name, dom->nvram.format, &who,
                               g_str_equal(dir, catalog->settings.nvramDir), flags, backupPath,
                               error);
}


/**
 * fwselNvramCreate:
 * @owner: NULL for qemu.conf's user and group
 * @flags: FWSEL_NVRAM_INCOMING
 *
 * Makes the domain's varstore from its template unless the file exists.
 * Returns FWSEL_NVRAM_CREATED, FWSEL_NVRAM_EXISTED (the file is left as
 * it is) or -1.  With FWSEL_NVRAM_INCOMING an existing file is an error
 * (FWSEL_ERROR_EXISTS).
 */
int
fwselNvramCreate(const fwselCatalog *catalog,
                 const fwselDomain *dom,
                 const fwselNvramOwner *owner,
                 unsigned int flags,
                 GError **error)
{
    return fwselNvramDomainCopy(catalog, dom, owner, flags & FWSEL_NVRAM_INCOMING,
                                NULL, error);
}


/**
 * fwselNvramReset:
 * @flags: FWSEL_NVRAM_BACKUP
 * @backupPath: receives the backup's path (host view), or NULL
 *
 * Replaces the domain's varstore by a fresh copy of its template in one
 * rename.  Returns FWSEL_NVRAM_REPLACED, FWSEL_NVRAM_CREATED (there was
 * no file) or -1.
 */
int
fwselNvramReset(const fwselCatalog *catalog,
                const fwselDomain *dom,
                const fwselNvramOwner *owner,
                unsigned int flags,
                char **backupPath,
                GError **error)
{
    g_autofree char *bak = NULL;
    int ret;

    ret = fwselNvramDomainCopy(catalog, dom, owner,
                               FWSEL_NVRAM_REPLACE | (flags & FWSEL_NVRAM_BACKUP),
                               &bak, error);
    if (backupPath)
        *backupPath = g_steal_pointer(&bak);
    return ret;
}


/* ---- check ----------------------------------------------------------- */

static void G_GNUC_PRINTF(3, 4)
fwselNvramProblem(GPtrArray *problems, const char *path, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_ptr_array_add(problems, g_strdup_printf("%s: %s", path, msg));
}


static fwselFormat
fwselNvramSniffFormat(int fd)
{
    char magic[4];

    if (pread(fd, magic, sizeof(magic), 0) == sizeof(magic) &&
        memcmp(magic, FWSEL_QCOW2_MAGIC, sizeof(magic)) == 0)
        return FWSEL_FORMAT_QCOW2;
    return FWSEL_FORMAT_RAW;
}


/* Size the guest sees: bytes for raw, the virtual size for qcow2 */
static int
fwselNvramGuestSize(int fd, const struct stat *sb, fwselFormat format, const char *shown,
                    gint64 *size, bool *hasBacking, GError **error)
{
    if (hasBacking)
        *hasBacking = false;
    if (format != FWSEL_FORMAT_QCOW2) {
        *size = sb->st_size;
        return 0;
    }
    return fwselNvramImageInfo(fd, format, shown, size, hasBacking, error);
}


/* The template's guest size, or -1 with a problem recorded */
static gint64
fwselNvramTemplateSize(const fwselCatalog *catalog, const fwselDomain *dom, GPtrArray *problems)
{
    g_autoptr(GError) err = NULL;
    FWSEL_AUTOCLOSE int fd = -1;
    fwselFormat format = fwselNvramFormatOr(dom->nvram.templateFormat, FWSEL_FORMAT_RAW);
    struct stat sb;
    gint64 size;

    if ((fd = fwselNvramOpenTemplate(catalog->root, dom->nvram.templatePath, &sb, &err)) < 0 ||
        fwselNvramGuestSize(fd, &sb, format, dom->nvram.templatePath, &size, NULL, &err) < 0) {
        fwselNvramProblem(problems, dom->nvram.path, "cannot compare with the template %s: %s",
                          dom->nvram.templatePath, err->message);
        return -1;
    }
    return size;
}


static void
fwselNvramCheckOwner(const fwselHostSettings *settings, const char *path, const struct stat *sb,
                     GPtrArray *problems)
{
    fwselNvramOwner qemu = { 0 };

    if (sb->st_mode & 0027)
        fwselNvramProblem(problems, path,
                          "mode %04o gives other users access (varstores are 0600)",
                          (unsigned) (sb->st_mode & 07777));

    /* without a known QEMU user there is nothing to compare with */
    if (fwselNvramOwnerResolve(settings->qemuUser, settings->qemuGroup, &qemu, NULL) < 0)
        return;
    if (sb->st_uid != 0 && sb->st_uid != qemu.uid)
        fwselNvramProblem(problems, path,
                          "owned by uid %u, neither root nor the QEMU user %s (uid %u)",
                          (unsigned) sb->st_uid, settings->qemuUser, (unsigned) qemu.uid);
}


/*
 * Checks an open varstore against its domain: format, guest size, backing
 * file, links, mode and owner.
 */
static int
fwselNvramCheckFile(const fwselCatalog *catalog, const fwselDomain *dom, int fd,
                    const struct stat *sb, GPtrArray *problems, GError **error)
{
    const char *path = dom->nvram.path;
    fwselFormat declared = fwselNvramFormatOr(dom->nvram.format,
                                              fwselNvramFormatOr(dom->nvram.templateFormat,
                                                                 FWSEL_FORMAT_RAW));
    fwselFormat actual = fwselNvramSniffFormat(fd);
    g_autoptr(GError) err = NULL;
    bool hasBacking = false;
    gint64 size = -1;

    if (actual != declared)
        fwselNvramProblem(problems, path, "is a %s image, but the domain declares format='%s'",
                          fwselFormatTypeToString(actual), fwselFormatTypeToString(declared));

    if (fwselNvramGuestSize(fd, sb, actual, path, &size, &hasBacking, &err) < 0)
        fwselNvramProblem(problems, path, "not a readable %s image: %s",
                          fwselFormatTypeToString(actual), err->message);
    if (hasBacking)
        fwselNvramProblem(problems, path,
                          "names a backing file: a varstore must stand on its own");

    if (dom->nvram.templatePath && size >= 0) {
        gint64 want = fwselNvramTemplateSize(catalog, dom, problems);

        if (want >= 0 && want != size)
            fwselNvramProblem(problems, path,
                              "is %lld bytes, its template %s is %lld: the firmware "
                              "expects a varstore of exactly the template's size",
                              (long long) size, dom->nvram.templatePath, (long long) want);
    }

    if (sb->st_nlink > 1)
        fwselNvramProblem(problems, path,
                          "has %u hard links: another name shares this varstore",
                          (unsigned) sb->st_nlink);
    fwselNvramCheckOwner(&catalog->settings, path, sb, problems);
    return 0;
}


/**
 * fwselNvramCleanStale:
 *
 * Deletes the temporary files a killed reset of @dom's varstore left
 * (see fwselNvramRemoveStale); 'nvram check' calls it.  fwselNvramCheck
 * itself only looks: select and the other readers call it too.
 */
void
fwselNvramCleanStale(const fwselCatalog *catalog, const fwselDomain *dom)
{
    g_autofree char *dir = NULL;
    g_autofree char *name = NULL;
    FWSEL_AUTOCLOSE int dirfd = -1;

    if (fwselNvramDomainCheck(dom, NULL) < 0 ||
        fwselNvramSplitPath(dom->nvram.path, &dir, &name, NULL) < 0 ||
        (dirfd = fwselRootOpenDirStrict(catalog->root, dir, false, NULL)) < 0)
        return;
    fwselNvramRemoveStale(dirfd, name);
}


/**
 * fwselNvramCheck:
 * @problems: receives one message (char *) per problem found
 *
 * Does the domain's existing varstore fit its firmware?  Returns
 * FWSEL_NVRAM_EXISTED when the file exists (problems, if any, appended),
 * FWSEL_NVRAM_ABSENT when there is no file, -1 when the check itself
 * could not be made.
 */
int
fwselNvramCheck(const fwselCatalog *catalog,
                const fwselDomain *dom,
                GPtrArray *problems,
                GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *name = NULL;
    FWSEL_AUTOCLOSE int dirfd = -1;
    FWSEL_AUTOCLOSE int fd = -1;
    struct stat sb;

    if (fwselNvramDomainCheck(dom, error) < 0 ||
        fwselNvramSplitPath(dom->nvram.path, &dir, &name, error) < 0)
        return -1;

    if ((dirfd = fwselRootOpenDirStrict(catalog->root, dir, false, error)) < 0)
        return dirfd == -2 ? FWSEL_NVRAM_ABSENT : -1;

    if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return FWSEL_NVRAM_ABSENT;
        return fwselNvramError(error, FWSEL_ERROR_IO, "%s: %s", dom->nvram.path,
                               g_strerror(errno));
    }
    if (!S_ISREG(sb.st_mode)) {
        fwselNvramProblem(problems, dom->nvram.path, "is %s, not a regular file",
                          fwselNvramFileType(sb.st_mode));
        return FWSEL_NVRAM_EXISTED;
    }

    if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)) < 0)
        return fwselNvramError(error, FWSEL_ERROR_IO, "cannot open %s: %s",
                               dom->nvram.path, g_strerror(errno));
    if (fstat(fd, &sb) < 0)
        return fwselNvramError(error, FWSEL_ERROR_IO, "%s: %s", dom->nvram.path,
                               g_strerror(errno));
    if (fwselNvramCheckFile(catalog, dom, fd, &sb, problems, error) < 0)
        return -1;
    return FWSEL_NVRAM_EXISTED;
}


/* ---- remove ---------------------------------------------------------- */

/**
 * fwselNvramRemove:
 * @flags: FWSEL_NVRAM_EXPLICIT_PATH when the domain XML itself names the
 *         varstore path
 *
 * Deletes the domain's varstore, and nothing else: never a symbolic
 * link's target, never the template, never a file outside the NVRAM
 * directory unless the domain names it.  Returns FWSEL_NVRAM_REMOVED,
 * FWSEL_NVRAM_ABSENT or -1.
 */
int
fwselNvramRemove(const fwselCatalog *catalog,
                 const fwselDomain *dom,
                 unsigned int flags,
                 GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *name = NULL;
    FWSEL_AUTOCLOSE int dirfd = -1;
    const char *path = dom->nvram.path;
    struct stat sb;

    if (fwselNvramDomainCheck(dom, error) < 0 ||
        fwselNvramSplitPath(path, &dir, &name, error) < 0)
        return -1;

    if (!g_str_equal(dir, catalog->settings.nvramDir) && !(flags & FWSEL_NVRAM_EXPLICIT_PATH))
        return fwselNvramError(error, FWSEL_ERROR_UNSAFE,
                               "refusing to remove %s: it is outside the NVRAM directory %s "
                               "and the domain does not name it", path,
                               catalog->settings.nvramDir);
    if (dom->nvram.templatePath && fwselNvramSameFile(catalog, path, dom->nvram.templatePath))
        return fwselNvramError(error, FWSEL_ERROR_UNSAFE,
                               "refusing to remove %s: it is the template %s itself",
                               path, dom->nvram.templatePath);

    if ((dirfd = fwselRootOpenDirStrict(catalog->root, dir, false, error)) < 0)
        return dirfd == -2 ? FWSEL_NVRAM_ABSENT : -1;
    fwselNvramRemoveStale(dirfd, name);

    if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return FWSEL_NVRAM_ABSENT;
        return fwselNvramError(error, FWSEL_ERROR_IO, "%s: %s", path, g_strerror(errno));
    }
    if (!S_ISREG(sb.st_mode))
        return fwselNvramError(error, FWSEL_ERROR_UNSAFE,
                               "refusing to remove %s: it is %s, not a varstore file",
                               path, fwselNvramFileType(sb.st_mode));

    if (unlinkat(dirfd, name, 0) < 0)
        return fwselNvramError(error, FWSEL_ERROR_IO, "cannot remove %s: %s", path,
                               g_strerror(errno));
    if (fwselNvramSyncDir(dirfd, dir, error) < 0)
        return -1;
    return FWSEL_NVRAM_REMOVED;
}


/* ---- rewriting a varstore in place (nvram enroll) ---------------------- */

/**
 * fwselNvramOpenExisting:
 * @path: a varstore as the host sees it (under @root)
 * @sb: (out): what was opened, for fwselNvramRewrite
 *
 * Opens an existing varstore for reading the way fwsel writes: every
 * component of its directory without following symbolic links, the file
 * itself a regular file with one link, not a symbolic link.
 */
int
fwselNvramOpenExisting(const fwselRoot *root, const char *path, struct stat *sb,
                       GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *name = NULL;
    FWSEL_AUTOCLOSE int dirfd = -1;
    FWSEL_AUTOCLOSE int fd = -1;

    if (fwselNvramSplitPath(path, &dir, &name, error) < 0)
        return -1;
    if ((dirfd = fwselRootOpenDirStrict(root, dir, false, error)) < 0) {
        if (dirfd == -2)
            fwselNvramError(error, FWSEL_ERROR_IO, "%s: directory %s does not exist",
                            path, dir);
        return -1;
    }
    if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)) < 0) {
        if (errno == ELOOP)
            return fwselNvramError(error, FWSEL_ERROR_UNSAFE,
                                   "%s is a symbolic link: refusing to write through it", path);
        return fwselNvramError(error, FWSEL_ERROR_IO, "%s: cannot open: %s", path,
                               g_strerror(errno));
    }
    if (fstat(fd, sb) < 0)
        return fwselNvramError(error, FWSEL_ERROR_IO, "%s: %s", path, g_strerror(errno));
    if (!S_ISREG(sb->st_mode))
        return fwselNvramError(error, FWSEL_ERROR_INVALID, "%s is %s, not a varstore file",
                               path, fwselNvramFileType(sb->st_mode));
    if (sb->st_nlink != 1)
        return fwselNvramError(error, FWSEL_ERROR_UNSAFE,
                               "%s has %lu hard links: writing a new file would split them",
                               path, (unsigned long) sb->st_nlink);
    return fwselStealFD(&fd);
}


/* Whether the file at the final path is still the one that was read */
static int
fwselNvramStillSame(const fwselNvramTarget *t, const struct stat *was, GError **error)
{
    struct stat sb;

    if (fstatat(t->dirfd, t->name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
        return fwselNvramError(error, FWSEL_ERROR_IO, "%s: %s", t->shown, g_strerror(errno));
    if (sb.st_dev != was->st_dev || sb.st_ino != was->st_ino || sb.st_size != was->st_size ||
        sb.st_mtim.tv_sec != was->st_mtim.tv_sec || sb.st_mtim.tv_nsec != was->st_mtim.tv_nsec)
        return fwselNvramError(error, FWSEL_ERROR_UNSAFE,
                               "%s changed while it was being rewritten (is the guest "
                               "running?): left as it is now", t->shown);
    return 0;
}


/**
 * fwselNvramRewrite:
 * @was: the file as fwselNvramOpenExisting found it
 * @backupPath: (out): where the old file is kept
 *
 * Replaces the varstore @path with @len bytes of @buf: written to a new
 * file in the same directory (zero blocks left as holes) with the old
 * one's mode and owner, synced,
 * and renamed over the old file unless that changed since it was read;
 * the old file is kept as PATH.bak-YYYYMMDDTHHMMSS.  The path names the
 * old file or the new one at every instant.
 */
int
fwselNvramRewrite(const fwselRoot *root, const char *path, const struct stat *was,
                  const guint8 *buf, gsize len, char **backupPath, GError **error)
{
    g_autofree char *dir = NULL;
    g_autofree char *name = NULL;
    fwselNvramTarget t = { -1, NULL, NULL, NULL, -1, NULL };
    int ret = -1;

    *backupPath = NULL;
    if (fwselNvramSplitPath(path, &dir, &name, error) < 0)
        return -1;
    t.dirShown = dir;
    t.name = name;
    t.shown = g_strdup(path);
    if ((t.dirfd = fwselRootOpenDirStrict(root, dir, false, error)) < 0) {
        if (t.dirfd == -2)
            fwselNvramError(error, FWSEL_ERROR_IO, "%s: directory %s does not exist",
                            path, dir);
        goto cleanup;
    }
    if (fwselNvramStillSame(&t, was, error) < 0 ||
        fwselNvramTargetOpen(&t, error) < 0)
        goto cleanup;
    fwselNvramStep("open");
    /* zero blocks stay holes, as in a varstore nvram create made */
    if (fwselNvramWriteSparse(t.fd, (const char *) buf, len, 0) < 0 ||
        ftruncate(t.fd, (off_t) len) < 0) {
        fwselNvramError(error, FWSEL_ERROR_IO, "cannot write %s: %s", path, g_strerror(errno));
        goto cleanup;
    }
    if (fchmod(t.fd, was->st_mode & 07777) < 0 ||
        ((was->st_uid != geteuid() || was->st_gid != getegid()) &&
         fchown(t.fd, was->st_uid, was->st_gid) < 0)) {
        fwselNvramError(error, FWSEL_ERROR_IO, "cannot give the new %s the old one's mode "
                        "0%o and owner %u:%u: %s", path, (unsigned) (was->st_mode & 07777),
                        (unsigned) was->st_uid, (unsigned) was->st_gid, g_strerror(errno));
        goto cleanup;
    }
    if (fsync(t.fd) < 0) {
        fwselNvramError(error, FWSEL_ERROR_IO, "cannot write %s: fsync: %s", path,
                        g_strerror(errno));
        goto cleanup;
    }
    fwselNvramStep("synced");
    if (fwselNvramStillSame(&t, was, error) < 0)
        goto cleanup;
    ret = fwselNvramPlaceReplace(&t, FWSEL_NVRAM_BACKUP, backupPath, error);

 cleanup:
    fwselNvramTargetClear(&t);
    fwselCloseFD(&t.dirfd);
    return ret;
}
