/*
 * fwsel-request.h: one domain's firmware request, with the facts about
 * the files it names gathered from the host
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-catalog.h"
#include "fwsel-domain.h"

G_BEGIN_DECLS

struct _fwselRequest {
    fwselDomain *dom;               /* as the domain XML says it */
    char *machine;                  /* the machine type, alias resolved; may be NULL */
    fwselMachineSource machineSource;

    /* what the paths the domain names are on the host */
    fwselPathFact loaderFile;
    fwselPathFact templateFile;
    fwselPathFact nvramFile;

    char *xml;                      /* fwselRequestParse: the document it came from */
    gsize xmlLength;
};

fwselRequest *fwselRequestNew(const fwselCatalog *catalog, const fwselDomain *dom);
fwselRequest *fwselRequestDerive(const fwselCatalog *catalog,
                                 const fwselDomain *dom,
                                 const fwselRequest *machineFrom,
                                 const fwselRequest *const *known,
                                 size_t nknown);
const fwselPathFact *fwselRequestFact(const fwselCatalog *catalog,
                                      const fwselRequest *const *known,
                                      size_t nknown,
                                      const char *path);
void fwselRequestFree(fwselRequest *req);

G_END_DECLS
