/*
 * dance_cose.c - COSE_Sign1 creation and verification (see dance_cose.h).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

#include "dance_cbor.h"
#include "dance_msg.h"
#include "dance_cose.h"

struct dance_cose_sign1 {
    int64_t alg;
    uint8_t *protected_hdr; /* as received: Sig_structure input */
    size_t protected_len;
    uint8_t *kid; /* NULL: none */
    size_t kid_len;
    uint8_t *payload; /* NULL: detached */
    size_t payload_len;
    uint8_t *sig;
    size_t sig_len;
};

/* dance_cose_alg_name - see dance_cose.h. */
const char *dance_cose_alg_name(int64_t alg)
{
    switch (alg) {
    case DANCE_COSE_ES256:
        return "ES256";
    case DANCE_COSE_ES384:
        return "ES384";
    case DANCE_COSE_EDDSA:
        return "EdDSA";
    case DANCE_COSE_PS256:
        return "PS256";
    }
    return NULL;
}

/* key_desc - a short description of pkey's type and curve. */
static const char *key_desc(const EVP_PKEY *pkey)
{
    char group[32];

    if (EVP_PKEY_is_a(pkey, "ED25519"))
        return "Ed25519";
    if (EVP_PKEY_is_a(pkey, "ED448"))
        return "Ed448";
    if (EVP_PKEY_is_a(pkey, "RSA"))
        return "RSA";
    if (EVP_PKEY_is_a(pkey, "EC") &&
        EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL)) {
        if (strcmp(group, "prime256v1") == 0)
            return "ECDSA P-256";
        if (strcmp(group, "secp384r1") == 0)
            return "ECDSA P-384";
        return "ECDSA (other curve)";
    }
    return "unsupported key type";
}

/* dance_cose_alg_for_key - see dance_cose.h. */
dance_fw_status dance_cose_alg_for_key(const EVP_PKEY *pkey, int64_t *alg,
                                       char *err, size_t errlen)
{
    const char *d = key_desc(pkey);

    if (strcmp(d, "ECDSA P-256") == 0)
        *alg = DANCE_COSE_ES256;
    else if (strcmp(d, "ECDSA P-384") == 0)
        *alg = DANCE_COSE_ES384;
    else if (strcmp(d, "Ed25519") == 0 || strcmp(d, "Ed448") == 0)
        *alg = DANCE_COSE_EDDSA;
    else if (strcmp(d, "RSA") == 0 && EVP_PKEY_get_bits(pkey) >= 2048)
        *alg = DANCE_COSE_PS256;
    else
        return DANCE_FAIL(DANCE_FW_UNSUPPORTED, err, errlen,
                          "no COSE algorithm for a %s key (supported: "
                          "P-256, P-384, Ed25519, Ed448, RSA >= 2048)",
                          d);
    return DANCE_FW_OK;
}

/* dance_cose_check_alg_key - see dance_cose.h. */
dance_fw_status dance_cose_check_alg_key(int64_t alg, const EVP_PKEY *pkey,
                                         char *err, size_t errlen)
{
    int64_t want = 0; /* set by dance_cose_alg_for_key on success */
    dance_fw_status st;

    if (dance_cose_alg_name(alg) == NULL)
        return DANCE_FAIL(DANCE_FW_UNSUPPORTED, err, errlen,
                          "COSE algorithm %lld is not supported "
                          "(ES256, ES384, EdDSA, PS256)",
                          (long long)alg);
    st = dance_cose_alg_for_key(pkey, &want, err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    if (want != alg)
        return DANCE_FAIL(DANCE_FW_KEY_MISMATCH, err, errlen,
                          "algorithm %s does not fit the %s key (that "
                          "key is used with %s only)",
                          dance_cose_alg_name(alg), key_desc(pkey),
                          dance_cose_alg_name(want));
    return DANCE_FW_OK;
}

/* sig_structure - encode ["Signature1", protected, h'', payload]. */
static int sig_structure(const uint8_t *prot, size_t prot_len,
                         const uint8_t *payload, size_t payload_len,
                         uint8_t **out, size_t *out_len)
{
    dance_cbor_buf b;

    dance_cbor_init(&b);
    dance_cbor_put_array(&b, 4);
    dance_cbor_put_tstr(&b, "Signature1");
    dance_cbor_put_bstr(&b, prot, prot_len);
    dance_cbor_put_bstr(&b, NULL, 0);
    dance_cbor_put_bstr(&b, payload, payload_len);
    return dance_cbor_take(&b, out, out_len);
}

/* ec_field_len - octets of r and s for an ECDSA alg, 0 for others. */
static size_t ec_field_len(int64_t alg)
{
    return alg == DANCE_COSE_ES256 ? 32 : alg == DANCE_COSE_ES384 ? 48 : 0;
}

/* md_init - set mctx up to sign or verify with alg and pkey. */
static int md_init(EVP_MD_CTX *mctx, int64_t alg, EVP_PKEY *pkey, int sign)
{
    const char *md = alg == DANCE_COSE_ES384   ? "SHA384"
                     : alg == DANCE_COSE_EDDSA ? NULL
                                               : "SHA256";
    EVP_PKEY_CTX *pctx = NULL;
    int r;

    if (sign)
        r = EVP_DigestSignInit_ex(mctx, &pctx, md, NULL, NULL, pkey, NULL);
    else
        r = EVP_DigestVerifyInit_ex(mctx, &pctx, md, NULL, NULL, pkey, NULL);
    if (r != 1)
        return 0;
    if (alg == DANCE_COSE_PS256 &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, 32) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md_name(pctx, "SHA256", NULL) != 1))
        return 0;
    return 1;
}

