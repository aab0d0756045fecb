/*
 * nvram-helper.c: runs one varstore copy for test-nvram, with the test
 * hook armed, so the test can kill it at any step
 *
 *   nvram-helper create|reset|remove TEMPLATE SRCFMT DIR NAME DSTFMT [OPTIONS]
 *     (remove deletes DIR/NAME as "virt-fwsel nvram remove" does for a
 *     domain whose varstore it is; TEMPLATE names the domain's template)
 *     --kill-at N     SIGKILL itself at the Nth step (1-based)
 *     --delay US      sleep US microseconds at every step
 *     --barrier W,R   at the "synced" step (the file is complete, not yet
 *                     linked; remove: before it starts) write a byte to
 *                     fd W and wait for one on R
 *     --owner U:G     chown the new file (as root)
 *     --backup        reset: keep the old file
 *     --incoming      create: as a migration destination (an existing
 *                     file is an error)
 *
 * Every step reached is written to stdout ("step NAME") before anything
 * else happens at it; the last line is "result NAME" or, on error,
 * "error CODE MESSAGE" (exit 1).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fwsel.h"

typedef struct {
    unsigned int step;
    unsigned int killAt;
    unsigned int delayUs;
    int barrierW;
    int barrierR;
} nvramHelperState;


static void
nvramHelperSay(const char *line)
{
    g_autofree char *text = g_strdup_printf("%s\n", line);
    size_t len = strlen(text);
    const char *p = text;

    /* unbuffered: a SIGKILL must not lose what was reached */
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, p, len);

        if (n <= 0)
            return;
        p += n;
        len -= n;
    }
}


static void
nvramHelperBarrier(nvramHelperState *st)
{
    char c = 'x';

    if (write(st->barrierW, &c, 1) != 1 || read(st->barrierR, &c, 1) != 1)
        abort();
}


static void
nvramHelperHook(const char *step, void *opaque)
{
    nvramHelperState *st = opaque;
    g_autofree char *line = g_strdup_printf("step %s", step);

    st->step++;
    nvramHelperSay(line);
    if (st->killAt && st->step == st->killAt)
        kill(getpid(), SIGKILL);
    if (st->delayUs)
        g_usleep(st->delayUs);
    if (st->barrierW >= 0 && g_str_equal(step, "synced"))
        nvramHelperBarrier(st);
}


static fwselFormat
nvramHelperFormat(const char *name)
{
    int f = fwselFormatTypeFromString(name);

    if (f <= FWSEL_FORMAT_NONE) {
        fprintf(stderr, "nvram-helper: unknown format '%s'\n", name);
        exit(2);
    }
    return f;
}


/* remove: a domain whose varstore is DIR/NAME, made from TEMPLATE, on
 * this host (root "/", NVRAM directory DIR) */
static int
nvramHelperRemove(const char *tmpl, const char *dir, const char *name, GError **error)
{
    g_autoptr(fwselHostOptions) opts = fwselHostOptionsNew();
    g_autoptr(fwselCatalog) catalog = NULL;
    g_autoptr(fwselDomain) dom = fwselDomainNew();

    fwselHostOptionsSetProbe(opts, false);
    if (fwselHostOptionsSetNvramDir(opts, dir, error) < 0 ||
        !(catalog = fwselCatalogLoad(opts, error)))
        return -1;
    dom->name = g_strdup("g");
    dom->nvram.present = true;
    dom->nvram.templatePath = g_strdup(tmpl);
    dom->nvram.path = g_build_filename(dir, name, NULL);
    return fwselNvramRemove(catalog, dom, 0, error);
}


int
main(int argc, char **argv)
{
    nvramHelperState st = { 0, 0, 0, -1, -1 };
    fwselNvramOwner owner = { 0 };
    g_autoptr(GError) err = NULL;
    g_autofree char *backup = NULL;
    g_autofree char *line = NULL;
    unsigned int flags = 0;
    int ret;
    int i;

    if (argc < 7) {
        fprintf(stderr, "usage: nvram-helper create|reset TEMPLATE SRCFMT DIR NAME DSTFMT "
                        "[OPTIONS]\n");
        return 2;
    }

    for (i = 7; i < argc; i++) {
        if (g_str_equal(argv[i], "--kill-at") && i + 1 < argc) {
            st.killAt = atoi(argv[++i]);
        } else if (g_str_equal(argv[i], "--delay") && i + 1 < argc) {
            st.delayUs = atoi(argv[++i]);
        } else if (g_str_equal(argv[i], "--barrier") && i + 1 < argc) {
            if (sscanf(argv[++i], "%d,%d", &st.barrierW, &st.barrierR) != 2)
                return 2;
        } else if (g_str_equal(argv[i], "--owner") && i + 1 < argc) {
            if (fwselNvramOwnerParse(argv[++i], &owner, &err) < 0) {
                fprintf(stderr, "nvram-helper: %s\n", err->message);
                return 2;
            }
        } else if (g_str_equal(argv[i], "--backup")) {
            flags |= FWSEL_NVRAM_BACKUP;
        } else if (g_str_equal(argv[i], "--incoming")) {
            flags |= FWSEL_NVRAM_INCOMING;
        } else {
            fprintf(stderr, "nvram-helper: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }

    if (g_str_equal(argv[1], "reset"))
        flags |= FWSEL_NVRAM_REPLACE;
    else if (!g_str_equal(argv[1], "create") && !g_str_equal(argv[1], "remove"))
        return 2;

    fwselNvramSetTestHook(nvramHelperHook, &st);
    if (g_str_equal(argv[1], "remove")) {
        if (st.barrierW >= 0)
            nvramHelperBarrier(&st);
        ret = nvramHelperRemove(argv[2], argv[4], argv[5], &err);
    }
    else
        ret = fwselNvramCopy(argv[2], nvramHelperFormat(argv[3]), argv[4], argv[5],
                             nvramHelperFormat(argv[6]), &owner, flags, &backup, &err);
    fwselNvramSetTestHook(NULL, NULL);

    if (ret < 0) {
        line = g_strdup_printf("error %d %s", err->code, err->message);
        nvramHelperSay(line);
        return 1;
    }
    line = g_strdup_printf("result %s", fwselNvramResultTypeToString(ret));
    nvramHelperSay(line);
    if (backup) {
        g_autofree char *b = g_strdup_printf("backup %s", backup);

        nvramHelperSay(b);
    }
    return 0;
}
