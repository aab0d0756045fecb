/*
 * fwsel-contract.h: whose rules an evaluation follows
 *
 * By default fwsel answers exactly what one libvirt version answers for
 * a request (the version installed on the host, else the newest one
 * modelled).  fwsel's own extra rules are a policy a caller opts into.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-resolver.h"

G_BEGIN_DECLS

/* The libvirt behaviours fwsel models; each was compared with a real
 * daemon (9.0, 11.3) or read from libvirt's change (11.8) */
typedef enum {
    FWSEL_LIBVIRT_9_0 = 0,  /* 9.0 - 9.1: selection at start, in the live XML */
    FWSEL_LIBVIRT_11_3,     /* 9.2 - 11.7: selection at define, paths compared as written */
    FWSEL_LIBVIRT_11_8,     /* 11.8 and later: no mode preference, canonical paths */

    FWSEL_LIBVIRT_LAST
} fwselLibvirt;
FWSEL_ENUM_DECL(fwselLibvirt);

/* fwselPolicy (libvirt, safe) is public: libfwsel.h */
FWSEL_ENUM_DECL(fwselPolicy);

/* Where the version came from, for explain */
typedef enum {
    FWSEL_LIBVIRT_SOURCE_OPTION = 0,    /* --libvirt */
    FWSEL_LIBVIRT_SOURCE_HOST,          /* the libvirt library installed on the host */
    FWSEL_LIBVIRT_SOURCE_NEWEST,        /* none found: the newest modelled */

    FWSEL_LIBVIRT_SOURCE_LAST
} fwselLibvirtSource;

typedef struct {
    fwselLibvirt libvirt;
    fwselPolicy policy;
    fwselLibvirtSource source;
    char *version;          /* the version asked for or found, as written */
} fwselContract;

void fwselContractClear(fwselContract *contract);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(fwselContract, fwselContractClear);

int fwselLibvirtParseVersion(const char *version,
                             unsigned int *major,
                             unsigned int *minor,
                             unsigned int *micro);
fwselLibvirt fwselLibvirtForVersion(unsigned int major, unsigned int minor);

int fwselContractFromVersion(fwselContract *contract,
                             const char *version,
                             GError **error);
void fwselContractDetect(fwselContract *contract, const fwselRoot *root);

char *fwselContractDescribe(const fwselContract *contract);

G_END_DECLS
