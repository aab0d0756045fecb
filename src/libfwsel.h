/*
 * libfwsel.h: the public interface of libfwsel
 *
 * Firmware selection for QEMU/libvirt domains from the host's firmware
 * descriptors, with the reason for every descriptor's verdict.
 *
 * Use:
 *
 *   options  = fwselHostOptionsNew();             which host, how to read it
 *   catalog  = fwselCatalogLoad(options, &err);   every host fact, read once
 *   request  = fwselRequestParse(catalog, xml, -1, &err);
 *   result   = fwselEvaluate(catalog, request);   pure: no I/O, no spawning
 *   fwselResultGetOutcome(result), fwselResultGetVerdict...(result, i)
 *   filled   = fwselResultFormatDomain(result, request, FWSEL_FORM_RECORDED, &err);
 *
 * Ownership: every object returned by a ...New, ...Load, ...Parse or
 * fwselEvaluate call belongs to the caller and is released with the
 * matching ...Free (NULL is accepted by every ...Free).  Strings returned
 * as "const char *" belong to the object they came from and live as long
 * as it does; strings returned as "char *" are the caller's (g_free).
 * A result keeps pointers into its catalog: free results before the
 * catalog.
 *
 * Errors: every call that can fail takes a GError ** last; NULL is
 * always allowed (the failure is then only in the return value).  A
 * request for which no firmware fits is not an error of fwselEvaluate:
 * it is the outcome FWSEL_OUTCOME_NO_MATCH of the result, with every
 * descriptor's verdict.
 *
 * Threads: a loaded catalog is never changed; any number of threads may
 * parse requests against it and evaluate them at the same time.  Options,
 * requests and results are not to be shared between threads while one of
 * them is being changed or freed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

G_BEGIN_DECLS

#define FWSEL_ERROR (fwselErrorQuark())
GQuark fwselErrorQuark(void);

typedef enum {
    FWSEL_ERROR_INVALID,      /* malformed input: JSON, XML, options */
    FWSEL_ERROR_VALIDATE,     /* the domain asks for something inconsistent */
    FWSEL_ERROR_NOMATCH,      /* no descriptor satisfies the domain */
    FWSEL_ERROR_IO,           /* a file could not be read or written */
    FWSEL_ERROR_EXISTS,       /* the target exists and was left alone */
    FWSEL_ERROR_UNSAFE,       /* refusing: symlink, escaping path, ... */
} fwselErrorCode;

/* The version of the library, e.g. "0.2.0" */
const char *fwselVersion(void);


/* ---- Which host to read ------------------------------------------- */

typedef struct _fwselHostOptions fwselHostOptions;

fwselHostOptions *fwselHostOptionsNew(void);
void fwselHostOptionsFree(fwselHostOptions *opts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselHostOptions, fwselHostOptionsFree);

/* Read the host tree under @dir instead of "/" (NULL: the real host).
 * Nothing under @dir is ever executed, and no path leaves it. */
int fwselHostOptionsSetRoot(fwselHostOptions *opts, const char *dir, GError **error);
/* Also read $XDG_CONFIG_HOME/qemu/firmware, as a session daemon does */
void fwselHostOptionsSetSession(fwselHostOptions *opts, bool session);
/* Where per-domain varstores go (default /var/lib/libvirt/qemu/nvram) */
int fwselHostOptionsSetNvramDir(fwselHostOptions *opts, const char *dir, GError **error);
/* "ALIAS=MACHINE": resolve a machine type alias without asking QEMU */
int fwselHostOptionsAddMachineAlias(fwselHostOptions *opts, const char *spec, GError **error);
/* Whose rules to follow.  By default, exactly those of the libvirt
 * installed on the host (its libvirt.so.0 under the root), else of the
 * newest libvirt fwsel models.  @version: "MAJOR.MINOR[.MICRO]", e.g.
 * "9.0" or "11.3.0"; NULL: look at the host again. */
int fwselHostOptionsSetLibvirt(fwselHostOptions *opts, const char *version, GError **error);

typedef enum {
    FWSEL_POLICY_LIBVIRT = 0,   /* libvirt's answer, hazards only warned about */
    FWSEL_POLICY_SAFE,          /* also fwsel's own rules: files must exist, no
                                 * unknown features, no relative paths, prefer
                                 * firmware with a varstore, exact paths first */

    FWSEL_POLICY_LAST
} fwselPolicy;
void fwselHostOptionsSetPolicy(fwselHostOptions *opts, fwselPolicy policy);
const char *fwselPolicyTypeToString(int type);
int fwselPolicyTypeFromString(const char *str);

