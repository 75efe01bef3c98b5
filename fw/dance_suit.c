/*
 * dance_suit.c - minimal SUIT manifests and envelopes (see dance_suit.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "dance_cbor.h"
#include "dance_msg.h"
#include "dance_suit.h"

/* Key numbers (draft-ietf-suit-manifest). */
enum {
    SUIT_ENV_AUTH = 2,
    SUIT_ENV_MANIFEST = 3,
    SUIT_MANIFEST_VERSION = 1,
    SUIT_MANIFEST_SEQ = 2,
    SUIT_COMMON = 3,
    SUIT_VALIDATE = 7,
    SUIT_INSTALL = 20,
    SUIT_COMMON_COMPONENTS = 2,
    SUIT_COMMON_SEQUENCE = 4,
    SUIT_CONDITION_IMAGE_MATCH = 3,
    SUIT_DIRECTIVE_SET_PARAMETERS = 19,
    SUIT_DIRECTIVE_OVERRIDE_PARAMETERS = 20,
    SUIT_DIRECTIVE_FETCH = 21,
    SUIT_PARAM_IMAGE_DIGEST = 3,
    SUIT_PARAM_IMAGE_SIZE = 14,
    SUIT_PARAM_URI = 21,
    SUIT_REP_POLICY_ALL = 15,
    SUIT_DIGEST_SHA256 = -16
};

#define MAX_URI 2048

struct dance_suit_envelope {
    uint8_t *digest_enc; /* the SUIT_Digest encoding: detached payload */
    size_t digest_len;
    dance_cose_sign1 *sigs[DANCE_SUIT_MAX_SIGNATURES];
    size_t nsigs;
    dance_suit_info info;
};

/* dance_suit_info_clear - see dance_suit.h. */
void dance_suit_info_clear(dance_suit_info *info)
{
    free(info->uri);
    memset(info, 0, sizeof(*info));
}

/* put_digest - append SUIT_Digest [-16, h'digest'] to b. */
static void put_digest(dance_cbor_buf *b, const uint8_t digest[32])
{
    dance_cbor_put_array(b, 2);
    dance_cbor_put_int(b, SUIT_DIGEST_SHA256);
    dance_cbor_put_bstr(b, digest, 32);
}

/* put_wrapped - append the bytes of inner as a bstr and reset inner. */
static void put_wrapped(dance_cbor_buf *b, dance_cbor_buf *inner)
{
    if (inner->failed)
        b->failed = 1;
    else
        dance_cbor_put_bstr(b, inner->data, inner->len);
    dance_cbor_reset(inner);
}

