/*
 * command.c: the firmware arguments of the QEMU command line, as libvirt
 * 9.0.0 writes them for QEMU 7.2
 *
 * What libvirt 9.0.0 emits (checked against Debian bookworm's libvirtd,
 * see README.rst, "Firmware arguments"):
 *
 *   pflash loader    two -blockdev nodes per flash unit: a "file" storage
 *                    node and a format node on top of it, named
 *                    libvirt-pflash0-{storage,format} for the code and
 *                    libvirt-pflash1-{storage,format} for the varstore;
 *                    the format node of the code is read-only unless the
 *                    loader is readonly='no' or has no readonly at all
 *   -machine         the machine type, then smm=on|off when <smm> is
 *                    given, then pflash0=/pflash1= naming the format nodes
 *   secure loader    -global driver=cfi.pflash01,property=secure,value=on
 *   rom loader       -bios PATH (also a loader path without a type)
 *   stateless        pflash0 only
 *
 * Other -machine properties (usb=, dump-guest-core=, memory-backend=)
 * depend on the rest of the domain and are left out.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "fwsel-command.h"

#define FWSEL_PFLASH_SECURE_GLOBAL "driver=cfi.pflash01,property=secure,value=on"


void
fwselCommandFree(fwselCommand *cmd)
{
    if (!cmd)
        return;
    if (cmd->args)
        g_ptr_array_unref(cmd->args);
    if (cmd->notes)
        g_ptr_array_unref(cmd->notes);
    fwselDomainFree(cmd->dom);
    g_free(cmd);
}


static fwselCommand *
fwselCommandNew(void)
{
    fwselCommand *cmd = g_new0(fwselCommand, 1);

    cmd->args = g_ptr_array_new_with_free_func(g_free);
    cmd->notes = g_ptr_array_new_with_free_func(g_free);
    return cmd;
}


static void
fwselCommandAdd(fwselCommand *cmd, const char *opt, char *value)
{
    g_ptr_array_add(cmd->args, g_strdup(opt));
    g_ptr_array_add(cmd->args, value);
}


/* A JSON string the way libvirt's JSON writer spells it: quotes,
 * backslashes and control characters escaped, '/' and UTF-8 as is. */
static void
fwselCommandJSONString(GString *out, const char *s)
{
    g_string_append_c(out, '"');
    for (; *s; s++) {
        unsigned char c = *s;

        switch (c) {
        case '"': g_string_append(out, "\\\""); break;
        case '\\': g_string_append(out, "\\\\"); break;
        case '\b': g_string_append(out, "\\b"); break;
        case '\f': g_string_append(out, "\\f"); break;
        case '\n': g_string_append(out, "\\n"); break;
        case '\r': g_string_append(out, "\\r"); break;
        case '\t': g_string_append(out, "\\t"); break;
        default:
            if (c < 0x20)
                g_string_append_printf(out, "\\u%04x", c);
            else
                g_string_append_c(out, c);
        }
    }
    g_string_append_c(out, '"');
}


static char *
fwselCommandNodeName(unsigned int unit, const char *layer)
{
    return g_strdup_printf(FWSEL_PFLASH_NODE_FMT, unit, layer);
}


/* {"driver":"file","filename":PATH,"node-name":...,"auto-read-only":true,"discard":"unmap"};
 * a block device is opened with QEMU's host_device driver instead */
static char *
fwselCommandStorageNode(unsigned int unit, const char *path, bool device)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree char *node = fwselCommandNodeName(unit, "storage");

    g_string_append_printf(out, "{\"driver\":\"%s\",\"filename\":",
                           device ? "host_device" : "file");
    fwselCommandJSONString(out, path);
    g_string_append(out, ",\"node-name\":");
    fwselCommandJSONString(out, node);
    g_string_append(out, ",\"auto-read-only\":true,\"discard\":\"unmap\"}");
    return g_string_free(g_steal_pointer(&out), FALSE);
}


/* {"node-name":...,"read-only":BOOL,"driver":FORMAT,"file":STORAGE-NODE} */
static char *
fwselCommandFormatNode(unsigned int unit, bool readonly, fwselFormat format)
{
    g_autoptr(GString) out = g_string_new("{\"node-name\":");
    g_autofree char *node = fwselCommandNodeName(unit, "format");
    g_autofree char *storage = fwselCommandNodeName(unit, "storage");

    if (format == FWSEL_FORMAT_NONE)
        format = FWSEL_FORMAT_RAW;

    fwselCommandJSONString(out, node);
    g_string_append_printf(out, ",\"read-only\":%s,\"driver\":", readonly ? "true" : "false");
    fwselCommandJSONString(out, fwselFormatTypeToString(format));
    g_string_append(out, ",\"file\":");
    fwselCommandJSONString(out, storage);
    g_string_append_c(out, '}');
    return g_string_free(g_steal_pointer(&out), FALSE);
}


