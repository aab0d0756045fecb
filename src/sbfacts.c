/*
 * sbfacts.c: Microsoft's Secure Boot CAs in a varstore, expiry, and the
 * verdict of an audit
 *
 * Microsoft signs Windows boot managers, shim, option ROMs and KEK-signed
 * db/dbx updates with CAs made in 2011 that expire in 2026 (KEK CA 2011
 * and UEFI CA 2011 in June, Windows Production PCA 2011 in October).
 * Firmware does not check expiry when it verifies an image, but nothing
 * new is signed by an expired CA: a guest keeps receiving updates only
 * when its KEK and db also hold the 2023 successors.
 *
 * The table identifies each CA by its subject's CN and, where fwsel has
 * seen Microsoft's certificate, by its SHA-256 fingerprint.  The
 * fingerprints were computed from the certificates Debian's ovmf
 * 2022.11-6+deb12u2 enrolls (OVMF_VARS_4M.ms.fd: the 2011 set) and those
 * python3-virt-firmware 24.2 ships (virt/firmware/certs: the 2011 set
 * again, identical, and KEK 2K CA 2023, Windows UEFI CA 2023, Microsoft
 * UEFI CA 2023).  No copy of Option ROM UEFI CA 2023 was available: its
 * subject alone identifies it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <string.h>

#include "fwsel-sbfacts.h"
#include "fwsel-util.h"

FWSEL_ENUM_IMPL(fwselMsCa, FWSEL_MSCA_LAST,
                "kek-2011", "kek-2023", "windows-2011", "windows-2023",
                "uefi-2011", "uefi-2023", "option-rom-2023");
FWSEL_ENUM_IMPL(fwselCaPresence, FWSEL_CA_LAST,
                "absent", "present", "subject-only", "impostor");

static const fwselMsCaInfo fwselMsCas[FWSEL_MSCA_LAST] = {
    [FWSEL_MSCA_KEK_2011] = {
        "Microsoft Corporation KEK CA 2011", "KEK CA 2011", FWSEL_SIGDB_KEK,
        "a1117f516a32cefcba3f2d1ace10a87972fd6bbe8fe0d0b996e09e65d802a503", 2011 },
    [FWSEL_MSCA_KEK_2023] = {
        "Microsoft Corporation KEK 2K CA 2023", "KEK 2K CA 2023", FWSEL_SIGDB_KEK,
        "3cd3f0309edae228767a976dd40d9f4affc4fbd5218f2e8cc3c9dd97e8ac6f9d", 2023 },
    [FWSEL_MSCA_WINDOWS_2011] = {
        "Microsoft Windows Production PCA 2011", "Windows PCA 2011", FWSEL_SIGDB_DB,
        "e8e95f0733a55e8bad7be0a1413ee23c51fcea64b3c8fa6a786935fddcc71961", 2011 },
    [FWSEL_MSCA_WINDOWS_2023] = {
        "Windows UEFI CA 2023", "Windows UEFI CA 2023", FWSEL_SIGDB_DB,
        "076f1fea90ac29155ebf77c17682f75f1fdd1be196da302dc8461e350a9ae330", 2023 },
    [FWSEL_MSCA_UEFI_2011] = {
        "Microsoft Corporation UEFI CA 2011", "UEFI CA 2011", FWSEL_SIGDB_DB,
        "48e99b991f57fc52f76149599bff0a58c47154229b9f8d603ac40d3500248507", 2011 },
    [FWSEL_MSCA_UEFI_2023] = {
        "Microsoft UEFI CA 2023", "UEFI CA 2023", FWSEL_SIGDB_DB,
        "f6124e34125bee3fe6d79a574eaa7b91c0e7bd9d929c1a321178efd611dad901", 2023 },
    [FWSEL_MSCA_OPTION_ROM_2023] = {
        "Microsoft Option ROM UEFI CA 2023", "Option ROM CA 2023", FWSEL_SIGDB_DB,
        NULL, 2023 },
};

/* Each 2011 CA and what replaces it */
static const struct {
    fwselMsCa old;
    fwselMsCa successor;
} fwselMsCaSuccessors[] = {
    { FWSEL_MSCA_KEK_2011, FWSEL_MSCA_KEK_2023 },
    { FWSEL_MSCA_WINDOWS_2011, FWSEL_MSCA_WINDOWS_2023 },
    { FWSEL_MSCA_UEFI_2011, FWSEL_MSCA_UEFI_2023 },
    { FWSEL_MSCA_UEFI_2011, FWSEL_MSCA_OPTION_ROM_2023 },
};

