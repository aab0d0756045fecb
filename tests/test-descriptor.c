/*
 * test-descriptor.c: the descriptor parser on every valid shape and every
 * invalid form it must reject, with the error naming file and member
 *
 * JSON in this file is written with single quotes for readability;
 * fwselTestJSON() turns them into double quotes before parsing.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <glib/gstdio.h>

#include <unistd.h>

#include "fwsel-catalog.h"
#include "fwsel-util.h"

#define TEST_PATH "/usr/share/qemu/firmware/50-test.json"

/* A complete, valid split descriptor; the invalid forms below are small
 * edits of it. */
#define TEST_EXEC "'executable': { 'filename': '/usr/share/OVMF/CODE.fd', 'format': 'raw' }"
#define TEST_VARS "'nvram-template': { 'filename': '/usr/share/OVMF/VARS.fd', 'format': 'raw' }"
#define TEST_IFACES "'interface-types': [ 'uefi' ]"
#define TEST_MAPPING "'mapping': { 'device': 'flash', " TEST_EXEC ", " TEST_VARS " }"
#define TEST_TARGETS "'targets': [ { 'architecture': 'x86_64', 'machines': [ 'pc-q35-*' ] } ]"
#define TEST_FEATURES "'features': [ 'acpi-s3', 'requires-smm', 'secure-boot' ]"
#define TEST_VALID "{ 'description': 'test', " TEST_IFACES ", " TEST_MAPPING ", " \
    TEST_TARGETS ", " TEST_FEATURES ", 'tags': [] }"


static char *
fwselTestJSON(const char *text)
{
    char *json = g_strdup(text);
    char *p;

    for (p = json; *p; p++) {
        if (*p == '\'')
            *p = '"';
    }
    return json;
}


static fwselDescriptor *
fwselTestParse(const char *text, GError **error)
{
    g_autofree char *json = fwselTestJSON(text);

    return fwselDescriptorParse(TEST_PATH, json, strlen(json), error);
}


static fwselDescriptor *
fwselTestParseOK(const char *text)
{
    g_autoptr(GError) err = NULL;
    fwselDescriptor *desc = fwselTestParse(text, &err);

    g_assert_no_error(err);
    g_assert_nonnull(desc);
    return desc;
}


/* ------------------------------------------------------------------ */
/* Invalid forms                                                       */
/* ------------------------------------------------------------------ */

typedef struct {
    const char *name;
    const char *json;
    const char *error;      /* expected message after "TEST_PATH: " */
} fwselInvalidCase;

