/*
 * cli-select.c: list, select, explain and check
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <json-c/json.h>

#include "virt-fwsel.h"


static void
fwselCliPrintJSON(json_object *obj)
{
    printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
                                                       JSON_C_TO_STRING_SPACED |
                                                       JSON_C_TO_STRING_NOSLASHESCAPE));
}


static json_object *
fwselCliJSONStr(const char *s)
{
    return s ? json_object_new_string(s) : NULL;
}


static char *
fwselCliFeatureList(const fwselDescriptor *desc)
{
    g_autoptr(GString) out = g_string_new(NULL);
    char **unknown;
    int f;

    for (f = 0; f < FWSEL_FEATURE_LAST; f++) {
        if (fwselDescriptorHasFeature(desc, f))
            g_string_append_printf(out, "%s%s", out->len ? " " : "", fwselFeatureTypeToString(f));
    }
    for (unknown = desc->unknownFeatures; unknown && *unknown; unknown++)
        g_string_append_printf(out, "%s%s(unknown)", out->len ? " " : "", *unknown);
    return g_string_free(g_steal_pointer(&out), FALSE);
}


static char *
fwselCliMappingText(const fwselDescriptor *desc)
{
    switch (desc->device) {
    case FWSEL_DEVICE_FLASH:
        if (desc->mode == FWSEL_FLASH_MODE_SPLIT)
            return g_strdup_printf("flash split: %s (%s) + template %s (%s)",
                                   desc->executable.filename,
                                   fwselFormatTypeToString(desc->executable.format),
                                   desc->nvramTemplate.filename,
                                   fwselFormatTypeToString(desc->nvramTemplate.format));
        return g_strdup_printf("flash %s: %s (%s)",
                               fwselFlashModeTypeToString(desc->mode),
                               desc->executable.filename,
                               fwselFormatTypeToString(desc->executable.format));
    case FWSEL_DEVICE_MEMORY:
    case FWSEL_DEVICE_KERNEL:
    case FWSEL_DEVICE_IGVM:
        return g_strdup_printf("%s: %s", fwselDeviceTypeToString(desc->device), desc->filename);
    case FWSEL_DEVICE_NONE:
    case FWSEL_DEVICE_LAST:
        break;
    }
    return g_strdup("?");
}


static char *
fwselCliInterfaces(const fwselDescriptor *desc)
{
    g_autoptr(GString) out = g_string_new(NULL);
    int i;

    for (i = 1; i < FWSEL_INTERFACE_LAST; i++) {
        if (fwselDescriptorHasInterface(desc, i))
            g_string_append_printf(out, "%s%s", out->len ? " " : "", fwselInterfaceTypeToString(i));
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}


static json_object *
fwselCliDescriptorJSON(const fwselDescriptor *desc)
{
    json_object *obj = json_object_new_object();
    json_object *arr;
    char **unknown;
    size_t i;
    int f;

    arr = json_object_new_array();
    for (f = 1; f < FWSEL_INTERFACE_LAST; f++) {
        if (fwselDescriptorHasInterface(desc, f))
            json_object_array_add(arr, json_object_new_string(fwselInterfaceTypeToString(f)));
    }
    json_object_object_add(obj, "interface-types", arr);
    json_object_object_add(obj, "device", json_object_new_string(fwselDeviceTypeToString(desc->device)));
    if (desc->device == FWSEL_DEVICE_FLASH) {
        json_object_object_add(obj, "mode", json_object_new_string(fwselFlashModeTypeToString(desc->mode)));
        json_object_object_add(obj, "executable", json_object_new_string(desc->executable.filename));
        json_object_object_add(obj, "executable-format",
                               json_object_new_string(fwselFormatTypeToString(desc->executable.format)));
        if (desc->mode == FWSEL_FLASH_MODE_SPLIT) {
            json_object_object_add(obj, "nvram-template", json_object_new_string(desc->nvramTemplate.filename));
            json_object_object_add(obj, "nvram-template-format",
                                   json_object_new_string(fwselFormatTypeToString(desc->nvramTemplate.format)));
        }
    } else {
        json_object_object_add(obj, "filename", json_object_new_string(desc->filename));
    }

    arr = json_object_new_array();
    for (i = 0; i < desc->ntargets; i++) {
        json_object *t = json_object_new_object();
        json_object *machines = json_object_new_array();
        char **m;

        for (m = desc->targets[i].machines; *m; m++)
            json_object_array_add(machines, json_object_new_string(*m));
        json_object_object_add(t, "architecture", json_object_new_string(desc->targets[i].architecture));
        json_object_object_add(t, "machines", machines);
        json_object_array_add(arr, t);
    }
    json_object_object_add(obj, "targets", arr);

    arr = json_object_new_array();
    for (f = 0; f < FWSEL_FEATURE_LAST; f++) {
        if (fwselDescriptorHasFeature(desc, f))
            json_object_array_add(arr, json_object_new_string(fwselFeatureTypeToString(f)));
    }
    json_object_object_add(obj, "features", arr);
    if (desc->unknownFeatures) {
        arr = json_object_new_array();
        for (unknown = desc->unknownFeatures; *unknown; unknown++)
            json_object_array_add(arr, json_object_new_string(*unknown));
        json_object_object_add(obj, "unknown-features", arr);
    }
    return obj;
}


int
fwselCliList(fwselCli *cli, int argc, char **argv G_GNUC_UNUSED)
{
    g_autoptr(fwselCatalog) catalog = NULL;
    g_autoptr(GError) err = NULL;
    json_object *arr = NULL;
    size_t i;

    if (argc != 0)
        return fwselCliUsage("list takes no arguments");
    if (!(catalog = fwselCliLoad(cli, &err)))
        return fwselCliFail(err);

    if (cli->json)
        arr = json_object_new_array();

    for (i = 0; i < catalog->nentries; i++) {
        const fwselEntry *e = catalog->entries[i];

        if (cli->json) {
            json_object *obj = json_object_new_object();

            json_object_object_add(obj, "name", json_object_new_string(e->name));
            json_object_object_add(obj, "path", json_object_new_string(e->path));
            json_object_object_add(obj, "state",
                                   json_object_new_string(fwselEntryStateTypeToString(e->state)));
            if (e->winner)
                json_object_object_add(obj, "replaced-by", fwselCliJSONStr(e->winner));
            if (e->error)
                json_object_object_add(obj, "error", fwselCliJSONStr(e->error));
            if (e->desc) {
                json_object_object_add(obj, "description", fwselCliJSONStr(e->desc->description));
                json_object_object_add(obj, "descriptor", fwselCliDescriptorJSON(e->desc));
            }
            json_object_array_add(arr, obj);
            continue;
        }

        switch (e->state) {
        case FWSEL_ENTRY_ACTIVE: {
            g_autofree char *ifaces = fwselCliInterfaces(e->desc);
            g_autofree char *mapping = fwselCliMappingText(e->desc);
            g_autofree char *features = fwselCliFeatureList(e->desc);
            size_t t;

            printf("%s  %s\n", e->name, e->path);
            printf("    %s, %s\n", ifaces, mapping);
            for (t = 0; t < e->desc->ntargets; t++) {
                g_autofree char *machines = g_strjoinv(" ", e->desc->targets[t].machines);

                printf("    target: %s %s\n", e->desc->targets[t].architecture, machines);
            }
            printf("    features: %s\n", *features ? features : "(none)");
            break;
        }
        case FWSEL_ENTRY_INVALID:
            printf("%s  %s  [invalid, skipped]\n    %s\n", e->name, e->path, e->error);
            break;
        case FWSEL_ENTRY_SHADOWED:
            printf("%s  %s  [shadowed by %s]\n", e->name, e->path, e->winner);
            break;
        case FWSEL_ENTRY_MASK:
            printf("%s  %s  [mask: empty file, hides this name]\n", e->name, e->path);
            break;
        case FWSEL_ENTRY_IGNORED:
            printf("%s  %s  [ignored]\n    %s\n", e->name, e->path, e->error);
            break;
        case FWSEL_ENTRY_LAST:
            break;
        }
    }

    if (cli->json) {
        fwselCliPrintJSON(arr);
        json_object_put(arr);
    } else if (catalog->nentries == 0) {
        printf("no firmware descriptors found\n");
    }
    return FWSEL_EXIT_OK;
}


int
fwselCliSelect(fwselCli *cli, int argc, char **argv)
{
    g_autoptr(fwselCatalog) catalog = NULL;
    g_auto(fwselCliInput) in = { 0 };
    g_autoptr(fwselResult) result = NULL;
    g_autoptr(fwselDomain) out = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *xml = NULL;
    guint i;

    if (argc != 1)
        return fwselCliUsage("select takes one argument: DOMAIN.xml");

    if (fwselCliInputRead(argv[0], &in, &err) < 0 ||
        !(catalog = fwselCliLoad(cli, &err)))
        return fwselCliFail(err);
    result = fwselEvaluate(catalog, fwselCliInputRequest(catalog, &in));
    if (fwselResultFailed(result))
        return fwselCliResultFail(result, argv[0]);

    out = fwselFillRender(result->dom, fwselResultChosen(result), FWSEL_FORM_RECORDED, result->libvirt);
    if (fwselDomainXMLUpdate(in.doc, out, &err) < 0)
        return fwselCliFail(err);

    for (i = 0; i < result->notes->len; i++)
        fwselCliNote("%s", (const char *) g_ptr_array_index(result->notes, i));
    fwselCliNvramSelectWarn(catalog, result->dom);

    xml = fwselDomainXMLFormat(in.doc);
    fputs(xml, stdout);
    return FWSEL_EXIT_OK;
}


/* The varstore template a descriptor gives new guests, or NULL */
static const char *
fwselCliDescriptorTemplate(const fwselDescriptor *desc)
{
    if (!desc || desc->device != FWSEL_DEVICE_FLASH || desc->mode != FWSEL_FLASH_MODE_SPLIT)
        return NULL;
    return desc->nvramTemplate.filename;
}


