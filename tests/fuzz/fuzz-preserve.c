/*
 * fuzz-preserve.c: virt-fwsel preserve EXISTING.xml NEW.xml and
 * migrate-xml (the migration hook's input comes from another host)
 *
 * The input is two domain XML documents separated by a NUL byte (which
 * no XML document contains): EXISTING, then NEW.  Without a NUL it is
 * one incoming document for migrate-xml.  Each runs against the catalog
 * of tests-data/hosts/debian-bookworm as libvirt 9.0, 11.3 and 11.8 answer,
 * loaded once, QEMU never run.
 *
 * Invariants: a preservation or an error, never both or neither; the
 * definition written out reads back and names the loader and template
 * the preservation chose.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "fuzz-common.h"

static const char *const fuzzVersions[] = { "9.0", "11.3", NULL /* newest */ };
static fwselCatalog *fuzzCatalogs[G_N_ELEMENTS(fuzzVersions)];


int
LLVMFuzzerInitialize(int *argc G_GNUC_UNUSED, char ***argv G_GNUC_UNUSED)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(fuzzVersions); i++)
        fuzzCatalogs[i] = fuzzCatalogLoad("debian-bookworm", fuzzVersions[i]);
    return 0;
}


/* Writes @pres into @doc and reads the result back */
static void
fuzzApply(fwselDomainXML *doc, const fwselPreservation *pres, const char *xml, size_t size)
{
    g_autoptr(fwselDomainXML) back = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *out = NULL;
    const fwselDomain *got;

    FUZZ_ASSERT(pres->outcome < FWSEL_PRESERVE_LAST && pres->dom, "outcome %d, dom %p",
                pres->outcome, (void *) pres->dom);
    FUZZ_ASSERT(!pres->varstoreReset || pres->varstoreResetWhy, "a reset without a reason");
    if (fwselPreserveApply(doc, pres, &err) < 0) {
        FUZZ_ASSERT(err, "apply failed without an error");
        return;
    }
    out = fwselDomainXMLFormat(doc);
    back = fwselDomainXMLParse("preserved.xml", out, strlen(out), &err);
    FUZZ_ASSERT(back, "the preserved definition does not read back: %s\n--- output\n%s",
                err->message, out);
    got = fwselDomainXMLGetDomain(back);
    FUZZ_ASSERT(g_strcmp0(got->loader.path, pres->dom->loader.path) == 0,
                "loader '%s', preserved '%s'\n--- output\n%s", got->loader.path,
                pres->dom->loader.path, out);
    FUZZ_ASSERT(g_strcmp0(got->nvram.templatePath, pres->dom->nvram.templatePath) == 0,
                "template '%s', preserved '%s'\n--- output\n%s", got->nvram.templatePath,
                pres->dom->nvram.templatePath, out);
}


static void
fuzzPreserve(const fwselCatalog *catalog, const uint8_t *a, size_t alen,
             const uint8_t *b, size_t blen)
{
    g_autoptr(fwselDomainXML) existing = NULL;
    g_autoptr(fwselDomainXML) requested = NULL;
    g_autoptr(fwselPreservation) pres = NULL;
    g_autoptr(GError) err = NULL;
    fwselRequest *existingReq;
    fwselRequest *requestedReq;

    if (!(existing = fwselDomainXMLParse("existing.xml", (const char *) a, alen, NULL)) ||
        !(requested = fwselDomainXMLParse("new.xml", (const char *) b, blen, NULL)))
        return;

    existingReq = fwselRequestNew(catalog, fwselDomainXMLGetDomain(existing));
    requestedReq = fwselRequestNew(catalog, fwselDomainXMLGetDomain(requested));
    pres = fwselPreserve(catalog, existingReq, requestedReq, &err);
    FUZZ_ASSERT_ERROR_MATCHES(pres == NULL, err);
    if (pres)
        fuzzApply(requested, pres, (const char *) b, blen);
    fwselRequestFree(existingReq);
    fwselRequestFree(requestedReq);
}


static void
fuzzMigrate(const fwselCatalog *catalog, const uint8_t *data, size_t size)
{
    g_autoptr(fwselDomainXML) in = NULL;
    g_autoptr(fwselPreservation) pres = NULL;
    g_autoptr(GError) err = NULL;
    fwselRequest *req;

    if (!(in = fwselDomainXMLParse("incoming.xml", (const char *) data, size, NULL)))
        return;
    req = fwselRequestNew(catalog, fwselDomainXMLGetDomain(in));
    pres = fwselMigratePin(catalog, req, &err);
    FUZZ_ASSERT_ERROR_MATCHES(pres == NULL, err);
    if (pres)
        fuzzApply(in, pres, (const char *) data, size);
    fwselRequestFree(req);
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, '\0', size);
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(fuzzCatalogs); i++) {
        if (nul) {
            size_t alen = nul - data;

            fuzzPreserve(fuzzCatalogs[i], data, alen, nul + 1, size - alen - 1);
            fuzzMigrate(fuzzCatalogs[i], nul + 1, size - alen - 1);
        } else {
            fuzzMigrate(fuzzCatalogs[i], data, size);
        }
    }
    return 0;
}
