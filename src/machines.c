/*
 * machines.c: machine type aliases
 *
 * A descriptor lists versioned machine types (pc-q35-*), a domain may say
 * q35.  What an alias stands for is a fact about the host's QEMU.  Asked
 * only when the domain's machine is an alias (or absent), from, in turn:
 *   1. --machine-alias ALIAS=MACHINE;
 *   2. libvirt's QEMU capabilities cache (read, under the root), when it
 *      was made for the binary that is installed now (its ctime);
 *   3. on the real host only: fwsel's cache of the host's
 *      "qemu-system-ARCH -machine help", keyed by the binary's path, size
 *      and mtime; the binary is run only when that cache is stale;
 *   4. the table below (QEMU 7.2, Debian bookworm).
 * Nothing under a --root tree is ever executed.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "fwsel-machines.h"
#include "fwsel-descriptor.h"
#include "fwsel-util.h"

FWSEL_ENUM_IMPL(fwselMachineSource, FWSEL_MACHINE_SOURCE_LAST,
                "domain", "--machine-alias", "libvirt's capabilities cache",
                "the host's QEMU", "fwsel's table for QEMU 7.2");

#define FWSEL_CAPS_CACHE_DIR "/var/cache/libvirt/qemu/capabilities"
#define FWSEL_MAX_CAPS_SIZE (16 * 1024 * 1024)

/*
 * Machine type aliases of the QEMU this project validates against
 * (Debian bookworm, QEMU 7.2).  An empty alias names the machine used
 * when the domain gives none.  Only names listed here (per architecture)
 * are looked up at all: any other machine type is taken as written.
 */
static const struct {
    const char *arch;
    const char *alias;
    const char *machine;
} fwselBuiltinAliases[] = {
    { "x86_64", "", "pc-i440fx-7.2" },
    { "x86_64", "pc", "pc-i440fx-7.2" },
    { "x86_64", "q35", "pc-q35-7.2" },
    { "i686", "", "pc-i440fx-7.2" },
    { "i686", "pc", "pc-i440fx-7.2" },
    { "i686", "q35", "pc-q35-7.2" },
    { "aarch64", "", "virt-7.2" },
    { "aarch64", "virt", "virt-7.2" },
    { "armv7l", "", "virt-7.2" },
    { "armv7l", "virt", "virt-7.2" },
    { "riscv64", "", "virt" },
    { "loongarch64", "", "virt" },
    { "s390x", "", "s390-ccw-virtio-7.2" },
    { "s390x", "s390-ccw-virtio", "s390-ccw-virtio-7.2" },
    { "ppc64", "", "pseries-7.2" },
    { "ppc64", "pseries", "pseries-7.2" },
    { "ppc64le", "", "pseries-7.2" },
    { "ppc64le", "pseries", "pseries-7.2" },
};


/* One architecture's aliases from one source */
typedef struct {
    GHashTable *table;          /* alias -> machine; "" the default */
    fwselMachineSource source;
} fwselMachineTable;

struct _fwselMachines {
    const fwselRoot *root;
    GHashTable *userAliases;    /* owned copy */
    bool probe;
    bool hostRoot;
    pthread_mutex_t lock;       /* a POSIX mutex, so that thread checkers see it */
    GHashTable *arches;         /* arch -> fwselMachineTable, filled on demand */
};


static void
fwselMachineTableFree(fwselMachineTable *t)
{
    if (t->table)
        g_hash_table_unref(t->table);
    g_free(t);
}


static GHashTable *
fwselMachinesNewTable(void)
{
    return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}


/**
 * fwselMachinesNew:
 * @root: the host; kept, not owned
 * @userAliases: --machine-alias entries (copied), or NULL
 * @probe: whether the real host's QEMU may be run
 */
