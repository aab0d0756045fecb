/*
 * fill.c: definition-time validation and completion of a domain's firmware
 *
 * The result is what libvirt's persistent definition holds after
 * "virsh define" on a current libvirt: explicit loader and varstore
 * paths, formats, the firmware features of the chosen build and SMM when
 * the build needs it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "fwsel-fill.h"
#include "fwsel-util.h"


void
fwselSelectionFree(fwselSelection *sel)
{
    if (!sel)
        return;
    fwselDomainFree(sel->dom);
    fwselMatchFree(sel->match);
    if (sel->notes)
        g_ptr_array_unref(sel->notes);
    g_free(sel);
}


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
 * fwselNvramDefaultPath:
 *
 * <nvram dir>/<name>_VARS.<ext>: ".qcow2" for qcow2; for raw ".raw" when
 * the template uses that extension (recent aarch64 builds), else ".fd".
 */
char *
fwselNvramDefaultPath(const fwselHost *host,
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
                    dom->name, host->nvramDir);
        return NULL;
    }

    if (dom->nvram.format == FWSEL_FORMAT_QCOW2)
        ext = ".qcow2";
    else if (dom->nvram.templatePath && g_str_has_suffix(dom->nvram.templatePath, ".raw"))
        ext = ".raw";

    file = g_strdup_printf("%s_VARS%s", dom->name, ext);
    return fwselPathJoin(host->nvramDir, file);
}


/* A varstore is needed by a read-only split pflash loader */
static bool
fwselNeedsVarstore(const fwselDomain *dom)
{
    return dom->loader.present &&
           dom->loader.type == FWSEL_LOADER_TYPE_PFLASH &&
           dom->loader.readonly == FWSEL_TRISTATE_YES &&
           dom->loader.stateless != FWSEL_TRISTATE_YES;
}


static int
fwselEnsureNvram(const fwselHost *host, fwselDomain *dom, GError **error)
{
    if (!fwselNeedsVarstore(dom))
        return 0;

    dom->nvram.present = true;
    if (!dom->nvram.format)
        dom->nvram.format = dom->loader.format;
    if (dom->nvram.path || dom->nvram.source == FWSEL_NVRAM_SOURCE_NETWORK)
        return 0;

    if (!(dom->nvram.path = fwselNvramDefaultPath(host, dom, error)))
        return -1;
    return 0;
}


/* Fill the loader (and its companions) from the chosen descriptor */
static void
fwselApplyDescriptor(fwselDomain *dom, const fwselDescriptor *desc)
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
        /* a path the user wrote stays as written: it names the same file */
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

    /* A hand-written pflash loader that a descriptor describes becomes an
     * automatic selection pinned to that build, as libvirt records it */
    if (dom->firmware == FWSEL_FIRMWARE_NONE &&
        loader->type == FWSEL_LOADER_TYPE_PFLASH &&
        fwselDescriptorHasInterface(desc, FWSEL_INTERFACE_UEFI))
        dom->firmware = FWSEL_FIRMWARE_EFI;

    /* Record what the chosen build is, so a later selection (or a reader)
     * knows.  Only automatic selection may carry these. */
    if (dom->firmware != FWSEL_FIRMWARE_NONE) {
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
}


/* Any descriptor file (parsed or not, but not an empty mask)? */
static bool
fwselCatalogHasDescriptors(const fwselCatalog *catalog)
{
    size_t i;

    for (i = 0; i < catalog->nentries; i++) {
        fwselEntryState state = catalog->entries[i]->state;

        if (state == FWSEL_ENTRY_ACTIVE || state == FWSEL_ENTRY_INVALID)
            return true;
    }
    return false;
}


/* The nvram list's template for a hand-written loader that no descriptor
 * describes: libvirt's built-in list, or qemu.conf's.  Like libvirt,
 * a list set in qemu.conf is ignored while descriptor files exist. */
