/*
 * fwsel-search.h: the descriptor files of a host, in precedence order
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-descriptor.h"
#include "fwsel-host.h"
#include "fwsel-resolver.h"

G_BEGIN_DECLS

typedef enum {
    FWSEL_ENTRY_ACTIVE,     /* parsed; takes part in selection */
    FWSEL_ENTRY_INVALID,    /* could not be parsed; skipped */
    FWSEL_ENTRY_SHADOWED,   /* a later directory has a file of the same name */
    FWSEL_ENTRY_MASK,       /* empty file: hides the name */
    FWSEL_ENTRY_IGNORED,    /* not a regular file (e.g. a link to /dev/null): as if absent */

    FWSEL_ENTRY_LAST
} fwselEntryState;
FWSEL_ENUM_DECL(fwselEntryState);

typedef struct _fwselEntry fwselEntry;
struct _fwselEntry {
    char *name;             /* basename, the sort key */
    char *path;             /* as the host sees it */
    fwselEntryState state;
    char *winner;           /* SHADOWED: the file that replaces this one */
    fwselDescriptor *desc;  /* ACTIVE only */
    char *error;            /* INVALID, IGNORED: why */
    int unreadable;         /* IGNORED: the errno of following the name (a
                             * dangling link, a loop); 0 otherwise */
};

void fwselEntryFree(fwselEntry *entry);
bool fwselEntryIsEffective(const fwselEntry *entry);

GPtrArray *fwselSearchLoad(const fwselRoot *root,
                           char *const *dirs,
                           size_t ndirs,
                           GError **error);

G_END_DECLS
