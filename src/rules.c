/*
 * rules.c: the selection rules
 *
 * Each rule is one small predicate that looks at the request and one
 * descriptor and either accepts (NULL) or returns the reason it rejects,
 * written for the person who has to fix the domain or the host.  The
 * table at the end is the single description of the rules: explain,
 * check, the no-match message, preservation and the tests all read
 * verdicts that name a row of it.
 *
 * Rules read only their inputs: the request, the descriptor and the
 * catalog's facts.  No rule touches the file system.
 *
 * Where libvirt versions differ, a row has one predicate per modelled
 * version (a column); an empty cell means that version has no such rule.
 * The "safe" cell is fwsel's own rule, applied on top of the version's
 * under --policy safe only.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "fwsel-rules.h"
#include "fwsel-util.h"

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
                           "firmware may need configuration fwsel cannot provide (libvirt "
                           "ignores the feature)", list);
}


static char *
fwselRuleDevice(const fwselRuleCtx *ctx G_GNUC_UNUSED,
                const fwselDescriptor *desc)
{
    if (desc->device == FWSEL_DEVICE_IGVM)
        return g_strdup("IGVM firmware cannot be expressed with <loader>; not selectable");
    return NULL;
}


/* How a rule compares a path the domain names with one a descriptor
 * names: as written (libvirt before 11.8) or as the same file (11.8) */
typedef enum {
    FWSEL_PATHS_LITERAL,
    FWSEL_PATHS_SAME_FILE,
} fwselPathCompare;


static bool
fwselPathsEqual(const fwselRuleCtx *ctx,
                fwselPathCompare how,
                const char *descPath,
                const char *domPath,
                const fwselPathFact *domFact)
{
    const fwselPathFact *descFact;

    if (how == FWSEL_PATHS_LITERAL)
        return g_str_equal(descPath, domPath);
    if (g_str_equal(descPath, domPath))
        return true;
    /* a file that does not exist is only ever its own name */
    descFact = fwselCatalogFile(ctx->catalog, descPath);
    if (!descFact || descFact->kind == FWSEL_PATH_MISSING || domFact->kind == FWSEL_PATH_MISSING)
        return false;
    return fwselPathFactSameFile(descFact, domFact);
}


static char *
fwselRuleLoaderPathWith(const fwselRuleCtx *ctx,
                        const fwselDescriptor *desc,
                        fwselPathCompare how)
{
    const char *file = fwselDescriptorCodeFile(desc);

    if (desc->device == FWSEL_DEVICE_KERNEL) {
        if (ctx->dom->kernel && !g_str_equal(ctx->dom->kernel, file))
            return g_strdup_printf("domain names kernel %s, this firmware is %s",
                                   ctx->dom->kernel, file);
        return NULL;
    }

    if (!ctx->dom->loader.path)
        return NULL;
    if (!fwselPathsEqual(ctx, how, file, ctx->dom->loader.path, &ctx->req->loaderFile))
        return g_strdup_printf("domain names loader %s, this firmware is %s%s",
                               ctx->dom->loader.path, file,
                               how == FWSEL_PATHS_LITERAL ? " (paths compared as written)" : "");
    return NULL;
}


/* 9.0: only a hand-written loader (no firmware=) is compared, and only
 * with flash firmware, as written */
static char *
fwselRuleLoaderPath90(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    const fwselDomain *dom = ctx->dom;

    if (dom->firmware != FWSEL_FIRMWARE_NONE || !dom->loader.present)
        return NULL;
    if (desc->device != FWSEL_DEVICE_FLASH)
        return g_strdup_printf("domain names loader %s, this firmware is not flash",
                               dom->loader.path ? dom->loader.path : "(none)");
    if (!dom->loader.path || !g_str_equal(dom->loader.path, desc->executable.filename))
        return g_strdup_printf("domain names loader %s, this firmware is %s (paths compared "
                               "as written)", dom->loader.path ? dom->loader.path : "(none)",
                               desc->executable.filename);
    return NULL;
}


static char *
fwselRuleLoaderPathLiteral(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    return fwselRuleLoaderPathWith(ctx, desc, FWSEL_PATHS_LITERAL);
}


static char *
fwselRuleLoaderPathSameFile(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    return fwselRuleLoaderPathWith(ctx, desc, FWSEL_PATHS_SAME_FILE);
}


