/*
 * test-api.c: libfwsel through its public interface only (libfwsel.h,
 * linked against the shared library and its symbol map)
 *
 * - every call that takes a GError ** accepts NULL, also on "no match";
 * - one catalog serves 1,000 evaluations with the same answers;
 * - 8 threads evaluate against one shared catalog at the same time
 *   (run under -Db_sanitize=thread by scripts/run-tests).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <pthread.h>
#include <string.h>

#include "libfwsel.h"

#define NTHREADS 8
#define PER_THREAD 125

static char *testHost;

/* Requests against the Debian bookworm host tree, each with what it must
 * get (a descriptor file name, or NULL for "no match") */
static const struct {
    const char *name;
    const char *xml;
    fwselOutcome outcome;
    const char *descriptorSuffix;
} apiCases[] = {
    { "efi-secure-boot",
      "<domain type='qemu'><name>a</name><os firmware='efi'>"
      "<type arch='x86_64' machine='q35'>hvm</type>"
      "<firmware><feature enabled='yes' name='secure-boot'/>"
      "<feature enabled='yes' name='enrolled-keys'/></firmware></os>"
      "<features><acpi/><smm state='on'/></features></domain>",
      FWSEL_OUTCOME_SELECTED, "/40-edk2-x86_64-secure-enrolled.json" },
    { "efi-no-secure-boot",
      "<domain type='qemu'><name>b</name><os firmware='efi'>"
      "<type arch='x86_64' machine='pc-q35-7.2'>hvm</type>"
      "<firmware><feature enabled='no' name='secure-boot'/></firmware></os>"
      "<features><acpi/></features></domain>",
      FWSEL_OUTCOME_SELECTED, "/60-edk2-x86_64.json" },
    { "efi-aarch64",
      "<domain type='qemu'><name>c</name><os firmware='efi'>"
      "<type arch='aarch64' machine='virt'>hvm</type></os>"
      "<features><acpi/></features></domain>",
      FWSEL_OUTCOME_SELECTED, NULL },
    { "no-match",
      "<domain type='qemu'><name>d</name><os firmware='efi'>"
      "<type arch='riscv64' machine='virt'>hvm</type></os></domain>",
      FWSEL_OUTCOME_NO_MATCH, NULL },
    { "bios",
      "<domain type='qemu'><name>e</name><os>"
      "<type arch='x86_64' machine='pc'>hvm</type></os></domain>",
      FWSEL_OUTCOME_NOTHING, NULL },
};


static fwselCatalog *
apiCatalog(void)
{
    g_autoptr(fwselHostOptions) opts = fwselHostOptionsNew();

    g_assert_cmpint(fwselHostOptionsSetRoot(opts, testHost, NULL), ==, 0);
    fwselHostOptionsSetProbe(opts, false);
    return fwselCatalogLoad(opts, NULL);
}


/* The answer of one evaluation, as a string to compare runs by */
static char *
apiAnswer(const fwselCatalog *catalog, size_t i)
{
    g_autoptr(fwselRequest) req = fwselRequestParse(catalog, apiCases[i].xml, -1, NULL);
    g_autoptr(fwselResult) result = NULL;
    g_autofree char *filled = NULL;
    g_autoptr(GString) out = g_string_new(NULL);
    size_t n;

    if (!req)
        return g_strdup("unparsable");
    result = fwselEvaluate(catalog, req);
    g_string_append_printf(out, "%s %s\n",
                           fwselOutcomeTypeToString(fwselResultGetOutcome(result)),
                           fwselResultGetDescriptor(result) ? fwselResultGetDescriptor(result) : "-");
    for (n = 0; n < fwselResultGetVerdictCount(result); n++) {
        const char *rule = fwselResultGetVerdictRule(result, n);
        const char *reason = fwselResultGetVerdictReason(result, n);

        g_string_append_printf(out, "%s %s %s %s\n",
                               fwselResultGetVerdictPath(result, n),
                               fwselVerdictKindTypeToString(fwselResultGetVerdictKind(result, n)),
                               rule ? rule : "-", reason ? reason : "-");
    }
    if ((filled = fwselResultFormatDomain(result, req, FWSEL_FORM_RECORDED, NULL)))
        g_string_append(out, filled);
    return g_string_free(g_steal_pointer(&out), FALSE);
}


