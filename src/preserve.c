/*
 * preserve.c: carry a domain's loader and varstore into a regenerated
 * definition, and pin them for a migration destination
 *
 * A pinned definition names every firmware file and switches automatic
 * selection off: no firmware= attribute and no <os><firmware> block
 * (libvirt 9.0.0 refuses explicit loader attributes next to
 * firmware='efi').  Whether the old firmware still fits is decided by the
 * selection rules themselves (match.c): the new request, restricted to
 * the old loader and template, either still matches the descriptor that
 * describes them, or the verdict says why not.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "fwsel-preserve.h"
#include "fwsel-fill.h"
#include "fwsel-util.h"

FWSEL_ENUM_IMPL(fwselPreserveOutcome, FWSEL_PRESERVE_LAST,
                "none", "kept", "reselected", "remapped");


void
fwselPreservationFree(fwselPreservation *pres)
{
    if (!pres)
        return;
    fwselDomainFree(pres->dom);
    if (pres->reasons)
        g_ptr_array_unref(pres->reasons);
    if (pres->notes)
        g_ptr_array_unref(pres->notes);
    g_free(pres->varstoreResetWhy);
    g_free(pres);
}


static fwselPreservation *
fwselPreservationNew(void)
{
    fwselPreservation *pres = g_new0(fwselPreservation, 1);

    pres->reasons = g_ptr_array_new_with_free_func(g_free);
    pres->notes = g_ptr_array_new_with_free_func(g_free);
    return pres;
}


static void G_GNUC_PRINTF(2, 3)
fwselAddf(GPtrArray *list, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_ptr_array_add(list, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}


static const char *
fwselOr(const char *s, const char *fallback)
{
    return s ? s : fallback;
}


static fwselFormat
fwselFormatOrRaw(fwselFormat format)
{
    return format ? format : FWSEL_FORMAT_RAW;
}


static const char *
fwselTristateText(fwselTristate t)
{
    return t ? fwselTristateTypeToString(t) : NULL;
}


/* "uefi, flash split (raw, template raw), features: a b c" */
static char *
fwselDescribeRole(const fwselDescriptor *desc)
{
    g_autoptr(GString) out = g_string_new(NULL);
    int i;

    for (i = 1; i < FWSEL_INTERFACE_LAST; i++) {
        if (fwselDescriptorHasInterface(desc, i))
            g_string_append_printf(out, "%s%s", out->len ? "/" : "",
                                   fwselInterfaceTypeToString(i));
    }
    if (desc->device == FWSEL_DEVICE_FLASH) {
        g_string_append_printf(out, ", flash %s (%s", fwselFlashModeTypeToString(desc->mode),
                               fwselFormatTypeToString(desc->executable.format));
        if (fwselDescriptorTemplateFile(desc))
            g_string_append_printf(out, ", template %s",
                                   fwselFormatTypeToString(desc->nvramTemplate.format));
        g_string_append_c(out, ')');
    } else {
        g_string_append_printf(out, ", %s", fwselDeviceTypeToString(desc->device));
    }
    g_string_append(out, ", features:");
    for (i = 0; i < FWSEL_FEATURE_LAST; i++) {
        if (fwselDescriptorHasFeature(desc, i))
            g_string_append_printf(out, " %s", fwselFeatureTypeToString(i));
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}


/* What preservation works from: the catalog and the two requests */
typedef struct {
    const fwselCatalog *catalog;
    const fwselRequest *existing;   /* NULL for a migration */
    const fwselRequest *requested;  /* the new or incoming definition */
} fwselPreserveCtx;


/* What @path is, from the facts already gathered */
static const fwselPathFact *
fwselPreserveFact(const fwselPreserveCtx *ctx, const char *path)
{
    const fwselRequest *known[] = { ctx->existing, ctx->requested };

    return fwselRequestFact(ctx->catalog, known, G_N_ELEMENTS(known), path);
}


static bool
fwselPreserveSameFile(const fwselPreserveCtx *ctx, const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    if (g_str_equal(a, b))
        return true;
    return fwselPathFactSameFile(fwselPreserveFact(ctx, a), fwselPreserveFact(ctx, b));
}


static bool
fwselPreserveExists(const fwselPreserveCtx *ctx, const char *path)
{
    return fwselPreserveFact(ctx, path)->kind == FWSEL_PATH_REGULAR;
}


/* The descriptor whose code file is @path, or NULL */
static const fwselDescriptor *
fwselPreserveFindByCode(const fwselPreserveCtx *ctx, const char *path)
{
    const fwselEntry *e = fwselCatalogFindByCode(ctx->catalog, path,
                                                 fwselPreserveFact(ctx, path));

    return e ? e->desc : NULL;
}


/* fwsel's own questions (which descriptor describes the files a
 * definition names, which build replaces one that is gone) are answered
 * by the newest rules and the safe policy, whatever the host's libvirt
 * would accept as a request: the answer is pinned, never given to libvirt
 * to select from */
static const fwselContract fwselPreserveOwnContract = {
    .libvirt = FWSEL_LIBVIRT_11_8,
    .policy = FWSEL_POLICY_SAFE,
    .source = FWSEL_LIBVIRT_SOURCE_OPTION,
    .version = NULL,
};


/* Evaluates @dom, composed from the requests' own facts */
static fwselResult *
fwselPreserveEvaluateContract(const fwselPreserveCtx *ctx,
                              const fwselDomain *dom,
                              const fwselContract *contract)
{
    const fwselRequest *known[] = { ctx->existing, ctx->requested };
    g_autoptr(fwselRequest) req = fwselRequestDerive(ctx->catalog, dom, ctx->requested,
                                                     known, G_N_ELEMENTS(known));

    return fwselEvaluateContract(ctx->catalog, req, contract);
}


/* A selection as the host's libvirt would make it */
static fwselResult *
fwselPreserveEvaluate(const fwselPreserveCtx *ctx, const fwselDomain *dom)
{
    return fwselPreserveEvaluateContract(ctx, dom, &ctx->catalog->contract);
}


static void
fwselCopyLoader(fwselLoader *to, const fwselLoader *from)
{
    g_free(to->path);
    *to = *from;
    to->path = g_strdup(from->path);
}


static void
fwselCopyNvram(fwselNvram *to, const fwselNvram *from)
{
    g_free(to->path);
    g_free(to->templatePath);
    *to = *from;
    to->path = g_strdup(from->path);
    to->templatePath = g_strdup(from->templatePath);
}


/* ------------------------------------------------------------------ */
/* Preserve                                                            */
/* ------------------------------------------------------------------ */

/* Does the new definition ask for firmware that a loader could provide? */
static bool
fwselRequestsLoader(const fwselDomain *dom)
{
    if (dom->firmware == FWSEL_FIRMWARE_EFI)
        return true;
    if (dom->firmware == FWSEL_FIRMWARE_BIOS)
        return false;
    return (dom->loader.present &&
            (dom->loader.path || dom->loader.type != FWSEL_LOADER_TYPE_NONE)) ||
           dom->nvram.present;
}


static void
fwselLoaderConflict(GPtrArray *reasons, const char *attr, const char *want, const char *have)
{
    if (have)
        fwselAddf(reasons, "NEW asks for <loader %s='%s'>, the existing loader has %s='%s'",
                  attr, want, attr, have);
    else
        fwselAddf(reasons, "NEW asks for <loader %s='%s'>, the existing loader has no %s "
                  "attribute", attr, want, attr);
}


/* The new definition sets a loader attribute the existing loader does
 * not have; each difference is a reason to select again. */
static void
fwselPreserveCompareLoader(const fwselDomain *existing,
                           const fwselDomain *requested,
                           GPtrArray *reasons)
{
    const fwselLoader *o = &existing->loader;
    const fwselLoader *n = &requested->loader;
    fwselLoaderType oldType = fwselLoaderEffectiveType(o);

    if (n->type && n->type != oldType)
        fwselLoaderConflict(reasons, "type", fwselLoaderTypeTypeToString(n->type),
                  oldType ? fwselLoaderTypeTypeToString(oldType) : NULL);
    if (n->readonly && n->readonly != o->readonly)
        fwselLoaderConflict(reasons, "readonly", fwselTristateTypeToString(n->readonly),
                  fwselTristateText(o->readonly));
    if (n->secure &&
        (n->secure == FWSEL_TRISTATE_YES) != (o->secure == FWSEL_TRISTATE_YES))
        fwselLoaderConflict(reasons, "secure", fwselTristateTypeToString(n->secure),
                  fwselTristateText(o->secure));
    if (n->stateless &&
        (n->stateless == FWSEL_TRISTATE_YES) != (o->stateless == FWSEL_TRISTATE_YES))
        fwselLoaderConflict(reasons, "stateless", fwselTristateTypeToString(n->stateless),
                  fwselTristateText(o->stateless));
    if (n->format && n->format != fwselFormatOrRaw(o->format))
        fwselLoaderConflict(reasons, "format", fwselFormatTypeToString(n->format),
                  fwselFormatTypeToString(fwselFormatOrRaw(o->format)));
    if (requested->nvram.format && existing->nvram.present &&
        requested->nvram.format != fwselFormatOrRaw(existing->nvram.format))
        fwselAddf(reasons, "NEW asks for a %s varstore, the existing one is %s",
                  fwselFormatTypeToString(requested->nvram.format),
                  fwselFormatTypeToString(fwselFormatOrRaw(existing->nvram.format)));
}


/* Why the existing firmware cannot be kept before looking at
 * descriptors: no loader, or files gone. */
static void
fwselPreserveCheckFiles(const fwselPreserveCtx *ctx,
                        const fwselDomain *existing,
                        const fwselDomain *requested,
                        GPtrArray *reasons)
{
    const fwselLoader *o = &existing->loader;

    if (requested->loader.path && !fwselPreserveSameFile(ctx, requested->loader.path, o->path)) {
        fwselAddf(reasons, "NEW names loader %s, the existing definition uses %s",
                  requested->loader.path, fwselOr(o->path, "none"));
        return;
    }

    if (!o->present || !o->path) {
        if (existing->firmware == FWSEL_FIRMWARE_EFI)
            fwselAddf(reasons,
                      "EXISTING names no loader file, only firmware='efi' (libvirt 9.0.0 "
                      "keeps the files it chose only in the running definition: use "
                      "'virsh dumpxml' of the running domain, without --inactive)");
        else
            fwselAddf(reasons, "EXISTING has no loader file (it boots QEMU's default firmware)");
        return;
    }

    if (!fwselPreserveExists(ctx, o->path))
        fwselAddf(reasons, "the existing loader %s no longer exists on this host", o->path);
    if (existing->nvram.templatePath &&
        !fwselPreserveExists(ctx, existing->nvram.templatePath))
        fwselAddf(reasons, "the existing varstore template %s no longer exists on this host",
                  existing->nvram.templatePath);
}


/* The new request restricted to the existing files */
static fwselDomain *
fwselPreserveProbe(const fwselDomain *existing, const fwselDomain *requested)
{
    fwselDomain *probe = fwselDomainCopy(requested);
    const fwselLoader *o = &existing->loader;

    probe->loader.present = true;
    g_free(probe->loader.path);
    probe->loader.path = g_strdup(o->path);
    probe->loader.type = fwselLoaderEffectiveType(o);
    if (!probe->loader.readonly)
        probe->loader.readonly = o->readonly;
    if (!probe->loader.secure)
        probe->loader.secure = o->secure;
    if (!probe->loader.stateless)
        probe->loader.stateless = o->stateless;
    if (!probe->loader.format)
        probe->loader.format = o->format;

    fwselCopyNvram(&probe->nvram, &existing->nvram);
    if (!probe->smm)
        probe->smm = existing->smm;
    return probe;
}


/* Runs the selection rules on the probe; on a mismatch the reasons of
 * the descriptors describing the existing files go to @reasons. */
static const fwselDescriptor *
fwselPreserveMatch(const fwselPreserveCtx *ctx,
                   const fwselDomain *probe,
                   fwselPreservation *pres,
                   bool *described)
{
    g_autoptr(fwselResult) result = fwselPreserveEvaluateContract(ctx, probe,
                                                                  &fwselPreserveOwnContract);
    size_t i;

    *described = result->chosen != NULL;
    if (result->chosen)
        return result->chosen->desc;

    /* a rejection by a capability rule is about the existing firmware
     * itself; an identity rule only says a descriptor is about other
     * firmware */
    for (i = 0; i < result->nverdicts; i++) {
        const fwselVerdict *v = &result->verdicts[i];

        if (v->kind != FWSEL_VERDICT_REJECTED ||
            fwselRuleGetKind(v->rule) != FWSEL_RULE_KIND_CAPABILITY)
            continue;
        *described = true;
        fwselAddf(pres->reasons, "the existing firmware %s (%s) no longer fits NEW: %s: %s",
                  probe->loader.path, v->entry->name, fwselRuleTypeToString(v->rule),
                  v->reason);
    }
    return NULL;
}


static bool
fwselSameFeature(const fwselDescriptor *a, const fwselDescriptor *b, fwselFeature f)
{
    return fwselDescriptorHasFeature(a, f) == fwselDescriptorHasFeature(b, f);
}


/* After a new selection: does the varstore the domain keeps still fit? */
static void
fwselPreserveCheckVarstore(const fwselPreserveCtx *ctx,
                           const fwselDomain *existing,
                           fwselPreservation *pres)
{
    const fwselDomain *dom = pres->dom;
    const fwselDescriptor *old;
    const char *oldTemplate = existing->nvram.templatePath;
    const char *path = existing->nvram.path;
    static const fwselFeature keyFeatures[] = {
        FWSEL_FEATURE_SECURE_BOOT, FWSEL_FEATURE_ENROLLED_KEYS,
    };
    size_t i;

    if (!existing->loader.path || !path || existing->nvram.source == FWSEL_NVRAM_SOURCE_NETWORK)
        return;
    if (!dom->nvram.present) {
        fwselAddf(pres->notes,
                  "the new firmware keeps no variables: the varstore %s is no longer used "
                  "(it stays on disk)", path);
        return;
    }
    if (g_strcmp0(dom->nvram.path, path) != 0)
        return;

    old = fwselPreserveFindByCode(ctx, existing->loader.path);
    if (!oldTemplate && old)
        oldTemplate = fwselDescriptorTemplateFile(old);

    if (!oldTemplate) {
        fwselAddf(pres->notes,
                  "cannot tell which template the varstore %s was made from; check that "
                  "it fits the new firmware ('virt-fwsel nvram check')", path);
        return;
    }

    if (!fwselPreserveSameFile(ctx, oldTemplate, dom->nvram.templatePath)) {
        pres->varstoreReset = true;
        pres->varstoreResetWhy =
            g_strdup_printf("the varstore %s was made from %s, the new firmware's template "
                            "is %s", path, oldTemplate,
                            fwselOr(dom->nvram.templatePath, "(none)"));
        return;
    }

    if (!old || !pres->chosen)
        return;
    for (i = 0; i < G_N_ELEMENTS(keyFeatures); i++) {
        fwselFeature f = keyFeatures[i];

        if (fwselSameFeature(old, pres->chosen, f))
            continue;
        pres->varstoreReset = true;
        pres->varstoreResetWhy =
            g_strdup_printf("%s changes from %s to %s: the varstore %s holds the old "
                            "firmware's variables",
                            fwselFeatureTypeToString(f),
                            fwselDescriptorHasFeature(old, f) ? "yes" : "no",
                            fwselDescriptorHasFeature(pres->chosen, f) ? "yes" : "no",
                            path);
        return;
    }
}


/* Runs the selection for @dom and makes its result the definition of
 * @pres, in pinned form, the selection's notes first.  @chosen (may be
 * NULL) receives the descriptor chosen. */
static int
fwselPreserveTakeSelection(const fwselPreserveCtx *ctx,
                           const fwselDomain *dom,
                           fwselPreservation *pres,
                           const fwselDescriptor **chosen,
                           GError **error)
{
    g_autoptr(fwselResult) result = fwselPreserveEvaluate(ctx, dom);
    guint i;

    if (fwselResultFailed(result)) {
        fwselResultToError(result, error);
        return -1;
    }
    if (chosen)
        *chosen = fwselResultChosen(result);
    for (i = 0; i < result->notes->len; i++)
        g_ptr_array_add(pres->notes, g_strdup(g_ptr_array_index(result->notes, i)));
    fwselDomainFree(pres->dom);
    pres->dom = fwselFillRender(result->dom, fwselResultChosen(result), FWSEL_FORM_PINNED, result->libvirt);
    return 0;
}


/* Selection from scratch for the new definition; the varstore keeps its
 * place when it can. */
static int
fwselPreserveReselect(const fwselPreserveCtx *ctx,
                      const fwselDomain *existing,
                      const fwselDomain *requested,
                      fwselPreservation *pres,
                      GError **error)
{
    fwselNvram *nvram;

    if (fwselPreserveTakeSelection(ctx, requested, pres, &pres->chosen, error) < 0)
        return -1;

    pres->outcome = FWSEL_PRESERVE_RESELECTED;
    nvram = &pres->dom->nvram;

    if (!requested->nvram.path && existing->nvram.path && existing->nvram.source != FWSEL_NVRAM_SOURCE_NETWORK &&
        nvram->present && nvram->path && !g_str_equal(nvram->path, existing->nvram.path)) {
        if (fwselFormatOrRaw(nvram->format) == fwselFormatOrRaw(existing->nvram.format)) {
            g_free(nvram->path);
            nvram->path = g_strdup(existing->nvram.path);
        } else {
            fwselAddf(pres->notes,
                      "the existing %s varstore %s does not fit the new %s firmware; it "
                      "stays on disk and the domain gets %s",
                      fwselFormatTypeToString(fwselFormatOrRaw(existing->nvram.format)),
                      existing->nvram.path,
                      fwselFormatTypeToString(fwselFormatOrRaw(nvram->format)), nvram->path);
        }
    }

    fwselPreserveCheckVarstore(ctx, existing, pres);
    return 0;
}


/* The existing loader and varstore, pinned into the new definition */
static int
fwselPreserveKeep(const fwselPreserveCtx *ctx,
                  const fwselDomain *existing,
                  const fwselDomain *requested,
                  fwselPreservation *pres,
                  GError **error)
{
    g_autoptr(fwselDomain) keep = fwselFillRender(requested, NULL, FWSEL_FORM_PINNED, FWSEL_LIBVIRT_LAST);
    const fwselDescriptor *chosen = NULL;

    fwselCopyLoader(&keep->loader, &existing->loader);
    keep->loader.type = fwselLoaderEffectiveType(&existing->loader);
    fwselCopyNvram(&keep->nvram, &existing->nvram);
    if (existing->smm)
        keep->smm = existing->smm;

    /* completes what the existing definition left implicit (a template
     * libvirt looks up at start, formats) without choosing anything */
    if (fwselPreserveTakeSelection(ctx, keep, pres, &chosen, error) < 0)
        return -1;

    pres->outcome = FWSEL_PRESERVE_KEPT;
    if (!pres->chosen)
        pres->chosen = chosen;
    return 0;
}


/**
 * fwselPreserve:
 * @existing: the domain's current definition (running XML, or the
 *            persistent XML when it names the files)
 * @requested: the newly generated definition
 *
 * Returns the firmware slice for @requested: the existing loader,
 * varstore and SMM setting pinned (KEPT); or a fresh selection
 * (RESELECTED) with pres->reasons saying why, when the existing files are
 * gone, @requested names other files, or asks for what the existing
 * firmware does not have; or @requested untouched (NONE) when it asks
 * for no firmware.
 */
fwselPreservation *
fwselPreserve(const fwselCatalog *catalog,
              const fwselRequest *existingReq,
              const fwselRequest *requestedReq,
              GError **error)
{
    g_autoptr(fwselPreservation) pres = fwselPreservationNew();
    fwselPreserveCtx ctx = { catalog, existingReq, requestedReq };
    const fwselDomain *existing = existingReq->dom;
    const fwselDomain *requested = requestedReq->dom;
    g_autoptr(fwselDomain) probe = NULL;
    bool described = false;

    if (existing->name && requested->name && !g_str_equal(existing->name, requested->name)) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "EXISTING defines domain '%s', NEW defines '%s': not the same domain",
                    existing->name, requested->name);
        return NULL;
    }
    if (fwselDomainValidate(requested, &catalog->contract, error) < 0)
        return NULL;
    if (existing->nvram.present && existing->nvram.source == FWSEL_NVRAM_SOURCE_NETWORK &&
        fwselRequestsLoader(requested)) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_VALIDATE,
                    "EXISTING's varstore is not a local file (<nvram type='network'>): "
                    "fwsel cannot carry its <source> over; copy the <nvram> element into "
                    "NEW by hand");
        return NULL;
    }

    if (!fwselRequestsLoader(requested)) {
        /* firmware='bios': the ROM a descriptor names, or QEMU's own BIOS;
         * libvirt 9.0.0 refuses to start firmware='bios' without a
         * descriptor for it */
        if (fwselPreserveTakeSelection(&ctx, requested, pres, &pres->chosen, error) < 0)
            return NULL;
        pres->outcome = FWSEL_PRESERVE_NONE;
        /* (define passes the selection itself as EXISTING: same loader) */
        if (existing->loader.path &&
            g_strcmp0(existing->loader.path, pres->dom->loader.path) != 0)
            fwselAddf(pres->notes,
                      "NEW asks for no UEFI firmware: the existing loader %s is not carried over",
                      existing->loader.path);
        return g_steal_pointer(&pres);
    }

    fwselPreserveCheckFiles(&ctx, existing, requested, pres->reasons);
    if (pres->reasons->len == 0)
        fwselPreserveCompareLoader(existing, requested, pres->reasons);

    if (pres->reasons->len == 0) {
        probe = fwselPreserveProbe(existing, requested);
        pres->chosen = fwselPreserveMatch(&ctx, probe, pres, &described);
        if (!described)
            fwselAddf(pres->notes,
                      "no firmware descriptor on this host describes %s: NEW's requests "
                      "could not be checked against it; it is kept as it is",
                      existing->loader.path);
    }

    if (pres->reasons->len > 0) {
        if (fwselPreserveReselect(&ctx, existing, requested, pres, error) < 0)
            return NULL;
    } else if (fwselPreserveKeep(&ctx, existing, requested, pres, error) < 0) {
        return NULL;
    }
    return g_steal_pointer(&pres);
}


