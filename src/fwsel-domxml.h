/*
 * fwsel-domxml.h: the firmware slice of a libvirt domain XML document
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-domain.h"

G_BEGIN_DECLS

/* A parsed domain XML document, kept whole so that writing back changes
 * only the firmware slice. */
typedef struct _fwselDomainXML fwselDomainXML;

fwselDomainXML *fwselDomainXMLParse(const char *name,
                                    const char *xml,
                                    gsize length,
                                    GError **error);
fwselDomainXML *fwselDomainXMLLoad(const char *file, GError **error);
void fwselDomainXMLFree(fwselDomainXML *doc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselDomainXML, fwselDomainXMLFree);

const fwselDomain *fwselDomainXMLGetDomain(const fwselDomainXML *doc);
int fwselDomainXMLUpdate(fwselDomainXML *doc,
                         const fwselDomain *dom,
                         GError **error);
char *fwselDomainXMLFormat(const fwselDomainXML *doc);

G_END_DECLS
