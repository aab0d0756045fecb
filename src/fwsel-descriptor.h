/*
 * fwsel-descriptor.h: one QEMU firmware descriptor (docs/interop/firmware.json)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-types.h"

G_BEGIN_DECLS

typedef struct {
    char *filename;
    fwselFormat format;
} fwselFlashFile;

typedef struct {
    char *architecture;     /* libvirt's name: x86_64, i686, aarch64, armv7l, ... */
    char **machines;        /* NULL-terminated list of glob patterns */
} fwselTarget;

typedef struct _fwselDescriptor fwselDescriptor;
struct _fwselDescriptor {
    char *path;             /* the file, as the host sees it */
    char *name;             /* its basename */
    char *description;

    unsigned int interfaces;        /* bits: 1 << fwselInterface */

    fwselDevice device;
    fwselFlashMode mode;            /* flash */
    fwselFlashFile executable;      /* flash */
    fwselFlashFile nvramTemplate;   /* flash, split mode only */
    char *filename;                 /* memory, kernel, igvm */

    size_t ntargets;
    fwselTarget *targets;

    guint64 features;               /* bits: FWSEL_FEATURE_BIT() */
    char **unknownFeatures;         /* names fwsel does not know, or NULL */
};

void fwselDescriptorFree(fwselDescriptor *desc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselDescriptor, fwselDescriptorFree);

/* Parses descriptors one after the other; one per thread */
typedef struct _fwselDescriptorParser fwselDescriptorParser;
fwselDescriptorParser *fwselDescriptorParserNew(void);
void fwselDescriptorParserFree(fwselDescriptorParser *parser);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselDescriptorParser, fwselDescriptorParserFree);

fwselDescriptor *fwselDescriptorParseWith(fwselDescriptorParser *parser,
                                          const char *path,
                                          const char *json,
                                          gsize length,
                                          GError **error);
fwselDescriptor *fwselDescriptorParse(const char *path,
                                      const char *json,
                                      gsize length,
                                      GError **error);

const char *fwselDescriptorCodeFile(const fwselDescriptor *desc);
const char *fwselDescriptorTemplateFile(const fwselDescriptor *desc);
bool fwselDescriptorIsSplit(const fwselDescriptor *desc);
const char *fwselDescriptorRelativePath(const fwselDescriptor *desc);

bool fwselDescriptorHasFeature(const fwselDescriptor *desc,
                               fwselFeature feature);
bool fwselDescriptorHasInterface(const fwselDescriptor *desc,
                                 fwselInterface iface);
bool fwselDescriptorSupportsTarget(const fwselDescriptor *desc,
                                   const char *arch,
                                   const char *machine);

const char *fwselArchFromQemu(const char *qemuArch);
const char *fwselArchToQemu(const char *arch);

G_END_DECLS
