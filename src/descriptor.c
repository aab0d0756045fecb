/*
 * descriptor.c: parse and validate one QEMU firmware descriptor
 *
 * The format is QEMU's docs/interop/firmware.json.  Every problem is
 * reported as "<file>: <member>: <what is wrong>" so that a packager can
 * fix the file without reading this code.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <limits.h>
#include <string.h>
#include <json-c/json.h>

#include "fwsel-descriptor.h"
#include "fwsel-util.h"

FWSEL_ENUM_IMPL(fwselInterface, FWSEL_INTERFACE_LAST,
                "", "bios", "openfirmware", "uboot", "uefi");

FWSEL_ENUM_IMPL(fwselDevice, FWSEL_DEVICE_LAST,
                "", "flash", "kernel", "memory", "igvm");

FWSEL_ENUM_IMPL(fwselFlashMode, FWSEL_FLASH_MODE_LAST,
                "split", "combined", "stateless");

FWSEL_ENUM_IMPL(fwselFormat, FWSEL_FORMAT_LAST,
                "", "raw", "qcow2");

FWSEL_ENUM_IMPL(fwselFeature, FWSEL_FEATURE_LAST,
                "acpi-s3", "acpi-s4", "amd-sev", "amd-sev-es", "amd-sev-snp",
                "intel-tdx", "enrolled-keys", "requires-smm", "secure-boot",
                "verbose-dynamic", "verbose-static", "host-uefi-vars");


/* QEMU target names (as descriptors spell them) and libvirt's names for
 * the same architecture (as domain XML spells them). */
static const struct {
    const char *qemu;
    const char *libvirt;
} fwselArchNames[] = {
    { "i386", "i686" },
    { "x86_64", "x86_64" },
    { "arm", "armv7l" },
    { "aarch64", "aarch64" },
    { "riscv32", "riscv32" },
    { "riscv64", "riscv64" },
    { "loongarch64", "loongarch64" },
    { "ppc", "ppc" },
    { "ppc64", "ppc64" },
    { "ppc64le", "ppc64le" },
    { "s390x", "s390x" },
    { "mips", "mips" },
    { "mipsel", "mipsel" },
    { "mips64", "mips64" },
    { "mips64el", "mips64el" },
    { "sparc", "sparc" },
    { "sparc64", "sparc64" },
};


/**
 * fwselArchFromQemu:
 *
 * Maps an architecture name found in a descriptor to libvirt's name.
 * libvirt's own names are accepted too.  Returns NULL when unknown.
 */
const char *
fwselArchFromQemu(const char *qemuArch)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(fwselArchNames); i++) {
        if (g_str_equal(fwselArchNames[i].qemu, qemuArch) ||
            g_str_equal(fwselArchNames[i].libvirt, qemuArch))
            return fwselArchNames[i].libvirt;
    }
    return NULL;
}


const char *
fwselArchToQemu(const char *arch)
{
    size_t i;

    for (i = 0; i < G_N_ELEMENTS(fwselArchNames); i++) {
        if (g_str_equal(fwselArchNames[i].libvirt, arch))
            return fwselArchNames[i].qemu;
    }
    return arch;
}


void
fwselDescriptorFree(fwselDescriptor *desc)
{
    size_t i;

    if (!desc)
        return;

    g_free(desc->path);
    g_free(desc->name);
    g_free(desc->description);
    g_free(desc->executable.filename);
    g_free(desc->nvramTemplate.filename);
    g_free(desc->filename);
    for (i = 0; i < desc->ntargets; i++) {
        g_free(desc->targets[i].architecture);
        g_strfreev(desc->targets[i].machines);
    }
    g_free(desc->targets);
    g_strfreev(desc->unknownFeatures);
    g_free(desc);
}


/* Parsing context: the file name and the member being parsed, so that
 * each error can name both. */
typedef struct {
    const char *path;
    GError **error;
} fwselParseCtx;


