/*
 * domxml.c: the libvirt domain XML binding of the firmware slice: read it
 * from a document, write an updated slice back into the same document
 *
 * Only <os> (firmware attribute, <type>, <loader>, <nvram>, <firmware>,
 * <kernel>), <features><smm>, <pm> and <launchSecurity> are read.  Writing
 * back touches only those elements, laid out the way libvirt writes them;
 * everything else in the document is kept byte for byte (xmlpatch.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>
#include <sys/utsname.h>
#include <libxml/tree.h>

#include "fwsel-domxml.h"
#include "fwsel-xmlpatch.h"
#include "fwsel-descriptor.h"
#include "fwsel-util.h"

/* Domain XML can carry large <metadata>; allow more than descriptors. */
#define FWSEL_MAX_DOMAIN_XML_SIZE (8 * 1024 * 1024)

struct _fwselDomainXML {
    char *name;             /* file name, for errors */
    fwselXMLDoc *xml;
    fwselDomain *dom;       /* the slice the document says now */
};


void
fwselDomainXMLFree(fwselDomainXML *doc)
{
    if (!doc)
        return;
    g_free(doc->name);
    fwselXMLDocFree(doc->xml);
    fwselDomainFree(doc->dom);
    g_free(doc);
}


const fwselDomain *
fwselDomainXMLGetDomain(const fwselDomainXML *doc)
{
    return doc->dom;
}


typedef struct {
    const char *file;
    GError **error;
    fwselDomain *dom;
} fwselXMLCtx;


static int G_GNUC_PRINTF(3, 4)
fwselXMLError(fwselXMLCtx *ctx, xmlNode *node, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);

    if (node && xmlGetLineNo(node) > 0)
        g_set_error(ctx->error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "%s:%ld: %s", ctx->file, xmlGetLineNo(node), msg);
    else
        g_set_error(ctx->error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "%s: %s", ctx->file, msg);
    return -1;
}


/* Reads an enumerated attribute; absent gives 0, unknown values are an
 * error naming the element, the attribute and the accepted values. */
static int
fwselXMLEnumProp(fwselXMLCtx *ctx,
                 xmlNode *node,
                 const char *attr,
                 int (*fromString)(const char *),
                 const char *accepted,
                 int *out)
{
    g_autofree char *val = fwselXMLProp(node, attr);
    int v;

    *out = 0;
    if (!val)
        return 0;
    if ((v = fromString(val)) <= 0)
        return fwselXMLError(ctx, node,
                             "<%s %s='%s'>: unknown value (expected %s)",
                             (const char *) node->name, attr, val, accepted);
    *out = v;
    return 0;
}


#define FWSEL_XML_TRISTATE(ctx, node, attr, out) \
    fwselXMLEnumProp(ctx, node, attr, fwselTristateTypeFromString, "yes or no", \
                     (int *) (out))

/* An image format: libvirt 9.0 has no such attribute and ignores it, so
 * an unknown value is kept as the domain's formatError for the
 * validation of the versions that read it */
static int
fwselXMLFormatProp(fwselXMLCtx *ctx, xmlNode *node, const char *attr, fwselFormat *out)
{
    g_autoptr(GError) err = NULL;
    fwselXMLCtx lenient = { ctx->file, &err, ctx->dom };

    if (fwselXMLEnumProp(&lenient, node, attr, fwselFormatTypeFromString, "raw or qcow2",
                         (int *) out) < 0) {
        if (!ctx->dom->formatError)
            ctx->dom->formatError = g_strdup(err->message);
        *out = FWSEL_FORMAT_NONE;
    }
    return 0;
}

#define FWSEL_XML_FORMAT(ctx, node, attr, out) fwselXMLFormatProp(ctx, node, attr, out)


/* An element whose value is its text (<loader>, <kernel>) must hold no
 * element: its path would be read from one place and written to another */
static int
fwselXMLTextOnly(fwselXMLCtx *ctx, xmlNode *node, const char *allowed)
{
    xmlNode *cur;

    for (cur = node->children; cur; cur = cur->next) {
        if (cur->type != XML_ELEMENT_NODE)
            continue;
        if (allowed && xmlStrEqual(cur->name, BAD_CAST allowed))
            continue;
        return fwselXMLError(ctx, cur, "<%s>: unexpected element <%s> inside it",
                             (const char *) node->name, (const char *) cur->name);
    }
    return 0;
}


