/*
 * fwsel-util.h: small helpers shared by the modules (path names, bounded
 * reads of files given on the command line)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <sys/types.h>
#include "fwsel-types.h"

G_BEGIN_DECLS

/* The largest descriptor, domain XML or config file fwsel reads. */
#define FWSEL_MAX_INPUT_SIZE (1024 * 1024)

int fwselFileReadBounded(const char *file,
                         gsize maxSize,
                         char **contents,
                         gsize *length,
                         GError **error);

char *fwselPathJoin(const char *dir, const char *name);

bool fwselPathIsSafeName(const char *name);

G_END_DECLS
