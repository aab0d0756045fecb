/*
 * fwsel.h: libfwsel, firmware selection for QEMU/libvirt domains
 *
 * Data flows one way:
 *   host options -> catalog (every host fact, read once through one
 *   root-confined resolver) -> request (a domain, with facts about the
 *   files it names) -> evaluate (pure: rules, verdicts) -> result ->
 *   domain XML (one writer, as libvirt records it or pinned) / QEMU argv /
 *   NVRAM files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-types.h"
#include "fwsel-util.h"
#include "fwsel-resolver.h"
#include "fwsel-host.h"
#include "fwsel-machines.h"
#include "fwsel-descriptor.h"
#include "fwsel-search.h"
#include "fwsel-catalog.h"
#include "fwsel-domain.h"
#include "fwsel-domxml.h"
#include "fwsel-request.h"
#include "fwsel-rules.h"
#include "fwsel-evaluate.h"
#include "fwsel-fill.h"
#include "fwsel-nvram.h"
#include "fwsel-command.h"
#include "fwsel-preserve.h"
#include "fwsel-drift.h"