/* ------------------------------------------------------------------ */
/* Migration                                                           */
/* ------------------------------------------------------------------ */

/* The request "the same role as the incoming firmware": everything the
 * definition says about the firmware except its file names. */
static fwselDomain *
fwselMigrateRole(const fwselDomain *incoming,
                 const fwselDescriptor *old,
                 GError **error)
{
    g_autoptr(fwselDomain) role = fwselDomainCopy(incoming);
    fwselLoader *loader = &role->loader;

    loader->type = fwselLoaderEffectiveType(&incoming->loader);

    if (old && fwselDescriptorHasInterface(old, FWSEL_INTERFACE_UEFI))
        role->firmware = FWSEL_FIRMWARE_EFI;
    else if (old && fwselDescriptorHasInterface(old, FWSEL_INTERFACE_BIOS))
        role->firmware = FWSEL_FIRMWARE_BIOS;
    else if (loader->type == FWSEL_LOADER_TYPE_PFLASH)
        role->firmware = FWSEL_FIRMWARE_EFI;
    else {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_NOMATCH,
                    "%s does not exist on this host, and nothing says whether this ROM "
                    "image is UEFI or BIOS firmware: install it, or pin another one by hand",
                    incoming->loader.path);
        return NULL;
    }

    g_clear_pointer(&loader->path, g_free);
    g_clear_pointer(&role->nvram.templatePath, g_free);
    loader->format = fwselFormatOrRaw(loader->format);
    if (loader->type == FWSEL_LOADER_TYPE_PFLASH && !loader->secure)
        loader->secure = FWSEL_TRISTATE_NO;
    if (role->nvram.present) {
        role->nvram.format = fwselFormatOrRaw(role->nvram.format ? role->nvram.format
                                                                 : role->nvram.templateFormat);
        role->nvram.templateFormat = role->nvram.format;
    }

    /* what the firmware is, from the definition, else from fwsel's own
     * record of the pinned role, else from a descriptor that still names
     * the missing file */
    if (!role->secureBoot && incoming->pinnedSecureBoot)
        role->secureBoot = incoming->pinnedSecureBoot;
    if (!role->enrolledKeys && incoming->pinnedEnrolledKeys)
        role->enrolledKeys = incoming->pinnedEnrolledKeys;
    if (old && !role->secureBoot)
        role->secureBoot = fwselDescriptorHasFeature(old, FWSEL_FEATURE_SECURE_BOOT)
                           ? FWSEL_TRISTATE_YES : FWSEL_TRISTATE_NO;
    if (old && !role->enrolledKeys)
        role->enrolledKeys = fwselDescriptorHasFeature(old, FWSEL_FEATURE_ENROLLED_KEYS)
                             ? FWSEL_TRISTATE_YES : FWSEL_TRISTATE_NO;
    if (role->secureBoot || role->enrolledKeys)
        role->hasFirmwareFeatures = true;
    if (role->firmware == FWSEL_FIRMWARE_BIOS)
        role->hasFirmwareFeatures = false;
    return g_steal_pointer(&role);
}


