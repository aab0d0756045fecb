/*
 * fuzz-varstore.c: the edk2 varstore reader behind virt-fwsel nvram
 * inspect (a varstore is written by the guest's firmware, and the guest
 * is not trusted)
 *
 * Invariants: a store or an error, never both or neither (the same for
 * the decoded Secure Boot state); the report, its summary and its JSON
 * form can be made from whatever was read; the report is UTF-8 without
 * control characters other than newlines (it goes to an administrator's
 * terminal).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "fuzz-common.h"
#include "fwsel-varstore.h"


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
    return 0;
}