/* raw_sign - the COSE signature over tbs; *sig freed with free(). */
static int raw_sign(EVP_PKEY *pkey, int64_t alg, const uint8_t *tbs,
                    size_t tbs_len, uint8_t **sig, size_t *sig_len)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    unsigned char *der = NULL;
    const unsigned char *p;
    ECDSA_SIG *es = NULL;
    size_t der_len = 0, n = ec_field_len(alg);
    int ok = 0;

    *sig = NULL;
    if (mctx == NULL || !md_init(mctx, alg, pkey, 1) ||
        EVP_DigestSign(mctx, NULL, &der_len, tbs, tbs_len) != 1 ||
        (der = malloc(der_len)) == NULL ||
        EVP_DigestSign(mctx, der, &der_len, tbs, tbs_len) != 1)
        goto done;
    if (n == 0) { /* EdDSA, PSS: the signature as OpenSSL makes it */
        *sig = der;
        *sig_len = der_len;
        der = NULL;
        ok = 1;
        goto done;
    }
    p = der;
    es = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    if (es == NULL || (*sig = malloc(2 * n)) == NULL ||
        BN_bn2binpad(ECDSA_SIG_get0_r(es), *sig, (int)n) < 0 ||
        BN_bn2binpad(ECDSA_SIG_get0_s(es), *sig + n, (int)n) < 0)
        goto done;
    *sig_len = 2 * n;
    ok = 1;
done:
    if (!ok) {
        free(*sig);
        *sig = NULL;
    }
    ECDSA_SIG_free(es);
    free(der);
    EVP_MD_CTX_free(mctx);
    return ok;
}

/* raw_verify - 1 if sig is a valid COSE signature over tbs, 0 if not,
 * -1 on an internal error. */
static int raw_verify(EVP_PKEY *pkey, int64_t alg, const uint8_t *tbs,
                      size_t tbs_len, const uint8_t *sig, size_t sig_len)
{
    EVP_MD_CTX *mctx = EVP_MD_CTX_new();
    unsigned char *der = NULL;
    ECDSA_SIG *es = NULL;
    BIGNUM *r = NULL, *s = NULL;
    size_t n = ec_field_len(alg);
    int rc = -1, der_len;

    if (mctx == NULL || !md_init(mctx, alg, pkey, 0))
        goto done;
    if (n != 0) {
        if (sig_len != 2 * n) {
            rc = 0;
            goto done;
        }
        es = ECDSA_SIG_new();
        r = BN_bin2bn(sig, (int)n, NULL);
        s = BN_bin2bn(sig + n, (int)n, NULL);
        if (es == NULL || r == NULL || s == NULL || !ECDSA_SIG_set0(es, r, s))
            goto done;
        r = s = NULL; /* owned by es */
        der_len = i2d_ECDSA_SIG(es, &der);
        if (der_len <= 0)
            goto done;
        sig = der;
        sig_len = (size_t)der_len;
    }
    rc = EVP_DigestVerify(mctx, sig, sig_len, tbs, tbs_len) == 1 ? 1 : 0;
done:
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    OPENSSL_free(der);
    EVP_MD_CTX_free(mctx);
    return rc;
}

