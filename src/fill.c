/*
 * fill.c: complete a domain's firmware once it is chosen, and write the
 * result out in the form asked for
 *
 * Filling is what libvirt does to the definition after selection: the
 * loader (path, type, readonly, secure, stateless, format), the varstore
 * template and its format, the varstore path, and SMM when the build
 * needs it.  The filled slice is neutral about how selection is recorded;
 * fwselFillRender writes it as libvirt records an automatic selection, or
 * pinned with automatic selection switched off.
 *
 * Everything here is pure: no file is read.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "fwsel-fill.h"
#include "fwsel-util.h"


static int G_GNUC_PRINTF(2, 3)
fwselInvalid(GError **error, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, FWSEL_ERROR, FWSEL_ERROR_VALIDATE, msg);
    return -1;
}


/*
 * The consistency checks made on <os> before firmware is selected, one
 * predicate each, returning what is wrong.  Like the selection rules,
 * each row says which libvirt versions make the check; "safe" rows are
 * fwsel's own, made under --policy safe only.
 */
typedef char *(*fwselValidateFunc)(const fwselDomain *dom);

static char *
fwselValidateFeaturesNeedFirmware(const fwselDomain *dom)
{
    if (dom->hasFirmwareFeatures && dom->firmware == FWSEL_FIRMWARE_NONE)
        return g_strdup("<os><firmware> features only constrain automatic selection: "
                        "add firmware='efi' to <os>, or remove <firmware>");
    return NULL;
}

static char *
fwselValidateLoaderPath(const fwselDomain *dom)
{
    if (dom->firmware == FWSEL_FIRMWARE_NONE && dom->loader.present && !dom->loader.path)
        return g_strdup("<loader> names no file and firmware= is not set: give the "
                        "loader's path, or add firmware='efi' to <os> to have one selected");
    return NULL;
}

static char *
fwselValidateKeysNeedSecureBoot(const fwselDomain *dom)
{
    if (dom->firmware != FWSEL_FIRMWARE_NONE &&
        dom->enrolledKeys == FWSEL_TRISTATE_YES && dom->secureBoot == FWSEL_TRISTATE_NO)
        return g_strdup("enrolled-keys is enabled while secure-boot is disabled: keys "
                        "only matter to Secure Boot");
    return NULL;
}

static char *
fwselValidateBiosFeatures(const fwselDomain *dom)
{
    if (dom->firmware == FWSEL_FIRMWARE_BIOS &&
        (dom->secureBoot == FWSEL_TRISTATE_YES || dom->enrolledKeys == FWSEL_TRISTATE_YES))
        return g_strdup("secure-boot and enrolled-keys need firmware='efi'");
    return NULL;
}

static char *
fwselValidateBiosNvram(const fwselDomain *dom)
{
    if (dom->firmware == FWSEL_FIRMWARE_BIOS && dom->nvram.present)
        return g_strdup("firmware='bios' has no varstore: remove <nvram> or use firmware='efi'");
    return NULL;
}

static char *
fwselValidateRomNvram(const fwselDomain *dom)
{
    if (dom->loader.type == FWSEL_LOADER_TYPE_ROM && dom->nvram.present)
        return g_strdup("<loader type='rom'> has no varstore: remove <nvram> or use a "
                        "pflash loader");
    return NULL;
}

static char *
fwselValidateRomQcow2(const fwselDomain *dom)
{
    if (dom->loader.type == FWSEL_LOADER_TYPE_ROM && dom->loader.format == FWSEL_FORMAT_QCOW2)
        return g_strdup("<loader type='rom' format='qcow2'>: QEMU maps a ROM image as "
                        "is, only raw works");
    return NULL;
}

static char *
fwselValidateStatelessNo(const fwselDomain *dom)
{
    const fwselLoader *loader = &dom->loader;

    if (loader->stateless == FWSEL_TRISTATE_NO &&
        (dom->firmware == FWSEL_FIRMWARE_BIOS ||
         (dom->firmware == FWSEL_FIRMWARE_NONE && loader->type != FWSEL_LOADER_TYPE_PFLASH)))
        return g_strdup("<loader stateless='no'> asks for a varstore, which only EFI "
                        "firmware in a pflash loader has");
    return NULL;
}