/* uri_ok - 1 if s (len octets) is a URI we accept: printable ASCII. */
static int uri_ok(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > MAX_URI)
        return 0;
    for (i = 0; i < len; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

/* dance_suit_manifest_create - see dance_suit.h. */
dance_fw_status dance_suit_manifest_create(uint64_t seq,
                                           const uint8_t digest[32],
                                           uint64_t image_size, const char *uri,
                                           uint8_t **out, size_t *out_len,
                                           char *err, size_t errlen)
{
    static const uint8_t component0 = 0x00; /* component id [h'00'] */
    dance_cbor_buf m, common, seqbuf;

    *out = NULL;
    if (!uri_ok(uri, strlen(uri)))
        return DANCE_FAIL(DANCE_FW_UNSUPPORTED, err, errlen,
                          "the URI must be 1..%d printable ASCII "
                          "characters without spaces",
                          MAX_URI);
    dance_cbor_init(&m);
    dance_cbor_init(&common);
    dance_cbor_init(&seqbuf);

    /* shared sequence: override image digest and size */
    dance_cbor_put_array(&seqbuf, 2);
    dance_cbor_put_uint(&seqbuf, SUIT_DIRECTIVE_OVERRIDE_PARAMETERS);
    dance_cbor_put_map(&seqbuf, 2);
    dance_cbor_put_uint(&seqbuf, SUIT_PARAM_IMAGE_DIGEST);
    {
        dance_cbor_buf d;

        dance_cbor_init(&d);
        put_digest(&d, digest);
        put_wrapped(&seqbuf, &d);
    }
    dance_cbor_put_uint(&seqbuf, SUIT_PARAM_IMAGE_SIZE);
    dance_cbor_put_uint(&seqbuf, image_size);

    dance_cbor_put_map(&common, 2);
    dance_cbor_put_uint(&common, SUIT_COMMON_COMPONENTS);
    dance_cbor_put_array(&common, 1);
    dance_cbor_put_array(&common, 1);
    dance_cbor_put_bstr(&common, &component0, 1);
    dance_cbor_put_uint(&common, SUIT_COMMON_SEQUENCE);
    put_wrapped(&common, &seqbuf);

    dance_cbor_put_map(&m, 5);
    dance_cbor_put_uint(&m, SUIT_MANIFEST_VERSION);
    dance_cbor_put_uint(&m, 1);
    dance_cbor_put_uint(&m, SUIT_MANIFEST_SEQ);
    dance_cbor_put_uint(&m, seq);
    dance_cbor_put_uint(&m, SUIT_COMMON);
    put_wrapped(&m, &common);

    /* validate: condition-image-match */
    dance_cbor_put_uint(&m, SUIT_VALIDATE);
    dance_cbor_put_array(&seqbuf, 2);
    dance_cbor_put_uint(&seqbuf, SUIT_CONDITION_IMAGE_MATCH);
    dance_cbor_put_uint(&seqbuf, SUIT_REP_POLICY_ALL);
    put_wrapped(&m, &seqbuf);

    /* install: override uri, fetch, condition-image-match */
    dance_cbor_put_uint(&m, SUIT_INSTALL);
    dance_cbor_put_array(&seqbuf, 6);
    dance_cbor_put_uint(&seqbuf, SUIT_DIRECTIVE_OVERRIDE_PARAMETERS);
    dance_cbor_put_map(&seqbuf, 1);
    dance_cbor_put_uint(&seqbuf, SUIT_PARAM_URI);
    dance_cbor_put_tstr(&seqbuf, uri);
    dance_cbor_put_uint(&seqbuf, SUIT_DIRECTIVE_FETCH);
    dance_cbor_put_uint(&seqbuf, 2); /* report policy, as in the draft */
    dance_cbor_put_uint(&seqbuf, SUIT_CONDITION_IMAGE_MATCH);
    dance_cbor_put_uint(&seqbuf, SUIT_REP_POLICY_ALL);
    put_wrapped(&m, &seqbuf);

    if (dance_cbor_take(&m, out, out_len) != 0)
        return DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "out of memory");
    return DANCE_FW_OK;
}

/* parse_params - take image digest, size and URI from a parameters map. */
static dance_fw_status parse_params(const cbor_item_t *map,
                                    dance_suit_info *info, char *err,
                                    size_t errlen)
{
    cbor_item_t *v, *d = NULL, **el;
    const uint8_t *p;
    const char *s;
    size_t n;
    int64_t alg;
    dance_fw_status st = DANCE_FW_MALFORMED;

    if (dance_cbor_map_get(map, SUIT_PARAM_IMAGE_DIGEST, &v) != 0)
        goto bad;
    if (v != NULL && !info->has_digest) {
        if (dance_cbor_get_bstr(v, &p, &n) != 0 ||
            dance_cbor_decode(p, n, "image digest", &d, err, errlen) !=
                DANCE_FW_OK ||
            !cbor_isa_array(d) || cbor_array_size(d) != 2)
            goto bad;
        el = cbor_array_handle(d);
        if (dance_cbor_get_int(el[0], &alg) != 0 ||
            dance_cbor_get_bstr(el[1], &p, &n) != 0)
            goto bad;
        if (alg != SUIT_DIGEST_SHA256 || n != 32) {
            st = DANCE_FAIL(DANCE_FW_UNSUPPORTED, err, errlen,
                            "image digest: only SHA-256 (-16, 32 "
                            "octets) is supported");
            goto done;
        }
        memcpy(info->image_digest, p, 32);
        info->has_digest = 1;
    }
    if (dance_cbor_map_get(map, SUIT_PARAM_IMAGE_SIZE, &v) != 0 ||
        (v != NULL && dance_cbor_get_uint(v, &info->image_size) != 0))
        goto bad;
    if (v != NULL)
        info->has_size = 1;
    if (dance_cbor_map_get(map, SUIT_PARAM_URI, &v) != 0)
        goto bad;
    if (v != NULL && info->uri == NULL) {
        if (dance_cbor_get_tstr(v, &s, &n) != 0 || !uri_ok(s, n))
            goto bad;
        info->uri = malloc(n + 1);
        if (info->uri == NULL) {
            st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "out of memory");
            goto done;
        }
        memcpy(info->uri, s, n);
        info->uri[n] = '\0';
    }
    st = DANCE_FW_OK;
    goto done;