static const fwselInvalidCase fwselInvalidCases[] = {
    /* the file as a whole */
    { "json-malformed", "{ 'interface-types': [ 'uefi' }",
      "(file): invalid JSON at line 1 column " },
    { "json-truncated", "{ 'interface-types': [ 'uefi' ]",
      "(file): invalid JSON: unexpected end of file" },
    { "json-empty", "",
      "(file): invalid JSON: unexpected end of file" },
    { "json-comment", "/* x */ " TEST_VALID,
      "(file): invalid JSON at line 1 column 1" },
    { "json-trailing-comma", "{ 'interface-types': [ 'uefi', ] }",
      "(file): invalid JSON at line 1 column " },
    { "json-trailing-data", TEST_VALID " {}",
      "(file): invalid JSON at line 1 column " },
    { "json-trailing-garbage", TEST_VALID "\nx",
      "(file): invalid JSON at line 2 column 1: " },
    { "top-array", "[ " TEST_VALID " ]",
      "(file): expected a JSON object at the top level, got an array" },
    { "top-string", "'uefi'",
      "(file): expected a JSON object at the top level, got a string" },
    { "top-number", "42",
      "(file): expected a JSON object at the top level, got a number" },
    { "top-null", "null",
      "(file): expected a JSON object at the top level, got null" },

    /* interface-types */
    { "interfaces-missing", "{ " TEST_MAPPING ", " TEST_TARGETS ", " TEST_FEATURES " }",
      "interface-types: missing" },
    { "interfaces-string", "{ 'interface-types': 'uefi', " TEST_MAPPING ", " TEST_TARGETS ", "
      TEST_FEATURES " }",
      "interface-types: expected an array, got a string" },
    { "interfaces-empty", "{ 'interface-types': [], " TEST_MAPPING ", " TEST_TARGETS ", "
      TEST_FEATURES " }",
      "interface-types: empty list" },
    { "interfaces-item-number", "{ 'interface-types': [ 4 ], " TEST_MAPPING ", " TEST_TARGETS
      ", " TEST_FEATURES " }",
      "interface-types[0]: expected a string, got a number" },
    { "interfaces-unknown", "{ 'interface-types': [ 'uefi', 'efi' ], " TEST_MAPPING ", "
      TEST_TARGETS ", " TEST_FEATURES " }",
      "interface-types[1]: unknown interface type 'efi' (expected bios, openfirmware, uboot or uefi)" },

    /* mapping */
    { "mapping-missing", "{ " TEST_IFACES ", " TEST_TARGETS ", " TEST_FEATURES " }",
      "mapping: missing" },
    { "mapping-array", "{ " TEST_IFACES ", 'mapping': [], " TEST_TARGETS ", " TEST_FEATURES " }",
      "mapping: expected an object, got an array" },
    { "device-missing", "{ " TEST_IFACES ", 'mapping': { " TEST_EXEC " }, " TEST_TARGETS ", "
      TEST_FEATURES " }",
      "mapping.device: missing" },
    { "device-number", "{ " TEST_IFACES ", 'mapping': { 'device': 1 }, " TEST_TARGETS ", "
      TEST_FEATURES " }",
      "mapping.device: expected a string, got a number" },
    { "device-unknown", "{ " TEST_IFACES ", 'mapping': { 'device': 'disk' }, " TEST_TARGETS ", "
      TEST_FEATURES " }",
      "mapping.device: unknown device 'disk' (expected flash, memory, kernel or igvm)" },
    { "mode-number", "{ " TEST_IFACES ", 'mapping': { 'device': 'flash', 'mode': 0, " TEST_EXEC
      ", " TEST_VARS " }, " TEST_TARGETS ", " TEST_FEATURES " }",
      "mapping.mode: expected a string, got a number" },
    { "mode-unknown", "{ " TEST_IFACES ", 'mapping': { 'device': 'flash', 'mode': 'splitted', "
      TEST_EXEC ", " TEST_VARS " }, " TEST_TARGETS ", " TEST_FEATURES " }",
      "mapping.mode: unknown mode 'splitted' (expected split, combined or stateless)" },
    { "executable-missing", "{ " TEST_IFACES ", 'mapping': { 'device': 'flash', " TEST_VARS
      " }, " TEST_TARGETS ", " TEST_FEATURES " }",
      "mapping.executable: missing" },
    { "executable-string", "{ " TEST_IFACES ", 'mapping': { 'device': 'flash', 'executable': "
      "'/usr/share/OVMF/CODE.fd', " TEST_VARS " }, " TEST_TARGETS ", " TEST_FEATURES " }",
      "mapping.executable: expected an object, got a string" },
    { "executable-filename-missing", "{ " TEST_IFACES ", 'mapping': { 'device': 'flash', "
      "'executable': { 'format': 'raw' }, " TEST_VARS " }, " TEST_TARGETS ", " TEST_FEATURES " }",
      "mapping.executable.filename: missing" },
    { "executable-filename-array", "{ " TEST_IFACES ", 'mapping': { 'device': 'flash', "
      "'executable': { 'filename': [], 'format': 'raw' }, " TEST_VARS " }, " TEST_TARGETS ", "
      TEST_FEATURES " }",
      "mapping.executable.filename: expected a string, got an array" },


    { "executable-format-missing", "{ " TEST_IFACES ", 'mapping': { 'device': 'flash', "
      "'executable': { 'filename': '/usr/share/OVMF/CODE.fd' }, " TEST_VARS " }, " TEST_TARGETS
      ", " TEST_FEATURES " }",
      "mapping.executable.format: missing" },
    { "executable-format-bool", "{ " TEST_IFACES ", 'mapping': { 'device': 'flash', "
      "'executable': { 'filename': '/usr/share/OVMF/CODE.fd', 'format': true }, " TEST_VARS
      " }, " TEST_TARGETS ", " TEST_FEATURES " }",
      "mapping.executable.format: expected a string, got a boolean" },
    { "executable-format-unknown", "{ " TEST_IFACES ", 'mapping': { 'device': 'flash', "
      "'executable': { 'filename': '/usr/share/OVMF/CODE.fd', 'format': 'vmdk' }, " TEST_VARS
      " }, " TEST_TARGETS ", " TEST_FEATURES " }",
      "mapping.executable.format: unknown format 'vmdk' (expected raw or qcow2)" },
    { "split-without-template", "{ " TEST_IFACES ", 'mapping': { 'device': 'flash', " TEST_EXEC
      " }, " TEST_TARGETS ", " TEST_FEATURES " }",
      "mapping.nvram-template: missing" },
    { "split-explicit-without-template", "{ " TEST_IFACES ", 'mapping': { 'device': 'flash', "
      "'mode': 'split', " TEST_EXEC " }, " TEST_TARGETS ", " TEST_FEATURES " }",
      "mapping.nvram-template: missing" },

    { "template-format-unknown", "{ " TEST_IFACES ", 'mapping': { 'device': 'flash', " TEST_EXEC
      ", 'nvram-template': { 'filename': '/usr/share/OVMF/VARS.fd', 'format': 'qed' } }, "
      TEST_TARGETS ", " TEST_FEATURES " }",
      "mapping.nvram-template.format: unknown format 'qed' (expected raw or qcow2)" },
    { "stateless-with-template", "{ " TEST_IFACES ", 'mapping': { 'device': 'flash', "
      "'mode': 'stateless', " TEST_EXEC ", " TEST_VARS " }, " TEST_TARGETS ", " TEST_FEATURES " }",
      "mapping.nvram-template: not allowed with mode 'stateless': only split firmware has a varstore" },
    { "combined-with-template", "{ " TEST_IFACES ", 'mapping': { 'device': 'flash', "
      "'mode': 'combined', " TEST_EXEC ", " TEST_VARS " }, " TEST_TARGETS ", " TEST_FEATURES " }",
      "mapping.nvram-template: not allowed with mode 'combined': only split firmware has a varstore" },
    { "memory-without-filename", "{ " TEST_IFACES ", 'mapping': { 'device': 'memory' }, "
      TEST_TARGETS ", " TEST_FEATURES " }",
      "mapping.filename: missing" },

    { "kernel-number", "{ " TEST_IFACES ", 'mapping': { 'device': 'kernel', 'filename': 7 }, "
      TEST_TARGETS ", " TEST_FEATURES " }",
      "mapping.filename: expected a string, got a number" },
    { "igvm-without-filename", "{ " TEST_IFACES ", 'mapping': { 'device': 'igvm' }, "
      TEST_TARGETS ", " TEST_FEATURES " }",
      "mapping.filename: missing" },

    /* targets */
    { "targets-missing", "{ " TEST_IFACES ", " TEST_MAPPING ", " TEST_FEATURES " }",
      "targets: missing" },
    { "targets-object", "{ " TEST_IFACES ", " TEST_MAPPING ", 'targets': {}, " TEST_FEATURES " }",
      "targets: expected an array, got an object" },
    { "target-string", "{ " TEST_IFACES ", " TEST_MAPPING ", 'targets': [ 'x86_64' ], "
      TEST_FEATURES " }",
      "targets[0]: expected an object, got a string" },
    { "architecture-missing", "{ " TEST_IFACES ", " TEST_MAPPING ", 'targets': [ "
      "{ 'machines': [ 'pc-q35-*' ] } ], " TEST_FEATURES " }",
      "targets[0].architecture: missing" },
    { "architecture-null", "{ " TEST_IFACES ", " TEST_MAPPING ", 'targets': [ "
      "{ 'architecture': null, 'machines': [ 'pc-q35-*' ] } ], " TEST_FEATURES " }",
      "targets[0].architecture: expected a string, got null" },
    { "architecture-unknown", "{ " TEST_IFACES ", " TEST_MAPPING ", 'targets': [ "
      "{ 'architecture': 'x86_64', 'machines': [ 'pc-q35-*' ] }, "
      "{ 'architecture': 'z80', 'machines': [ 'pc-q35-*' ] } ], " TEST_FEATURES " }",
      "targets[1].architecture: unknown architecture 'z80'" },
    { "machines-missing", "{ " TEST_IFACES ", " TEST_MAPPING ", 'targets': [ "
      "{ 'architecture': 'x86_64' } ], " TEST_FEATURES " }",
      "targets[0].machines: missing" },
    { "machines-string", "{ " TEST_IFACES ", " TEST_MAPPING ", 'targets': [ "
      "{ 'architecture': 'x86_64', 'machines': 'pc-q35-*' } ], " TEST_FEATURES " }",
      "targets[0].machines: expected an array, got a string" },
    { "machine-number", "{ " TEST_IFACES ", " TEST_MAPPING ", 'targets': [ "
      "{ 'architecture': 'x86_64', 'machines': [ 'pc-q35-*', 35 ] } ], " TEST_FEATURES " }",
      "targets[0].machines[1]: expected a string, got a number" },

    /* features */
    { "features-missing", "{ " TEST_IFACES ", " TEST_MAPPING ", " TEST_TARGETS " }",
      "features: missing" },
    { "features-string", "{ " TEST_IFACES ", " TEST_MAPPING ", " TEST_TARGETS ", "
      "'features': 'secure-boot' }",
      "features: expected an array, got a string" },
    { "feature-object", "{ " TEST_IFACES ", " TEST_MAPPING ", " TEST_TARGETS ", "
      "'features': [ 'acpi-s3', {} ] }",
      "features[1]: expected a string, got an object" },

    /* optional members, when present, have a type too */
    { "description-number", "{ 'description': 1, " TEST_IFACES ", " TEST_MAPPING ", "
      TEST_TARGETS ", " TEST_FEATURES " }",
      "description: expected a string, got a number" },
    { "tags-string", "{ " TEST_IFACES ", " TEST_MAPPING ", " TEST_TARGETS ", " TEST_FEATURES
      ", 'tags': 'x' }",
      "tags: expected an array, got a string" },
    { "tag-number", "{ " TEST_IFACES ", " TEST_MAPPING ", " TEST_TARGETS ", " TEST_FEATURES
      ", 'tags': [ 'a', 2 ] }",
      "tags[1]: expected a string, got a number" },
};


