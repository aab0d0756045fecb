/*
 * fwsel-resolver.h: every file fwsel reads or writes on a host goes
 * through here, confined to the host's root directory
 *
 * A host is "/" or a directory standing in for it (--root).  Paths are
 * always written as the host sees them.  Resolution works like the kernel
 * would if the root directory were the file system root: absolute
 * symbolic links start again at the root, ".." never climbs above it,
 * and every step is taken relative to a directory file descriptor, so
 * nothing outside the root is ever touched.  A link that leads nowhere
 * is a fact about the host (MISSING), not an error.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <sys/types.h>
#include "fwsel-types.h"

G_BEGIN_DECLS

typedef struct _fwselRoot fwselRoot;

typedef enum {
    FWSEL_PATH_MISSING = 0,     /* nothing there (also a dangling link or a loop) */
    FWSEL_PATH_REGULAR,
    FWSEL_PATH_DIRECTORY,
    FWSEL_PATH_OTHER,           /* a device, FIFO or socket */

    FWSEL_PATH_LAST
} fwselPathKind;
FWSEL_ENUM_DECL(fwselPathKind);

/* What one path is on the host */
typedef struct {
    char *canonical;    /* links followed inside the root; a missing tail
                         * is kept as written.  NULL for a relative path. */
    fwselPathKind kind;
    int error;          /* MISSING: why (ENOENT, ENOTDIR, ELOOP, EACCES,
                         * EINVAL for a relative path) */
    bool viaLink;       /* a symbolic link was followed on the way */
    off_t size;         /* REGULAR */
    mode_t mode;        /* not MISSING: the file's type and mode */
    dev_t dev;          /* not MISSING */
    ino_t ino;
} fwselPathFact;

void fwselPathFactClear(fwselPathFact *fact);
void fwselPathFactCopy(fwselPathFact *to, const fwselPathFact *from);
bool fwselPathFactSameFile(const fwselPathFact *a, const fwselPathFact *b);

fwselRoot *fwselRootOpen(const char *dir, GError **error);
void fwselRootFree(fwselRoot *root);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselRoot, fwselRootFree);

const char *fwselRootPath(const fwselRoot *root);
bool fwselRootIsHost(const fwselRoot *root);

void fwselRootResolve(const fwselRoot *root,
                      const char *path,
                      fwselPathFact *fact);

int fwselRootOpenFile(const fwselRoot *root,
                      const char *path,
                      fwselPathFact *fact,
                      GError **error);

int fwselReadFD(int fd,
                const char *path,
                gsize size,
                gsize maxSize,
                char **contents,
                gsize *length,
                GError **error);

int fwselRootReadFile(const fwselRoot *root,
                      const char *path,
                      gsize maxSize,
                      char **contents,
                      gsize *length,
                      GError **error);

int fwselRootOpenDir(const fwselRoot *root,
                     const char *path,
                     fwselPathFact *fact,
                     GError **error);

int fwselRootOpenDirStrict(const fwselRoot *root,
                           const char *path,
                           bool create,
                           GError **error);

/* A cache of resolved directories for resolving many files in few
 * directories (descriptor folders, firmware image folders) */
typedef struct _fwselResolveCache fwselResolveCache;
fwselResolveCache *fwselResolveCacheNew(const fwselRoot *root);
void fwselResolveCacheFree(fwselResolveCache *cache);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselResolveCache, fwselResolveCacheFree);
void fwselResolveCached(fwselResolveCache *cache,
                        const char *path,
                        fwselPathFact *fact);
int fwselResolveCacheReadFile(fwselResolveCache *cache,
                              const char *path,
                              gsize maxSize,
                              char **contents,
                              gsize *length,
                              GError **error);

#define FWSEL_AUTOCLOSE __attribute__((cleanup(fwselCloseFD)))
void fwselCloseFD(int *fd);
int fwselStealFD(int *fd);

G_END_DECLS
