/*
 * fuzz-varstore.c: the edk2 varstore reader behind virt-fwsel nvram
 * inspect (a varstore is written by the guest's firmware, and the guest
 * is not trusted)
 *
 * Invariants: a store or an error, never both or neither (the same for
 * the decoded Secure Boot state); the report, its summary and its JSON
 * form can be made from whatever was read; the report is UTF-8 without
 * control characters other than newlines (it goes to an administrator's
 * terminal).  The audit's facts (sbfacts.c) can be made too, and so can
 * an enrollment (enroll.c) of a test certificate into KEK: an image, an
 * error or "nothing to add", never two; an image reads back, holds the
 * certificate in KEK and equals the input outside the variable store.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "fuzz-common.h"
#include "fwsel-varstore.h"
#include "fwsel-sbfacts.h"
#include "fwsel-enroll.h"

/* the certificate enrolled (tests-data) */
#define FWSEL_FUZZ_CERT FWSEL_FUZZ_TESTS_DATA "/varstore/certs/fwsel-test-kek.der"


/* The first byte of @text a terminal would act on, or NULL */
static const char *
fuzzControlChar(const char *text)
{
    const char *p;

    for (p = text; *p; p++) {
        unsigned char c = *p;

        if ((c < 0x20 && c != '\n') || c == 0x7f)
            return p;
    }
    return NULL;
}


/* Strings from the store (written by the guest) reach a terminal:
 * the report is UTF-8 without control characters but newlines */
static void
fuzzCheckText(const char *what, const char *text)
{
    const char *bad;

    FUZZ_ASSERT(text, "no %s", what);
    FUZZ_ASSERT(g_utf8_validate(text, -1, NULL), "the %s is not UTF-8:\n%s", what, text);
    bad = fuzzControlChar(text);
    FUZZ_ASSERT(!bad, "the %s holds control character 0x%02x at byte %zu:\n%s", what,
                (unsigned char) *bad, (size_t) (bad - text), text);
}


static void
fuzzCheckFacts(const fwselVarstore *store, const fwselVarstoreInfo *info)
{
    g_autoptr(fwselSbFacts) facts = fwselSbFactsGet(store, info, "2026-12-02T00:00:00Z");
    g_autofree char *line = fwselSbFactsFormat(facts);
    json_object *json = fwselSbFactsToJSON(facts);

    fuzzCheckText("audit line", line);
    FUZZ_ASSERT(json && json_object_to_json_string(json), "no facts JSON");
    json_object_put(json);
}


static void
fuzzCheckEnroll(const fwselVarstore *store, const fwselVarstoreInfo *info)
{
    static fwselEnrollCert *cert;
    g_autoptr(GPtrArray) certs = g_ptr_array_new();
    g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    g_autofree guint8 *image = NULL;
    g_autoptr(fwselVarstore) again = NULL;
    g_autoptr(fwselVarstoreInfo) againInfo = NULL;
    gsize start = store->storeOffset + 28;
    gsize end = store->storeOffset + store->storeSize;
    gsize len = 0;
    const fwselSigDb *kek;
    bool found = false;
    guint i;

    if (!cert) {
        cert = fwselEnrollCertLoad(FWSEL_FUZZ_CERT, FWSEL_SIGDB_KEK, NULL, &err);
        FUZZ_ASSERT(cert, "cannot load %s: %s", FWSEL_FUZZ_CERT, err ? err->message : "?");
    }
    g_ptr_array_add(certs, cert);
    image = fwselVarstoreEnroll(store, info, certs, notes, &len, &err);
    FUZZ_ASSERT(!(image && err), "an image and an error");
    if (!image)
        return;
    FUZZ_ASSERT(len == store->size, "the image is %zu bytes, the input %zu", len, store->size);
    FUZZ_ASSERT(memcmp(image, store->buf, start) == 0 &&
                memcmp(image + end, store->buf + end, len - end) == 0,
                "bytes outside the variable store changed");
    again = fwselVarstoreParse("enrolled", g_memdup2(image, len), len, &err);
    FUZZ_ASSERT(again, "the enrolled image does not read back: %s", err->message);
    againInfo = fwselVarstoreDecode(again, &err);
    FUZZ_ASSERT(againInfo, "the enrolled image does not decode: %s", err->message);
    kek = &againInfo->dbs[FWSEL_SIGDB_KEK];
    for (i = 0; kek->present && i < kek->sigs->len; i++) {
        const fwselSignature *sig = g_ptr_array_index(kek->sigs, i);

        if (sig->type == FWSEL_SIG_X509 && g_str_equal(sig->sha256, cert->sig->sha256))
            found = true;
    }
    FUZZ_ASSERT(found, "the certificate is not in the enrolled KEK");
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(fwselVarstore) store = NULL;
    g_autoptr(fwselVarstoreInfo) info = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *report = NULL;
    g_autofree char *summary = NULL;
    json_object *json;

    store = fwselVarstoreParse("guest_VARS.fd", g_memdup2(data, size), size, &err);
    FUZZ_ASSERT_ERROR_MATCHES(store == NULL, err);
    if (!store) {
        fuzzCheckText("error", err->message);
        return 0;
    }
    info = fwselVarstoreDecode(store, &err);
    FUZZ_ASSERT_ERROR_MATCHES(info == NULL, err);
    if (!info) {
        fuzzCheckText("error", err->message);
        return 0;
    }

    report = fwselVarstoreFormat(store, info);
    fuzzCheckText("report", report);
    summary = fwselVarstoreSummary(store, info);
    fuzzCheckText("summary", summary);
    json = fwselVarstoreToJSON(store, info);
    FUZZ_ASSERT(json && json_object_to_json_string(json), "no JSON");
    json_object_put(json);
    fuzzCheckFacts(store, info);
    fuzzCheckEnroll(store, info);
    return 0;
}
