/*
 * api.c: the calls libfwsel.h documents that are not the engine's own
 * (parsing a request from XML text, reading a result, writing it back)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "fwsel.h"


const char *
fwselVersion(void)
{
    return FWSEL_VERSION;
}


/**
 * fwselRequestParse:
 *
 * The request of the domain XML document @xml on @catalog's host.  The
 * text is kept, for fwselResultFormatDomain.
 */
fwselRequest *
fwselRequestParse(const fwselCatalog *catalog,
                  const char *xml,
                  gssize length,
                  GError **error)
{
    g_autoptr(fwselDomainXML) doc = NULL;
    fwselRequest *req;

    if (!catalog || !xml) {
        g_set_error_literal(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                            "no catalog or no domain XML given");
        return NULL;
    }
    if (length < 0)
        length = strlen(xml);
    if (!(doc = fwselDomainXMLParse("domain XML", xml, length, error)))
        return NULL;

    req = fwselRequestNew(catalog, fwselDomainXMLGetDomain(doc));
    req->xml = g_strndup(xml, length);
    req->xmlLength = length;
    return req;
}


fwselOutcome
fwselResultGetOutcome(const fwselResult *result)
{
    return result ? result->outcome : FWSEL_OUTCOME_INVALID;
}


bool
fwselResultCheck(const fwselResult *result, GError **error)
{
    if (!result) {
        g_set_error_literal(error, FWSEL_ERROR, FWSEL_ERROR_INVALID, "no result");
        return false;
    }
    if (!fwselResultFailed(result))
        return true;
    fwselResultToError(result, error);
    return false;
}


const char *
fwselResultGetDescriptor(const fwselResult *result)
{
    if (!result || result->outcome != FWSEL_OUTCOME_SELECTED || !result->chosen)
        return NULL;
    return result->chosen->path;
}


const char *
fwselResultGetMachine(const fwselResult *result)
{
    return result ? result->machine : NULL;
}


size_t
fwselResultGetVerdictCount(const fwselResult *result)
{
    return result ? result->nverdicts : 0;
}


static const fwselVerdict *
fwselResultVerdict(const fwselResult *result, size_t i)
{
    if (!result || i >= result->nverdicts)
        return NULL;
    return &result->verdicts[i];
}


const char *
fwselResultGetVerdictPath(const fwselResult *result, size_t i)
{
    const fwselVerdict *v = fwselResultVerdict(result, i);

    return v ? v->entry->path : NULL;
}


fwselVerdictKind
fwselResultGetVerdictKind(const fwselResult *result, size_t i)
{
    const fwselVerdict *v = fwselResultVerdict(result, i);

    return v ? v->kind : FWSEL_VERDICT_LAST;
}


const char *
fwselResultGetVerdictRule(const fwselResult *result, size_t i)
{
    const fwselVerdict *v = fwselResultVerdict(result, i);

    if (!v || v->kind != FWSEL_VERDICT_REJECTED)
        return NULL;
    return fwselRuleTypeToString(v->rule);
}


const char *
fwselResultGetVerdictReason(const fwselResult *result, size_t i)
{
    const fwselVerdict *v = fwselResultVerdict(result, i);

    return v ? v->reason : NULL;
}


/**
 * fwselResultFormatDomain:
 * @req: the request @result was evaluated from, made by fwselRequestParse
 *
 * Writes the filled firmware slice into a copy of @req's document.
 */
char *
fwselResultFormatDomain(const fwselResult *result,
                        const fwselRequest *req,
                        fwselForm form,
                        GError **error)
{
    g_autoptr(fwselDomainXML) doc = NULL;
    g_autoptr(fwselDomain) out = NULL;

    if (!result || !req || !req->xml) {
        g_set_error_literal(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                            "no result, or a request not made from domain XML");
        return NULL;
    }
    if (form < 0 || form >= FWSEL_FORM_LAST) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID, "unknown form %d", form);
        return NULL;
    }
    if (!fwselResultCheck(result, error))
        return NULL;

    if (!(doc = fwselDomainXMLParse("domain XML", req->xml, req->xmlLength, error)))
        return NULL;
    out = fwselFillRender(result->dom, fwselResultChosen(result), form, result->libvirt);
    if (fwselDomainXMLUpdate(doc, out, error) < 0)
        return NULL;
    return fwselDomainXMLFormat(doc);
}
