/*
 * fuzz-domxml.c: the domain XML slice reader and the byte-preserving
 * XML patcher behind select, preserve and migrate-xml
 *
 * Invariants:
 * - a document or an error, never both or neither;
 * - a document read and written back without edits is byte-identical to
 *   the input whenever the patcher mapped it to its text (it maps every
 *   UTF-8 document it understands; one it does not is written in
 *   libvirt's style instead, and that output must read back and be a
 *   fixed point);
 * - after writing a firmware slice, the output reads back, says what was
 *   written, and (when only <os> was edited) is the input byte for byte
 *   before <os> and after </os>.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "fuzz-common.h"

#define FUZZ_NAME "fuzz.xml"


/* Whether the patcher maps @data to its text (the root element then has
 * a span in _private, see xmlpatch.c) */
static bool
fuzzMapped(const uint8_t *data, size_t size)
{
    g_autoptr(fwselXMLDoc) x = fwselXMLDocParse(FUZZ_NAME, (const char *) data, size,
                                                G_MAXSIZE, NULL);
    xmlNode *root;

    return x && (root = fwselXMLDocRoot(x)) && root->_private;
}


static void
fuzzSet(char **field, const char *value)
{
    g_free(*field);
    *field = g_strdup(value);
}


/* The slice select writes for a Secure Boot guest (edits <os> only) */
static fwselDomain *
fuzzSliceOs(const fwselDomain *from)
{
    fwselDomain *dom = fwselDomainCopy(from);

    dom->firmware = FWSEL_FIRMWARE_EFI;
    dom->hasFirmwareFeatures = true;
    dom->secureBoot = FWSEL_TRISTATE_YES;
    dom->enrolledKeys = FWSEL_TRISTATE_NO;
    dom->loader.present = true;
    fuzzSet(&dom->loader.path, "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd");
    dom->loader.readonly = FWSEL_TRISTATE_YES;
    dom->loader.secure = FWSEL_TRISTATE_YES;
    dom->loader.type = FWSEL_LOADER_TYPE_PFLASH;
    dom->loader.format = FWSEL_FORMAT_RAW;
    dom->nvram.present = true;
    fuzzSet(&dom->nvram.templatePath, "/usr/share/OVMF/OVMF_VARS_4M.fd");
    dom->nvram.templateFormat = FWSEL_FORMAT_RAW;
    dom->nvram.format = FWSEL_FORMAT_RAW;
    if (!dom->nvram.path && dom->nvram.source != FWSEL_NVRAM_SOURCE_NETWORK)
        fuzzSet(&dom->nvram.path, "/var/lib/libvirt/qemu/nvram/fuzz_VARS.fd");
    dom->smm = from->smm;
    return dom;
}


/* Another slice: firmware features removed, SMM switched on (<features>
 * edited too), a kernel */
static fwselDomain *
fuzzSliceFeatures(const fwselDomain *from)
{
    fwselDomain *dom = fwselDomainCopy(from);

    dom->firmware = FWSEL_FIRMWARE_EFI;
    dom->hasFirmwareFeatures = false;
    dom->secureBoot = FWSEL_TRISTATE_ABSENT;
    dom->enrolledKeys = FWSEL_TRISTATE_ABSENT;
    dom->loader.present = true;
    fuzzSet(&dom->loader.path, "/usr/share/AAVMF/AAVMF_CODE.fd");
    dom->loader.readonly = FWSEL_TRISTATE_YES;
    dom->loader.secure = FWSEL_TRISTATE_NO;
    dom->loader.type = FWSEL_LOADER_TYPE_PFLASH;
    dom->loader.stateless = FWSEL_TRISTATE_YES;
    dom->loader.format = FWSEL_FORMAT_NONE;
    dom->smm = FWSEL_TRISTATE_YES;
    fuzzSet(&dom->kernel, "/boot/vmlinuz-fuzz");
    return dom;
}


/* Where the <os> element fwselDomainXMLUpdate edits (the first child
 * element of the root named os) lies in the input: [start, end) */
typedef struct {
    const char *text;
    size_t length;
    xmlParserCtxtPtr ctxt;
    int depth;
    bool inOs;
    bool found;
    size_t start;
    size_t end;
} fuzzOsSpan;


