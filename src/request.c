/*
 * request.c: build a request from a domain (the input builder's second
 * half: it reads the host for the paths the domain itself names, and
 * resolves its machine type alias)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>

#include "fwsel-request.h"


/**
 * fwselRequestNew:
 * @dom: copied
 *
 * Never fails: what cannot be found on the host is recorded as missing.
 */
fwselRequest *
fwselRequestNew(const fwselCatalog *catalog, const fwselDomain *dom)
{
    fwselRequest *req = g_new0(fwselRequest, 1);

    req->dom = fwselDomainCopy(dom);
    req->machine = g_strdup(fwselMachinesResolve(catalog->machines, dom->arch, dom->machine,
                                                 &req->machineSource));
    if (dom->loader.path)
        fwselRootResolve(catalog->root, dom->loader.path, &req->loaderFile);
    if (dom->nvram.templatePath)
        fwselRootResolve(catalog->root, dom->nvram.templatePath, &req->templateFile);
    if (dom->nvram.path && dom->nvram.source != FWSEL_NVRAM_SOURCE_NETWORK)
        fwselRootResolve(catalog->root, dom->nvram.path, &req->nvramFile);
    return req;
}


void
fwselRequestFree(fwselRequest *req)
{
    if (!req)
        return;
    fwselDomainFree(req->dom);
    g_free(req->machine);
    fwselPathFactClear(&req->loaderFile);
    fwselPathFactClear(&req->templateFile);
    fwselPathFactClear(&req->nvramFile);
    g_free(req->xml);
    g_free(req);
}


/* The fact a request holds about @path, if it names that path */
static const fwselPathFact *
fwselRequestOwnFact(const fwselRequest *req, const char *path)
{
    const fwselDomain *dom = req->dom;

    if (g_strcmp0(dom->loader.path, path) == 0)
        return &req->loaderFile;
    if (g_strcmp0(dom->nvram.templatePath, path) == 0)
        return &req->templateFile;
    if (dom->nvram.source != FWSEL_NVRAM_SOURCE_NETWORK && g_strcmp0(dom->nvram.path, path) == 0)
        return &req->nvramFile;
    return NULL;
}


/**
 * fwselRequestFact:
 * @known: requests whose facts may be reused
 *
 * What @path is, from facts already gathered: the catalog's (files named
 * by descriptors) or those of @known.  A path nobody gathered is
 * reported missing, spelled as written.
 */
const fwselPathFact *
fwselRequestFact(const fwselCatalog *catalog,
                 const fwselRequest *const *known,
                 size_t nknown,
                 const char *path)
{
    const fwselPathFact *fact;
    size_t i;

    if (!path)
        return fwselCatalogFile(catalog, NULL);
    if (g_hash_table_contains(catalog->files, path))
        return fwselCatalogFile(catalog, path);
    for (i = 0; i < nknown; i++) {
        if (known[i] && (fact = fwselRequestOwnFact(known[i], path)))
            return fact;
    }
    return fwselCatalogFile(catalog, path);
}


static void
fwselRequestCopyFact(fwselPathFact *to,
                     const fwselCatalog *catalog,
                     const fwselRequest *const *known,
                     size_t nknown,
                     const char *path)
{
    if (!path)
        return;
    fwselPathFactCopy(to, fwselRequestFact(catalog, known, nknown, path));
    if (!to->canonical && path[0] == '/')
        to->canonical = g_strdup(path);
}


/**
 * fwselRequestDerive:
 * @dom: the new request's domain (copied)
 * @machineFrom: the request whose resolved machine type @dom shares
 * @known: requests whose path facts may be reused
 *
 * A request made from facts already gathered, without reading the host:
 * for requests a front end or preservation composes from other requests
 * and from descriptors.
 */
fwselRequest *
fwselRequestDerive(const fwselCatalog *catalog,
                   const fwselDomain *dom,
                   const fwselRequest *machineFrom,
                   const fwselRequest *const *known,
                   size_t nknown)
{
    fwselRequest *req = g_new0(fwselRequest, 1);

    req->dom = fwselDomainCopy(dom);
    req->machine = g_strdup(machineFrom->machine);
    req->machineSource = machineFrom->machineSource;
    fwselRequestCopyFact(&req->loaderFile, catalog, known, nknown, dom->loader.path);
    fwselRequestCopyFact(&req->templateFile, catalog, known, nknown, dom->nvram.templatePath);
    if (dom->nvram.source != FWSEL_NVRAM_SOURCE_NETWORK)
        fwselRequestCopyFact(&req->nvramFile, catalog, known, nknown, dom->nvram.path);
    return req;
}
