/*
 * fwsel-evaluate.h: one request against one catalog, every verdict kept
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-rules.h"

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
    fwselRule rule;             /* REJECTED: the rule; else FWSEL_RULE_LAST */
    char *reason;               /* REJECTED, INVALID, SHADOWED, MASKED, IGNORED */
    bool pathByLink;            /* matched the loader path only through a symlink */
} fwselVerdict;

typedef enum {
    FWSEL_OUTCOME_SELECTED = 0,     /* a descriptor's firmware */
    FWSEL_OUTCOME_UNDESCRIBED,      /* a hand-written pflash loader no descriptor describes */
    FWSEL_OUTCOME_NOTHING,          /* no firmware= and no pflash loader: nothing to select */
    FWSEL_OUTCOME_BUILTIN_BIOS,     /* firmware='bios' served by QEMU's own BIOS */
    FWSEL_OUTCOME_NO_MATCH,         /* firmware= asked for, nothing fits */
    FWSEL_OUTCOME_INVALID,          /* the request contradicts itself */

    FWSEL_OUTCOME_LAST
} fwselOutcome;
FWSEL_ENUM_DECL(fwselOutcome);

typedef struct _fwselResult fwselResult;
struct _fwselResult {
    fwselOutcome outcome;
    fwselErrorCode errorCode;       /* INVALID: the kind of problem */
    char *error;                    /* INVALID: what is wrong */
    char *request;                  /* the request in a few words */

    char *machine;                  /* matched against; may be NULL */
    fwselMachineSource machineSource;

    size_t nverdicts;               /* one per catalog entry, same order; */
    fwselVerdict *verdicts;         /* none for NOTHING and INVALID */
    const fwselEntry *chosen;       /* SELECTED */
    bool decidedByVarstore;         /* the first pass (split firmware only) decided */

    fwselDomain *dom;               /* the filled slice, unless NO_MATCH or INVALID */
    GPtrArray *notes;               /* char *: what the user should know */
};

fwselResult *fwselEvaluate(const fwselCatalog *catalog, const fwselRequest *req);
void fwselResultFree(fwselResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselResult, fwselResultFree);

const fwselDescriptor *fwselResultChosen(const fwselResult *result);
bool fwselResultFailed(const fwselResult *result);
void fwselResultToError(const fwselResult *result, GError **error);

char *fwselVerdictFormat(const fwselVerdict *verdict);
char *fwselResultFormatVerdicts(const fwselResult *result, const char *indent);

G_END_DECLS
