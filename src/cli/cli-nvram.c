/*
 * cli-nvram.c: virt-fwsel nvram create|reset|check|remove|inspect|enroll
 * DOMAIN.xml, nvram inspect|enroll --file FILE, and nvram audit
 *
 * The domain goes through selection first, so a bare firmware='efi'
 * domain gets the varstore path and template libvirt would give it; a
 * domain whose <nvram> is already filled keeps its paths.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "virt-fwsel.h"
#include "fwsel-varstore.h"
#include "fwsel-enroll.h"

typedef enum {
    FWSEL_CLI_NVRAM_CREATE,
    FWSEL_CLI_NVRAM_RESET,
    FWSEL_CLI_NVRAM_CHECK,
    FWSEL_CLI_NVRAM_REMOVE,
    FWSEL_CLI_NVRAM_INSPECT,
    FWSEL_CLI_NVRAM_AUDIT,
    FWSEL_CLI_NVRAM_ENROLL,

    FWSEL_CLI_NVRAM_LAST
} fwselCliNvramOp;

FWSEL_ENUM_DECL(fwselCliNvramOp);
FWSEL_ENUM_IMPL(fwselCliNvramOp, FWSEL_CLI_NVRAM_LAST,
                "create", "reset", "check", "remove", "inspect", "audit", "enroll");


/* The domain after selection, and whether the XML itself names the path */
static fwselResult *
fwselCliNvramDomain(fwselCli *cli, const char *file, fwselCatalog **catalogOut,
                    bool *explicitPath, GError **error)
{
    g_autoptr(fwselCatalog) catalog = NULL;
    g_auto(fwselCliInput) in = { 0 };
    g_autoptr(fwselResult) result = NULL;

    if (fwselCliInputRead(file, &in, error) < 0 ||
        !(catalog = fwselCliLoad(cli, error)))
        return NULL;
    result = fwselEvaluate(catalog, fwselCliInputRequest(catalog, &in));
    if (fwselResultFailed(result)) {
        fwselResultToError(result, error);
        return NULL;
    }

    *explicitPath = fwselDomainXMLGetDomain(in.doc)->nvram.path != NULL;
    *catalogOut = g_steal_pointer(&catalog);
    return g_steal_pointer(&result);
}


/* Problems of an existing varstore on stderr */
static void
fwselCliNvramWarn(const fwselCatalog *catalog, const fwselDomain *dom)
{
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    guint i;

    if (fwselNvramCheck(catalog, dom, problems, &err) < 0) {
        fprintf(stderr, "virt-fwsel: warning: %s\n", err->message);
        return;
    }
    for (i = 0; i < problems->len; i++)
        fprintf(stderr, "virt-fwsel: warning: %s\n",
                (const char *) g_ptr_array_index(problems, i));
}


static int
fwselCliNvramCreate(fwselCli *cli, const fwselCatalog *catalog, const fwselDomain *dom,
                    const fwselNvramOwner *owner)
{
    g_autoptr(GError) err = NULL;
    int ret;

    ret = fwselNvramCreate(catalog, dom, owner, cli->incoming ? FWSEL_NVRAM_INCOMING : 0, &err);
    if (ret < 0)
        return fwselCliFail(err);
    if (ret == FWSEL_NVRAM_EXISTED) {
        printf("%s already exists: left alone\n", dom->nvram.path);
        fwselCliNvramWarn(catalog, dom);
    } else {
        printf("created %s from %s\n", dom->nvram.path, dom->nvram.templatePath);
    }
    return FWSEL_EXIT_OK;
}


static int
fwselCliNvramReset(fwselCli *cli, const fwselCatalog *catalog, const fwselDomain *dom,
                   const fwselNvramOwner *owner)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *backup = NULL;
    int ret;

    ret = fwselNvramReset(catalog, dom, owner, cli->backup ? FWSEL_NVRAM_BACKUP : 0,
                          &backup, &err);
    if (ret < 0)
        return fwselCliFail(err);
    if (ret == FWSEL_NVRAM_CREATED)
        printf("created %s from %s (there was no varstore)\n",
               dom->nvram.path, dom->nvram.templatePath);
    else
        printf("replaced %s with a fresh copy of %s\n", dom->nvram.path,
               dom->nvram.templatePath);
    if (backup)
        printf("the old varstore is kept as %s\n", backup);
    return FWSEL_EXIT_OK;
}