static void
fwselTestInvalid(gconstpointer opaque)
{
    const fwselInvalidCase *tc = opaque;
    g_autoptr(GError) err = NULL;
    g_autoptr(fwselDescriptor) desc = fwselTestParse(tc->json, &err);
    g_autofree char *want = g_strdup_printf("%s: %s", TEST_PATH, tc->error);

    g_assert_null(desc);
    g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_INVALID);
    if (!g_str_has_prefix(err->message, want))
        g_error("expected an error starting with\n  %s\ngot\n  %s", want, err->message);
}


static void
fwselTestNulByte(void)
{
    g_autofree char *json = fwselTestJSON(TEST_VALID);
    g_autoptr(GError) err = NULL;
    g_autoptr(fwselDescriptor) desc = NULL;
    size_t len = strlen(json);
    g_autofree char *withNul = g_malloc(len + 3);

    /* a NUL byte in the middle of an otherwise valid file */
    memcpy(withNul, json, 10);
    withNul[10] = '\0';
    memcpy(withNul + 11, json + 10, len - 10 + 1);

    desc = fwselDescriptorParse(TEST_PATH, withNul, len + 1, &err);
    g_assert_null(desc);
    g_assert_error(err, FWSEL_ERROR, FWSEL_ERROR_INVALID);
    g_assert_cmpstr(err->message, ==, TEST_PATH ": (file): contains a NUL byte");
}


