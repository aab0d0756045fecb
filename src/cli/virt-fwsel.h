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
    gboolean offline;       /* nvram audit: definitions, not libvirt */
    char *at;               /* nvram audit, check, explain: --at DATE */
    char **kek;             /* nvram enroll: certificates for KEK */
    char **db;              /* nvram enroll: certificates for db */
    char *sigOwner;         /* nvram enroll: --signature-owner GUID */
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

/* nvram audit (cli-audit.c): a defined domain, from libvirt or from its
 * file in /etc/libvirt/qemu */
typedef struct {
    char *name;
    char *state;                /* "running", "shut off"; NULL offline */
    fwselDomainXML *doc;        /* NULL when it could not be read */
    char *error;                /* why */
} fwselCliAuditDomain;

void fwselCliAuditDomainFree(fwselCliAuditDomain *d);
int fwselCliAuditReport(fwselCli *cli, const fwselCatalog *catalog, GPtrArray *domains);
int fwselCliAuditOffline(fwselCli *cli);

/* check, explain: the keys of varstore templates, each read once */
typedef struct {
    char *text;                 /* one line: the keys, or why there are none */
    struct _fwselSbFacts *facts;        /* NULL: not a readable varstore */
    char *error;
} fwselCliTemplateFacts;
typedef struct _fwselCliTemplates fwselCliTemplates;

fwselCliTemplates *fwselCliTemplatesNew(fwselCli *cli, const fwselCatalog *catalog,
                                        GError **error);
void fwselCliTemplatesFree(fwselCliTemplates *t);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselCliTemplates, fwselCliTemplatesFree);
const fwselCliTemplateFacts *fwselCliTemplatesGet(fwselCliTemplates *t, const char *path);
struct json_object *fwselCliTemplateFactsToJSON(const fwselCliTemplateFacts *f);

/* virt-fwsel-libvirt only (cli-define.c) */
#ifdef WITH_LIBVIRT
int fwselCliDefine(fwselCli *cli, int argc, char **argv);
int fwselCliRedefine(fwselCli *cli, int argc, char **argv);
int fwselCliDrift(fwselCli *cli, int argc, char **argv);
int fwselCliAuditLibvirt(fwselCli *cli);
/* 1 running, 0 not, -1 libvirt cannot say (@error set) */
int fwselCliDomainRunning(fwselCli *cli, const char *name, GError **error);
#else
/* hands the whole command line over to virt-fwsel-libvirt */
int fwselCliExecLibvirt(fwselCli *cli, int argc, char **argv);
/* whether virt-fwsel-libvirt is there to hand over to */
bool fwselCliHaveLibvirt(void);
#endif
