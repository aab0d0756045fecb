/*
 * cli-audit.c: virt-fwsel nvram audit, the Secure Boot keys of every
 * defined domain, one line each
 *
 * The domains come from libvirt (virt-fwsel-libvirt, cli-define.c) or,
 * offline, from the persistent definitions in /etc/libvirt/qemu (under
 * --root).  Each goes through selection as libvirt would (so a bare
 * firmware='efi' gets the varstore path libvirt gives it), then its
 * varstore, or the template it will be made from, is read and judged
 * (fwsel-sbfacts.h).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "virt-fwsel.h"
#include "fwsel-sbfacts.h"

/* libvirt's directory of persistent definitions (system daemon) */
#define FWSEL_LIBVIRT_QEMU_DIR "/etc/libvirt/qemu"
#define FWSEL_AUDIT_XML_MAX (8 * 1024 * 1024)


void
fwselCliAuditDomainFree(fwselCliAuditDomain *d)
{
    if (!d)
        return;
    g_free(d->name);
    g_free(d->state);
    fwselDomainXMLFree(d->doc);
    g_free(d->error);
    g_free(d);
}


static gint
fwselCliAuditCompare(gconstpointer a, gconstpointer b)
{
    const fwselCliAuditDomain *x = *(fwselCliAuditDomain *const *) a;
    const fwselCliAuditDomain *y = *(fwselCliAuditDomain *const *) b;

    return strcmp(x->name, y->name);
}


/* What one domain's audit found */
typedef struct {
    const char *kind;           /* "varstore", "template", "none", "error" */
    char *path;
    char *text;                 /* facts, or why there are none */
    fwselSbFacts *facts;
    bool attention;
    GPtrArray *why;             /* char *: attention reasons */
} fwselCliAuditRow;


static void
fwselCliAuditRowClear(fwselCliAuditRow *row)
{
    g_free(row->path);
    g_free(row->text);
    fwselSbFactsFree(row->facts);
    if (row->why)
        g_ptr_array_unref(row->why);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(fwselCliAuditRow, fwselCliAuditRowClear);


static void
fwselCliAuditProblem(fwselCliAuditRow *row, const char *kind, char *text)
{
    row->kind = kind;
    row->text = text;
    row->attention = true;
    g_ptr_array_add(row->why, g_strdup(text));
}


/* Why a domain has no varstore */
static char *
fwselCliAuditNoVarstore(const fwselDomain *dom)
{
    if (dom->nvram.source == FWSEL_NVRAM_SOURCE_NETWORK)
        return g_strdup("varstore on a network <source>: not audited");
    if (dom->loader.stateless == FWSEL_TRISTATE_YES)
        return g_strdup("stateless firmware: no varstore");
    if (dom->firmware == FWSEL_FIRMWARE_BIOS || !dom->loader.present || !dom->loader.path)
        return g_strdup("BIOS: no varstore");
    if (dom->loader.type == FWSEL_LOADER_TYPE_ROM)
        return g_strdup("ROM firmware: no varstore");
    return g_strdup("no varstore");
}


/* Reads and judges the file at @path */
static void
fwselCliAuditFile(const fwselCatalog *catalog, const char *path, const char *at,
                  const char *kind, fwselCliAuditRow *row)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(fwselVarstore) store = NULL;
    g_autoptr(fwselVarstoreInfo) info = NULL;
    guint i;

    row->path = g_strdup(path);
    if (!(store = fwselVarstoreRead(catalog->root, path, &err)) ||
        !(info = fwselVarstoreDecode(store, &err))) {
        fwselCliAuditProblem(row, "error", g_strdup_printf("cannot read the %s: %s", kind,
                                                           err->message));
        return;
    }
    row->kind = kind;
    row->facts = fwselSbFactsGet(store, info, at);
    row->text = fwselSbFactsFormat(row->facts);
    for (i = 0; i < row->facts->attention->len; i++)
        g_ptr_array_add(row->why, g_strdup(g_ptr_array_index(row->facts->attention, i)));
    row->attention = row->why->len > 0;
}


