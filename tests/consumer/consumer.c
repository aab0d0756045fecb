/*
 * consumer.c: a program using the installed libfwsel, built with
 * pkg-config by scripts/test-installed (not by meson: it must see only
 * what the libfwsel-dev package installs)
 *
 *   cc consumer.c $(pkg-config --cflags --libs libfwsel) -o consumer
 *   ./consumer HOST-TREE DOMAIN.xml
 *
 * Loads the host tree's catalog, evaluates the domain and prints the
 * outcome, the chosen descriptor and one line per verdict; exit 0 when a
 * descriptor was selected, 1 otherwise, 2 on bad input.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdio.h>

#include <libfwsel.h>

int
main(int argc, char **argv)
{
    g_autoptr(fwselHostOptions) opts = fwselHostOptionsNew();
    g_autoptr(fwselCatalog) catalog = NULL;
    g_autoptr(fwselRequest) req = NULL;
    g_autoptr(fwselResult) result = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *xml = NULL;
    gsize len;
    size_t i;

    if (argc != 3) {
        fprintf(stderr, "usage: consumer HOST-TREE DOMAIN.xml\n");
        return 2;
    }
    printf("libfwsel %s\n", fwselVersion());
    fwselHostOptionsSetProbe(opts, false);
    if (fwselHostOptionsSetRoot(opts, argv[1], &err) < 0 ||
        !(catalog = fwselCatalogLoad(opts, &err)) ||
        !g_file_get_contents(argv[2], &xml, &len, &err) ||
        !(req = fwselRequestParse(catalog, xml, (gssize) len, &err))) {
        fprintf(stderr, "consumer: %s\n", err->message);
        return 2;
    }
    result = fwselEvaluate(catalog, req);
    printf("outcome: %s\n", fwselOutcomeTypeToString(fwselResultGetOutcome(result)));
    if (fwselResultGetDescriptor(result))
        printf("descriptor: %s\n", fwselResultGetDescriptor(result));
    for (i = 0; i < fwselResultGetVerdictCount(result); i++)
        printf("  %s: %s\n", fwselResultGetVerdictPath(result, i),
               fwselVerdictKindTypeToString(fwselResultGetVerdictKind(result, i)));
    return fwselResultGetOutcome(result) == FWSEL_OUTCOME_SELECTED ? 0 : 1;
}
