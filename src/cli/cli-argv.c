/*
 * cli-argv.c: virt-fwsel argv DOMAIN.xml
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>

#include "virt-fwsel.h"


int
fwselCliArgv(fwselCli *cli, int argc, char **argv)
{
    g_autoptr(fwselHost) host = NULL;
    g_autoptr(fwselCatalog) catalog = NULL;
    g_autoptr(fwselDomainXML) doc = NULL;
    g_autoptr(fwselCommand) cmd = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    guint i;

    if (argc != 1)
        return fwselCliUsage("argv takes one argument: DOMAIN.xml");

    if (!(doc = fwselDomainXMLLoad(argv[0], &err)) ||
        !(catalog = fwselCliLoad(cli, &host, &err)) ||
        !(cmd = fwselCommandBuild(host, catalog, fwselDomainXMLGetDomain(doc), &err)))
        return fwselCliFail(err);

    for (i = 0; i < cmd->notes->len; i++)
        fwselCliNote("%s", (const char *) g_ptr_array_index(cmd->notes, i));

    text = fwselCommandFormat(cmd);
    fputs(text, stdout);
    return FWSEL_EXIT_OK;
}
