/*
 * evaluate.c: one request against one catalog
 *
 * The pure core: reads only its two const inputs, writes only the result
 * it returns, and keeps every verdict, so that select, explain, check,
 * the no-match message and preservation all read one answer.  Safe to
 * run on one catalog from many threads.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "fwsel-evaluate.h"
#include "fwsel-fill.h"
#include "fwsel-util.h"

FWSEL_ENUM_IMPL(fwselVerdictKind, FWSEL_VERDICT_LAST,
                "selected", "matches", "rejected", "invalid", "shadowed", "masked",
                "ignored");

FWSEL_ENUM_IMPL(fwselOutcome, FWSEL_OUTCOME_LAST,
                "selected", "undescribed", "nothing", "no-match", "invalid");


void
fwselResultFree(fwselResult *result)
{
    size_t i;

    if (!result)
        return;
    for (i = 0; i < result->nverdicts; i++)
        g_free(result->verdicts[i].reason);
    g_free(result->verdicts);
    g_free(result->error);
    g_free(result->request);
    g_free(result->machine);
    fwselDomainFree(result->dom);
    g_ptr_array_unref(result->notes);
    g_free(result);
}


const fwselDescriptor *
fwselResultChosen(const fwselResult *result)
{
    return result->chosen ? result->chosen->desc : NULL;
}


/* No firmware for the domain: no match, or a request that contradicts
 * itself */
bool
fwselResultFailed(const fwselResult *result)
{
    return result->outcome == FWSEL_OUTCOME_NO_MATCH ||
           result->outcome == FWSEL_OUTCOME_INVALID;
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
    verdict->entry = entry;
    verdict->rule = FWSEL_RULE_LAST;
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

    if ((verdict->rule = fwselRulesCheck(ctx, entry->desc, &verdict->reason)) != FWSEL_RULE_LAST) {
        verdict->kind = FWSEL_VERDICT_REJECTED;
        return;
    }

    verdict->kind = FWSEL_VERDICT_MATCH;
    verdict->pathByLink = ctx->dom->loader.path &&
        !g_str_equal(ctx->dom->loader.path, fwselDescriptorCodeFile(entry->desc));
}


/* Runs the rules on every entry; returns the index of the selected one
 * (or -1), the verdicts in @result. */
