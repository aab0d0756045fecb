/*
 * fwsel-command.h: the firmware part of the QEMU command line libvirt
 * 9.0.0 builds for a domain (QEMU 7.2, -blockdev era)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-evaluate.h"

G_BEGIN_DECLS

/* Node names libvirt gives the flash block nodes */
#define FWSEL_PFLASH_NODE_FMT "libvirt-pflash%u-%s"

typedef struct _fwselCommand fwselCommand;
struct _fwselCommand {
    /* char *: the arguments, in libvirt's order, each exactly as QEMU
     * receives it (no shell quoting) */
    GPtrArray *args;
    /* char *: what the reader should know, e.g. where libvirt 9.0.0
     * differs from the libvirt fwsel's selection follows */
    GPtrArray *notes;
    /* the filled firmware slice the arguments were built from */
    fwselDomain *dom;
};

void fwselCommandFree(fwselCommand *cmd);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselCommand, fwselCommandFree);

fwselCommand *fwselCommandBuild(const fwselRequest *req,
                                const fwselResult *result,
                                GError **error);

char *fwselCommandFormat(const fwselCommand *cmd);

G_END_DECLS
