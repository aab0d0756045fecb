/*
 * xmlpatch.c: edit an XML document and write it back changing only what
 * was edited
 *
 * Parsing records, for every node, the bytes of the original text it came
 * from.  Writing copies every untouched node as those bytes, so quoting,
 * entities, attribute layout, comments and whitespace survive exactly;
 * edited and new elements are written the way libvirt writes XML
 * (single-quoted attributes), indented like their siblings.  Knows
 * nothing about domains: a front-end utility, not part of selection.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "fwsel-xmlpatch.h"

/*
 * Where a node of the parsed document came from in the original text.
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

struct _fwselXMLDoc {
    xmlDoc *doc;
    char *text;             /* the document as read; NULL if not mapped */
    gsize length;
    bool crlf;              /* its lines end in CR LF */
    GPtrArray *spans;       /* fwselXMLSpan *, owned; NULL if not mapped */
};


xmlNode *
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


char *
fwselXMLProp(xmlNode *node, const char *name)
{
    xmlChar *val = xmlGetNoNsProp(node, BAD_CAST name);
    char *ret = g_strdup((const char *) val);

    xmlFree(val);
    return ret;
}


char *
fwselXMLText(xmlNode *node)
{
    xmlChar *val = xmlNodeGetContent(node);
    char *ret = g_strstrip(g_strdup(val ? (const char *) val : ""));

    xmlFree(val);
    if (!*ret)
        g_clear_pointer(&ret, g_free);
    return ret;
}


static void
fwselXMLSilence(void *data G_GNUC_UNUSED, xmlError *err G_GNUC_UNUSED)
{
}


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
 * fwselXMLDocMap:
 *
 * Records, for every node of the parsed document, the bytes of the
 * original text it came from.  When the text cannot be mapped (another
 * encoding than UTF-8, or anything the scanner does not expect), the
 * document is later written out in libvirt's own style instead.
 */
static void
fwselXMLDocMap(fwselXMLDoc *doc, const char *xml, gsize length)
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


/*
 * libxml2 (2.9) compares every attribute of a start tag with every one
 * before it: 40,000 attributes on one element take 4 s, the largest
 * domain XML accepted could take some 20 minutes.  No libvirt document
 * has more than a few dozen on an element, so a start tag with more than
 * this many is refused before libxml2 sees it.
 */
#define FWSEL_XML_MAX_ATTRIBUTES 1024

/* Index of the first occurrence of @what at or after @pos, or @length */
static gsize
fwselXMLFind(const char *xml, gsize length, gsize pos, const char *what)
{
    size_t n = strlen(what);

    for (; pos + n <= length; pos++) {
        if (xml[pos] == what[0] && memcmp(xml + pos, what, n) == 0)
            return pos;
    }
    return length;
}


/*
 * One pass over the text, counting the attributes of every start tag
 * (an '=' outside quotes); comments, CDATA sections, processing
 * instructions, declarations and end tags are skipped.  Malformed text
 * is left for libxml2 to report.  Returns the line of the first start
 * tag with too many, or 0.
 */
static int
fwselXMLTooManyAttributes(const char *xml, gsize length)
{
    int line = 1;
    gsize pos = 0;

    while (pos < length) {
        gsize end;
        gsize count = 0;
        char quote = 0;

        if (xml[pos] == '\n')
            line++;
        if (xml[pos] != '<') {
            pos++;
            continue;
        }
        if (length - pos >= 4 && memcmp(xml + pos, "<!--", 4) == 0)
            end = fwselXMLFind(xml, length, pos + 4, "-->");
        else if (length - pos >= 9 && memcmp(xml + pos, "<![CDATA[", 9) == 0)
            end = fwselXMLFind(xml, length, pos + 9, "]]>");
        else if (length - pos >= 2 && xml[pos + 1] == '?')
            end = fwselXMLFind(xml, length, pos + 2, "?>");
        else if (length - pos >= 2 && (xml[pos + 1] == '!' || xml[pos + 1] == '/'))
            end = fwselXMLFind(xml, length, pos + 2, ">");
        else
            end = length + 1;       /* a start tag: scanned below */

        if (end <= length) {
            for (; pos < end; pos++) {
                if (xml[pos] == '\n')
                    line++;
            }
            continue;
        }

        for (pos++; pos < length; pos++) {
            char c = xml[pos];

            if (c == '\n')
                line++;
            if (quote) {
                if (c == quote)
                    quote = 0;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == '=') {
                if (++count > FWSEL_XML_MAX_ATTRIBUTES)
                    return line;
            } else if (c == '>') {
                break;
            }
        }
    }
    return 0;
}


/**
 * fwselXMLDocParse:
 * @name: where the text came from, for errors
 * @maxSize: the largest document accepted
 *
 * Parses @xml without network access.  Malformed XML and document type
 * declarations are errors naming @name (and the line).
 */
fwselXMLDoc *
fwselXMLDocParse(const char *name,
                 const char *xml,
                 gsize length,
                 gsize maxSize,
                 GError **error)
{
    g_autoptr(fwselXMLDoc) doc = g_new0(fwselXMLDoc, 1);
    const xmlError *xerr;
    int line;

    if (length > maxSize || length > INT_MAX) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "%s: document larger than %zu bytes", name, (size_t) maxSize);
        return NULL;
    }

    if ((line = fwselXMLTooManyAttributes(xml, length)) > 0) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "%s:%d: an element with more than %d attributes: refused",
                    name, line, FWSEL_XML_MAX_ATTRIBUTES);
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
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "%s: document type declarations are not accepted in domain XML", name);
        return NULL;
    }

    if (!xmlDocGetRootElement(doc->doc)) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID, "%s: empty document", name);
        return NULL;
    }

    fwselXMLDocMap(doc, xml, length);
    return g_steal_pointer(&doc);
}


void
fwselXMLDocFree(fwselXMLDoc *doc)
{
    if (!doc)
        return;
    if (doc->doc)
        xmlFreeDoc(doc->doc);
    g_free(doc->text);
    if (doc->spans)
        g_ptr_array_unref(doc->spans);
    g_free(doc);
}


xmlNode *
fwselXMLDocRoot(const fwselXMLDoc *doc)
{
    return xmlDocGetRootElement(doc->doc);
}


/* The line end new lines of @node's document use: that of the input */
static const char *
fwselXMLNewline(xmlNode *node)
{
    fwselXMLDoc *doc = node && node->doc ? node->doc->_private : NULL;

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
xmlNode *
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
xmlNode *
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


/* Sets (or, for NULL or "", removes) an attribute; a value that does
 * not change leaves the element untouched. */
void
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


void
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


/* Unlinks @node together with the whitespace that indents it */
void
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


xmlNode *
fwselXMLLastElement(xmlNode *parent)
{
    xmlNode *cur;

    for (cur = parent->last; cur; cur = cur->prev) {
        if (cur->type == XML_ELEMENT_NODE)
            return cur;
    }
    return NULL;
}


xmlNode *
fwselXMLPrevElement(xmlNode *node)
{
    for (node = node->prev; node; node = node->prev) {
        if (node->type == XML_ELEMENT_NODE)
            return node;
    }
    return NULL;
}


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
 * fwselXMLDocFormat:
 *
 * Writes the document back.  Everything that was not changed is copied
 * from the text that was read, byte for byte (XML declaration, comments,
 * quoting, entities, whitespace); changed and new elements are written
 * the way libvirt writes domain XML (attributes in single quotes, in
 * libvirt's order).  A document that could not be mapped to its text is
 * written entirely in libvirt's style, without an XML declaration.
 */
char *
fwselXMLDocFormat(const fwselXMLDoc *doc)
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
