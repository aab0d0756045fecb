/*
 * fwsel-host.h: the host fwsel selects for: where descriptors live, where
 * varstores go, qemu.conf settings and machine type aliases
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-types.h"

G_BEGIN_DECLS

#define FWSEL_DATA_FIRMWARE_DIR "/usr/share/qemu/firmware"
#define FWSEL_SYSCONF_FIRMWARE_DIR "/etc/qemu/firmware"
#define FWSEL_NVRAM_DIR "/var/lib/libvirt/qemu/nvram"
#define FWSEL_QEMU_CONF "/etc/libvirt/qemu.conf"
#define FWSEL_QEMU_USER "libvirt-qemu"
#define FWSEL_QEMU_GROUP "libvirt-qemu"

/* One "CODE:VARS" pair of qemu.conf's nvram list */
typedef struct {
    char *loader;
    char *nvram;
} fwselNvramPair;

typedef struct _fwselHost fwselHost;
struct _fwselHost {
    char *root;                 /* "/" or a tree standing in for it */

    /* Descriptor directories in increasing precedence; the last one is
     * NULL unless the host is a session (unprivileged) daemon. */
    char *firmwareDirs[3];

    char *nvramDir;             /* where per-domain varstores go */
    char *qemuConfPath;         /* as the host sees it */

    /* Templates for hand-written loaders: libvirt's built-in list, or
     * qemu.conf's nvram = [ "CODE:VARS", ... ] when it sets one */
    size_t nnvramPairs;
    fwselNvramPair *nvramPairs;
    bool nvramPairsFromConf;
    char *qemuUser;             /* qemu.conf: user, group */
    char *qemuGroup;

    bool probeQemu;             /* ask qemu-system-ARCH for machine aliases */
    bool checkFiles;            /* skip descriptors whose files are missing */

    GHashTable *userAliases;    /* --machine-alias ALIAS=MACHINE */
    GHashTable *probed;         /* arch -> GHashTable alias -> machine */
};

fwselHost *fwselHostNew(const char *root, bool session);
void fwselHostFree(fwselHost *host);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselHost, fwselHostFree);

int fwselHostSetNvramDir(fwselHost *host, const char *dir, GError **error);
void fwselHostSetFirmwareDirs(fwselHost *host,
                              const char *dataDir,
                              const char *sysconfDir,
                              const char *userDir);
void fwselHostClearNvramPairs(fwselHost *host);
void fwselHostAddNvramPair(fwselHost *host, const char *loader, const char *nvram);
int fwselHostAddMachineAlias(fwselHost *host, const char *spec, GError **error);
int fwselHostLoadQemuConf(fwselHost *host, GError **error);

const char *fwselHostResolveMachine(fwselHost *host,
                                    const char *arch,
                                    const char *machine);

char *fwselHostPath(const fwselHost *host, const char *path);
bool fwselHostFileExists(const fwselHost *host, const char *path);

G_END_DECLS