bad:
    st = DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                    "manifest: bad parameters (image digest must be "
                    "<<[-16, bstr]>>, size a uint, uri printable text)");
done:
    if (d != NULL)
        cbor_decref(&d);
    return st;
}

/* parse_sequence - walk a bstr-wrapped command sequence (command,
 * argument pairs) and read every parameters map it sets. */
static dance_fw_status parse_sequence(const cbor_item_t *wrapped,
                                      const char *what, dance_suit_info *info,
                                      char *err, size_t errlen)
{
    cbor_item_t *seq = NULL, **el;
    const uint8_t *p;
    size_t n, i;
    uint64_t cmd;
    dance_fw_status st;

    if (dance_cbor_get_bstr(wrapped, &p, &n) != 0)
        return DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                          "manifest: %s is not a byte string", what);
    st = dance_cbor_decode(p, n, what, &seq, err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    if (!cbor_isa_array(seq) || cbor_array_size(seq) % 2 != 0) {
        st = DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                        "manifest: %s is not a list of command, "
                        "argument pairs",
                        what);
        goto done;
    }
    el = cbor_array_handle(seq);
    for (i = 0; i < cbor_array_size(seq); i += 2) {
        if (dance_cbor_get_uint(el[i], &cmd) != 0)
            continue; /* custom (negative) commands */
        if (cmd == SUIT_DIRECTIVE_OVERRIDE_PARAMETERS ||
            cmd == SUIT_DIRECTIVE_SET_PARAMETERS) {
            st = parse_params(el[i + 1], info, err, errlen);
            if (st != DANCE_FW_OK)
                goto done;
        }
    }
    st = DANCE_FW_OK;
done:
    cbor_decref(&seq);
    return st;
}

/* dance_suit_manifest_parse - see dance_suit.h. */
dance_fw_status dance_suit_manifest_parse(const uint8_t *buf, size_t len,
                                          dance_suit_info *info, char *err,
                                          size_t errlen)
{
    cbor_item_t *m = NULL, *common = NULL, *map, *v, *comps;
    const uint8_t *p;
    size_t n;
    uint64_t version;
    dance_fw_status st;

    memset(info, 0, sizeof(*info));
    st = dance_cbor_decode(buf, len, "manifest", &m, err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    st = DANCE_FW_MALFORMED;
    map = dance_cbor_untag(m, 1070); /* SUIT_Manifest_Tagged or bare */
    if (map == NULL || !cbor_isa_map(map)) {
        dance_msg(err, errlen, "manifest: not a CBOR map");
        goto err;
    }
    v = NULL;
    if (dance_cbor_map_get(map, SUIT_MANIFEST_VERSION, &v) != 0 ||
        dance_cbor_get_uint(v, &version) != 0 || version != 1) {
        st = DANCE_FAIL(DANCE_FW_UNSUPPORTED, err, errlen,
                        "manifest: manifest-version must be 1");
        goto err;
    }
    if (dance_cbor_map_get(map, SUIT_MANIFEST_SEQ, &v) != 0 ||
        dance_cbor_get_uint(v, &info->seq) != 0) {
        dance_msg(err, errlen, "manifest: no unsigned sequence number (key 2)");
        goto err;
    }
    if (dance_cbor_map_get(map, SUIT_COMMON, &v) != 0 ||
        dance_cbor_get_bstr(v, &p, &n) != 0) {
        dance_msg(err, errlen, "manifest: no common section (key 3, a bstr)");
        goto err;
    }
    st = dance_cbor_decode(p, n, "manifest common", &common, err, errlen);
    if (st != DANCE_FW_OK)
        goto err;
    st = DANCE_FW_MALFORMED;
    if (dance_cbor_map_get(common, SUIT_COMMON_COMPONENTS, &comps) != 0 ||
        comps == NULL || !cbor_isa_array(comps) ||
        cbor_array_size(comps) == 0) {
        dance_msg(err, errlen, "manifest: common has no components list");
        goto err;
    }
    if (dance_cbor_map_get(common, SUIT_COMMON_SEQUENCE, &v) != 0) {
        dance_msg(err, errlen, "manifest: common repeats key 4");
        goto err;
    }
    if (v != NULL) {
        st = parse_sequence(v, "shared sequence", info, err, errlen);
        if (st != DANCE_FW_OK)
            goto err;
    }
    if (dance_cbor_map_get(map, SUIT_INSTALL, &v) != 0) {
        st = DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                        "manifest: install repeated");
        goto err;
    }
    if (v != NULL) {
        st = parse_sequence(v, "install sequence", info, err, errlen);
        if (st != DANCE_FW_OK)
            goto err;
    }
    cbor_decref(&common);
    cbor_decref(&m);
    return DANCE_FW_OK;

err:
    if (common != NULL)
        cbor_decref(&common);
    cbor_decref(&m);
    dance_suit_info_clear(info);
    return st;
}