fwselMachines *
fwselMachinesNew(const fwselRoot *root, GHashTable *userAliases, bool probe)
{
    fwselMachines *m = g_new0(fwselMachines, 1);
    GHashTableIter iter;
    gpointer key;
    gpointer value;

    m->root = root;
    m->userAliases = fwselMachinesNewTable();
    if (userAliases) {
        g_hash_table_iter_init(&iter, userAliases);
        while (g_hash_table_iter_next(&iter, &key, &value))
            g_hash_table_insert(m->userAliases, g_strdup(key), g_strdup(value));
    }
    m->probe = probe;
    m->hostRoot = fwselRootIsHost(root);
    pthread_mutex_init(&m->lock, NULL);
    m->arches = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                      (GDestroyNotify) fwselMachineTableFree);
    return m;
}


void
fwselMachinesFree(fwselMachines *m)
{
    if (!m)
        return;
    g_hash_table_unref(m->userAliases);
    g_hash_table_unref(m->arches);
    pthread_mutex_destroy(&m->lock);
    g_free(m);
}


/* Whether @name can be an alias on @arch at all */
static bool
fwselMachinesIsAlias(const char *arch, const char *name)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(fwselBuiltinAliases); i++) {
        if (g_str_equal(fwselBuiltinAliases[i].arch, arch) &&
            g_str_equal(fwselBuiltinAliases[i].alias, name))
            return true;
    }
    return false;
}


/* The default may itself be an alias */
static void
fwselMachinesFixDefault(GHashTable *table)
{
    const char *def = g_hash_table_lookup(table, "");
    const char *target;

    if (def && (target = g_hash_table_lookup(table, def)))
        g_hash_table_replace(table, g_strdup(""), g_strdup(target));
}


/**
 * fwselMachinesParseHelp:
 *
 * The output of "qemu-system-ARCH -machine help": lines of the form
 * "NAME  DESCRIPTION (alias of MACHINE)" and "NAME  DESCRIPTION (default)".
 */
GHashTable *
fwselMachinesParseHelp(const char *out)
{
    GHashTable *table = fwselMachinesNewTable();
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    size_t i;

    for (i = 0; lines[i]; i++) {
        const char *line = lines[i];
        const char *sp = strchr(line, ' ');
        const char *alias;
        g_autofree char *name = NULL;

        if (!sp || sp == line)
            continue;
        name = g_strndup(line, sp - line);

        if ((alias = strstr(line, "(alias of "))) {
            const char *start = alias + strlen("(alias of ");
            const char *end = strchr(start, ')');

            if (end && end > start)
                g_hash_table_replace(table, g_strdup(name), g_strndup(start, end - start));
        }
        if (g_str_has_suffix(line, "(default)") && !g_hash_table_contains(table, ""))
            g_hash_table_replace(table, g_strdup(""), g_strdup(name));
    }
    fwselMachinesFixDefault(table);
    return table;
}


static char *
fwselMachinesXMLProp(xmlNode *node, const char *name)
{
    xmlChar *val = xmlGetNoNsProp(node, BAD_CAST name);
    char *ret = g_strdup((const char *) val);

    xmlFree(val);
    return ret;
}


/**
 * fwselMachinesParseCapsCache:
 * @emulator: the binary the cache must be about
 * @ctime: that binary's ctime now
 *
 * The aliases in one file of libvirt's QEMU capabilities cache
 * (<qemuCaps><emulator>, <qemuctime>, <machine name= alias= default=>).
 * NULL when the file is not about @emulator as it is installed now, or
 * cannot be read.
 */
