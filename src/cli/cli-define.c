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


/*
 * Records the pinned firmware's role (secure-boot, enrolled-keys of its
 * descriptor) in the domain's <metadata>: libvirt 9.0 refuses firmware
 * features next to a pinned loader and drops them from the running
 * definition, and a migration destination whose builds share one code
 * file needs them to map the firmware (migrate-xml reads the record).
 * The running definition gets it too, so that the next migration carries
 * it.  A failure is a note: the definition stands.
 */
static void
fwselCliRecordRole(virDomainPtr dom, const fwselPreservation *pres)
{
    const fwselDescriptor *desc = pres->chosen;
    unsigned int flags = VIR_DOMAIN_AFFECT_CONFIG;
    g_autofree char *record = NULL;

    if (virDomainIsActive(dom) == 1)
        flags |= VIR_DOMAIN_AFFECT_LIVE;
    if (desc && fwselDescriptorHasInterface(desc, FWSEL_INTERFACE_UEFI))
        record = g_strdup_printf("<firmware secure-boot='%s' enrolled-keys='%s'/>",
                                 fwselDescriptorHasFeature(desc, FWSEL_FEATURE_SECURE_BOOT)
                                 ? "yes" : "no",
                                 fwselDescriptorHasFeature(desc, FWSEL_FEATURE_ENROLLED_KEYS)
                                 ? "yes" : "no");
    /* no descriptor: a record of earlier firmware must not stay behind */
    if (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, record,
                             record ? "fwsel" : NULL, FWSEL_PIN_METADATA_NS, flags) < 0 &&
        record)
        fwselCliNote("cannot record the firmware's role in the domain's metadata: %s",
                     virGetLastErrorMessage());
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
    fwselCliRecordRole(dom, pres);
    virDomainFree(dom);
    return 0;
}


static void
fwselCliReportDefined(const fwselCatalog *catalog,
                      const char *name,
                      const fwselPreservation *pres)
{
    const char *how = fwselPreserveOutcomeTypeToString(pres->outcome);
    g_autofree char *rules = fwselContractDescribe(&catalog->contract);

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
    printf("Rules: %s\n", rules);
}


/*
 * A defined domain's varstore, created now (sparse, atomic, owned by the
 * QEMU user) when it is missing, so that libvirt does not make a dense
 * copy of the template at the first start.  An existing file is left
 * alone.  Returns the exit status to add.
 */
static int
fwselCliDefineVarstore(fwselCli *cli,
                       const fwselCatalog *catalog,
                       const fwselDomain *dom)
{
    g_autoptr(GError) err = NULL;
    fwselNvramOwner owner = { 0 };
    int ret;

    if (cli->noNvram || !fwselDomainNeedsVarstore(dom) || !dom->nvram.path ||
        dom->nvram.source != FWSEL_NVRAM_SOURCE_FILE || !dom->nvram.templatePath)
        return FWSEL_EXIT_OK;
    if (cli->owner && fwselNvramOwnerParse(cli->owner, &owner, &err) < 0)
        return fwselCliFail(err);

    ret = fwselNvramCreate(catalog, dom, cli->owner ? &owner : NULL, 0, &err);
    if (ret < 0) {
        g_prefix_error(&err, "the domain is defined, but its varstore was not created "
                       "(libvirt will copy the template when it starts): ");
        return fwselCliFail(err);
    }
    if (ret == FWSEL_NVRAM_EXISTED)
        printf("Varstore: %s exists: left alone\n", dom->nvram.path);
    else
        printf("Varstore: created %s from %s (sparse)\n", dom->nvram.path,
               dom->nvram.templatePath);
    return FWSEL_EXIT_OK;
}