/* encode_envelope - 107({2: <<[digest_enc, sigs...]>>, 3: <<manifest>>}). */
static int encode_envelope(const uint8_t *digest_enc, size_t digest_len,
                           uint8_t *const *sigs, const size_t *sig_lens,
                           size_t nsigs, const uint8_t *manifest,
                           size_t manifest_len, uint8_t **out, size_t *out_len)
{
    dance_cbor_buf e, auth;
    size_t i;

    dance_cbor_init(&e);
    dance_cbor_init(&auth);
    dance_cbor_put_array(&auth, 1 + nsigs);
    dance_cbor_put_bstr(&auth, digest_enc, digest_len);
    for (i = 0; i < nsigs; i++)
        dance_cbor_put_bstr(&auth, sigs[i], sig_lens[i]);
    dance_cbor_put_tag(&e, DANCE_SUIT_TAG_ENVELOPE);
    dance_cbor_put_map(&e, 2);
    dance_cbor_put_uint(&e, SUIT_ENV_AUTH);
    put_wrapped(&e, &auth);
    dance_cbor_put_uint(&e, SUIT_ENV_MANIFEST);
    dance_cbor_put_bstr(&e, manifest, manifest_len);
    return dance_cbor_take(&e, out, out_len);
}

/* dance_suit_envelope_sign - see dance_suit.h. */
dance_fw_status dance_suit_envelope_sign(const uint8_t *manifest,
                                         size_t manifest_len, EVP_PKEY *pkey,
                                         const char *kid, uint8_t **out,
                                         size_t *out_len, char *err,
                                         size_t errlen)
{
    uint8_t digest[32], *digest_enc = NULL, *sig = NULL;
    size_t digest_len, sig_len;
    dance_suit_info info;
    dance_fw_status st;
    dance_cbor_buf d;

    *out = NULL;
    if (kid == NULL || !dance_fw_kid_valid((const uint8_t *)kid, strlen(kid)))
        return DANCE_FAIL(DANCE_FW_UNSUPPORTED, err, errlen,
                          "key id '%s' is not one DNS label (1..63 of "
                          "a-z A-Z 0-9 - _)",
                          kid ? kid : "");
    st = dance_suit_manifest_parse(manifest, manifest_len, &info, err, errlen);
    dance_suit_info_clear(&info);
    if (st != DANCE_FW_OK)
        return st;
    if (EVP_Digest(manifest, manifest_len, digest, NULL, EVP_sha256(), NULL) !=
        1)
        return DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "SHA-256 failed");
    dance_cbor_init(&d);
    put_digest(&d, digest);
    if (dance_cbor_take(&d, &digest_enc, &digest_len) != 0) {
        st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "out of memory");
        goto done;
    }
    st = dance_cose_sign1_create(pkey, (const uint8_t *)kid, strlen(kid),
                                 digest_enc, digest_len, 1, &sig, &sig_len, err,
                                 errlen);
    if (st != DANCE_FW_OK)
        goto done;
    if (encode_envelope(digest_enc, digest_len, &sig, &sig_len, 1, manifest,
                        manifest_len, out, out_len) != 0)
        st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "out of memory");