static ssize_t
fwselEvaluatePass(const fwselRuleCtx *ctx,
                  const fwselCatalog *catalog,
                  fwselVerdict *verdicts)
{
    ssize_t first = -1;
    ssize_t exact = -1;
    size_t i;

    for (i = 0; i < catalog->nentries; i++) {
        fwselVerdict *v = &verdicts[i];

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
    /* fwsel's safe policy: a descriptor naming the very path the domain
     * wrote goes before one naming a link to it */
    if (ctx->policy == FWSEL_POLICY_SAFE && exact >= 0)
        return exact;
    return first;
}


/*
 * Every rule on every descriptor; the first match is chosen.  When the
 * domain names its loader, a descriptor naming that exact path is
 * preferred over one that reaches the same file only through a symbolic
 * link, so that distribution aliases (OVMF_CODE_4M.ms.fd ->
 * OVMF_CODE_4M.secboot.fd) do not change which varstore template a
 * hand-written loader gets.
 *
 * A domain that does not say how its variables are kept (no stateless=,
 * no readonly='no', no rom loader, no <nvram>) gets split firmware with a
 * varstore when any fits; stateless, combined and ROM builds serve it only
 * when none does, which is how a SEV-SNP guest finds its stateless build
 * without an ordinary guest losing its variables to one.
 */
static ssize_t
fwselEvaluateMatch(const fwselCatalog *catalog,
                   const fwselRequest *req,
                   const fwselDomain *dom,
                   fwselLibvirt libvirt,
                   fwselPolicy policy,
                   fwselVerdict *verdicts,
                   bool *decidedByVarstore)
{
    fwselRuleCtx ctx = { 0 };
    ssize_t chosen;

    ctx.catalog = catalog;
    ctx.req = req;
    ctx.dom = dom;
    ctx.want = fwselWantedInterface(dom);
    ctx.libvirt = libvirt;
    ctx.policy = policy;

    ctx.preferVarstore = policy == FWSEL_POLICY_SAFE &&
                         dom->loader.stateless == FWSEL_TRISTATE_ABSENT &&
                         dom->loader.readonly != FWSEL_TRISTATE_NO &&
                         dom->loader.type != FWSEL_LOADER_TYPE_ROM &&
                         !dom->nvram.present;
    chosen = fwselEvaluatePass(&ctx, catalog, verdicts);
    *decidedByVarstore = ctx.preferVarstore;
    if (chosen < 0 && ctx.preferVarstore) {
        ctx.preferVarstore = false;
        *decidedByVarstore = false;
        chosen = fwselEvaluatePass(&ctx, catalog, verdicts);
    }
    if (chosen >= 0)
        verdicts[chosen].kind = FWSEL_VERDICT_SELECTED;
    return chosen;
}


static void
fwselVerdictsFree(fwselVerdict *verdicts, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        g_free(verdicts[i].reason);
    g_free(verdicts);
}


/*
 * Under libvirt's own rules, the answer may be one that does not work:
 * firmware whose files are not installed, a relative path, a feature no
 * one knows.  The safe policy's rules are tried on the side and what
 * they would change becomes a note; the answer stays libvirt's.
 */
static void
fwselEvaluateHazards(const fwselCatalog *catalog,
                     const fwselContract *contract,
                     const fwselRequest *req,
                     const fwselDomain *dom,
                     ssize_t chosen,
                     fwselResult *result)
{
    fwselVerdict *safe;
    bool byVarstore;
    ssize_t safeChosen;
    const fwselVerdict *why;
    fwselRuleCtx ctx = { 0 };
    g_autofree char *reason = NULL;

    if (chosen < 0)
        return;

    /* the common case: the safe rules accept libvirt's choice too */
    ctx.catalog = catalog;
    ctx.req = req;
    ctx.dom = dom;
    ctx.want = fwselWantedInterface(dom);
    ctx.libvirt = contract->libvirt;
    ctx.policy = FWSEL_POLICY_SAFE;
    if (fwselRulesCheck(&ctx, result->verdicts[chosen].entry->desc, &reason) == FWSEL_RULE_LAST &&
        !result->verdicts[chosen].pathByLink)
        return;

    safe = g_new0(fwselVerdict, catalog->nentries);
    safeChosen = fwselEvaluateMatch(catalog, req, dom, contract->libvirt, FWSEL_POLICY_SAFE,
                                    safe, &byVarstore);
    if (safeChosen == chosen)
        goto cleanup;

    why = &safe[chosen];
    if (why->kind == FWSEL_VERDICT_MATCH && result->verdicts[chosen].pathByLink && safeChosen >= 0) {
        /* both fit: the safe policy prefers the descriptor naming the
         * loader as the domain wrote it */
        g_ptr_array_add(result->notes,
                        g_strdup_printf("hazard: libvirt chooses %s, which names the loader %s "
                                        "only through a symbolic link (it records %s and that "
                                        "descriptor's varstore template); --policy safe chooses "
                                        "%s, which names it as written",
                                        result->verdicts[chosen].entry->name,
                                        dom->loader.path,
                                        fwselDescriptorCodeFile(result->verdicts[chosen].entry->desc),
                                        safe[safeChosen].entry->name));
        goto cleanup;
    }
    if (why->kind != FWSEL_VERDICT_REJECTED || !fwselRuleIsPolicy(why->rule, contract->libvirt))
        goto cleanup;

    if (safeChosen >= 0)
        g_ptr_array_add(result->notes,
                        g_strdup_printf("hazard: libvirt chooses %s, but %s; --policy safe "
                                        "chooses %s instead", result->verdicts[chosen].entry->name,
                                        why->reason, safe[safeChosen].entry->name));
    else
        g_ptr_array_add(result->notes,
                        g_strdup_printf("hazard: libvirt chooses %s, but %s; --policy safe "
                                        "finds no firmware for this domain",
                                        result->verdicts[chosen].entry->name, why->reason));

 cleanup:
    fwselVerdictsFree(safe, catalog->nentries);
}


/* The request in a few words, for the no-match error */
static char *
fwselEvaluateDescribe(const fwselDomain *dom, const char *machine)
{
    g_autoptr(GString) out = g_string_new(NULL);
    const fwselLoader *loader = &dom->loader;
    const fwselNvram *nvram = &dom->nvram;

    g_string_append_printf(out, "firmware='%s' on %s %s",
                           fwselFirmwareTypeToString(dom->firmware),
                           dom->arch, machine ? machine : "(no machine type)");
    if (dom->secureBoot)
        g_string_append_printf(out, ", secure-boot %s",
                               dom->secureBoot == FWSEL_TRISTATE_YES ? "required" : "refused");
    if (dom->enrolledKeys)
        g_string_append_printf(out, ", enrolled-keys %s",
                               dom->enrolledKeys == FWSEL_TRISTATE_YES ? "required" : "refused");
    if (loader->type)
        g_string_append_printf(out, ", %s loader", fwselLoaderTypeTypeToString(loader->type));
    if (loader->path)
        g_string_append_printf(out, ", loader %s", loader->path);
    if (loader->format)
        g_string_append_printf(out, ", %s loader", fwselFormatTypeToString(loader->format));
    if (loader->readonly == FWSEL_TRISTATE_NO)
        g_string_append(out, ", read-write loader");
    if (loader->stateless)
        g_string_append(out, loader->stateless == FWSEL_TRISTATE_YES ? ", stateless"
                                                                      : ", with varstore");
    if (loader->secure)
        g_string_append_printf(out, ", loader secure='%s'",
                               fwselTristateTypeToString(loader->secure));
    if (nvram->templatePath)
        g_string_append_printf(out, ", varstore template %s", nvram->templatePath);
    if (nvram->templateFormat || nvram->format)
        g_string_append_printf(out, ", %s varstore",
                               fwselFormatTypeToString(nvram->templateFormat ? nvram->templateFormat
                                                                             : nvram->format));
    if (dom->smm == FWSEL_TRISTATE_NO)
        g_string_append(out, ", SMM off");
    if (dom->pmS3 == FWSEL_TRISTATE_YES)
        g_string_append(out, ", suspend-to-mem");
    if (dom->pmS4 == FWSEL_TRISTATE_YES)
        g_string_append(out, ", suspend-to-disk");
    if (dom->launchSecurity == FWSEL_LAUNCH_SECURITY_SEV && (dom->sevPolicy & FWSEL_SEV_POLICY_ES))
        g_string_append(out, ", launch security sev (SEV-ES policy)");
    else if (dom->launchSecurity)
        g_string_append_printf(out, ", launch security %s",
                               fwselLaunchSecurityTypeToString(dom->launchSecurity));
    return g_string_free(g_steal_pointer(&out), FALSE);
}


/* What 9.0 refuses once it has chosen (it only finds out at start) */
static int
fwselEvaluateChosen(const fwselContract *contract,
                    const fwselRequest *req,
                    const fwselDescriptor *desc,
                    GError **error)
{
    if (contract->libvirt != FWSEL_LIBVIRT_9_0)
        return 0;
    if (desc->device == FWSEL_DEVICE_FLASH && desc->executable.format != FWSEL_FORMAT_RAW) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_VALIDATE,
                    "%s was chosen, but this libvirt cannot use %s firmware (unsupported "
                    "flash format; the domain fails to start)", desc->name,
                    fwselFormatTypeToString(desc->executable.format));
        return -1;
    }
    if (fwselDescriptorIsSplit(desc) && desc->nvramTemplate.format != FWSEL_FORMAT_RAW) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_VALIDATE,
                    "%s was chosen, but this libvirt cannot use a %s varstore template "
                    "(the domain fails to start)", desc->name,
                    fwselFormatTypeToString(desc->nvramTemplate.format));
        return -1;
    }
    if (fwselDescriptorHasFeature(desc, FWSEL_FEATURE_REQUIRES_SMM) &&
        req->dom->smm == FWSEL_TRISTATE_NO) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_VALIDATE,
                    "%s was chosen, but it requires SMM and the domain has <smm "
                    "state='off'/> (the domain fails to start)", desc->name);
        return -1;
    }
    return 0;
}