static int G_GNUC_PRINTF(3, 4)
fwselParseError(fwselParseCtx *ctx,
                const char *member,
                const char *fmt,
                ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);

    g_set_error(ctx->error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                "%s: %s: %s", ctx->path, member, msg);
    return -1;
}


static const char *
fwselJSONTypeName(json_object *obj)
{
    switch (json_object_get_type(obj)) {
    case json_type_null: return "null";
    case json_type_boolean: return "a boolean";
    case json_type_double: return "a number";
    case json_type_int: return "a number";
    case json_type_object: return "an object";
    case json_type_array: return "an array";
    case json_type_string: return "a string";
    }
    return "something else";
}


/* "prefix.key", or "key": the member's name, for an error only */
static char *
fwselMemberName(const char *prefix, const char *key)
{
    return prefix ? g_strdup_printf("%s.%s", prefix, key) : g_strdup(key);
}


/* Fetch member @key of @obj, checking its type.  Returns 0 with *out set
 * (or NULL when absent and optional), -1 on error. */
static int
fwselJSONGet(fwselParseCtx *ctx,
             json_object *obj,
             const char *prefix,
             const char *key,
             json_type type,
             bool required,
             json_object **out)
{
    g_autofree char *member = NULL;
    json_object *val = NULL;
    const char *want = "a string";

    *out = NULL;
    if (!json_object_object_get_ex(obj, key, &val)) {
        if (!required)
            return 0;
        member = fwselMemberName(prefix, key);
        return fwselParseError(ctx, member, "missing");
    }

    if (!json_object_is_type(val, type)) {
        member = fwselMemberName(prefix, key);
        if (type == json_type_array)
            want = "an array";
        else if (type == json_type_object)
            want = "an object";
        return fwselParseError(ctx, member, "expected %s, got %s",
                               want, fwselJSONTypeName(val));
    }

    *out = val;
    return 0;
}


static int
fwselJSONGetString(fwselParseCtx *ctx,
                   json_object *obj,
                   const char *prefix,
                   const char *key,
                   bool required,
                   const char **out)
{
    json_object *val;

    *out = NULL;
    if (fwselJSONGet(ctx, obj, prefix, key, json_type_string, required, &val) < 0)
        return -1;
    if (val)
        *out = json_object_get_string(val);
    return 0;
}


static int
fwselJSONGetPath(fwselParseCtx *ctx,
                 json_object *obj,
                 const char *prefix,
                 const char *key,
                 char **out)
{
    g_autofree char *member = NULL;
    const char *str;

    /* a required member: found, or an error was reported */
    if (fwselJSONGetString(ctx, obj, prefix, key, true, &str) < 0 || !str)
        return -1;

    /* libvirt takes a relative path as written; the safe policy's
     * relative-path rule rejects such a descriptor */
    if (!*str || strlen(str) >= 4096) {
        member = fwselMemberName(prefix, key);
        return fwselParseError(ctx, member, *str ? "path is too long" : "empty path");
    }

    *out = g_strdup(str);
    return 0;
}


static int
fwselDescriptorParseInterfaces(fwselParseCtx *ctx,
                               json_object *doc,
                               fwselDescriptor *desc)
{
    json_object *arr;
    size_t i;
    size_t n;

    if (fwselJSONGet(ctx, doc, NULL, "interface-types", json_type_array, true, &arr) < 0)
        return -1;

    n = json_object_array_length(arr);
    if (n == 0)
        return fwselParseError(ctx, "interface-types", "empty list");

    for (i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(arr, i);
        g_autofree char *member = NULL;
        int iface = 0;

        if (json_object_is_type(item, json_type_string))
            iface = fwselInterfaceTypeFromString(json_object_get_string(item));
        if (iface <= 0) {
            member = g_strdup_printf("interface-types[%zu]", i);
            if (!json_object_is_type(item, json_type_string))
                return fwselParseError(ctx, member, "expected a string, got %s",
                                       fwselJSONTypeName(item));
            return fwselParseError(ctx, member,
                                   "unknown interface type '%s' (expected bios, openfirmware, uboot or uefi)",
                                   json_object_get_string(item));
        }
        desc->interfaces |= 1u << iface;
    }
    return 0;
}