done:
    free(digest_enc);
    free(sig);
    return st;
}

/* dance_suit_envelope_free - see dance_suit.h. */
void dance_suit_envelope_free(dance_suit_envelope *env)
{
    size_t i;

    if (env == NULL)
        return;
    for (i = 0; i < env->nsigs; i++)
        dance_cose_sign1_free(env->sigs[i]);
    free(env->digest_enc);
    dance_suit_info_clear(&env->info);
    free(env);
}

/* decode_envelope - the parts of an envelope: wrapper elements and the
 * manifest bytes, borrowed from *top and *auth, which the caller releases. */
static dance_fw_status decode_envelope(const uint8_t *buf, size_t len,
                                       cbor_item_t **top, cbor_item_t **auth,
                                       const uint8_t **manifest,
                                       size_t *manifest_len, char *err,
                                       size_t errlen)
{
    cbor_item_t *map, *v;
    const uint8_t *p;
    size_t n;
    dance_fw_status st;

    *top = *auth = NULL;
    st = dance_cbor_decode(buf, len, "SUIT envelope", top, err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    map = dance_cbor_untag(*top, DANCE_SUIT_TAG_ENVELOPE);
    if (map == NULL || !cbor_isa_map(map))
        return DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                          "SUIT envelope: not a map (tag 107 or none)");
    if (dance_cbor_map_get(map, SUIT_ENV_MANIFEST, &v) != 0 ||
        dance_cbor_get_bstr(v, manifest, manifest_len) != 0)
        return DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                          "SUIT envelope: no manifest (key 3, bstr)");
    if (dance_cbor_map_get(map, SUIT_ENV_AUTH, &v) != 0 ||
        dance_cbor_get_bstr(v, &p, &n) != 0)
        return DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                          "SUIT envelope: no authentication wrapper "
                          "(key 2, bstr)");
    st = dance_cbor_decode(p, n, "authentication wrapper", auth, err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    if (!cbor_isa_array(*auth) || cbor_array_size(*auth) < 2 ||
        cbor_array_size(*auth) > 1 + DANCE_SUIT_MAX_SIGNATURES)
        return DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                          "authentication wrapper: not [digest, 1..%d "
                          "signatures]",
                          DANCE_SUIT_MAX_SIGNATURES);
    return DANCE_FW_OK;
}

/* check_digest - the wrapper's SUIT_Digest (enc) against the manifest. */
static dance_fw_status check_digest(const uint8_t *enc, size_t enc_len,
                                    const uint8_t *manifest,
                                    size_t manifest_len, char *err,
                                    size_t errlen)
{
    cbor_item_t *d = NULL, **el;
    uint8_t md[32];
    const uint8_t *p;
    size_t n;
    int64_t alg;
    dance_fw_status st;

    st = dance_cbor_decode(enc, enc_len, "manifest digest", &d, err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    st = DANCE_FW_MALFORMED;
    if (!cbor_isa_array(d) || cbor_array_size(d) != 2) {
        dance_msg(err, errlen, "manifest digest: not [algorithm, bytes]");
        goto done;
    }
    el = cbor_array_handle(d);
    if (dance_cbor_get_int(el[0], &alg) != 0 ||
        dance_cbor_get_bstr(el[1], &p, &n) != 0) {
        dance_msg(err, errlen, "manifest digest: not [int, bstr]");
        goto done;
    }
    if (alg != SUIT_DIGEST_SHA256 || n != 32) {
        st = DANCE_FAIL(DANCE_FW_UNSUPPORTED, err, errlen,
                        "manifest digest: algorithm %lld with %zu "
                        "octets (only SHA-256, -16, is supported)",
                        (long long)alg, n);
        goto done;
    }
    if (EVP_Digest(manifest, manifest_len, md, NULL, EVP_sha256(), NULL) != 1) {
        st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "SHA-256 failed");
        goto done;
    }
    if (CRYPTO_memcmp(md, p, 32) != 0) {
        st = DANCE_FAIL(DANCE_FW_DIGEST_MISMATCH, err, errlen,
                        "the manifest's SHA-256 does not match the "
                        "digest in the authentication wrapper");
        goto done;
    }
    st = DANCE_FW_OK;
done:
    cbor_decref(&d);
    return st;
}

