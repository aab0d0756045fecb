/*
 * fwsel-xmlpatch.h: edit an XML document, write back only the edits
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <libxml/tree.h>
#include "fwsel-types.h"

G_BEGIN_DECLS

typedef struct _fwselXMLDoc fwselXMLDoc;

fwselXMLDoc *fwselXMLDocParse(const char *name,
                              const char *xml,
                              gsize length,
                              gsize maxSize,
                              GError **error);
void fwselXMLDocFree(fwselXMLDoc *doc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselXMLDoc, fwselXMLDocFree);

xmlNode *fwselXMLDocRoot(const fwselXMLDoc *doc);
char *fwselXMLDocFormat(const fwselXMLDoc *doc);

/* Reading */
xmlNode *fwselXMLChild(xmlNode *parent, const char *name);
char *fwselXMLProp(xmlNode *node, const char *name);
char *fwselXMLText(xmlNode *node);
xmlNode *fwselXMLLastElement(xmlNode *parent);
xmlNode *fwselXMLPrevElement(xmlNode *node);
xmlNode *fwselXMLLastOf(xmlNode *parent, const char *const *names);

/* Editing: each marks what it changes, so that the rest is written back
 * byte for byte */
xmlNode *fwselXMLInsert(xmlNode *parent, xmlNode *after, const char *name);
void fwselXMLSetProp(xmlNode *node, const char *name, const char *value);
void fwselXMLSetText(xmlNode *node, const char *text);
void fwselXMLRemove(xmlNode *node);

G_END_DECLS
