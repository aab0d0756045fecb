/*
 * drift.c: compare a domain's firmware with what selection gives today
 *
 * The request is the one the domain states (firmware='efi' and its
 * features) when its definition still carries it.  A pinned definition
 * (explicit loader, automatic selection off) no longer states it; the
 * request it stands for is then read off the descriptor that describes
 * its loader: the same interface, flash mode, formats, secure-boot and
 * enrolled-keys, and the domain's own launch security.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "fwsel-drift.h"
#include "fwsel-util.h"

FWSEL_ENUM_IMPL(fwselDriftState, FWSEL_DRIFT_LAST,
                "no-drift", "drift", "unpinned", "no-firmware");


void
fwselDriftFree(fwselDrift *drift)
{
    if (!drift)
        return;
    fwselResultFree(drift->fresh);
    fwselDomainFree(drift->request);
    g_free(drift->summary);
    g_free(drift);
}


/* The request a pinned domain stands for, from the descriptor of its loader */
static fwselDomain *
fwselDriftInferRequest(const fwselDomain *current, const fwselDescriptor *desc)
{
    fwselDomain *req = fwselDomainCopy(current);

    g_clear_pointer(&req->loader.path, g_free);
    g_clear_pointer(&req->nvram.templatePath, g_free);
    g_clear_pointer(&req->kernel, g_free);
    req->firmware = fwselDescriptorHasInterface(desc, FWSEL_INTERFACE_UEFI)
                    ? FWSEL_FIRMWARE_EFI : FWSEL_FIRMWARE_BIOS;
    req->hasFirmwareFeatures = req->firmware == FWSEL_FIRMWARE_EFI;
    if (req->hasFirmwareFeatures) {
        req->secureBoot = fwselDescriptorHasFeature(desc, FWSEL_FEATURE_SECURE_BOOT)
                          ? FWSEL_TRISTATE_YES : FWSEL_TRISTATE_NO;
        req->enrolledKeys = fwselDescriptorHasFeature(desc, FWSEL_FEATURE_ENROLLED_KEYS)
                            ? FWSEL_TRISTATE_YES : FWSEL_TRISTATE_NO;
    }
    req->loader = (fwselLoader) { .present = true };
    switch (desc->device) {
    case FWSEL_DEVICE_FLASH:
        req->loader.format = desc->executable.format;
        if (desc->mode == FWSEL_FLASH_MODE_STATELESS)
            req->loader.stateless = FWSEL_TRISTATE_YES;
        else if (desc->mode == FWSEL_FLASH_MODE_COMBINED)
            req->loader.readonly = FWSEL_TRISTATE_NO;
        break;
    case FWSEL_DEVICE_MEMORY:
        req->loader.type = FWSEL_LOADER_TYPE_ROM;
        break;
    case FWSEL_DEVICE_KERNEL:
    case FWSEL_DEVICE_IGVM:
    case FWSEL_DEVICE_NONE:
    case FWSEL_DEVICE_LAST:
        break;
    }
    /* SMM stays as the domain has it: a firmware needing it got it */
    return req;
}


static bool
fwselDriftSameFile(const fwselCatalog *catalog,
                   const fwselRequest *const *known,
                   const char *a,
                   const char *b)
{
    if (!a || !b)
        return a == b;
    return g_str_equal(a, b) ||
           fwselPathFactSameFile(fwselRequestFact(catalog, known, 2, a),
                                 fwselRequestFact(catalog, known, 2, b));
}


/**
 * fwselDriftCheck:
 * @current: the firmware the domain runs with (live XML of a running
 *           domain, else the persistent XML)
 * @persistent: the persistent definition
 *
 * Returns what selection on this host gives today for the request the
 * domain stands for, compared with the loader and template it has.
 */
fwselDrift *
fwselDriftCheck(const fwselCatalog *catalog,
                const fwselRequest *currentReq,
                const fwselRequest *persistentReq,
                GError **error)
{
    g_autoptr(fwselDrift) drift = g_new0(fwselDrift, 1);
    const fwselRequest *known[] = { currentReq, persistentReq };
    const fwselDomain *current = currentReq->dom;
    const fwselDomain *persistent = persistentReq->dom;
    const char *name = persistent->name ? persistent->name : "(unnamed)";
    const fwselEntry *currentEntry;
    g_autoptr(fwselRequest) request = NULL;
    const fwselDomain *fresh;
    const char *nowName;

    currentEntry = fwselCatalogFindByCode(catalog, current->loader.path, &currentReq->loaderFile);
    drift->current = currentEntry ? currentEntry->desc : NULL;

    if (persistent->firmware != FWSEL_FIRMWARE_NONE) {
        drift->request = fwselDomainCopy(persistent);
    } else if (drift->current) {
        drift->request = fwselDriftInferRequest(current, drift->current);
    } else if (!current->loader.path) {
        drift->state = FWSEL_DRIFT_NO_FIRMWARE;
        drift->summary = g_strdup_printf("%s: no firmware selection: the domain names no "
                                         "loader and asks for no firmware type", name);
        return g_steal_pointer(&drift);
    } else {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_NOMATCH,
                    "%s: no firmware descriptor on this host describes its loader %s, so "
                    "there is no request to select for again", name, current->loader.path);
        return NULL;
    }

    /* drift is about the firmware files, not where this domain's
     * varstore lives */
    g_clear_pointer(&drift->request->nvram.path, g_free);
    request = fwselRequestDerive(catalog, drift->request, persistentReq, known, G_N_ELEMENTS(known));
    drift->fresh = fwselEvaluate(catalog, request);
    if (fwselResultFailed(drift->fresh)) {
        fwselResultToError(drift->fresh, error);
        return NULL;
    }
    fresh = drift->fresh->dom;
    nowName = drift->fresh->chosen ? drift->fresh->chosen->name : "no descriptor";

    if (!current->loader.path) {
        drift->state = FWSEL_DRIFT_UNPINNED;
        drift->summary = g_strdup_printf("%s: not pinned: libvirt selects firmware at every "
                                         "start; today that is %s (%s)",
                                         name, fresh->loader.path ? fresh->loader.path : "QEMU's default",
                                         nowName);
    } else if (fwselDriftSameFile(catalog, known, current->loader.path, fresh->loader.path) &&
               (!current->nvram.templatePath || !fresh->nvram.templatePath ||
                fwselDriftSameFile(catalog, known, current->nvram.templatePath,
                                   fresh->nvram.templatePath))) {
        drift->state = FWSEL_DRIFT_NONE;
        drift->summary = g_strdup_printf("%s: no drift: %s (%s) is still what this host selects",
                                         name, current->loader.path, nowName);
    } else {
        drift->state = FWSEL_DRIFT_CHANGED;
        drift->summary = g_strdup_printf("%s: drift: the domain has %s (%s), selection now "
                                         "gives %s (%s)",
                                         name, current->loader.path,
                                         drift->current ? drift->current->name
                                                        : "no descriptor describes it",
                                         fresh->loader.path ? fresh->loader.path : "no loader",
                                         nowName);
    }
    return g_steal_pointer(&drift);
}
