/*
 * host.c: the options saying which host to read, and the settings a
 * host carries before qemu.conf is applied
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "fwsel-host.h"
#include "fwsel-contract.h"
#include "fwsel-util.h"


/* The CODE:VARS pairs libvirt uses when qemu.conf sets no nvram list (its
 * compiled-in default, unchanged by Debian's build) */
static const char *const fwselDefaultNvramPairs[][2] = {
    { "/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd" },
    { "/usr/share/OVMF/OVMF_CODE.secboot.fd", "/usr/share/OVMF/OVMF_VARS.fd" },
    { "/usr/share/AAVMF/AAVMF_CODE.fd", "/usr/share/AAVMF/AAVMF_VARS.fd" },
    { "/usr/share/AAVMF/AAVMF32_CODE.fd", "/usr/share/AAVMF/AAVMF32_VARS.fd" },
};


fwselHostOptions *
fwselHostOptionsNew(void)
{
    fwselHostOptions *opts = g_new0(fwselHostOptions, 1);

    opts->aliases = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    opts->probeQemu = true;
    return opts;
}


void
fwselHostOptionsFree(fwselHostOptions *opts)
{
    if (!opts)
        return;
    g_free(opts->root);
    g_free(opts->libvirt);
    g_free(opts->userFirmwareDir);
    g_free(opts->nvramDir);
    g_hash_table_unref(opts->aliases);
    g_free(opts);
}


/**
 * fwselHostOptionsSetRoot:
 * @dir: a directory standing in for "/" (NULL: the real host)
 */
int
fwselHostOptionsSetRoot(fwselHostOptions *opts, const char *dir, GError **error)
{
    if (dir && !*dir) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID, "--root: empty directory name");
        return -1;
    }
    g_free(opts->root);
    opts->root = g_strdup(dir);
    return 0;
}


/**
 * fwselHostOptionsSetSession:
 *
 * Also read the user's descriptor directory, as an unprivileged (session)
 * libvirt daemon does: $XDG_CONFIG_HOME/qemu/firmware, or
 * ~/.config/qemu/firmware when XDG_CONFIG_HOME is unset.
 * The environment is read now.
 */
void
fwselHostOptionsSetSession(fwselHostOptions *opts, bool session)
{
    const char *xdg = g_getenv("XDG_CONFIG_HOME");

    g_clear_pointer(&opts->userFirmwareDir, g_free);
    if (!session)
        return;
    /* like libvirt (9.0 and 11.3, checked with session daemons): a set
     * XDG_CONFIG_HOME is used as it is, even empty ("/qemu/firmware") or
     * relative (not a folder fwsel can read then) */
    if (xdg)
        opts->userFirmwareDir = g_strdup_printf("%s/qemu/firmware", xdg);
    else
        opts->userFirmwareDir = g_build_filename(g_get_home_dir(), ".config", "qemu",
                                                 "firmware", NULL);
}


int
fwselHostOptionsSetNvramDir(fwselHostOptions *opts, const char *dir, GError **error)
{
    size_t len;

    if (!dir || dir[0] != '/') {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "--nvram-dir: must be an absolute path, got '%s'", dir ? dir : "");
        return -1;
    }
    g_free(opts->nvramDir);
    opts->nvramDir = g_strdup(dir);
    /* strip trailing slashes, keep "/" */
    while ((len = strlen(opts->nvramDir)) > 1 && opts->nvramDir[len - 1] == '/')
        opts->nvramDir[len - 1] = '\0';
    return 0;
}


int
fwselHostOptionsAddMachineAlias(fwselHostOptions *opts, const char *spec, GError **error)
{
    const char *eq = strchr(spec, '=');

    if (!eq || eq == spec || !eq[1] || strchr(eq + 1, '=')) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "--machine-alias: expected ALIAS=MACHINE, got '%s'", spec);
        return -1;
    }
    g_hash_table_replace(opts->aliases, g_strndup(spec, eq - spec), g_strdup(eq + 1));
    return 0;
}


/**
 * fwselHostOptionsSetProbe:
 *
 * Whether fwsel may run the real host's qemu-system-ARCH to learn machine
 * type aliases when libvirt's capabilities cache does not have them.
 * Nothing under a --root tree is ever run, whatever this says.
 */