/* Allow running the real host's qemu-system-ARCH (never a --root tree's)
 * when neither an alias option nor libvirt's capabilities cache knows a
 * machine type alias.  On by default. */
void fwselHostOptionsSetProbe(fwselHostOptions *opts, bool probe);


/* ---- A host's firmware, read once ---------------------------------- */

typedef struct _fwselCatalog fwselCatalog;

fwselCatalog *fwselCatalogLoad(const fwselHostOptions *opts, GError **error);
void fwselCatalogFree(fwselCatalog *catalog);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselCatalog, fwselCatalogFree);


/* ---- One domain's request ------------------------------------------- */

typedef struct _fwselRequest fwselRequest;

/* Parses a libvirt domain XML document (@length -1: NUL-terminated) and
 * gathers what the files it names are on the catalog's host. */
fwselRequest *fwselRequestParse(const fwselCatalog *catalog,
                                const char *xml,
                                gssize length,
                                GError **error);
void fwselRequestFree(fwselRequest *req);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselRequest, fwselRequestFree);


/* ---- Evaluation ----------------------------------------------------- */

typedef struct _fwselResult fwselResult;

typedef enum {
    FWSEL_OUTCOME_SELECTED = 0,     /* a descriptor's firmware */
    FWSEL_OUTCOME_UNDESCRIBED,      /* a hand-written pflash loader no descriptor describes */
    FWSEL_OUTCOME_NOTHING,          /* no firmware= and no pflash loader: nothing to select */
    FWSEL_OUTCOME_NO_MATCH,         /* firmware= asked for, nothing fits */
    FWSEL_OUTCOME_INVALID,          /* the request contradicts itself */

    FWSEL_OUTCOME_LAST
} fwselOutcome;

typedef enum {
    FWSEL_VERDICT_SELECTED,     /* the first match: the domain gets this one */
    FWSEL_VERDICT_MATCH,        /* would match, but comes after the selected one */
    FWSEL_VERDICT_REJECTED,     /* a rule rejected it; see the rule and reason */
    FWSEL_VERDICT_INVALID,      /* the file could not be parsed */
    FWSEL_VERDICT_SHADOWED,     /* replaced by a file of the same name */
    FWSEL_VERDICT_MASKED,       /* an empty file hiding the name */
    FWSEL_VERDICT_IGNORED,      /* not a regular file: plays no part */

    FWSEL_VERDICT_LAST
} fwselVerdictKind;

/* How the filled firmware is written into a definition */
typedef enum {
    /* as libvirt records it: an automatic selection keeps firmware= and
     * gets the chosen build's features */
    FWSEL_FORM_RECORDED = 0,
    /* pinned: explicit loader and varstore, automatic selection off */
    FWSEL_FORM_PINNED,

    FWSEL_FORM_LAST
} fwselForm;

/* Never fails for want of memory or a match: the result says what
 * happened (NULL only when @catalog or @req is NULL). */
fwselResult *fwselEvaluate(const fwselCatalog *catalog, const fwselRequest *req);
void fwselResultFree(fwselResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselResult, fwselResultFree);

fwselOutcome fwselResultGetOutcome(const fwselResult *result);
/* NO_MATCH or INVALID: sets @error (if not NULL) to why, returns false;
 * any other outcome: returns true */
bool fwselResultCheck(const fwselResult *result, GError **error);
/* SELECTED: the chosen descriptor file as the host names it; else NULL */
const char *fwselResultGetDescriptor(const fwselResult *result);
/* The machine type the descriptors were matched against, alias resolved */
const char *fwselResultGetMachine(const fwselResult *result);

/* One verdict per descriptor file, in precedence order (none for
 * NOTHING and INVALID) */
size_t fwselResultGetVerdictCount(const fwselResult *result);
const char *fwselResultGetVerdictPath(const fwselResult *result, size_t i);
fwselVerdictKind fwselResultGetVerdictKind(const fwselResult *result, size_t i);
/* REJECTED: the rule's name ("target", "secure-boot", ...); else NULL */
const char *fwselResultGetVerdictRule(const fwselResult *result, size_t i);
/* Why, in words (NULL for SELECTED and MATCH) */
const char *fwselResultGetVerdictReason(const fwselResult *result, size_t i);

/* The request's domain XML with its firmware filled in, everything else
 * byte for byte; NULL with @error set for NO_MATCH and INVALID */
char *fwselResultFormatDomain(const fwselResult *result,
                              const fwselRequest *req,
                              fwselForm form,
                              GError **error);

const char *fwselOutcomeTypeToString(int type);
const char *fwselVerdictKindTypeToString(int type);

G_END_DECLS
