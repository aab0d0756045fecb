/*
 * virt-fwsel.c: command dispatch and the options every command shares
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "virt-fwsel.h"

/* The command line as given, for handing a libvirt command over */
static char **fwselCliCommandLine;

#ifdef WITH_LIBVIRT
# define FWSEL_CLI_LIBVIRT(func) func
#else
/*
 * Commands that talk to libvirt live in a second executable,
 * virt-fwsel-libvirt, so that the other commands never load libvirt.so
 * and its many dependencies.  It is looked up beside this executable
 * (a build tree), then in the libexec directory.
 */
# define FWSEL_CLI_LIBVIRT(func) fwselCliExecLibvirt

static char *
fwselCliLibvirtHelper(void)
{
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = self ? g_path_get_dirname(self) : NULL;
    g_autofree char *beside = dir ? g_build_filename(dir, "virt-fwsel-libvirt", NULL) : NULL;

    if (beside && g_file_test(beside, G_FILE_TEST_IS_EXECUTABLE))
        return g_steal_pointer(&beside);
    return g_build_filename(FWSEL_LIBEXECDIR, "virt-fwsel-libvirt", NULL);
}


bool
fwselCliHaveLibvirt(void)
{
    g_autofree char *helper = fwselCliLibvirtHelper();

    return g_file_test(helper, G_FILE_TEST_IS_EXECUTABLE);
}


int
fwselCliExecLibvirt(fwselCli *cli G_GNUC_UNUSED, int argc G_GNUC_UNUSED, char **argv G_GNUC_UNUSED)
{
    g_autofree char *helper = fwselCliLibvirtHelper();

    execv(helper, fwselCliCommandLine);
    fprintf(stderr, "virt-fwsel: this command needs %s (virt-fwsel built with libvirt): %s\n",
            helper, g_strerror(errno));
    return FWSEL_EXIT_USAGE;
}
#endif

static const struct {
    const char *name;
    fwselCliCommandFunc run;
    const char *args;
    const char *summary;
} fwselCliCommands[] = {
    { "list", fwselCliList, "",
      "descriptors in precedence order; shadowed, masked and invalid ones marked" },
    { "select", fwselCliSelect, "DOMAIN.xml",
      "print the domain XML with its firmware filled in" },
    { "explain", fwselCliExplain, "DOMAIN.xml",
      "the verdict and reason for every descriptor" },
    { "check", fwselCliCheck, "",
      "host preflight: which firmware each common request would get" },
    { "nvram", fwselCliNvram, "OP DOMAIN.xml",
      "the domain's varstore (audit: the Secure Boot keys of every defined domain); "
      "OP is create, reset, check, remove, inspect, enroll or audit" },
    { "argv", fwselCliArgv, "DOMAIN.xml",
      "the firmware arguments of the QEMU command line, one per line" },
    { "preserve", fwselCliPreserve, "EXISTING.xml NEW.xml",
      "NEW with the loader and varstore of EXISTING pinned (or re-selected, saying why)" },
    { "migrate-xml", fwselCliMigrateXML, "DOMAIN.xml",
      "the incoming definition with loader and varstore pinned for this host" },
    { "define", FWSEL_CLI_LIBVIRT(fwselCliDefine), "DOMAIN.xml",
      "select, pin the choice and define the domain through libvirt (--connect)" },
    { "redefine", FWSEL_CLI_LIBVIRT(fwselCliRedefine), "NAME",
      "pin the firmware a defined domain has (or re-select, saying why) and define it again" },
    { "drift", FWSEL_CLI_LIBVIRT(fwselCliDrift), "NAME",
      "exit 1 if selection on this host would now choose other firmware than NAME has" },
};


int
fwselCliFail(GError *error)
{
    fprintf(stderr, "virt-fwsel: %s\n", error->message);
    switch ((fwselErrorCode) error->code) {
    case FWSEL_ERROR_NOMATCH:
    case FWSEL_ERROR_EXISTS:
        return FWSEL_EXIT_FAIL;
    case FWSEL_ERROR_INVALID:
    case FWSEL_ERROR_VALIDATE:
    case FWSEL_ERROR_IO:
    case FWSEL_ERROR_UNSAFE:
        break;
    }
    return FWSEL_EXIT_USAGE;
}


void
fwselCliNote(const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "virt-fwsel: note: %s\n", msg);
}


int
fwselCliUsage(const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "virt-fwsel: %s\nTry 'virt-fwsel --help'.\n", msg);
    return FWSEL_EXIT_USAGE;
}