/* Whether explain shows the template's keys for verdict @v: the
 * descriptors that fit the domain (selected, or matching too) */
static const char *
fwselCliVerdictTemplate(const fwselVerdict *v)
{
    if (v->kind != FWSEL_VERDICT_SELECTED && v->kind != FWSEL_VERDICT_MATCH)
        return NULL;
    return fwselCliDescriptorTemplate(v->entry->desc);
}


static json_object *
fwselCliVerdictsJSON(const fwselResult *result, fwselCliTemplates *templates)
{
    json_object *arr = json_object_new_array();
    size_t i;

    for (i = 0; i < result->nverdicts; i++) {
        const fwselVerdict *v = &result->verdicts[i];
        json_object *obj = json_object_new_object();

        json_object_object_add(obj, "name", json_object_new_string(v->entry->name));
        json_object_object_add(obj, "path", json_object_new_string(v->entry->path));
        json_object_object_add(obj, "verdict",
                               json_object_new_string(fwselVerdictKindTypeToString(v->kind)));
        if (v->kind == FWSEL_VERDICT_REJECTED)
            json_object_object_add(obj, "rule",
                                   json_object_new_string(fwselRuleTypeToString(v->rule)));
        if (v->reason)
            json_object_object_add(obj, "reason", json_object_new_string(v->reason));
        if (fwselCliVerdictTemplate(v)) {
            const char *path = fwselCliVerdictTemplate(v);

            json_object_object_add(obj, "nvram-template", json_object_new_string(path));
            json_object_object_add(obj, "template-keys",
                                   fwselCliTemplateFactsToJSON(fwselCliTemplatesGet(templates,
                                                                                    path)));
        }
        json_object_array_add(arr, obj);
    }
    return arr;
}