/* The loader type libvirt acts on: a path without a type is a ROM */
static fwselLoaderType
fwselCommandLoaderType(const fwselLoader *loader)
{
    if (!loader->present || !loader->path)
        return FWSEL_LOADER_TYPE_NONE;
    if (loader->type == FWSEL_LOADER_TYPE_NONE)
        return FWSEL_LOADER_TYPE_ROM;
    return loader->type;
}


static bool
fwselCommandHasVarstore(const fwselDomain *dom)
{
    return dom->nvram.present && dom->nvram.path &&
           dom->loader.stateless != FWSEL_TRISTATE_YES;
}


static bool
fwselMachineIsQ35(const char *machine)
{
    return g_str_equal(machine, "q35") || g_str_has_prefix(machine, "pc-q35-");
}


/* What libvirt refuses to start, whatever the version: the reason, or NULL */
static char *
fwselCommandRefusal(const fwselDomain *dom, const char *machine)
{
    const fwselLoader *loader = &dom->loader;
    const char *paths[] = { loader->path, dom->nvram.path };
    size_t i;

    if (dom->nvram.present && dom->nvram.source == FWSEL_NVRAM_SOURCE_NETWORK)
        return g_strdup("<nvram> is backed by a network <source>: its -blockdev is not "
                        "modelled by fwsel");

    if (loader->present && !loader->path && loader->type != FWSEL_LOADER_TYPE_NONE)
        return g_strdup_printf("<loader type='%s'> names no file",
                               fwselLoaderTypeTypeToString(loader->type));

    if (loader->secure == FWSEL_TRISTATE_YES && !fwselMachineIsQ35(machine))
        return g_strdup_printf("<loader secure='yes'> needs a q35 machine type; libvirt "
                               "refuses it on %s", machine);
    if (loader->secure == FWSEL_TRISTATE_YES && dom->smm != FWSEL_TRISTATE_YES)
        return g_strdup("<loader secure='yes'> needs <smm state='on'/>: only SMM code may "
                        "write the protected flash");

    for (i = 0; i < G_N_ELEMENTS(paths); i++) {
        if (paths[i] && strchr(paths[i], '\n'))
            return g_strdup_printf("'%s' contains a newline and cannot be written one "
                                   "argument per line", paths[i]);
    }
    return NULL;
}


static void
fwselCommandAddPflash(fwselCommand *cmd, GString *machineOpt)
{
    const fwselDomain *dom = cmd->dom;

    fwselCommandAdd(cmd, "-blockdev", fwselCommandStorageNode(0, dom->loader.path, false));
    fwselCommandAdd(cmd, "-blockdev",
                    fwselCommandFormatNode(0, dom->loader.readonly == FWSEL_TRISTATE_YES,
                                           dom->loader.format));
    g_string_append(machineOpt, ",pflash0=libvirt-pflash0-format");

    if (!fwselCommandHasVarstore(dom))
        return;

    fwselCommandAdd(cmd, "-blockdev", fwselCommandStorageNode(1, dom->nvram.path,
                                                            dom->nvram.source == FWSEL_NVRAM_SOURCE_BLOCK));
    fwselCommandAdd(cmd, "-blockdev",
                    fwselCommandFormatNode(1, false,
                                           dom->nvram.format ? dom->nvram.format
                                                             : dom->nvram.templateFormat));
    g_string_append(machineOpt, ",pflash1=libvirt-pflash1-format");
}


