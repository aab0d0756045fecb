/*
 * fwsel-host.h: which host to read and how (options a front end sets),
 * and the settings read from it (qemu.conf)
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

/* Descriptor directories, in increasing precedence */
#define FWSEL_FIRMWARE_DIRS 3

/* One "CODE:VARS" pair of qemu.conf's nvram list */
typedef struct {
    char *loader;
    char *nvram;
} fwselNvramPair;

/* How to read a host: set by a front end before anything is read */
struct _fwselHostOptions {
    char *root;                 /* NULL: the real host */
    char *userFirmwareDir;      /* session daemons only, else NULL */
    char *nvramDir;             /* NULL: FWSEL_NVRAM_DIR */
    GHashTable *aliases;        /* machine type alias -> machine (--machine-alias) */
    bool probeQemu;             /* may run the host's qemu-system-ARCH */
    char *libvirt;              /* --libvirt VERSION; NULL: the host's */
    fwselPolicy policy;
};

fwselHostOptions *fwselHostOptionsNew(void);
void fwselHostOptionsFree(fwselHostOptions *opts);

int fwselHostOptionsSetRoot(fwselHostOptions *opts, const char *dir, GError **error);
void fwselHostOptionsSetSession(fwselHostOptions *opts, bool session);
int fwselHostOptionsSetNvramDir(fwselHostOptions *opts, const char *dir, GError **error);
int fwselHostOptionsAddMachineAlias(fwselHostOptions *opts, const char *spec, GError **error);
void fwselHostOptionsSetProbe(fwselHostOptions *opts, bool probe);
int fwselHostOptionsSetLibvirt(fwselHostOptions *opts, const char *version, GError **error);
void fwselHostOptionsSetPolicy(fwselHostOptions *opts, fwselPolicy policy);

/* What the host says about itself, read once */
typedef struct {
    char *firmwareDirs[FWSEL_FIRMWARE_DIRS];   /* the last is NULL unless session */
    char *nvramDir;
    char *qemuConfPath;         /* as the host sees it */

    /* Templates for hand-written loaders: libvirt's built-in list, or
     * qemu.conf's nvram = [ "CODE:VARS", ... ] when it sets one */
    size_t nnvramPairs;
    fwselNvramPair *nvramPairs;
    bool nvramPairsFromConf;
    /* libvirt's built-in list, used when qemu.conf's is ignored */
    size_t nbuiltinNvramPairs;
    fwselNvramPair *builtinNvramPairs;

    char *qemuUser;             /* qemu.conf: user, group */
    char *qemuGroup;
} fwselHostSettings;

void fwselHostSettingsInit(fwselHostSettings *settings, const fwselHostOptions *opts);
void fwselHostSettingsClear(fwselHostSettings *settings);
void fwselHostSettingsClearNvramPairs(fwselHostSettings *settings);
void fwselHostSettingsAddNvramPair(fwselHostSettings *settings,
                                   const char *loader,
                                   const char *nvram);

int fwselQemuConfParse(fwselHostSettings *settings,
                       const char *file,
                       const char *text,
                       GError **error);

G_END_DECLS
