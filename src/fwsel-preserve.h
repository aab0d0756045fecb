/*
 * fwsel-preserve.h: keep a domain's firmware across operations that
 * regenerate its definition (start, hard reboot, live migration)
 *
 * Once a domain has firmware, a regenerated definition gets the same
 * loader and varstore written out explicitly, with automatic selection
 * switched off, so that a new descriptor or package cannot switch the
 * firmware under the guest.  Selection runs again only when the old files
 * are gone or the new definition asks for something the old firmware
 * does not have; the result says why.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-fill.h"
#include "fwsel-domxml.h"

G_BEGIN_DECLS

typedef enum {
    FWSEL_PRESERVE_NONE = 0,    /* the new definition asks for no firmware: as it is */
    FWSEL_PRESERVE_KEPT,        /* the existing loader and varstore, pinned */
    FWSEL_PRESERVE_RESELECTED,  /* selected afresh; see reasons */
    FWSEL_PRESERVE_REMAPPED,    /* migration: same role, this host's files */

    FWSEL_PRESERVE_LAST
} fwselPreserveOutcome;
FWSEL_ENUM_DECL(fwselPreserveOutcome);

typedef struct _fwselPreservation fwselPreservation;
struct _fwselPreservation {
    fwselPreserveOutcome outcome;
    fwselDomain *dom;               /* the firmware slice for the new definition */
    const fwselDescriptor *chosen;  /* describes the resulting firmware, or NULL */
    GPtrArray *reasons;             /* char *: why selection ran again */
    GPtrArray *notes;               /* char *: anything else the user should know */

    /* The varstore the domain keeps was made for other firmware: it must
     * be reset from the new template before the guest relies on it. */
    bool varstoreReset;
    char *varstoreResetWhy;
};

void fwselPreservationFree(fwselPreservation *pres);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselPreservation, fwselPreservationFree);

fwselPreservation *fwselPreserve(const fwselCatalog *catalog,
                                 const fwselRequest *existing,
                                 const fwselRequest *requested,
                                 GError **error);

fwselPreservation *fwselMigratePin(const fwselCatalog *catalog,
                                   const fwselRequest *incoming,
                                   GError **error);

int fwselPreserveApply(fwselDomainXML *doc,
                       const fwselPreservation *pres,
                       GError **error);

G_END_DECLS
