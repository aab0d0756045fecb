/*
 * fwsel-x509.h: GnuTLS for reading X.509 certificates, loaded when the
 * first certificate is read
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#pragma once

#include <glib.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

/*
 * The GnuTLS calls fwsel makes.  Programs that never decode a
 * certificate (select, list, the hook) do not map GnuTLS and the eight
 * libraries it pulls in; see x509.c.
 */
typedef struct {
    gnutls_free_function *free;     /* a variable in GnuTLS: call (*free)(p) */
    __typeof__(&gnutls_strerror) strerror;
    __typeof__(&gnutls_x509_crt_init) crtInit;
    __typeof__(&gnutls_x509_crt_deinit) crtDeinit;
    __typeof__(&gnutls_x509_crt_import) crtImport;
    __typeof__(&gnutls_x509_crt_get_dn3) crtGetDn3;
    __typeof__(&gnutls_x509_crt_get_issuer_dn3) crtGetIssuerDn3;
    __typeof__(&gnutls_x509_crt_get_dn_by_oid) crtGetDnByOid;
    __typeof__(&gnutls_x509_crt_get_serial) crtGetSerial;
    __typeof__(&gnutls_x509_crt_get_fingerprint) crtGetFingerprint;
    __typeof__(&gnutls_x509_crt_get_activation_time) crtGetActivationTime;
    __typeof__(&gnutls_x509_crt_get_expiration_time) crtGetExpirationTime;
} fwselGnutls;

/* GnuTLS's entry points, loaded once per process (thread-safe); NULL
 * with @error set when the library cannot be loaded. */
const fwselGnutls *fwselGnutlsGet(GError **error);