/**
 * fwselCliLoad:
 *
 * The host described by the shared options (--root, --session,
 * --nvram-dir, --machine-alias, --no-qemu-probe) as a catalog: every
 * host fact a command needs, read once.
 */
fwselCatalog *
fwselCliLoad(fwselCli *cli, GError **error)
{
    g_autoptr(fwselHostOptions) opts = fwselHostOptionsNew();
    char **alias;

    if (fwselHostOptionsSetRoot(opts, cli->root, error) < 0)
        return NULL;
    fwselHostOptionsSetSession(opts, cli->session);
    fwselHostOptionsSetProbe(opts, !cli->noProbe);
    if (cli->libvirt && fwselHostOptionsSetLibvirt(opts, cli->libvirt, error) < 0)
        return NULL;
    if (cli->policy) {
        int policy = fwselPolicyTypeFromString(cli->policy);

        if (policy < 0) {
            g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                        "--policy: unknown policy '%s' (expected libvirt or safe)", cli->policy);
            return NULL;
        }
        fwselHostOptionsSetPolicy(opts, policy);
    }
    if (cli->nvramDir && fwselHostOptionsSetNvramDir(opts, cli->nvramDir, error) < 0)
        return NULL;
    for (alias = cli->machineAliases; alias && *alias; alias++) {
        if (fwselHostOptionsAddMachineAlias(opts, *alias, error) < 0)
            return NULL;
    }
    return fwselCatalogLoad(opts, error);
}


void
fwselCliInputClear(fwselCliInput *in)
{
    fwselRequestFree(in->req);
    fwselDomainXMLFree(in->doc);
    *in = (fwselCliInput) { 0 };
}


/* Reads a domain XML file */
int
fwselCliInputRead(const char *file, fwselCliInput *in, GError **error)
{
    if (!(in->doc = fwselDomainXMLLoad(file, error)))
        return -1;
    return 0;
}


/* The domain's request against @catalog (built once) */
const fwselRequest *
fwselCliInputRequest(const fwselCatalog *catalog, fwselCliInput *in)
{
    if (!in->req)
        in->req = fwselRequestNew(catalog, fwselDomainXMLGetDomain(in->doc));
    return in->req;
}


/* Reports a failed evaluation; a self-contradicting request names @file */
int
fwselCliResultFail(const fwselResult *result, const char *file)
{
    g_autoptr(GError) err = NULL;

    fwselResultToError(result, &err);
    if (err->code == FWSEL_ERROR_VALIDATE && file)
        g_prefix_error(&err, "%s: ", file);
    return fwselCliFail(err);
}


static char *
fwselCliDescription(void)
{
    g_autoptr(GString) out = g_string_new("Commands:\n");
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(fwselCliCommands); i++)
        g_string_append_printf(out, "  %s%s%s\n      %s\n", fwselCliCommands[i].name,
                               *fwselCliCommands[i].args ? " " : "",
                               fwselCliCommands[i].args, fwselCliCommands[i].summary);
    g_string_append(out,
                    "\nExit status: 0 success, 1 no firmware matches (or nvram check, drift "
                    "found a problem, nvram audit found a domain needing attention), 2 bad "
                    "input or usage.\nSee virt-fwsel(1).");
    return g_string_free(g_steal_pointer(&out), FALSE);
}