static void
fwselCliAuditOne(const fwselCatalog *catalog, const fwselCliAuditDomain *d, const char *at,
                 fwselCliAuditRow *row)
{
    g_autoptr(fwselRequest) req = NULL;
    g_autoptr(fwselResult) result = NULL;
    g_autoptr(GError) err = NULL;
    const fwselDomain *dom;
    fwselPathFact fact = { 0 };
    bool missing;

    row->why = g_ptr_array_new_with_free_func(g_free);
    if (d->error) {
        fwselCliAuditProblem(row, "error", g_strdup(d->error));
        return;
    }
    req = fwselRequestNew(catalog, fwselDomainXMLGetDomain(d->doc));
    result = fwselEvaluate(catalog, req);
    if (fwselResultFailed(result)) {
        const fwselDomain *asked = fwselDomainXMLGetDomain(d->doc);
        g_autofree char *first = NULL;

        /* a domain that has no varstore whatever firmware it gets */
        if (asked->loader.stateless == FWSEL_TRISTATE_YES ||
            asked->firmware == FWSEL_FIRMWARE_BIOS) {
            g_autofree char *none = fwselCliAuditNoVarstore(asked);

            row->kind = "none";
            row->text = g_strdup_printf("%s (no firmware on this host fits its definition now)",
                                        none);
            return;
        }
        fwselResultToError(result, &err);
        /* the first line: the reasons follow one per line */
        first = g_strndup(err->message, strcspn(err->message, "\n"));
        if (*first && first[strlen(first) - 1] == ':')
            first[strlen(first) - 1] = '\0';
        fwselCliAuditProblem(row, "error",
                             g_strdup_printf("no firmware on this host fits its definition (%s)",
                                             first));
        return;
    }
    dom = result->dom;
    if (fwselNvramDomainCheck(dom, NULL) < 0) {
        row->kind = "none";
        row->text = fwselCliAuditNoVarstore(dom);
        return;
    }

    fwselRootResolve(catalog->root, dom->nvram.path, &fact);
    missing = fact.kind == FWSEL_PATH_MISSING;
    fwselPathFactClear(&fact);
    if (!missing) {
        fwselCliAuditFile(catalog, dom->nvram.path, at, "varstore", row);
        return;
    }
    if (!dom->nvram.templatePath) {
        fwselCliAuditProblem(row, "error",
                             g_strdup_printf("%s does not exist and no template names what "
                                             "it will hold", dom->nvram.path));
        return;
    }
    /* not started yet: it gets the template's keys */
    fwselCliAuditFile(catalog, dom->nvram.templatePath, at, "template", row);
}


/**
 * fwselCliAuditReport:
 * @domains: fwselCliAuditDomain *, sorted here by name
 *
 * Prints one line per domain (or JSON) and returns the exit status: 1
 * when a domain needs attention.
 */
