/*
 * fwsel-match.h: which descriptors satisfy a domain, and why the others
 * do not
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-domain.h"
#include "fwsel-host.h"
#include "fwsel-search.h"

G_BEGIN_DECLS

typedef enum {
    FWSEL_VERDICT_SELECTED,     /* the first match: the domain gets this one */
    FWSEL_VERDICT_MATCH,        /* would match, but comes after the selected one */
    FWSEL_VERDICT_REJECTED,     /* a rule rejected it; see rule and reason */
    FWSEL_VERDICT_INVALID,      /* the file could not be parsed */
    FWSEL_VERDICT_SHADOWED,     /* replaced by a file of the same name */
    FWSEL_VERDICT_MASKED,       /* an empty file hiding the name */
    FWSEL_VERDICT_IGNORED,      /* not a regular file: plays no part */

    FWSEL_VERDICT_LAST
} fwselVerdictKind;
FWSEL_ENUM_DECL(fwselVerdictKind);

typedef struct {
    const fwselEntry *entry;
    fwselVerdictKind kind;
    const char *rule;           /* REJECTED: the rule's name */
    char *reason;               /* REJECTED, INVALID, SHADOWED, MASKED */
    bool pathByLink;            /* matched the loader path only through a symlink */
} fwselVerdict;

typedef struct _fwselMatch fwselMatch;
struct _fwselMatch {
    size_t nverdicts;
    fwselVerdict *verdicts;     /* one per catalog entry, same order */
    const fwselDescriptor *chosen;
    char *machine;              /* the machine type that was matched against */
};

void fwselMatchFree(fwselMatch *match);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselMatch, fwselMatchFree);

fwselMatch *fwselMatchDomain(fwselHost *host,
                             const fwselCatalog *catalog,
                             const fwselDomain *dom);

char *fwselVerdictFormat(const fwselVerdict *verdict);
char *fwselMatchFormatReasons(const fwselMatch *match, const char *indent);

G_END_DECLS