#define FWSEL_MICROSOFT_ORG "Microsoft Corporation"


const fwselMsCaInfo *
fwselMsCaGetInfo(fwselMsCa ca)
{
    if ((int) ca < 0 || ca >= FWSEL_MSCA_LAST)
        return NULL;
    return &fwselMsCas[ca];
}


static void
fwselSbExpiredFree(fwselSbExpired *e)
{
    if (!e)
        return;
    g_free(e->name);
    g_free(e->notAfter);
    g_free(e);
}


void
fwselSbFactsFree(fwselSbFacts *facts)
{
    if (!facts)
        return;
    g_free(facts->at);
    g_free(facts->owner);
    g_free(facts->ownerSubject);
    if (facts->expired)
        g_ptr_array_unref(facts->expired);
    if (facts->attention)
        g_ptr_array_unref(facts->attention);
    g_free(facts);
}


/* Which Microsoft CA @sig claims to be (by its subject), or -1 */
int
fwselMsCaIdentify(const fwselSignature *sig)
{
    size_t i;

    if (sig->type != FWSEL_SIG_X509 || !sig->commonName ||
        g_strcmp0(sig->organization, FWSEL_MICROSOFT_ORG) != 0)
        return -1;
    for (i = 0; i < G_N_ELEMENTS(fwselMsCas); i++) {
        if (g_str_equal(sig->commonName, fwselMsCas[i].commonName))
            return (int) i;
    }
    return -1;
}


static fwselCaPresence
fwselMsCaMatch(fwselMsCa ca, const fwselSignature *sig)
{
    if (!fwselMsCas[ca].sha256)
        return FWSEL_CA_SUBJECT_ONLY;
    if (g_str_equal(sig->sha256, fwselMsCas[ca].sha256))
        return FWSEL_CA_PRESENT;
    return FWSEL_CA_IMPOSTOR;
}


/* The better of two findings of one CA: Microsoft's own certificate
 * wins over a subject match, which wins over an impostor */
static fwselCaPresence
fwselCaBetter(fwselCaPresence a, fwselCaPresence b)
{
    static const int rank[FWSEL_CA_LAST] = {
        [FWSEL_CA_ABSENT] = 0, [FWSEL_CA_IMPOSTOR] = 1,
        [FWSEL_CA_SUBJECT_ONLY] = 2, [FWSEL_CA_PRESENT] = 3,
    };

    return rank[a] >= rank[b] ? a : b;
}


static bool
fwselCaTrusted(fwselCaPresence p)
{
    return p == FWSEL_CA_PRESENT || p == FWSEL_CA_SUBJECT_ONLY;
}


static const char *
fwselSigName(const fwselSignature *sig)
{
    int ca = fwselMsCaIdentify(sig);

    if (ca >= 0)
        return fwselMsCas[ca].shortName;
    return sig->commonName ? sig->commonName : sig->subject;
}


/**
 * fwselSbFactsGet:
 *
 * See fwsel-sbfacts.h.
 */