static int
fwselDomainParseLoader(fwselXMLCtx *ctx, xmlNode *node, fwselLoader *loader)
{
    loader->present = true;
    if (FWSEL_XML_TRISTATE(ctx, node, "readonly", &loader->readonly) < 0 ||
        FWSEL_XML_TRISTATE(ctx, node, "secure", &loader->secure) < 0 ||
        FWSEL_XML_TRISTATE(ctx, node, "stateless", &loader->stateless) < 0 ||
        fwselXMLEnumProp(ctx, node, "type", fwselLoaderTypeTypeFromString,
                         "rom or pflash", (int *) &loader->type) < 0 ||
        FWSEL_XML_FORMAT(ctx, node, "format", &loader->format) < 0)
        return -1;

    if (fwselXMLTextOnly(ctx, node, NULL) < 0)
        return -1;
    /* a relative path is libvirt's to accept (the safe policy refuses it) */
    loader->path = fwselXMLText(node);
    return 0;
}


static int
fwselDomainParseNvram(fwselXMLCtx *ctx, xmlNode *node, fwselNvram *nvram)
{
    g_autofree char *type = fwselXMLProp(node, "type");
    xmlNode *source;

    nvram->present = true;
    if (fwselXMLTextOnly(ctx, node, "source") < 0)
        return -1;
    if (FWSEL_XML_FORMAT(ctx, node, "format", &nvram->format) < 0 ||
        FWSEL_XML_FORMAT(ctx, node, "templateFormat", &nvram->templateFormat) < 0)
        return -1;

    nvram->templatePath = fwselXMLProp(node, "template");

    if (!type || g_str_equal(type, "file")) {
        if ((source = fwselXMLChild(node, "source")))
            nvram->path = fwselXMLProp(source, "file");
        else
            nvram->path = fwselXMLText(node);
    } else if (g_str_equal(type, "block")) {
        nvram->source = FWSEL_NVRAM_SOURCE_BLOCK;
        if ((source = fwselXMLChild(node, "source")))
            nvram->path = fwselXMLProp(source, "dev");
    } else if (g_str_equal(type, "network")) {
        nvram->source = FWSEL_NVRAM_SOURCE_NETWORK;
    } else {
        return fwselXMLError(ctx, node,
                             "<nvram type='%s'>: unknown value (expected file, block or network)",
                             type);
    }

    if (nvram->path && nvram->path[0] != '/')
        return fwselXMLError(ctx, node, "<nvram>: '%s' is not an absolute path",
                             nvram->path);
    return 0;
}


/* 'yes' or 'no', anything else absent: the record is advice, never an
 * error */
static fwselTristate
fwselDomainPinValue(xmlNode *node, const char *name)
{
    g_autofree char *v = fwselXMLProp(node, name);

    if (!v)
        return FWSEL_TRISTATE_ABSENT;
    if (g_str_equal(v, "yes"))
        return FWSEL_TRISTATE_YES;
    if (g_str_equal(v, "no"))
        return FWSEL_TRISTATE_NO;
    return FWSEL_TRISTATE_ABSENT;
}


/* fwsel's record of a pinned firmware's role in <metadata> (written by
 * virt-fwsel define and redefine) */
static void
fwselDomainParsePinRecord(xmlNode *metadata, fwselDomain *dom)
{
    xmlNode *cur;

    for (cur = metadata->children; cur; cur = cur->next) {
        if (cur->type != XML_ELEMENT_NODE || !cur->ns || !cur->ns->href ||
            !xmlStrEqual(cur->ns->href, BAD_CAST FWSEL_PIN_METADATA_NS) ||
            !xmlStrEqual(cur->name, BAD_CAST "firmware"))
            continue;
        dom->pinnedSecureBoot = fwselDomainPinValue(cur, "secure-boot");
        dom->pinnedEnrolledKeys = fwselDomainPinValue(cur, "enrolled-keys");
        return;
    }
}


