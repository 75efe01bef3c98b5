/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_store.h - the OSSL_STORE loader for "dnssec:" URIs.
 *
 *   dnssec:<name>[?curve=P-256|P-384]
 *
 * load() looks <name> up through the provider's resolver: a CNAME at <name>
 * (main.<keystore>) is followed once, and both the CNAME and the IPSECKEY
 * record at its target must be DNSSEC-secure; anything else fails with an
 * error naming the step, the name and the DNSSEC status.  The key
 * (dance_ipseckey.h) is handed to the core as a SubjectPublicKeyInfo DER
 * object, which OpenSSL's decoders turn into an EVP_PKEY.  The curve
 * parameter is a check: ECDSA records fix their curve by length (64 octets
 * P-256, 96 P-384), and a record on another curve than the one asked for is
 * refused.
 *
 * The provider registers it in query_operation as
 *   { "dnssec", "provider=dance", dance_store_functions }
 * The loader context (open .. close) is owned by the core.
 */
#ifndef DANCE_STORE_H
#define DANCE_STORE_H

#include <openssl/core_dispatch.h>

extern const OSSL_DISPATCH dance_store_functions[];

#endif /* DANCE_STORE_H */