static char *
fwselValidateFormats(const fwselDomain *dom)
{
    const fwselLoader *loader = &dom->loader;

    if (loader->format && dom->nvram.format && loader->format != dom->nvram.format)
        return g_strdup_printf("<loader format='%s'> and <nvram format='%s'> differ: the "
                               "varstore is a %s image like the loader",
                               fwselFormatTypeToString(loader->format),
                               fwselFormatTypeToString(dom->nvram.format),
                               fwselFormatTypeToString(loader->format));
    return NULL;
}

static char *
fwselValidateRomSecure(const fwselDomain *dom)
{
    if (dom->loader.type == FWSEL_LOADER_TYPE_ROM && dom->loader.secure == FWSEL_TRISTATE_YES)
        return g_strdup("<loader secure='yes'> restricts pflash writes to SMM and needs "
                        "type='pflash', not 'rom'");
    return NULL;
}

static char *
fwselValidateStatelessNvram(const fwselDomain *dom)
{
    if (dom->loader.stateless == FWSEL_TRISTATE_YES && dom->nvram.present)
        return g_strdup("<loader stateless='yes'> keeps no variables: remove <nvram>");
    return NULL;
}

static char *
fwselValidateStatelessReadonly(const fwselDomain *dom)
{
    if (dom->loader.stateless == FWSEL_TRISTATE_YES && dom->loader.readonly == FWSEL_TRISTATE_NO)
        return g_strdup("<loader stateless='yes'> is read-only firmware; readonly='no' "
                        "contradicts it");
    return NULL;
}

static char *
fwselValidateWritableNvram(const fwselDomain *dom)
{
    if (dom->loader.readonly == FWSEL_TRISTATE_NO && dom->nvram.present)
        return g_strdup("<loader readonly='no'> keeps its variables in the loader "
                        "itself: remove <nvram>");
    return NULL;
}

static char *
fwselValidateRelative(const fwselDomain *dom)
{
    if (dom->loader.path && dom->loader.path[0] != '/')
        return g_strdup_printf("<loader>: '%s' is not an absolute path", dom->loader.path);
    if (dom->nvram.templatePath && dom->nvram.templatePath[0] != '/')
        return g_strdup_printf("<nvram template='%s'>: not an absolute path",
                               dom->nvram.templatePath);
    return NULL;
}

/* On x86, libvirt refuses UEFI without ACPI */
static char *
fwselValidateLaunchSecurity90(const fwselDomain *dom)
{
    if (dom->launchSecurity == FWSEL_LAUNCH_SECURITY_SEV_SNP ||
        dom->launchSecurity == FWSEL_LAUNCH_SECURITY_TDX)
        return g_strdup_printf("<launchSecurity type='%s'>: unknown to this libvirt",
                               fwselLaunchSecurityTypeToString(dom->launchSecurity));
    return NULL;
}

static char *
fwselValidateLaunchSecurity113(const fwselDomain *dom)
{
    if (dom->launchSecurity == FWSEL_LAUNCH_SECURITY_TDX)
        return g_strdup_printf("<launchSecurity type='%s'>: unknown to this libvirt",
                               fwselLaunchSecurityTypeToString(dom->launchSecurity));
    return NULL;
}

/* 9.2 and later read format= and refuse values they do not know */
static char *
fwselValidateFormatKnown(const fwselDomain *dom)
{
    return g_strdup(dom->formatError);
}

static char *
fwselValidateAcpi(const fwselDomain *dom)
{
    bool x86 = g_str_equal(dom->arch, "x86_64") || g_str_equal(dom->arch, "i686");

    if (x86 && !dom->acpi &&
        (dom->firmware == FWSEL_FIRMWARE_EFI ||
         (dom->firmware == FWSEL_FIRMWARE_NONE && dom->loader.type == FWSEL_LOADER_TYPE_PFLASH)))
        return g_strdup("UEFI requires ACPI on this architecture: add <acpi/> to <features>");
    return NULL;
}

/* 9.0 - 9.1: with firmware= the loader may only carry stateless and
 * secure='yes', and <nvram> no template */