static int
fwselDomainParseFirmwareFeatures(fwselXMLCtx *ctx, xmlNode *node, fwselDomain *dom)
{
    xmlNode *cur;

    dom->hasFirmwareFeatures = true;
    for (cur = node->children; cur; cur = cur->next) {
        g_autofree char *name = NULL;
        fwselTristate enabled;
        fwselTristate *slot;

        if (cur->type != XML_ELEMENT_NODE ||
            !xmlStrEqual(cur->name, BAD_CAST "feature"))
            continue;

        name = fwselXMLProp(cur, "name");
        if (FWSEL_XML_TRISTATE(ctx, cur, "enabled", &enabled) < 0)
            return -1;
        if (!name || enabled == FWSEL_TRISTATE_ABSENT)
            return fwselXMLError(ctx, cur,
                                 "<os><firmware><feature>: both 'name' and 'enabled' are required");

        if (g_str_equal(name, "secure-boot"))
            slot = &dom->secureBoot;
        else if (g_str_equal(name, "enrolled-keys"))
            slot = &dom->enrolledKeys;
        else
            return fwselXMLError(ctx, cur,
                                 "<os><firmware><feature name='%s'>: unknown firmware feature (expected secure-boot or enrolled-keys)",
                                 name);
        if (*slot != FWSEL_TRISTATE_ABSENT)
            return fwselXMLError(ctx, cur,
                                 "<os><firmware><feature name='%s'>: given twice", name);
        *slot = enabled;
    }
    return 0;
}


static int
fwselDomainParsePM(fwselXMLCtx *ctx, xmlNode *pm, fwselDomain *dom)
{
    xmlNode *node;

    if ((node = fwselXMLChild(pm, "suspend-to-mem")) &&
        FWSEL_XML_TRISTATE(ctx, node, "enabled", &dom->pmS3) < 0)
        return -1;
    if ((node = fwselXMLChild(pm, "suspend-to-disk")) &&
        FWSEL_XML_TRISTATE(ctx, node, "enabled", &dom->pmS4) < 0)
        return -1;
    return 0;
}


static int
fwselDomainParseLaunchSecurity(fwselXMLCtx *ctx, xmlNode *node, fwselDomain *dom)
{
    xmlNode *policy;

    if (fwselXMLEnumProp(ctx, node, "type", fwselLaunchSecurityTypeFromString,
                         "sev, sev-snp, tdx or s390-pv",
                         (int *) &dom->launchSecurity) < 0)
        return -1;
    if (dom->launchSecurity == FWSEL_LAUNCH_SECURITY_NONE)
        return fwselXMLError(ctx, node, "<launchSecurity>: missing 'type'");

    if (dom->launchSecurity == FWSEL_LAUNCH_SECURITY_SEV &&
        (policy = fwselXMLChild(node, "policy"))) {
        g_autofree char *text = fwselXMLText(policy);
        char *end = NULL;

        if (text)
            dom->sevPolicy = g_ascii_strtoull(text, &end, 16);
        if (!text || !end || *end)
            return fwselXMLError(ctx, policy,
                                 "<launchSecurity><policy>: '%s' is not a hexadecimal number",
                                 text ? text : "");
    }
    return 0;
}


static char *
fwselDomainHostArch(void)
{
    struct utsname ut;

    if (uname(&ut) < 0)
        return g_strdup("x86_64");
    return g_strdup(fwselArchFromQemu(ut.machine) ? fwselArchFromQemu(ut.machine)
                                                   : ut.machine);
}


/*
 * The child @name of @parent, NULL when there is none.  libvirt reads
 * the first of several and ignores the rest; fwsel reads and writes
 * these elements, and two of them would let the one it writes differ
 * from the one read back: a second one is an error.
 */
static int
fwselXMLChildOnce(fwselXMLCtx *ctx, xmlNode *parent, const char *where, const char *name,
                  xmlNode **out)
{
    xmlNode *cur;

    *out = NULL;
    for (cur = parent->children; cur; cur = cur->next) {
        if (cur->type != XML_ELEMENT_NODE || !xmlStrEqual(cur->name, BAD_CAST name))
            continue;
        if (*out)
            return fwselXMLError(ctx, cur, "%s<%s>: given twice", where, name);
        *out = cur;
    }
    return 0;
}


