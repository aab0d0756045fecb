/*
 * fwsel.h: libfwsel, firmware selection for QEMU/libvirt domains
 *
 * Data flows one way:
 *   descriptor files -> catalog (search) -> descriptors -> match (rules,
 *   reasons) -> fill (domain slice) -> domain XML / QEMU argv / NVRAM files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-types.h"
#include "fwsel-util.h"
#include "fwsel-host.h"
#include "fwsel-descriptor.h"
#include "fwsel-search.h"
#include "fwsel-domain.h"
#include "fwsel-match.h"
#include "fwsel-fill.h"
#include "fwsel-nvram.h"
#include "fwsel-command.h"
#include "fwsel-preserve.h"
#include "fwsel-drift.h"