static void
fwselTestPathTooLong(void)
{
    g_autofree char *longName = g_strnfill(5000, 'a');
    g_autofree char *text = g_strdup_printf("{ " TEST_IFACES ", 'mapping': { 'device': 'memory', "
                                            "'filename': '/%s' }, " TEST_TARGETS ", "
                                            TEST_FEATURES " }", longName);
    g_autoptr(GError) err = NULL;
    g_autoptr(fwselDescriptor) desc = fwselTestParse(text, &err);

    g_assert_null(desc);
    g_assert_cmpstr(err->message, ==, TEST_PATH ": mapping.filename: path is too long");
}


/* ------------------------------------------------------------------ */
/* Valid descriptors                                                   */
/* ------------------------------------------------------------------ */

static void
fwselTestValidSplit(void)
{
    g_autoptr(fwselDescriptor) desc = fwselTestParseOK(TEST_VALID);

    g_assert_cmpstr(desc->path, ==, TEST_PATH);
    g_assert_cmpstr(desc->name, ==, "50-test.json");
    g_assert_cmpstr(desc->description, ==, "test");
    g_assert_cmpuint(desc->interfaces, ==, 1u << FWSEL_INTERFACE_UEFI);
    g_assert_true(fwselDescriptorHasInterface(desc, FWSEL_INTERFACE_UEFI));
    g_assert_false(fwselDescriptorHasInterface(desc, FWSEL_INTERFACE_BIOS));
    g_assert_cmpint(desc->device, ==, FWSEL_DEVICE_FLASH);
    g_assert_cmpint(desc->mode, ==, FWSEL_FLASH_MODE_SPLIT);
    g_assert_cmpstr(desc->executable.filename, ==, "/usr/share/OVMF/CODE.fd");
    g_assert_cmpint(desc->executable.format, ==, FWSEL_FORMAT_RAW);
    g_assert_cmpstr(desc->nvramTemplate.filename, ==, "/usr/share/OVMF/VARS.fd");
    g_assert_cmpint(desc->nvramTemplate.format, ==, FWSEL_FORMAT_RAW);
    g_assert_null(desc->filename);
    g_assert_cmpuint(desc->ntargets, ==, 1);
    g_assert_cmpstr(desc->targets[0].architecture, ==, "x86_64");
    g_assert_cmpstr(desc->targets[0].machines[0], ==, "pc-q35-*");
    g_assert_null(desc->targets[0].machines[1]);
    g_assert_true(fwselDescriptorHasFeature(desc, FWSEL_FEATURE_ACPI_S3));
    g_assert_true(fwselDescriptorHasFeature(desc, FWSEL_FEATURE_REQUIRES_SMM));
    g_assert_true(fwselDescriptorHasFeature(desc, FWSEL_FEATURE_SECURE_BOOT));
    g_assert_false(fwselDescriptorHasFeature(desc, FWSEL_FEATURE_ENROLLED_KEYS));
    g_assert_null(desc->unknownFeatures);
}


static void
fwselTestValidModes(void)
{
    g_autoptr(fwselDescriptor) split = NULL;
    g_autoptr(fwselDescriptor) stateless = NULL;
    g_autoptr(fwselDescriptor) combined = NULL;

    split = fwselTestParseOK("{ " TEST_IFACES ", 'mapping': { 'device': 'flash', 'mode': 'split', "
                             TEST_EXEC ", " TEST_VARS " }, " TEST_TARGETS ", " TEST_FEATURES " }");
    g_assert_cmpint(split->mode, ==, FWSEL_FLASH_MODE_SPLIT);

    stateless = fwselTestParseOK("{ " TEST_IFACES ", 'mapping': { 'device': 'flash', "
                                 "'mode': 'stateless', 'executable': { 'filename': "
                                 "'/usr/share/OVMF/OVMF.amdsev.fd', 'format': 'raw' } }, "
                                 TEST_TARGETS ", 'features': [ 'amd-sev', 'amd-sev-es', "
                                 "'amd-sev-snp' ] }");
    g_assert_cmpint(stateless->mode, ==, FWSEL_FLASH_MODE_STATELESS);
    g_assert_null(stateless->nvramTemplate.filename);
    g_assert_true(fwselDescriptorHasFeature(stateless, FWSEL_FEATURE_AMD_SEV_SNP));

    combined = fwselTestParseOK("{ " TEST_IFACES ", 'mapping': { 'device': 'flash', "
                                "'mode': 'combined', 'executable': { 'filename': "
                                "'/usr/share/OVMF/OVMF.fd', 'format': 'qcow2' } }, "
                                TEST_TARGETS ", 'features': [] }");
    g_assert_cmpint(combined->mode, ==, FWSEL_FLASH_MODE_COMBINED);
    g_assert_cmpint(combined->executable.format, ==, FWSEL_FORMAT_QCOW2);
    g_assert_cmpuint(combined->features, ==, 0);
}