/* dance_suit_envelope_decode - see dance_suit.h. */
dance_fw_status dance_suit_envelope_decode(const uint8_t *buf, size_t len,
                                           dance_suit_envelope **out, char *err,
                                           size_t errlen)
{
    cbor_item_t *top = NULL, *auth = NULL, **el;
    const uint8_t *manifest, *p;
    size_t manifest_len, n, i;
    dance_suit_envelope *env = NULL;
    dance_fw_status st;
    char why[256];

    *out = NULL;
    st = decode_envelope(buf, len, &top, &auth, &manifest, &manifest_len, err,
                         errlen);
    if (st != DANCE_FW_OK)
        goto err;
    el = cbor_array_handle(auth);
    if (dance_cbor_get_bstr(el[0], &p, &n) != 0) {
        st = DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                        "authentication wrapper: digest is not a bstr");
        goto err;
    }
    st = check_digest(p, n, manifest, manifest_len, err, errlen);
    if (st != DANCE_FW_OK)
        goto err;
    env = calloc(1, sizeof(*env));
    if (env == NULL || (env->digest_enc = malloc(n)) == NULL) {
        st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "out of memory");
        goto err;
    }
    memcpy(env->digest_enc, p, n);
    env->digest_len = n;
    for (i = 1; i < cbor_array_size(auth); i++) {
        if (dance_cbor_get_bstr(el[i], &p, &n) != 0) {
            st = DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                            "authentication block %zu is not a bstr", i);
            goto err;
        }
        st = dance_cose_sign1_decode(p, n, &env->sigs[env->nsigs], why,
                                     sizeof(why));
        if (st != DANCE_FW_OK) {
            dance_msg(err, errlen, "authentication block %zu: %s", i, why);
            goto err;
        }
        env->nsigs++;
    }
    st = dance_suit_manifest_parse(manifest, manifest_len, &env->info, err,
                                   errlen);
    if (st != DANCE_FW_OK)
        goto err;
    cbor_decref(&auth);
    cbor_decref(&top);
    *out = env;
    return DANCE_FW_OK;

err:
    dance_suit_envelope_free(env);
    if (auth != NULL)
        cbor_decref(&auth);
    if (top != NULL)
        cbor_decref(&top);
    return st;
}

/* dance_suit_envelope_add_signature - see dance_suit.h. */
dance_fw_status dance_suit_envelope_add_signature(
    const uint8_t *envelope, size_t len, EVP_PKEY *pkey, const char *kid,
    uint8_t **out, size_t *out_len, char *err, size_t errlen)
{
    cbor_item_t *top = NULL, *auth = NULL, **el;
    uint8_t *sigs[DANCE_SUIT_MAX_SIGNATURES];
    size_t lens[DANCE_SUIT_MAX_SIGNATURES], n, i, nsigs = 0, manifest_len;
    const uint8_t *manifest, *p, *digest_enc = NULL;
    size_t digest_len = 0;
    dance_suit_envelope *env = NULL;
    dance_fw_status st;

    *out = NULL;
    st = dance_suit_envelope_decode(envelope, len, &env, err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    if (dance_suit_envelope_num_signatures(env) >= DANCE_SUIT_MAX_SIGNATURES) {
        st = DANCE_FAIL(DANCE_FW_UNSUPPORTED, err, errlen,
                        "the envelope already has %d signatures",
                        DANCE_SUIT_MAX_SIGNATURES);
        goto done;
    }
    st = decode_envelope(envelope, len, &top, &auth, &manifest, &manifest_len,
                         err, errlen);
    if (st != DANCE_FW_OK)
        goto done;
    el = cbor_array_handle(auth);
    for (i = 0; i < cbor_array_size(auth); i++) {
        if (dance_cbor_get_bstr(el[i], &p, &n) != 0) {
            st = DANCE_FW_MALFORMED;
            goto done;
        }
        if (i == 0) {
            digest_enc = p;
            digest_len = n;
        } else {
            sigs[nsigs] = (uint8_t *)p;
            lens[nsigs++] = n;
        }
    }
    st = dance_cose_sign1_create(pkey, (const uint8_t *)kid,
                                 kid ? strlen(kid) : 0, digest_enc, digest_len,
                                 1, &sigs[nsigs], &lens[nsigs], err, errlen);
    if (st != DANCE_FW_OK)
        goto done;
    if (encode_envelope(digest_enc, digest_len, sigs, lens, nsigs + 1, manifest,
                        manifest_len, out, out_len) != 0)
        st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "out of memory");
    free(sigs[nsigs]);
done:
    if (auth != NULL)
        cbor_decref(&auth);
    if (top != NULL)
        cbor_decref(&top);
    dance_suit_envelope_free(env);
    return st;
}