/* dance_cose_sign1_create - see dance_cose.h. */
dance_fw_status dance_cose_sign1_create(EVP_PKEY *pkey, const uint8_t *kid,
                                        size_t kid_len, const uint8_t *payload,
                                        size_t payload_len, int detached,
                                        uint8_t **out, size_t *out_len,
                                        char *err, size_t errlen)
{
    uint8_t *prot = NULL, *tbs = NULL, *sig = NULL;
    size_t prot_len, tbs_len, sig_len;
    dance_fw_status st;
    dance_cbor_buf b;
    int64_t alg;

    *out = NULL;
    *out_len = 0;
    dance_cbor_init(&b);
    st = dance_cose_alg_for_key(pkey, &alg, err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    dance_cbor_put_map(&b, kid != NULL ? 2 : 1);
    dance_cbor_put_uint(&b, 1);
    dance_cbor_put_int(&b, alg);
    if (kid != NULL) {
        dance_cbor_put_uint(&b, 4);
        dance_cbor_put_bstr(&b, kid, kid_len);
    }
    if (dance_cbor_take(&b, &prot, &prot_len) != 0 ||
        sig_structure(prot, prot_len, payload, payload_len, &tbs, &tbs_len) !=
            0) {
        st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "out of memory");
        goto err;
    }
    if (!raw_sign(pkey, alg, tbs, tbs_len, &sig, &sig_len)) {
        st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen,
                        "signing with the %s key failed (is it a "
                        "private key?)",
                        key_desc(pkey));
        goto err;
    }
    dance_cbor_put_tag(&b, DANCE_COSE_TAG_SIGN1);
    dance_cbor_put_array(&b, 4);
    dance_cbor_put_bstr(&b, prot, prot_len);
    dance_cbor_put_map(&b, 0);
    if (detached)
        dance_cbor_put_null(&b);
    else
        dance_cbor_put_bstr(&b, payload, payload_len);
    dance_cbor_put_bstr(&b, sig, sig_len);
    if (dance_cbor_take(&b, out, out_len) != 0) {
        st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "out of memory");
        goto err;
    }
    st = DANCE_FW_OK;
err:
    dance_cbor_reset(&b);
    free(prot);
    free(tbs);
    free(sig);
    return st;
}

/* dance_cose_sign1_free - see dance_cose.h. */
void dance_cose_sign1_free(dance_cose_sign1 *msg)
{
    if (msg == NULL)
        return;
    free(msg->protected_hdr);
    free(msg->kid);
    free(msg->payload);
    free(msg->sig);
    free(msg);
}

/* dup_bytes - a malloc'd copy of len octets (one octet for len 0). */
static uint8_t *dup_bytes(const uint8_t *p, size_t len)
{
    uint8_t *d = malloc(len ? len : 1);

    if (d != NULL && len > 0)
        memcpy(d, p, len);
    return d;
}

/* parse_headers - alg and kid from the protected bucket, sanity of the
 * unprotected one. */
static dance_fw_status parse_headers(dance_cose_sign1 *m,
                                     const cbor_item_t *unprot, char *err,
                                     size_t errlen)
{
    cbor_item_t *ph = NULL, *v;
    const uint8_t *kid;
    dance_fw_status st;

    if (m->protected_len == 0)
        return DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                          "COSE_Sign1: empty protected header (alg is "
                          "required there)");
    st = dance_cbor_decode(m->protected_hdr, m->protected_len,
                           "COSE protected header", &ph, err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    st = DANCE_FW_MALFORMED;
    if (!cbor_isa_map(ph) || dance_cbor_map_get(ph, 1, &v) != 0 || v == NULL ||
        dance_cbor_get_int(v, &m->alg) != 0) {
        dance_msg(err, errlen,
                  "COSE_Sign1: protected header has no integer alg "
                  "(or has it twice)");
        goto done;
    }
    if (dance_cbor_map_get(ph, 2, &v) != 0 || v != NULL) {
        st = DANCE_FAIL(DANCE_FW_UNSUPPORTED, err, errlen,
                        "COSE_Sign1: critical header parameters (crit) "
                        "are not supported");
        goto done;
    }
    if (dance_cbor_map_get(ph, 4, &v) != 0) {
        dance_msg(err, errlen, "COSE_Sign1: kid appears twice");
        goto done;
    }
    if (v != NULL) {
        if (dance_cbor_get_bstr(v, &kid, &m->kid_len) != 0) {
            dance_msg(err, errlen, "COSE_Sign1: kid is not a byte string");
            goto done;
        }
        m->kid = dup_bytes(kid, m->kid_len);
        if (m->kid == NULL) {
            st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "out of memory");
            goto done;
        }
    }
    if (!cbor_isa_map(unprot) || dance_cbor_map_get(unprot, 1, &v) != 0 ||
        v != NULL || dance_cbor_map_get(unprot, 2, &v) != 0 || v != NULL ||
        dance_cbor_map_get(unprot, 4, &v) != 0 ||
        (v != NULL && m->kid != NULL)) {
        dance_msg(err, errlen,
                  "COSE_Sign1: unprotected header is not a map, or "
                  "repeats alg, crit or kid");
        goto done;
    }
    st = DANCE_FW_OK;
done:
    cbor_decref(&ph);
    return st;
}