static void
testOutcomes(void)
{
    g_autoptr(fwselCatalog) catalog = apiCatalog();
    size_t i;

    g_assert_nonnull(catalog);
    for (i = 0; i < G_N_ELEMENTS(apiCases); i++) {
        g_autoptr(fwselRequest) req = fwselRequestParse(catalog, apiCases[i].xml, -1, NULL);
        g_autoptr(fwselResult) result = NULL;
        const char *desc;

        g_test_message("case %s", apiCases[i].name);
        g_assert_nonnull(req);
        result = fwselEvaluate(catalog, req);
        g_assert_nonnull(result);
        g_assert_cmpstr(fwselOutcomeTypeToString(fwselResultGetOutcome(result)), ==,
                        fwselOutcomeTypeToString(apiCases[i].outcome));
        desc = fwselResultGetDescriptor(result);
        if (apiCases[i].outcome == FWSEL_OUTCOME_SELECTED)
            g_assert_nonnull(desc);
        else
            g_assert_null(desc);
        if (apiCases[i].descriptorSuffix)
            g_assert_true(g_str_has_suffix(desc, apiCases[i].descriptorSuffix));
    }
}


/* "No firmware matches" with NULL for every GError **: the outcome says
 * so, the calls return failure, nothing crashes */
static void
testNullErrorNoMatch(void)
{
    g_autoptr(fwselCatalog) catalog = apiCatalog();
    g_autoptr(fwselRequest) req = NULL;
    g_autoptr(fwselResult) result = NULL;
    g_autoptr(GError) err = NULL;
    size_t i, n;
    size_t noMatch = 0;

    for (i = 0; i < G_N_ELEMENTS(apiCases); i++) {
        if (apiCases[i].outcome == FWSEL_OUTCOME_NO_MATCH)
            noMatch = i;
    }
    req = fwselRequestParse(catalog, apiCases[noMatch].xml, -1, NULL);
    g_assert_nonnull(req);
    result = fwselEvaluate(catalog, req);
    g_assert_cmpint(fwselResultGetOutcome(result), ==, FWSEL_OUTCOME_NO_MATCH);
    g_assert_false(fwselResultCheck(result, NULL));
    g_assert_null(fwselResultFormatDomain(result, req, FWSEL_FORM_RECORDED, NULL));
    g_assert_null(fwselResultFormatDomain(result, req, FWSEL_FORM_PINNED, NULL));

    /* every descriptor has a verdict; every effective one was rejected
     * by a named rule, with a reason */
    n = fwselResultGetVerdictCount(result);
    g_assert_cmpuint(n, >, 0);
    for (i = 0; i < n; i++) {
        if (fwselResultGetVerdictKind(result, i) != FWSEL_VERDICT_REJECTED)
            continue;
        g_assert_nonnull(fwselResultGetVerdictRule(result, i));
        g_assert_nonnull(fwselResultGetVerdictReason(result, i));
    }
    g_assert_null(fwselResultGetVerdictPath(result, n));

    /* with a GError, the same failure in words */
    g_assert_false(fwselResultCheck(result, &err));
    g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_NOMATCH);
    g_assert_nonnull(strstr(err->message, "riscv64"));
}


