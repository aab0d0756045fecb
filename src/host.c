/*
 * host.c: the host fwsel selects for
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fwsel-host.h"
#include "fwsel-descriptor.h"
#include "fwsel-util.h"


/*
 * Machine type aliases of the QEMU this project validates against
 * (Debian bookworm, QEMU 7.2), used when the host's QEMU cannot be asked.
 * An empty alias names the machine used when the domain gives none.
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
};


/* The CODE:VARS pairs libvirt uses when qemu.conf sets no nvram list (its
 * compiled-in default, unchanged by Debian's build) */
static const char *const fwselDefaultNvramPairs[][2] = {
    { "/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd" },
    { "/usr/share/OVMF/OVMF_CODE.secboot.fd", "/usr/share/OVMF/OVMF_VARS.fd" },
    { "/usr/share/AAVMF/AAVMF_CODE.fd", "/usr/share/AAVMF/AAVMF_VARS.fd" },
    { "/usr/share/AAVMF/AAVMF32_CODE.fd", "/usr/share/AAVMF/AAVMF32_VARS.fd" },
};


/* Appends one CODE:VARS pair to the nvram list */
void
fwselHostAddNvramPair(fwselHost *host, const char *loader, const char *nvram)
{
    host->nvramPairs = g_renew(fwselNvramPair, host->nvramPairs, host->nnvramPairs + 1);
    host->nvramPairs[host->nnvramPairs].loader = g_strdup(loader);
    host->nvramPairs[host->nnvramPairs].nvram = g_strdup(nvram);
    host->nnvramPairs++;
}


/**
 * fwselHostSetFirmwareDirs:
 * @userDir: the session daemon's directory, or NULL for a privileged one
 *
 * Where descriptors are read from, in increasing precedence, for a
 * front end whose installation does not use the standard paths.
 */
void
fwselHostSetFirmwareDirs(fwselHost *host,
                         const char *dataDir,
                         const char *sysconfDir,
                         const char *userDir)
{
    const char *dirs[G_N_ELEMENTS(host->firmwareDirs)] = { dataDir, sysconfDir, userDir };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(host->firmwareDirs); i++) {
        g_free(host->firmwareDirs[i]);
        host->firmwareDirs[i] = g_strdup(dirs[i]);
    }
}


fwselHost *
fwselHostNew(const char *root, bool session)
{
    fwselHost *host = g_new0(fwselHost, 1);
    g_autofree char *userDir = NULL;
    size_t i;

    host->root = g_strdup(root && *root ? root : "/");
    if (session) {
        const char *xdg = g_getenv("XDG_CONFIG_HOME");

        if (xdg && *xdg == '/')
            userDir = g_build_filename(xdg, "qemu", "firmware", NULL);
        else
            userDir = g_build_filename(g_get_home_dir(), ".config", "qemu", "firmware", NULL);
    }
    fwselHostSetFirmwareDirs(host, FWSEL_DATA_FIRMWARE_DIR, FWSEL_SYSCONF_FIRMWARE_DIR, userDir);
    host->nvramDir = g_strdup(FWSEL_NVRAM_DIR);
    host->qemuConfPath = g_strdup(FWSEL_QEMU_CONF);
    for (i = 0; i < G_N_ELEMENTS(fwselDefaultNvramPairs); i++)
        fwselHostAddNvramPair(host, fwselDefaultNvramPairs[i][0], fwselDefaultNvramPairs[i][1]);
    host->qemuUser = g_strdup(FWSEL_QEMU_USER);
    host->qemuGroup = g_strdup(FWSEL_QEMU_GROUP);
    host->probeQemu = true;
    host->checkFiles = true;
    host->userAliases = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    host->probed = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify) g_hash_table_unref);
    return host;
}


/* Empties the nvram list (libvirt's built-in one included) */
void
fwselHostClearNvramPairs(fwselHost *host)
{
    size_t i;

    for (i = 0; i < host->nnvramPairs; i++) {
        g_free(host->nvramPairs[i].loader);
        g_free(host->nvramPairs[i].nvram);
    }
    g_clear_pointer(&host->nvramPairs, g_free);
    host->nnvramPairs = 0;
}


void
fwselHostFree(fwselHost *host)
{
    size_t i;

    if (!host)
        return;
    g_free(host->root);
    for (i = 0; i < G_N_ELEMENTS(host->firmwareDirs); i++)
        g_free(host->firmwareDirs[i]);
    g_free(host->nvramDir);
    g_free(host->qemuConfPath);
    fwselHostClearNvramPairs(host);
    g_free(host->qemuUser);
    g_free(host->qemuGroup);
    g_hash_table_unref(host->userAliases);
    g_hash_table_unref(host->probed);
    g_free(host);
}


char *
fwselHostPath(const fwselHost *host, const char *path)
{
    return fwselPathUnderRoot(host->root, path);
}


bool
fwselHostFileExists(const fwselHost *host, const char *path)
{
    g_autofree char *onDisk = fwselHostPath(host, path);

    return g_file_test(onDisk, G_FILE_TEST_IS_REGULAR);
}