/* The one-line outcome explain prints after the verdicts, and its exit
 * status */
static char *
fwselCliExplainOutcome(const fwselCatalog *catalog,
                       const fwselDomain *dom,
                       const fwselResult *result,
                       int *ret)
{
    *ret = FWSEL_EXIT_OK;
    if (result->chosen)
        return g_strdup("selected");

    switch (result->outcome) {
    case FWSEL_OUTCOME_NOTHING:
        return g_strdup("nothing to select: no firmware= and no pflash loader, the "
                        "domain keeps the firmware it names (or QEMU's default)");
    case FWSEL_OUTCOME_NO_MATCH:
        *ret = FWSEL_EXIT_FAIL;
        return g_strdup("no match");
    case FWSEL_OUTCOME_INVALID:
        *ret = FWSEL_EXIT_USAGE;
        return g_strdup(result->error);
    case FWSEL_OUTCOME_UNDESCRIBED:
    case FWSEL_OUTCOME_SELECTED:
    case FWSEL_OUTCOME_LAST:
        break;
    }

    if (result->notes->len > 0)
        return g_strdup(g_ptr_array_index(result->notes, 0));
    if (dom->nvram.templatePath)
        return g_strdup_printf("no descriptor describes this loader; the domain names "
                               "its varstore template %s", dom->nvram.templatePath);
    if (result->dom->nvram.templatePath)
        return g_strdup_printf("no descriptor describes this loader; %s nvram "
                               "list gives the varstore template %s",
                               catalog->settings.nvramPairsFromConf ? "qemu.conf's"
                                                                    : "libvirt's built-in",
                               result->dom->nvram.templatePath);
    return g_strdup("no descriptor describes this loader");
}


