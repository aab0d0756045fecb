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
                "selected", "undescribed", "nothing", "builtin-bios", "no-match", "invalid");


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
                  fwselResult *result)
{
    ssize_t first = -1;
    ssize_t exact = -1;
    size_t i;

    for (i = 0; i < catalog->nentries; i++) {
        fwselVerdict *v = &result->verdicts[i];

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
static void
fwselEvaluateMatch(const fwselCatalog *catalog,
                   const fwselRequest *req,
                   fwselResult *result)
{
    const fwselDomain *dom = req->dom;
    fwselRuleCtx ctx = { 0 };
    ssize_t chosen;

    ctx.catalog = catalog;
    ctx.req = req;
    ctx.dom = dom;
    ctx.want = fwselWantedInterface(dom);

    result->nverdicts = catalog->nentries;
    result->verdicts = g_new0(fwselVerdict, catalog->nentries);

    ctx.preferVarstore = dom->loader.stateless == FWSEL_TRISTATE_ABSENT &&
                         dom->loader.readonly != FWSEL_TRISTATE_NO &&
                         dom->loader.type != FWSEL_LOADER_TYPE_ROM &&
                         !dom->nvram.present;
    chosen = fwselEvaluatePass(&ctx, catalog, result);
    result->decidedByVarstore = ctx.preferVarstore;
    if (chosen < 0 && ctx.preferVarstore) {
        ctx.preferVarstore = false;
        result->decidedByVarstore = false;
        chosen = fwselEvaluatePass(&ctx, catalog, result);
    }

    if (chosen >= 0) {
        result->verdicts[chosen].kind = FWSEL_VERDICT_SELECTED;
        result->chosen = result->verdicts[chosen].entry;
    }
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


static bool
fwselArchHasBuiltinBIOS(const char *arch)
{
    return g_str_equal(arch, "x86_64") || g_str_equal(arch, "i686");
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
    fwselResult *result;
    const fwselDomain *dom;
    bool autoSelection;
    GError *err = NULL;
    fwselDomain *out;

    if (!catalog || !req)
        return NULL;
    result = g_new0(fwselResult, 1);
    dom = req->dom;
    autoSelection = dom->firmware != FWSEL_FIRMWARE_NONE;

    result->notes = g_ptr_array_new_with_free_func(g_free);
    result->machine = g_strdup(req->machine);
    result->machineSource = req->machineSource;
    result->request = fwselEvaluateDescribe(dom, req->machine);

    if (fwselDomainValidate(dom, &err) < 0)
        return fwselResultInvalid(result, err);

    result->dom = out = fwselDomainCopy(dom);

    /* libvirt reads a hand-written loader path without a type as a ROM */
    if (!autoSelection)
        out->loader.type = fwselLoaderEffectiveType(&out->loader);

    /* Without auto-selection only a hand-written pflash loader needs
     * anything: BIOS and ROM loaders are complete as they are. */
    if (!autoSelection &&
        (!out->loader.present || out->loader.type != FWSEL_LOADER_TYPE_PFLASH)) {
        result->outcome = FWSEL_OUTCOME_NOTHING;
        return result;
    }

    fwselEvaluateMatch(catalog, req, result);

    if (result->chosen) {
        result->outcome = FWSEL_OUTCOME_SELECTED;
        fwselFillFromDescriptor(out, result->chosen->desc);
    } else if (autoSelection) {
        if (dom->firmware == FWSEL_FIRMWARE_BIOS && !dom->loader.present &&
            fwselArchHasBuiltinBIOS(dom->arch)) {
            result->outcome = FWSEL_OUTCOME_BUILTIN_BIOS;
            g_ptr_array_add(result->notes,
                            g_strdup("no descriptor offers bios firmware; QEMU's built-in "
                                     "BIOS will be used"));
            return result;
        }
        result->outcome = FWSEL_OUTCOME_NO_MATCH;
        g_clear_pointer(&result->dom, fwselDomainFree);
        return result;
    } else {
        result->outcome = FWSEL_OUTCOME_UNDESCRIBED;
        fwselFillUndescribed(catalog, req, out, result->notes);
    }

    if (fwselFillVarstore(&catalog->settings, out, &err) < 0)
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
    case FWSEL_OUTCOME_BUILTIN_BIOS:
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