fwselSbFacts *
fwselSbFactsGet(const fwselVarstore *store, const fwselVarstoreInfo *info, const char *at)
{
    static const fwselSigDbKind checked[] = { FWSEL_SIGDB_PK, FWSEL_SIGDB_KEK, FWSEL_SIGDB_DB };
    g_autoptr(fwselSbFacts) facts = g_new0(fwselSbFacts, 1);
    const fwselSigDb *pk = &info->dbs[FWSEL_SIGDB_PK];
    size_t i;
    guint j;

    facts->at = g_strdup(at);
    facts->blank = store->blank >= 0;
    facts->secureBoot = !facts->blank && info->secureBootAtBoot;
    facts->expired = g_ptr_array_new_with_free_func((GDestroyNotify) fwselSbExpiredFree);
    facts->attention = g_ptr_array_new_with_free_func(g_free);

    for (j = 0; pk->present && j < pk->sigs->len; j++) {
        const fwselSignature *sig = g_ptr_array_index(pk->sigs, j);

        if (sig->type != FWSEL_SIG_X509)
            continue;
        facts->owner = g_strdup(sig->organization ? sig->organization :
                                sig->commonName ? sig->commonName : sig->subject);
        facts->ownerSubject = g_strdup(sig->subject);
        break;
    }

    for (i = 0; i < G_N_ELEMENTS(checked); i++) {
        const fwselSigDb *db = &info->dbs[checked[i]];

        for (j = 0; db->present && j < db->sigs->len; j++) {
            const fwselSignature *sig = g_ptr_array_index(db->sigs, j);
            int ca;

            if (sig->type != FWSEL_SIG_X509)
                continue;
            ca = fwselMsCaIdentify(sig);
            if (ca >= 0 && fwselMsCas[ca].db == checked[i])
                facts->ca[ca] = fwselCaBetter(facts->ca[ca], fwselMsCaMatch(ca, sig));
            else
                facts->others[checked[i]]++;
            /* the ISO 8601 forms of one length compare as text */
            if (at && sig->notAfter && !g_str_equal(sig->notAfter, "unknown") &&
                strcmp(sig->notAfter, at) <= 0) {
                fwselSbExpired *e = g_new0(fwselSbExpired, 1);

                e->db = db->name;
                e->name = g_strdup(fwselSigName(sig));
                e->notAfter = g_strdup(sig->notAfter);
                g_ptr_array_add(facts->expired, e);
            }
        }
    }

    if (facts->secureBoot) {
        for (i = 0; i < G_N_ELEMENTS(fwselMsCaSuccessors); i++) {
            fwselMsCa old = fwselMsCaSuccessors[i].old;
            fwselMsCa next = fwselMsCaSuccessors[i].successor;

            if (fwselCaTrusted(facts->ca[old]) && !fwselCaTrusted(facts->ca[next]))
                g_ptr_array_add(facts->attention,
                                g_strdup_printf("%s lacks %s beside %s",
                                                fwselMsCas[next].db == FWSEL_SIGDB_KEK ?
                                                "KEK" : "db",
                                                fwselMsCas[next].shortName,
                                                fwselMsCas[old].shortName));
        }
    }
    return g_steal_pointer(&facts);
}


/* The Microsoft CAs of @db found, as "KEK CA 2011, KEK 2K CA 2023" */
static void
fwselSbFactsFormatDb(GString *out, const fwselSbFacts *facts, fwselSigDbKind db)
{
    const char *sep = "";
    size_t i;

    g_string_append_printf(out, "; %s: ", db == FWSEL_SIGDB_KEK ? "KEK" : "db");
    for (i = 0; i < FWSEL_MSCA_LAST; i++) {
        if (fwselMsCas[i].db != db || facts->ca[i] == FWSEL_CA_ABSENT)
            continue;
        g_string_append_printf(out, "%s%s", sep, fwselMsCas[i].shortName);
        if (facts->ca[i] == FWSEL_CA_IMPOSTOR)
            g_string_append(out, " (not Microsoft's: fingerprint differs)");
        else if (facts->ca[i] == FWSEL_CA_SUBJECT_ONLY)
            g_string_append(out, " (by subject: no fingerprint to check)");
        sep = ", ";
    }
    if (facts->others[db]) {
        g_string_append_printf(out, "%s%u other", sep, facts->others[db]);
        sep = ", ";
    }
    if (!*sep)
        g_string_append(out, "none");
}