static char *
fwselValidateAutoLoader90(const fwselDomain *dom)
{
    const fwselLoader *loader = &dom->loader;

    if (dom->firmware == FWSEL_FIRMWARE_NONE)
        return NULL;
    if (dom->nvram.templatePath)
        return g_strdup("this libvirt refuses <nvram template=...> with firmware= "
                        "(allowed since libvirt 9.2)");
    if (!loader->present)
        return NULL;
    if (loader->readonly)
        return g_strdup("this libvirt refuses <loader readonly=...> with firmware= "
                        "(allowed since libvirt 9.2)");
    if (loader->type)
        return g_strdup("this libvirt refuses <loader type=...> with firmware= "
                        "(allowed since libvirt 9.2)");
    if (loader->path)
        return g_strdup("this libvirt refuses a loader path with firmware= "
                        "(allowed since libvirt 9.2)");
    if (loader->secure == FWSEL_TRISTATE_NO)
        return g_strdup("this libvirt refuses <loader secure='no'> with firmware= "
                        "(allowed since libvirt 9.2)");
    return NULL;
}

#define FWSEL_VALIDATE_ALL \
    { [FWSEL_LIBVIRT_9_0] = true, [FWSEL_LIBVIRT_11_3] = true, [FWSEL_LIBVIRT_11_8] = true }

static const struct {
    fwselValidateFunc check;
    bool libvirt[FWSEL_LIBVIRT_LAST];   /* the versions that make the check */
    bool safe;                          /* --policy safe makes it in any case */
    bool badInput;                      /* the message is the XML reader's (it names the
                                         * file and line): FWSEL_ERROR_INVALID */
} fwselValidateRules[] = {
    { fwselValidateFeaturesNeedFirmware, FWSEL_VALIDATE_ALL, true },
    { fwselValidateLoaderPath, FWSEL_VALIDATE_ALL, true },
    { fwselValidateAutoLoader90, { [FWSEL_LIBVIRT_9_0] = true }, false },
    { fwselValidateLaunchSecurity90, { [FWSEL_LIBVIRT_9_0] = true }, false },
    { fwselValidateLaunchSecurity113, { [FWSEL_LIBVIRT_11_3] = true }, false },
    { fwselValidateKeysNeedSecureBoot,
      { [FWSEL_LIBVIRT_11_3] = true, [FWSEL_LIBVIRT_11_8] = true }, true },
    { fwselValidateBiosFeatures, { false }, true },
    { fwselValidateBiosNvram, FWSEL_VALIDATE_ALL, true },
    { fwselValidateRomNvram, { false }, true },
    { fwselValidateRomQcow2, { false }, true },
    { fwselValidateStatelessNo, FWSEL_VALIDATE_ALL, true },
    { fwselValidateFormats, { false }, true },
    { fwselValidateRomSecure, { false }, true },
    { fwselValidateStatelessNvram, FWSEL_VALIDATE_ALL, true },
    { fwselValidateStatelessReadonly, { false }, true },
    { fwselValidateWritableNvram, { false }, true },
    { fwselValidateRelative, { false }, true },
    { fwselValidateAcpi, FWSEL_VALIDATE_ALL, true },
    /* the XML parser's message, naming the file and line: bad input */
    { fwselValidateFormatKnown,
      { [FWSEL_LIBVIRT_11_3] = true, [FWSEL_LIBVIRT_11_8] = true }, true,
      true },
};


/**
 * fwselDomainValidate:
 *
 * The consistency checks made on <os> before firmware is selected, as
 * @contract says: those of its libvirt version, and fwsel's own under
 * the safe policy.
 */
int
fwselDomainValidate(const fwselDomain *dom,
                    const fwselContract *contract,
                    GError **error)
{
    bool safe = contract->policy == FWSEL_POLICY_SAFE;
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(fwselValidateRules); i++) {
        g_autofree char *msg = NULL;

        if (!fwselValidateRules[i].libvirt[contract->libvirt] &&
            !(safe && fwselValidateRules[i].safe))
            continue;
        if (!(msg = fwselValidateRules[i].check(dom)))
            continue;
        if (fwselValidateRules[i].badInput) {
            g_set_error_literal(error, FWSEL_ERROR, FWSEL_ERROR_INVALID, msg);
            return -1;
        }
        return fwselInvalid(error, "%s", msg);
    }
    return 0;
}


/**
 * fwselLoaderEffectiveType:
 *
 * The loader type libvirt acts on: a loader path without a type is a ROM.
 */
fwselLoaderType
fwselLoaderEffectiveType(const fwselLoader *loader)
{
    if (loader->present && loader->path && loader->type == FWSEL_LOADER_TYPE_NONE)
        return FWSEL_LOADER_TYPE_ROM;
    return loader->type;
}