/* What every libvirt refuses in the filled definition: a loader
 * restricted to SMM needs a q35 machine and x86_64 */
static int
fwselEvaluateFilled(const fwselRequest *req,
                    const fwselDomain *out,
                    GError **error)
{
    const char *machine = req->machine ? req->machine : "";

    if (out->loader.secure != FWSEL_TRISTATE_YES)
        return 0;
    if (!g_str_equal(machine, "q35") && !g_str_has_prefix(machine, "pc-q35")) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_VALIDATE,
                    "the chosen firmware restricts its flash to SMM (<loader secure='yes'/>), "
                    "which QEMU supports with q35 machine types only, not %s",
                    *machine ? machine : "(no machine type)");
        return -1;
    }
    if (!g_str_equal(out->arch, "x86_64")) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_VALIDATE,
                    "the chosen firmware restricts its flash to SMM (<loader secure='yes'/>), "
                    "which QEMU supports for x86_64 only, not %s", out->arch);
        return -1;
    }
    return 0;
}


/* libvirt lists every descriptor folder before it reads any file, and
 * a name it cannot follow (a dangling link) fails the whole lookup; 9.0
 * also fails it for any file it cannot parse */
static int
fwselEvaluateUnreadable(const fwselCatalog *catalog,
                        const fwselContract *contract,
                        GError **error)
{
    size_t i;

    for (i = 0; i < catalog->nentries; i++) {
        const fwselEntry *e = catalog->entries[i];

        if (e->unreadable) {
            g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO,
                        "%s cannot be accessed (%s): libvirt fails every firmware lookup "
                        "on this host until it is removed", e->path, g_strerror(e->unreadable));
            return -1;
        }
        if (contract->libvirt == FWSEL_LIBVIRT_9_0 && e->state == FWSEL_ENTRY_INVALID) {
            g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO,
                        "%s cannot be parsed (%s): this libvirt fails every firmware lookup "
                        "on this host until it is fixed or removed", e->path, e->error);
            return -1;
        }
    }
    return 0;
}


