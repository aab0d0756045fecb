/*
 * cli-preserve.c: virt-fwsel preserve EXISTING.xml NEW.xml and
 * virt-fwsel migrate-xml DOMAIN.xml
 *
 * Both print the new definition on stdout.  On stderr: why selection ran
 * again ("re-selecting firmware: ..."), a varstore that needs a reset
 * ("warning: ..."), and notes.  A definition whose firmware is simply
 * kept prints nothing on stderr.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>

#include "virt-fwsel.h"


static void
fwselCliPreserveReport(const fwselCatalog *catalog, const fwselPreservation *pres)
{
    guint i;

    for (i = 0; i < pres->reasons->len; i++)
        fprintf(stderr, "virt-fwsel: re-selecting firmware: %s\n",
                (const char *) g_ptr_array_index(pres->reasons, i));
    if (pres->outcome == FWSEL_PRESERVE_RESELECTED) {
        g_autofree char *rules = fwselContractDescribe(&catalog->contract);

        if (pres->chosen)
            fprintf(stderr, "virt-fwsel: selected %s: %s (%s)\n", pres->chosen->name,
                    pres->dom->loader.path ? pres->dom->loader.path : pres->chosen->path,
                    rules);
        else
            fprintf(stderr, "virt-fwsel: no descriptor selected: the domain keeps the "
                    "firmware it names, or QEMU's default\n");
    }
    if (pres->varstoreReset)
        fprintf(stderr, "virt-fwsel: warning: the varstore needs a reset: %s; once the "
                "new definition is in place, reset it from the new template before the "
                "guest relies on it ('virsh start --reset-nvram', or 'virt-fwsel nvram "
                "reset' on the new definition)\n", pres->varstoreResetWhy);
    for (i = 0; i < pres->notes->len; i++)
        fwselCliNote("%s", (const char *) g_ptr_array_index(pres->notes, i));
}


static int
fwselCliPreserveWrite(fwselDomainXML *doc, const fwselPreservation *pres)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *xml = NULL;

    if (fwselPreserveApply(doc, pres, &err) < 0)
        return fwselCliFail(err);
    xml = fwselDomainXMLFormat(doc);
    fputs(xml, stdout);
    return FWSEL_EXIT_OK;
}


int
fwselCliPreserve(fwselCli *cli, int argc, char **argv)
{
    g_autoptr(fwselCatalog) catalog = NULL;
    g_auto(fwselCliInput) existing = { 0 };
    g_auto(fwselCliInput) requested = { 0 };
    g_autoptr(fwselPreservation) pres = NULL;
    g_autoptr(GError) err = NULL;

    if (argc != 2)
        return fwselCliUsage("preserve takes two arguments: EXISTING.xml NEW.xml");

    if (fwselCliInputRead(argv[0], &existing, &err) < 0 ||
        fwselCliInputRead(argv[1], &requested, &err) < 0 ||
        !(catalog = fwselCliLoad(cli, &err)) ||
        !(pres = fwselPreserve(catalog, fwselCliInputRequest(catalog, &existing),
                               fwselCliInputRequest(catalog, &requested), &err)))
        return fwselCliFail(err);

    fwselCliPreserveReport(catalog, pres);
    return fwselCliPreserveWrite(requested.doc, pres);
}


int
fwselCliMigrateXML(fwselCli *cli, int argc, char **argv)
{
    g_autoptr(fwselCatalog) catalog = NULL;
    g_auto(fwselCliInput) in = { 0 };
    g_autoptr(fwselPreservation) pres = NULL;
    g_autoptr(GError) err = NULL;

    if (argc != 1)
        return fwselCliUsage("migrate-xml takes one argument: DOMAIN.xml");

    if (fwselCliInputRead(argv[0], &in, &err) < 0 ||
        !(catalog = fwselCliLoad(cli, &err)) ||
        !(pres = fwselMigratePin(catalog, fwselCliInputRequest(catalog, &in), &err)))
        return fwselCliFail(err);

    fwselCliPreserveReport(catalog, pres);
    return fwselCliPreserveWrite(in.doc, pres);
}