/**
 * fwselNvramDefaultPath:
 *
 * <nvram dir>/<name>_VARS.<ext>: ".qcow2" for qcow2; for raw ".raw" when
 * the template uses that extension (recent aarch64 builds; since libvirt
 * 9.2), else ".fd".
 */
char *
fwselNvramDefaultPath(const char *nvramDir,
                      const fwselDomain *dom,
                      fwselLibvirt libvirt,
                      GError **error)
{
    const char *ext = ".fd";
    g_autofree char *file = NULL;

    if (!dom->name) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "the domain has no <name>, which names its varstore file");
        return NULL;
    }
    if (!fwselPathIsSafeName(dom->name)) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_UNSAFE,
                    "domain name '%s' cannot name a file in %s: it is empty, contains "
                    "'/', is '.' or '..', or is longer than 240 bytes",
                    dom->name, nvramDir);
        return NULL;
    }

    if (dom->nvram.format == FWSEL_FORMAT_QCOW2)
        ext = ".qcow2";
    else if (libvirt != FWSEL_LIBVIRT_9_0 &&
             dom->nvram.templatePath && g_str_has_suffix(dom->nvram.templatePath, ".raw"))
        ext = ".raw";

    file = g_strdup_printf("%s_VARS%s", dom->name, ext);
    return fwselPathJoin(nvramDir, file);
}


/**
 * fwselDomainNeedsVarstore:
 *
 * A varstore is needed by a read-only split pflash loader.
 */
bool
fwselDomainNeedsVarstore(const fwselDomain *dom)
{
    return dom->loader.present &&
           dom->loader.type == FWSEL_LOADER_TYPE_PFLASH &&
           dom->loader.readonly == FWSEL_TRISTATE_YES &&
           dom->loader.stateless != FWSEL_TRISTATE_YES;
}


/**
 * fwselFillVarstore:
 *
 * Gives a domain that needs a varstore its <nvram>, with the default
 * path under the host's NVRAM directory when it names none.
 */
int
fwselFillVarstore(const fwselHostSettings *settings,
                  fwselLibvirt libvirt,
                  fwselDomain *dom,
                  GError **error)
{
    if (!fwselDomainNeedsVarstore(dom))
        return 0;

    dom->nvram.present = true;
    /* an <nvram> that names no file is made anew, in the template's
     * format, whatever format it asked for */
    if (libvirt != FWSEL_LIBVIRT_9_0 && dom->nvram.source != FWSEL_NVRAM_SOURCE_NETWORK &&
        !dom->nvram.path)
        dom->nvram.format = dom->nvram.templateFormat ? dom->nvram.templateFormat
                                                      : dom->loader.format;
    else if (!dom->nvram.format && libvirt != FWSEL_LIBVIRT_9_0)
        dom->nvram.format = dom->loader.format;
    if (dom->nvram.path || dom->nvram.source == FWSEL_NVRAM_SOURCE_NETWORK)
        return 0;

    if (!(dom->nvram.path = fwselNvramDefaultPath(settings->nvramDir, dom, libvirt, error)))
        return -1;
    return 0;
}


/**
 * fwselFillFromDescriptor:
 *
 * The loader (and its companions) from the chosen descriptor.  A path
 * the user wrote stays as written: it names the same file.
 */