/* Where libvirt 9.0.0 would not do what the filled slice says */
static void
fwselCommandCompatNotes(fwselCommand *cmd, const fwselDomain *requested)
{
    const fwselDomain *dom = cmd->dom;

    if (dom->loader.format == FWSEL_FORMAT_QCOW2 ||
        (fwselCommandHasVarstore(dom) &&
         (dom->nvram.format == FWSEL_FORMAT_QCOW2 ||
          dom->nvram.templateFormat == FWSEL_FORMAT_QCOW2)))
        g_ptr_array_add(cmd->notes,
                        g_strdup("libvirt 9.0.0 ignores format= on <loader> and <nvram> and "
                                 "always uses raw; the qcow2 format nodes above are what "
                                 "libvirt 9.2 and later write"));

    if (!requested)
        return;

    if (requested->firmware == FWSEL_FIRMWARE_NONE &&
        requested->loader.secure == FWSEL_TRISTATE_YES &&
        requested->smm != FWSEL_TRISTATE_YES)
        g_ptr_array_add(cmd->notes,
                        g_strdup("libvirt 9.0.0 refuses <loader secure='yes'> without "
                                 "<smm state='on'/> when the domain is defined; the filled "
                                 "definition ('virt-fwsel select') turns SMM on"));

    if (requested->firmware == FWSEL_FIRMWARE_NONE &&
        requested->loader.type == FWSEL_LOADER_TYPE_PFLASH && requested->loader.path &&
        !requested->loader.readonly && dom->loader.readonly == FWSEL_TRISTATE_YES)
        g_ptr_array_add(cmd->notes,
                        g_strdup("libvirt 9.0.0 keeps a pflash loader without readonly= "
                                 "writable and gives it no varstore; the filled definition "
                                 "('virt-fwsel select') makes it read-only with a varstore, "
                                 "as its descriptor describes it"));

    if (requested->firmware == FWSEL_FIRMWARE_BIOS && !dom->loader.present)
        g_ptr_array_add(cmd->notes,
                        g_strdup("libvirt 9.0.0 refuses to start firmware='bios' when no "
                                 "descriptor offers BIOS firmware ('Unable to find any "
                                 "firmware to satisfy'); without firmware= the domain boots "
                                 "QEMU's built-in BIOS with these arguments"));

    if (requested->firmware == FWSEL_FIRMWARE_EFI) {
        const char *attr = NULL;

        if (requested->loader.readonly)
            attr = "<loader readonly=...>";
        else if (requested->loader.type || requested->loader.path)
            attr = "<loader type=...> (a loader path implies one)";
        else if (requested->loader.secure == FWSEL_TRISTATE_NO)
            attr = "<loader secure='no'>";
        else if (requested->nvram.templatePath)
            attr = "<nvram template=...>";
        if (attr)
            g_ptr_array_add(cmd->notes,
                            g_strdup_printf("libvirt 9.0.0 refuses %s together with "
                                            "firmware='efi' when the domain is defined; "
                                            "define the filled definition "
                                            "('virt-fwsel select') instead", attr));
    }
}


static fwselCommand *
fwselCommandBuildInternal(const char *machine,
                          const fwselDomain *requested,
                          const fwselDomain *filled,
                          GError **error)
{
    g_autoptr(fwselCommand) cmd = fwselCommandNew();
    g_autoptr(GString) machineOpt = NULL;
    g_autofree char *refusal = NULL;
    const fwselDomain *dom;

    cmd->dom = fwselDomainCopy(filled);
    dom = cmd->dom;

    if (!machine) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_VALIDATE,
                    "no machine type for %s: name one in <os><type machine=...>", dom->arch);
        return NULL;
    }
    if ((refusal = fwselCommandRefusal(dom, machine))) {
        g_set_error_literal(error, FWSEL_ERROR, FWSEL_ERROR_VALIDATE, refusal);
        return NULL;
    }

    machineOpt = g_string_new(machine);
    if (dom->smm != FWSEL_TRISTATE_ABSENT)
        g_string_append_printf(machineOpt, ",smm=%s", fwselSwitchTypeToString(dom->smm));

    if (fwselCommandLoaderType(&dom->loader) == FWSEL_LOADER_TYPE_PFLASH)
        fwselCommandAddPflash(cmd, machineOpt);

    fwselCommandAdd(cmd, "-machine", g_string_free(g_steal_pointer(&machineOpt), FALSE));

    if (dom->loader.secure == FWSEL_TRISTATE_YES)
        fwselCommandAdd(cmd, "-global", g_strdup(FWSEL_PFLASH_SECURE_GLOBAL));

    if (fwselCommandLoaderType(&dom->loader) == FWSEL_LOADER_TYPE_ROM)
        fwselCommandAdd(cmd, "-bios", g_strdup(dom->loader.path));

    fwselCommandCompatNotes(cmd, requested);
    return g_steal_pointer(&cmd);
}


/**
 * fwselCommandBuild:
 * @req: the domain as written
 * @result: its evaluation
 *
 * The firmware arguments libvirt 9.0.0 gives QEMU for the filled domain.
 * Selection notes come first in cmd->notes.
 */
fwselCommand *
fwselCommandBuild(const fwselRequest *req,
                  const fwselResult *result,
                  GError **error)
{
    g_autoptr(fwselCommand) cmd = NULL;
    guint i;

    if (fwselResultFailed(result)) {
        fwselResultToError(result, error);
        return NULL;
    }
    if (!(cmd = fwselCommandBuildInternal(req->machine, req->dom, result->dom, error)))
        return NULL;

    for (i = 0; i < result->notes->len; i++)
        g_ptr_array_insert(cmd->notes, i, g_strdup(g_ptr_array_index(result->notes, i)));
    return g_steal_pointer(&cmd);
}


/**
 * fwselCommandFormat:
 *
 * One argument per line, each exactly as QEMU receives it.
 */
char *
fwselCommandFormat(const fwselCommand *cmd)
{
    GString *out = g_string_new(NULL);
    guint i;

    for (i = 0; i < cmd->args->len; i++)
        g_string_append_printf(out, "%s\n", (const char *) g_ptr_array_index(cmd->args, i));
    return g_string_free(out, FALSE);
}
