/*
 * fwsel-util.h: small helpers shared by the modules (paths under a root,
 * bounded file reads)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <sys/types.h>
#include "fwsel-types.h"

G_BEGIN_DECLS

/* The largest descriptor, domain XML or config file fwsel reads. */
#define FWSEL_MAX_INPUT_SIZE (1024 * 1024)

char *fwselPathUnderRoot(const char *root, const char *path);

int fwselPathResolve(const char *root,
                     const char *path,
                     char **resolved,
                     GError **error);

int fwselFileReadBounded(const char *file,
                         gsize maxSize,
                         char **contents,
                         gsize *length,
                         GError **error);

char *fwselPathJoin(const char *dir, const char *name);

bool fwselPathSameFile(const char *root, const char *a, const char *b);

bool fwselPathIsSafeName(const char *name);

G_END_DECLS