GHashTable *
fwselMachinesParseCapsCache(const char *xml,
                            gsize length,
                            const char *emulator,
                            gint64 ctime)
{
    g_autoptr(GHashTable) table = NULL;
    xmlDoc *doc;
    xmlNode *root;
    xmlNode *cur;
    bool sameBinary = false;
    bool sameCtime = false;

    if (length > G_MAXINT)
        return NULL;
    doc = xmlReadMemory(xml, (int) length, "caps.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc)
        return NULL;
    root = xmlDocGetRootElement(doc);
    if (!root || !xmlStrEqual(root->name, BAD_CAST "qemuCaps"))
        goto cleanup;

    table = fwselMachinesNewTable();
    for (cur = root->children; cur; cur = cur->next) {
        g_autofree char *name = NULL;
        g_autofree char *alias = NULL;
        g_autofree char *def = NULL;
        xmlChar *text;

        if (cur->type != XML_ELEMENT_NODE)
            continue;
        if (xmlStrEqual(cur->name, BAD_CAST "emulator") ||
            xmlStrEqual(cur->name, BAD_CAST "qemuctime")) {
            text = xmlNodeGetContent(cur);
            if (xmlStrEqual(cur->name, BAD_CAST "emulator"))
                sameBinary = text && g_str_equal((const char *) text, emulator);
            else
                sameCtime = text && g_ascii_strtoll((const char *) text, NULL, 10) == ctime;
            xmlFree(text);
            continue;
        }
        if (!xmlStrEqual(cur->name, BAD_CAST "machine"))
            continue;
        name = fwselMachinesXMLProp(cur, "name");
        alias = fwselMachinesXMLProp(cur, "alias");
        def = fwselMachinesXMLProp(cur, "default");
        if (!name)
            continue;
        if (alias && !g_hash_table_contains(table, alias))
            g_hash_table_insert(table, g_strdup(alias), g_strdup(name));
        if (def && g_str_equal(def, "yes") && !g_hash_table_contains(table, ""))
            g_hash_table_insert(table, g_strdup(""), g_strdup(name));
    }
    fwselMachinesFixDefault(table);

 cleanup:
    xmlFreeDoc(doc);
    if (!sameBinary || !sameCtime)
        return NULL;
    return g_steal_pointer(&table);
}


/* libvirt names each cache file after the SHA-256 of the binary's path */
static GHashTable *
fwselMachinesFromLibvirt(const fwselMachines *m, const char *binary)
{
    g_autofree char *hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, binary, -1);
    g_autofree char *file = g_strdup_printf("%s/%s.xml", FWSEL_CAPS_CACHE_DIR, hash);
    g_autofree char *xml = NULL;
    FWSEL_AUTOCLOSE int fd = -1;
    struct stat sb;
    gsize length;

    if ((fd = fwselRootOpenFile(m->root, binary, NULL, NULL)) < 0 || fstat(fd, &sb) < 0)
        return NULL;
    if (fwselRootReadFile(m->root, file, FWSEL_MAX_CAPS_SIZE, &xml, &length, NULL) < 0)
        return NULL;
    return fwselMachinesParseCapsCache(xml, length, binary, sb.st_ctime);
}


/* fwsel's own record of a probe: "PATH SIZE MTIME-NS" then "ALIAS\tMACHINE" lines */
static char *
fwselMachinesProbeKey(const char *binary, const struct stat *sb)
{
    return g_strdup_printf("%s %lld %lld.%09ld", binary, (long long) sb->st_size,
                           (long long) sb->st_mtim.tv_sec, (long) sb->st_mtim.tv_nsec);
}


static char *
fwselMachinesProbeCacheFile(const char *qemuArch)
{
    return g_strdup_printf("%s/fwsel/qemu-machines-%s", g_get_user_cache_dir(), qemuArch);
}


static GHashTable *
fwselMachinesReadProbeCache(const char *file, const char *key)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    GHashTable *table;
    size_t i;

    if (!g_file_get_contents(file, &text, NULL, NULL))
        return NULL;
    lines = g_strsplit(text, "\n", -1);
    if (!lines[0] || !g_str_equal(lines[0], key))
        return NULL;
    table = fwselMachinesNewTable();
    for (i = 1; lines[i]; i++) {
        const char *tab = strchr(lines[i], '\t');

        if (tab)
            g_hash_table_replace(table, g_strndup(lines[i], tab - lines[i]), g_strdup(tab + 1));
    }
    return table;
}


static void
fwselMachinesWriteProbeCache(const char *file, const char *key, GHashTable *table)
{
    g_autoptr(GString) out = g_string_new(key);
    g_autofree char *dir = g_path_get_dirname(file);
    GHashTableIter iter;
    gpointer alias;
    gpointer machine;

    g_string_append_c(out, '\n');
    g_hash_table_iter_init(&iter, table);
    while (g_hash_table_iter_next(&iter, &alias, &machine))
        g_string_append_printf(out, "%s\t%s\n", (char *) alias, (char *) machine);

    /* a cache: failing to keep it costs a probe next time, nothing else */
    if (g_mkdir_with_parents(dir, 0755) == 0)
        g_file_set_contents(file, out->str, out->len, NULL);
}