static int
fwselDomainParse(fwselXMLCtx *ctx, xmlNode *root, fwselDomain *dom)
{
    xmlNode *os;
    xmlNode *type;
    xmlNode *features;
    xmlNode *node;
    g_autofree char *typeText = NULL;
    g_autofree char *smmState = NULL;

    if (!xmlStrEqual(root->name, BAD_CAST "domain"))
        return fwselXMLError(ctx, root, "expected a <domain> root element, got <%s>",
                             (const char *) root->name);

    if ((node = fwselXMLChild(root, "name")))
        dom->name = fwselXMLText(node);

    if (fwselXMLChildOnce(ctx, root, "", "os", &os) < 0)
        return -1;
    if (!os)
        return fwselXMLError(ctx, root, "missing <os>");
    if (fwselXMLChildOnce(ctx, os, "<os>", "type", &type) < 0)
        return -1;
    if (!type)
        return fwselXMLError(ctx, os, "missing <os><type>");

    typeText = fwselXMLText(type);
    if (!typeText || !g_str_equal(typeText, "hvm"))
        return fwselXMLError(ctx, type, "<os><type>: '%s' is not supported, only hvm guests have firmware",
                             typeText ? typeText : "");

    dom->arch = fwselXMLProp(type, "arch");
    if (!dom->arch)
        dom->arch = fwselDomainHostArch();
    dom->machine = fwselXMLProp(type, "machine");

    if (fwselXMLEnumProp(ctx, os, "firmware", fwselFirmwareTypeFromString,
                         "bios or efi", (int *) &dom->firmware) < 0)
        return -1;

    if (fwselXMLChildOnce(ctx, os, "<os>", "loader", &node) < 0 ||
        (node && fwselDomainParseLoader(ctx, node, &dom->loader) < 0))
        return -1;
    if (fwselXMLChildOnce(ctx, os, "<os>", "nvram", &node) < 0 ||
        (node && fwselDomainParseNvram(ctx, node, &dom->nvram) < 0))
        return -1;
    if (fwselXMLChildOnce(ctx, os, "<os>", "firmware", &node) < 0 ||
        (node && fwselDomainParseFirmwareFeatures(ctx, node, dom) < 0))
        return -1;
    if (fwselXMLChildOnce(ctx, os, "<os>", "kernel", &node) < 0)
        return -1;
    if (node) {
        if (fwselXMLTextOnly(ctx, node, NULL) < 0)
            return -1;
        dom->kernel = fwselXMLText(node);
    }

    if (fwselXMLChildOnce(ctx, root, "", "features", &features) < 0)
        return -1;
    if (features && fwselXMLChild(features, "acpi"))
        dom->acpi = true;
    if (features && fwselXMLChildOnce(ctx, features, "<features>", "smm", &node) < 0)
        return -1;
    if (features && node) {
        smmState = fwselXMLProp(node, "state");
        if (!smmState || g_str_equal(smmState, "on"))
            dom->smm = FWSEL_TRISTATE_YES;
        else if (g_str_equal(smmState, "off"))
            dom->smm = FWSEL_TRISTATE_NO;
        else
            return fwselXMLError(ctx, node, "<smm state='%s'>: unknown value (expected on or off)",
                                 smmState);
    }

    if ((node = fwselXMLChild(root, "pm")) &&
        fwselDomainParsePM(ctx, node, dom) < 0)
        return -1;

    if ((node = fwselXMLChild(root, "launchSecurity")) &&
        fwselDomainParseLaunchSecurity(ctx, node, dom) < 0)
        return -1;

    if ((node = fwselXMLChild(root, "metadata")))
        fwselDomainParsePinRecord(node, dom);

    return 0;
}


/**
 * fwselDomainXMLParse:
 * @name: where the text came from, for errors
 *
 * Parses a domain XML document.  Malformed XML, a document type
 * declaration, or unknown values of the attributes fwsel reads are
 * errors naming @name and the line.
 */
fwselDomainXML *
fwselDomainXMLParse(const char *name,
                    const char *xml,
                    gsize length,
                    GError **error)
{
    g_autoptr(fwselDomainXML) doc = g_new0(fwselDomainXML, 1);
    fwselXMLCtx ctx = { name, error, NULL };

    doc->name = g_strdup(name);
    if (!(doc->xml = fwselXMLDocParse(name, xml, length, FWSEL_MAX_DOMAIN_XML_SIZE, error)))
        return NULL;

    doc->dom = fwselDomainNew();
    ctx.dom = doc->dom;
    if (fwselDomainParse(&ctx, fwselXMLDocRoot(doc->xml), doc->dom) < 0)
        return NULL;
    return g_steal_pointer(&doc);
}


fwselDomainXML *
fwselDomainXMLLoad(const char *file, GError **error)
{
    g_autofree char *text = NULL;
    gsize length;

    if (fwselFileReadBounded(file, FWSEL_MAX_DOMAIN_XML_SIZE, &text, &length, error) < 0)
        return NULL;
    return fwselDomainXMLParse(file, text, length, error);
}


/* Finds <name> in <os>, or creates it after the elements that precede it
 * in libvirt's order. */