int
fwselCliExplain(fwselCli *cli, int argc, char **argv)
{
    g_autoptr(fwselCatalog) catalog = NULL;
    g_auto(fwselCliInput) in = { 0 };
    g_autoptr(fwselResult) result = NULL;
    g_autoptr(GError) err = NULL;
    const fwselDomain *dom;
    g_autofree char *outcome = NULL;
    g_autofree char *rules = NULL;
    g_autoptr(fwselCliTemplates) templates = NULL;
    int ret;

    if (argc != 1)
        return fwselCliUsage("explain takes one argument: DOMAIN.xml");

    if (fwselCliInputRead(argv[0], &in, &err) < 0 ||
        !(catalog = fwselCliLoad(cli, &err)) ||
        !(templates = fwselCliTemplatesNew(cli, catalog, &err)))
        return fwselCliFail(err);
    dom = fwselDomainXMLGetDomain(in.doc);
    result = fwselEvaluate(catalog, fwselCliInputRequest(catalog, &in));
    if (result->outcome == FWSEL_OUTCOME_INVALID && result->errorCode == FWSEL_ERROR_VALIDATE)
        return fwselCliResultFail(result, argv[0]);

    outcome = fwselCliExplainOutcome(catalog, dom, result, &ret);
    rules = fwselContractDescribe(&catalog->contract);

    if (cli->json) {
        json_object *obj = json_object_new_object();

        json_object_object_add(obj, "domain", fwselCliJSONStr(dom->name));
        json_object_object_add(obj, "arch", fwselCliJSONStr(dom->arch));
        json_object_object_add(obj, "machine", fwselCliJSONStr(result->machine));
        json_object_object_add(obj, "firmware",
                               dom->firmware ? json_object_new_string(fwselFirmwareTypeToString(dom->firmware))
                                             : NULL);
        json_object_object_add(obj, "rules", json_object_new_string(rules));
        json_object_object_add(obj, "outcome", json_object_new_string(outcome));
        json_object_object_add(obj, "selected",
                               result->chosen ? json_object_new_string(result->chosen->name) : NULL);
        json_object_object_add(obj, "verdicts", fwselCliVerdictsJSON(result, templates));
        fwselCliPrintJSON(obj);
        json_object_put(obj);
        return ret;
    }

    {
        g_autofree char *reasons = fwselResultFormatVerdicts(result, "");
        g_autofree char *how = NULL;

        if (dom->firmware)
            how = g_strdup_printf("firmware='%s'", fwselFirmwareTypeToString(dom->firmware));
        else if (dom->loader.present && dom->loader.type)
            how = g_strdup_printf("no firmware=, %s loader %s",
                                  fwselLoaderTypeTypeToString(dom->loader.type),
                                  dom->loader.path ? dom->loader.path : "");
        else
            how = g_strdup("no firmware=");

        printf("domain %s: %s %s, %s\n", dom->name ? dom->name : "(unnamed)",
               dom->arch, result->machine ? result->machine : "(no machine type)", how);
        printf("rules: %s\n", rules);
        /* verdicts only mean something when there is a selection to make */
        if (result->outcome != FWSEL_OUTCOME_NOTHING) {
            size_t v;

            fputs(reasons, stdout);
            /* what a new guest's varstore holds with each fitting one */
            for (v = 0; v < result->nverdicts; v++) {
                const char *path = fwselCliVerdictTemplate(&result->verdicts[v]);

                if (path)
                    printf("keys: %s: %s: %s\n", result->verdicts[v].entry->name, path,
                           fwselCliTemplatesGet(templates, path)->text);
            }
        }
        if (result->chosen) {
            guint i;

            printf("result: selected %s\n", result->chosen->name);
            for (i = 0; i < result->notes->len; i++)
                printf("note: %s\n", (const char *) g_ptr_array_index(result->notes, i));
        } else {
            printf("result: %s\n", outcome);
        }
    }
    return ret;
}


/* The requests a deployer promises in flavors and images */
typedef struct {
    const char *name;
    void (*apply)(fwselDomain *dom);
} fwselCheckRequest;

