/* SPDX-License-Identifier: Apache-2.0 */
/*
 * testcert.h - keys, certificates and TLSA results made at run time for
 * the ident and ext suites (nothing generated is committed).
 */
#ifndef DANCE_TESTCERT_H
#define DANCE_TESTCERT_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "dance_result.h"

/* dance_tc_key - a new P-256 key (caller frees), or NULL. */
EVP_PKEY *dance_tc_key(void);

/*
 * dance_tc_cert - a certificate for key (borrowed), valid for a day.
 * subject: "CN=a,O=b,emailAddress=c" (comma separated, no escaping), or
 *          NULL / "" for an empty subject.
 * sans:    an OpenSSL subjectAltName value ("DNS:a,email:b,URI:c,IP:d"),
 *          or NULL for none.
 * ca:      1 for a CA certificate (basicConstraints CA:TRUE).
 * issuer / issuer_key: the signer, or NULL for a self-signed certificate.
 * Returns a certificate the caller frees, or NULL.
 */
X509 *dance_tc_cert(EVP_PKEY *key, const char *subject, const char *sans,
                    int ca, X509 *issuer, EVP_PKEY *issuer_key);

/*
 * dance_tc_tlsa_hex - the association data of TLSA `0|1 1 ...` (sha256 of
 * the certificate or of its SubjectPublicKeyInfo) as hex into out (65
 * bytes). selector: 0 certificate, 1 SPKI. Returns 1, or 0.
 */
int dance_tc_tlsa_hex(X509 *x, int selector, char *out);

/*
 * dance_tc_result - a result for owner, with status and the TLSA records
 * in rdata (NULL-terminated list of "usage selector mtype hex"), made at
 * now with ttl. Caller frees. NULL on a parse or memory failure.
 */
dance_res_result *dance_tc_result(const char *owner, int status,
                                  const char *const *rdata, time_t now,
                                  unsigned ttl);

#endif /* DANCE_TESTCERT_H */
