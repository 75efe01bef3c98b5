/*
 * dance_cose.h - COSE_Sign1 (RFC 9052) with the algorithms of RFC 9053 and
 * RFC 8230 that the firmware keys use, on OpenSSL:
 *
 *   ES256 (-7)  ECDSA P-256 + SHA-256, signature r || s (64 octets)
 *   ES384 (-35) ECDSA P-384 + SHA-384, signature r || s (96 octets)
 *   EdDSA (-8)  Ed25519 or Ed448 (pure)
 *   PS256 (-37) RSASSA-PSS, SHA-256, MGF1-SHA-256, salt length 32
 *
 * The algorithm fixes the key type and curve, and a key is only ever used
 * with the algorithm its type implies: verifying checks that the message's
 * alg fits the key it is given (no curve or algorithm substitution).
 *
 * COSE_Sign1 = [protected: bstr .cbor {1: alg, ? 4: kid}, unprotected: {},
 *               payload: bstr / nil, signature: bstr], tag 18 on output,
 * tag optional on input.  Sig_structure = ["Signature1", protected,
 * external_aad = h'', payload].
 */
#ifndef DANCE_COSE_H
#define DANCE_COSE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "dance_fw.h"

enum {
    DANCE_COSE_ES256 = -7,
    DANCE_COSE_EDDSA = -8,
    DANCE_COSE_ES384 = -35,
    DANCE_COSE_PS256 = -37
};

#define DANCE_COSE_TAG_SIGN1 18

/* dance_cose_alg_name - "ES256", ...; NULL for an unsupported alg. */
const char *dance_cose_alg_name(int64_t alg);

/*
 * dance_cose_alg_for_key - the one algorithm pkey is used with (P-256:
 * ES256, P-384: ES384, Ed25519/Ed448: EdDSA, RSA >= 2048 bits: PS256).
 */
dance_fw_status dance_cose_alg_for_key(const EVP_PKEY *pkey, int64_t *alg,
                                       char *err, size_t errlen);

/*
 * dance_cose_check_alg_key - DANCE_FW_OK if alg is the algorithm of pkey,
 * DANCE_FW_KEY_MISMATCH (err says what each is) if not, UNSUPPORTED for
 * an unknown alg.
 */
dance_fw_status dance_cose_check_alg_key(int64_t alg, const EVP_PKEY *pkey,
                                         char *err, size_t errlen);

/*
 * dance_cose_sign1_create - sign payload with pkey (a private key) into a
 * tagged COSE_Sign1.  kid (kid_len octets) goes into the protected header
 * when not NULL.  detached: payload is signed but the message carries nil.
 * *out (caller frees with free()) holds the encoding.
 */
dance_fw_status dance_cose_sign1_create(EVP_PKEY *pkey, const uint8_t *kid,
                                        size_t kid_len, const uint8_t *payload,
                                        size_t payload_len, int detached,
                                        uint8_t **out, size_t *out_len,
                                        char *err, size_t errlen);

typedef struct dance_cose_sign1 dance_cose_sign1;

/*
 * dance_cose_sign1_decode - parse a COSE_Sign1 (tag 18 or none).  Rejects
 * headers it cannot honour: no alg, alg not an integer, crit, alg or crit in
 * the unprotected bucket, a kid that is not a bstr, duplicate labels.
 * *out is freed by the caller (dance_cose_sign1_free); it copies what it
 * needs, buf may go away.
 */
dance_fw_status dance_cose_sign1_decode(const uint8_t *buf, size_t len,
                                        dance_cose_sign1 **out, char *err,
                                        size_t errlen);

/* dance_cose_sign1_free - NULL is fine. */
void dance_cose_sign1_free(dance_cose_sign1 *msg);

/* dance_cose_sign1_alg - the protected alg. */
int64_t dance_cose_sign1_alg(const dance_cose_sign1 *msg);

/* dance_cose_sign1_get0_kid - the protected kid (borrowed) or NULL. */
const uint8_t *dance_cose_sign1_get0_kid(const dance_cose_sign1 *msg,
                                         size_t *len);

/* dance_cose_sign1_get0_payload - the attached payload (borrowed), or NULL
 * when it is detached (nil). */
const uint8_t *dance_cose_sign1_get0_payload(const dance_cose_sign1 *msg,
                                             size_t *len);

/*
 * dance_cose_sign1_verify - check msg's signature with pkey (public key).
 * The payload is msg's own, or detached (detached_len octets) when msg
 * carries nil; giving both is an error.  First checks the alg fits pkey.
 */
dance_fw_status dance_cose_sign1_verify(const dance_cose_sign1 *msg,
                                        EVP_PKEY *pkey, const uint8_t *detached,
                                        size_t detached_len, char *err,
                                        size_t errlen);

#endif /* DANCE_COSE_H */
