/*
 * fwsel-domain.h: the part of a libvirt domain definition that firmware
 * selection reads and writes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include "fwsel-types.h"

G_BEGIN_DECLS

/* <os><loader> */
typedef struct {
    bool present;
    char *path;
    fwselLoaderType type;
    fwselTristate readonly;
    fwselTristate secure;
    fwselTristate stateless;
    fwselFormat format;
} fwselLoader;

/* <nvram type=...>: where the varstore lives */
typedef enum {
    FWSEL_NVRAM_SOURCE_FILE = 0,    /* a local file (the default) */
    FWSEL_NVRAM_SOURCE_BLOCK,       /* a local block device */
    FWSEL_NVRAM_SOURCE_NETWORK,     /* network storage fwsel cannot see */

    FWSEL_NVRAM_SOURCE_LAST
} fwselNvramSource;
FWSEL_ENUM_DECL(fwselNvramSource);

/* <os><nvram> */
typedef struct {
    bool present;
    char *path;
    char *templatePath;
    fwselFormat format;
    fwselFormat templateFormat;
    fwselNvramSource source;
} fwselNvram;

/* the namespace of fwsel's <metadata> element recording a pinned role */
#define FWSEL_PIN_METADATA_NS "urn:fwsel:firmware:1"

typedef struct _fwselDomain fwselDomain;
struct _fwselDomain {
    char *name;
    char *arch;             /* libvirt name, e.g. x86_64 */
    char *machine;          /* as written; may be an alias or NULL */

    fwselFirmware firmware; /* <os firmware=...> */
    fwselLoader loader;
    fwselNvram nvram;
    char *kernel;           /* <os><kernel> */

    bool hasFirmwareFeatures;       /* <os><firmware> present */
    fwselTristate secureBoot;       /* <feature name='secure-boot'> */
    fwselTristate enrolledKeys;     /* <feature name='enrolled-keys'> */

    /* fwsel's record of the pinned firmware's role, <metadata><firmware
     * xmlns=FWSEL_PIN_METADATA_NS secure-boot= enrolled-keys=>: libvirt 9.0
     * keeps no <os><firmware> features next to a pinned loader */
    fwselTristate pinnedSecureBoot;
    fwselTristate pinnedEnrolledKeys;

    fwselTristate smm;              /* <features><smm state=...> */
    bool acpi;                      /* <features><acpi/> */
    fwselTristate pmS3;             /* <pm><suspend-to-mem enabled=...> */
    fwselTristate pmS4;             /* <pm><suspend-to-disk enabled=...> */

    fwselLaunchSecurity launchSecurity;
    guint64 sevPolicy;

    char *formatError;      /* an unknown format= value, as an error message */
};

fwselDomain *fwselDomainNew(void);
void fwselDomainFree(fwselDomain *dom);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(fwselDomain, fwselDomainFree);
fwselDomain *fwselDomainCopy(const fwselDomain *dom);

G_END_DECLS