int
fwselCliAuditReport(fwselCli *cli, const fwselCatalog *catalog, GPtrArray *domains)
{
    g_autofree char *at = NULL;
    g_autoptr(GError) err = NULL;
    json_object *arr = NULL;
    guint attention = 0;
    guint i;

    if (!(at = fwselSbTimeParse(cli->at, &err)))
        return fwselCliFail(err);
    g_ptr_array_sort(domains, fwselCliAuditCompare);
    if (cli->json)
        arr = json_object_new_array();

    for (i = 0; i < domains->len; i++) {
        const fwselCliAuditDomain *d = g_ptr_array_index(domains, i);
        g_auto(fwselCliAuditRow) row = { 0 };
        guint w;

        fwselCliAuditOne(catalog, d, at, &row);
        if (row.attention)
            attention++;

        if (cli->json) {
            json_object *obj = json_object_new_object();
            json_object *why = json_object_new_array();

            json_object_object_add(obj, "domain", json_object_new_string(d->name));
            json_object_object_add(obj, "state", d->state ? json_object_new_string(d->state) : NULL);
            json_object_object_add(obj, "source", json_object_new_string(row.kind));
            json_object_object_add(obj, "path", row.path ? json_object_new_string(row.path) : NULL);
            json_object_object_add(obj, "summary", json_object_new_string(row.text));
            json_object_object_add(obj, "keys", row.facts ? fwselSbFactsToJSON(row.facts) : NULL);
            json_object_object_add(obj, "needs-attention", json_object_new_boolean(row.attention));
            for (w = 0; w < row.why->len; w++)
                json_object_array_add(why, json_object_new_string(g_ptr_array_index(row.why, w)));
            json_object_object_add(obj, "why", why);
            json_object_array_add(arr, obj);
            continue;
        }

        printf("%s", d->name);
        if (d->state)
            printf(" (%s)", d->state);
        if (g_str_equal(row.kind, "varstore"))
            printf(": %s: %s", row.path, row.text);
        else if (g_str_equal(row.kind, "template"))
            printf(": no varstore yet, made at the first start from %s: %s", row.path, row.text);
        else
            printf(": %s", row.text);
        if (row.attention && row.facts) {
            printf("; NEEDS ATTENTION:");
            for (w = 0; w < row.why->len; w++)
                printf("%s %s", w ? "," : "", (const char *) g_ptr_array_index(row.why, w));
        } else if (row.attention) {
            printf("; NEEDS ATTENTION");
        }
        printf("\n");
    }

    if (cli->json) {
        json_object *obj = json_object_new_object();

        json_object_object_add(obj, "at", json_object_new_string(at));
        json_object_object_add(obj, "domains", arr);
        json_object_object_add(obj, "needing-attention", json_object_new_int((int) attention));
        printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
                                                          JSON_C_TO_STRING_SPACED |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(obj);
    } else if (!domains->len) {
        printf("no domains defined\n");
    } else {
        printf("%u domain%s, %u need%s attention (keys as of %s)\n", domains->len,
               domains->len == 1 ? "" : "s", attention, attention == 1 ? "s" : "",
               at);
    }
    return attention ? FWSEL_EXIT_FAIL : FWSEL_EXIT_OK;
}


/*
 * Offline: every NAME.xml in /etc/libvirt/qemu of the host (--root).  A
 * definition that cannot be read is listed as such.
 */
int
fwselCliAuditOffline(fwselCli *cli)
{
    g_autoptr(fwselCatalog) catalog = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) domains =
        g_ptr_array_new_with_free_func((GDestroyNotify) fwselCliAuditDomainFree);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    FWSEL_AUTOCLOSE int dirfd = -1;
    DIR *dir;
    struct dirent *ent;
    guint i;

    if (!(catalog = fwselCliLoad(cli, &err)))
        return fwselCliFail(err);
    dirfd = fwselRootOpenDir(catalog->root, FWSEL_LIBVIRT_QEMU_DIR, NULL, &err);
    if (dirfd == -2)
        return fwselCliAuditReport(cli, catalog, domains);
    if (dirfd < 0)
        return fwselCliFail(err);
    if (!(dir = fdopendir(dirfd))) {
        fprintf(stderr, "virt-fwsel: %s: %s\n", FWSEL_LIBVIRT_QEMU_DIR, g_strerror(errno));
        return FWSEL_EXIT_USAGE;
    }
    dirfd = -1;     /* the DIR's now */
    while ((ent = readdir(dir))) {
        if (ent->d_name[0] != '.' && g_str_has_suffix(ent->d_name, ".xml"))
            g_ptr_array_add(names, g_strdup(ent->d_name));
    }
    closedir(dir);

    for (i = 0; i < names->len; i++) {
        const char *file = g_ptr_array_index(names, i);
        g_autofree char *path = fwselPathJoin(FWSEL_LIBVIRT_QEMU_DIR, file);
        g_autofree char *xml = NULL;
        g_autoptr(GError) derr = NULL;
        fwselCliAuditDomain *d = g_new0(fwselCliAuditDomain, 1);
        gsize len = 0;

        d->name = g_strndup(file, strlen(file) - strlen(".xml"));
        g_ptr_array_add(domains, d);
        if (fwselRootReadFile(catalog->root, path, FWSEL_AUDIT_XML_MAX, &xml, &len, &derr) < 0 ||
            !(d->doc = fwselDomainXMLParse(path, xml, len, &derr))) {
            d->error = g_strdup_printf("cannot read its definition: %s", derr->message);
            continue;
        }
        if (fwselDomainXMLGetDomain(d->doc)->name) {
            g_free(d->name);
            d->name = g_strdup(fwselDomainXMLGetDomain(d->doc)->name);
        }
    }
    return fwselCliAuditReport(cli, catalog, domains);
}


