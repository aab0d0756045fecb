/*
 * virt-fwsel.h: the command line front end; each command is a thin layer
 * over libfwsel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel.h"

/* Exit codes */
#define FWSEL_EXIT_OK 0
#define FWSEL_EXIT_FAIL 1       /* no match, check found problems */
#define FWSEL_EXIT_USAGE 2      /* bad input or usage; nothing written */

typedef struct {
    char *root;
    gboolean session;
    char *nvramDir;
    char **machineAliases;
    gboolean json;
    char *arch;
    char *machine;
    gboolean noProbe;
    char *libvirt;
    char *policy;
    char *connect;
    char *owner;
    gboolean backup;
    gboolean incoming;
    gboolean noNvram;
    char *file;             /* nvram inspect --file */
} fwselCli;

typedef int (*fwselCliCommandFunc)(fwselCli *cli, int argc, char **argv);

/* Prints "virt-fwsel: <message>" on stderr and returns the exit code for
 * the error's kind. */
int fwselCliFail(GError *error);
void fwselCliNote(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
int fwselCliUsage(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

fwselCatalog *fwselCliLoad(fwselCli *cli, GError **error);

/* A domain XML file given on the command line, as a request */
typedef struct {
    fwselDomainXML *doc;
    fwselRequest *req;
} fwselCliInput;

void fwselCliInputClear(fwselCliInput *in);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(fwselCliInput, fwselCliInputClear);
int fwselCliInputRead(const char *file, fwselCliInput *in, GError **error);
const fwselRequest *fwselCliInputRequest(const fwselCatalog *catalog, fwselCliInput *in);
int fwselCliResultFail(const fwselResult *result, const char *file);

int fwselCliList(fwselCli *cli, int argc, char **argv);
int fwselCliSelect(fwselCli *cli, int argc, char **argv);
int fwselCliExplain(fwselCli *cli, int argc, char **argv);
int fwselCliCheck(fwselCli *cli, int argc, char **argv);
int fwselCliNvram(fwselCli *cli, int argc, char **argv);
int fwselCliArgv(fwselCli *cli, int argc, char **argv);
int fwselCliPreserve(fwselCli *cli, int argc, char **argv);
int fwselCliMigrateXML(fwselCli *cli, int argc, char **argv);

/* select: warn about an existing varstore that does not fit */
void fwselCliNvramSelectWarn(const fwselCatalog *catalog, const fwselDomain *dom);

/* virt-fwsel-libvirt only (cli-define.c) */
#ifdef WITH_LIBVIRT
int fwselCliDefine(fwselCli *cli, int argc, char **argv);
int fwselCliRedefine(fwselCli *cli, int argc, char **argv);
int fwselCliDrift(fwselCli *cli, int argc, char **argv);
#endif