/* The real host's QEMU, through fwsel's cache of its answer */
static GHashTable *
fwselMachinesFromProbe(const char *binary, const char *qemuArch)
{
    g_autofree char *file = fwselMachinesProbeCacheFile(qemuArch);
    g_autofree char *key = NULL;
    g_autofree char *out = NULL;
    GHashTable *table;
    struct stat sb;
    int status = -1;
    const char *argv[] = { binary, "-machine", "help", NULL };

    if (stat(binary, &sb) < 0 || !S_ISREG(sb.st_mode) || access(binary, X_OK) < 0)
        return NULL;
    key = fwselMachinesProbeKey(binary, &sb);
    if ((table = fwselMachinesReadProbeCache(file, key)))
        return table;

    if (!g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, &out, NULL, &status, NULL) ||
        !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return NULL;
    table = fwselMachinesParseHelp(out);
    fwselMachinesWriteProbeCache(file, key, table);
    return table;
}


static GHashTable *
fwselMachinesBuiltin(const char *arch)
{
    GHashTable *table = fwselMachinesNewTable();
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(fwselBuiltinAliases); i++) {
        if (g_str_equal(fwselBuiltinAliases[i].arch, arch))
            g_hash_table_replace(table, g_strdup(fwselBuiltinAliases[i].alias),
                                 g_strdup(fwselBuiltinAliases[i].machine));
    }
    return table;
}


/* The alias table of @arch, looked up once; call with the lock held */
static fwselMachineTable *
fwselMachinesTableFor(fwselMachines *m, const char *arch)
{
    fwselMachineTable *t = g_hash_table_lookup(m->arches, arch);
    g_autofree char *binary = NULL;

    if (t)
        return t;

    t = g_new0(fwselMachineTable, 1);
    binary = g_strdup_printf("/usr/bin/qemu-system-%s", fwselArchToQemu(arch));
    if ((t->table = fwselMachinesFromLibvirt(m, binary))) {
        t->source = FWSEL_MACHINE_SOURCE_LIBVIRT_CACHE;
    } else if (m->probe && m->hostRoot &&
               (t->table = fwselMachinesFromProbe(binary, fwselArchToQemu(arch)))) {
        t->source = FWSEL_MACHINE_SOURCE_PROBE;
    } else {
        t->table = fwselMachinesBuiltin(arch);
        t->source = FWSEL_MACHINE_SOURCE_BUILTIN;
    }
    g_hash_table_insert(m->arches, g_strdup(arch), t);
    return t;
}


/**
 * fwselMachinesResolve:
 * @arch: libvirt architecture name
 * @machine: machine type as the domain gives it, or NULL
 * @source: (out, optional) where the answer came from
 *
 * The versioned machine type @machine stands for; @machine itself when
 * it is no alias.  The string lives as long as @m.  Safe to call from
 * several threads.
 */
const char *
fwselMachinesResolve(fwselMachines *m,
                     const char *arch,
                     const char *machine,
                     fwselMachineSource *source)
{
    const char *key = machine ? machine : "";
    fwselMachineSource dummy;
    fwselMachineTable *t;
    const char *found;

    if (!source)
        source = &dummy;
    *source = FWSEL_MACHINE_SOURCE_DOMAIN;

    if ((found = g_hash_table_lookup(m->userAliases, key))) {
        *source = FWSEL_MACHINE_SOURCE_OPTION;
        return found;
    }
    if (!fwselMachinesIsAlias(arch, key))
        return machine;

    pthread_mutex_lock(&m->lock);
    t = fwselMachinesTableFor(m, arch);
    found = g_hash_table_lookup(t->table, key);
    pthread_mutex_unlock(&m->lock);

    if (!found)
        return machine;
    *source = t->source;
    return found;
}