int
main(int argc, char **argv)
{
    g_autoptr(GOptionContext) octx = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *description = NULL;
    fwselCli cli = { 0 };
    int ret = FWSEL_EXIT_USAGE;
    size_t i;
    GOptionEntry entries[] = {
        { "root", 0, 0, G_OPTION_ARG_FILENAME, &cli.root,
          "Read every host file under DIR instead of /", "DIR" },
        { "session", 0, 0, G_OPTION_ARG_NONE, &cli.session,
          "Also read $XDG_CONFIG_HOME/qemu/firmware, as an unprivileged daemon does", NULL },
        { "nvram-dir", 0, 0, G_OPTION_ARG_FILENAME, &cli.nvramDir,
          "Directory for per-domain varstores (default " FWSEL_NVRAM_DIR ")", "DIR" },
        { "machine-alias", 0, 0, G_OPTION_ARG_STRING_ARRAY, &cli.machineAliases,
          "Resolve machine type ALIAS to MACHINE (repeatable)", "ALIAS=MACHINE" },
        { "no-qemu-probe", 0, 0, G_OPTION_ARG_NONE, &cli.noProbe,
          "Do not ask qemu-system-ARCH for machine aliases; use the built-in table", NULL },
        { "libvirt", 0, 0, G_OPTION_ARG_STRING, &cli.libvirt,
          "Answer as this libvirt version does (default: the host's libvirt)", "VERSION" },
        { "policy", 0, 0, G_OPTION_ARG_STRING, &cli.policy,
          "libvirt (default): libvirt's answer; safe: also fwsel's own rules", "POLICY" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &cli.json,
          "Machine-readable output (list, explain, check)", NULL },
        { "arch", 0, 0, G_OPTION_ARG_STRING, &cli.arch,
          "check: guest architecture (default x86_64)", "ARCH" },
        { "machine", 0, 0, G_OPTION_ARG_STRING, &cli.machine,
          "check: machine type (default q35 on x86, virt elsewhere)", "MACHINE" },
        { "connect", 'c', 0, G_OPTION_ARG_STRING, &cli.connect,
          "libvirt connection URI (default qemu:///system)", "URI" },
        { "owner", 0, 0, G_OPTION_ARG_STRING, &cli.owner,
          "nvram: owner of created varstores (default: qemu.conf user:group)", "USER:GROUP" },
        { "backup", 0, 0, G_OPTION_ARG_NONE, &cli.backup,
          "nvram reset: keep the old varstore as PATH.bak-TIMESTAMP", NULL },
        { "no-nvram", 0, 0, G_OPTION_ARG_NONE, &cli.noNvram,
          "define, redefine: do not create a missing varstore", NULL },
        { "incoming", 0, 0, G_OPTION_ARG_NONE, &cli.incoming,
          "nvram create: migration destination; never touch an existing file", NULL },
        { "file", 0, 0, G_OPTION_ARG_FILENAME, &cli.file,
          "nvram inspect, enroll: this varstore file instead of a domain's", "FILE" },
        { "offline", 0, 0, G_OPTION_ARG_NONE, &cli.offline,
          "nvram audit: read the definitions in /etc/libvirt/qemu, not libvirt "
          "(implied by a host root)", NULL },
        { "at", 0, 0, G_OPTION_ARG_STRING, &cli.at,
          "nvram audit, check, explain: certificates expired at this date "
          "(YYYY-MM-DD, default now)", "DATE" },
        { "kek", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &cli.kek,
          "nvram enroll: add this certificate (DER or PEM) to KEK (repeatable)", "CERT" },
        { "db", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &cli.db,
          "nvram enroll: add this certificate (DER or PEM) to db (repeatable)", "CERT" },
        { "signature-owner", 0, 0, G_OPTION_ARG_STRING, &cli.sigOwner,
          "nvram enroll: owner GUID of the added entries (default: Microsoft's for "
          "Microsoft's CAs, else fwsel's)", "GUID" },
        { NULL }
    };

    /* the character set only: fwsel's messages are not translated, and
     * loading every locale category costs more than the rest of a run */
    setlocale(LC_CTYPE, "");
    fwselCliCommandLine = g_strdupv(argv);

    octx = g_option_context_new("COMMAND [ARGS...]");
    g_option_context_set_summary(octx,
                                 "Select QEMU firmware for libvirt domains from the host's "
                                 "firmware descriptors, and say why.");
    description = fwselCliDescription();
    g_option_context_set_description(octx, description);
    g_option_context_add_main_entries(octx, entries, NULL);

    if (!g_option_context_parse(octx, &argc, &argv, &err)) {
        ret = fwselCliUsage("%s", err->message);
        goto cleanup;
    }

    if (argc < 2) {
        ret = fwselCliUsage("missing command");
        goto cleanup;
    }

    for (i = 0; i < G_N_ELEMENTS(fwselCliCommands); i++) {
        if (g_str_equal(argv[1], fwselCliCommands[i].name)) {
            ret = fwselCliCommands[i].run(&cli, argc - 2, argv + 2);
            goto cleanup;
        }
    }
    ret = fwselCliUsage("unknown command '%s'", argv[1]);

 cleanup:
    g_free(cli.root);
    g_free(cli.nvramDir);
    g_strfreev(cli.machineAliases);
    g_free(cli.arch);
    g_free(cli.machine);
    g_free(cli.connect);
    g_free(cli.owner);
    g_free(cli.libvirt);
    g_free(cli.policy);
    g_free(cli.file);
    g_free(cli.at);
    g_strfreev(cli.kek);
    g_strfreev(cli.db);
    g_free(cli.sigOwner);
    g_strfreev(fwselCliCommandLine);
    return ret;
}