void
fwselFillFromDescriptor(fwselDomain *dom,
                        const fwselDescriptor *desc,
                        fwselLibvirt libvirt)
{
    fwselLoader *loader = &dom->loader;
    /* 9.0 has no format attributes */
    bool formats = libvirt != FWSEL_LIBVIRT_9_0;

    /* the paths recorded are the descriptor's, also when the domain
     * named the same file through a link */
    switch (desc->device) {
    case FWSEL_DEVICE_FLASH:
        loader->present = true;
        loader->type = FWSEL_LOADER_TYPE_PFLASH;
        if (formats)
            loader->format = desc->executable.format;
        loader->readonly = desc->mode == FWSEL_FLASH_MODE_COMBINED ? FWSEL_TRISTATE_NO
                                                                   : FWSEL_TRISTATE_YES;
        if (desc->mode == FWSEL_FLASH_MODE_STATELESS)
            loader->stateless = FWSEL_TRISTATE_YES;
        g_free(loader->path);
        loader->path = g_strdup(desc->executable.filename);

        /* 9.0 names the template also for a varstore it cannot create */
        if (desc->mode == FWSEL_FLASH_MODE_SPLIT &&
            (dom->nvram.source != FWSEL_NVRAM_SOURCE_NETWORK || libvirt == FWSEL_LIBVIRT_9_0)) {
            dom->nvram.present = true;
            g_free(dom->nvram.templatePath);
            dom->nvram.templatePath = g_strdup(desc->nvramTemplate.filename);
            if (formats) {
                dom->nvram.templateFormat = desc->nvramTemplate.format;
                if (!dom->nvram.format)
                    dom->nvram.format = desc->nvramTemplate.format;
            }
        }
        break;

    case FWSEL_DEVICE_MEMORY:
        loader->present = true;
        loader->type = FWSEL_LOADER_TYPE_ROM;
        g_free(loader->path);
        loader->path = g_strdup(desc->filename);
        break;

    case FWSEL_DEVICE_KERNEL:
        g_free(dom->kernel);
        dom->kernel = g_strdup(desc->filename);
        break;

    case FWSEL_DEVICE_IGVM:
    case FWSEL_DEVICE_NONE:
    case FWSEL_DEVICE_LAST:
        break;
    }

    if (fwselDescriptorHasFeature(desc, FWSEL_FEATURE_REQUIRES_SMM)) {
        dom->smm = FWSEL_TRISTATE_YES;
        loader->secure = FWSEL_TRISTATE_YES;
    }
}


/* The nvram list's template for a hand-written loader that no descriptor
 * describes: qemu.conf's list, or libvirt's built-in one.  Like libvirt,
 * a list set in qemu.conf is ignored while descriptor files exist (the
 * built-in list then applies).  Before 11.8 libvirt compares the paths
 * as written; the safe policy and 11.8 also find the same file through
 * a link. */
static const char *
fwselLegacyTemplate(const fwselCatalog *catalog,
                    const fwselContract *contract,
                    const fwselRequest *req,
                    const char *loaderPath,
                    GPtrArray *notes)
{
    const fwselHostSettings *settings = &catalog->settings;
    const fwselNvramPair *pairs = settings->nvramPairs;
    size_t npairs = settings->nnvramPairs;
    size_t i;

    if (settings->nvramPairsFromConf && fwselCatalogHasDescriptors(catalog)) {
        g_ptr_array_add(notes,
                        g_strdup_printf("%s sets an nvram list, but firmware descriptors "
                                        "exist: libvirt ignores that list then and uses "
                                        "its built-in one", settings->qemuConfPath));
        pairs = settings->builtinNvramPairs;
        npairs = settings->nbuiltinNvramPairs;
    }

    for (i = 0; i < npairs; i++) {
        if (g_str_equal(pairs[i].loader, loaderPath))
            return pairs[i].nvram;
    }
    if (contract->libvirt != FWSEL_LIBVIRT_11_8 && contract->policy != FWSEL_POLICY_SAFE)
        return NULL;
    for (i = 0; i < npairs; i++) {
        if (fwselPathFactSameFile(fwselCatalogFile(catalog, pairs[i].loader),
                                  &req->loaderFile))
            return pairs[i].nvram;
    }
    return NULL;
}


/**
 * fwselFillUndescribed:
 *
 * A hand-written pflash loader that no descriptor describes: the
 * template may come from the nvram list, and the loader is taken to be
 * raw, as libvirt does.
 */