/* ---- templates, for check and explain -------------------------------- */

struct _fwselCliTemplates {
    const fwselCatalog *catalog;
    char *at;
    GHashTable *seen;           /* path -> fwselCliTemplateFacts * */
};


static void
fwselCliTemplateFactsFree(fwselCliTemplateFacts *t)
{
    if (!t)
        return;
    g_free(t->text);
    fwselSbFactsFree(t->facts);
    g_free(t->error);
    g_free(t);
}


fwselCliTemplates *
fwselCliTemplatesNew(fwselCli *cli, const fwselCatalog *catalog, GError **error)
{
    g_autofree char *at = NULL;
    fwselCliTemplates *t;

    if (!(at = fwselSbTimeParse(cli->at, error)))
        return NULL;
    t = g_new0(fwselCliTemplates, 1);
    t->catalog = catalog;
    t->at = g_steal_pointer(&at);
    t->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                    (GDestroyNotify) fwselCliTemplateFactsFree);
    return t;
}


void
fwselCliTemplatesFree(fwselCliTemplates *t)
{
    if (!t)
        return;
    g_hash_table_unref(t->seen);
    g_free(t->at);
    g_free(t);
}


/**
 * fwselCliTemplatesGet:
 *
 * The keys of the varstore template @path (read once per command).  A
 * file that is not a varstore (the golden host trees carry small
 * stand-ins) is a fact too: ->facts is NULL and ->text says why.
 */
const fwselCliTemplateFacts *
fwselCliTemplatesGet(fwselCliTemplates *t, const char *path)
{
    g_autoptr(fwselVarstore) store = NULL;
    g_autoptr(fwselVarstoreInfo) info = NULL;
    g_autoptr(GError) err = NULL;
    fwselCliTemplateFacts *f;

    if ((f = g_hash_table_lookup(t->seen, path)))
        return f;
    f = g_new0(fwselCliTemplateFacts, 1);
    if (!(store = fwselVarstoreRead(t->catalog->root, path, &err)) ||
        !(info = fwselVarstoreDecode(store, &err))) {
        const char *msg = err->message;

        /* the message starts with the path, which the line already shows */
        if (g_str_has_prefix(msg, path) && msg[strlen(path)] == ':')
            msg += strlen(path) + 2;
        f->error = g_strdup(msg);
        f->text = g_strdup_printf("not a readable varstore: %s", msg);
    } else {
        g_autofree char *keys = NULL;
        g_autofree char *why = NULL;

        f->facts = fwselSbFactsGet(store, info, t->at);
        keys = fwselSbFactsFormat(f->facts);
        if (f->facts->attention->len) {
            g_ptr_array_add(f->facts->attention, NULL);
            why = g_strjoinv(", ", (char **) f->facts->attention->pdata);
            g_ptr_array_remove_index(f->facts->attention, f->facts->attention->len - 1);
            f->text = g_strdup_printf("%s; new guests would need attention: %s", keys, why);
        } else {
            f->text = g_steal_pointer(&keys);
        }
    }
    g_hash_table_insert(t->seen, g_strdup(path), f);
    return f;
}


json_object *
fwselCliTemplateFactsToJSON(const fwselCliTemplateFacts *f)
{
    json_object *obj;

    if (f->facts) {
        obj = fwselSbFactsToJSON(f->facts);
        json_object_object_add(obj, "summary", json_object_new_string(f->text));
        return obj;
    }
    obj = json_object_new_object();
    json_object_object_add(obj, "error", json_object_new_string(f->error));
    return obj;
}