/* Every failing call, NULL for its GError ** */
static void
testNullErrorEverywhere(void)
{
    g_autoptr(fwselHostOptions) opts = fwselHostOptionsNew();
    g_autoptr(fwselCatalog) catalog = apiCatalog();
    g_autofree char *missing = g_build_filename(testHost, "no-such-dir", NULL);

    g_assert_cmpint(fwselHostOptionsSetRoot(opts, "", NULL), <, 0);
    g_assert_cmpint(fwselHostOptionsSetRoot(opts, missing, NULL), ==, 0);
    g_assert_null(fwselCatalogLoad(opts, NULL));
    g_assert_cmpint(fwselHostOptionsSetNvramDir(opts, "relative/dir", NULL), <, 0);
    g_assert_cmpint(fwselHostOptionsAddMachineAlias(opts, "no-equals-sign", NULL), <, 0);
    g_assert_null(fwselCatalogLoad(NULL, NULL));

    g_assert_null(fwselRequestParse(catalog, "<domain><os>", -1, NULL));
    g_assert_null(fwselRequestParse(catalog, "", 0, NULL));
    g_assert_null(fwselRequestParse(catalog, NULL, -1, NULL));
    g_assert_null(fwselRequestParse(NULL, apiCases[0].xml, -1, NULL));
    g_assert_null(fwselRequestParse(catalog,
                                    "<domain><os firmware='uefi'><type>hvm</type></os></domain>",
                                    -1, NULL));
    g_assert_null(fwselEvaluate(NULL, NULL));
    g_assert_false(fwselResultCheck(NULL, NULL));
    g_assert_null(fwselResultFormatDomain(NULL, NULL, FWSEL_FORM_RECORDED, NULL));
    g_assert_cmpuint(fwselResultGetVerdictCount(NULL), ==, 0);
    g_assert_null(fwselResultGetDescriptor(NULL));

    fwselHostOptionsFree(NULL);
    fwselCatalogFree(NULL);
    fwselRequestFree(NULL);
    fwselResultFree(NULL);
}


/* One catalog, 1,000 evaluations: the same answers as the first time */
static void
testReuse(void)
{
    g_autoptr(fwselCatalog) catalog = apiCatalog();
    g_auto(GStrv) first = g_new0(char *, G_N_ELEMENTS(apiCases) + 1);
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(apiCases); i++)
        first[i] = apiAnswer(catalog, i);
    for (i = 0; i < 1000; i++) {
        size_t c = i % G_N_ELEMENTS(apiCases);
        g_autofree char *again = apiAnswer(catalog, c);

        g_assert_cmpstr(again, ==, first[c]);
    }
}


static pthread_barrier_t apiStart;

typedef struct {
    const fwselCatalog *catalog;
    char **expected;
    unsigned int seed;
    size_t mismatches;
} apiThread;


static void *
apiThreadRun(void *opaque)
{
    apiThread *t = opaque;
    size_t i;

    pthread_barrier_wait(&apiStart);
    for (i = 0; i < PER_THREAD; i++) {
        size_t c = (i + t->seed) % G_N_ELEMENTS(apiCases);
        g_autofree char *answer = apiAnswer(t->catalog, c);

        if (!g_str_equal(answer, t->expected[c]))
            t->mismatches++;
    }
    return NULL;
}


/* 8 threads, one catalog, at the same time (machine type aliases are
 * looked up on demand: the first lookups race for the catalog's table) */
static void
testThreads(void)
{
    g_autoptr(fwselCatalog) catalog = apiCatalog();
    g_autoptr(fwselCatalog) reference = apiCatalog();
    g_auto(GStrv) expected = g_new0(char *, G_N_ELEMENTS(apiCases) + 1);
    pthread_t tid[NTHREADS];
    apiThread state[NTHREADS];
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(apiCases); i++)
        expected[i] = apiAnswer(reference, i);

    g_assert_cmpint(pthread_barrier_init(&apiStart, NULL, NTHREADS), ==, 0);
    for (i = 0; i < NTHREADS; i++) {
        state[i] = (apiThread) { catalog, expected, (unsigned int) i, 0 };
        g_assert_cmpint(pthread_create(&tid[i], NULL, apiThreadRun, &state[i]), ==, 0);
    }
    for (i = 0; i < NTHREADS; i++) {
        g_assert_cmpint(pthread_join(tid[i], NULL), ==, 0);
        g_assert_cmpuint(state[i].mismatches, ==, 0);
    }
    pthread_barrier_destroy(&apiStart);
}


