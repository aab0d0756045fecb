/*
 * fwsel-nvram.h: per-domain varstores (NVRAM files): create from the
 * template, reset, check, remove
 *
 * A varstore holds a guest's Secure Boot keys and boot entries: user data.
 * The final path only ever holds a complete file: a new varstore is
 * written to an unnamed (O_TMPFILE) or temporary file in the same
 * directory, synced, given its mode and owner, and only then linked into
 * place without replacing anything.
 *
 * Paths are as the host sees them; with a host root (--root) every file
 * is read and written under that root.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <sys/types.h>
#include <sys/stat.h>
#include "fwsel-catalog.h"
#include "fwsel-domain.h"

G_BEGIN_DECLS

/* What a create or reset did */
typedef enum {
    FWSEL_NVRAM_CREATED = 0,    /* a new file is in place */
    FWSEL_NVRAM_EXISTED,        /* a file was already there: left alone */
    FWSEL_NVRAM_REPLACED,       /* reset: the old file was replaced */
    FWSEL_NVRAM_REMOVED,        /* remove: the file is gone */
    FWSEL_NVRAM_ABSENT,         /* remove, check: there was no file */

    FWSEL_NVRAM_RESULT_LAST
} fwselNvramResult;
FWSEL_ENUM_DECL(fwselNvramResult);

typedef enum {
    /* create: migration destination; an existing file is an error
     * (FWSEL_ERROR_EXISTS) instead of being reported and kept */
    FWSEL_NVRAM_INCOMING = 1 << 0,
    /* reset: keep the old file as PATH.bak-YYYYMMDDTHHMMSS */
    FWSEL_NVRAM_BACKUP = 1 << 1,
    /* remove: the domain XML names the varstore path itself, so it may
     * lie outside the NVRAM directory */
    FWSEL_NVRAM_EXPLICIT_PATH = 1 << 2,
    /* copy: replace an existing file atomically (reset) */
    FWSEL_NVRAM_REPLACE = 1 << 3,
} fwselNvramFlags;

/* Who owns a new varstore */
typedef struct {
    bool chown;         /* false: keep the creating process's ids */
    uid_t uid;
    gid_t gid;
} fwselNvramOwner;

int fwselNvramOwnerParse(const char *spec,
                         fwselNvramOwner *owner,
                         GError **error);
int fwselNvramOwnerFromHost(const fwselHostSettings *settings,
                            fwselNvramOwner *owner,
                            GError **error);

/* The varstore a (selected) domain uses, with its template; fails when
 * the domain has none (BIOS, stateless, network-backed). */
int fwselNvramDomainCheck(const fwselDomain *dom, GError **error);

int fwselNvramCreate(const fwselCatalog *catalog,
                     const fwselDomain *dom,
                     const fwselNvramOwner *owner,
                     unsigned int flags,
                     GError **error);

int fwselNvramReset(const fwselCatalog *catalog,
                    const fwselDomain *dom,
                    const fwselNvramOwner *owner,
                    unsigned int flags,
                    char **backupPath,
                    GError **error);

void fwselNvramCleanStale(const fwselCatalog *catalog, const fwselDomain *dom);

int fwselNvramCheck(const fwselCatalog *catalog,
                    const fwselDomain *dom,
                    GPtrArray *problems,
                    GError **error);

int fwselNvramRemove(const fwselCatalog *catalog,
                     const fwselDomain *dom,
                     unsigned int flags,
                     GError **error);

/*
 * The copy underneath create and reset.  @srcPath and @dirPath are paths
 * on this machine (already under any root); @name is one file name in
 * @dirPath.  Returns a fwselNvramResult (CREATED, EXISTED or REPLACED) or
 * -1 with @error set.  With FWSEL_NVRAM_REPLACE and FWSEL_NVRAM_BACKUP,
 * *@backupPath receives the backup's path (NULL when there was no old
 * file).
 */
int fwselNvramQemuImg(const char *const *args,
                      int srcFd,
                      int dstFd,
                      char **output,
                      GError **error);

int fwselNvramCopy(const char *srcPath,
                   fwselFormat srcFormat,
                   const char *dirPath,
                   const char *name,
                   fwselFormat dstFormat,
                   const fwselNvramOwner *owner,
                   unsigned int flags,
                   char **backupPath,
                   GError **error);

/*
 * Rewriting an existing varstore (nvram enroll): open it the way fwsel
 * writes (no symbolic link anywhere, one hard link), then replace it
 * atomically, keeping the old one as PATH.bak-YYYYMMDDTHHMMSS, unless it
 * changed since it was opened.
 */
int fwselNvramOpenExisting(const fwselRoot *root,
                           const char *path,
                           struct stat *sb,
                           GError **error);
int fwselNvramRewrite(const fwselRoot *root,
                      const char *path,
                      const struct stat *was,
                      const guint8 *buf,
                      gsize len,
                      char **backupPath,
                      GError **error);

/*
 * Test support only: @hook is called with the name of each step of a
 * copy ("open", "data", "synced", "linked", ...), so that a test can stop
 * or kill the process at every point.  NULL removes it.
 */
typedef void (*fwselNvramHook)(const char *step, void *opaque);
void fwselNvramSetTestHook(fwselNvramHook hook, void *opaque);

G_END_DECLS
