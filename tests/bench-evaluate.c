/*
 * bench-evaluate.c: many domains through one loaded catalog, public
 * interface only (libfwsel.h, the shared library)
 *
 *   bench-evaluate [-n COUNT] [HOST_DIR]
 *
 * Loads the catalog of HOST_DIR (default $FWSEL_TESTS_DATA/hosts/
 * debian-bookworm) once, without probing QEMU, then times COUNT (default
 * 1000) rounds of fwselRequestParse + fwselEvaluate +
 * fwselResultFormatDomain + frees over a mix of domains (Secure Boot on
 * and off, aarch64, i440fx, BIOS, no firmware, no match, invalid) with
 * CLOCK_MONOTONIC around the loop only.  Prints
 *
 *   bench-evaluate: COUNT evaluations in MS ms (US us each)
 *
 * A benchmark, not a test: no time limit is checked.  It exits 1 only
 * when an outcome is not the expected one (a benchmark of wrong answers
 * measures nothing), 2 on bad usage or an unreadable host.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "libfwsel.h"

/* The mix of requests, each with whether a descriptor must be selected
 * for it on the Debian bookworm host tree.  Which outcome the others get
 * (no match, invalid, nothing, BIOS) is the tests' business (test-api.c,
 * the golden cases): here every timed round must only give the outcome
 * the untimed warm-up gave. */
static const struct {
    const char *xml;
    bool selects;
} benchCases[] = {
    /* enrolled Secure Boot, machine type alias */
    { "<domain type='kvm'><name>bench-sb-enrolled</name><os firmware='efi'>"
      "<type arch='x86_64' machine='q35'>hvm</type>"
      "<firmware><feature enabled='yes' name='secure-boot'/>"
      "<feature enabled='yes' name='enrolled-keys'/></firmware></os>"
      "<features><acpi/><smm state='on'/></features></domain>",
      true },
    /* Secure Boot without enrolled keys */
    { "<domain type='kvm'><name>bench-sb-nokeys</name><os firmware='efi'>"
      "<type arch='x86_64' machine='pc-q35-7.2'>hvm</type>"
      "<firmware><feature enabled='yes' name='secure-boot'/>"
      "<feature enabled='no' name='enrolled-keys'/></firmware></os>"
      "<features><acpi/><smm state='on'/></features></domain>",
      true },
    /* no Secure Boot (Nova's request) */
    { "<domain type='kvm'><name>bench-nosb</name><os firmware='efi'>"
      "<type arch='x86_64' machine='q35'>hvm</type><loader secure='no'/>"
      "<firmware><feature enabled='no' name='secure-boot'/></firmware>"
      "<boot dev='hd'/></os><features><acpi/></features>"
      "<devices><console type='pty'/></devices></domain>",
      true },
    /* plain efi on i440fx */
    { "<domain type='kvm'><name>bench-i440fx</name><os firmware='efi'>"
      "<type arch='x86_64' machine='pc-i440fx-7.2'>hvm</type></os>"
      "<features><acpi/></features></domain>",
      true },
    /* aarch64 */
    { "<domain type='kvm'><name>bench-aarch64</name><os firmware='efi'>"
      "<type arch='aarch64' machine='virt'>hvm</type></os>"
      "<features><acpi/></features></domain>",
      true },
    /* BIOS asked for: no BIOS descriptor on Debian */
    { "<domain type='kvm'><name>bench-bios</name><os firmware='bios'>"
      "<type arch='x86_64' machine='pc'>hvm</type></os></domain>",
      false },
    /* no firmware requested at all */
    { "<domain type='kvm'><name>bench-nothing</name><os>"
      "<type arch='x86_64' machine='pc'>hvm</type></os></domain>",
      false },
    /* no match: no riscv64 firmware on the host */
    { "<domain type='kvm'><name>bench-riscv</name><os firmware='efi'>"
      "<type arch='riscv64' machine='virt'>hvm</type></os>"
      "<features><acpi/></features></domain>",
      false },
    /* no match: Secure Boot builds are for q35 only */
    { "<domain type='kvm'><name>bench-sb-i440fx</name><os firmware='efi'>"
      "<type arch='x86_64' machine='pc'>hvm</type>"
      "<firmware><feature enabled='yes' name='secure-boot'/></firmware></os>"
      "<features><acpi/><smm state='on'/></features></domain>",
      false },
    /* a request that contradicts itself: keys without Secure Boot */
    { "<domain type='kvm'><name>bench-contradiction</name><os firmware='efi'>"
      "<type arch='x86_64' machine='q35'>hvm</type>"
      "<firmware><feature enabled='no' name='secure-boot'/>"
      "<feature enabled='yes' name='enrolled-keys'/></firmware></os>"
      "<features><acpi/></features></domain>",
      false },
};