static const char *
fwselLegacyTemplate(const fwselHost *host,
                    const fwselCatalog *catalog,
                    const char *loaderPath,
                    GPtrArray *notes)
{
    g_autofree char *wanted = NULL;
    size_t i;

    if (host->nvramPairsFromConf && fwselCatalogHasDescriptors(catalog)) {
        g_ptr_array_add(notes,
                        g_strdup_printf("%s sets an nvram list, but firmware descriptors "
                                        "exist: libvirt ignores the list then, and so does "
                                        "fwsel", host->qemuConfPath));
        return NULL;
    }

    for (i = 0; i < host->nnvramPairs; i++) {
        if (g_str_equal(host->nvramPairs[i].loader, loaderPath))
            return host->nvramPairs[i].nvram;
    }

    if (fwselPathResolve(host->root, loaderPath, &wanted, NULL) < 0)
        return NULL;
    for (i = 0; i < host->nnvramPairs; i++) {
        g_autofree char *have = NULL;

        if (fwselPathResolve(host->root, host->nvramPairs[i].loader, &have, NULL) == 0 &&
            g_str_equal(have, wanted))
            return host->nvramPairs[i].nvram;
    }
    return NULL;
}


/* A hand-written pflash loader that no descriptor describes: the
 * template may come from the nvram list, and the loader is taken to be
 * raw, as libvirt does. */
static void
fwselFillLegacy(const fwselHost *host,
                const fwselCatalog *catalog,
                fwselDomain *dom,
                GPtrArray *notes)
{
    fwselLoader *loader = &dom->loader;
    const char *tmpl = NULL;

    if (loader->path &&
        loader->readonly != FWSEL_TRISTATE_NO &&
        loader->stateless != FWSEL_TRISTATE_YES &&
        (loader->format == FWSEL_FORMAT_NONE || loader->format == FWSEL_FORMAT_RAW))
        tmpl = fwselLegacyTemplate(host, catalog, loader->path, notes);

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


/* The request in a few words, for the no-match error */
static char *
fwselDescribeRequest(const fwselDomain *dom, const char *machine)
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


/**
 * fwselSelect:
 *
 * Validates @dom, matches it against @catalog and returns the completed
 * firmware slice.  Fails with FWSEL_ERROR_VALIDATE for a contradictory
 * request and FWSEL_ERROR_NOMATCH (listing every descriptor's verdict)
 * when automatic selection finds nothing.
 */
fwselSelection *
fwselSelect(fwselHost *host,
            const fwselCatalog *catalog,
            const fwselDomain *dom,
            GError **error)
{
    g_autoptr(fwselSelection) sel = g_new0(fwselSelection, 1);
    bool autoSelection = dom->firmware != FWSEL_FIRMWARE_NONE;
    fwselDomain *out;

    if (fwselDomainValidate(dom, error) < 0)
        return NULL;

    sel->dom = out = fwselDomainCopy(dom);
    sel->notes = g_ptr_array_new_with_free_func(g_free);

    /* libvirt reads a hand-written loader path without a type as a ROM */
    if (!autoSelection && out->loader.path && !out->loader.type)
        out->loader.type = FWSEL_LOADER_TYPE_ROM;

    /* Without auto-selection only a hand-written pflash loader needs
     * anything: BIOS and ROM loaders are complete as they are. */
    if (!autoSelection &&
        (!out->loader.present || out->loader.type != FWSEL_LOADER_TYPE_PFLASH))
        return g_steal_pointer(&sel);

    sel->match = fwselMatchDomain(host, catalog, dom);
    sel->chosen = sel->match->chosen;

    if (sel->chosen) {
        fwselApplyDescriptor(out, sel->chosen);
    } else if (autoSelection) {
        g_autofree char *request = fwselDescribeRequest(dom, sel->match->machine);
        g_autofree char *reasons = fwselMatchFormatReasons(sel->match, "  ");

        if (dom->firmware == FWSEL_FIRMWARE_BIOS && !dom->loader.present &&
            fwselArchHasBuiltinBIOS(dom->arch)) {
            g_ptr_array_add(sel->notes,
                            g_strdup("no descriptor offers bios firmware; QEMU's built-in "
                                     "BIOS will be used"));
            return g_steal_pointer(&sel);
        }

        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_NOMATCH,
                    "no firmware satisfies %s; every descriptor was rejected:\n%s",
                    request, reasons);
        g_strchomp((*error)->message);
        return NULL;
    } else {
        fwselFillLegacy(host, catalog, out, sel->notes);
    }

    if (fwselEnsureNvram(host, out, error) < 0)
        return NULL;

    return g_steal_pointer(&sel);
}