static xmlNode *
fwselXMLEnsureOsChild(xmlNode *os, const char *name)
{
    static const char *const order[] = { "type", "firmware", "loader", "nvram", "kernel", NULL };
    const char *before[G_N_ELEMENTS(order)] = { NULL };
    xmlNode *node;
    size_t i;

    if ((node = fwselXMLChild(os, name)))
        return node;

    for (i = 0; order[i] && !g_str_equal(order[i], name); i++)
        before[i] = order[i];
    before[i] = NULL;

    return fwselXMLInsert(os, fwselXMLLastOf(os, before), name);
}


static void
fwselDomainWriteLoader(xmlNode *os, const fwselLoader *loader)
{
    xmlNode *node = fwselXMLEnsureOsChild(os, "loader");
    const char *attrs[] = { "readonly", "secure", "type", "stateless", "format" };
    size_t i;

    /* this element is ours: lay its attributes out in libvirt's order */
    for (i = 0; i < G_N_ELEMENTS(attrs); i++)
        fwselXMLSetProp(node, attrs[i], NULL);
    fwselXMLSetProp(node, "readonly", fwselTristateTypeToString(loader->readonly));
    fwselXMLSetProp(node, "secure", fwselTristateTypeToString(loader->secure));
    fwselXMLSetProp(node, "type", fwselLoaderTypeTypeToString(loader->type));
    fwselXMLSetProp(node, "stateless", fwselTristateTypeToString(loader->stateless));
    fwselXMLSetProp(node, "format", fwselFormatTypeToString(loader->format));
    fwselXMLSetText(node, loader->path);
}


static void
fwselDomainWriteNvram(xmlNode *os, const fwselNvram *nvram)
{
    xmlNode *node = fwselXMLEnsureOsChild(os, "nvram");
    xmlNode *source = fwselXMLChild(node, "source");
    const char *attrs[] = { "template", "templateFormat", "type", "format" };
    g_autofree char *type = fwselXMLProp(node, "type");
    size_t i;

    /* libvirt's order: template, templateFormat, type, format */
    for (i = 0; i < G_N_ELEMENTS(attrs); i++)
        fwselXMLSetProp(node, attrs[i], NULL);
    fwselXMLSetProp(node, "template", nvram->templatePath);
    fwselXMLSetProp(node, "templateFormat", fwselFormatTypeToString(nvram->templateFormat));
    fwselXMLSetProp(node, "type",
                    nvram->source == FWSEL_NVRAM_SOURCE_BLOCK ? "block" : type);
    fwselXMLSetProp(node, "format", fwselFormatTypeToString(nvram->format));

    switch (nvram->source) {
    case FWSEL_NVRAM_SOURCE_NETWORK:
    case FWSEL_NVRAM_SOURCE_LAST:
        return;
    case FWSEL_NVRAM_SOURCE_BLOCK:
        /* a device is always named by <source dev=...> */
        if (!source)
            source = fwselXMLInsert(node, NULL, "source");
        fwselXMLSetProp(source, "dev", nvram->path);
        return;
    case FWSEL_NVRAM_SOURCE_FILE:
        break;
    }
    if (source)
        fwselXMLSetProp(source, "file", nvram->path);
    else
        fwselXMLSetText(node, nvram->path);
}


static xmlNode *
fwselXMLFindFeature(xmlNode *firmware, const char *name)
{
    xmlNode *cur;

    for (cur = firmware->children; cur; cur = cur->next) {
        g_autofree char *n = NULL;

        if (cur->type != XML_ELEMENT_NODE || !xmlStrEqual(cur->name, BAD_CAST "feature"))
            continue;
        n = fwselXMLProp(cur, "name");
        if (n && g_str_equal(n, name))
            return cur;
    }
    return NULL;
}


/* Sets <feature name=@name enabled=@value/> in <os><firmware>.  A new
 * feature goes where libvirt writes it: enrolled-keys before
 * secure-boot, anything else last. */