static void
fwselTestValidOtherDevices(void)
{
    static const struct {
        const char *device;
        fwselDevice value;
    } devices[] = {
        { "memory", FWSEL_DEVICE_MEMORY },
        { "kernel", FWSEL_DEVICE_KERNEL },
        { "igvm", FWSEL_DEVICE_IGVM },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(devices); i++) {
        g_autofree char *text = g_strdup_printf("{ 'interface-types': [ 'bios', 'uefi' ], "
                                                "'mapping': { 'device': '%s', "
                                                "'filename': '/usr/share/fw/image.bin' }, "
                                                TEST_TARGETS ", 'features': [] }",
                                                devices[i].device);
        g_autoptr(fwselDescriptor) desc = fwselTestParseOK(text);

        g_assert_cmpint(desc->device, ==, devices[i].value);
        g_assert_cmpstr(desc->filename, ==, "/usr/share/fw/image.bin");
        g_assert_null(desc->executable.filename);
        g_assert_true(fwselDescriptorHasInterface(desc, FWSEL_INTERFACE_BIOS));
        g_assert_true(fwselDescriptorHasInterface(desc, FWSEL_INTERFACE_UEFI));
    }
}


static void
fwselTestValidMinimal(void)
{
    /* description and tags are optional, targets may be empty, members
     * fwsel does not know are ignored */
    g_autoptr(fwselDescriptor) desc =
        fwselTestParseOK("{ 'interface-types': [ 'openfirmware', 'uboot' ], 'mapping': "
                         "{ 'device': 'kernel', 'filename': '/usr/share/slof/slof.bin' }, "
                         "'targets': [], 'features': [], 'x-vendor': { 'a': 1 } }");

    g_assert_null(desc->description);
    g_assert_cmpuint(desc->ntargets, ==, 0);
    g_assert_true(fwselDescriptorHasInterface(desc, FWSEL_INTERFACE_OPENFIRMWARE));
    g_assert_true(fwselDescriptorHasInterface(desc, FWSEL_INTERFACE_UBOOT));
    g_assert_false(fwselDescriptorSupportsTarget(desc, "x86_64", "pc-q35-7.2"));
}


static void
fwselTestUnknownFeature(void)
{
    g_autoptr(fwselDescriptor) desc =
        fwselTestParseOK("{ " TEST_IFACES ", " TEST_MAPPING ", " TEST_TARGETS ", "
                         "'features': [ 'acpi-s3', 'x-quantum-boot', 'secure-boot', "
                         "'x-other' ] }");

    g_assert_true(fwselDescriptorHasFeature(desc, FWSEL_FEATURE_ACPI_S3));
    g_assert_true(fwselDescriptorHasFeature(desc, FWSEL_FEATURE_SECURE_BOOT));
    g_assert_nonnull(desc->unknownFeatures);
    g_assert_cmpstr(desc->unknownFeatures[0], ==, "x-quantum-boot");
    g_assert_cmpstr(desc->unknownFeatures[1], ==, "x-other");
    g_assert_null(desc->unknownFeatures[2]);
}


static void
fwselTestAllFeatures(void)
{
    g_autoptr(fwselDescriptor) desc =
        fwselTestParseOK("{ " TEST_IFACES ", " TEST_MAPPING ", " TEST_TARGETS ", "
                         "'features': [ 'acpi-s3', 'acpi-s4', 'amd-sev', 'amd-sev-es', "
                         "'amd-sev-snp', 'intel-tdx', 'enrolled-keys', 'requires-smm', "
                         "'secure-boot', 'verbose-dynamic', 'verbose-static', "
                         "'host-uefi-vars' ] }");
    int f;

    for (f = 0; f < FWSEL_FEATURE_LAST; f++)
        g_assert_true(fwselDescriptorHasFeature(desc, f));
    g_assert_null(desc->unknownFeatures);
}