char *
fwselSbFactsFormat(const fwselSbFacts *facts)
{
    g_autoptr(GString) out = g_string_new(NULL);
    guint i;

    if (facts->blank)
        return g_strdup("blank varstore (formatted at the first boot): secure boot off, "
                        "no keys");
    g_string_append_printf(out, "secure boot %s, ", facts->secureBoot ? "on" : "off");
    if (facts->owner)
        g_string_append_printf(out, "PK %s", facts->owner);
    else
        g_string_append(out, "no PK (setup mode)");
    fwselSbFactsFormatDb(out, facts, FWSEL_SIGDB_KEK);
    fwselSbFactsFormatDb(out, facts, FWSEL_SIGDB_DB);
    if (facts->at && facts->expired->len) {
        g_string_append_printf(out, "; expired at %.10s:", facts->at);
        for (i = 0; i < facts->expired->len; i++) {
            const fwselSbExpired *e = g_ptr_array_index(facts->expired, i);

            g_string_append_printf(out, "%s %s in %s (%.10s)", i ? "," : "", e->name, e->db,
                                   e->notAfter);
        }
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}


json_object *
fwselSbFactsToJSON(const fwselSbFacts *facts)
{
    json_object *obj = json_object_new_object();
    json_object *cas = json_object_new_object();
    json_object *expired = json_object_new_array();
    json_object *attention = json_object_new_array();
    guint i;

    json_object_object_add(obj, "at", facts->at ? json_object_new_string(facts->at) : NULL);
    json_object_object_add(obj, "blank", json_object_new_boolean(facts->blank));
    json_object_object_add(obj, "secure-boot", json_object_new_boolean(facts->secureBoot));
    json_object_object_add(obj, "owner", facts->owner ? json_object_new_string(facts->owner) : NULL);
    json_object_object_add(obj, "owner-subject",
                           facts->ownerSubject ? json_object_new_string(facts->ownerSubject) : NULL);
    for (i = 0; i < FWSEL_MSCA_LAST; i++) {
        json_object *ca = json_object_new_object();

        json_object_object_add(ca, "cn", json_object_new_string(fwselMsCas[i].commonName));
        json_object_object_add(ca, "in", json_object_new_string(fwselMsCas[i].db == FWSEL_SIGDB_KEK ?
                                                                "KEK" : "db"));
        json_object_object_add(ca, "state",
                               json_object_new_string(fwselCaPresenceTypeToString(facts->ca[i])));
        json_object_object_add(cas, fwselMsCaTypeToString(i), ca);
    }
    json_object_object_add(obj, "microsoft", cas);
    json_object_object_add(obj, "other-kek", json_object_new_int((int) facts->others[FWSEL_SIGDB_KEK]));
    json_object_object_add(obj, "other-db", json_object_new_int((int) facts->others[FWSEL_SIGDB_DB]));
    for (i = 0; i < facts->expired->len; i++) {
        const fwselSbExpired *e = g_ptr_array_index(facts->expired, i);
        json_object *x = json_object_new_object();

        json_object_object_add(x, "in", json_object_new_string(e->db));
        json_object_object_add(x, "name", json_object_new_string(e->name));
        json_object_object_add(x, "not-after", json_object_new_string(e->notAfter));
        json_object_array_add(expired, x);
    }
    json_object_object_add(obj, "expired", expired);
    for (i = 0; i < facts->attention->len; i++)
        json_object_array_add(attention,
                              json_object_new_string(g_ptr_array_index(facts->attention, i)));
    json_object_object_add(obj, "attention", attention);
    return obj;
}


/**
 * fwselSbTimeParse:
 *
 * See fwsel-sbfacts.h.
 */
char *
fwselSbTimeParse(const char *text, GError **error)
{
    g_autoptr(GDateTime) dt = NULL;

    if (!text) {
        dt = g_date_time_new_now_utc();
    } else if (strlen(text) == 10) {
        g_autofree char *full = g_strdup_printf("%sT00:00:00Z", text);

        dt = g_date_time_new_from_iso8601(full, NULL);
    } else if (strlen(text) == 20 && text[19] == 'Z') {
        dt = g_date_time_new_from_iso8601(text, NULL);
    }
    if (!dt) {
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_INVALID,
                    "--at: '%s' is not a date (YYYY-MM-DD) or a UTC time "
                    "(YYYY-MM-DDTHH:MM:SSZ)", text);
        return NULL;
    }
    return g_date_time_format(dt, "%Y-%m-%dT%H:%M:%SZ");
}