/* @prefix is "mapping.@key", the member's name in errors */
static int
fwselDescriptorParseFlashFile(fwselParseCtx *ctx,
                              json_object *mapping,
                              const char *key,
                              const char *prefix,
                              fwselFlashFile *file)
{
    g_autofree char *fmtMember = NULL;
    json_object *obj;
    const char *format;
    int fmt;

    if (fwselJSONGet(ctx, mapping, "mapping", key, json_type_object, true, &obj) < 0)
        return -1;

    if (fwselJSONGetPath(ctx, obj, prefix, "filename", &file->filename) < 0)
        return -1;

    if (fwselJSONGetString(ctx, obj, prefix, "format", true, &format) < 0)
        return -1;

    fmt = fwselFormatTypeFromString(format);
    if (fmt <= 0) {
        fmtMember = g_strdup_printf("%s.format", prefix);
        return fwselParseError(ctx, fmtMember,
                               "unknown format '%s' (expected raw or qcow2)",
                               format);
    }
    file->format = fmt;
    return 0;
}


static int
fwselDescriptorParseMapping(fwselParseCtx *ctx,
                            json_object *doc,
                            fwselDescriptor *desc)
{
    json_object *mapping;
    json_object *tmpl;
    const char *device;
    const char *mode;
    int val;

    if (fwselJSONGet(ctx, doc, NULL, "mapping", json_type_object, true, &mapping) < 0)
        return -1;

    if (fwselJSONGetString(ctx, mapping, "mapping", "device", true, &device) < 0)
        return -1;

    if ((val = fwselDeviceTypeFromString(device)) <= 0)
        return fwselParseError(ctx, "mapping.device",
                               "unknown device '%s' (expected flash, memory, kernel or igvm)",
                               device);
    desc->device = val;

    switch (desc->device) {
    case FWSEL_DEVICE_FLASH:
        if (fwselJSONGetString(ctx, mapping, "mapping", "mode", false, &mode) < 0)
            return -1;
        if (mode) {
            if ((val = fwselFlashModeTypeFromString(mode)) < 0)
                return fwselParseError(ctx, "mapping.mode",
                                       "unknown mode '%s' (expected split, combined or stateless)",
                                       mode);
            desc->mode = val;
        } else {
            desc->mode = FWSEL_FLASH_MODE_SPLIT;
        }

        if (fwselDescriptorParseFlashFile(ctx, mapping, "executable", "mapping.executable",
                                          &desc->executable) < 0)
            return -1;

        if (desc->mode == FWSEL_FLASH_MODE_SPLIT) {
            if (fwselDescriptorParseFlashFile(ctx, mapping, "nvram-template",
                                              "mapping.nvram-template",
                                              &desc->nvramTemplate) < 0)
                return -1;
        } else if (json_object_object_get_ex(mapping, "nvram-template", &tmpl)) {
            return fwselParseError(ctx, "mapping.nvram-template",
                                   "not allowed with mode '%s': only split firmware has a varstore",
                                   fwselFlashModeTypeToString(desc->mode));
        }
        break;

    case FWSEL_DEVICE_MEMORY:
    case FWSEL_DEVICE_KERNEL:
    case FWSEL_DEVICE_IGVM:
        if (fwselJSONGetPath(ctx, mapping, "mapping", "filename", &desc->filename) < 0)
            return -1;
        break;

    case FWSEL_DEVICE_NONE:
    case FWSEL_DEVICE_LAST:
        break;
    }

    return 0;
}