/* "uefi pflash split (raw), SMM-protected, secure-boot yes, enrolled-keys open" */
static char *
fwselDescribeWantedRole(const fwselDomain *role)
{
    g_autoptr(GString) out = g_string_new(NULL);
    const fwselLoader *loader = &role->loader;
    const char *mode = "split";

    if (loader->stateless == FWSEL_TRISTATE_YES)
        mode = "stateless";
    else if (loader->readonly == FWSEL_TRISTATE_NO)
        mode = "combined";

    g_string_append_printf(out, "%s %s", role->firmware == FWSEL_FIRMWARE_BIOS ? "bios" : "uefi",
                           fwselLoaderTypeTypeToString(loader->type));
    if (loader->type == FWSEL_LOADER_TYPE_PFLASH)
        g_string_append_printf(out, " %s (%s), %s", mode, fwselFormatTypeToString(loader->format),
                               loader->secure == FWSEL_TRISTATE_YES ? "SMM-protected"
                                                                    : "not SMM-protected");
    g_string_append_printf(out, ", secure-boot %s, enrolled-keys %s",
                           role->secureBoot ? fwselTristateTypeToString(role->secureBoot) : "open",
                           role->enrolledKeys ? fwselTristateTypeToString(role->enrolledKeys) : "open");
    return g_string_free(g_steal_pointer(&out), FALSE);
}