static int
fwselCliNvramCheck(const fwselCatalog *catalog, const fwselDomain *dom)
{
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GError) err = NULL;
    guint i;
    int ret;

    fwselNvramCleanStale(catalog, dom);
    if ((ret = fwselNvramCheck(catalog, dom, problems, &err)) < 0)
        return fwselCliFail(err);
    if (ret == FWSEL_NVRAM_ABSENT) {
        printf("%s: does not exist (virt-fwsel nvram create makes it)\n", dom->nvram.path);
        return FWSEL_EXIT_FAIL;
    }
    for (i = 0; i < problems->len; i++)
        printf("%s\n", (const char *) g_ptr_array_index(problems, i));
    if (problems->len)
        return FWSEL_EXIT_FAIL;
    printf("%s: ok\n", dom->nvram.path);
    return FWSEL_EXIT_OK;
}


static int
fwselCliNvramRemove(const fwselCatalog *catalog, const fwselDomain *dom, bool explicitPath)
{
    g_autoptr(GError) err = NULL;
    int ret;

    ret = fwselNvramRemove(catalog, dom, explicitPath ? FWSEL_NVRAM_EXPLICIT_PATH : 0, &err);
    if (ret < 0)
        return fwselCliFail(err);
    if (ret == FWSEL_NVRAM_ABSENT)
        printf("%s does not exist: nothing to remove\n", dom->nvram.path);
    else
        printf("removed %s\n", dom->nvram.path);
    return FWSEL_EXIT_OK;
}


/*
 * Prints the contents of a varstore: @root and @path name it on the host
 * (@root NULL: a file on this machine); @dom, when given, is the domain
 * it belongs to.
 */
static int
fwselCliNvramInspectFile(fwselCli *cli, const fwselRoot *root, const char *path,
                         const fwselDomain *dom)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(fwselVarstore) store = NULL;
    g_autoptr(fwselVarstoreInfo) info = NULL;

    if (!(store = fwselVarstoreRead(root, path, &err)) ||
        !(info = fwselVarstoreDecode(store, &err)))
        return fwselCliFail(err);

    if (cli->json) {
        json_object *obj = fwselVarstoreToJSON(store, info);

        if (dom) {
            json_object_object_add(obj, "domain",
                                   dom->name ? json_object_new_string(dom->name) : NULL);
            json_object_object_add(obj, "template", dom->nvram.templatePath ?
                                   json_object_new_string(dom->nvram.templatePath) : NULL);
        }
        printf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
                                                          JSON_C_TO_STRING_SPACED |
                                                          JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(obj);
    } else {
        g_autofree char *text = fwselVarstoreFormat(store, info);

        if (dom) {
            printf("domain: %s\n", dom->name ? dom->name : "(unnamed)");
            printf("template: %s\n", dom->nvram.templatePath ? dom->nvram.templatePath :
                   "none named (the domain's varstore was not made by fwsel or libvirt)");
        }
        fputs(text, stdout);
    }
    return FWSEL_EXIT_OK;
}


/* nvram inspect DOMAIN.xml: the varstore selection gives the domain */
static int
fwselCliNvramInspect(fwselCli *cli, const fwselCatalog *catalog, const fwselDomain *dom)
{
    g_autoptr(GError) err = NULL;
    fwselPathFact fact = { 0 };
    bool missing;

    if (fwselNvramDomainCheck(dom, &err) < 0)
        return fwselCliFail(err);
    fwselRootResolve(catalog->root, dom->nvram.path, &fact);
    missing = fact.kind == FWSEL_PATH_MISSING;
    fwselPathFactClear(&fact);
    if (missing) {
        printf("%s: does not exist (virt-fwsel nvram create makes it from %s)\n",
               dom->nvram.path, dom->nvram.templatePath ? dom->nvram.templatePath :
               "its template");
        return FWSEL_EXIT_FAIL;
    }
    return fwselCliNvramInspectFile(cli, catalog->root, dom->nvram.path, dom);
}


