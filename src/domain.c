/*
 * domain.c: read the firmware slice of a libvirt domain XML and write an
 * updated slice back into the same document
 *
 * Only <os> (firmware attribute, <type>, <loader>, <nvram>, <firmware>,
 * <kernel>), <features><smm>, <pm> and <launchSecurity> are read.  Writing
 * back touches only those elements; everything else in the document,
 * including comments, whitespace and attribute quoting, is kept.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "fwsel-domain.h"
#include "fwsel-descriptor.h"
#include "fwsel-util.h"

/* Domain XML can carry large <metadata>; allow more than descriptors. */
#define FWSEL_MAX_DOMAIN_XML_SIZE (8 * 1024 * 1024)

FWSEL_ENUM_IMPL(fwselFirmware, FWSEL_FIRMWARE_LAST, "", "bios", "efi");
FWSEL_ENUM_IMPL(fwselLoaderType, FWSEL_LOADER_TYPE_LAST, "", "rom", "pflash");
FWSEL_ENUM_IMPL(fwselNvramSource, FWSEL_NVRAM_SOURCE_LAST, "file", "block", "network");
FWSEL_ENUM_IMPL(fwselLaunchSecurity, FWSEL_LAUNCH_SECURITY_LAST,
                "", "sev", "sev-snp", "tdx", "s390-pv");

/*
 * Where a node of the parsed document came from in the original text.
 * Every node fwsel did not change is written back as these bytes, so
 * quoting, entities, attribute layout and whitespace survive exactly.
 * Nodes created later have no span (node->_private is NULL).
 */
typedef struct {
    gsize start;            /* first byte of the node */
    gsize tagEnd;           /* elements: just past the start tag */
    gsize closeStart;       /* elements: first byte of the end tag */
    gsize end;              /* just past the node */
    bool empty;             /* element written as <name .../> */
    char *text;             /* text nodes: the content as parsed */
    bool attrsChanged;      /* the start tag must be regenerated */
    bool contentChanged;    /* children were added, removed or replaced */
} fwselXMLSpan;

struct _fwselDomainXML {
    char *name;             /* file name, for errors */
    xmlDoc *doc;
    fwselDomain *dom;
    char *text;             /* the document as read; NULL if not mapped */
    gsize length;
    bool crlf;              /* its lines end in CR LF */
    GPtrArray *spans;       /* fwselXMLSpan *, owned; NULL if not mapped */
};


fwselDomain *
fwselDomainNew(void)
{
    return g_new0(fwselDomain, 1);
}


void
fwselDomainFree(fwselDomain *dom)
{
    if (!dom)
        return;
    g_free(dom->name);
    g_free(dom->arch);
    g_free(dom->machine);
    g_free(dom->loader.path);
    g_free(dom->nvram.path);
    g_free(dom->nvram.templatePath);
    g_free(dom->kernel);
    g_free(dom);
}


fwselDomain *
fwselDomainCopy(const fwselDomain *dom)
{
    fwselDomain *copy = g_new0(fwselDomain, 1);

    *copy = *dom;
    copy->name = g_strdup(dom->name);
    copy->arch = g_strdup(dom->arch);
    copy->machine = g_strdup(dom->machine);
    copy->loader.path = g_strdup(dom->loader.path);
    copy->nvram.path = g_strdup(dom->nvram.path);
    copy->nvram.templatePath = g_strdup(dom->nvram.templatePath);
    copy->kernel = g_strdup(dom->kernel);
    return copy;
}


void
fwselDomainXMLFree(fwselDomainXML *doc)
{
    if (!doc)
        return;
    g_free(doc->name);
    if (doc->doc)
        xmlFreeDoc(doc->doc);
    g_free(doc->text);
    if (doc->spans)
        g_ptr_array_unref(doc->spans);
    fwselDomainFree(doc->dom);
    g_free(doc);
}


const fwselDomain *
fwselDomainXMLGetDomain(const fwselDomainXML *doc)
{
    return doc->dom;
}


/* ------------------------------------------------------------------ */
/* Reading                                                             */
/* ------------------------------------------------------------------ */