/* A feature the incoming definition leaves open must not tell the
 * candidates apart, or the mapping would be a guess. */
static int
fwselMigrateCheckAmbiguous(const fwselDomain *role,
                           const fwselResult *match,
                           const char *missing,
                           GError **error)
{
    static const struct {
        fwselFeature feature;
        size_t offset;
    } open[] = {
        { FWSEL_FEATURE_SECURE_BOOT, G_STRUCT_OFFSET(fwselDomain, secureBoot) },
        { FWSEL_FEATURE_ENROLLED_KEYS, G_STRUCT_OFFSET(fwselDomain, enrolledKeys) },
    };
    size_t f;
    size_t i;

    for (f = 0; f < G_N_ELEMENTS(open); f++) {
        const fwselTristate *want = G_STRUCT_MEMBER_P(role, open[f].offset);
        g_autoptr(GString) with = g_string_new(NULL);
        g_autoptr(GString) without = g_string_new(NULL);

        if (*want)
            continue;
        for (i = 0; i < match->nverdicts; i++) {
            const fwselVerdict *v = &match->verdicts[i];

            if (v->kind != FWSEL_VERDICT_SELECTED && v->kind != FWSEL_VERDICT_MATCH)
                continue;
            g_string_append_printf(fwselDescriptorHasFeature(v->entry->desc, open[f].feature)
                                   ? with : without, " %s", v->entry->name);
        }
        if (with->len && without->len) {
            g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_NOMATCH,
                        "%s does not exist on this host and its role is ambiguous here: the "
                        "definition does not say whether the firmware has %s (with it:%s; "
                        "without:%s). Install %s on this host, or give the domain "
                        "<os><firmware> features so that its running XML says which firmware "
                        "it has (with libvirt 9.0, whose pinned definitions cannot have them: "
                        "pin it with virt-fwsel define or redefine on the source, which "
                        "record the role in the domain's metadata)",
                        missing, fwselFeatureTypeToString(open[f].feature),
                        with->str, without->str, missing);
            return -1;
        }
    }
    return 0;
}


