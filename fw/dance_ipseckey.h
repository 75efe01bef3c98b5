/*
 * dance_ipseckey.h - public keys in IPSECKEY records (RFC 4025) and their
 * DNSSEC-validated retrieval, for the firmware-key store.
 *
 * Key encodings, as the IANA IPSECKEY algorithm registry points to them:
 *   2 RSA    RFC 3110: exponent length (1 octet, or 0 and 2 octets),
 *            exponent, modulus; 2048..16384-bit moduli are accepted
 *   3 ECDSA  RFC 6605 (via RFC 8005): raw x || y; 64 octets P-256,
 *            96 octets P-384 (the length fixes the curve)
 *   4 EdDSA  RFC 8080 (via RFC 9373): raw public key; 32 octets Ed25519,
 *            57 octets Ed448
 * Only gateway type 0 (no gateway, presentation ".") is accepted: these
 * records name signing keys, not IPsec peers.
 *
 * The store loader and `dance keystore` / `dance manifest` share this code.
 */
#ifndef DANCE_IPSECKEY_H
#define DANCE_IPSECKEY_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "dance_res.h"

typedef enum {
    DANCE_IPSECKEY_OK = 0,
    DANCE_IPSECKEY_MALFORMED,   /* RDATA or key bytes do not parse */
    DANCE_IPSECKEY_UNSUPPORTED, /* algorithm, gateway, curve or size */
    DANCE_IPSECKEY_DNS,         /* lookup not secure, no record, ... */
    DANCE_IPSECKEY_INTERNAL     /* out of memory, OpenSSL failure */
} dance_ipseckey_status;

/* dance_ipseckey_status_str - a constant name for st ("ok", ...). */
const char *dance_ipseckey_status_str(dance_ipseckey_status st);

enum {
    DANCE_IPSECKEY_ALG_RSA = 2,
    DANCE_IPSECKEY_ALG_ECDSA = 3,
    DANCE_IPSECKEY_ALG_EDDSA = 4
};

/* One parsed IPSECKEY RDATA; key points into the parsed buffer (borrowed). */
typedef struct {
    uint8_t precedence;
    uint8_t gateway_type;
    uint8_t algorithm;
    const uint8_t *key;
    size_t key_len;
} dance_ipseckey;

/*
 * dance_ipseckey_parse - split wire-format IPSECKEY RDATA (rdata, len) into
 * out.  out->key borrows from rdata.  Fails (MALFORMED / UNSUPPORTED, with
 * err saying why) on short data, a gateway type other than 0, or an empty
 * key.
 */
dance_ipseckey_status dance_ipseckey_parse(const uint8_t *rdata, size_t len,
                                           dance_ipseckey *out, char *err,
                                           size_t errlen);

/*
 * dance_ipseckey_to_pkey - the public key of k as an EVP_PKEY the caller
 * frees (EVP_PKEY_free), built in libctx (NULL: default).  curve, if not
 * NULL, is "P-256" or "P-384" and must match the ECDSA key's length; it is
 * an error for any other algorithm.  *out is NULL on failure.
 */
dance_ipseckey_status dance_ipseckey_to_pkey(OSSL_LIB_CTX *libctx,
                                             const dance_ipseckey *k,
                                             const char *curve, EVP_PKEY **out,
                                             char *err, size_t errlen);

/*
 * dance_ipseckey_from_pkey - the IPSECKEY algorithm number and key field for
 * a public (or private: only its public half is used) key.  *key is
 * allocated, the caller frees it with OPENSSL_free.
 */
dance_ipseckey_status dance_ipseckey_from_pkey(const EVP_PKEY *pkey,
                                               uint8_t *alg, uint8_t **key,
                                               size_t *key_len, char *err,
                                               size_t errlen);

/*
 * dance_ipseckey_record - the zone-file line
 * "OWNER IN IPSECKEY PRECEDENCE 0 ALG . BASE64" for pkey.  *line is
 * allocated (no newline), the caller frees it with OPENSSL_free.
 */
dance_ipseckey_status dance_ipseckey_record(const char *owner,
                                            unsigned precedence,
                                            const EVP_PKEY *pkey, char **line,
                                            char *err, size_t errlen);

/*
 * dance_ipseckey_fetch - the key published at name, DNSSEC-validated, at
 * time now.  Step 1 looks name up as CNAME: a secure CNAME gives the target,
 * a secure proof that there is none means name itself holds the key;
 * anything else fails.  Step 2 looks the target up as IPSECKEY: it must be
 * secure, hold exactly one record, owned by the target itself (no further
 * alias).  err names the failing step, the name and the DNSSEC status.
 * On success *pkey (caller frees, EVP_PKEY_free) is the key and, if target
 * is not NULL, *target (caller frees, OPENSSL_free) the name that holds it,
 * in presentation format without the trailing dot, lower case.
 */
dance_ipseckey_status dance_ipseckey_fetch(dance_res *res, const char *name,
                                           time_t now, OSSL_LIB_CTX *libctx,
                                           const char *curve, EVP_PKEY **pkey,
                                           char **target, char *err,
                                           size_t errlen);

#endif /* DANCE_IPSECKEY_H */