/*
 * Whether a process holds a lock on the open varstore @fd: QEMU locks
 * the images it has open (byte-range OFD locks), the varstore of a
 * running guest included.
 */
static bool
fwselCliNvramLocked(int fd)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };

    if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
        return false;
    return fl.l_type != F_UNLCK;
}


/* The certificates of --kek and --db, loaded and decoded */
static GPtrArray *
fwselCliNvramEnrollCerts(fwselCli *cli, GError **error)
{
    g_autoptr(GPtrArray) certs = g_ptr_array_new_with_free_func((GDestroyNotify) fwselEnrollCertFree);
    char **f;

    for (f = cli->kek; f && *f; f++) {
        fwselEnrollCert *cert = fwselEnrollCertLoad(*f, FWSEL_SIGDB_KEK, cli->sigOwner, error);

        if (!cert)
            return NULL;
        g_ptr_array_add(certs, cert);
    }
    for (f = cli->db; f && *f; f++) {
        fwselEnrollCert *cert = fwselEnrollCertLoad(*f, FWSEL_SIGDB_DB, cli->sigOwner, error);

        if (!cert)
            return NULL;
        g_ptr_array_add(certs, cert);
    }
    return g_steal_pointer(&certs);
}


/* The new image must read back with every certificate where it belongs */
static int
fwselCliNvramEnrollVerify(const char *path, const guint8 *buf, gsize len, GPtrArray *certs,
                          GError **error)
{
    g_autoptr(fwselVarstore) store = NULL;
    g_autoptr(fwselVarstoreInfo) info = NULL;
    guint i;

    if (!(store = fwselVarstoreParse(path, g_memdup2(buf, len), len, error)) ||
        !(info = fwselVarstoreDecode(store, error))) {
        g_prefix_error(error, "internal error: the new varstore does not read back: ");
        return -1;
    }
    for (i = 0; i < certs->len; i++) {
        const fwselEnrollCert *cert = g_ptr_array_index(certs, i);
        const fwselSigDb *db = &info->dbs[cert->db];
        bool found = false;
        guint j;

        for (j = 0; db->present && j < db->sigs->len; j++) {
            const fwselSignature *sig = g_ptr_array_index(db->sigs, j);

            if (sig->type == FWSEL_SIG_X509 && g_str_equal(sig->sha256, cert->sig->sha256))
                found = true;
        }
        if (!found) {
            g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO,
                        "internal error: %s is not in the new %s", cert->path, db->name);
            return -1;
        }
    }
    return 0;
}


/*
 * nvram enroll DOMAIN.xml | --file FILE: add certificates to KEK and db of
 * a varstore whose guest is shut off.
 */
static int
fwselCliNvramEnroll(fwselCli *cli, int argc, char **argv)
{
    g_autoptr(fwselCatalog) catalog = NULL;
    g_autoptr(fwselResult) sel = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) certs = NULL;
    g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(fwselVarstore) store = NULL;
    g_autoptr(fwselVarstoreInfo) info = NULL;
    g_autofree guint8 *image = NULL;
    g_autofree char *path = NULL;
    g_autofree char *backup = NULL;
    FWSEL_AUTOCLOSE int fd = -1;
    const fwselRoot *root = NULL;
    const char *name G_GNUC_UNUSED = NULL;   /* asked to libvirt */
    bool explicitPath = false;
    struct stat sb;
    gsize len = 0;
    guint i;

    if ((cli->file && argc != 1) || (!cli->file && argc != 2))
        return fwselCliUsage("nvram enroll takes DOMAIN.xml or --file FILE");
    if (!cli->kek && !cli->db)
        return fwselCliUsage("nvram enroll: name the certificates to add with --kek and --db");
    if (cli->backup || cli->owner || cli->incoming)
        return fwselCliUsage("nvram enroll always keeps a backup; --backup, --owner and "
                             "--incoming do not apply");
#ifndef WITH_LIBVIRT
    /* a domain libvirt may run: let virt-fwsel-libvirt ask libvirt first */
    if (!cli->file && !cli->root && fwselCliHaveLibvirt())
        return fwselCliExecLibvirt(cli, argc, argv);