static void
fuzzSaxStart(void *ctx, const xmlChar *localname, const xmlChar *prefix G_GNUC_UNUSED,
             const xmlChar *uri G_GNUC_UNUSED, int nns G_GNUC_UNUSED,
             const xmlChar **ns G_GNUC_UNUSED, int nattrs G_GNUC_UNUSED,
             int ndefaulted G_GNUC_UNUSED, const xmlChar **attrs G_GNUC_UNUSED)
{
    xmlParserCtxtPtr ctxt = ctx;
    fuzzOsSpan *s = ctxt->_private;
    long off;

    if (++s->depth != 2 || s->found || !xmlStrEqual(localname, BAD_CAST "os"))
        return;
    /* somewhere in the start tag: its '<' is the last before (no '<' in
     * attribute values) */
    off = xmlByteConsumed(ctxt);
    FUZZ_ASSERT(off > 0 && (size_t) off <= s->length, "offset %ld", off);
    while (off > 0 && s->text[off] != '<')
        off--;
    FUZZ_ASSERT(s->text[off] == '<', "no '<' before <os>'s offset");
    s->start = off;
    s->inOs = true;
}


static void
fuzzSaxEnd(void *ctx, const xmlChar *localname G_GNUC_UNUSED,
           const xmlChar *prefix G_GNUC_UNUSED, const xmlChar *uri G_GNUC_UNUSED)
{
    xmlParserCtxtPtr ctxt = ctx;
    fuzzOsSpan *s = ctxt->_private;
    long off;

    if (s->depth-- != 2 || !s->inOs)
        return;
    /* just past the end tag, or inside "/>" or "</os ...>": up to its '>' */
    off = xmlByteConsumed(ctxt);
    FUZZ_ASSERT(off > 0 && (size_t) off <= s->length, "offset %ld", off);
    if (s->text[off - 1] != '>') {
        while ((size_t) off < s->length && s->text[off] != '>')
            off++;
        off++;
    }
    s->end = off;
    s->inOs = false;
    s->found = true;
}


static bool
fuzzFindOs(const char *text, size_t length, size_t *start, size_t *end)
{
    xmlSAXHandler sax = { 0 };
    fuzzOsSpan s = { text, length, NULL, 0, false, false, 0, 0 };
    xmlParserCtxtPtr ctxt;

    sax.initialized = XML_SAX2_MAGIC;
    sax.startElementNs = fuzzSaxStart;
    sax.endElementNs = fuzzSaxEnd;
    if (!(ctxt = xmlCreateMemoryParserCtxt(text, (int) length)))
        return false;
    memcpy(ctxt->sax, &sax, sizeof(sax));
    ctxt->_private = &s;
    xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    xmlParseDocument(ctxt);
    xmlFreeParserCtxt(ctxt);
    if (!s.found)
        return false;
    FUZZ_ASSERT(s.end > s.start + 3 && memcmp(text + s.start, "<", 1) == 0 &&
                text[s.end - 1] == '>', "harness: <os> found at [%zu, %zu)", s.start, s.end);
    *start = s.start;
    *end = s.end;
    return true;
}


/* Outside <os>, the edited output is the input, byte for byte */
static void
fuzzCheckOnlyOs(const char *in, size_t inLen, const char *out, size_t outLen)
{
    size_t start;
    size_t end;
    size_t prefix = 0;
    size_t suffix = 0;

    if (!fuzzFindOs(in, inLen, &start, &end))
        return;
    while (prefix < inLen && prefix < outLen && in[prefix] == out[prefix])
        prefix++;
    while (suffix < inLen && suffix < outLen &&
           in[inLen - 1 - suffix] == out[outLen - 1 - suffix])
        suffix++;

    FUZZ_ASSERT(prefix >= start, "the output differs at byte %zu, <os> starts at %zu\n"
                "--- input\n%.*s\n--- output\n%.*s", prefix, start,
                (int) inLen, in, (int) outLen, out);
    FUZZ_ASSERT(suffix >= inLen - end, "the output differs %zu bytes before the end, "
                "</os> ends %zu bytes before\n--- input\n%.*s\n--- output\n%.*s",
                suffix, inLen - end, (int) inLen, in, (int) outLen, out);
}