static char *
fwselRuleTemplatePathWith(const fwselRuleCtx *ctx,
                          const fwselDescriptor *desc,
                          fwselPathCompare how)
{
    if (!ctx->dom->nvram.templatePath || desc->device != FWSEL_DEVICE_FLASH)
        return NULL;
    if (!fwselDescriptorIsSplit(desc))
        return g_strdup_printf("domain names varstore template %s, this firmware has no varstore",
                               ctx->dom->nvram.templatePath);
    if (!fwselPathsEqual(ctx, how, desc->nvramTemplate.filename,
                         ctx->dom->nvram.templatePath, &ctx->req->templateFile))
        return g_strdup_printf("domain names varstore template %s, this firmware uses %s",
                               ctx->dom->nvram.templatePath, desc->nvramTemplate.filename);
    return NULL;
}


static char *
fwselRuleTemplatePathLiteral(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    return fwselRuleTemplatePathWith(ctx, desc, FWSEL_PATHS_LITERAL);
}


static char *
fwselRuleTemplatePathSameFile(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    return fwselRuleTemplatePathWith(ctx, desc, FWSEL_PATHS_SAME_FILE);
}


static char *
fwselRuleTarget(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    g_autoptr(GString) built = g_string_new(NULL);
    size_t i;

    if (ctx->req->machine &&
        fwselDescriptorSupportsTarget(desc, ctx->dom->arch, ctx->req->machine))
        return NULL;

    for (i = 0; i < desc->ntargets; i++) {
        g_autofree char *machines = g_strjoinv(" ", desc->targets[i].machines);

        g_string_append_printf(built, "%s%s %s", i ? "; " : "",
                               desc->targets[i].architecture, machines);
    }
    return g_strdup_printf("built for %s, domain is %s %s",
                           built->len ? built->str : "no target",
                           ctx->dom->arch, ctx->req->machine ? ctx->req->machine : "(no machine type)");
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


/* 9.0 only refuses firmware without SMM for a loader restricted to SMM;
 * SMM turned off fails later, at start (see evaluate.c) */
static char *
fwselRuleSMM90(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    if (ctx->dom->loader.secure == FWSEL_TRISTATE_YES &&
        !fwselDescriptorHasFeature(desc, FWSEL_FEATURE_REQUIRES_SMM))
        return g_strdup("domain has <loader secure='yes'/>, firmware does not use SMM");
    return NULL;
}


/* 9.0 - 11.7: split firmware unless the domain asks for stateless;
 * combined firmware is never chosen */
static char *
fwselRuleFlashModeSplit(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    const fwselLoader *loader = &ctx->dom->loader;
    const char *mode = fwselFlashModeTypeToString(desc->mode);

    if (desc->device != FWSEL_DEVICE_FLASH)
        return NULL;
    if (loader->stateless == FWSEL_TRISTATE_YES) {
        if (desc->mode != FWSEL_FLASH_MODE_STATELESS)
            return g_strdup_printf("domain asks for stateless firmware, this one is %s", mode);
        return NULL;
    }
    if (desc->mode != FWSEL_FLASH_MODE_SPLIT)
        return g_strdup_printf("this firmware is %s: this libvirt only selects split firmware "
                               "(code and varstore template) unless the domain asks for "
                               "stateless='yes'", mode);
    return NULL;
}


/* 11.3: the split rule, and the loader must not say it is anything else */
static char *
fwselRuleFlashMode113(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    const fwselLoader *loader = &ctx->dom->loader;

    if (desc->device != FWSEL_DEVICE_FLASH)
        return NULL;
    if (loader->type && loader->type != FWSEL_LOADER_TYPE_PFLASH)
        return g_strdup_printf("domain asks for a %s loader, this firmware is pflash",
                               fwselLoaderTypeTypeToString(loader->type));
    if (loader->readonly == FWSEL_TRISTATE_NO && desc->mode != FWSEL_FLASH_MODE_COMBINED)
        return g_strdup_printf("domain has <loader readonly='no'/> (combined code and "
                               "variables), this firmware is %s",
                               fwselFlashModeTypeToString(desc->mode));
    return fwselRuleFlashModeSplit(ctx, desc);
}


/* 11.8: no preference between split, combined and stateless builds when
 * the domain does not say; readonly='no' asks for combined, stateless=
 * for or against stateless (as of the release, readonly='yes' and a bare
 * <nvram> do not yet exclude combined or stateless builds) */
static char *
fwselRuleFlashMode118(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    const fwselLoader *loader = &ctx->dom->loader;
    const char *mode = fwselFlashModeTypeToString(desc->mode);

    if (desc->device != FWSEL_DEVICE_FLASH)
        return NULL;
    if (loader->type && loader->type != FWSEL_LOADER_TYPE_PFLASH)
        return g_strdup_printf("domain asks for a %s loader, this firmware is pflash",
                               fwselLoaderTypeTypeToString(loader->type));
    if (loader->stateless == FWSEL_TRISTATE_YES && desc->mode != FWSEL_FLASH_MODE_STATELESS)
        return g_strdup_printf("domain asks for stateless firmware, this one is %s", mode);
    if (loader->stateless == FWSEL_TRISTATE_NO && desc->mode == FWSEL_FLASH_MODE_STATELESS)
        return g_strdup("domain has <loader stateless='no'/>, this firmware is stateless");
    if (loader->readonly == FWSEL_TRISTATE_NO && desc->mode != FWSEL_FLASH_MODE_COMBINED)
        return g_strdup_printf("domain has <loader readonly='no'/> (combined code and "
                               "variables), this firmware is %s", mode);
    return NULL;
}


/* 11.3: a ROM image serves a domain that does not ask for pflash and
 * does not want a writable loader */
static char *
fwselRuleMemory113(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    const fwselLoader *loader = &ctx->dom->loader;

    if (desc->device != FWSEL_DEVICE_MEMORY)
        return NULL;
    if (loader->type && loader->type != FWSEL_LOADER_TYPE_ROM)
        return g_strdup("domain asks for a pflash loader, this firmware is a ROM image");
    if (loader->readonly == FWSEL_TRISTATE_NO)
        return g_strdup("domain has <loader readonly='no'/>, a ROM image is read-only");
    return NULL;
}


/* 11.8: also not for a domain that wants a varstore */
static char *
fwselRuleMemory118(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    if (desc->device == FWSEL_DEVICE_MEMORY && ctx->dom->loader.stateless == FWSEL_TRISTATE_NO)
        return g_strdup("domain has <loader stateless='no'/>, a ROM image has no varstore");
    return fwselRuleMemory113(ctx, desc);
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


/* 11.3: the loader's format against the code's; the varstore's format
 * is not looked at */
static char *
fwselRuleFormat113(const fwselRuleCtx *ctx, const fwselDescriptor *desc)
{
    const fwselDomain *dom = ctx->dom;

    if (desc->device != FWSEL_DEVICE_FLASH || !dom->loader.format)
        return NULL;
    if (dom->loader.format != desc->executable.format)
        return g_strdup_printf("domain wants a %s loader, this firmware is %s",
                               fwselFormatTypeToString(dom->loader.format),
                               fwselFormatTypeToString(desc->executable.format));
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

    if (!fwselCatalogFileExists(ctx->catalog, code))
        return g_strdup_printf("%s does not exist on this host", code);
    if (fwselDescriptorIsSplit(desc) &&
        !fwselCatalogFileExists(ctx->catalog, desc->nvramTemplate.filename))
        return g_strdup_printf("varstore template %s does not exist on this host",
                               desc->nvramTemplate.filename);
    return NULL;
}


static char *
fwselRuleRelativePath(const fwselRuleCtx *ctx G_GNUC_UNUSED, const fwselDescriptor *desc)
{
    const char *rel = fwselDescriptorRelativePath(desc);

    if (!rel)
        return NULL;
    return g_strdup_printf("names the relative path '%s': QEMU would resolve it against "
                           "its own working directory (libvirt records it as written)", rel);
}


/* Every version, the same predicate */
#define FWSEL_RULE_ALL(func) \
    { [FWSEL_LIBVIRT_9_0] = func, [FWSEL_LIBVIRT_11_3] = func, [FWSEL_LIBVIRT_11_8] = func }

/* The rules, indexed by fwselRule: evaluation order */
static const struct {
    fwselRuleKind kind;
    fwselRuleFunc libvirt[FWSEL_LIBVIRT_LAST];  /* per version; NULL: no such rule */
    fwselRuleFunc safe;                         /* --policy safe adds this */
} fwselRules[] = {
    [FWSEL_RULE_INTERFACE] = {
        FWSEL_RULE_KIND_IDENTITY, FWSEL_RULE_ALL(fwselRuleInterface) },
    [FWSEL_RULE_UNKNOWN_FEATURE] = {
        FWSEL_RULE_KIND_IDENTITY, { NULL }, fwselRuleUnknownFeatures },
    [FWSEL_RULE_RELATIVE_PATH] = {
        FWSEL_RULE_KIND_IDENTITY, { NULL }, fwselRuleRelativePath },
    [FWSEL_RULE_DEVICE] = {
        FWSEL_RULE_KIND_IDENTITY, FWSEL_RULE_ALL(fwselRuleDevice) },
    [FWSEL_RULE_LOADER_PATH] = {
        FWSEL_RULE_KIND_IDENTITY, {
            [FWSEL_LIBVIRT_9_0] = fwselRuleLoaderPath90,
            [FWSEL_LIBVIRT_11_3] = fwselRuleLoaderPathLiteral,
            [FWSEL_LIBVIRT_11_8] = fwselRuleLoaderPathSameFile } },
    [FWSEL_RULE_TEMPLATE_PATH] = {
        FWSEL_RULE_KIND_IDENTITY, {
            [FWSEL_LIBVIRT_11_3] = fwselRuleTemplatePathLiteral,
            [FWSEL_LIBVIRT_11_8] = fwselRuleTemplatePathSameFile } },
    [FWSEL_RULE_TARGET] = {
        FWSEL_RULE_KIND_CAPABILITY, FWSEL_RULE_ALL(fwselRuleTarget) },
    [FWSEL_RULE_POWER_MANAGEMENT] = {
        FWSEL_RULE_KIND_CAPABILITY, FWSEL_RULE_ALL(fwselRulePM) },
    [FWSEL_RULE_SECURE_BOOT] = {
        FWSEL_RULE_KIND_CAPABILITY, FWSEL_RULE_ALL(fwselRuleSecureBoot) },
    [FWSEL_RULE_ENROLLED_KEYS] = {
        FWSEL_RULE_KIND_CAPABILITY, FWSEL_RULE_ALL(fwselRuleEnrolledKeys) },
    [FWSEL_RULE_SMM] = {
        FWSEL_RULE_KIND_CAPABILITY, {
            [FWSEL_LIBVIRT_9_0] = fwselRuleSMM90,
            [FWSEL_LIBVIRT_11_3] = fwselRuleSMM,
            [FWSEL_LIBVIRT_11_8] = fwselRuleSMM } },
    [FWSEL_RULE_FLASH_MODE] = {
        FWSEL_RULE_KIND_CAPABILITY, {
            [FWSEL_LIBVIRT_9_0] = fwselRuleFlashModeSplit,
            [FWSEL_LIBVIRT_11_3] = fwselRuleFlashMode113,
            [FWSEL_LIBVIRT_11_8] = fwselRuleFlashMode118 } },
    [FWSEL_RULE_ROM] = {
        FWSEL_RULE_KIND_CAPABILITY, {
            [FWSEL_LIBVIRT_11_3] = fwselRuleMemory113,
            [FWSEL_LIBVIRT_11_8] = fwselRuleMemory118 } },
    [FWSEL_RULE_FORMAT] = {
        FWSEL_RULE_KIND_CAPABILITY, {
            [FWSEL_LIBVIRT_11_3] = fwselRuleFormat113,
            [FWSEL_LIBVIRT_11_8] = fwselRuleFormat113 }, fwselRuleFormat },
    [FWSEL_RULE_LAUNCH_SECURITY] = {
        FWSEL_RULE_KIND_CAPABILITY, FWSEL_RULE_ALL(fwselRuleLaunchSecurity) },
    [FWSEL_RULE_FILES] = {
        FWSEL_RULE_KIND_CAPABILITY, { NULL }, fwselRuleFilesExist },
    [FWSEL_RULE_VARSTORE] = {
        FWSEL_RULE_KIND_CAPABILITY, { NULL }, fwselRuleVarstore },
};
G_STATIC_ASSERT(G_N_ELEMENTS(fwselRules) == FWSEL_RULE_LAST);

FWSEL_ENUM_IMPL(fwselRule, FWSEL_RULE_LAST,
                "interface", "unknown-feature", "relative-path", "device", "loader-path",
                "template-path",
                "target", "power-management", "secure-boot", "enrolled-keys", "smm",
                "flash-mode", "rom", "format", "launch-security", "files", "varstore");


fwselRuleKind
fwselRuleGetKind(fwselRule rule)
{
    return fwselRules[rule].kind;
}


/**
 * fwselRulesCheck:
 * @reason: (out) the rejecting rule's reason, owned by the caller
 *
 * Runs the rules on @desc in order.  Returns the first rule that
 * rejects it, or FWSEL_RULE_LAST (and no reason) when all accept.
 */
fwselRule
fwselRulesCheck(const fwselRuleCtx *ctx,
                const fwselDescriptor *desc,
                char **reason)
{
    fwselLibvirt version = ctx->libvirt;
    bool safe = ctx->policy == FWSEL_POLICY_SAFE;
    size_t i;

    *reason = NULL;
    for (i = 0; i < G_N_ELEMENTS(fwselRules); i++) {
        if (fwselRules[i].libvirt[version] &&
            (*reason = fwselRules[i].libvirt[version](ctx, desc)))
            return i;
        if (safe && fwselRules[i].safe &&
            (*reason = fwselRules[i].safe(ctx, desc)))
            return i;
    }
    return FWSEL_RULE_LAST;
}


/* Whether @rule is one of fwsel's own (the safe policy), not libvirt's */
bool
fwselRuleIsPolicy(fwselRule rule, fwselLibvirt version)
{
    return !fwselRules[rule].libvirt[version] && fwselRules[rule].safe;
}