static int
fwselDescriptorParseTargets(fwselParseCtx *ctx,
                            json_object *doc,
                            fwselDescriptor *desc)
{
    json_object *arr;
    size_t i;
    size_t n;

    if (fwselJSONGet(ctx, doc, NULL, "targets", json_type_array, true, &arr) < 0)
        return -1;

    n = json_object_array_length(arr);
    desc->targets = g_new0(fwselTarget, n);

    for (i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(arr, i);
        char prefix[32];
        fwselTarget *target = &desc->targets[i];
        json_object *machines;
        const char *arch;
        const char *name;
        size_t j;
        size_t nmachines;

        /* cannot be cut short: i has at most 20 digits */
        g_snprintf(prefix, sizeof(prefix), "targets[%zu]", i);
        if (!json_object_is_type(item, json_type_object))
            return fwselParseError(ctx, prefix, "expected an object, got %s",
                                   fwselJSONTypeName(item));
        desc->ntargets = i + 1;

        if (fwselJSONGetString(ctx, item, prefix, "architecture", true, &arch) < 0)
            return -1;
        if (!(name = fwselArchFromQemu(arch))) {
            g_autofree char *archMember = fwselMemberName(prefix, "architecture");

            return fwselParseError(ctx, archMember, "unknown architecture '%s'", arch);
        }
        target->architecture = g_strdup(name);

        if (fwselJSONGet(ctx, item, prefix, "machines", json_type_array, true, &machines) < 0)
            return -1;

        nmachines = json_object_array_length(machines);
        target->machines = g_new0(char *, nmachines + 1);
        for (j = 0; j < nmachines; j++) {
            json_object *m = json_object_array_get_idx(machines, j);

            if (!json_object_is_type(m, json_type_string)) {
                g_autofree char *member = g_strdup_printf("%s.machines[%zu]", prefix, j);
                return fwselParseError(ctx, member, "expected a string, got %s",
                                       fwselJSONTypeName(m));
            }
            target->machines[j] = g_strdup(json_object_get_string(m));
        }
    }

    return 0;
}


static int
fwselDescriptorParseFeatures(fwselParseCtx *ctx,
                             json_object *doc,
                             fwselDescriptor *desc)
{
    g_autoptr(GPtrArray) unknown = g_ptr_array_new_with_free_func(g_free);
    json_object *arr;
    size_t i;
    size_t n;

    if (fwselJSONGet(ctx, doc, NULL, "features", json_type_array, true, &arr) < 0)
        return -1;

    n = json_object_array_length(arr);
    for (i = 0; i < n; i++) {
        json_object *item = json_object_array_get_idx(arr, i);
        const char *name;
        int feature;

        if (!json_object_is_type(item, json_type_string)) {
            g_autofree char *member = g_strdup_printf("features[%zu]", i);
            return fwselParseError(ctx, member, "expected a string, got %s",
                                   fwselJSONTypeName(item));
        }

        name = json_object_get_string(item);
        if ((feature = fwselFeatureTypeFromString(name)) < 0) {
            /* Kept, so that explain can say why this file is never chosen */
            g_ptr_array_add(unknown, g_strdup(name));
            continue;
        }
        desc->features |= FWSEL_FEATURE_BIT(feature);
    }

    if (unknown->len > 0) {
        g_ptr_array_add(unknown, NULL);
        desc->unknownFeatures = (char **) g_ptr_array_free(g_steal_pointer(&unknown), FALSE);
    }
    return 0;
}


static int
fwselDescriptorParseOptional(fwselParseCtx *ctx,
                             json_object *doc,
                             fwselDescriptor *desc)
{
    json_object *tags;
    const char *description;
    size_t i;

    if (fwselJSONGetString(ctx, doc, NULL, "description", false, &description) < 0)
        return -1;
    desc->description = g_strdup(description);

    if (fwselJSONGet(ctx, doc, NULL, "tags", json_type_array, false, &tags) < 0)
        return -1;
    for (i = 0; tags && i < json_object_array_length(tags); i++) {
        json_object *item = json_object_array_get_idx(tags, i);

        if (!json_object_is_type(item, json_type_string)) {
            g_autofree char *member = g_strdup_printf("tags[%zu]", i);
            return fwselParseError(ctx, member, "expected a string, got %s",
                                   fwselJSONTypeName(item));
        }
    }
    return 0;
}


