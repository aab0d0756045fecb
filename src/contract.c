/*
 * contract.c: which libvirt version's rules apply, and which policy
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fwsel-contract.h"

FWSEL_ENUM_IMPL(fwselLibvirt, FWSEL_LIBVIRT_LAST, "9.0", "11.3", "11.8");
FWSEL_ENUM_IMPL(fwselPolicy, FWSEL_POLICY_LAST, "libvirt", "safe");

/* Where distributions install libvirt.so.0 */
static const char *const fwselLibvirtLibDirs[] = {
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/lib/powerpc64le-linux-gnu",
    "/usr/lib/s390x-linux-gnu",
    "/usr/lib/riscv64-linux-gnu",
    "/usr/lib64",
    "/usr/lib",
};


void
fwselContractClear(fwselContract *contract)
{
    g_clear_pointer(&contract->version, g_free);
}


/* "MAJOR.MINOR[.MICRO]", each a decimal number */
int
fwselLibvirtParseVersion(const char *version,
                         unsigned int *major,
                         unsigned int *minor,
                         unsigned int *micro)
{
    g_auto(GStrv) parts = NULL;
    guint64 n[3] = { 0, 0, 0 };
    guint len;
    guint i;

    if (!version || !*version)
        return -1;
    parts = g_strsplit(version, ".", 0);
    len = g_strv_length(parts);
    if (len < 2 || len > 3)
        return -1;
    for (i = 0; i < len; i++) {
        if (!*parts[i] || !g_ascii_string_to_unsigned(parts[i], 10, 0, 9999, &n[i], NULL))
            return -1;
    }
    *major = n[0];
    *minor = n[1];
    *micro = n[2];
    return 0;
}


/**
 * fwselLibvirtForVersion:
 *
 * The modelled behaviour a libvirt release has.  Releases before 9.0 are
 * answered as 9.0 (firmware autoselection has worked the same way since
 * 7.x, as far as fwsel models it).
 */
fwselLibvirt
fwselLibvirtForVersion(unsigned int major, unsigned int minor)
{
    unsigned int v = major * 1000 + minor;

    if (v < 9002)
        return FWSEL_LIBVIRT_9_0;
    if (v < 11008)
        return FWSEL_LIBVIRT_11_3;
    return FWSEL_LIBVIRT_11_8;
}


/* --libvirt VERSION */
int
fwselContractFromVersion(fwselContract *contract,
                         const char *version,
                         GError **error)
{
    unsigned int major, minor, micro;

    if (fwselLibvirtParseVersion(version, &major, &minor, &micro) < 0) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "--libvirt: '%s' is not a libvirt version (MAJOR.MINOR or "
                    "MAJOR.MINOR.MICRO, e.g. 9.0 or 11.3.0)", version ? version : "");
        return -1;
    }
    contract->libvirt = fwselLibvirtForVersion(major, minor);
    contract->source = FWSEL_LIBVIRT_SOURCE_OPTION;
    g_free(contract->version);
    contract->version = g_strdup(version);
    return 0;
}


/* "libvirt.so.0.MMMmmm.micro": libvirt's library version is
 * major * 1000 + minor, then micro */
static bool
fwselLibvirtFromLibName(const char *name,
                        unsigned int *major,
                        unsigned int *minor,
                        unsigned int *micro)
{
    const char *rest;
    guint64 code, mic;
    g_auto(GStrv) parts = NULL;

    if (!g_str_has_prefix(name, "libvirt.so.0."))
        return false;
    rest = name + strlen("libvirt.so.0.");
    parts = g_strsplit(rest, ".", 0);
    if (g_strv_length(parts) != 2 ||
        !g_ascii_string_to_unsigned(parts[0], 10, 1000, 999999, &code, NULL) ||
        !g_ascii_string_to_unsigned(parts[1], 10, 0, 9999, &mic, NULL))
        return false;
    *major = code / 1000;
    *minor = code % 1000;
    *micro = mic;
    return true;
}


/**
 * fwselContractDetect:
 *
 * The libvirt version installed on the host (its libvirt.so.0.* file,
 * read under the root), else the newest modelled.  Nothing is run.
 */
void
fwselContractDetect(fwselContract *contract, const fwselRoot *root)
{
    fwselPathFact usrlib;
    bool haveUsrLib;
    size_t i;

    /* most trees have no /usr/lib at all: one look instead of six */
    fwselRootResolve(root, "/usr/lib", &usrlib);
    haveUsrLib = usrlib.kind == FWSEL_PATH_DIRECTORY;
    fwselPathFactClear(&usrlib);

    for (i = 0; i < G_N_ELEMENTS(fwselLibvirtLibDirs); i++) {
        unsigned int best = 0, bestMajor = 0, bestMinor = 0, bestMicro = 0;
        struct dirent *ent;
        DIR *d;
        int fd;

        if (!haveUsrLib && g_str_has_prefix(fwselLibvirtLibDirs[i], "/usr/lib/"))
            continue;
        if (g_str_equal(fwselLibvirtLibDirs[i], "/usr/lib") && !haveUsrLib)
            continue;
        if ((fd = fwselRootOpenDir(root, fwselLibvirtLibDirs[i], NULL, NULL)) < 0)
            continue;
        if (!(d = fdopendir(fd))) {
            close(fd);
            continue;
        }
        while ((ent = readdir(d))) {
            unsigned int major, minor, micro;

            if (!fwselLibvirtFromLibName(ent->d_name, &major, &minor, &micro))
                continue;
            if (major * 1000000 + minor * 1000 + micro >= best) {
                best = major * 1000000 + minor * 1000 + micro;
                bestMajor = major;
                bestMinor = minor;
                bestMicro = micro;
            }
        }
        closedir(d);
        if (best) {
            contract->libvirt = fwselLibvirtForVersion(bestMajor, bestMinor);
            contract->source = FWSEL_LIBVIRT_SOURCE_HOST;
            g_free(contract->version);
            contract->version = g_strdup_printf("%u.%u.%u", bestMajor, bestMinor, bestMicro);
            return;
        }
    }
    contract->libvirt = FWSEL_LIBVIRT_LAST - 1;
    contract->source = FWSEL_LIBVIRT_SOURCE_NEWEST;
    g_free(contract->version);
    contract->version = NULL;
}


/* "libvirt 9.0.0 (installed on the host): rules of libvirt 9.0 - 9.1" */
char *
fwselContractDescribe(const fwselContract *contract)
{
    static const char *const ranges[] = {
        [FWSEL_LIBVIRT_9_0] = "9.0 - 9.1",
        [FWSEL_LIBVIRT_11_3] = "9.2 - 11.7",
        [FWSEL_LIBVIRT_11_8] = "11.8 and later",
    };
    g_autoptr(GString) out = g_string_new(NULL);

    switch (contract->source) {
    case FWSEL_LIBVIRT_SOURCE_OPTION:
        g_string_append_printf(out, "libvirt %s (--libvirt)", contract->version);
        break;
    case FWSEL_LIBVIRT_SOURCE_HOST:
        g_string_append_printf(out, "libvirt %s (installed on the host)", contract->version);
        break;
    case FWSEL_LIBVIRT_SOURCE_NEWEST:
    case FWSEL_LIBVIRT_SOURCE_LAST:
        g_string_append(out, "no libvirt found on the host, newest modelled");
        break;
    }
    g_string_append_printf(out, ": rules of libvirt %s", ranges[contract->libvirt]);
    if (contract->policy == FWSEL_POLICY_SAFE)
        g_string_append(out, ", with fwsel's safe policy");
    return g_string_free(g_steal_pointer(&out), FALSE);
}
