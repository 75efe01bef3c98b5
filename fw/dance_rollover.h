/*
 * dance_rollover.h - the vendor key rollover manifest of the second paper
 * (Table I) and its update-server extension.
 *
 * Vendor part: a tagged COSE_Sign1 signed with the OLD key (protected alg =
 * old alg, kid = old kid), attached payload
 *   << { 1: app-id (tstr), 2: version (uint), 3: new kid (tstr),
 *        4: new alg (int), 5: new public key (bstr, SubjectPublicKeyInfo
 *        DER), 6: old kid (tstr), 7: old alg (int) } >>
 * Extension: a tagged COSE_Sign1 signed with the update server's key, payload
 *   << { 1: << vendor COSE_Sign1 >>, 2: device nonce (bstr, 8..64) } >>
 * See docs/firmware.md.
 */
#ifndef DANCE_ROLLOVER_H
#define DANCE_ROLLOVER_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "dance_fw.h"

#define DANCE_ROLLOVER_NONCE_MIN 8
#define DANCE_ROLLOVER_NONCE_MAX 64

/* The fields of Table I; strings NUL-terminated.  Filled by
 * dance_rollover_decode (then owned: dance_rollover_info_clear) or by the
 * caller for dance_rollover_create (borrowed). */
typedef struct {
    char *app_id;
    uint64_t version;
    char *new_kid;
    int64_t new_alg;
    uint8_t *new_spki;
    size_t new_spki_len;
    char *old_kid;
    int64_t old_alg;
} dance_rollover_info;

/* dance_rollover_info_clear - free what a decoded info holds, zero it. */
void dance_rollover_info_clear(dance_rollover_info *info);

/*
 * dance_rollover_create - the vendor's signed rollover manifest for the
 * new public key new_pub, signed with the old private key old_priv.  The
 * algs are derived from the keys.  *out: caller frees with free().
 */
dance_fw_status dance_rollover_create(const char *app_id, uint64_t version,
                                      const char *new_kid,
                                      const EVP_PKEY *new_pub,
                                      const char *old_kid, EVP_PKEY *old_priv,
                                      uint8_t **out, size_t *out_len, char *err,
                                      size_t errlen);

/*
 * dance_rollover_decode - parse a vendor rollover manifest into info
 * (cleared first; caller clears) and, if new_key is not NULL, the new key
 * (*new_key, caller frees with EVP_PKEY_free).  Checks the structure, that
 * the protected kid and alg are the old ones, and that the new alg fits the
 * new key.  Does not verify the signature.
 */
dance_fw_status dance_rollover_decode(const uint8_t *buf, size_t len,
                                      dance_rollover_info *info,
                                      EVP_PKEY **new_key, char *err,
                                      size_t errlen);

/*
 * dance_rollover_verify_vendor - dance_rollover_decode plus the vendor
 * signature checked with old_pub (whose type must fit the old alg).
 */
dance_fw_status dance_rollover_verify_vendor(const uint8_t *buf, size_t len,
                                             EVP_PKEY *old_pub,
                                             dance_rollover_info *info,
                                             EVP_PKEY **new_key, char *err,
                                             size_t errlen);

/*
 * dance_rollover_extend - wrap a vendor rollover manifest (which must
 * decode) with the device's nonce and the update server's signature
 * (server_priv).  *out: caller frees with free().
 */
dance_fw_status dance_rollover_extend(const uint8_t *vendor, size_t len,
                                      const uint8_t *nonce, size_t nonce_len,
                                      EVP_PKEY *server_priv, uint8_t **out,
                                      size_t *out_len, char *err,
                                      size_t errlen);

/*
 * dance_rollover_device_check - what the device does: verify the update
 * server's signature with server_pub, compare the nonce with the one it
 * issued (DANCE_FW_NONCE if different: replayed or foreign), verify the
 * vendor signature with its trust anchor trust_pub.  The algorithms are
 * those of the device's own keys, whatever the manifest claims.  On
 * success info is filled (caller clears) and *new_key (caller frees) is
 * the key to install.
 */
dance_fw_status
dance_rollover_device_check(const uint8_t *buf, size_t len, EVP_PKEY *trust_pub,
                            EVP_PKEY *server_pub, const uint8_t *nonce,
                            size_t nonce_len, dance_rollover_info *info,
                            EVP_PKEY **new_key, char *err, size_t errlen);

#endif /* DANCE_ROLLOVER_H */
