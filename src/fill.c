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


/**
 * fwselDomainValidate:
 *
 * The consistency checks libvirt applies to <os> before it selects
 * firmware.  Selection only makes sense on a request that does not
 * contradict itself.
 */
int
fwselDomainValidate(const fwselDomain *dom, GError **error)
{
    const fwselLoader *loader = &dom->loader;

    if (dom->hasFirmwareFeatures && dom->firmware == FWSEL_FIRMWARE_NONE)
        return fwselInvalid(error,
                            "<os><firmware> features only constrain automatic selection: "
                            "add firmware='efi' to <os>, or remove <firmware>");

    if (dom->firmware == FWSEL_FIRMWARE_NONE && loader->present && !loader->path)
        return fwselInvalid(error,
                            "<loader> names no file and firmware= is not set: give the "
                            "loader's path, or add firmware='efi' to <os> to have one selected");

    if (dom->enrolledKeys == FWSEL_TRISTATE_YES && dom->secureBoot == FWSEL_TRISTATE_NO)
        return fwselInvalid(error,
                            "enrolled-keys is enabled while secure-boot is disabled: keys "
                            "only matter to Secure Boot");

    if (dom->firmware == FWSEL_FIRMWARE_BIOS &&
        (dom->secureBoot == FWSEL_TRISTATE_YES || dom->enrolledKeys == FWSEL_TRISTATE_YES))
        return fwselInvalid(error, "secure-boot and enrolled-keys need firmware='efi'");

    if (dom->firmware == FWSEL_FIRMWARE_BIOS && dom->nvram.present)
        return fwselInvalid(error,
                            "firmware='bios' has no varstore: remove <nvram> or use firmware='efi'");

    if (loader->type == FWSEL_LOADER_TYPE_ROM && dom->nvram.present)
        return fwselInvalid(error,
                            "<loader type='rom'> has no varstore: remove <nvram> or use a pflash loader");

    if (loader->type == FWSEL_LOADER_TYPE_ROM && loader->format == FWSEL_FORMAT_QCOW2)
        return fwselInvalid(error,
                            "<loader type='rom' format='qcow2'>: QEMU maps a ROM image as "
                            "is, only raw works");

    if (loader->stateless == FWSEL_TRISTATE_NO &&
        (dom->firmware == FWSEL_FIRMWARE_BIOS ||
         (dom->firmware == FWSEL_FIRMWARE_NONE && loader->type != FWSEL_LOADER_TYPE_PFLASH)))
        return fwselInvalid(error,
                            "<loader stateless='no'> asks for a varstore, which only EFI "
                            "firmware in a pflash loader has");

    if (loader->format && dom->nvram.format && loader->format != dom->nvram.format)
        return fwselInvalid(error,
                            "<loader format='%s'> and <nvram format='%s'> differ: the "
                            "varstore is a %s image like the loader",
                            fwselFormatTypeToString(loader->format),
                            fwselFormatTypeToString(dom->nvram.format),
                            fwselFormatTypeToString(loader->format));

    if (loader->type == FWSEL_LOADER_TYPE_ROM && loader->secure == FWSEL_TRISTATE_YES)
        return fwselInvalid(error,
                            "<loader secure='yes'> restricts pflash writes to SMM and needs "
                            "type='pflash', not 'rom'");

    if (loader->stateless == FWSEL_TRISTATE_YES && dom->nvram.present)
        return fwselInvalid(error,
                            "<loader stateless='yes'> keeps no variables: remove <nvram>");

    if (loader->stateless == FWSEL_TRISTATE_YES && loader->readonly == FWSEL_TRISTATE_NO)
        return fwselInvalid(error,
                            "<loader stateless='yes'> is read-only firmware; readonly='no' "
                            "contradicts it");

    if (loader->readonly == FWSEL_TRISTATE_NO && dom->nvram.present)
        return fwselInvalid(error,
                            "<loader readonly='no'> keeps its variables in the loader "
                            "itself: remove <nvram>");

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
 * the template uses that extension (recent aarch64 builds), else ".fd".
 */
char *
fwselNvramDefaultPath(const char *nvramDir,
                      const fwselDomain *dom,
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
    else if (dom->nvram.templatePath && g_str_has_suffix(dom->nvram.templatePath, ".raw"))
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
                  fwselDomain *dom,
                  GError **error)
{
    if (!fwselDomainNeedsVarstore(dom))
        return 0;

    dom->nvram.present = true;
    if (!dom->nvram.format)
        dom->nvram.format = dom->loader.format;
    if (dom->nvram.path || dom->nvram.source == FWSEL_NVRAM_SOURCE_NETWORK)
        return 0;

    if (!(dom->nvram.path = fwselNvramDefaultPath(settings->nvramDir, dom, error)))
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
fwselFillFromDescriptor(fwselDomain *dom, const fwselDescriptor *desc)
{
    fwselLoader *loader = &dom->loader;

    switch (desc->device) {
    case FWSEL_DEVICE_FLASH:
        loader->present = true;
        loader->type = FWSEL_LOADER_TYPE_PFLASH;
        loader->format = desc->executable.format;
        loader->readonly = desc->mode == FWSEL_FLASH_MODE_COMBINED ? FWSEL_TRISTATE_NO
                                                                   : FWSEL_TRISTATE_YES;
        if (desc->mode == FWSEL_FLASH_MODE_STATELESS)
            loader->stateless = FWSEL_TRISTATE_YES;
        if (!loader->path)
            loader->path = g_strdup(desc->executable.filename);

        if (desc->mode == FWSEL_FLASH_MODE_SPLIT && dom->nvram.source != FWSEL_NVRAM_SOURCE_NETWORK) {
            dom->nvram.present = true;
            if (!dom->nvram.templatePath)
                dom->nvram.templatePath = g_strdup(desc->nvramTemplate.filename);
            dom->nvram.templateFormat = desc->nvramTemplate.format;
            if (!dom->nvram.format)
                dom->nvram.format = desc->nvramTemplate.format;
        }
        break;

    case FWSEL_DEVICE_MEMORY:
        loader->present = true;
        loader->type = FWSEL_LOADER_TYPE_ROM;
        loader->format = FWSEL_FORMAT_RAW;
        if (!loader->path)
            loader->path = g_strdup(desc->filename);
        break;

    case FWSEL_DEVICE_KERNEL:
        if (!dom->kernel)
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
 * describes: libvirt's built-in list, or qemu.conf's.  Like libvirt,
 * a list set in qemu.conf is ignored while descriptor files exist. */
static const char *
fwselLegacyTemplate(const fwselCatalog *catalog,
                    const fwselRequest *req,
                    const char *loaderPath,
                    GPtrArray *notes)
{
    const fwselHostSettings *settings = &catalog->settings;
    size_t i;

    if (settings->nvramPairsFromConf && fwselCatalogHasDescriptors(catalog)) {
        g_ptr_array_add(notes,
                        g_strdup_printf("%s sets an nvram list, but firmware descriptors "
                                        "exist: libvirt ignores the list then, and so does "
                                        "fwsel", settings->qemuConfPath));
        return NULL;
    }

    for (i = 0; i < settings->nnvramPairs; i++) {
        if (g_str_equal(settings->nvramPairs[i].loader, loaderPath))
            return settings->nvramPairs[i].nvram;
    }
    for (i = 0; i < settings->nnvramPairs; i++) {
        if (fwselPathFactSameFile(fwselCatalogFile(catalog, settings->nvramPairs[i].loader),
                                  &req->loaderFile))
            return settings->nvramPairs[i].nvram;
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
                     const fwselRequest *req,
                     fwselDomain *dom,
                     GPtrArray *notes)
{
    fwselLoader *loader = &dom->loader;
    const char *tmpl = NULL;

    if (loader->path &&
        loader->readonly != FWSEL_TRISTATE_NO &&
        loader->stateless != FWSEL_TRISTATE_YES &&
        (loader->format == FWSEL_FORMAT_NONE || loader->format == FWSEL_FORMAT_RAW))
        tmpl = fwselLegacyTemplate(catalog, req, loader->path, notes);

    if (tmpl) {
        loader->readonly = FWSEL_TRISTATE_YES;
        if (!dom->nvram.templatePath && dom->nvram.source != FWSEL_NVRAM_SOURCE_NETWORK) {
            dom->nvram.present = true;
            dom->nvram.templatePath = g_strdup(tmpl);
        }
    }
    if (!loader->format)
        loader->format = FWSEL_FORMAT_RAW;
    if (dom->nvram.templatePath && !dom->nvram.templateFormat)
        dom->nvram.templateFormat = loader->format;

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
    /* a varstore fwsel cannot see (network) may hold any keys; a
     * combined image carries its variables, so the build says */
    if (fwselDescriptorIsSplit(desc) && !dom->nvram.templatePath)
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
                fwselForm form)
{
    fwselDomain *dom = fwselDomainCopy(filled);

    switch (form) {
    case FWSEL_FORM_RECORDED:
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
