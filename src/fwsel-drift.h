/*
 * fwsel-drift.h: would selection on this host today give a domain other
 * firmware than it has?
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-fill.h"

G_BEGIN_DECLS

typedef enum {
    FWSEL_DRIFT_NONE = 0,       /* selection still gives the domain's firmware */
    FWSEL_DRIFT_CHANGED,        /* selection now gives other firmware */
    FWSEL_DRIFT_UNPINNED,       /* nothing is pinned: libvirt selects at every start */
    FWSEL_DRIFT_NO_FIRMWARE,    /* the domain asks for no firmware selection (BIOS) */

    FWSEL_DRIFT_LAST
} fwselDriftState;
FWSEL_ENUM_DECL(fwselDriftState);

typedef struct _fwselDrift fwselDrift;
struct _fwselDrift {
    fwselDriftState state;
    const fwselDescriptor *current;     /* describes the domain's loader, or NULL */
    fwselResult *fresh;                 /* what selection gives today, or NULL */
    fwselDomain *request;               /* the request that was selected for */
    char *summary;                      /* one line for the user */
};

void fwselDriftFree(fwselDrift *drift);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselDrift, fwselDriftFree);

fwselDrift *fwselDriftCheck(const fwselCatalog *catalog,
                            const fwselRequest *current,
                            const fwselRequest *persistent,
                            GError **error);

G_END_DECLS
