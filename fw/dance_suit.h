/*
 * dance_suit.h - minimal SUIT manifests and envelopes
 * (draft-ietf-suit-manifest, key numbers of -25 and later).
 *
 * Manifest made by dance_suit_manifest_create (one component, the image's
 * SHA-256 digest, size and URI):
 *   { 1: 1, 2: seq,
 *     3: << { 2: [[h'00']],
 *             4: << [20, {3: << [-16, h'DIGEST'] >>, 14: SIZE}] >> } >>,
 *     7: << [3, 15] >>,
 *     20: << [20, {21: "URI"}, 21, 2, 3, 15] >> }
 * Envelope: 107({ 2: << [ << [-16, h'SHA256(manifest)'] >>,
 *                         << COSE_Sign1 >>, ... ] >>,
 *                 3: << manifest >> })
 * Each COSE_Sign1 has a detached payload: the SUIT_Digest encoding (the
 * first bstr of the authentication wrapper).  See docs/firmware.md.
 */
#ifndef DANCE_SUIT_H
#define DANCE_SUIT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "dance_cose.h"
#include "dance_fw.h"

#define DANCE_SUIT_TAG_ENVELOPE 107
#define DANCE_SUIT_MAX_SIGNATURES 8

/* What the tools read from a manifest; uri is NUL-terminated printable
 * ASCII or NULL.  Owned by whoever filled it (dance_suit_info_clear). */
typedef struct {
    uint64_t seq;
    int has_digest;
    uint8_t image_digest[32];
    int has_size;
    uint64_t image_size;
    char *uri;
} dance_suit_info;

/* dance_suit_info_clear - free what info holds and zero it. */
void dance_suit_info_clear(dance_suit_info *info);

/*
 * dance_suit_manifest_create - the manifest above for an image whose
 * SHA-256 is digest.  *out (caller frees with free()) is the encoding.
 */
dance_fw_status dance_suit_manifest_create(uint64_t seq,
                                           const uint8_t digest[32],
                                           uint64_t image_size, const char *uri,
                                           uint8_t **out, size_t *out_len,
                                           char *err, size_t errlen);

/*
 * dance_suit_manifest_parse - check a SUIT_Manifest (version 1, sequence
 * number, common with components) and fill info from the first
 * override-parameters it finds for image digest, size and URI.  info is
 * cleared first; the caller clears it after use.
 */
dance_fw_status dance_suit_manifest_parse(const uint8_t *buf, size_t len,
                                          dance_suit_info *info, char *err,
                                          size_t errlen);

/*
 * dance_suit_envelope_sign - wrap manifest (which must parse) in an
 * envelope signed with pkey, kid in the protected header.  *out (caller
 * frees with free()) is the envelope.
 */
dance_fw_status dance_suit_envelope_sign(const uint8_t *manifest,
                                         size_t manifest_len, EVP_PKEY *pkey,
                                         const char *kid, uint8_t **out,
                                         size_t *out_len, char *err,
                                         size_t errlen);

/*
 * dance_suit_envelope_add_signature - a copy of envelope with one more
 * COSE_Sign1 (pkey, kid if not NULL) over its digest, as an update server
 * adds its own (Figure 1, step 8).  The envelope must decode.
 */
dance_fw_status dance_suit_envelope_add_signature(
    const uint8_t *envelope, size_t len, EVP_PKEY *pkey, const char *kid,
    uint8_t **out, size_t *out_len, char *err, size_t errlen);

typedef struct dance_suit_envelope dance_suit_envelope;

/*
 * dance_suit_envelope_decode - parse an envelope (tag 107 or none), check
 * that the authentication wrapper's SHA-256 digest matches the manifest
 * (DANCE_FW_DIGEST_MISMATCH if not), decode every COSE_Sign1 and the
 * manifest.  Signatures are not verified yet.  *out: caller frees
 * (dance_suit_envelope_free).
 */
dance_fw_status dance_suit_envelope_decode(const uint8_t *buf, size_t len,
                                           dance_suit_envelope **out, char *err,
                                           size_t errlen);

/* dance_suit_envelope_free - NULL is fine. */
void dance_suit_envelope_free(dance_suit_envelope *env);

/* dance_suit_envelope_get0_info - the manifest's contents (borrowed). */
const dance_suit_info *
dance_suit_envelope_get0_info(const dance_suit_envelope *env);

/* dance_suit_envelope_num_signatures - how many COSE_Sign1 it carries. */
size_t dance_suit_envelope_num_signatures(const dance_suit_envelope *env);

/* dance_suit_envelope_get0_signature - signature i (borrowed). */
const dance_cose_sign1 *
dance_suit_envelope_get0_signature(const dance_suit_envelope *env, size_t i);

/* dance_suit_envelope_verify - verify signature i over the digest with
 * pkey (alg must fit pkey). */
dance_fw_status dance_suit_envelope_verify(const dance_suit_envelope *env,
                                           size_t i, EVP_PKEY *pkey, char *err,
                                           size_t errlen);

/*
 * dance_suit_check_image - compare the firmware file at path with the
 * manifest's image size and digest (both must be present).
 */
dance_fw_status dance_suit_check_image(const dance_suit_info *info,
                                       const char *path, char *err,
                                       size_t errlen);

/* dance_suit_file_digest - SHA-256 and size of the file at path. */
dance_fw_status dance_suit_file_digest(const char *path, uint8_t digest[32],
                                       uint64_t *size, char *err,
                                       size_t errlen);

#endif /* DANCE_SUIT_H */