#endif

    if (!(certs = fwselCliNvramEnrollCerts(cli, &err)))
        return fwselCliFail(err);

    if (cli->file) {
        path = g_canonicalize_filename(cli->file, NULL);
    } else {
        if (!(sel = fwselCliNvramDomain(cli, argv[1], &catalog, &explicitPath, &err)) ||
            fwselNvramDomainCheck(sel->dom, &err) < 0)
            return fwselCliFail(err);
        path = g_strdup(sel->dom->nvram.path);
        root = catalog->root;
        name = sel->dom->name;
    }

#ifdef WITH_LIBVIRT
    if (name && !cli->root) {
        int running = fwselCliDomainRunning(cli, name, &err);

        if (running == 1) {
            fprintf(stderr, "virt-fwsel: domain %s is running: shut it off before "
                    "enrolling (its firmware would overwrite the varstore)\n", name);
            return FWSEL_EXIT_USAGE;
        }
        if (running < 0) {
            fwselCliNote("cannot ask libvirt whether %s runs (%s); relying on QEMU's "
                         "lock on the varstore", name, err->message);
            g_clear_error(&err);
        }
    }
#endif

    if (!root) {
        g_autoptr(fwselRoot) host = NULL;

        if (!(host = fwselRootOpen("/", &err)) ||
            (fd = fwselNvramOpenExisting(host, path, &sb, &err)) < 0)
            return fwselCliFail(err);
    } else if ((fd = fwselNvramOpenExisting(root, path, &sb, &err)) < 0) {
        return fwselCliFail(err);
    }
    if (fwselCliNvramLocked(fd)) {
        fprintf(stderr, "virt-fwsel: %s is locked by a running process (QEMU?): shut the "
                "guest off before enrolling\n", path);
        return FWSEL_EXIT_USAGE;
    }
    if (!(store = fwselVarstoreReadFD(fd, path, &err)) ||
        !(info = fwselVarstoreDecode(store, &err)))
        return fwselCliFail(err);
    if (store->format != FWSEL_FORMAT_RAW) {
        fprintf(stderr, "virt-fwsel: %s: a qcow2 varstore cannot be rewritten in place "
                "safely; convert it to raw first\n", path);
        return FWSEL_EXIT_USAGE;
    }

    image = fwselVarstoreEnroll(store, info, certs, notes, &len, &err);
    for (i = 0; i < notes->len; i++)
        printf("%s\n", (const char *) g_ptr_array_index(notes, i));
    if (!image) {
        if (err)
            return fwselCliFail(err);
        printf("%s: nothing to add: left as it is\n", path);
        return FWSEL_EXIT_OK;
    }
    if (fwselCliNvramEnrollVerify(path, image, len, certs, &err) < 0)
        return fwselCliFail(err);

    if (!root) {
        g_autoptr(fwselRoot) host = NULL;

        if (!(host = fwselRootOpen("/", &err)) ||
            fwselNvramRewrite(host, path, &sb, image, len, &backup, &err) < 0)
            return fwselCliFail(err);
    } else if (fwselNvramRewrite(root, path, &sb, image, len, &backup, &err) < 0) {
        return fwselCliFail(err);
    }
    printf("enrolled into %s; the old varstore is kept as %s\n", path, backup);
    return FWSEL_EXIT_OK;
}


/* nvram audit: offline under --root or with --offline, else libvirt */
static int
fwselCliNvramAudit(fwselCli *cli, int argc, char **argv G_GNUC_UNUSED)
{
    if (argc != 1)
        return fwselCliUsage("nvram audit takes no arguments");
    if (cli->file || cli->kek || cli->db || cli->sigOwner || cli->backup || cli->owner ||
        cli->incoming)
        return fwselCliUsage("nvram audit takes no options but --offline, --at, --json, "
                             "--connect and the host options");
    if (cli->root || cli->offline)
        return fwselCliAuditOffline(cli);
#ifdef WITH_LIBVIRT
    return fwselCliAuditLibvirt(cli);
#else
    return fwselCliExecLibvirt(cli, argc, argv);
#endif
}


