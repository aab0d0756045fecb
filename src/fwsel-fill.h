/*
 * fwsel-fill.h: complete a domain's firmware configuration the way libvirt
 * does once firmware is chosen, and write it out in the form asked for
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-evaluate.h"

G_BEGIN_DECLS

/* fwselForm (how a filled slice is written into a definition) is public */

int fwselDomainValidate(const fwselDomain *dom,
                        const fwselContract *contract,
                        GError **error);

fwselLoaderType fwselLoaderEffectiveType(const fwselLoader *loader);
bool fwselDomainNeedsVarstore(const fwselDomain *dom);

void fwselFillFromDescriptor(fwselDomain *dom,
                             const fwselDescriptor *desc,
                             fwselLibvirt libvirt);
void fwselFillUndescribed(const fwselCatalog *catalog,
                          const fwselContract *contract,
                          const fwselRequest *req,
                          fwselDomain *dom,
                          GPtrArray *notes);
int fwselFillVarstore(const fwselHostSettings *settings,
                      fwselLibvirt libvirt,
                      fwselDomain *dom,
                      GError **error);

char *fwselNvramDefaultPath(const char *nvramDir,
                            const fwselDomain *dom,
                            fwselLibvirt libvirt,
                            GError **error);

fwselDomain *fwselFillRender(const fwselDomain *filled,
                             const fwselDescriptor *chosen,
                             fwselForm form,
                             fwselLibvirt libvirt);

G_END_DECLS
