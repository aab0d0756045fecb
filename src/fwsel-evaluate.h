/*
 * fwsel-evaluate.h: one request against one catalog, every verdict kept
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-rules.h"

G_BEGIN_DECLS

FWSEL_ENUM_DECL(fwselVerdictKind);

typedef struct {
    const fwselEntry *entry;
    fwselVerdictKind kind;
    fwselRule rule;             /* REJECTED: the rule; else FWSEL_RULE_LAST */
    char *reason;               /* REJECTED, INVALID, SHADOWED, MASKED, IGNORED */
    bool pathByLink;            /* matched the loader path only through a symlink */
} fwselVerdict;

FWSEL_ENUM_DECL(fwselOutcome);

struct _fwselResult {
    fwselOutcome outcome;
    fwselLibvirt libvirt;           /* whose rules: the catalog's contract */
    fwselPolicy policy;
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
fwselResult *fwselEvaluatePolicy(const fwselCatalog *catalog,
                                 const fwselRequest *req,
                                 fwselPolicy policy);
fwselResult *fwselEvaluateContract(const fwselCatalog *catalog,
                                   const fwselRequest *req,
                                   const fwselContract *contract);
void fwselResultFree(fwselResult *result);

const fwselDescriptor *fwselResultChosen(const fwselResult *result);
bool fwselResultFailed(const fwselResult *result);
void fwselResultToError(const fwselResult *result, GError **error);

char *fwselVerdictFormat(const fwselVerdict *verdict);
char *fwselResultFormatVerdicts(const fwselResult *result, const char *indent);

G_END_DECLS
