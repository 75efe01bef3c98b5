/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_rpk.h - raw public keys (RFC 7250) in DANE authentication,
 * switched on by the raw_public_keys key (dance_policy.h).
 *
 * A raw public key is a bare SubjectPublicKeyInfo in place of a
 * certificate. It carries no names, so the only TLSA records that can
 * authenticate it are DANE-EE with the SPKI selector ("3 1 x"): the
 * identity proved is the ClientName (server role) or the TLSA owner's host
 * (client role), never a name read from a certificate. An application then
 * sees no peer certificate (SSL_get0_peer_certificate is NULL; the key is
 * SSL_get0_peer_rpk), so one that insists on a certificate refuses the
 * peer: it fails closed.
 *
 * OpenSSL negotiates raw keys from 3.2 on (client_certificate_type and
 * server_certificate_type, RFC 7250 section 4). A module built against
 * older headers has none of this code, and a module built against 3.2+
 * headers cannot use it with an older libssl: dance_rpk_supported says
 * which, and every other function here is then a no-op (or refuses).
 */
#ifndef DANCE_RPK_H
#define DANCE_RPK_H

#include <stddef.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "dance_policy.h"
#include "dance_result.h"

/* The first OpenSSL release that negotiates raw public keys. */
#define DANCE_RPK_MIN_OPENSSL 0x30200000UL

/*
 * dance_rpk_support_why - can raw public keys work in a module compiled
 * against OpenSSL headers of version `built` and running with the library
 * version `running` (both in OPENSSL_VERSION_NUMBER form)? Returns 1, or 0
 * with the reason in why (why_len bytes), naming the version that is too
 * old. Pure: the tests give it any pair.
 */
int dance_rpk_support_why(unsigned long built, unsigned long running, char *why,
                          size_t why_len);

/*
 * dance_rpk_supported - dance_rpk_support_why for this build
 * (OPENSSL_VERSION_NUMBER) and the libcrypto/libssl it runs with
 * (OpenSSL_version_num).
 */
int dance_rpk_supported(char *why, size_t why_len);

/*
 * dance_rpk_ext_context - the extension context of a raw key's
 * Certificate entry (SSL_EXT_TLS1_3_RAW_PUBLIC_KEY), to register
 * dane_clientid in, or 0 where raw keys are not supported.
 */
unsigned int dance_rpk_ext_context(void);

/*
 * dance_rpk_context - context, with a raw key's Certificate entry mapped
 * to SSL_EXT_TLS1_3_CERTIFICATE: the ClientName travels in either, with
 * the same rules.
 */
unsigned int dance_rpk_context(unsigned int context);

/*
 * dance_rpk_conn_setup - a handshake starts on s (its role is known):
 * set the certificate types s asks for and offers, per pol:
 *  - server: with client_auth on, accept a client's raw key (accept,
 *    prefer); under prefer, offer its own raw key to a client that asks;
 *  - client: under prefer, offer its raw key first (only with a
 *    client_name: otherwise the name is its certificate's, and the
 *    certificate is sent); with server_dane =
 *    require, accept a server's raw key (accept, prefer). Not under
 *    opportunistic: its fallback is the application's PKIX, and a raw key
 *    has no certificate for that.
 * The side that sends a key picks its type, in its own order, from what
 * the other side accepts (OpenSSL; RFC 7250 section 4). Nothing changes
 * under off or where raw keys are not supported.
 */
void dance_rpk_conn_setup(SSL *s, const dance_policy *pol);

/*
 * dance_rpk_server_mode - server: the application's own verify mode for
 * this handshake is app_mode (known once its callbacks have run). An
 * application that demands a client certificate itself
 * (SSL_VERIFY_FAIL_IF_NO_PEER_CERT) is written to read one after the
 * handshake, and a raw key would satisfy libssl's check while leaving
 * SSL_get0_peer_certificate NULL: such an application is never given a
 * raw key (the client sends its certificate, or nothing). Logs, at info,
 * when it withdraws raw keys. Returns 1, or 0 when they could not be
 * withdrawn: the caller must then refuse the handshake.
 */
int dance_rpk_server_mode(SSL *s, const dance_policy *pol, int app_mode);

/*
 * dance_rpk_get0_peer - the raw public key xs verifies (borrowed from xs),
 * or NULL when xs verifies a certificate chain.
 */
EVP_PKEY *dance_rpk_get0_peer(X509_STORE_CTX *xs);

/*
 * dance_rpk_gate - may the peer credential of xs be checked by DANE under
 * pol? A certificate always may; a raw key only when raw_public_keys is
 * not off (an application that switched raw keys on itself does not get
 * them authenticated by the module). Returns 1, or 0 with *why (static).
 */
int dance_rpk_gate(const dance_policy *pol, X509_STORE_CTX *xs,
                   const char **why);

/*
 * dance_rpk_tlsa_usable - how many records of the TLSA RRset r (borrowed)
 * can authenticate a raw key: DANE-EE(3) with selector SPKI(1), any
 * matching type. 0 means a raw key cannot match whatever it is.
 */
size_t dance_rpk_tlsa_usable(const dance_res_result *r);

/*
 * dance_rpk_store_ctx_init - initialise dx (fresh) to verify the same
 * peer credential as xs: its certificate and untrusted chain, or its raw
 * key, with xs's trust store. Returns 1, or 0 (out of memory).
 */
int dance_rpk_store_ctx_init(X509_STORE_CTX *dx, X509_STORE_CTX *xs);

/* dance_rpk_what - "raw public key" or "certificate": what xs verifies. */
const char *dance_rpk_what(X509_STORE_CTX *xs);

#endif /* DANCE_RPK_H */
