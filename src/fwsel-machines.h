/*
 * fwsel-machines.h: what a machine type alias (q35, pc, virt) stands for
 * on a host
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-resolver.h"

G_BEGIN_DECLS

/* Where an answer came from, for explain */
typedef enum {
    FWSEL_MACHINE_SOURCE_DOMAIN = 0,    /* not an alias: as the domain says */
    FWSEL_MACHINE_SOURCE_OPTION,        /* --machine-alias */
    FWSEL_MACHINE_SOURCE_LIBVIRT_CACHE, /* libvirt's QEMU capabilities cache */
    FWSEL_MACHINE_SOURCE_PROBE,         /* the host's QEMU (or fwsel's cache of it) */
    FWSEL_MACHINE_SOURCE_BUILTIN,       /* fwsel's table for QEMU 7.2 */

    FWSEL_MACHINE_SOURCE_LAST
} fwselMachineSource;
FWSEL_ENUM_DECL(fwselMachineSource);

typedef struct _fwselMachines fwselMachines;

fwselMachines *fwselMachinesNew(const fwselRoot *root,
                                GHashTable *userAliases,
                                bool probe);
void fwselMachinesFree(fwselMachines *machines);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselMachines, fwselMachinesFree);

const char *fwselMachinesResolve(fwselMachines *machines,
                                 const char *arch,
                                 const char *machine,
                                 fwselMachineSource *source);

/* exported for the unit tests */
GHashTable *fwselMachinesParseHelp(const char *out);
GHashTable *fwselMachinesParseCapsCache(const char *xml,
                                        gsize length,
                                        const char *emulator,
                                        gint64 ctime);

G_END_DECLS