int
fwselCliNvram(fwselCli *cli, int argc, char **argv)
{
    g_autoptr(fwselCatalog) catalog = NULL;
    g_autoptr(fwselResult) sel = NULL;
    g_autoptr(GError) err = NULL;
    fwselNvramOwner owner = { 0 };
    bool explicitPath = false;
    int op;

    op = argc >= 1 ? fwselCliNvramOpTypeFromString(argv[0]) : -1;
    if (op == FWSEL_CLI_NVRAM_AUDIT)
        return fwselCliNvramAudit(cli, argc, argv);
    if (cli->offline || cli->at)
        return fwselCliUsage("--offline and --at only apply to nvram audit");
    if (op != FWSEL_CLI_NVRAM_ENROLL && (cli->kek || cli->db || cli->sigOwner))
        return fwselCliUsage("--kek, --db and --signature-owner only apply to nvram enroll");
    if (op == FWSEL_CLI_NVRAM_ENROLL)
        return fwselCliNvramEnroll(cli, argc, argv);
    if (argc >= 1 && cli->file) {
        if (op != FWSEL_CLI_NVRAM_INSPECT)
            return fwselCliUsage("--file only applies to nvram inspect and enroll");
        if (argc != 1)
            return fwselCliUsage("nvram inspect takes DOMAIN.xml or --file FILE, not both");
        return fwselCliNvramInspectFile(cli, NULL, cli->file, NULL);
    }
    if (argc != 2 || (op = fwselCliNvramOpTypeFromString(argv[0])) < 0)
        return fwselCliUsage("nvram takes an action (create, reset, check, remove, inspect, "
                             "enroll) and DOMAIN.xml (inspect, enroll: or --file FILE), "
                             "or audit");
    if (cli->incoming && op != FWSEL_CLI_NVRAM_CREATE)
        return fwselCliUsage("--incoming only applies to nvram create");
    if (cli->backup && op != FWSEL_CLI_NVRAM_RESET)
        return fwselCliUsage("--backup only applies to nvram reset");
    if (cli->owner && op != FWSEL_CLI_NVRAM_CREATE && op != FWSEL_CLI_NVRAM_RESET)
        return fwselCliUsage("--owner only applies to nvram create and reset");
    if (cli->owner && fwselNvramOwnerParse(cli->owner, &owner, &err) < 0)
        return fwselCliFail(err);

    if (!(sel = fwselCliNvramDomain(cli, argv[1], &catalog, &explicitPath, &err)))
        return fwselCliFail(err);

    switch ((fwselCliNvramOp) op) {
    case FWSEL_CLI_NVRAM_CREATE:
        return fwselCliNvramCreate(cli, catalog, sel->dom, cli->owner ? &owner : NULL);
    case FWSEL_CLI_NVRAM_RESET:
        return fwselCliNvramReset(cli, catalog, sel->dom, cli->owner ? &owner : NULL);
    case FWSEL_CLI_NVRAM_CHECK:
        return fwselCliNvramCheck(catalog, sel->dom);
    case FWSEL_CLI_NVRAM_REMOVE:
        return fwselCliNvramRemove(catalog, sel->dom, explicitPath);
    case FWSEL_CLI_NVRAM_INSPECT:
        return fwselCliNvramInspect(cli, catalog, sel->dom);
    case FWSEL_CLI_NVRAM_AUDIT:
    case FWSEL_CLI_NVRAM_ENROLL:
    case FWSEL_CLI_NVRAM_LAST:
        break;
    }
    return FWSEL_EXIT_USAGE;
}


/**
 * fwselCliNvramSelectWarn:
 *
 * For 'select': warn when a varstore already at the domain's path does
 * not fit the firmware just selected.  Never changes the exit status.
 */
void
fwselCliNvramSelectWarn(const fwselCatalog *catalog, const fwselDomain *dom)
{
    g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func(g_free);
    guint i;

    /* no local varstore, none there yet, or it could not be looked at */
    if (fwselNvramCheck(catalog, dom, problems, NULL) != FWSEL_NVRAM_EXISTED)
        return;
    for (i = 0; i < problems->len; i++)
        fprintf(stderr, "virt-fwsel: warning: existing varstore does not fit: %s\n",
                (const char *) g_ptr_array_index(problems, i));
}