/* dance_suit_envelope_get0_info - see dance_suit.h. */
const dance_suit_info *
dance_suit_envelope_get0_info(const dance_suit_envelope *env)
{
    return &env->info;
}

/* dance_suit_envelope_num_signatures - see dance_suit.h. */
size_t dance_suit_envelope_num_signatures(const dance_suit_envelope *env)
{
    return env->nsigs;
}

/* dance_suit_envelope_get0_signature - see dance_suit.h. */
const dance_cose_sign1 *
dance_suit_envelope_get0_signature(const dance_suit_envelope *env, size_t i)
{
    return i < env->nsigs ? env->sigs[i] : NULL;
}

/* dance_suit_envelope_verify - see dance_suit.h. */
dance_fw_status dance_suit_envelope_verify(const dance_suit_envelope *env,
                                           size_t i, EVP_PKEY *pkey, char *err,
                                           size_t errlen)
{
    if (i >= env->nsigs)
        return DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                          "the envelope has no signature %zu", i + 1);
    return dance_cose_sign1_verify(env->sigs[i], pkey, env->digest_enc,
                                   env->digest_len, err, errlen);
}

/* dance_suit_file_digest - see dance_suit.h. */
dance_fw_status dance_suit_file_digest(const char *path, uint8_t digest[32],
                                       uint64_t *size, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char buf[16384];
    dance_fw_status st = DANCE_FW_INTERNAL;
    size_t n;

    *size = 0;
    if (f == NULL) {
        st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "cannot open %s: %s",
                        path, strerror(errno));
        goto done;
    }
    if (ctx == NULL || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto crypto;
    while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
        if (EVP_DigestUpdate(ctx, buf, n) != 1)
            goto crypto;
        *size += n;
    }
    if (ferror(f)) {
        st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "cannot read %s", path);
        goto done;
    }
    if (EVP_DigestFinal_ex(ctx, digest, NULL) != 1)
        goto crypto;
    st = DANCE_FW_OK;
    goto done;
crypto:
    st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "SHA-256 failed");
done:
    if (f != NULL)
        fclose(f);
    EVP_MD_CTX_free(ctx);
    return st;
}

/* dance_suit_check_image - see dance_suit.h. */
dance_fw_status dance_suit_check_image(const dance_suit_info *info,
                                       const char *path, char *err,
                                       size_t errlen)
{
    uint8_t md[32];
    uint64_t size;
    dance_fw_status st;

    if (!info->has_digest || !info->has_size)
        return DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                          "the manifest has no image digest and size");
    st = dance_suit_file_digest(path, md, &size, err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    if (size != info->image_size)
        return DANCE_FAIL(DANCE_FW_DIGEST_MISMATCH, err, errlen,
                          "%s has %llu octets, the manifest says %llu", path,
                          (unsigned long long)size,
                          (unsigned long long)info->image_size);
    if (CRYPTO_memcmp(md, info->image_digest, 32) != 0)
        return DANCE_FAIL(DANCE_FW_DIGEST_MISMATCH, err, errlen,
                          "%s does not match the manifest's image "
                          "digest",
                          path);
    return DANCE_FW_OK;
}