static void
fwselDomainWriteFeature(xmlNode *firmware, const char *name, fwselTristate value)
{
    xmlNode *cur = fwselXMLFindFeature(firmware, name);
    xmlNode *next;

    if (value == FWSEL_TRISTATE_ABSENT) {
        if (cur)
            fwselXMLRemove(cur);
        return;
    }

    if (!cur) {
        if (g_str_equal(name, "enrolled-keys") &&
            (next = fwselXMLFindFeature(firmware, "secure-boot")))
            cur = fwselXMLInsert(firmware, fwselXMLPrevElement(next), "feature");
        else
            cur = fwselXMLInsert(firmware, fwselXMLLastElement(firmware), "feature");
        fwselXMLSetProp(cur, "enabled", fwselTristateTypeToString(value));
        fwselXMLSetProp(cur, "name", name);
        return;
    }
    fwselXMLSetProp(cur, "enabled", fwselTristateTypeToString(value));
}


static void
fwselDomainWriteSMM(xmlNode *root, xmlNode *os, fwselTristate smm)
{
    /* the <features> children libvirt writes before <smm> */
    static const char *const before[] = { "acpi", "apic", "pae", "hap", "viridian",
                                          "privnet", "hyperv", "kvm", "pvspinlock",
                                          "capabilities", "pmu", "vmport", "gic", NULL };
    xmlNode *features = fwselXMLChild(root, "features");
    xmlNode *node;

    if (!features)
        features = fwselXMLInsert(root, os, "features");
    if (!(node = fwselXMLChild(features, "smm")))
        node = fwselXMLInsert(features, fwselXMLLastOf(features, before), "smm");
    fwselXMLSetProp(node, "state", fwselSwitchTypeToString(smm));
}


/**
 * fwselDomainXMLUpdate:
 * @dom: the firmware slice to write
 *
 * Makes the document say what @dom says about firmware.  Elements are
 * only created or changed where @dom differs from what the document
 * already says.
 */
int
fwselDomainXMLUpdate(fwselDomainXML *doc,
                     const fwselDomain *dom,
                     GError **error)
{
    const fwselDomain *old = doc->dom;
    xmlNode *root = fwselXMLDocRoot(doc->xml);
    xmlNode *os = root ? fwselXMLChild(root, "os") : NULL;
    xmlNode *node;

    /* parsing made sure of both */
    if (!os) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "%s: the document has no <domain><os>", doc->name);
        return -1;
    }

    if (dom->firmware != old->firmware)
        fwselXMLSetProp(os, "firmware", fwselFirmwareTypeToString(dom->firmware));

    if (!dom->hasFirmwareFeatures && old->hasFirmwareFeatures &&
        (node = fwselXMLChild(os, "firmware")))
        fwselXMLRemove(node);

    if (dom->hasFirmwareFeatures &&
        (!old->hasFirmwareFeatures ||
         dom->enrolledKeys != old->enrolledKeys ||
         dom->secureBoot != old->secureBoot)) {
        node = fwselXMLEnsureOsChild(os, "firmware");
        fwselDomainWriteFeature(node, "enrolled-keys", dom->enrolledKeys);
        fwselDomainWriteFeature(node, "secure-boot", dom->secureBoot);
    }

    if (dom->loader.present &&
        (!old->loader.present ||
         g_strcmp0(dom->loader.path, old->loader.path) != 0 ||
         dom->loader.type != old->loader.type ||
         dom->loader.readonly != old->loader.readonly ||
         dom->loader.secure != old->loader.secure ||
         dom->loader.stateless != old->loader.stateless ||
         dom->loader.format != old->loader.format))
        fwselDomainWriteLoader(os, &dom->loader);

    if (dom->nvram.present &&
        (!old->nvram.present ||
         g_strcmp0(dom->nvram.path, old->nvram.path) != 0 ||
         g_strcmp0(dom->nvram.templatePath, old->nvram.templatePath) != 0 ||
         dom->nvram.format != old->nvram.format ||
         dom->nvram.templateFormat != old->nvram.templateFormat))
        fwselDomainWriteNvram(os, &dom->nvram);

    if (dom->kernel && g_strcmp0(dom->kernel, old->kernel) != 0)
        fwselXMLSetText(fwselXMLEnsureOsChild(os, "kernel"), dom->kernel);

    if (dom->smm != FWSEL_TRISTATE_ABSENT && dom->smm != old->smm)
        fwselDomainWriteSMM(root, os, dom->smm);

    fwselDomainFree(doc->dom);
    doc->dom = fwselDomainCopy(dom);
    return 0;
}


/**
 * fwselDomainXMLFormat:
 *
 * The document with the firmware slice as last updated; everything else
 * as it was read (see xmlpatch.c).
 */
char *
fwselDomainXMLFormat(const fwselDomainXML *doc)
{
    return fwselXMLDocFormat(doc->xml);
}