static void fwselCheckEfi(fwselDomain *dom G_GNUC_UNUSED) { }
static void fwselCheckSBKeys(fwselDomain *dom)
{
    dom->hasFirmwareFeatures = true;
    dom->secureBoot = FWSEL_TRISTATE_YES;
    dom->enrolledKeys = FWSEL_TRISTATE_YES;
}
static void fwselCheckSBNoKeys(fwselDomain *dom)
{
    dom->hasFirmwareFeatures = true;
    dom->secureBoot = FWSEL_TRISTATE_YES;
    dom->enrolledKeys = FWSEL_TRISTATE_NO;
}
static void fwselCheckNoSB(fwselDomain *dom)
{
    dom->hasFirmwareFeatures = true;
    dom->secureBoot = FWSEL_TRISTATE_NO;
    dom->loader.present = true;
    dom->loader.secure = FWSEL_TRISTATE_NO;
}
static void fwselCheckStateless(fwselDomain *dom)
{
    dom->loader.present = true;
    dom->loader.stateless = FWSEL_TRISTATE_YES;
}
static void fwselCheckSEV(fwselDomain *dom)
{
    dom->launchSecurity = FWSEL_LAUNCH_SECURITY_SEV;
    dom->sevPolicy = 0x3;
}
static void fwselCheckSEVES(fwselDomain *dom)
{
    dom->launchSecurity = FWSEL_LAUNCH_SECURITY_SEV;
    dom->sevPolicy = 0x7;
}
static void fwselCheckSEVSNP(fwselDomain *dom)
{
    dom->launchSecurity = FWSEL_LAUNCH_SECURITY_SEV_SNP;
}
static void fwselCheckTDX(fwselDomain *dom)
{
    dom->launchSecurity = FWSEL_LAUNCH_SECURITY_TDX;
}
static void fwselCheckROM(fwselDomain *dom)
{
    dom->loader.present = true;
    dom->loader.type = FWSEL_LOADER_TYPE_ROM;
}
static void fwselCheckBIOS(fwselDomain *dom)
{
    dom->firmware = FWSEL_FIRMWARE_BIOS;
}
static void fwselCheckRaw(fwselDomain *dom)
{
    dom->loader.present = true;
    dom->loader.format = FWSEL_FORMAT_RAW;
}
static void fwselCheckQcow2(fwselDomain *dom)
{
    dom->loader.present = true;
    dom->loader.format = FWSEL_FORMAT_QCOW2;
}

static const fwselCheckRequest fwselCheckRequests[] = {
    { "efi", fwselCheckEfi },
    { "secure-boot+enrolled-keys", fwselCheckSBKeys },
    { "secure-boot-no-keys", fwselCheckSBNoKeys },
    { "no-secure-boot", fwselCheckNoSB },
    { "stateless", fwselCheckStateless },
    { "sev", fwselCheckSEV },
    { "sev-es", fwselCheckSEVES },
    { "sev-snp", fwselCheckSEVSNP },
    { "tdx", fwselCheckTDX },
    { "rom", fwselCheckROM },
    { "bios", fwselCheckBIOS },
    { "raw", fwselCheckRaw },
    { "qcow2", fwselCheckQcow2 },
};


