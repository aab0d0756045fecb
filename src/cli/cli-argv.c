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
    g_autoptr(fwselCatalog) catalog = NULL;
    g_auto(fwselCliInput) in = { 0 };
    g_autoptr(fwselResult) result = NULL;
    g_autoptr(fwselCommand) cmd = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    guint i;

    if (argc != 1)
        return fwselCliUsage("argv takes one argument: DOMAIN.xml");

    if (fwselCliInputRead(argv[0], &in, &err) < 0 ||
        !(catalog = fwselCliLoad(cli, &err)))
        return fwselCliFail(err);
    result = fwselEvaluate(catalog, fwselCliInputRequest(catalog, &in));
    if (!(cmd = fwselCommandBuild(in.req, result, &err)))
        return fwselCliFail(err);

    for (i = 0; i < cmd->notes->len; i++)
        fwselCliNote("%s", (const char *) g_ptr_array_index(cmd->notes, i));

    text = fwselCommandFormat(cmd);
    fputs(text, stdout);
    return FWSEL_EXIT_OK;
}
