/*
 * match.c: the selection rules
 *
 * Each rule is one small predicate that looks at the domain's request
 * and one descriptor and either accepts (NULL) or returns the reason it
 * rejects, written for the person who has to fix the domain or the host.
 * Descriptors are tried in catalog order; the first one every rule
 * accepts is selected.  explain, check, the no-match error and the tests
 * all read the same table.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "fwsel-match.h"
#include "fwsel-util.h"

FWSEL_ENUM_IMPL(fwselVerdictKind, FWSEL_VERDICT_LAST,
                "selected", "matches", "rejected", "invalid", "shadowed", "masked",
                "ignored");

typedef struct {
    fwselHost *host;
    const fwselDomain *dom;
    const char *machine;        /* alias resolved */
    fwselInterface want;
    char *loaderPath;           /* symlinks resolved, or NULL */
    char *templatePath;         /* symlinks resolved, or NULL */
    bool wantsVarstore;         /* the domain configured an <nvram> */
    bool preferVarstore;        /* first pass: only firmware with a varstore */
} fwselRuleCtx;

typedef char *(*fwselRuleFunc)(const fwselRuleCtx *ctx,
                               const fwselDescriptor *desc);


static char *
fwselInterfacesToString(unsigned int mask)
{
    g_autoptr(GString) out = g_string_new(NULL);
    size_t i;

    for (i = 1; i < FWSEL_INTERFACE_LAST; i++) {
        if (mask & (1u << i)) {
            if (out->len)
                g_string_append(out, ", ");
            g_string_append(out, fwselInterfaceTypeToString(i));
        }
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}


static char *
fwselRuleInterface(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    g_autofree char *offers = NULL;

    if (ctx->want == FWSEL_INTERFACE_NONE)
        return g_strdup("the domain asks for no firmware interface (no firmware= and no pflash or rom loader)");
    if (fwselDescriptorHasInterface(desc, ctx->want))
        return NULL;
    offers = fwselInterfacesToString(desc->interfaces);
    return g_strdup_printf("domain wants %s firmware, this one offers %s",
                           fwselInterfaceTypeToString(ctx->want), offers);
}


static char *
fwselRuleUnknownFeatures(const fwselRuleCtx *ctx G_GNUC_UNUSED,
                         const fwselDescriptor *desc)
{
    g_autofree char *list = NULL;

    if (!desc->unknownFeatures)
        return NULL;
    list = g_strjoinv("', '", desc->unknownFeatures);
    return g_strdup_printf("declares feature '%s' that fwsel does not know; such a "
                           "firmware may need configuration fwsel cannot provide, so it "
                           "is never selected", list);
}


static char *
fwselRuleDevice(const fwselRuleCtx *ctx G_GNUC_UNUSED,
                const fwselDescriptor *desc)
{
    if (desc->device == FWSEL_DEVICE_IGVM)
        return g_strdup("IGVM firmware cannot be expressed with <loader>; not selectable");
    return NULL;
}


static char *
fwselRuleLoaderPath(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    g_autofree char *code = NULL;
    const char *file = fwselDescriptorCodeFile(desc);

    if (desc->device == FWSEL_DEVICE_KERNEL) {
        if (ctx->loaderPath)
            return g_strdup_printf("domain names loader %s, this firmware is a kernel image",
                                   ctx->dom->loader.path);
        if (ctx->dom->kernel && !g_str_equal(ctx->dom->kernel, file))
            return g_strdup_printf("domain names kernel %s, this firmware is %s",
                                   ctx->dom->kernel, file);
        return NULL;
    }

    if (!ctx->loaderPath)
        return NULL;
    if (fwselPathResolve(ctx->host->root, file, &code, NULL) < 0 ||
        !g_str_equal(code, ctx->loaderPath))
        return g_strdup_printf("domain names loader %s, this firmware is %s",
                               ctx->dom->loader.path, file);
    return NULL;
}


static char *
fwselRuleTemplatePath(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    g_autofree char *tmpl = NULL;

    if (!ctx->templatePath)
        return NULL;
    if (!fwselDescriptorIsSplit(desc))
        return g_strdup_printf("domain names varstore template %s, this firmware has no varstore",
                               ctx->dom->nvram.templatePath);
    if (fwselPathResolve(ctx->host->root, desc->nvramTemplate.filename, &tmpl, NULL) < 0 ||
        !g_str_equal(tmpl, ctx->templatePath))
        return g_strdup_printf("domain names varstore template %s, this firmware uses %s",
                               ctx->dom->nvram.templatePath, desc->nvramTemplate.filename);
    return NULL;
}


static char *
fwselRuleTarget(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    g_autoptr(GString) built = g_string_new(NULL);
    size_t i;

    if (ctx->machine &&
        fwselDescriptorSupportsTarget(desc, ctx->dom->arch, ctx->machine))
        return NULL;

    for (i = 0; i < desc->ntargets; i++) {
        g_autofree char *machines = g_strjoinv(" ", desc->targets[i].machines);

        g_string_append_printf(built, "%s%s %s", i ? "; " : "",
                               desc->targets[i].architecture, machines);
    }
    return g_strdup_printf("built for %s, domain is %s %s",
                           built->len ? built->str : "no target",
                           ctx->dom->arch, ctx->machine ? ctx->machine : "(no machine type)");
}


static char *
fwselRulePM(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    if (ctx->dom->pmS3 == FWSEL_TRISTATE_YES &&
        !fwselDescriptorHasFeature(desc, FWSEL_FEATURE_ACPI_S3))
        return g_strdup("domain enables suspend-to-mem, firmware lacks acpi-s3");
    if (ctx->dom->pmS4 == FWSEL_TRISTATE_YES &&
        !fwselDescriptorHasFeature(desc, FWSEL_FEATURE_ACPI_S4))
        return g_strdup("domain enables suspend-to-disk, firmware lacks acpi-s4");
    return NULL;
}


/* One firmware feature the domain can require or refuse */
static char *
fwselRuleTristateFeature(fwselTristate want,
                         bool has,
                         const char *name)
{
    if (want == FWSEL_TRISTATE_YES && !has)
        return g_strdup_printf("domain requires %s, firmware lacks it", name);
    if (want == FWSEL_TRISTATE_NO && has)
        return g_strdup_printf("domain refuses %s, firmware has it", name);
    return NULL;
}


static char *
fwselRuleSecureBoot(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    return fwselRuleTristateFeature(ctx->dom->secureBoot,
                                    fwselDescriptorHasFeature(desc, FWSEL_FEATURE_SECURE_BOOT),
                                    "secure-boot");
}


static char *
fwselRuleEnrolledKeys(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    return fwselRuleTristateFeature(ctx->dom->enrolledKeys,
                                    fwselDescriptorHasFeature(desc, FWSEL_FEATURE_ENROLLED_KEYS),
                                    "enrolled-keys");
}


static char *
fwselRuleSMM(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    bool requiresSMM = fwselDescriptorHasFeature(desc, FWSEL_FEATURE_REQUIRES_SMM);

    if (requiresSMM && ctx->dom->smm == FWSEL_TRISTATE_NO)
        return g_strdup("firmware requires SMM, domain has <smm state='off'/>");
    if (requiresSMM && ctx->dom->loader.secure == FWSEL_TRISTATE_NO)
        return g_strdup("firmware requires SMM, domain has <loader secure='no'/>");
    if (!requiresSMM && ctx->dom->loader.secure == FWSEL_TRISTATE_YES)
        return g_strdup("domain has <loader secure='yes'/>, firmware does not use SMM");
    return NULL;
}


static char *
fwselRuleFlashMode(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    const fwselLoader *loader = &ctx->dom->loader;
    const char *mode = fwselFlashModeTypeToString(desc->mode);

    if (desc->device != FWSEL_DEVICE_FLASH)
        return NULL;

    if (loader->type == FWSEL_LOADER_TYPE_ROM)
        return g_strdup("domain asks for a rom loader, this firmware is pflash");

    if (loader->stateless == FWSEL_TRISTATE_YES) {
        if (desc->mode != FWSEL_FLASH_MODE_STATELESS)
            return g_strdup_printf("domain asks for stateless firmware, this one is %s", mode);
        return NULL;
    }
    if (loader->readonly == FWSEL_TRISTATE_NO) {
        if (desc->mode != FWSEL_FLASH_MODE_COMBINED)
            return g_strdup_printf("domain has <loader readonly='no'/> (combined code and "
                                   "variables), this firmware is %s", mode);
        return NULL;
    }
    if (desc->mode == FWSEL_FLASH_MODE_COMBINED && loader->readonly == FWSEL_TRISTATE_YES)
        return g_strdup("domain has <loader readonly='yes'/>, this firmware is combined "
                        "(writable code and variables)");
    if (desc->mode == FWSEL_FLASH_MODE_STATELESS && loader->stateless == FWSEL_TRISTATE_NO)
        return g_strdup("domain has <loader stateless='no'/>, this firmware is stateless");
    if (desc->mode != FWSEL_FLASH_MODE_SPLIT && ctx->wantsVarstore)
        return g_strdup_printf("domain configures <nvram>, this firmware is %s and has no varstore",
                               mode);
    return NULL;
}


static char *
fwselRuleMemory(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    const fwselLoader *loader = &ctx->dom->loader;

    if (desc->device != FWSEL_DEVICE_MEMORY)
        return NULL;
    if (loader->type == FWSEL_LOADER_TYPE_PFLASH)
        return g_strdup("domain asks for a pflash loader, this firmware is a ROM image");
    if (loader->readonly == FWSEL_TRISTATE_NO)
        return g_strdup("domain has <loader readonly='no'/>, a ROM image is read-only");
    if (loader->stateless == FWSEL_TRISTATE_NO)
        return g_strdup("domain has <loader stateless='no'/>, a ROM image has no varstore");
    if (ctx->wantsVarstore)
        return g_strdup("domain configures <nvram>, a ROM image has no varstore");
    return NULL;
}


static char *
fwselRuleFormat(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    const fwselDomain *dom = ctx->dom;
    fwselFormat code = FWSEL_FORMAT_RAW;
    fwselFormat want;

    if (desc->device == FWSEL_DEVICE_FLASH)
        code = desc->executable.format;

    if (dom->loader.format && dom->loader.format != code)
        return g_strdup_printf("domain wants a %s loader, this firmware is %s",
                               fwselFormatTypeToString(dom->loader.format),
                               fwselFormatTypeToString(code));

    if (!fwselDescriptorIsSplit(desc))
        return NULL;

    /* the varstore is a copy of the template, so both formats must agree */
    want = dom->nvram.templateFormat ? dom->nvram.templateFormat : dom->nvram.format;
    if (want && want != desc->nvramTemplate.format)
        return g_strdup_printf("domain wants a %s varstore, this firmware's template is %s",
                               fwselFormatTypeToString(want),
                               fwselFormatTypeToString(desc->nvramTemplate.format));
    return NULL;
}


static char *
fwselRuleLaunchSecurity(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    const fwselDomain *dom = ctx->dom;

    switch (dom->launchSecurity) {
    case FWSEL_LAUNCH_SECURITY_SEV:
        if (!fwselDescriptorHasFeature(desc, FWSEL_FEATURE_AMD_SEV))
            return g_strdup("domain uses SEV, firmware lacks amd-sev");
        if ((dom->sevPolicy & FWSEL_SEV_POLICY_ES) &&
            !fwselDescriptorHasFeature(desc, FWSEL_FEATURE_AMD_SEV_ES))
            return g_strdup("domain uses SEV-ES (policy bit 0x4), firmware lacks amd-sev-es");
        return NULL;
    case FWSEL_LAUNCH_SECURITY_SEV_SNP:
        if (!fwselDescriptorHasFeature(desc, FWSEL_FEATURE_AMD_SEV_SNP))
            return g_strdup("domain uses SEV-SNP, firmware lacks amd-sev-snp");
        return NULL;
    case FWSEL_LAUNCH_SECURITY_TDX:
        if (!fwselDescriptorHasFeature(desc, FWSEL_FEATURE_INTEL_TDX))
            return g_strdup("domain uses TDX, firmware lacks intel-tdx");
        return NULL;
    case FWSEL_LAUNCH_SECURITY_S390_PV:
    case FWSEL_LAUNCH_SECURITY_NONE:
    case FWSEL_LAUNCH_SECURITY_LAST:
        break;
    }
    return NULL;
}


/* First pass for a domain that does not say how its variables are kept:
 * only firmware with a varstore */
static char *
fwselRuleVarstore(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    if (!ctx->preferVarstore || fwselDescriptorIsSplit(desc))
        return NULL;
    if (desc->device == FWSEL_DEVICE_MEMORY)
        return g_strdup("a ROM image keeps no variables: it serves a domain that does not "
                        "ask for type='rom' only when no firmware with a varstore fits");
    if (desc->device == FWSEL_DEVICE_FLASH)
        return g_strdup_printf("%s firmware keeps no separate varstore: it serves a domain "
                               "that does not ask for that only when no split firmware fits",
                               fwselFlashModeTypeToString(desc->mode));
    return NULL;
}


static char *
fwselRuleFilesExist(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    const char *code = fwselDescriptorCodeFile(desc);

    if (!ctx->host->checkFiles)
        return NULL;
    if (!fwselHostFileExists(ctx->host, code))
        return g_strdup_printf("%s does not exist on this host", code);
    if (fwselDescriptorIsSplit(desc) && !fwselHostFileExists(ctx->host, desc->nvramTemplate.filename))
        return g_strdup_printf("varstore template %s does not exist on this host",
                               desc->nvramTemplate.filename);
    return NULL;
}


/* Evaluation order: what the descriptor is first, then what the domain
 * asks of it, then whether the host really has it. */
static const struct {
    const char *name;
    fwselRuleFunc check;
} fwselRules[] = {
    { "interface", fwselRuleInterface },
    { "unknown-feature", fwselRuleUnknownFeatures },
    { "device", fwselRuleDevice },
    { "loader-path", fwselRuleLoaderPath },
    { "template-path", fwselRuleTemplatePath },
    { "target", fwselRuleTarget },
    { "power-management", fwselRulePM },
    { "secure-boot", fwselRuleSecureBoot },
    { "enrolled-keys", fwselRuleEnrolledKeys },
    { "smm", fwselRuleSMM },
    { "flash-mode", fwselRuleFlashMode },
    { "rom", fwselRuleMemory },
    { "format", fwselRuleFormat },
    { "launch-security", fwselRuleLaunchSecurity },
    { "files", fwselRuleFilesExist },
    { "varstore", fwselRuleVarstore },
};


void
fwselMatchFree(fwselMatch *match)
{
    size_t i;

    if (!match)
        return;
    for (i = 0; i < match->nverdicts; i++)
        g_free(match->verdicts[i].reason);
    g_free(match->verdicts);
    g_free(match->machine);
    g_free(match);
}


static fwselInterface
fwselWantedInterface(const fwselDomain *dom)
{
    switch (dom->firmware) {
    case FWSEL_FIRMWARE_EFI:
        return FWSEL_INTERFACE_UEFI;
    case FWSEL_FIRMWARE_BIOS:
        return FWSEL_INTERFACE_BIOS;
    case FWSEL_FIRMWARE_NONE:
    case FWSEL_FIRMWARE_LAST:
        break;
    }
    if (dom->loader.present && dom->loader.type == FWSEL_LOADER_TYPE_PFLASH)
        return FWSEL_INTERFACE_UEFI;
    if (dom->loader.present && dom->loader.type == FWSEL_LOADER_TYPE_ROM)
        return FWSEL_INTERFACE_BIOS;
    return FWSEL_INTERFACE_NONE;
}


static void
fwselMatchEntry(const fwselRuleCtx *ctx,
                const fwselEntry *entry,
                fwselVerdict *verdict)
{
    size_t i;

    verdict->entry = entry;
    switch (entry->state) {
    case FWSEL_ENTRY_SHADOWED:
        verdict->kind = FWSEL_VERDICT_SHADOWED;
        verdict->reason = g_strdup_printf("replaced by %s", entry->winner);
        return;
    case FWSEL_ENTRY_MASK:
        verdict->kind = FWSEL_VERDICT_MASKED;
        verdict->reason = g_strdup("empty file: hides any descriptor "
                                   "of this name in an earlier directory");
        return;
    case FWSEL_ENTRY_IGNORED:
        verdict->kind = FWSEL_VERDICT_IGNORED;
        verdict->reason = g_strdup(entry->error);
        return;
    case FWSEL_ENTRY_INVALID:
        verdict->kind = FWSEL_VERDICT_INVALID;
        verdict->reason = g_strdup(entry->error);
        return;
    case FWSEL_ENTRY_ACTIVE:
    case FWSEL_ENTRY_LAST:
        break;
    }

    for (i = 0; i < G_N_ELEMENTS(fwselRules); i++) {
        char *reason = fwselRules[i].check(ctx, entry->desc);

        if (reason) {
            verdict->kind = FWSEL_VERDICT_REJECTED;
            verdict->rule = fwselRules[i].name;
            verdict->reason = reason;
            return;
        }
    }

    verdict->kind = FWSEL_VERDICT_MATCH;
    verdict->pathByLink = ctx->dom->loader.path &&
        !g_str_equal(ctx->dom->loader.path, fwselDescriptorCodeFile(entry->desc));
}


/* Runs the rules on every entry; returns the index of the selected one
 * (or -1), the verdicts in @match. */
static ssize_t
fwselMatchPass(const fwselRuleCtx *ctx,
               const fwselCatalog *catalog,
               fwselMatch *match)
{
    ssize_t first = -1;
    ssize_t exact = -1;
    size_t i;

    for (i = 0; i < catalog->nentries; i++) {
        fwselVerdict *v = &match->verdicts[i];

        g_clear_pointer(&v->reason, g_free);
        *v = (fwselVerdict) { 0 };
        fwselMatchEntry(ctx, catalog->entries[i], v);
        if (v->kind != FWSEL_VERDICT_MATCH)
            continue;
        if (first < 0)
            first = i;
        if (exact < 0 && !v->pathByLink)
            exact = i;
    }
    return exact >= 0 ? exact : first;
}


/**
 * fwselMatchDomain:
 *
 * Runs every rule on every descriptor of @catalog and picks the first
 * match.  When the domain names its loader, a descriptor naming that exact
 * path is preferred over one that reaches the same file only through a
 * symbolic link, so that distribution aliases (OVMF_CODE_4M.ms.fd ->
 * OVMF_CODE_4M.secboot.fd) do not change which varstore template a
 * hand-written loader gets.
 *
 * A domain that does not say how its variables are kept (no stateless=,
 * no readonly='no', no rom loader, no <nvram>) gets split firmware with a
 * varstore when any fits; stateless, combined and ROM builds serve it only
 * when none does, which is how a SEV-SNP guest finds its stateless build
 * without an ordinary guest losing its variables to one.
 */
fwselMatch *
fwselMatchDomain(fwselHost *host,
                 const fwselCatalog *catalog,
                 const fwselDomain *dom)
{
    fwselMatch *match = g_new0(fwselMatch, 1);
    fwselRuleCtx ctx = { 0 };
    ssize_t chosen;

    ctx.host = host;
    ctx.dom = dom;
    ctx.machine = fwselHostResolveMachine(host, dom->arch, dom->machine);
    ctx.want = fwselWantedInterface(dom);
    ctx.wantsVarstore = dom->nvram.present;
    if (dom->loader.path)
        fwselPathResolve(host->root, dom->loader.path, &ctx.loaderPath, NULL);
    if (dom->nvram.templatePath)
        fwselPathResolve(host->root, dom->nvram.templatePath, &ctx.templatePath, NULL);

    match->machine = g_strdup(ctx.machine);
    match->nverdicts = catalog->nentries;
    match->verdicts = g_new0(fwselVerdict, catalog->nentries);

    ctx.preferVarstore = dom->loader.stateless == FWSEL_TRISTATE_ABSENT &&
                         dom->loader.readonly != FWSEL_TRISTATE_NO &&
                         dom->loader.type != FWSEL_LOADER_TYPE_ROM &&
                         !dom->nvram.present;
    chosen = fwselMatchPass(&ctx, catalog, match);
    if (chosen < 0 && ctx.preferVarstore) {
        ctx.preferVarstore = false;
        chosen = fwselMatchPass(&ctx, catalog, match);
    }

    if (chosen >= 0) {
        match->verdicts[chosen].kind = FWSEL_VERDICT_SELECTED;
        match->chosen = match->verdicts[chosen].entry->desc;
    }

    g_free(ctx.loaderPath);
    g_free(ctx.templatePath);
    return match;
}


/**
 * fwselVerdictFormat:
 *
 * One line a user can act on: "<name>: <verdict>[ (<rule>)]: <reason>".
 */
char *
fwselVerdictFormat(const fwselVerdict *v)
{
    const char *kind = fwselVerdictKindTypeToString(v->kind);
    const fwselEntry *e = v->entry;

    switch (v->kind) {
    case FWSEL_VERDICT_SELECTED:
        return g_strdup_printf("%s: %s: %s", e->name, kind, fwselDescriptorCodeFile(e->desc));
    case FWSEL_VERDICT_MATCH:
        if (v->pathByLink)
            return g_strdup_printf("%s: %s too, but reaches the loader only through a "
                                   "symlink; a descriptor naming the path exactly is preferred",
                                   e->name, kind);
        return g_strdup_printf("%s: %s too, but an earlier descriptor was selected",
                               e->name, kind);
    case FWSEL_VERDICT_REJECTED:
        return g_strdup_printf("%s: %s (%s): %s", e->name, kind, v->rule, v->reason);
    case FWSEL_VERDICT_INVALID:
        /* the parser's error already starts with the file's path */
        if (g_str_has_prefix(v->reason, e->path) && g_str_has_prefix(v->reason + strlen(e->path), ": "))
            return g_strdup_printf("%s: %s: %s", e->path, kind, v->reason + strlen(e->path) + 2);
        break;
    case FWSEL_VERDICT_SHADOWED:
    case FWSEL_VERDICT_MASKED:
    case FWSEL_VERDICT_IGNORED:
    case FWSEL_VERDICT_LAST:
        break;
    }
    return g_strdup_printf("%s: %s: %s", e->path, kind, v->reason);
}


/* All verdicts, one per line, each prefixed with @indent */
char *
fwselMatchFormatReasons(const fwselMatch *match, const char *indent)
{
    g_autoptr(GString) out = g_string_new(NULL);
    size_t i;

    for (i = 0; i < match->nverdicts; i++) {
        g_autofree char *line = fwselVerdictFormat(&match->verdicts[i]);

        g_string_append_printf(out, "%s%s\n", indent, line);
    }
    if (match->nverdicts == 0)
        g_string_append_printf(out, "%s(no descriptor files found)\n", indent);
    return g_string_free(g_steal_pointer(&out), FALSE);
}