/* 9.0 creates a missing varstore when the domain starts, from the
 * template it names or the nvram list's entry for its loader; with
 * neither, the domain does not start */
static int
fwselEvaluateMasterVars90(const fwselCatalog *catalog,
                          const fwselRequest *req,
                          const fwselDomain *out,
                          GError **error)
{
    const fwselHostSettings *settings = &catalog->settings;
    const fwselNvramPair *pairs = settings->nvramPairs;
    size_t npairs = settings->nnvramPairs;
    size_t i;

    if (!out->nvram.present || out->nvram.source == FWSEL_NVRAM_SOURCE_NETWORK ||
        out->nvram.templatePath)
        return 0;
    if (req->dom->nvram.path && req->nvramFile.kind == FWSEL_PATH_REGULAR)
        return 0;
    if (settings->nvramPairsFromConf && fwselCatalogHasDescriptors(catalog)) {
        pairs = settings->builtinNvramPairs;
        npairs = settings->nbuiltinNvramPairs;
    }
    for (i = 0; out->loader.path && i < npairs; i++) {
        if (g_str_equal(pairs[i].loader, out->loader.path))
            return 0;
    }
    g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_VALIDATE,
                "no varstore template for loader %s: no descriptor and no nvram list "
                "entry names it, and the domain names none; this libvirt fails to "
                "start the domain", out->loader.path ? out->loader.path : "(none)");
    return -1;
}


static fwselResult *
fwselResultInvalid(fwselResult *result, GError *err)
{
    result->outcome = FWSEL_OUTCOME_INVALID;
    result->errorCode = err->code;
    result->error = g_strdup(err->message);
    g_clear_pointer(&result->dom, fwselDomainFree);
    g_error_free(err);
    return result;
}