static int
fwselMigrateRemap(const fwselPreserveCtx *ctx,
                  const fwselDomain *incoming,
                  const char *missing,
                  fwselPreservation *pres,
                  GError **error)
{
    const fwselDescriptor *old = fwselPreserveFindByCode(ctx, incoming->loader.path);
    g_autoptr(fwselDomain) role = NULL;
    g_autoptr(fwselResult) match = NULL;
    g_autoptr(fwselDomain) pinned = NULL;
    g_autofree char *roleText = NULL;
    const fwselDescriptor *chosen;

    if (!(role = fwselMigrateRole(incoming, old, error)))
        return -1;
    if (fwselDomainValidate(role, &fwselPreserveOwnContract, error) < 0)
        return -1;

    /* the replacement for firmware that is gone must be here */
    match = fwselPreserveEvaluateContract(ctx, role, &fwselPreserveOwnContract);
    if (!(chosen = fwselResultChosen(match))) {
        g_autofree char *reasons = fwselResultFormatVerdicts(match, "  ");
        g_autofree char *wanted = fwselDescribeWantedRole(role);

        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_NOMATCH,
                    "%s does not exist on this host and no firmware here has the same role "
                    "(%s); every descriptor was rejected:\n%s", missing, wanted, reasons);
        if (error && *error)
            g_strchomp((*error)->message);
        return -1;
    }
    if (fwselMigrateCheckAmbiguous(role, match, missing, error) < 0)
        return -1;

    pinned = fwselFillRender(incoming, NULL, FWSEL_FORM_PINNED, FWSEL_LIBVIRT_LAST);
    g_free(pinned->loader.path);
    pinned->loader.path = g_strdup(fwselDescriptorCodeFile(chosen));
    g_free(pinned->nvram.templatePath);
    pinned->nvram.templatePath = g_strdup(fwselDescriptorTemplateFile(chosen));
    /* split firmware: a read-only loader and a varstore from that
     * template, said outright (libvirt 9.0 reads a pflash loader without
     * readonly='yes' as writable and gives it no varstore) */
    if (fwselDescriptorIsSplit(chosen)) {
        pinned->loader.readonly = FWSEL_TRISTATE_YES;
        pinned->nvram.present = true;
    }
    if (fwselPreserveTakeSelection(ctx, pinned, pres, NULL, error) < 0)
        return -1;

    pres->outcome = FWSEL_PRESERVE_REMAPPED;
    pres->chosen = chosen;

    roleText = fwselDescribeRole(chosen);
    fwselAddf(pres->notes, "%s does not exist on this host: using %s instead (same role: %s)",
              missing, chosen->name, roleText);
    if (g_strcmp0(incoming->loader.path, pres->dom->loader.path) != 0) {
        fwselAddf(pres->notes, "loader %s is now %s",
                  incoming->loader.path, pres->dom->loader.path);
        fwselAddf(pres->notes,
                  "QEMU carries the flash contents over: %s must have the same size as %s "
                  "on the source host", pres->dom->loader.path, incoming->loader.path);
    }
    if (incoming->nvram.templatePath &&
        g_strcmp0(incoming->nvram.templatePath, pres->dom->nvram.templatePath) != 0)
        fwselAddf(pres->notes, "varstore template %s is now %s",
                  incoming->nvram.templatePath, fwselOr(pres->dom->nvram.templatePath, "(none)"));
    return 0;
}


