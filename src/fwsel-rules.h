/*
 * fwsel-rules.h: the selection rules, one row each
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-request.h"

G_BEGIN_DECLS

/* In evaluation order: what the descriptor is first, then what the
 * domain asks of it, then whether the host really has it. */
typedef enum {
    FWSEL_RULE_INTERFACE = 0,
    FWSEL_RULE_UNKNOWN_FEATURE,
    FWSEL_RULE_RELATIVE_PATH,
    FWSEL_RULE_DEVICE,
    FWSEL_RULE_LOADER_PATH,
    FWSEL_RULE_TEMPLATE_PATH,
    FWSEL_RULE_TARGET,
    FWSEL_RULE_POWER_MANAGEMENT,
    FWSEL_RULE_SECURE_BOOT,
    FWSEL_RULE_ENROLLED_KEYS,
    FWSEL_RULE_SMM,
    FWSEL_RULE_FLASH_MODE,
    FWSEL_RULE_ROM,
    FWSEL_RULE_FORMAT,
    FWSEL_RULE_LAUNCH_SECURITY,
    FWSEL_RULE_FILES,
    FWSEL_RULE_VARSTORE,

    FWSEL_RULE_LAST
} fwselRule;
FWSEL_ENUM_DECL(fwselRule);

/* What a rejection says about a descriptor */
typedef enum {
    /* it is about other firmware than the domain names or asks for */
    FWSEL_RULE_KIND_IDENTITY = 0,
    /* it is the firmware in question, but lacks what the domain needs */
    FWSEL_RULE_KIND_CAPABILITY,

    FWSEL_RULE_KIND_LAST
} fwselRuleKind;

/* What the rules look at besides the descriptor: the request, the
 * catalog's facts, and which pass of the matching this is */
typedef struct {
    const fwselCatalog *catalog;
    const fwselRequest *req;
    const fwselDomain *dom;         /* req->dom */
    fwselInterface want;
    fwselLibvirt libvirt;           /* whose rules */
    fwselPolicy policy;             /* the contract's, or the one a hazard check tries */
    bool preferVarstore;            /* first pass: only firmware with a varstore */
} fwselRuleCtx;

fwselRuleKind fwselRuleGetKind(fwselRule rule);
bool fwselRuleIsPolicy(fwselRule rule, fwselLibvirt version);

fwselRule fwselRulesCheck(const fwselRuleCtx *ctx,
                          const fwselDescriptor *desc,
                          char **reason);

G_END_DECLS