/**
 * fwselEvaluate:
 *
 * Validates the request, matches it against @catalog and fills the
 * domain's firmware slice.  Always returns a result; "no firmware
 * matches" and "the request contradicts itself" are outcomes in it.
 */
fwselResult *
fwselEvaluate(const fwselCatalog *catalog, const fwselRequest *req)
{
    if (!catalog)
        return NULL;
    return fwselEvaluateContract(catalog, req, &catalog->contract);
}


/**
 * fwselEvaluatePolicy:
 *
 * fwselEvaluate with @policy instead of the catalog's: for fwsel's own
 * decisions (which build replaces firmware that is gone) that must hold
 * on the host whatever libvirt would accept.
 */
fwselResult *
fwselEvaluatePolicy(const fwselCatalog *catalog,
                    const fwselRequest *req,
                    fwselPolicy policy)
{
    fwselContract contract;

    if (!catalog)
        return NULL;
    contract = catalog->contract;
    contract.version = NULL;
    contract.policy = policy;
    return fwselEvaluateContract(catalog, req, &contract);
}


/**
 * fwselEvaluateContract:
 *
 * fwselEvaluate under @contract (libvirt version and policy) instead of
 * the catalog's.
 */
fwselResult *
fwselEvaluateContract(const fwselCatalog *catalog,
                      const fwselRequest *req,
                      const fwselContract *contract)
{
    fwselResult *result;
    const fwselDomain *dom;
    bool autoSelection;
    GError *err = NULL;
    fwselDomain *out;
    ssize_t chosen;
    fwselLibvirt libvirt;
    fwselPolicy policy;

    if (!catalog || !req || !contract)
        return NULL;
    libvirt = contract->libvirt;
    policy = contract->policy;
    result = g_new0(fwselResult, 1);
    dom = req->dom;
    autoSelection = dom->firmware != FWSEL_FIRMWARE_NONE;

    result->notes = g_ptr_array_new_with_free_func(g_free);
    result->libvirt = libvirt;
    result->policy = policy;
    result->machine = g_strdup(req->machine);
    result->machineSource = req->machineSource;
    result->request = fwselEvaluateDescribe(dom, req->machine);

    if (fwselDomainValidate(dom, contract, &err) < 0)
        return fwselResultInvalid(result, err);

    result->dom = out = fwselDomainCopy(dom);

    /* 9.0 has no format attributes: it ignores them */
    if (libvirt == FWSEL_LIBVIRT_9_0) {
        out->loader.format = FWSEL_FORMAT_NONE;
        out->nvram.format = FWSEL_FORMAT_NONE;
        out->nvram.templateFormat = FWSEL_FORMAT_NONE;
    }

    /* libvirt reads a hand-written loader path without a type as a ROM;
     * since 9.2 it also takes such a loader to be a raw image */
    if (!autoSelection && out->loader.present && out->loader.path &&
        !out->loader.type && !out->loader.format &&
        libvirt != FWSEL_LIBVIRT_9_0)
        out->loader.format = FWSEL_FORMAT_RAW;
    if (!autoSelection)
        out->loader.type = fwselLoaderEffectiveType(&out->loader);

    /* since 9.2, <nvram format> without a <loader> asks for a build of
     * that format */
    if (!out->loader.present && out->nvram.present && out->nvram.format &&
        libvirt != FWSEL_LIBVIRT_9_0)
        out->loader.format = out->nvram.format;

    /* Without auto-selection only a hand-written pflash loader needs
     * anything: BIOS and ROM loaders are complete as they are. */
    if (!autoSelection &&
        (!out->loader.present || out->loader.type != FWSEL_LOADER_TYPE_PFLASH)) {
        result->outcome = FWSEL_OUTCOME_NOTHING;
        goto finish;
    }

    /* 9.0 only looks for a hand-written loader's template when the loader
     * is read-only pflash, names none and has no varstore yet */
    if (!autoSelection && libvirt == FWSEL_LIBVIRT_9_0 &&
        (out->loader.readonly != FWSEL_TRISTATE_YES || out->nvram.templatePath ||
         req->nvramFile.kind == FWSEL_PATH_REGULAR)) {
        result->outcome = FWSEL_OUTCOME_UNDESCRIBED;
        goto varstore;
    }

    if (fwselEvaluateUnreadable(catalog, contract, &err) < 0)
        return fwselResultInvalid(result, err);
    result->nverdicts = catalog->nentries;
    result->verdicts = g_new0(fwselVerdict, catalog->nentries);
    chosen = fwselEvaluateMatch(catalog, req, out, libvirt, policy,
                                result->verdicts, &result->decidedByVarstore);
    if (chosen >= 0)
        result->chosen = result->verdicts[chosen].entry;
    if (policy == FWSEL_POLICY_LIBVIRT)
        fwselEvaluateHazards(catalog, contract, req, out, chosen, result);

    if (result->chosen) {
        result->outcome = FWSEL_OUTCOME_SELECTED;
        if (fwselEvaluateChosen(contract, req, result->chosen->desc, &err) < 0)
            return fwselResultInvalid(result, err);
        fwselFillFromDescriptor(out, result->chosen->desc, libvirt);
        if (libvirt != FWSEL_LIBVIRT_9_0 &&
            fwselEvaluateFilled(req, out, &err) < 0)
            return fwselResultInvalid(result, err);
    } else if (autoSelection) {
        /* firmware='bios' is a selection like firmware='efi': without a
         * descriptor libvirt refuses the domain (QEMU's built-in BIOS is
         * what a domain without firmware= gets) */
        result->outcome = FWSEL_OUTCOME_NO_MATCH;
        g_clear_pointer(&result->dom, fwselDomainFree);
        return result;
    } else {
        result->outcome = FWSEL_OUTCOME_UNDESCRIBED;
        fwselFillUndescribed(catalog, contract, req, out, result->notes);
    }


 varstore:
    if (fwselFillVarstore(&catalog->settings, libvirt, out, &err) < 0)
        return fwselResultInvalid(result, err);

 finish:
    if (libvirt == FWSEL_LIBVIRT_9_0 &&
        fwselEvaluateMasterVars90(catalog, req, out, &err) < 0)
        return fwselResultInvalid(result, err);
    return result;
}