void
fwselHostOptionsSetProbe(fwselHostOptions *opts, bool probe)
{
    opts->probeQemu = probe;
}


void
fwselHostSettingsAddNvramPair(fwselHostSettings *settings,
                              const char *loader,
                              const char *nvram)
{
    settings->nvramPairs = g_renew(fwselNvramPair, settings->nvramPairs,
                                   settings->nnvramPairs + 1);
    settings->nvramPairs[settings->nnvramPairs].loader = g_strdup(loader);
    settings->nvramPairs[settings->nnvramPairs].nvram = g_strdup(nvram);
    settings->nnvramPairs++;
}


/* Empties the nvram list (libvirt's built-in one included) */
void
fwselHostSettingsClearNvramPairs(fwselHostSettings *settings)
{
    size_t i;

    for (i = 0; i < settings->nnvramPairs; i++) {
        g_free(settings->nvramPairs[i].loader);
        g_free(settings->nvramPairs[i].nvram);
    }
    g_clear_pointer(&settings->nvramPairs, g_free);
    settings->nnvramPairs = 0;
}


/* The settings of a host whose qemu.conf sets nothing */
void
fwselHostSettingsInit(fwselHostSettings *settings, const fwselHostOptions *opts)
{
    size_t i;

    *settings = (fwselHostSettings) { 0 };
    settings->firmwareDirs[0] = g_strdup(FWSEL_DATA_FIRMWARE_DIR);
    settings->firmwareDirs[1] = g_strdup(FWSEL_SYSCONF_FIRMWARE_DIR);
    settings->firmwareDirs[2] = g_strdup(opts->userFirmwareDir);
    settings->nvramDir = g_strdup(opts->nvramDir ? opts->nvramDir : FWSEL_NVRAM_DIR);
    settings->qemuConfPath = g_strdup(FWSEL_QEMU_CONF);
    for (i = 0; i < G_N_ELEMENTS(fwselDefaultNvramPairs); i++)
        fwselHostSettingsAddNvramPair(settings, fwselDefaultNvramPairs[i][0],
                                      fwselDefaultNvramPairs[i][1]);
    settings->nbuiltinNvramPairs = G_N_ELEMENTS(fwselDefaultNvramPairs);
    settings->builtinNvramPairs = g_new0(fwselNvramPair, settings->nbuiltinNvramPairs);
    for (i = 0; i < G_N_ELEMENTS(fwselDefaultNvramPairs); i++) {
        settings->builtinNvramPairs[i].loader = g_strdup(fwselDefaultNvramPairs[i][0]);
        settings->builtinNvramPairs[i].nvram = g_strdup(fwselDefaultNvramPairs[i][1]);
    }
    settings->qemuUser = g_strdup(FWSEL_QEMU_USER);
    settings->qemuGroup = g_strdup(FWSEL_QEMU_GROUP);
}


void
fwselHostSettingsClear(fwselHostSettings *settings)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(settings->firmwareDirs); i++)
        g_free(settings->firmwareDirs[i]);
    g_free(settings->nvramDir);
    g_free(settings->qemuConfPath);
    fwselHostSettingsClearNvramPairs(settings);
    for (i = 0; i < settings->nbuiltinNvramPairs; i++) {
        g_free(settings->builtinNvramPairs[i].loader);
        g_free(settings->builtinNvramPairs[i].nvram);
    }
    g_free(settings->builtinNvramPairs);
    g_free(settings->qemuUser);
    g_free(settings->qemuGroup);
    *settings = (fwselHostSettings) { 0 };
}


/**
 * fwselHostOptionsSetLibvirt:
 * @version: NULL: the libvirt installed on the host
 *
 * Whose rules evaluation follows.
 */
int
fwselHostOptionsSetLibvirt(fwselHostOptions *opts, const char *version, GError **error)
{
    g_auto(fwselContract) check = { 0 };

    if (version && fwselContractFromVersion(&check, version, error) < 0)
        return -1;
    g_free(opts->libvirt);
    opts->libvirt = g_strdup(version);
    return 0;
}


void
fwselHostOptionsSetPolicy(fwselHostOptions *opts, fwselPolicy policy)
{
    if (policy >= 0 && policy < FWSEL_POLICY_LAST)
        opts->policy = policy;
}