static void
fwselTestTargets(void)
{
    g_autoptr(fwselDescriptor) desc =
        fwselTestParseOK("{ " TEST_IFACES ", " TEST_MAPPING ", 'targets': [ "
                         "{ 'architecture': 'i386', 'machines': [ 'pc-i440fx-*', 'pc-q35-*' ] }, "
                         "{ 'architecture': 'arm', 'machines': [ 'virt-*' ] }, "
                         "{ 'architecture': 'loongarch64', 'machines': [ 'virt*' ] } ], "
                         "'features': [] }");

    /* QEMU's target names become libvirt's architecture names */
    g_assert_cmpstr(desc->targets[0].architecture, ==, "i686");
    g_assert_cmpstr(desc->targets[1].architecture, ==, "armv7l");
    g_assert_cmpstr(desc->targets[2].architecture, ==, "loongarch64");

    g_assert_true(fwselDescriptorSupportsTarget(desc, "i686", "pc-i440fx-7.2"));
    g_assert_true(fwselDescriptorSupportsTarget(desc, "i686", "pc-q35-7.2"));
    g_assert_false(fwselDescriptorSupportsTarget(desc, "x86_64", "pc-q35-7.2"));
    g_assert_false(fwselDescriptorSupportsTarget(desc, "i686", "q35"));
    g_assert_true(fwselDescriptorSupportsTarget(desc, "armv7l", "virt-7.2"));
    g_assert_false(fwselDescriptorSupportsTarget(desc, "armv7l", "virt"));
    g_assert_true(fwselDescriptorSupportsTarget(desc, "loongarch64", "virt"));

    g_assert_cmpstr(fwselArchFromQemu("i386"), ==, "i686");
    g_assert_cmpstr(fwselArchFromQemu("i686"), ==, "i686");
    g_assert_null(fwselArchFromQemu("z80"));
    g_assert_cmpstr(fwselArchToQemu("armv7l"), ==, "arm");
    g_assert_cmpstr(fwselArchToQemu("x86_64"), ==, "x86_64");
}


static void
fwselTestWhitespaceAround(void)
{
    /* leading and trailing whitespace, CRLF line ends, a final newline */
    g_autoptr(fwselDescriptor) desc = fwselTestParseOK("\r\n  " TEST_VALID " \r\n\t\n");

    g_assert_cmpint(desc->device, ==, FWSEL_DEVICE_FLASH);
}


/* ------------------------------------------------------------------ */
/* Loading files                                                       */
/* ------------------------------------------------------------------ */

typedef struct {
    char *root;
    char *dir;
} fwselTestTree;


static void
fwselTestTreeSetup(fwselTestTree *tree, gconstpointer data G_GNUC_UNUSED)
{
    g_autoptr(GError) err = NULL;

    tree->root = g_dir_make_tmp("fwsel-test-XXXXXX", &err);
    g_assert_no_error(err);
    tree->dir = g_build_filename(tree->root, "usr", "share", "qemu", "firmware", NULL);
    g_assert_cmpint(g_mkdir_with_parents(tree->dir, 0755), ==, 0);
}


static void
fwselTestTreeRemove(const char *path)
{
    g_autoptr(GDir) dir = NULL;
    const char *name;

    if (!g_file_test(path, G_FILE_TEST_IS_DIR) || g_file_test(path, G_FILE_TEST_IS_SYMLINK)) {
        g_unlink(path);
        return;
    }
    if ((dir = g_dir_open(path, 0, NULL))) {
        while ((name = g_dir_read_name(dir))) {
            g_autofree char *child = g_build_filename(path, name, NULL);

            fwselTestTreeRemove(child);
        }
    }
    g_rmdir(path);
}


static void
fwselTestTreeTeardown(fwselTestTree *tree, gconstpointer data G_GNUC_UNUSED)
{
    fwselTestTreeRemove(tree->root);
    g_free(tree->root);
    g_free(tree->dir);
}


/* Writes the valid descriptor padded with spaces to exactly @size bytes */
static void
fwselTestWritePadded(const char *file, gsize size)
{
    g_autofree char *json = fwselTestJSON(TEST_VALID);
    g_autofree char *buf = g_malloc(size);
    gsize len = strlen(json);
    g_autoptr(GError) err = NULL;

    g_assert_cmpuint(len, <, size);
    memcpy(buf, json, len);
    memset(buf + len, ' ', size - len - 1);
    buf[size - 1] = '\n';
    g_file_set_contents(file, buf, size, &err);
    g_assert_no_error(err);
}


/* The catalog entry of descriptor file @name in the tree */
static const fwselEntry *
fwselTestEntry(const fwselCatalog *catalog, const char *name)
{
    size_t i;

    for (i = 0; i < catalog->nentries; i++) {
        if (g_str_equal(catalog->entries[i]->name, name))
            return catalog->entries[i];
    }
    g_assert_not_reached();
    return NULL;
}


static fwselCatalog *
fwselTestLoadTree(fwselTestTree *tree)
{
    g_autoptr(fwselHostOptions) opts = fwselHostOptionsNew();
    g_autoptr(GError) err = NULL;
    fwselCatalog *catalog;

    g_assert_cmpint(fwselHostOptionsSetRoot(opts, tree->root, &err), ==, 0);
    catalog = fwselCatalogLoad(opts, &err);
    g_assert_no_error(err);
    return catalog;
}