/* One round: parse, evaluate, format, free.  Returns the outcome, or
 * FWSEL_OUTCOME_LAST when the request does not parse or the formatting
 * of a selection fails. */
static fwselOutcome
benchOne(const fwselCatalog *catalog, const char *xml)
{
    g_autoptr(fwselRequest) req = fwselRequestParse(catalog, xml, -1, NULL);
    g_autoptr(fwselResult) result = NULL;
    g_autofree char *filled = NULL;
    fwselOutcome outcome;

    if (!req)
        return FWSEL_OUTCOME_LAST;
    result = fwselEvaluate(catalog, req);
    outcome = fwselResultGetOutcome(result);
    filled = fwselResultFormatDomain(result, req, FWSEL_FORM_RECORDED, NULL);
    if (!filled && outcome != FWSEL_OUTCOME_NO_MATCH && outcome != FWSEL_OUTCOME_INVALID)
        return FWSEL_OUTCOME_LAST;
    return outcome;
}


static double
benchNowMs(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}


int
main(int argc, char **argv)
{
    g_autoptr(fwselHostOptions) opts = fwselHostOptionsNew();
    g_autoptr(fwselCatalog) catalog = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *host = NULL;
    const char *data = g_getenv("FWSEL_TESTS_DATA");
    long count = 1000;
    fwselOutcome expected[G_N_ELEMENTS(benchCases)];
    size_t wrong = 0;
    size_t selected = 0;
    double start, total;
    long i;
    int argi = 1;

    if (argi + 1 < argc && g_str_equal(argv[argi], "-n")) {
        char *end;

        count = strtol(argv[argi + 1], &end, 10);
        if (*end || count <= 0) {
            fprintf(stderr, "bench-evaluate: -n needs a positive number\n");
            return 2;
        }
        argi += 2;
    }
    if (argi < argc && argv[argi][0] != '-') {
        host = g_strdup(argv[argi++]);
    } else if (data) {
        host = g_build_filename(data, "hosts", "debian-bookworm", NULL);
    }
    if (argi != argc || !host) {
        fprintf(stderr, "usage: bench-evaluate [-n COUNT] [HOST_DIR]\n"
                        "  (HOST_DIR defaults to $FWSEL_TESTS_DATA/hosts/debian-bookworm)\n");
        return 2;
    }

    if (fwselHostOptionsSetRoot(opts, host, &err) < 0 ||
        (fwselHostOptionsSetProbe(opts, false),
         !(catalog = fwselCatalogLoad(opts, &err)))) {
        fprintf(stderr, "bench-evaluate: %s: %s\n", host, err ? err->message : "cannot load");
        return 2;
    }

    /* warm-up, untimed: each case once, checking that it selects or not */
    for (i = 0; i < (long) G_N_ELEMENTS(benchCases); i++) {
        expected[i] = benchOne(catalog, benchCases[i].xml);

        if (expected[i] == FWSEL_OUTCOME_LAST ||
            (expected[i] == FWSEL_OUTCOME_SELECTED) != benchCases[i].selects) {
            fprintf(stderr, "bench-evaluate: case %ld: outcome %s, expected %s\n", i,
                    expected[i] == FWSEL_OUTCOME_LAST ? "(failed)"
                    : fwselOutcomeTypeToString(expected[i]),
                    benchCases[i].selects ? "selected" : "no selection");
            wrong++;
        }
    }
    if (wrong)
        return 1;

    start = benchNowMs();
    for (i = 0; i < count; i++) {
        size_t c = i % G_N_ELEMENTS(benchCases);

        fwselOutcome got = benchOne(catalog, benchCases[c].xml);

        if (got != expected[c])
            wrong++;
        else if (got == FWSEL_OUTCOME_SELECTED)
            selected++;
    }
    total = benchNowMs() - start;

    if (wrong) {
        fprintf(stderr, "bench-evaluate: %zu of %ld outcomes differ from the warm-up's\n",
                wrong, count);
        return 1;
    }
    printf("bench-evaluate: %ld evaluations in %.3f ms (%.1f us each; %zu selected firmware)\n",
           count, total, total * 1e3 / count, selected);
    return 0;
}
