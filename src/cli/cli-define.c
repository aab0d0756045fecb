/*
 * cli-define.c: define, redefine and drift, through libvirt's public API
 *
 * libvirt 9.0.0 selects firmware at every start and keeps only
 * firmware='efi' in the persistent definition, so a new descriptor or an
 * OVMF package update can switch a guest's firmware.  These commands give
 * such hosts what libvirt >= 9.2 does internally: the choice is made once,
 * at definition, and written into the persistent XML as explicit loader
 * and varstore paths.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "virt-fwsel.h"
#include "fwsel-preserve.h"
#include "fwsel-drift.h"

#define FWSEL_DEFAULT_URI "qemu:///system"


static void
fwselCliLibvirtQuiet(void *opaque G_GNUC_UNUSED, virErrorPtr err G_GNUC_UNUSED)
{
    /* errors are reported through GError, once */
}


static void
fwselCliLibvirtError(GError **error, const char *what)
{
    const char *msg = virGetLastErrorMessage();

    g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO, "%s: %s", what,
                msg ? msg : "unknown libvirt error");
}


static virConnectPtr
fwselCliConnect(fwselCli *cli, GError **error)
{
    const char *uri = cli->connect ? cli->connect : FWSEL_DEFAULT_URI;
    virConnectPtr conn;

    virSetErrorFunc(NULL, fwselCliLibvirtQuiet);
    if (!(conn = virConnectOpen(uri))) {
        g_autofree char *what = g_strdup_printf("cannot connect to %s", uri);

        fwselCliLibvirtError(error, what);
    }
    return conn;
}


static char *
fwselCliDomainXML(virDomainPtr dom, unsigned int flags, GError **error)
{
    char *xml = virDomainGetXMLDesc(dom, flags | VIR_DOMAIN_XML_SECURE);
    char *copy;

    if (!xml) {
        fwselCliLibvirtError(error, "cannot read the domain XML");
        return NULL;
    }
    copy = g_strdup(xml);
    free(xml);
    return copy;
}


/* Writes the preservation into @doc and defines the result */
static int
fwselCliDefinePreserved(virConnectPtr conn,
                        fwselDomainXML *doc,
                        const fwselPreservation *pres,
                        GError **error)
{
    g_autofree char *xml = NULL;
    virDomainPtr dom;
    guint i;

    if (fwselPreserveApply(doc, pres, error) < 0)
        return -1;
    xml = fwselDomainXMLFormat(doc);

    for (i = 0; i < pres->reasons->len; i++)
        fwselCliNote("selected again: %s", (const char *) g_ptr_array_index(pres->reasons, i));
    for (i = 0; i < pres->notes->len; i++)
        fwselCliNote("%s", (const char *) g_ptr_array_index(pres->notes, i));
    if (pres->varstoreReset)
        fwselCliNote("the varstore must be reset: %s", pres->varstoreResetWhy);

    if (!(dom = virDomainDefineXML(conn, xml))) {
        fwselCliLibvirtError(error, "libvirt refused the definition");
        return -1;
    }
    virDomainFree(dom);
    return 0;
}


static void
fwselCliReportDefined(const char *name, const fwselPreservation *pres)
{
    const char *how = fwselPreserveOutcomeTypeToString(pres->outcome);

    if (pres->dom->loader.path)
        printf("Domain '%s' defined (%s): loader %s%s%s%s\n", name, how,
               pres->dom->loader.path,
               pres->dom->nvram.path ? ", varstore " : "",
               pres->dom->nvram.path ? pres->dom->nvram.path : "",
               pres->chosen ? "" : " (no descriptor describes it)");
    else
        printf("Domain '%s' defined (%s): no loader\n", name, how);
    if (pres->chosen)
        printf("Firmware descriptor: %s\n", pres->chosen->path);
}


int
fwselCliDefine(fwselCli *cli, int argc, char **argv)
{
    g_autoptr(fwselHost) host = NULL;
    g_autoptr(fwselCatalog) catalog = NULL;
    g_autoptr(fwselDomainXML) doc = NULL;
    g_autoptr(fwselSelection) sel = NULL;
    g_autoptr(fwselPreservation) pres = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *name = NULL;
    const fwselDomain *dom;
    virConnectPtr conn = NULL;
    int ret;

    if (argc != 1)
        return fwselCliUsage("define takes one argument: DOMAIN.xml");

    if (!(doc = fwselDomainXMLLoad(argv[0], &err)) ||
        !(catalog = fwselCliLoad(cli, &host, &err)))
        return fwselCliFail(err);
    dom = fwselDomainXMLGetDomain(doc);
    if (!dom->name)
        return fwselCliUsage("%s: the domain has no <name>", argv[0]);
    /* @dom belongs to @doc, which the definition rewrites */
    name = g_strdup(dom->name);

    /* select, then pin the choice as if the selection were the existing
     * definition: explicit files, automatic selection off */
    if (!(sel = fwselSelect(host, catalog, dom, &err)) ||
        !(pres = fwselPreserve(host, catalog, sel->dom, dom, &err)))
        return fwselCliFail(err);

    if (!(conn = fwselCliConnect(cli, &err)))
        return fwselCliFail(err);
    if (fwselCliDefinePreserved(conn, doc, pres, &err) < 0) {
        ret = fwselCliFail(err);
    } else {
        fwselCliReportDefined(name, pres);
        ret = FWSEL_EXIT_OK;
    }
    virConnectClose(conn);
    return ret;
}