int
fwselCliDefine(fwselCli *cli, int argc, char **argv)
{
    g_autoptr(fwselCatalog) catalog = NULL;
    g_auto(fwselCliInput) in = { 0 };
    g_autoptr(fwselResult) result = NULL;
    g_autoptr(fwselDomain) selected = NULL;
    g_autoptr(fwselRequest) selectedReq = NULL;
    g_autoptr(fwselPreservation) pres = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *name = NULL;
    const fwselRequest *req;
    virConnectPtr conn = NULL;
    int ret;

    if (argc != 1)
        return fwselCliUsage("define takes one argument: DOMAIN.xml");

    if (fwselCliInputRead(argv[0], &in, &err) < 0 ||
        !(catalog = fwselCliLoad(cli, &err)))
        return fwselCliFail(err);
    req = fwselCliInputRequest(catalog, &in);
    if (!req->dom->name)
        return fwselCliUsage("%s: the domain has no <name>", argv[0]);
    /* the request's domain outlives the document, which the definition
     * rewrites */
    name = g_strdup(req->dom->name);

    /* select, then pin the choice as if the selection were the existing
     * definition: explicit files, automatic selection off */
    result = fwselEvaluate(catalog, req);
    if (fwselResultFailed(result)) {
        fwselResultToError(result, &err);
        return fwselCliFail(err);
    }
    selected = fwselFillRender(result->dom, fwselResultChosen(result), FWSEL_FORM_RECORDED, result->libvirt);
    selectedReq = fwselRequestDerive(catalog, selected, req, &req, 1);
    if (!(pres = fwselPreserve(catalog, selectedReq, req, &err)))
        return fwselCliFail(err);

    if (!(conn = fwselCliConnect(cli, &err)))
        return fwselCliFail(err);
    if (fwselCliDefinePreserved(conn, in.doc, pres, &err) < 0) {
        ret = fwselCliFail(err);
    } else {
        fwselCliReportDefined(catalog, name, pres);
        ret = fwselCliDefineVarstore(cli, catalog, pres->dom);
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
    fwselCatalog *catalog;
    virConnectPtr conn;
    fwselDomainXML *persistent;
    fwselDomainXML *live;       /* NULL unless the domain runs */
    fwselRequest *persistentReq;
    fwselRequest *currentReq;   /* the firmware the domain really has: the
                                 * running XML shows it */
} fwselCliDomain;


static void
fwselCliDomainClear(fwselCliDomain *d)
{
    fwselRequestFree(d->currentReq);
    fwselRequestFree(d->persistentReq);
    fwselDomainXMLFree(d->live);
    fwselDomainXMLFree(d->persistent);
    if (d->conn)
        virConnectClose(d->conn);
    fwselCatalogFree(d->catalog);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(fwselCliDomain, fwselCliDomainClear);


static int
fwselCliDomainOpen(fwselCli *cli, const char *name, fwselCliDomain *d, GError **error)
{
    if (!(d->catalog = fwselCliLoad(cli, error)) ||
        !(d->conn = fwselCliConnect(cli, error)) ||
        fwselCliFetch(d->conn, name, &d->persistent, &d->live, error) < 0)
        return -1;
    d->persistentReq = fwselRequestNew(d->catalog, fwselDomainXMLGetDomain(d->persistent));
    d->currentReq = fwselRequestNew(d->catalog,
                                    fwselDomainXMLGetDomain(d->live ? d->live : d->persistent));
    return 0;
}


/* The loader or varstore template @req names that is not a file on this
 * host, or NULL */
static const char *
fwselCliMissingHere(const fwselRequest *req)
{
    const fwselDomain *dom = req->dom;

    if (dom->loader.path && req->loaderFile.kind != FWSEL_PATH_REGULAR)
        return dom->loader.path;
    if (dom->nvram.templatePath && req->templateFile.kind != FWSEL_PATH_REGULAR)
        return dom->nvram.templatePath;
    return NULL;
}


/*
 * A definition in the form a libvirt that stores its selection writes
 * (9.2 and later, or 9.0 with patches/libvirt-9.0.0): firmware= together
 * with the loader and template selected at definition.  libvirt 9.0 - 9.1
 * refuse that form ("loader attribute 'readonly' cannot be specified when
 * firmware autoselection is enabled"); such a host has it after a
 * migration with --persistent from, or a downgrade of, such a daemon.  The
 * same files, pinned (autoselection off), are what it accepts.  Replaces
 * *@req and returns true when it did.
 */
static bool
fwselCliRedefineStoredSelection(const fwselCatalog *catalog, fwselRequest **req)
{
    const fwselDomain *dom = (*req)->dom;
    g_autoptr(GError) refused = NULL;
    g_autoptr(fwselDomain) pinned = NULL;
    const fwselRequest *known[] = { *req };
    fwselRequest *derived;

    if (dom->firmware == FWSEL_FIRMWARE_NONE || !dom->loader.path ||
        fwselDomainValidate(dom, &catalog->contract, &refused) == 0)
        return false;

    pinned = fwselFillRender(dom, NULL, FWSEL_FORM_PINNED, catalog->contract.libvirt);
    derived = fwselRequestDerive(catalog, pinned, *req, known, G_N_ELEMENTS(known));
    fwselRequestFree(*req);
    *req = derived;
    return true;
}


int
fwselCliRedefine(fwselCli *cli, int argc, char **argv)
{
    g_auto(fwselCliDomain) d = { 0 };
    g_autoptr(fwselPreservation) pres = NULL;
    g_autoptr(GError) err = NULL;

    if (argc != 1)
        return fwselCliUsage("redefine takes one argument: the domain name");

    if (fwselCliDomainOpen(cli, argv[0], &d, &err) < 0)
        return fwselCliFail(err);

    if (fwselCliRedefineStoredSelection(d.catalog, &d.persistentReq)) {
        g_printerr("virt-fwsel: note: the persistent definition has firmware='%s' with the "
                   "loader %s, as a libvirt that stores its selection writes it; this libvirt "
                   "refuses that: pinning the same files\n",
                   fwselFirmwareTypeToString(fwselDomainXMLGetDomain(d.persistent)->firmware),
                   d.persistentReq->dom->loader.path);
        if (!d.live)
            fwselCliRedefineStoredSelection(d.catalog, &d.currentReq);
    }

    /* A running domain whose persistent definition names firmware this
     * host does not have: the definition came with a migration from a
     * host with another layout (libvirt gives the migration hook the
     * running definition only).  The firmware it runs with is the one to
     * keep, not a file that is not here. */
    if (d.live && fwselCliMissingHere(d.persistentReq)) {
        g_printerr("virt-fwsel: note: the persistent definition names firmware this host "
                   "does not have (%s); pinning the firmware the domain runs with\n",
                   fwselCliMissingHere(d.persistentReq));
        pres = fwselPreserve(d.catalog, d.currentReq, d.currentReq, &err);
    } else {
        pres = fwselPreserve(d.catalog, d.currentReq, d.persistentReq, &err);
    }
    if (!pres || fwselCliDefinePreserved(d.conn, d.persistent, pres, &err) < 0)
        return fwselCliFail(err);

    fwselCliReportDefined(d.catalog, argv[0], pres);
    return fwselCliDefineVarstore(cli, d.catalog, pres->dom);
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
        !(drift = fwselDriftCheck(d.catalog, d.currentReq, d.persistentReq, &err)))
        return fwselCliFail(err);

    {
        g_autofree char *rules = fwselContractDescribe(&d.catalog->contract);

        printf("%s\n", drift->summary);
        printf("Rules: %s\n", rules);
    }
    if (drift->state == FWSEL_DRIFT_CHANGED && drift->fresh->nverdicts) {
        g_autofree char *reasons = fwselResultFormatVerdicts(drift->fresh, "  ");

        printf("selection today:\n%s", reasons);
    }
    return drift->state == FWSEL_DRIFT_CHANGED ? FWSEL_EXIT_FAIL : FWSEL_EXIT_OK;
}


/**
 * fwselCliAuditLibvirt:
 *
 * nvram audit through libvirt: every domain the connection knows,
 * persistent or transient; a running one is judged by its live
 * definition (the varstore it really uses).
 */
int
fwselCliAuditLibvirt(fwselCli *cli)
{
    g_autoptr(fwselCatalog) catalog = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) domains =
        g_ptr_array_new_with_free_func((GDestroyNotify) fwselCliAuditDomainFree);
    virConnectPtr conn;
    virDomainPtr *doms = NULL;
    int n;
    int i;
    int ret;

    if (!(catalog = fwselCliLoad(cli, &err)) ||
        !(conn = fwselCliConnect(cli, &err)))
        return fwselCliFail(err);
    if ((n = virConnectListAllDomains(conn, &doms, 0)) < 0) {
        fwselCliLibvirtError(&err, "cannot list the domains");
        virConnectClose(conn);
        return fwselCliFail(err);
    }
    for (i = 0; i < n; i++) {
        fwselCliAuditDomain *d = g_new0(fwselCliAuditDomain, 1);
        g_autoptr(GError) derr = NULL;
        g_autofree char *xml = NULL;
        int active = virDomainIsActive(doms[i]);

        d->name = g_strdup(virDomainGetName(doms[i]));
        d->state = g_strdup(active == 1 ? "running" : "shut off");
        g_ptr_array_add(domains, d);
        if (!(xml = fwselCliDomainXML(doms[i], active == 1 ? 0 : VIR_DOMAIN_XML_INACTIVE,
                                      &derr)) ||
            !(d->doc = fwselDomainXMLParse(d->name, xml, strlen(xml), &derr)))
            d->error = g_strdup_printf("cannot read its definition: %s", derr->message);
        virDomainFree(doms[i]);
    }
    free(doms);
    ret = fwselCliAuditReport(cli, catalog, domains);
    virConnectClose(conn);
    return ret;
}


/**
 * fwselCliDomainRunning:
 *
 * Whether libvirt runs the domain @name: 1 running (or paused), 0 shut
 * off or not defined, -1 when libvirt cannot be asked.
 */
int
fwselCliDomainRunning(fwselCli *cli, const char *name, GError **error)
{
    virConnectPtr conn;
    virDomainPtr dom;
    int active;

    if (!(conn = fwselCliConnect(cli, error)))
        return -1;
    if (!(dom = virDomainLookupByName(conn, name))) {
        virConnectClose(conn);
        return 0;
    }
    active = virDomainIsActive(dom);
    virDomainFree(dom);
    virConnectClose(conn);
    if (active < 0) {
        fwselCliLibvirtError(error, "cannot tell whether the domain runs");
        return -1;
    }
    return active;
}
