/*
 * fwsel-fill.h: complete a domain's firmware configuration the way libvirt
 * does when a domain is defined
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-match.h"

G_BEGIN_DECLS

typedef struct _fwselSelection fwselSelection;
struct _fwselSelection {
    fwselDomain *dom;               /* the completed firmware slice */
    fwselMatch *match;              /* verdicts; NULL when nothing was matched */
    const fwselDescriptor *chosen;  /* NULL: legacy or nothing to select */
    GPtrArray *notes;               /* char *: things the user should know */
};

void fwselSelectionFree(fwselSelection *sel);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselSelection, fwselSelectionFree);

int fwselDomainValidate(const fwselDomain *dom, GError **error);

fwselSelection *fwselSelect(fwselHost *host,
                            const fwselCatalog *catalog,
                            const fwselDomain *dom,
                            GError **error);

char *fwselNvramDefaultPath(const fwselHost *host,
                            const fwselDomain *dom,
                            GError **error);

G_END_DECLS