static void
fwselTestLoadLimit(fwselTestTree *tree, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *atLimit = g_build_filename(tree->dir, "50-limit.json", NULL);
    g_autofree char *overLimit = g_build_filename(tree->dir, "50-over.json", NULL);
    g_autoptr(fwselCatalog) catalog = NULL;
    const fwselEntry *ok;
    const fwselEntry *bad;

    fwselTestWritePadded(atLimit, FWSEL_MAX_INPUT_SIZE);
    fwselTestWritePadded(overLimit, FWSEL_MAX_INPUT_SIZE + 1);
    catalog = fwselTestLoadTree(tree);

    ok = fwselTestEntry(catalog, "50-limit.json");
    g_assert_cmpint(ok->state, ==, FWSEL_ENTRY_ACTIVE);
    g_assert_cmpstr(ok->desc->path, ==, "/usr/share/qemu/firmware/50-limit.json");

    bad = fwselTestEntry(catalog, "50-over.json");
    g_assert_cmpint(bad->state, ==, FWSEL_ENTRY_INVALID);
    /* the error names the file as the host sees it, not its place under the root */
    g_assert_cmpstr(bad->error, ==,
                    "/usr/share/qemu/firmware/50-over.json: (file): file is 1048577 bytes, "
                    "larger than the 1048576 byte limit");
}


static void
fwselTestLoadErrors(fwselTestTree *tree, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *subdir = g_build_filename(tree->dir, "50-dir.json", NULL);
    g_autofree char *bad = g_build_filename(tree->dir, "50-bad.json", NULL);
    g_autofree char *dangling = g_build_filename(tree->dir, "50-none.json", NULL);
    g_autoptr(fwselCatalog) catalog = NULL;
    g_autoptr(GError) err = NULL;
    const fwselEntry *e;

    g_assert_cmpint(g_mkdir(subdir, 0755), ==, 0);
    g_assert_cmpint(symlink("/usr/share/qemu/firmware/no-such.json", dangling), ==, 0);
    g_file_set_contents(bad, "{ \"interface-types\": [] }", -1, &err);
    g_assert_no_error(err);
    catalog = fwselTestLoadTree(tree);

    e = fwselTestEntry(catalog, "50-none.json");
    g_assert_cmpint(e->state, ==, FWSEL_ENTRY_IGNORED);
    g_assert_cmpstr(e->error, ==, "cannot be read: No such file or directory");

    e = fwselTestEntry(catalog, "50-dir.json");
    g_assert_cmpint(e->state, ==, FWSEL_ENTRY_IGNORED);
    g_assert_true(g_str_has_prefix(e->error, "not a regular file"));

    e = fwselTestEntry(catalog, "50-bad.json");
    g_assert_cmpint(e->state, ==, FWSEL_ENTRY_INVALID);
    g_assert_cmpstr(e->error, ==,
                    "/usr/share/qemu/firmware/50-bad.json: interface-types: empty list");
}


/*
 * A folder of hundreds of files is read by several threads: every entry
 * must still get its own state and error, in name order, whatever thread
 * read it.  Of 500 files: every 7th is broken JSON (its error names it),
 * every 11th is empty (a mask), every 13th is a link to a valid file,
 * and /etc shadows every 17th.
 */
#define FWSEL_TEST_MANY 500

static void
fwselTestLoadMany(fwselTestTree *tree, gconstpointer data G_GNUC_UNUSED)
{
    g_autofree char *valid = fwselTestJSON(TEST_VALID);
    g_autofree char *etc = g_build_filename(tree->root, "etc", "qemu", "firmware", NULL);
    g_autoptr(fwselCatalog) catalog = NULL;
    size_t i;

    g_assert_cmpint(g_mkdir_with_parents(etc, 0755), ==, 0);
    for (i = 0; i < FWSEL_TEST_MANY; i++) {
        g_autofree char *name = g_strdup_printf("%03zu-many.json", i);
        g_autofree char *path = g_build_filename(tree->dir, name, NULL);
        g_autoptr(GError) err = NULL;

        if (i % 17 == 0) {
            g_autofree char *over = g_build_filename(etc, name, NULL);

            g_file_set_contents(over, valid, -1, &err);
            g_assert_no_error(err);
        }
        if (i % 13 == 0) {
            g_assert_cmpint(symlink("/usr/share/qemu/firmware/001-many.json", path), ==, 0);
        } else {
            g_file_set_contents(path, i % 7 == 0 ? "{ \"interface-types\": " :
                                i % 11 == 0 ? "" : valid, -1, &err);
            g_assert_no_error(err);
        }
    }

    catalog = fwselTestLoadTree(tree);
    for (i = 0; i < FWSEL_TEST_MANY; i++) {
        g_autofree char *name = g_strdup_printf("%03zu-many.json", i);
        g_autofree char *usr = g_strdup_printf("/usr/share/qemu/firmware/%s", name);
        g_autofree char *etcPath = g_strdup_printf("/etc/qemu/firmware/%s", name);
        g_autofree char *broken = g_strdup_printf("%s: (file): invalid JSON: unexpected end "
                                                  "of file", usr);
        const fwselEntry *first = NULL;
        const fwselEntry *second = NULL;
        size_t k;

        for (k = 0; k < catalog->nentries; k++) {
            if (!g_str_equal(catalog->entries[k]->name, name))
                continue;
            if (!first) {
                first = catalog->entries[k];
            } else {
                g_assert_null(second);
                second = catalog->entries[k];
            }
        }
        g_assert_nonnull(first);
        g_assert_cmpstr(first->path, ==, usr);

        if (i % 17 == 0) {
            g_assert_cmpint(first->state, ==, FWSEL_ENTRY_SHADOWED);
            g_assert_nonnull(second);
            g_assert_cmpstr(second->path, ==, etcPath);
            g_assert_cmpint(second->state, ==, FWSEL_ENTRY_ACTIVE);
            g_assert_cmpstr(second->desc->path, ==, etcPath);
            continue;
        }
        g_assert_null(second);
        if (i % 13 == 0 || (i % 7 != 0 && i % 11 != 0)) {
            g_assert_cmpint(first->state, ==, FWSEL_ENTRY_ACTIVE);
            g_assert_cmpstr(first->desc->path, ==, usr);
            g_assert_null(first->error);
        } else if (i % 7 == 0) {
            g_assert_cmpint(first->state, ==, FWSEL_ENTRY_INVALID);
            g_assert_cmpstr(first->error, ==, broken);
        } else {
            g_assert_cmpint(first->state, ==, FWSEL_ENTRY_MASK);
        }
    }
}