static void
fwselOffsetToLineColumn(const char *text,
                        size_t offset,
                        size_t *line,
                        size_t *column)
{
    size_t i;

    *line = 1;
    *column = 1;
    for (i = 0; i < offset && text[i]; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *column = 1;
        } else {
            (*column)++;
        }
    }
}


/* A parser keeps one json-c tokener, reset for every document: a new
 * tokener costs a 1 KiB allocation each time, which also makes glibc
 * consolidate its free lists, a tenth of the time of loading a thousand
 * descriptors.  One parser per thread. */
struct _fwselDescriptorParser {
    json_tokener *tok;
};


fwselDescriptorParser *
fwselDescriptorParserNew(void)
{
    fwselDescriptorParser *parser = g_new0(fwselDescriptorParser, 1);

    parser->tok = json_tokener_new();
    return parser;
}


void
fwselDescriptorParserFree(fwselDescriptorParser *parser)
{
    if (!parser)
        return;
    json_tokener_free(parser->tok);
    g_free(parser);
}


static json_object *
fwselJSONParse(fwselParseCtx *ctx,
               json_tokener *tok,
               const char *json,
               gsize length)
{
    json_object *doc = NULL;
    enum json_tokener_error jerr;
    size_t end;
    size_t line;
    size_t column;
    const char *bad = NULL;

    if (strlen(json) != length) {
        fwselParseError(ctx, "(file)", "contains a NUL byte");
        return NULL;
    }
    if (!g_utf8_validate(json, length, &bad)) {
        fwselOffsetToLineColumn(json, bad - json, &line, &column);
        fwselParseError(ctx, "(file)", "not valid UTF-8 at line %zu column %zu", line, column);
        return NULL;
    }

    if (length >= INT_MAX) {
        fwselParseError(ctx, "(file)", "too large");
        return NULL;
    }

    /* the terminating NUL is passed too: it ends a bare top-level number */
    json_tokener_reset(tok);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    doc = json_tokener_parse_ex(tok, json, (int) length + 1);
    jerr = json_tokener_get_error(tok);
    end = json_tokener_get_parse_end(tok);

    if (jerr == json_tokener_continue ||
        (jerr != json_tokener_success && end >= length)) {
        fwselParseError(ctx, "(file)", "invalid JSON: unexpected end of file");
        goto error;
    }
    if (jerr == json_tokener_success && !doc) {
        fwselParseError(ctx, "(file)", "expected a JSON object at the top level, got null");
        goto error;
    }
    if (jerr != json_tokener_success) {
        fwselOffsetToLineColumn(json, end, &line, &column);
        fwselParseError(ctx, "(file)", "invalid JSON at line %zu column %zu: %s",
                        line, column, json_tokener_error_desc(jerr));
        goto error;
    }

    for (; end < length; end++) {
        if (!g_ascii_isspace(json[end])) {
            fwselOffsetToLineColumn(json, end, &line, &column);
            fwselParseError(ctx, "(file)",
                            "invalid JSON at line %zu column %zu: trailing data after the top-level object",
                            line, column);
            goto error;
        }
    }

    if (!json_object_is_type(doc, json_type_object)) {
        fwselParseError(ctx, "(file)", "expected a JSON object at the top level, got %s",
                        fwselJSONTypeName(doc));
        goto error;
    }

    return doc;

 error:
    json_object_put(doc);
    return NULL;
}