/* The persistent definition of @name and, when it runs, its live one */
static int
fwselCliFetch(virConnectPtr conn,
              const char *name,
              fwselDomainXML **persistent,
              fwselDomainXML **live,
              GError **error)
{
    g_autofree char *pxml = NULL;
    g_autofree char *lxml = NULL;
    virDomainPtr dom;
    int active;

    if (!(dom = virDomainLookupByName(conn, name))) {
        g_autofree char *what = g_strdup_printf("domain '%s'", name);

        fwselCliLibvirtError(error, what);
        return -1;
    }
    active = virDomainIsActive(dom);
    pxml = fwselCliDomainXML(dom, VIR_DOMAIN_XML_INACTIVE, error);
    if (pxml && active == 1)
        lxml = fwselCliDomainXML(dom, 0, error);
    virDomainFree(dom);
    if (!pxml || (active == 1 && !lxml))
        return -1;

    if (!(*persistent = fwselDomainXMLParse("persistent XML", pxml, strlen(pxml), error)))
        return -1;
    if (lxml && !(*live = fwselDomainXMLParse("live XML", lxml, strlen(lxml), error)))
        return -1;
    return 0;
}


/* A defined domain, with what the commands on it need */
typedef struct {
    fwselHost *host;
    fwselCatalog *catalog;
    virConnectPtr conn;
    fwselDomainXML *persistent;
    fwselDomainXML *live;       /* NULL unless the domain runs */
} fwselCliDomain;


static void
fwselCliDomainClear(fwselCliDomain *d)
{
    fwselDomainXMLFree(d->live);
    fwselDomainXMLFree(d->persistent);
    if (d->conn)
        virConnectClose(d->conn);
    fwselCatalogFree(d->catalog);
    fwselHostFree(d->host);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(fwselCliDomain, fwselCliDomainClear);


static int
fwselCliDomainOpen(fwselCli *cli, const char *name, fwselCliDomain *d, GError **error)
{
    if (!(d->catalog = fwselCliLoad(cli, &d->host, error)) ||
        !(d->conn = fwselCliConnect(cli, error)))
        return -1;
    return fwselCliFetch(d->conn, name, &d->persistent, &d->live, error);
}


/* The firmware the domain really has: the running XML shows it */
static const fwselDomain *
fwselCliDomainCurrent(const fwselCliDomain *d)
{
    return fwselDomainXMLGetDomain(d->live ? d->live : d->persistent);
}


int
fwselCliRedefine(fwselCli *cli, int argc, char **argv)
{
    g_auto(fwselCliDomain) d = { 0 };
    g_autoptr(fwselPreservation) pres = NULL;
    g_autoptr(GError) err = NULL;

    if (argc != 1)
        return fwselCliUsage("redefine takes one argument: the domain name");

    if (fwselCliDomainOpen(cli, argv[0], &d, &err) < 0 ||
        !(pres = fwselPreserve(d.host, d.catalog, fwselCliDomainCurrent(&d),
                               fwselDomainXMLGetDomain(d.persistent), &err)) ||
        fwselCliDefinePreserved(d.conn, d.persistent, pres, &err) < 0)
        return fwselCliFail(err);

    fwselCliReportDefined(argv[0], pres);
    return FWSEL_EXIT_OK;
}


int
fwselCliDrift(fwselCli *cli, int argc, char **argv)
{
    g_auto(fwselCliDomain) d = { 0 };
    g_autoptr(fwselDrift) drift = NULL;
    g_autoptr(GError) err = NULL;

    if (argc != 1)
        return fwselCliUsage("drift takes one argument: the domain name");

    if (fwselCliDomainOpen(cli, argv[0], &d, &err) < 0 ||
        !(drift = fwselDriftCheck(d.host, d.catalog, fwselCliDomainCurrent(&d),
                                  fwselDomainXMLGetDomain(d.persistent), &err)))
        return fwselCliFail(err);

    printf("%s\n", drift->summary);
    if (drift->state == FWSEL_DRIFT_CHANGED && drift->fresh->match) {
        g_autofree char *reasons = fwselMatchFormatReasons(drift->fresh->match, "  ");

        printf("selection today:\n%s", reasons);
    }
    return drift->state == FWSEL_DRIFT_CHANGED ? FWSEL_EXIT_FAIL : FWSEL_EXIT_OK;
}
