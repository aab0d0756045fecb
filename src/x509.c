/*
 * x509.c: GnuTLS, loaded on first use
 *
 * Only reading a varstore's certificates needs GnuTLS.  Linking it would
 * make every virt-fwsel command, the hook and every user of the library
 * map GnuTLS, p11-kit, nettle, hogweed, gmp, idn2, unistring, tasn1 and
 * ffi at start-up: about 3 ms of the 3 ms budget of 'select'.  So the
 * library is opened the first time a certificate is decoded, by its
 * soname, and the entry points are looked up once.  Its headers still
 * give the types, so every call is checked by the compiler.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include <dlfcn.h>

#include "fwsel-x509.h"
#include "fwsel-util.h"

/* GnuTLS 3.4.0 and later keep this soname (ABI 30) */
#if GNUTLS_VERSION_NUMBER < 0x030400
# error "GnuTLS 3.4.0 or later is needed"
#endif
#ifndef FWSEL_GNUTLS_SONAME
# define FWSEL_GNUTLS_SONAME "libgnutls.so.30"
#endif

static fwselGnutls fwselGnutlsCalls;
static char *fwselGnutlsError;


static bool
fwselGnutlsSym(void *handle, const char *name, void *slot)
{
    void *sym = dlsym(handle, name);

    if (!sym) {
        fwselGnutlsError = g_strdup_printf("%s lacks %s", FWSEL_GNUTLS_SONAME, name);
        return false;
    }
    memcpy(slot, &sym, sizeof(sym));
    return true;
}


static gpointer
fwselGnutlsLoad(gpointer data G_GNUC_UNUSED)
{
    fwselGnutls *c = &fwselGnutlsCalls;
    void *handle;

    /* never closed: the entry points stay valid for the process */
    if (!(handle = dlopen(FWSEL_GNUTLS_SONAME, RTLD_NOW | RTLD_LOCAL))) {
        const char *why = dlerror();

        fwselGnutlsError = g_strdup_printf("cannot load %s: %s", FWSEL_GNUTLS_SONAME,
                                           why ? why : "unknown error");
        return NULL;
    }
    if (!fwselGnutlsSym(handle, "gnutls_free", &c->free) ||
        !fwselGnutlsSym(handle, "gnutls_strerror", &c->strerror) ||
        !fwselGnutlsSym(handle, "gnutls_x509_crt_init", &c->crtInit) ||
        !fwselGnutlsSym(handle, "gnutls_x509_crt_deinit", &c->crtDeinit) ||
        !fwselGnutlsSym(handle, "gnutls_x509_crt_import", &c->crtImport) ||
        !fwselGnutlsSym(handle, "gnutls_x509_crt_get_dn3", &c->crtGetDn3) ||
        !fwselGnutlsSym(handle, "gnutls_x509_crt_get_issuer_dn3", &c->crtGetIssuerDn3) ||
        !fwselGnutlsSym(handle, "gnutls_x509_crt_get_dn_by_oid", &c->crtGetDnByOid) ||
        !fwselGnutlsSym(handle, "gnutls_x509_crt_get_serial", &c->crtGetSerial) ||
        !fwselGnutlsSym(handle, "gnutls_x509_crt_get_fingerprint", &c->crtGetFingerprint) ||
        !fwselGnutlsSym(handle, "gnutls_x509_crt_get_activation_time",
                        &c->crtGetActivationTime) ||
        !fwselGnutlsSym(handle, "gnutls_x509_crt_get_expiration_time",
                        &c->crtGetExpirationTime))
        return NULL;
    return c;
}


const fwselGnutls *
fwselGnutlsGet(GError **error)
{
    static GOnce once = G_ONCE_INIT;
    const fwselGnutls *calls = g_once(&once, fwselGnutlsLoad, NULL);

    if (!calls)
        g_set_error(error, FWSEL_ERROR, FWSEL_ERROR_IO,
                    "reading X.509 certificates needs GnuTLS: %s", fwselGnutlsError);
    return calls;
}
