/*
 * fwsel-types.h: enums, string tables and errors shared by every module
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <stdbool.h>
#include <glib.h>
#include "libfwsel.h"

G_BEGIN_DECLS

/* FWSEL_ERROR, fwselErrorCode and the public enums */


/*
 * Enum <-> string tables.  Every table is a plain array of strings indexed
 * by the enum value; the _LAST member of the enum gives its size.
 */
#define FWSEL_ENUM_DECL(name) \
    const char *name##TypeToString(int type); \
    int name##TypeFromString(const char *str)

#define FWSEL_ENUM_IMPL(name, lastVal, ...) \
    static const char *const name##TypeList[] = { __VA_ARGS__ }; \
    G_STATIC_ASSERT(G_N_ELEMENTS(name##TypeList) == lastVal); \
    const char *name##TypeToString(int type) \
    { \
        return fwselEnumToString(name##TypeList, lastVal, type); \
    } \
    int name##TypeFromString(const char *str) \
    { \
        return fwselEnumFromString(name##TypeList, lastVal, str); \
    }

const char *fwselEnumToString(const char *const *list, int last, int type);
int fwselEnumFromString(const char *const *list, int last, const char *str);


typedef enum {
    FWSEL_TRISTATE_ABSENT = 0,
    FWSEL_TRISTATE_YES,
    FWSEL_TRISTATE_NO,

    FWSEL_TRISTATE_LAST
} fwselTristate;
FWSEL_ENUM_DECL(fwselTristate);    /* "", "yes", "no" */
FWSEL_ENUM_DECL(fwselSwitch);      /* "", "on", "off" */


/* Interfaces a firmware offers to the guest OS (descriptor
 * "interface-types"). */
typedef enum {
    FWSEL_INTERFACE_NONE = 0,
    FWSEL_INTERFACE_BIOS,
    FWSEL_INTERFACE_OPENFIRMWARE,
    FWSEL_INTERFACE_UBOOT,
    FWSEL_INTERFACE_UEFI,

    FWSEL_INTERFACE_LAST
} fwselInterface;
FWSEL_ENUM_DECL(fwselInterface);


/* How QEMU maps the firmware (descriptor "mapping" "device"). */
typedef enum {
    FWSEL_DEVICE_NONE = 0,
    FWSEL_DEVICE_FLASH,
    FWSEL_DEVICE_KERNEL,
    FWSEL_DEVICE_MEMORY,
    FWSEL_DEVICE_IGVM,

    FWSEL_DEVICE_LAST
} fwselDevice;
FWSEL_ENUM_DECL(fwselDevice);


typedef enum {
    FWSEL_FLASH_MODE_SPLIT = 0,
    FWSEL_FLASH_MODE_COMBINED,
    FWSEL_FLASH_MODE_STATELESS,

    FWSEL_FLASH_MODE_LAST
} fwselFlashMode;
FWSEL_ENUM_DECL(fwselFlashMode);


typedef enum {
    FWSEL_FORMAT_NONE = 0,
    FWSEL_FORMAT_RAW,
    FWSEL_FORMAT_QCOW2,

    FWSEL_FORMAT_LAST
} fwselFormat;
FWSEL_ENUM_DECL(fwselFormat);


/* Features a descriptor can declare.  The order is the order of QEMU's
 * schema, and the order in which 'list' prints them. */
typedef enum {
    FWSEL_FEATURE_ACPI_S3 = 0,
    FWSEL_FEATURE_ACPI_S4,
    FWSEL_FEATURE_AMD_SEV,
    FWSEL_FEATURE_AMD_SEV_ES,
    FWSEL_FEATURE_AMD_SEV_SNP,
    FWSEL_FEATURE_INTEL_TDX,
    FWSEL_FEATURE_ENROLLED_KEYS,
    FWSEL_FEATURE_REQUIRES_SMM,
    FWSEL_FEATURE_SECURE_BOOT,
    FWSEL_FEATURE_VERBOSE_DYNAMIC,
    FWSEL_FEATURE_VERBOSE_STATIC,
    FWSEL_FEATURE_HOST_UEFI_VARS,

    FWSEL_FEATURE_LAST
} fwselFeature;
FWSEL_ENUM_DECL(fwselFeature);

#define FWSEL_FEATURE_BIT(f) (G_GUINT64_CONSTANT(1) << (f))


/* Domain side: <os firmware=...> */
typedef enum {
    FWSEL_FIRMWARE_NONE = 0,
    FWSEL_FIRMWARE_BIOS,
    FWSEL_FIRMWARE_EFI,

    FWSEL_FIRMWARE_LAST
} fwselFirmware;
FWSEL_ENUM_DECL(fwselFirmware);


/* Domain side: <loader type=...> */
typedef enum {
    FWSEL_LOADER_TYPE_NONE = 0,
    FWSEL_LOADER_TYPE_ROM,
    FWSEL_LOADER_TYPE_PFLASH,

    FWSEL_LOADER_TYPE_LAST
} fwselLoaderType;
FWSEL_ENUM_DECL(fwselLoaderType);


/* Domain side: <launchSecurity type=...> */
typedef enum {
    FWSEL_LAUNCH_SECURITY_NONE = 0,
    FWSEL_LAUNCH_SECURITY_SEV,
    FWSEL_LAUNCH_SECURITY_SEV_SNP,
    FWSEL_LAUNCH_SECURITY_TDX,
    FWSEL_LAUNCH_SECURITY_S390_PV,

    FWSEL_LAUNCH_SECURITY_LAST
} fwselLaunchSecurity;
FWSEL_ENUM_DECL(fwselLaunchSecurity);

/* SEV policy bit that asks for SEV-ES */
#define FWSEL_SEV_POLICY_ES 0x4

G_END_DECLS