/* A relative path is libvirt's to take as written: the descriptor is
 * valid, and says which path is relative (the safe policy's rule) */
static void
fwselTestRelative(void)
{
    static const struct {
        const char *json;
        const char *relative;
    } cases[] = {
        { "{ " TEST_IFACES ", 'mapping': { 'device': 'flash', 'executable': { 'filename': "
          "'OVMF/CODE.fd', 'format': 'raw' }, " TEST_VARS " }, " TEST_TARGETS ", " TEST_FEATURES " }",
          "OVMF/CODE.fd" },
        { "{ " TEST_IFACES ", 'mapping': { 'device': 'flash', 'executable': { 'filename': "
          "'@DATADIR@/edk2-x86_64-code.fd', 'format': 'raw' }, " TEST_VARS " }, " TEST_TARGETS
          ", " TEST_FEATURES " }",
          "@DATADIR@/edk2-x86_64-code.fd" },
        { "{ " TEST_IFACES ", 'mapping': { 'device': 'flash', " TEST_EXEC ", 'nvram-template': "
          "{ 'filename': 'VARS.fd', 'format': 'raw' } }, " TEST_TARGETS ", " TEST_FEATURES " }",
          "VARS.fd" },
        { "{ " TEST_IFACES ", 'mapping': { 'device': 'memory', 'filename': 'bios.bin' }, "
          TEST_TARGETS ", " TEST_FEATURES " }",
          "bios.bin" },
        { TEST_VALID, NULL },
    };
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(fwselDescriptor) desc = fwselTestParse(cases[i].json, &err);

        g_assert_no_error(err);
        g_assert_nonnull(desc);
        g_assert_cmpstr(fwselDescriptorRelativePath(desc), ==, cases[i].relative);
    }
}


int
main(int argc, char **argv)
{
    size_t i;

    g_test_init(&argc, &argv, NULL);

    for (i = 0; i < G_N_ELEMENTS(fwselInvalidCases); i++) {
        g_autofree char *name = g_strdup_printf("/descriptor/invalid/%s",
                                                fwselInvalidCases[i].name);

        g_test_add_data_func(name, &fwselInvalidCases[i], fwselTestInvalid);
    }
    g_test_add_func("/descriptor/invalid/nul-byte", fwselTestNulByte);
    g_test_add_func("/descriptor/invalid/path-too-long", fwselTestPathTooLong);

    g_test_add_func("/descriptor/valid/split", fwselTestValidSplit);
    g_test_add_func("/descriptor/valid/modes", fwselTestValidModes);
    g_test_add_func("/descriptor/valid/other-devices", fwselTestValidOtherDevices);
    g_test_add_func("/descriptor/valid/minimal", fwselTestValidMinimal);
    g_test_add_func("/descriptor/valid/unknown-feature", fwselTestUnknownFeature);
    g_test_add_func("/descriptor/valid/all-features", fwselTestAllFeatures);
    g_test_add_func("/descriptor/valid/targets", fwselTestTargets);
    g_test_add_func("/descriptor/valid/whitespace", fwselTestWhitespaceAround);
    g_test_add_func("/descriptor/valid/relative", fwselTestRelative);

    g_test_add("/descriptor/load/size-limit", fwselTestTree, NULL,
               fwselTestTreeSetup, fwselTestLoadLimit, fwselTestTreeTeardown);
    g_test_add("/descriptor/load/errors", fwselTestTree, NULL,
               fwselTestTreeSetup, fwselTestLoadErrors, fwselTestTreeTeardown);
    g_test_add("/descriptor/load/many-files-threads", fwselTestTree, NULL,
               fwselTestTreeSetup, fwselTestLoadMany, fwselTestTreeTeardown);

    return g_test_run();
}
