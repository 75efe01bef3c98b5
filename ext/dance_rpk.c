/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_rpk.c - raw public keys (RFC 7250): what OpenSSL >= 3.2 offers,
 * behind one compile-time switch, so the rest of ext/ reads the same on
 * OpenSSL 3.0 (where every function here says "no").
 */
#include "dance_rpk.h"

#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "dance_log.h"

/* The RDATA fields a raw key can be matched by (RFC 7250, RFC 7671). */
#define TLSA_USAGE_DANE_EE 3
#define TLSA_SELECTOR_SPKI 1
#define TLSA_TYPE 52 /* LDNS_RR_TYPE_TLSA */

#if OPENSSL_VERSION_NUMBER >= 0x30200000L
#define DANCE_RPK_BUILT 1
#else
#define DANCE_RPK_BUILT 0
#endif

/* version_text - "3.0.17" for an OPENSSL_VERSION_NUMBER value. */
static void version_text(unsigned long v, char *out, size_t len)
{
    snprintf(out, len, "%lu.%lu.%lu", (v >> 28) & 0xfUL, (v >> 20) & 0xffUL,
             (v >> 4) & 0xffUL);
}

/* dance_rpk_support_why - see header. */
int dance_rpk_support_why(unsigned long built, unsigned long running, char *why,
                          size_t why_len)
{
    char v[32];

    if (built < DANCE_RPK_MIN_OPENSSL) {
        version_text(built, v, sizeof(v));
        snprintf(why, why_len,
                 "raw public keys need OpenSSL >= 3.2, and this module was "
                 "built against OpenSSL %s headers, which have no raw public "
                 "key API (rebuild it against OpenSSL 3.2 or later, or set "
                 "raw_public_keys = off)",
                 v);
        return 0;
    }
    if (running < DANCE_RPK_MIN_OPENSSL) {
        version_text(running, v, sizeof(v));
        snprintf(why, why_len,
                 "raw public keys need OpenSSL >= 3.2, and this process runs "
                 "OpenSSL %s, which cannot negotiate them (set "
                 "raw_public_keys = off)",
                 v);
        return 0;
    }
    return 1;
}

/* dance_rpk_supported - see header. */
int dance_rpk_supported(char *why, size_t why_len)
{
    return dance_rpk_support_why((unsigned long)OPENSSL_VERSION_NUMBER,
                                 OpenSSL_version_num(), why, why_len);
}

/* usable - raw keys both compiled in and supported by the running
 * library. */
static int usable(void)
{
    char why[300];

    return DANCE_RPK_BUILT && dance_rpk_supported(why, sizeof(why));
}

/* dance_rpk_tlsa_usable - see header. */
size_t dance_rpk_tlsa_usable(const dance_res_result *r)
{
    size_t n = 0;

    for (size_t i = 0; r != NULL && i < dance_res_result_rr_count(r); i++) {
        size_t len = 0;
        const uint8_t *rd = dance_res_result_get0_rdata(r, i, &len);

        if (dance_res_result_rr_type(r, i) == TLSA_TYPE && rd != NULL &&
            len > 3 && rd[0] == TLSA_USAGE_DANE_EE &&
            rd[1] == TLSA_SELECTOR_SPKI)
            n++;
    }
    return n;
}

/* dance_rpk_gate - see header. */
int dance_rpk_gate(const dance_policy *pol, X509_STORE_CTX *xs,
                   const char **why)
{
    if (dance_rpk_get0_peer(xs) == NULL)
        return 1;
    if (pol->raw_public_keys == DANCE_RAW_PUBLIC_KEYS_OFF) {
        *why = "raw public key, and raw_public_keys = off: the module "
               "authenticates certificates only";
        return 0;
    }
    return 1;
}

/* dance_rpk_what - see header. */
const char *dance_rpk_what(X509_STORE_CTX *xs)
{
    return dance_rpk_get0_peer(xs) != NULL ? "raw public key" : "certificate";
}

#if DANCE_RPK_BUILT

/* Our list for client_/server_certificate_type. Whoever sends the key
 * picks its type from the peer's list in its own order (OpenSSL), so
 * this order counts only where we send. */
static const unsigned char rpk_first[] = {TLSEXT_cert_type_rpk,
                                          TLSEXT_cert_type_x509};

/* dance_rpk_ext_context - see header. */
unsigned int dance_rpk_ext_context(void)
{
    return usable() ? SSL_EXT_TLS1_3_RAW_PUBLIC_KEY : 0;
}

/* dance_rpk_context - see header. */
unsigned int dance_rpk_context(unsigned int context)
{
    return context == SSL_EXT_TLS1_3_RAW_PUBLIC_KEY ? SSL_EXT_TLS1_3_CERTIFICATE
                                                    : context;
}