/* Whose rules: Nova's "no Secure Boot" XML is refused by libvirt 9.0
 * (loader secure='no' beside firmware=) and served by 9.2 and later */
static void
testContract(void)
{
    static const char *nova =
        "<domain type='qemu'><name>nova</name><os firmware='efi'>"
        "<type arch='x86_64' machine='q35'>hvm</type><loader secure='no'/>"
        "<firmware><feature enabled='no' name='secure-boot'/></firmware></os>"
        "<features><acpi/></features></domain>";
    static const struct {
        const char *version;
        fwselPolicy policy;
        fwselOutcome outcome;
    } cases[] = {
        { "9.0", FWSEL_POLICY_LIBVIRT, FWSEL_OUTCOME_INVALID },
        { "9.1.0", FWSEL_POLICY_LIBVIRT, FWSEL_OUTCOME_INVALID },
        { "11.3.0", FWSEL_POLICY_LIBVIRT, FWSEL_OUTCOME_SELECTED },
        { "12.0", FWSEL_POLICY_SAFE, FWSEL_OUTCOME_SELECTED },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(fwselHostOptions) opts = fwselHostOptionsNew();
        g_autoptr(fwselCatalog) catalog = NULL;
        g_autoptr(fwselRequest) req = NULL;
        g_autoptr(fwselResult) result = NULL;

        g_assert_cmpint(fwselHostOptionsSetRoot(opts, testHost, NULL), ==, 0);
        fwselHostOptionsSetProbe(opts, false);
        g_assert_cmpint(fwselHostOptionsSetLibvirt(opts, cases[i].version, NULL), ==, 0);
        fwselHostOptionsSetPolicy(opts, cases[i].policy);
        catalog = fwselCatalogLoad(opts, NULL);
        g_assert_nonnull(catalog);
        req = fwselRequestParse(catalog, nova, -1, NULL);
        result = fwselEvaluate(catalog, req);
        g_assert_cmpstr(fwselOutcomeTypeToString(fwselResultGetOutcome(result)), ==,
                        fwselOutcomeTypeToString(cases[i].outcome));
    }

    {
        g_autoptr(fwselHostOptions) opts = fwselHostOptionsNew();

        g_assert_cmpint(fwselHostOptionsSetLibvirt(opts, "nine", NULL), <, 0);
        g_assert_cmpint(fwselHostOptionsSetLibvirt(opts, "9", NULL), <, 0);
        g_assert_cmpint(fwselHostOptionsSetLibvirt(opts, NULL, NULL), ==, 0);
        g_assert_cmpstr(fwselPolicyTypeToString(FWSEL_POLICY_SAFE), ==, "safe");
        g_assert_cmpint(fwselPolicyTypeFromString("libvirt"), ==, FWSEL_POLICY_LIBVIRT);
    }
}


static void
testVersion(void)
{
    g_assert_cmpstr(fwselVersion(), ==, FWSEL_VERSION);
}


int
main(int argc, char **argv)
{
    const char *data = g_getenv("FWSEL_TESTS_DATA");

    g_test_init(&argc, &argv, NULL);
    if (!data) {
        g_printerr("FWSEL_TESTS_DATA is not set\n");
        return 2;
    }
    testHost = g_build_filename(data, "hosts", "debian-bookworm", NULL);

    g_test_add_func("/api/outcomes", testOutcomes);
    g_test_add_func("/api/null-error/no-match", testNullErrorNoMatch);
    g_test_add_func("/api/null-error/everywhere", testNullErrorEverywhere);
    g_test_add_func("/api/reuse-1000", testReuse);
    g_test_add_func("/api/threads", testThreads);
    g_test_add_func("/api/version", testVersion);
    g_test_add_func("/api/contract", testContract);
    return g_test_run();
}