/**
 * fwselResultToError:
 *
 * The GError a failed result stands for: FWSEL_ERROR_NOMATCH with every
 * descriptor's verdict, or the validation error.
 */
void
fwselResultToError(const fwselResult *result, GError **error)
{
    g_autofree char *reasons = NULL;

    switch (result->outcome) {
    case FWSEL_OUTCOME_INVALID:
        g_set_error_literal(error, FWSEL_ERROR, result->errorCode, result->error);
        return;
    case FWSEL_OUTCOME_NO_MATCH:
        reasons = fwselResultFormatVerdicts(result, "  ");
        g_strchomp(reasons);
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_NOMATCH,
                    "no firmware satisfies %s; every descriptor was rejected:\n%s",
                    result->request, reasons);
        return;
    case FWSEL_OUTCOME_SELECTED:
    case FWSEL_OUTCOME_UNDESCRIBED:
    case FWSEL_OUTCOME_NOTHING:
    case FWSEL_OUTCOME_LAST:
        break;
    }
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
        return g_strdup_printf("%s: %s (%s): %s", e->name, kind,
                               fwselRuleTypeToString(v->rule), v->reason);
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
fwselResultFormatVerdicts(const fwselResult *result, const char *indent)
{
    g_autoptr(GString) out = g_string_new(NULL);
    size_t i;

    for (i = 0; i < result->nverdicts; i++) {
        g_autofree char *line = fwselVerdictFormat(&result->verdicts[i]);

        g_string_append_printf(out, "%s%s\n", indent, line);
    }
    if (result->nverdicts == 0)
        g_string_append_printf(out, "%s(no descriptor files found)\n", indent);
    return g_string_free(g_steal_pointer(&out), FALSE);
}