/* dance_cose_sign1_decode - see dance_cose.h. */
dance_fw_status dance_cose_sign1_decode(const uint8_t *buf, size_t len,
                                        dance_cose_sign1 **out, char *err,
                                        size_t errlen)
{
    cbor_item_t *top = NULL, *arr, **el;
    dance_cose_sign1 *m = NULL;
    const uint8_t *p, *s;
    size_t plen, slen;
    dance_fw_status st;

    *out = NULL;
    dance_cbor_skip_tag(&buf, &len, DANCE_COSE_TAG_SIGN1);
    st = dance_cbor_decode(buf, len, "COSE_Sign1", &top, err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    st = DANCE_FW_MALFORMED;
    arr = dance_cbor_untag(top, DANCE_COSE_TAG_SIGN1);
    if (arr == NULL || !cbor_isa_array(arr) || cbor_array_size(arr) != 4) {
        dance_msg(err, errlen,
                  "COSE_Sign1: not a 4-element array (tag 18 or none)");
        goto err;
    }
    el = cbor_array_handle(arr);
    m = calloc(1, sizeof(*m));
    if (m == NULL) {
        st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "out of memory");
        goto err;
    }
    if (dance_cbor_get_bstr(el[0], &p, &plen) != 0 ||
        dance_cbor_get_bstr(el[3], &s, &slen) != 0) {
        dance_msg(err, errlen,
                  "COSE_Sign1: protected header or signature is not a "
                  "byte string");
        goto err;
    }
    m->protected_hdr = dup_bytes(p, plen);
    m->protected_len = plen;
    m->sig = dup_bytes(s, slen);
    m->sig_len = slen;
    if (dance_cbor_get_bstr(el[2], &p, &plen) == 0) {
        m->payload = dup_bytes(p, plen);
        m->payload_len = plen;
        if (m->payload == NULL)
            goto oom;
    } else if (!dance_cbor_is_null(el[2])) {
        dance_msg(err, errlen,
                  "COSE_Sign1: payload is neither a byte string nor nil");
        goto err;
    }
    if (m->protected_hdr == NULL || m->sig == NULL)
        goto oom;
    st = parse_headers(m, el[1], err, errlen);
    if (st != DANCE_FW_OK)
        goto err;
    cbor_decref(&top);
    *out = m;
    return DANCE_FW_OK;

oom:
    st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "out of memory");
err:
    dance_cose_sign1_free(m);
    cbor_decref(&top);
    return st;
}

/* dance_cose_sign1_alg - see dance_cose.h. */
int64_t dance_cose_sign1_alg(const dance_cose_sign1 *msg)
{
    return msg->alg;
}

/* dance_cose_sign1_get0_kid - see dance_cose.h. */
const uint8_t *dance_cose_sign1_get0_kid(const dance_cose_sign1 *msg,
                                         size_t *len)
{
    *len = msg->kid_len;
    return msg->kid;
}

/* dance_cose_sign1_get0_payload - see dance_cose.h. */
const uint8_t *dance_cose_sign1_get0_payload(const dance_cose_sign1 *msg,
                                             size_t *len)
{
    *len = msg->payload_len;
    return msg->payload;
}

/* dance_cose_sign1_verify - see dance_cose.h. */
dance_fw_status dance_cose_sign1_verify(const dance_cose_sign1 *msg,
                                        EVP_PKEY *pkey, const uint8_t *detached,
                                        size_t detached_len, char *err,
                                        size_t errlen)
{
    const uint8_t *payload = msg->payload;
    size_t payload_len = msg->payload_len, tbs_len;
    uint8_t *tbs = NULL;
    dance_fw_status st;
    int r;

    st = dance_cose_check_alg_key(msg->alg, pkey, err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    if ((payload == NULL) == (detached == NULL))
        return DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen, "COSE_Sign1: %s",
                          payload == NULL
                              ? "payload is detached but none was given"
                              : "payload is attached, a detached one "
                                "was expected");
    if (payload == NULL) {
        payload = detached;
        payload_len = detached_len;
    }
    if (sig_structure(msg->protected_hdr, msg->protected_len, payload,
                      payload_len, &tbs, &tbs_len) != 0)
        return DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "out of memory");
    r = raw_verify(pkey, msg->alg, tbs, tbs_len, msg->sig, msg->sig_len);
    free(tbs);
    if (r < 0)
        return DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen,
                          "OpenSSL cannot verify with the %s key",
                          key_desc(pkey));
    if (r == 0)
        return DANCE_FAIL(DANCE_FW_BAD_SIGNATURE, err, errlen,
                          "the %s signature does not verify with the %s "
                          "key",
                          dance_cose_alg_name(msg->alg), key_desc(pkey));
    return DANCE_FW_OK;
}