/**
 * fwselDescriptorParseWith:
 * @parser: the calling thread's parser
 * @path: name of the file the text came from, used in errors
 * @json: the text
 * @length: its length in bytes
 *
 * Returns the parsed descriptor, or NULL with @error naming @path and the
 * offending member.
 */
fwselDescriptor *
fwselDescriptorParseWith(fwselDescriptorParser *parser,
                         const char *path,
                         const char *json,
                         gsize length,
                         GError **error)
{
    g_autoptr(fwselDescriptor) desc = g_new0(fwselDescriptor, 1);
    fwselParseCtx ctx = { path, error };
    json_object *doc;
    int ret = -1;

    if (!(doc = fwselJSONParse(&ctx, parser->tok, json, length)))
        return NULL;

    desc->path = g_strdup(path);
    desc->name = g_path_get_basename(path);

    if (fwselDescriptorParseInterfaces(&ctx, doc, desc) < 0 ||
        fwselDescriptorParseMapping(&ctx, doc, desc) < 0 ||
        fwselDescriptorParseTargets(&ctx, doc, desc) < 0 ||
        fwselDescriptorParseFeatures(&ctx, doc, desc) < 0 ||
        fwselDescriptorParseOptional(&ctx, doc, desc) < 0)
        goto cleanup;

    ret = 0;

 cleanup:
    json_object_put(doc);
    if (ret < 0)
        return NULL;
    return g_steal_pointer(&desc);
}


/* fwselDescriptorParseWith() with a parser of its own, for one file */
fwselDescriptor *
fwselDescriptorParse(const char *path,
                     const char *json,
                     gsize length,
                     GError **error)
{
    g_autoptr(fwselDescriptorParser) parser = fwselDescriptorParserNew();

    return fwselDescriptorParseWith(parser, path, json, length, error);
}


/* The file QEMU runs: the flash executable, or the memory, kernel or IGVM
 * image */
const char *
fwselDescriptorCodeFile(const fwselDescriptor *desc)
{
    if (desc->device == FWSEL_DEVICE_FLASH)
        return desc->executable.filename;
    return desc->filename;
}


/* A flash build with a separate varstore template */
bool
fwselDescriptorIsSplit(const fwselDescriptor *desc)
{
    return desc->device == FWSEL_DEVICE_FLASH && desc->mode == FWSEL_FLASH_MODE_SPLIT;
}


/* The varstore template of a split flash build, else NULL */
const char *
fwselDescriptorTemplateFile(const fwselDescriptor *desc)
{
    if (fwselDescriptorIsSplit(desc))
        return desc->nvramTemplate.filename;
    return NULL;
}


bool
fwselDescriptorHasFeature(const fwselDescriptor *desc,
                          fwselFeature feature)
{
    return (desc->features & FWSEL_FEATURE_BIT(feature)) != 0;
}


bool
fwselDescriptorHasInterface(const fwselDescriptor *desc,
                            fwselInterface iface)
{
    return (desc->interfaces & (1u << iface)) != 0;
}


bool
fwselDescriptorSupportsTarget(const fwselDescriptor *desc,
                              const char *arch,
                              const char *machine)
{
    size_t i;
    size_t j;

    for (i = 0; i < desc->ntargets; i++) {
        const fwselTarget *target = &desc->targets[i];

        if (!g_str_equal(target->architecture, arch))
            continue;
        for (j = 0; target->machines[j]; j++) {
            if (g_pattern_match_simple(target->machines[j], machine))
                return true;
        }
    }
    return false;
}


/* The first path of @desc that is not absolute, or NULL */
const char *
fwselDescriptorRelativePath(const fwselDescriptor *desc)
{
    const char *code = fwselDescriptorCodeFile(desc);

    if (code && code[0] != '/')
        return code;
    if (fwselDescriptorIsSplit(desc) && desc->nvramTemplate.filename[0] != '/')
        return desc->nvramTemplate.filename;
    return NULL;
}