/**
 * fwselMigratePin:
 * @incoming: the definition a migration brings to this host
 *
 * The definition for this (destination) host with loader and varstore
 * pinned.  Files that exist here are kept (KEPT); when the loader or its
 * template is missing, the firmware is mapped to this host's descriptor
 * with the same role: interface, device and mode, formats, SMM and
 * Secure Boot features (REMAPPED).  Fails with FWSEL_ERROR_NOMATCH when
 * no descriptor has that role, or several do and the definition does not
 * say which.
 */
fwselPreservation *
fwselMigratePin(const fwselCatalog *catalog,
                const fwselRequest *incomingReq,
                GError **error)
{
    g_autoptr(fwselPreservation) pres = fwselPreservationNew();
    fwselPreserveCtx ctx = { catalog, NULL, incomingReq };
    const fwselDomain *incoming = incomingReq->dom;
    const char *missing = NULL;

    if (!incoming->loader.present || !incoming->loader.path) {
        g_autoptr(fwselResult) result = fwselEvaluate(catalog, incomingReq);
        guint i;

        if (fwselResultFailed(result)) {
            fwselResultToError(result, error);
            return NULL;
        }
        for (i = 0; i < result->notes->len; i++)
            g_ptr_array_add(pres->notes, g_strdup(g_ptr_array_index(result->notes, i)));
        pres->chosen = fwselResultChosen(result);
        if (incoming->firmware == FWSEL_FIRMWARE_NONE) {
            pres->outcome = FWSEL_PRESERVE_NONE;
            pres->dom = fwselFillRender(result->dom, pres->chosen, FWSEL_FORM_RECORDED, result->libvirt);
            return g_steal_pointer(&pres);
        }
        pres->outcome = FWSEL_PRESERVE_RESELECTED;
        fwselAddf(pres->reasons,
                  "the incoming definition names no loader file, only firmware='%s': "
                  "selected on this host",
                  fwselFirmwareTypeToString(incoming->firmware));
        pres->dom = fwselFillRender(result->dom, pres->chosen, FWSEL_FORM_PINNED, result->libvirt);
        return g_steal_pointer(&pres);
    }

    if (!fwselPreserveExists(&ctx, incoming->loader.path))
        missing = incoming->loader.path;
    else if (incoming->nvram.templatePath &&
             !fwselPreserveExists(&ctx, incoming->nvram.templatePath))
        missing = incoming->nvram.templatePath;

    if (!missing) {
        pres->outcome = FWSEL_PRESERVE_KEPT;
        pres->dom = fwselFillRender(incoming, NULL, FWSEL_FORM_PINNED, FWSEL_LIBVIRT_LAST);
        pres->chosen = fwselPreserveFindByCode(&ctx, incoming->loader.path);
        return g_steal_pointer(&pres);
    }

    if (fwselMigrateRemap(&ctx, incoming, missing, pres, error) < 0)
        return NULL;
    return g_steal_pointer(&pres);
}


/**
 * fwselPreserveApply:
 *
 * Writes the preserved or pinned firmware slice into @doc.
 */
int
fwselPreserveApply(fwselDomainXML *doc,
                   const fwselPreservation *pres,
                   GError **error)
{
    return fwselDomainXMLUpdate(doc, pres->dom, error);
}