void
fwselFillUndescribed(const fwselCatalog *catalog,
                     const fwselContract *contract,
                     const fwselRequest *req,
                     fwselDomain *dom,
                     GPtrArray *notes)
{
    fwselLoader *loader = &dom->loader;
    /* 9.0 has no format attributes */
    bool formats = contract->libvirt != FWSEL_LIBVIRT_9_0;
    const char *tmpl = NULL;

    if (loader->path &&
        loader->type == FWSEL_LOADER_TYPE_PFLASH &&
        loader->readonly != FWSEL_TRISTATE_NO &&
        loader->stateless != FWSEL_TRISTATE_YES &&
        (loader->format == FWSEL_FORMAT_NONE || loader->format == FWSEL_FORMAT_RAW))
        tmpl = fwselLegacyTemplate(catalog, contract, req, loader->path, notes);

    if (tmpl) {
        loader->readonly = FWSEL_TRISTATE_YES;
        if (!dom->nvram.templatePath && dom->nvram.source != FWSEL_NVRAM_SOURCE_NETWORK) {
            dom->nvram.present = true;
            dom->nvram.templatePath = g_strdup(tmpl);
        }
        /* the list's files are raw images */
        if (formats && dom->nvram.templatePath && !dom->nvram.templateFormat)
            dom->nvram.templateFormat = FWSEL_FORMAT_RAW;
    }
    /* a loader nothing describes is taken to be a raw image */
    if (formats && !loader->format)
        loader->format = FWSEL_FORMAT_RAW;

    if (!dom->nvram.templatePath && !dom->nvram.path && dom->nvram.source != FWSEL_NVRAM_SOURCE_NETWORK &&
        loader->readonly == FWSEL_TRISTATE_YES &&
        loader->stateless != FWSEL_TRISTATE_YES) {
        if (loader->format != FWSEL_FORMAT_RAW)
            g_ptr_array_add(notes,
                            g_strdup_printf("no descriptor describes the %s loader %s and "
                                            "the nvram list only serves raw loaders: "
                                            "its varstore has no template and must be "
                                            "created by hand",
                                            fwselFormatTypeToString(loader->format),
                                            loader->path));
        else
            g_ptr_array_add(notes,
                            g_strdup_printf("no descriptor and no nvram list entry "
                                            "names %s: its varstore has no template and must "
                                            "be created by hand", loader->path));
    }
}


/* The chosen build's features, as libvirt records them beside an
 * automatic selection */
static void
fwselRenderFeatures(fwselDomain *dom, const fwselDescriptor *desc)
{
    dom->hasFirmwareFeatures = true;
    dom->secureBoot = fwselDescriptorHasFeature(desc, FWSEL_FEATURE_SECURE_BOOT)
                      ? FWSEL_TRISTATE_YES : FWSEL_TRISTATE_NO;
    dom->enrolledKeys = fwselDescriptorHasFeature(desc, FWSEL_FEATURE_ENROLLED_KEYS)
                        ? FWSEL_TRISTATE_YES : FWSEL_TRISTATE_NO;
    /* a pflash varstore not made from a known template (a network one,
     * or a combined image's own) may hold any keys: libvirt leaves
     * enrolled-keys out */
    if (dom->loader.type == FWSEL_LOADER_TYPE_PFLASH &&
        dom->loader.stateless != FWSEL_TRISTATE_YES && !dom->nvram.templatePath)
        dom->enrolledKeys = FWSEL_TRISTATE_ABSENT;
}


/**
 * fwselFillRender:
 * @filled: a filled slice (fwselResult's dom)
 * @chosen: the descriptor it came from, or NULL
 *
 * The slice as it is written into a definition in @form.
 */
fwselDomain *
fwselFillRender(const fwselDomain *filled,
                const fwselDescriptor *chosen,
                fwselForm form,
                fwselLibvirt libvirt)
{
    fwselDomain *dom = fwselDomainCopy(filled);

    switch (form) {
    case FWSEL_FORM_RECORDED:
        /* 9.0 selects when the domain starts: what it records is the
         * running definition, where the selection is spelled out and
         * firmware= and the domain's own features stay as they were
         * written... except firmware=, which it drops */
        if (libvirt == FWSEL_LIBVIRT_9_0) {
            if (chosen)
                dom->firmware = FWSEL_FIRMWARE_NONE;
            break;
        }
        if (!chosen)
            break;
        /* A hand-written pflash loader that a descriptor describes
         * becomes an automatic selection pinned to that build */
        if (dom->firmware == FWSEL_FIRMWARE_NONE &&
            dom->loader.type == FWSEL_LOADER_TYPE_PFLASH &&
            fwselDescriptorHasInterface(chosen, FWSEL_INTERFACE_UEFI))
            dom->firmware = FWSEL_FIRMWARE_EFI;
        if (dom->firmware != FWSEL_FIRMWARE_NONE)
            fwselRenderFeatures(dom, chosen);
        break;

    case FWSEL_FORM_PINNED:
        dom->firmware = FWSEL_FIRMWARE_NONE;
        dom->hasFirmwareFeatures = false;
        dom->secureBoot = FWSEL_TRISTATE_ABSENT;
        dom->enrolledKeys = FWSEL_TRISTATE_ABSENT;
        dom->loader.type = fwselLoaderEffectiveType(&dom->loader);
        break;

    case FWSEL_FORM_LAST:
        break;
    }
    return dom;
}