int
fwselCliCheck(fwselCli *cli, int argc, char **argv G_GNUC_UNUSED)
{
    g_autoptr(fwselCatalog) catalog = NULL;
    g_autoptr(GError) err = NULL;
    const char *arch = cli->arch ? cli->arch : "x86_64";
    const char *machine = cli->machine;
    json_object *arr = NULL;
    const char *resolved;
    g_autofree char *rules = NULL;
    g_autoptr(fwselCliTemplates) templates = NULL;
    size_t i;

    if (argc != 0)
        return fwselCliUsage("check takes no arguments");
    if (!fwselArchFromQemu(arch))
        return fwselCliUsage("--arch: unknown architecture '%s'", arch);
    arch = fwselArchFromQemu(arch);
    if (!machine)
        machine = (g_str_equal(arch, "x86_64") || g_str_equal(arch, "i686")) ? "q35" : "virt";

    if (!(catalog = fwselCliLoad(cli, &err)) ||
        !(templates = fwselCliTemplatesNew(cli, catalog, &err)))
        return fwselCliFail(err);

    resolved = fwselMachinesResolve(catalog->machines, arch, machine, NULL);
    rules = fwselContractDescribe(&catalog->contract);
    if (cli->json) {
        arr = json_object_new_array();
    } else {
        printf("host check for %s %s (%s)\n", arch, machine, resolved ? resolved : machine);
        printf("rules: %s\n", rules);
    }

    for (i = 0; i < G_N_ELEMENTS(fwselCheckRequests); i++) {
        g_autoptr(fwselDomain) dom = fwselDomainNew();
        g_autoptr(fwselRequest) req = NULL;
        g_autoptr(fwselResult) result = NULL;
        g_autoptr(GError) serr = NULL;
        const fwselDomain *sel = NULL;
        const char *what;
        const char *tmpl = NULL;
        g_autofree char *detail = NULL;

        dom->name = g_strdup("check");
        dom->arch = g_strdup(arch);
        dom->machine = g_strdup(machine);
        dom->firmware = FWSEL_FIRMWARE_EFI;
        dom->acpi = true;          /* as any UEFI guest has it */
        fwselCheckRequests[i].apply(dom);

        req = fwselRequestNew(catalog, dom);
        result = fwselEvaluate(catalog, req);
        if (fwselResultFailed(result)) {
            fwselResultToError(result, &serr);
            what = NULL;
            detail = g_strdup(serr->message);
        } else if (result->chosen) {
            sel = result->dom;
            what = result->chosen->name;
            /* the template the selection gives new guests */
            if (fwselCliDescriptorTemplate(result->chosen->desc))
                tmpl = sel->nvram.templatePath;
            detail = g_strdup(sel->loader.path ? sel->loader.path : sel->kernel);
        } else {
            sel = result->dom;
            what = "built-in";
            detail = g_strdup(result->notes->len ? g_ptr_array_index(result->notes, 0) : "");
        }

        if (cli->json) {
            json_object *obj = json_object_new_object();

            json_object_object_add(obj, "request", json_object_new_string(fwselCheckRequests[i].name));
            json_object_object_add(obj, "descriptor", fwselCliJSONStr(result->chosen ? what : NULL));
            json_object_object_add(obj, "loader", fwselCliJSONStr(sel ? sel->loader.path : NULL));
            json_object_object_add(obj, "nvram-template",
                                   fwselCliJSONStr(sel ? sel->nvram.templatePath : NULL));
            if (!sel)
                json_object_object_add(obj, "error", json_object_new_string(serr->message));
            if (sel && !result->chosen)
                json_object_object_add(obj, "note", json_object_new_string(detail));
            if (result->chosen && result->notes->len)
                json_object_object_add(obj, "hazard",
                                       json_object_new_string(g_ptr_array_index(result->notes, 0)));
            if (tmpl)
                json_object_object_add(obj, "template-keys",
                                       fwselCliTemplateFactsToJSON(fwselCliTemplatesGet(templates,
                                                                                        tmpl)));
            json_object_array_add(arr, obj);
            continue;
        }

        if (what) {
            guint n;

            printf("%-26s %s (%s)\n", fwselCheckRequests[i].name, what, detail);
            for (n = 0; result->chosen && n < result->notes->len; n++)
                printf("    %s\n", (const char *) g_ptr_array_index(result->notes, n));
            if (tmpl)
                printf("    keys: %s: %s\n", tmpl, fwselCliTemplatesGet(templates, tmpl)->text);
        } else if (result->outcome == FWSEL_OUTCOME_NO_MATCH) {
            size_t v;
            size_t other = 0;

            /* descriptors for other targets say nothing about this request */
            printf("%-26s none\n", fwselCheckRequests[i].name);
            for (v = 0; v < result->nverdicts; v++) {
                g_autofree char *line = NULL;
                const fwselEntry *entry = result->verdicts[v].entry;

                if (!entry->desc || !result->machine ||
                    !fwselDescriptorSupportsTarget(entry->desc, arch, result->machine)) {
                    other++;
                    continue;
                }
                line = fwselVerdictFormat(&result->verdicts[v]);
                printf("    %s\n", line);
            }
            if (other)
                printf("    (%zu more: built for other targets, or invalid, masked or "
                       "shadowed files)\n", other);
        } else {
            printf("%-26s error: %s\n", fwselCheckRequests[i].name, serr->message);
        }
    }

    if (cli->json) {
        json_object *obj = json_object_new_object();

        json_object_object_add(obj, "arch", json_object_new_string(arch));
        json_object_object_add(obj, "machine", json_object_new_string(resolved ? resolved : machine));
        json_object_object_add(obj, "rules", json_object_new_string(rules));
        json_object_object_add(obj, "requests", arr);
        fwselCliPrintJSON(obj);
        json_object_put(obj);
    }
    return FWSEL_EXIT_OK;
}