/* dance_rpk_conn_setup - see header. */
void dance_rpk_conn_setup(SSL *s, const dance_policy *pol)
{
    int prefer = pol->raw_public_keys == DANCE_RAW_PUBLIC_KEYS_PREFER;
    int ok = 1;

    if (pol->raw_public_keys == DANCE_RAW_PUBLIC_KEYS_OFF || !usable())
        return;
    if (SSL_is_server(s)) {
        /* withdrawn again by dance_rpk_server_mode where the
         * application demands a certificate */
        if (pol->client_auth != DANCE_CLIENT_AUTH_OFF)
            ok &= SSL_set1_client_cert_type(s, rpk_first, sizeof(rpk_first));
        if (prefer)
            ok &= SSL_set1_server_cert_type(s, rpk_first, sizeof(rpk_first));
    } else {
        /* Without a client_name the ClientName comes from the
         * certificate: the certificate is sent. */
        if (prefer && pol->client_name != NULL)
            ok &= SSL_set1_client_cert_type(s, rpk_first, sizeof(rpk_first));
        /* Only under require: opportunistic must be able to fall back to
         * the application's PKIX, which a raw key cannot give it. */
        if (pol->server_dane == DANCE_SERVER_DANE_REQUIRE)
            ok &= SSL_set1_server_cert_type(s, rpk_first, sizeof(rpk_first));
    }
    /* Out of memory: certificates only on this connection (nothing
     * weaker), said once. */
    if (!ok)
        dance_log(DANCE_LOG_WARN, "cannot switch raw public keys on for a "
                                  "connection (out of memory?): certificates "
                                  "only");
}

/* dance_rpk_server_mode - see header. */
int dance_rpk_server_mode(SSL *s, const dance_policy *pol, int app_mode)
{
    unsigned char *types = NULL; /* borrowed from s */
    size_t len = 0;

    if (pol->raw_public_keys == DANCE_RAW_PUBLIC_KEYS_OFF ||
        !(app_mode & SSL_VERIFY_FAIL_IF_NO_PEER_CERT) ||
        !SSL_get0_client_cert_type(s, &types, &len) || types == NULL ||
        memchr(types, TLSEXT_cert_type_rpk, len) == NULL)
        return 1;
    /* No list: libssl answers no client_certificate_type, and the client
     * falls back to X.509 (RFC 7250 section 4.1). */
    if (!SSL_set1_client_cert_type(s, NULL, 0)) {
        /* Cannot happen (no allocation); if it did, the application
         * would see a raw key where it demands a certificate. */
        dance_log(DANCE_LOG_ERROR, "server: cannot withdraw raw public "
                                   "keys: handshake refused");
        return 0;
    }
    dance_log(DANCE_LOG_INFO,
              "server: raw public keys not negotiated on this connection: the "
              "application itself demands a client certificate "
              "(SSL_VERIFY_FAIL_IF_NO_PEER_CERT)");
    return 1;
}

/* dance_rpk_get0_peer - see header. */
EVP_PKEY *dance_rpk_get0_peer(X509_STORE_CTX *xs)
{
    return xs != NULL ? X509_STORE_CTX_get0_rpk(xs) : NULL;
}

/* dance_rpk_store_ctx_init - see header. */
int dance_rpk_store_ctx_init(X509_STORE_CTX *dx, X509_STORE_CTX *xs)
{
    EVP_PKEY *rpk = X509_STORE_CTX_get0_rpk(xs);

    if (rpk != NULL)
        return X509_STORE_CTX_init_rpk(dx, X509_STORE_CTX_get0_store(xs), rpk);
    return X509_STORE_CTX_init(dx, X509_STORE_CTX_get0_store(xs),
                               X509_STORE_CTX_get0_cert(xs),
                               X509_STORE_CTX_get0_untrusted(xs));
}

#else /* OpenSSL < 3.2: no raw public keys */

/* dance_rpk_ext_context - see header. */
unsigned int dance_rpk_ext_context(void)
{
    return 0;
}

/* dance_rpk_context - see header. */
unsigned int dance_rpk_context(unsigned int context)
{
    return context;
}

/* dance_rpk_conn_setup - see header. */
void dance_rpk_conn_setup(SSL *s, const dance_policy *pol)
{
    (void)s, (void)pol, (void)usable;
}

/* dance_rpk_server_mode - see header. */
int dance_rpk_server_mode(SSL *s, const dance_policy *pol, int app_mode)
{
    (void)s, (void)pol, (void)app_mode;
    return 1;
}

/* dance_rpk_get0_peer - see header. */
EVP_PKEY *dance_rpk_get0_peer(X509_STORE_CTX *xs)
{
    (void)xs;
    return NULL;
}

/* dance_rpk_store_ctx_init - see header. */
int dance_rpk_store_ctx_init(X509_STORE_CTX *dx, X509_STORE_CTX *xs)
{
    return X509_STORE_CTX_init(dx, X509_STORE_CTX_get0_store(xs),
                               X509_STORE_CTX_get0_cert(xs),
                               X509_STORE_CTX_get0_untrusted(xs));
}

#endif