/* Writes @slice into a fresh parse of the input and reads the result back */
static void
fuzzUpdate(const uint8_t *data, size_t size,
           fwselDomain *(*makeSlice)(const fwselDomain *), bool onlyOs)
{
    g_autoptr(fwselDomainXML) doc = NULL;
    g_autoptr(fwselDomainXML) back = NULL;
    g_autoptr(fwselDomain) slice = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *out = NULL;
    const fwselDomain *got;

    doc = fwselDomainXMLParse(FUZZ_NAME, (const char *) data, size, &err);
    FUZZ_ASSERT(doc, "the second parse failed: %s", err->message);
    slice = makeSlice(fwselDomainXMLGetDomain(doc));
    if (fwselDomainXMLUpdate(doc, slice, &err) < 0) {
        FUZZ_ASSERT(err, "update failed without an error");
        return;
    }
    out = fwselDomainXMLFormat(doc);
    back = fwselDomainXMLParse("updated.xml", out, strlen(out), &err);
    FUZZ_ASSERT(back, "the updated document does not read back: %s\n--- input\n%.*s\n"
                "--- output\n%s", err->message, (int) size, (const char *) data, out);

    got = fwselDomainXMLGetDomain(back);
    FUZZ_ASSERT(got->firmware == slice->firmware, "firmware %d, wrote %d",
                got->firmware, slice->firmware);
    FUZZ_ASSERT(g_strcmp0(got->loader.path, slice->loader.path) == 0,
                "loader '%s', wrote '%s'\n--- output\n%s", got->loader.path,
                slice->loader.path, out);
    FUZZ_ASSERT(g_strcmp0(got->nvram.templatePath, slice->nvram.templatePath) == 0,
                "template '%s', wrote '%s'\n--- output\n%s", got->nvram.templatePath,
                slice->nvram.templatePath, out);
    FUZZ_ASSERT(got->secureBoot == slice->secureBoot &&
                got->enrolledKeys == slice->enrolledKeys,
                "secure-boot %d, enrolled-keys %d; wrote %d, %d\n--- output\n%s",
                got->secureBoot, got->enrolledKeys, slice->secureBoot,
                slice->enrolledKeys, out);
    FUZZ_ASSERT(got->smm == slice->smm, "smm %d, wrote %d", got->smm, slice->smm);

    if (onlyOs && fuzzMapped(data, size))
        fuzzCheckOnlyOs((const char *) data, size, out, strlen(out));
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(fwselDomainXML) doc = NULL;
    g_autoptr(fwselDomainXML) again = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *out = NULL;
    g_autofree char *out2 = NULL;

    /* exactly @size bytes, no terminating NUL: the reader must not need one */
    doc = fwselDomainXMLParse(FUZZ_NAME, (const char *) data, size, &err);
    FUZZ_ASSERT_ERROR_MATCHES(doc == NULL, err);
    if (!doc)
        return 0;

    out = fwselDomainXMLFormat(doc);
    if (fuzzMapped(data, size)) {
        FUZZ_ASSERT(strlen(out) == size && memcmp(out, data, size) == 0,
                    "written back unchanged, the document differs from its input "
                    "(%zu bytes in, %zu out)\n--- input\n%.*s\n--- output\n%s",
                    size, strlen(out), (int) size, (const char *) data, out);
    } else {
        again = fwselDomainXMLParse("rewritten.xml", out, strlen(out), &err);
        FUZZ_ASSERT(again, "the rewritten document does not read back: %s\n--- input\n"
                    "%.*s\n--- output\n%s", err->message, (int) size, (const char *) data, out);
        out2 = fwselDomainXMLFormat(again);
        FUZZ_ASSERT(g_str_equal(out, out2), "rewriting is not a fixed point\n--- first\n%s\n"
                    "--- second\n%s", out, out2);
    }

    fuzzUpdate(data, size, fuzzSliceOs, true);
    fuzzUpdate(data, size, fuzzSliceFeatures, false);
    return 0;
}
