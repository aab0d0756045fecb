/*
 * domain.c: the part of a domain definition firmware selection reads and
 * writes, as plain data
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "fwsel-domain.h"

FWSEL_ENUM_IMPL(fwselFirmware, FWSEL_FIRMWARE_LAST, "", "bios", "efi");
FWSEL_ENUM_IMPL(fwselLoaderType, FWSEL_LOADER_TYPE_LAST, "", "rom", "pflash");
FWSEL_ENUM_IMPL(fwselNvramSource, FWSEL_NVRAM_SOURCE_LAST, "file", "block", "network");
FWSEL_ENUM_IMPL(fwselLaunchSecurity, FWSEL_LAUNCH_SECURITY_LAST,
                "", "sev", "sev-snp", "tdx", "s390-pv");


fwselDomain *
fwselDomainNew(void)
{
    return g_new0(fwselDomain, 1);
}


void
fwselDomainFree(fwselDomain *dom)
{
    if (!dom)
        return;
    g_free(dom->name);
    g_free(dom->arch);
    g_free(dom->machine);
    g_free(dom->loader.path);
    g_free(dom->nvram.path);
    g_free(dom->nvram.templatePath);
    g_free(dom->kernel);
    g_free(dom->formatError);
    g_free(dom);
}


fwselDomain *
fwselDomainCopy(const fwselDomain *dom)
{
    fwselDomain *copy = g_new0(fwselDomain, 1);

    *copy = *dom;
    copy->name = g_strdup(dom->name);
    copy->arch = g_strdup(dom->arch);
    copy->formatError = g_strdup(dom->formatError);
    copy->machine = g_strdup(dom->machine);
    copy->loader.path = g_strdup(dom->loader.path);
    copy->nvram.path = g_strdup(dom->nvram.path);
    copy->nvram.templatePath = g_strdup(dom->nvram.templatePath);
    copy->kernel = g_strdup(dom->kernel);
    return copy;
}
