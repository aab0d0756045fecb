/*
 * qemuconf.c: read the settings fwsel needs from libvirt's qemu.conf
 *
 * Pure: text in, settings out.  Reading the file is the catalog's job.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "fwsel-host.h"

/*
 * A reader for the subset of libvirt's configuration syntax qemu.conf
 * uses: "name = value" where value is a quoted string, a number or a
 * bracketed list of those, '#' comments, lists spanning lines.
 */
typedef struct {
    const char *file;
    const char *p;
    size_t line;
    GError **error;
} fwselConfReader;


static int G_GNUC_PRINTF(2, 3)
fwselConfError(fwselConfReader *r, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(r->error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                "%s:%zu: %s", r->file, r->line, msg);
    return -1;
}


static void
fwselConfSkipBlank(fwselConfReader *r, bool newlines)
{
    for (;;) {
        if (*r->p == '#') {
            while (*r->p && *r->p != '\n')
                r->p++;
        } else if (*r->p == '\n' && newlines) {
            r->line++;
            r->p++;
        } else if (*r->p == ' ' || *r->p == '\t' || *r->p == '\r') {
            r->p++;
        } else {
            return;
        }
    }
}


/* Reads one scalar; strings come back unquoted, numbers as text. */
static int
fwselConfReadScalar(fwselConfReader *r, char **out)
{
    const char *start;

    if (*r->p == '"' || *r->p == '\'') {
        char quote = *r->p++;

        start = r->p;
        while (*r->p && *r->p != quote && *r->p != '\n')
            r->p++;
        if (*r->p != quote)
            return fwselConfError(r, "unterminated string");
        *out = g_strndup(start, r->p - start);
        r->p++;
        return 0;
    }

    start = r->p;
    while (g_ascii_isdigit(*r->p) || (*r->p == '-' && r->p == start))
        r->p++;
    if (r->p == start)
        return fwselConfError(r, "expected a value");
    *out = g_strndup(start, r->p - start);
    return 0;
}


/* Reads a value: a scalar or a list.  Returns a NULL-terminated vector,
 * the line of each item in @lines, and sets *isList. */
static int
fwselConfReadValue(fwselConfReader *r, char ***out, GArray *lines, bool *isList)
{
    g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(g_free);
    char *item = NULL;

    *isList = false;
    if (*r->p != '[') {
        g_array_append_val(lines, r->line);
        if (fwselConfReadScalar(r, &item) < 0)
            return -1;
        g_ptr_array_add(items, item);
    } else {
        *isList = true;
        r->p++;
        for (;;) {
            fwselConfSkipBlank(r, true);
            if (*r->p == ']') {
                r->p++;
                break;
            }
            if (!*r->p)
                return fwselConfError(r, "unterminated list");
            g_array_append_val(lines, r->line);
            if (fwselConfReadScalar(r, &item) < 0)
                return -1;
            g_ptr_array_add(items, item);
            fwselConfSkipBlank(r, true);
            if (*r->p == ',')
                r->p++;
            else if (*r->p != ']')
                return fwselConfError(r, "expected ',' or ']' in list");
        }
    }
    g_ptr_array_add(items, NULL);
    *out = (char **) g_ptr_array_free(g_steal_pointer(&items), FALSE);
    return 0;
}


static int
fwselQemuConfApply(fwselHostSettings *settings,
                   fwselConfReader *r,
                   const char *name,
                   char **values,
                   GArray *lines,
                   bool isList)
{
    size_t i;

    if (g_str_equal(name, "user") || g_str_equal(name, "group")) {
        if (isList)
            return fwselConfError(r, "%s: expected a string, got a list", name);
        if (g_str_equal(name, "user")) {
            g_free(settings->qemuUser);
            settings->qemuUser = g_strdup(values[0]);
        } else {
            g_free(settings->qemuGroup);
            settings->qemuGroup = g_strdup(values[0]);
        }
        return 0;
    }

    if (!g_str_equal(name, "nvram"))
        return 0;

    if (!isList)
        return fwselConfError(r, "nvram: expected a list of \"CODE:VARS\" strings");

    fwselHostSettingsClearNvramPairs(settings);
    settings->nvramPairsFromConf = true;
    for (i = 0; values[i]; i++) {
        const char *colon = strchr(values[i], ':');

        if (!colon || colon == values[i] || !colon[1] ||
            values[i][0] != '/' || colon[1] != '/') {
            /* name the line the entry is on, not the end of the list */
            r->line = g_array_index(lines, size_t, i);
            return fwselConfError(r, "nvram: entry '%s' is not of the form \"/CODE:/VARS\"",
                                  values[i]);
        }
        {
            g_autofree char *loader = g_strndup(values[i], colon - values[i]);

            fwselHostSettingsAddNvramPair(settings, loader, colon + 1);
        }
    }
    return 0;
}


/**
 * fwselQemuConfParse:
 * @file: the file's name as the host sees it, for errors
 * @text: its contents
 *
 * Applies the settings fwsel needs from qemu.conf to @settings: the
 * legacy nvram list and the user and group QEMU runs as.  Everything
 * else is read (so that a syntax error anywhere is reported, as libvirt
 * would refuse to start) but not kept.
 */
int
fwselQemuConfParse(fwselHostSettings *settings,
                   const char *file,
                   const char *text,
                   GError **error)
{
    fwselConfReader r = { file, text, 1, error };

    for (;;) {
        g_auto(GStrv) values = NULL;
        g_autofree char *name = NULL;
        g_autoptr(GArray) lines = g_array_new(FALSE, FALSE, sizeof(size_t));
        const char *start;
        bool isList;

        fwselConfSkipBlank(&r, true);
        if (!*r.p)
            break;

        start = r.p;
        while (g_ascii_isalnum(*r.p) || *r.p == '_')
            r.p++;
        if (r.p == start)
            return fwselConfError(&r, "expected a setting name");
        name = g_strndup(start, r.p - start);

        fwselConfSkipBlank(&r, false);
        if (*r.p != '=')
            return fwselConfError(&r, "expected '=' after '%s'", name);
        r.p++;
        fwselConfSkipBlank(&r, false);

        if (fwselConfReadValue(&r, &values, lines, &isList) < 0)
            return -1;
        if (fwselQemuConfApply(settings, &r, name, values, lines, isList) < 0)
            return -1;

        fwselConfSkipBlank(&r, false);
        if (*r.p && *r.p != '\n')
            return fwselConfError(&r, "unexpected text after the value of '%s'", name);
    }
    return 0;
}