typedef struct {
    const char *file;
    GError **error;
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


static xmlNode *
fwselXMLChild(xmlNode *parent, const char *name)
{
    xmlNode *cur;

    for (cur = parent->children; cur; cur = cur->next) {
        if (cur->type == XML_ELEMENT_NODE &&
            xmlStrEqual(cur->name, BAD_CAST name))
            return cur;
    }
    return NULL;
}


static char *
fwselXMLProp(xmlNode *node, const char *name)
{
    xmlChar *val = xmlGetNoNsProp(node, BAD_CAST name);
    char *ret = g_strdup((const char *) val);

    xmlFree(val);
    return ret;
}


static char *
fwselXMLText(xmlNode *node)
{
    xmlChar *val = xmlNodeGetContent(node);
    char *ret = g_strstrip(g_strdup(val ? (const char *) val : ""));

    xmlFree(val);
    if (!*ret)
        g_clear_pointer(&ret, g_free);
    return ret;
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

#define FWSEL_XML_FORMAT(ctx, node, attr, out) \
    fwselXMLEnumProp(ctx, node, attr, fwselFormatTypeFromString, "raw or qcow2", \
                     (int *) (out))


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

    loader->path = fwselXMLText(node);
    if (loader->path && loader->path[0] != '/')
        return fwselXMLError(ctx, node, "<loader>: '%s' is not an absolute path",
                             loader->path);
    return 0;
}


static int
fwselDomainParseNvram(fwselXMLCtx *ctx, xmlNode *node, fwselNvram *nvram)
{
    g_autofree char *type = fwselXMLProp(node, "type");
    xmlNode *source;

    nvram->present = true;
    if (FWSEL_XML_FORMAT(ctx, node, "format", &nvram->format) < 0 ||
        FWSEL_XML_FORMAT(ctx, node, "templateFormat", &nvram->templateFormat) < 0)
        return -1;

    nvram->templatePath = fwselXMLProp(node, "template");
    if (nvram->templatePath && nvram->templatePath[0] != '/')
        return fwselXMLError(ctx, node, "<nvram template='%s'>: not an absolute path",
                             nvram->templatePath);

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


static int
fwselDomainParseFirmwareFeatures(fwselXMLCtx *ctx, xmlNode *node, fwselDomain *dom)
{
    xmlNode *cur;

    dom->hasFirmwareFeatures = true;
    for (cur = node->children; cur; cur = cur->next) {
        g_autofree char *name = NULL;
        fwselTristate enabled;

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
            dom->secureBoot = enabled;
        else if (g_str_equal(name, "enrolled-keys"))
            dom->enrolledKeys = enabled;
        else
            return fwselXMLError(ctx, cur,
                                 "<os><firmware><feature name='%s'>: unknown firmware feature (expected secure-boot or enrolled-keys)",
                                 name);
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


static int
fwselDomainParse(fwselXMLCtx *ctx, xmlNode *root, fwselDomain *dom)
{
    xmlNode *os;
    xmlNode *type;
    xmlNode *node;
    g_autofree char *typeText = NULL;
    g_autofree char *smmState = NULL;

    if (!xmlStrEqual(root->name, BAD_CAST "domain"))
        return fwselXMLError(ctx, root, "expected a <domain> root element, got <%s>",
                             (const char *) root->name);

    if ((node = fwselXMLChild(root, "name")))
        dom->name = fwselXMLText(node);

    if (!(os = fwselXMLChild(root, "os")))
        return fwselXMLError(ctx, root, "missing <os>");
    if (!(type = fwselXMLChild(os, "type")))
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

    if ((node = fwselXMLChild(os, "loader")) &&
        fwselDomainParseLoader(ctx, node, &dom->loader) < 0)
        return -1;
    if ((node = fwselXMLChild(os, "nvram")) &&
        fwselDomainParseNvram(ctx, node, &dom->nvram) < 0)
        return -1;
    if ((node = fwselXMLChild(os, "firmware")) &&
        fwselDomainParseFirmwareFeatures(ctx, node, dom) < 0)
        return -1;
    if ((node = fwselXMLChild(os, "kernel")))
        dom->kernel = fwselXMLText(node);

    if ((node = fwselXMLChild(root, "features")) &&
        (node = fwselXMLChild(node, "smm"))) {
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

    return 0;
}


static void
fwselXMLSilence(void *data G_GNUC_UNUSED, xmlError *err G_GNUC_UNUSED)
{
}


/* ------------------------------------------------------------------ */
/* Mapping nodes to the original text                                  */
/* ------------------------------------------------------------------ */

static void
fwselXMLSpanFree(fwselXMLSpan *span)
{
    if (!span)
        return;
    g_free(span->text);
    g_free(span);
}


typedef struct {
    const char *text;
    gsize length;
    gsize pos;
    GPtrArray *spans;
} fwselXMLScanner;


static bool
fwselXMLScanLiteral(fwselXMLScanner *sc, const char *lit)
{
    gsize n = strlen(lit);

    if (sc->length - sc->pos < n || memcmp(sc->text + sc->pos, lit, n) != 0)
        return false;
    sc->pos += n;
    return true;
}


/* Moves just past the next occurrence of @lit */
static bool
fwselXMLScanPast(fwselXMLScanner *sc, const char *lit)
{
    const char *found = g_strstr_len(sc->text + sc->pos, sc->length - sc->pos, lit);

    if (!found)
        return false;
    sc->pos = (found - sc->text) + strlen(lit);
    return true;
}


static void
fwselXMLScanBlank(fwselXMLScanner *sc)
{
    while (sc->pos < sc->length && g_ascii_isspace(sc->text[sc->pos]))
        sc->pos++;
}


static char *
fwselXMLQNameOf(xmlNode *node)
{
    if (node->ns && node->ns->prefix)
        return g_strdup_printf("%s:%s", (const char *) node->ns->prefix,
                               (const char *) node->name);
    return g_strdup((const char *) node->name);
}


static bool fwselXMLScanNode(fwselXMLScanner *sc, xmlNode *node);


static bool
fwselXMLScanElement(fwselXMLScanner *sc, xmlNode *node, fwselXMLSpan *span)
{
    g_autofree char *qname = fwselXMLQNameOf(node);
    xmlNode *child;
    char quote = 0;

    if (!fwselXMLScanLiteral(sc, "<") || !fwselXMLScanLiteral(sc, qname))
        return false;
    if (sc->pos >= sc->length ||
        !(g_ascii_isspace(sc->text[sc->pos]) || sc->text[sc->pos] == '>' ||
          sc->text[sc->pos] == '/'))
        return false;

    /* the start tag ends at the first '>' outside a quoted value */
    for (; sc->pos < sc->length; sc->pos++) {
        char c = sc->text[sc->pos];

        if (quote) {
            if (c == quote)
                quote = 0;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else if (c == '>') {
            break;
        }
    }
    if (sc->pos >= sc->length)
        return false;
    span->empty = sc->text[sc->pos - 1] == '/';
    span->tagEnd = ++sc->pos;

    if (span->empty) {
        span->closeStart = sc->pos;
        return node->children == NULL;
    }

    for (child = node->children; child; child = child->next) {
        if (!fwselXMLScanNode(sc, child))
            return false;
    }

    span->closeStart = sc->pos;
    if (!fwselXMLScanLiteral(sc, "</") || !fwselXMLScanLiteral(sc, qname))
        return false;
    fwselXMLScanBlank(sc);
    return fwselXMLScanLiteral(sc, ">");
}


static bool
fwselXMLScanNode(fwselXMLScanner *sc, xmlNode *node)
{
    fwselXMLSpan *span = g_new0(fwselXMLSpan, 1);
    const char *lt;
    bool ok = false;

    g_ptr_array_add(sc->spans, span);
    node->_private = span;
    span->start = sc->pos;

    switch (node->type) {
    case XML_ELEMENT_NODE:
        ok = fwselXMLScanElement(sc, node, span);
        break;

    case XML_TEXT_NODE:
        /* one text node is the whole run of characters up to the next markup */
        if (sc->pos < sc->length && sc->text[sc->pos] != '<') {
            lt = memchr(sc->text + sc->pos, '<', sc->length - sc->pos);
            sc->pos = lt ? (gsize) (lt - sc->text) : sc->length;
            span->text = g_strdup((const char *) node->content);
            ok = true;
        }
        break;

    case XML_COMMENT_NODE:
        ok = fwselXMLScanLiteral(sc, "<!--") && fwselXMLScanPast(sc, "-->");
        break;

    case XML_CDATA_SECTION_NODE:
        ok = fwselXMLScanLiteral(sc, "<![CDATA[") && fwselXMLScanPast(sc, "]]>");
        break;

    case XML_PI_NODE:
        ok = fwselXMLScanLiteral(sc, "<?") && fwselXMLScanPast(sc, "?>");
        break;

    case XML_ENTITY_REF_NODE:
    case XML_ATTRIBUTE_NODE:
    case XML_ENTITY_NODE:
    case XML_DOCUMENT_NODE:
    case XML_DOCUMENT_TYPE_NODE:
    case XML_DOCUMENT_FRAG_NODE:
    case XML_NOTATION_NODE:
    case XML_HTML_DOCUMENT_NODE:
    case XML_DTD_NODE:
    case XML_ELEMENT_DECL:
    case XML_ATTRIBUTE_DECL:
    case XML_ENTITY_DECL:
    case XML_NAMESPACE_DECL:
    case XML_XINCLUDE_START:
    case XML_XINCLUDE_END:
#ifdef LIBXML_DOCB_ENABLED
    case XML_DOCB_DOCUMENT_NODE:
#endif
        break;
    }

    span->end = sc->pos;
    return ok;
}


static void
fwselXMLClearPrivate(xmlNode *node)
{
    for (; node; node = node->next) {
        node->_private = NULL;
        if (node->type == XML_ELEMENT_NODE)
            fwselXMLClearPrivate(node->children);
    }
}


static bool
fwselXMLIsUTF8(const xmlDoc *doc)
{
    const char *enc = (const char *) doc->encoding;

    return !enc || g_ascii_strcasecmp(enc, "UTF-8") == 0 ||
           g_ascii_strcasecmp(enc, "UTF8") == 0;
}


/**
 * fwselDomainXMLMap:
 *
 * Records, for every node of the parsed document, the bytes of the
 * original text it came from.  When the text cannot be mapped (another
 * encoding than UTF-8, or anything the scanner does not expect), the
 * document is later written out in libvirt's own style instead.
 */
static void
fwselDomainXMLMap(fwselDomainXML *doc, const char *xml, gsize length)
{
    g_autoptr(GPtrArray) spans = g_ptr_array_new_with_free_func((GDestroyNotify) fwselXMLSpanFree);
    fwselXMLScanner sc = { xml, length, 0, spans };
    xmlNode *cur;

    if (!fwselXMLIsUTF8(doc->doc))
        return;

    fwselXMLScanLiteral(&sc, "\xEF\xBB\xBF");
    if (length - sc.pos > 5 && memcmp(xml + sc.pos, "<?xml", 5) == 0 &&
        g_ascii_isspace(xml[sc.pos + 5]) && !fwselXMLScanPast(&sc, "?>"))
        goto unmapped;

    for (cur = doc->doc->children; cur; cur = cur->next) {
        fwselXMLScanBlank(&sc);
        if (!fwselXMLScanNode(&sc, cur))
            goto unmapped;
    }
    fwselXMLScanBlank(&sc);
    if (sc.pos != length)
        goto unmapped;

    doc->text = g_strndup(xml, length);
    doc->length = length;
    doc->crlf = g_strstr_len(xml, length, "\r\n") != NULL;
    doc->spans = g_steal_pointer(&spans);
    doc->doc->_private = doc;
    return;

 unmapped:
    fwselXMLClearPrivate(doc->doc->children);
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
    fwselXMLCtx ctx = { name, error };
    xmlNode *root;
    const xmlError *xerr;

    doc->name = g_strdup(name);

    if (length > FWSEL_MAX_DOMAIN_XML_SIZE || length > INT_MAX) {
        fwselXMLError(&ctx, NULL, "document larger than %d bytes", FWSEL_MAX_DOMAIN_XML_SIZE);
        return NULL;
    }

    xmlSetStructuredErrorFunc(NULL, fwselXMLSilence);
    xmlResetLastError();
    doc->doc = xmlReadMemory(xml, (int) length, name, NULL,
                             XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlSetStructuredErrorFunc(NULL, NULL);

    if (!doc->doc) {
        xerr = xmlGetLastError();
        if (xerr && xerr->message) {
            g_autofree char *msg = g_strchomp(g_strdup(xerr->message));

            g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                        "%s:%d: malformed XML: %s", name, xerr->line, msg);
        } else {
            g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                        "%s: malformed XML", name);
        }
        return NULL;
    }

    if (doc->doc->intSubset || doc->doc->extSubset) {
        fwselXMLError(&ctx, NULL, "document type declarations are not accepted in domain XML");
        return NULL;
    }

    if (!(root = xmlDocGetRootElement(doc->doc))) {
        fwselXMLError(&ctx, NULL, "empty document");
        return NULL;
    }

    doc->dom = fwselDomainNew();
    if (fwselDomainParse(&ctx, root, doc->dom) < 0)
        return NULL;

    fwselDomainXMLMap(doc, xml, length);
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


/* ------------------------------------------------------------------ */
/* Writing                                                             */
/* ------------------------------------------------------------------ */

/* The line end new lines of @node's document use: that of the input */
static const char *
fwselXMLNewline(xmlNode *node)
{
    fwselDomainXML *doc = node && node->doc ? node->doc->_private : NULL;

    return doc && doc->crlf ? "\r\n" : "\n";
}


/* Records that @node's start tag (@attrs) or its children changed, so
 * that it is not written back from the original text. */
static void
fwselXMLTouch(xmlNode *node, bool attrs)
{
    fwselXMLSpan *span = node ? node->_private : NULL;

    if (!span)
        return;
    if (attrs)
        span->attrsChanged = true;
    else
        span->contentChanged = true;
}


/* The whitespace that precedes @node on its line, or "" */
static char *
fwselXMLIndentOf(xmlNode *node)
{
    xmlNode *prev = node ? node->prev : NULL;
    const char *text;
    const char *nl;

    if (!prev || prev->type != XML_TEXT_NODE || !prev->content)
        return g_strdup("");
    text = (const char *) prev->content;
    if (!(nl = strrchr(text, '\n')))
        return g_strdup("");
    return g_strdup(nl + 1);
}


/* True when @node starts a line of its own */
static bool
fwselXMLOnOwnLine(xmlNode *node)
{
    xmlNode *prev = node->prev;

    return prev && prev->type == XML_TEXT_NODE && prev->content &&
           strchr((const char *) prev->content, '\n');
}


static xmlNode *
fwselXMLFirstElement(xmlNode *parent)
{
    xmlNode *cur;

    for (cur = parent->children; cur; cur = cur->next) {
        if (cur->type == XML_ELEMENT_NODE)
            return cur;
    }
    return NULL;
}


/* Indentation for a new child of @parent: that of its existing children,
 * else two spaces more than the parent. */
static char *
fwselXMLChildIndent(xmlNode *parent)
{
    xmlNode *first = fwselXMLFirstElement(parent);
    g_autofree char *outer = NULL;

    if (first)
        return fwselXMLIndentOf(first);
    outer = fwselXMLIndentOf(parent);
    /* one level deeper, in the document's own unit */
    return g_strdup_printf("%s%s", outer, strchr(outer, '\t') ? "\t" : "  ");
}


/* libxml2 returns NULL when memory runs out; like GLib, treat that as fatal */
static xmlNode *
fwselXMLNewNode(const char *name, const char *text)
{
    xmlNode *node = name ? xmlNewNode(NULL, BAD_CAST name) : xmlNewText(BAD_CAST text);

    if (!node)
        abort();
    return node;
}


static void
fwselXMLAddText(xmlNode *ref, const char *text, bool before)
{
    xmlNode *t = fwselXMLNewNode(NULL, text);

    if (before)
        xmlAddPrevSibling(ref, t);
    else
        xmlAddNextSibling(ref, t);
}


/**
 * fwselXMLInsert:
 * @parent: element receiving the child
 * @after: the sibling to insert after, or NULL to make it the first
 * @name: element name
 *
 * Adds an empty element on a line of its own, indented like its siblings.
 */
static xmlNode *
fwselXMLInsert(xmlNode *parent, xmlNode *after, const char *name)
{
    g_autofree char *indent = fwselXMLChildIndent(parent);
    g_autofree char *nlIndent = g_strdup_printf("%s%s", fwselXMLNewline(parent), indent);
    xmlNode *node = fwselXMLNewNode(name, NULL);
    xmlNode *first;

    fwselXMLTouch(parent, false);
    first = fwselXMLFirstElement(parent);
    if ((first && !fwselXMLOnOwnLine(first)) ||
        (!first && parent->parent && parent->parent->type == XML_ELEMENT_NODE &&
         !fwselXMLOnOwnLine(parent))) {
        /* children written on one line, or a parent that is itself part
         * of a line: keep it that way */
        if (after)
            xmlAddNextSibling(after, node);
        else if (first)
            xmlAddPrevSibling(first, node);
        else
            xmlAddChild(parent, node);
    } else if (after) {
        xmlAddNextSibling(after, node);
        fwselXMLAddText(node, nlIndent, true);
    } else if (first) {
        xmlAddPrevSibling(first, node);
        fwselXMLAddText(first, nlIndent, true);
    } else {
        g_autofree char *outer = fwselXMLIndentOf(parent);
        g_autofree char *closing = g_strdup_printf("%s%s", fwselXMLNewline(parent), outer);
        xmlNode *last = parent->last;

        /* the new element goes last, on its own line; whitespace before
         * the end tag is laid out afresh, comments stay */
        if (last && last->type == XML_TEXT_NODE && xmlIsBlankNode(last)) {
            xmlUnlinkNode(last);
            xmlFreeNode(last);
        }
        xmlAddChild(parent, fwselXMLNewNode(NULL, nlIndent));
        xmlAddChild(parent, node);
        xmlAddChild(parent, fwselXMLNewNode(NULL, closing));
    }
    return node;
}


/* The last existing child of @parent among @names (in that preference
 * order: the first name found last in the document wins), or NULL. */
static xmlNode *
fwselXMLLastOf(xmlNode *parent, const char *const *names)
{
    xmlNode *cur;
    xmlNode *found = NULL;
    size_t i;

    for (cur = parent->children; cur; cur = cur->next) {
        if (cur->type != XML_ELEMENT_NODE)
            continue;
        for (i = 0; names[i]; i++) {
            if (xmlStrEqual(cur->name, BAD_CAST names[i]))
                found = cur;
        }
    }
    return found;
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


/* Sets (or, for NULL or "", removes) an attribute; a value that does
 * not change leaves the element untouched. */
static void
fwselXMLSetProp(xmlNode *node, const char *name, const char *value)
{
    g_autofree char *old = fwselXMLProp(node, name);
    xmlAttr *attr;

    if (value && *value) {
        if (g_strcmp0(old, value) == 0)
            return;
        xmlSetProp(node, BAD_CAST name, BAD_CAST value);
        fwselXMLTouch(node, true);
    } else if ((attr = xmlHasProp(node, BAD_CAST name))) {
        xmlRemoveProp(attr);
        fwselXMLTouch(node, true);
    }
}


static void
fwselXMLSetText(xmlNode *node, const char *text)
{
    xmlNode *cur = node->children;

    fwselXMLTouch(node, false);
    while (cur) {
        xmlNode *next = cur->next;

        if (cur->type == XML_TEXT_NODE || cur->type == XML_CDATA_SECTION_NODE) {
            xmlUnlinkNode(cur);
            xmlFreeNode(cur);
        }
        cur = next;
    }
    if (text)
        xmlNodeAddContent(node, BAD_CAST text);
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


/* Unlinks @node together with the whitespace that indents it */
static void
fwselXMLRemove(xmlNode *node)
{
    fwselXMLTouch(node->parent, false);
    if (node->prev && node->prev->type == XML_TEXT_NODE) {
        xmlNode *ws = node->prev;

        xmlUnlinkNode(ws);
        xmlFreeNode(ws);
    }
    xmlUnlinkNode(node);
    xmlFreeNode(node);
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


static xmlNode *
fwselXMLLastElement(xmlNode *parent)
{
    xmlNode *cur;

    for (cur = parent->last; cur; cur = cur->prev) {
        if (cur->type == XML_ELEMENT_NODE)
            return cur;
    }
    return NULL;
}


static xmlNode *
fwselXMLPrevElement(xmlNode *node)
{
    for (node = node->prev; node; node = node->prev) {
        if (node->type == XML_ELEMENT_NODE)
            return node;
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
    xmlNode *root = xmlDocGetRootElement(doc->doc);
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


/* ------------------------------------------------------------------ */
/* Serialising: libvirt's conventions (single-quoted attributes)       */
/* ------------------------------------------------------------------ */

static void
fwselXMLEscape(GString *out, const char *s, bool attr)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': g_string_append(out, "&amp;"); break;
        case '<': g_string_append(out, "&lt;"); break;
        case '>': g_string_append(out, "&gt;"); break;
        case '\'':
            g_string_append(out, attr ? "&apos;" : "'");
            break;
        case '\n':
            g_string_append(out, attr ? "&#10;" : "\n");
            break;
        case '\t':
            g_string_append(out, attr ? "&#9;" : "\t");
            break;
        case '\r':
            /* a line end written as CR LF stays one; a lone CR is data */
            g_string_append(out, !attr && s[1] == '\n' ? "\r" : "&#13;");
            break;
        default:
            g_string_append_c(out, *s);
        }
    }
}


static void
fwselXMLQName(GString *out, xmlNs *ns, const xmlChar *name)
{
    if (ns && ns->prefix)
        g_string_append_printf(out, "%s:", (const char *) ns->prefix);
    g_string_append(out, (const char *) name);
}


/* "<name attr='value' ..." without the closing '>' */
static void
fwselXMLFormatStartTag(GString *out, xmlNode *node)
{
    xmlAttr *attr;
    xmlNs *ns;

    g_string_append_c(out, '<');
    fwselXMLQName(out, node->ns, node->name);
    for (ns = node->nsDef; ns; ns = ns->next) {
        g_string_append(out, " xmlns");
        if (ns->prefix)
            g_string_append_printf(out, ":%s", (const char *) ns->prefix);
        g_string_append(out, "='");
        fwselXMLEscape(out, (const char *) ns->href, true);
        g_string_append_c(out, '\'');
    }
    for (attr = node->properties; attr; attr = attr->next) {
        xmlChar *val = xmlNodeListGetString(node->doc, attr->children, 1);

        g_string_append_c(out, ' ');
        fwselXMLQName(out, attr->ns, attr->name);
        g_string_append(out, "='");
        fwselXMLEscape(out, val ? (const char *) val : "", true);
        g_string_append_c(out, '\'');
        xmlFree(val);
    }
}


static void
fwselXMLFormatNode(GString *out, xmlNode *node)
{
    xmlNode *child;

    switch (node->type) {
    case XML_ELEMENT_NODE:
        fwselXMLFormatStartTag(out, node);
        if (!node->children) {
            g_string_append(out, "/>");
            return;
        }
        g_string_append_c(out, '>');
        for (child = node->children; child; child = child->next)
            fwselXMLFormatNode(out, child);
        g_string_append(out, "</");
        fwselXMLQName(out, node->ns, node->name);
        g_string_append_c(out, '>');
        return;

    case XML_TEXT_NODE:
        fwselXMLEscape(out, (const char *) node->content, false);
        return;

    case XML_CDATA_SECTION_NODE:
        g_string_append_printf(out, "<![CDATA[%s]]>", (const char *) node->content);
        return;

    case XML_COMMENT_NODE:
        g_string_append_printf(out, "<!--%s-->", (const char *) node->content);
        return;

    case XML_PI_NODE:
        g_string_append_printf(out, "<?%s%s%s?>", (const char *) node->name,
                               node->content ? " " : "",
                               node->content ? (const char *) node->content : "");
        return;

    case XML_ENTITY_REF_NODE:
        g_string_append_printf(out, "&%s;", (const char *) node->name);
        return;

    case XML_ATTRIBUTE_NODE:
    case XML_ENTITY_NODE:
    case XML_DOCUMENT_NODE:
    case XML_DOCUMENT_TYPE_NODE:
    case XML_DOCUMENT_FRAG_NODE:
    case XML_NOTATION_NODE:
    case XML_HTML_DOCUMENT_NODE:
    case XML_DTD_NODE:
    case XML_ELEMENT_DECL:
    case XML_ATTRIBUTE_DECL:
    case XML_ENTITY_DECL:
    case XML_NAMESPACE_DECL:
    case XML_XINCLUDE_START:
    case XML_XINCLUDE_END:
#ifdef LIBXML_DOCB_ENABLED
    case XML_DOCB_DOCUMENT_NODE:
#endif
        return;
    }
}


/* True when neither @node nor anything inside it changed since parsing */
static bool
fwselXMLIsPristine(xmlNode *node)
{
    fwselXMLSpan *span = node->_private;
    xmlNode *child;

    if (!span || span->attrsChanged || span->contentChanged)
        return false;
    if (node->type == XML_TEXT_NODE)
        return g_strcmp0(span->text, (const char *) node->content) == 0;
    if (node->type != XML_ELEMENT_NODE)
        return true;
    for (child = node->children; child; child = child->next) {
        if (!fwselXMLIsPristine(child))
            return false;
    }
    return true;
}


static void
fwselXMLAppendOriginal(GString *out, const char *text, gsize start, gsize end)
{
    g_string_append_len(out, text + start, end - start);
}


/* Writes @node: unchanged parts as the original bytes, changed or new
 * parts in libvirt's style. */
static void
fwselXMLEmit(GString *out, const char *text, xmlNode *node)
{
    fwselXMLSpan *span = node->_private;
    bool hasChildren = node->children != NULL;
    xmlNode *child;
    gsize end;

    if (span && fwselXMLIsPristine(node)) {
        fwselXMLAppendOriginal(out, text, span->start, span->end);
        return;
    }
    if (!span || node->type != XML_ELEMENT_NODE) {
        fwselXMLFormatNode(out, node);
        return;
    }

    if (span->attrsChanged) {
        fwselXMLFormatStartTag(out, node);
        if (!hasChildren) {
            g_string_append(out, "/>");
            return;
        }
        g_string_append_c(out, '>');
    } else if (span->empty) {
        if (!hasChildren) {
            fwselXMLAppendOriginal(out, text, span->start, span->end);
            return;
        }
        /* <name .../> gains children: keep the attributes as written */
        for (end = span->tagEnd - 2; end > span->start && g_ascii_isspace(text[end - 1]); end--)
            ;
        fwselXMLAppendOriginal(out, text, span->start, end);
        g_string_append_c(out, '>');
    } else {
        fwselXMLAppendOriginal(out, text, span->start, span->tagEnd);
    }

    for (child = node->children; child; child = child->next)
        fwselXMLEmit(out, text, child);

    if (span->empty) {
        g_string_append(out, "</");
        fwselXMLQName(out, node->ns, node->name);
        g_string_append_c(out, '>');
    } else {
        fwselXMLAppendOriginal(out, text, span->closeStart, span->end);
    }
}


/**
 * fwselDomainXMLFormat:
 *
 * Writes the document back.  Everything fwsel did not change is copied
 * from the text that was read, byte for byte (XML declaration, comments,
 * quoting, entities, whitespace); changed and new elements are written
 * the way libvirt writes domain XML (attributes in single quotes, in
 * libvirt's order).  A document that could not be mapped to its text is
 * written entirely in libvirt's style, without an XML declaration.
 */
char *
fwselDomainXMLFormat(const fwselDomainXML *doc)
{
    GString *out = g_string_new(NULL);
    xmlNode *root = xmlDocGetRootElement(doc->doc);
    fwselXMLSpan *span = root ? root->_private : NULL;
    xmlNode *cur;

    if (doc->text && span) {
        fwselXMLAppendOriginal(out, doc->text, 0, span->start);
        fwselXMLEmit(out, doc->text, root);
        fwselXMLAppendOriginal(out, doc->text, span->end, doc->length);
        return g_string_free(out, FALSE);
    }

    for (cur = doc->doc->children; cur; cur = cur->next) {
        fwselXMLFormatNode(out, cur);
        g_string_append_c(out, '\n');
    }
    return g_string_free(out, FALSE);
}