int
fwselHostSetNvramDir(fwselHost *host, const char *dir, GError **error)
{
    if (!dir || dir[0] != '/') {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "--nvram-dir: must be an absolute path, got '%s'", dir ? dir : "");
        return -1;
    }
    g_free(host->nvramDir);
    host->nvramDir = g_strdup(dir);
    /* strip trailing slashes, keep "/" */
    while (strlen(host->nvramDir) > 1 && g_str_has_suffix(host->nvramDir, "/"))
        host->nvramDir[strlen(host->nvramDir) - 1] = '\0';
    return 0;
}


int
fwselHostAddMachineAlias(fwselHost *host, const char *spec, GError **error)
{
    const char *eq = strchr(spec, '=');

    if (!eq || eq == spec || !eq[1] || strchr(eq + 1, '=')) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "--machine-alias: expected ALIAS=MACHINE, got '%s'", spec);
        return -1;
    }
    g_hash_table_replace(host->userAliases,
                         g_strndup(spec, eq - spec), g_strdup(eq + 1));
    return 0;
}


/* Parse the output of "qemu-system-ARCH -machine help": lines of the form
 * "NAME  DESCRIPTION (alias of MACHINE)" and "NAME  DESCRIPTION (default)". */
static GHashTable *
fwselHostParseMachineHelp(const char *out)
{
    GHashTable *table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
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

    /* the default may itself be an alias */
    if (g_hash_table_contains(table, "")) {
        const char *def = g_hash_table_lookup(table, "");
        const char *target = g_hash_table_lookup(table, def);

        if (target)
            g_hash_table_replace(table, g_strdup(""), g_strdup(target));
    }
    return table;
}


static GHashTable *
fwselHostProbe(fwselHost *host, const char *arch)
{
    GHashTable *table;
    g_autofree char *binName = NULL;
    g_autofree char *bin = NULL;
    g_autofree char *out = NULL;
    int status = -1;

    if ((table = g_hash_table_lookup(host->probed, arch)))
        return g_hash_table_size(table) ? table : NULL;

    binName = g_strdup_printf("/usr/bin/qemu-system-%s", fwselArchToQemu(arch));
    bin = fwselHostPath(host, binName);

    if (host->probeQemu && g_file_test(bin, G_FILE_TEST_IS_EXECUTABLE)) {
        const char *argv[] = { bin, "-machine", "help", NULL };

        if (!g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL,
                          NULL, NULL, &out, NULL, &status, NULL) ||
            !WIFEXITED(status) || WEXITSTATUS(status) != 0)
            g_clear_pointer(&out, g_free);
    }

    table = out ? fwselHostParseMachineHelp(out)
                : g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_hash_table_replace(host->probed, g_strdup(arch), table);
    return g_hash_table_size(table) ? table : NULL;
}


/**
 * fwselHostResolveMachine:
 * @arch: libvirt architecture name
 * @machine: machine type as the domain XML gives it, or NULL
 *
 * Returns the versioned machine type an alias stands for: from
 * --machine-alias first, then the host's QEMU, then the built-in table.
 * A name that is not an alias is returned unchanged.
 */
const char *
fwselHostResolveMachine(fwselHost *host,
                        const char *arch,
                        const char *machine)
{
    const char *key = machine ? machine : "";
    GHashTable *probed;
    const char *found;
    size_t i;

    if ((found = g_hash_table_lookup(host->userAliases, key)))
        return found;

    if ((probed = fwselHostProbe(host, arch)))
        return (found = g_hash_table_lookup(probed, key)) ? found : machine;

    for (i = 0; i < G_N_ELEMENTS(fwselBuiltinAliases); i++) {
        if (g_str_equal(fwselBuiltinAliases[i].arch, arch) &&
            g_str_equal(fwselBuiltinAliases[i].alias, key))
            return fwselBuiltinAliases[i].machine;
    }
    return machine;
}


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
fwselHostApplyConf(fwselHost *host,
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
            g_free(host->qemuUser);
            host->qemuUser = g_strdup(values[0]);
        } else {
            g_free(host->qemuGroup);
            host->qemuGroup = g_strdup(values[0]);
        }
        return 0;
    }

    if (!g_str_equal(name, "nvram"))
        return 0;

    if (!isList)
        return fwselConfError(r, "nvram: expected a list of \"CODE:VARS\" strings");

    fwselHostClearNvramPairs(host);
    host->nvramPairsFromConf = true;
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

            fwselHostAddNvramPair(host, loader, colon + 1);
        }
    }
    return 0;
}


/**
 * fwselHostLoadQemuConf:
 *
 * Reads the settings fwsel needs from qemu.conf (under the root): the
 * legacy nvram list and the user and group QEMU runs as.  A missing file
 * is not an error: libvirt then uses its defaults too.
 */
int
fwselHostLoadQemuConf(fwselHost *host, GError **error)
{
    g_autofree char *onDisk = fwselHostPath(host, host->qemuConfPath);
    g_autofree char *text = NULL;
    fwselConfReader r = { host->qemuConfPath, NULL, 1, error };
    gsize length;

    if (!g_file_test(onDisk, G_FILE_TEST_EXISTS))
        return 0;

    if (fwselFileReadBounded(onDisk, FWSEL_MAX_INPUT_SIZE, &text, &length, error) < 0)
        return -1;

    r.p = text;
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
        if (fwselHostApplyConf(host, &r, name, values, lines, isList) < 0)
            return -1;

        fwselConfSkipBlank(&r, false);
        if (*r.p && *r.p != '\n')
            return fwselConfError(&r, "unexpected text after the value of '%s'", name);
    }
    return 0;
}
