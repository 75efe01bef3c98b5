/*
 * dance_ipseckey.c - IPSECKEY RDATA <-> public keys, and fetching a key
 * through DNSSEC (see dance_ipseckey.h for the encodings).
 */
#include <stdio.h>
#include <string.h>

#include <ldns/ldns.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "dance_ipseckey.h"
#include "dance_msg.h"

#define RSA_MIN_BITS 2048
#define RSA_MAX_BITS 16384

/* dance_ipseckey_status_str - see dance_ipseckey.h. */
const char *dance_ipseckey_status_str(dance_ipseckey_status st)
{
    switch (st) {
    case DANCE_IPSECKEY_OK:
        return "ok";
    case DANCE_IPSECKEY_MALFORMED:
        return "malformed";
    case DANCE_IPSECKEY_UNSUPPORTED:
        return "unsupported";
    case DANCE_IPSECKEY_DNS:
        return "dns";
    case DANCE_IPSECKEY_INTERNAL:
        return "internal";
    }
    return "unknown";
}

/* dance_ipseckey_parse - see dance_ipseckey.h. */
dance_ipseckey_status dance_ipseckey_parse(const uint8_t *rdata, size_t len,
                                           dance_ipseckey *out, char *err,
                                           size_t errlen)
{
    memset(out, 0, sizeof(*out));
    if (rdata == NULL || len < 3)
        return DANCE_FAIL(DANCE_IPSECKEY_MALFORMED, err, errlen,
                          "IPSECKEY RDATA too short (%zu octets)", len);
    out->precedence = rdata[0];
    out->gateway_type = rdata[1];
    out->algorithm = rdata[2];
    if (out->gateway_type != 0)
        return DANCE_FAIL(DANCE_IPSECKEY_UNSUPPORTED, err, errlen,
                          "IPSECKEY gateway type %u (only 0, no gateway, is "
                          "accepted for signing keys)",
                          out->gateway_type);
    out->key = rdata + 3;
    out->key_len = len - 3;
    if (out->key_len == 0)
        return DANCE_FAIL(DANCE_IPSECKEY_MALFORMED, err, errlen,
                          "IPSECKEY record has no public key");
    return DANCE_IPSECKEY_OK;
}

/* pkey_fromdata - build a public EVP_PKEY of type name from params. */
static EVP_PKEY *pkey_fromdata(OSSL_LIB_CTX *libctx, const char *name,
                               OSSL_PARAM *params)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(libctx, name, NULL);
    EVP_PKEY *pkey = NULL;

    if (ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

/* public_check - 1 if OpenSSL's public-key check accepts pkey. */
static int public_check(OSSL_LIB_CTX *libctx, EVP_PKEY *pkey)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(libctx, pkey, NULL);
    int ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;

    EVP_PKEY_CTX_free(ctx);
    return ok;
}

/* rsa_to_pkey - an RSA key from its RFC 3110 encoding. */
static dance_ipseckey_status rsa_to_pkey(OSSL_LIB_CTX *libctx, const uint8_t *k,
                                         size_t len, EVP_PKEY **out, char *err,
                                         size_t errlen)
{
    dance_ipseckey_status st = DANCE_IPSECKEY_INTERNAL;
    OSSL_PARAM_BLD *bld = NULL;
    OSSL_PARAM *params = NULL;
    BIGNUM *n = NULL, *e = NULL;
    size_t elen, off;
    int bits;

    if (len < 1)
        goto malformed;
    elen = k[0];
    off = 1;
    if (elen == 0) {
        if (len < 3)
            goto malformed;
        elen = ((size_t)k[1] << 8) | k[2];
        off = 3;
    }
    if (elen == 0 || elen > 64 || len - off <= elen || k[off] == 0)
        goto malformed;
    if (k[off + elen] == 0) /* modulus with a leading zero octet */
        goto malformed;
    e = BN_bin2bn(k + off, (int)elen, NULL);
    n = BN_bin2bn(k + off + elen, (int)(len - off - elen), NULL);
    if (e == NULL || n == NULL)
        goto err;
    bits = BN_num_bits(n);
    if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) {
        st = DANCE_FAIL(DANCE_IPSECKEY_UNSUPPORTED, err, errlen,
                        "RSA modulus of %d bits (accepted: %d..%d)", bits,
                        RSA_MIN_BITS, RSA_MAX_BITS);
        goto done;
    }
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
        goto err;
    params = OSSL_PARAM_BLD_to_param(bld);
    if (params == NULL)
        goto err;
    *out = pkey_fromdata(libctx, "RSA", params);
    if (*out == NULL)
        goto err;
    st = DANCE_IPSECKEY_OK;
    goto done;

malformed:
    st = DANCE_FAIL(DANCE_IPSECKEY_MALFORMED, err, errlen,
                    "RSA key (RFC 3110) malformed: bad exponent or modulus "
                    "length in %zu octets",
                    len);
    goto done;
err:
    st = DANCE_FAIL(DANCE_IPSECKEY_INTERNAL, err, errlen,
                    "cannot build the RSA key (OpenSSL error)");
done:
    OSSL_PARAM_free(params);
    OSSL_PARAM_BLD_free(bld);
    BN_free(n);
    BN_free(e);
    return st;
}

/* ec_to_pkey - an ECDSA key from raw x || y on the curve its length fixes. */
static dance_ipseckey_status ec_to_pkey(OSSL_LIB_CTX *libctx, const uint8_t *k,
                                        size_t len, const char *curve,
                                        EVP_PKEY **out, char *err,
                                        size_t errlen)
{
    unsigned char point[1 + 96];
    const char *group;
    OSSL_PARAM params[3];

    if (len == 64) {
        group = "P-256";
    } else if (len == 96) {
        group = "P-384";
    } else {
        return DANCE_FAIL(
            DANCE_IPSECKEY_UNSUPPORTED, err, errlen,
            "ECDSA key of %zu octets (64 for P-256, 96 for P-384)", len);
    }
    if (curve != NULL && strcmp(curve, group) != 0)
        return DANCE_FAIL(
            DANCE_IPSECKEY_UNSUPPORTED, err, errlen,
            "the record holds a %s key, but curve %s was asked for", group,
            curve);
    point[0] = 0x04; /* uncompressed point */
    memcpy(point + 1, k, len);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
                                                 (char *)group, 0);
    params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
                                                  point, len + 1);
    params[2] = OSSL_PARAM_construct_end();
    *out = pkey_fromdata(libctx, "EC", params);
    if (*out == NULL)
        return DANCE_FAIL(DANCE_IPSECKEY_MALFORMED, err, errlen,
                          "ECDSA key is not a point on %s", group);
    return DANCE_IPSECKEY_OK;
}

/* dance_ipseckey_to_pkey - see dance_ipseckey.h. */
dance_ipseckey_status dance_ipseckey_to_pkey(OSSL_LIB_CTX *libctx,
                                             const dance_ipseckey *k,
                                             const char *curve, EVP_PKEY **out,
                                             char *err, size_t errlen)
{
    dance_ipseckey_status st;
    const char *name;

    *out = NULL;
    if (curve != NULL && k->algorithm != DANCE_IPSECKEY_ALG_ECDSA)
        return DANCE_FAIL(DANCE_IPSECKEY_UNSUPPORTED, err, errlen,
                          "curve %s asked for, but the record holds an "
                          "algorithm %u (not ECDSA) key",
                          curve, k->algorithm);
    switch (k->algorithm) {
    case DANCE_IPSECKEY_ALG_RSA:
        st = rsa_to_pkey(libctx, k->key, k->key_len, out, err, errlen);
        break;
    case DANCE_IPSECKEY_ALG_ECDSA:
        st = ec_to_pkey(libctx, k->key, k->key_len, curve, out, err, errlen);
        break;
    case DANCE_IPSECKEY_ALG_EDDSA:
        if (k->key_len == 32)
            name = "ED25519";
        else if (k->key_len == 57)
            name = "ED448";
        else
            return DANCE_FAIL(DANCE_IPSECKEY_UNSUPPORTED, err, errlen,
                              "EdDSA key of %zu octets (32 for Ed25519, 57 for "
                              "Ed448)",
                              k->key_len);
        *out = EVP_PKEY_new_raw_public_key_ex(libctx, name, NULL, k->key,
                                              k->key_len);
        if (*out == NULL)
            return DANCE_FAIL(DANCE_IPSECKEY_MALFORMED, err, errlen,
                              "cannot use the %s key", name);
        st = DANCE_IPSECKEY_OK;
        break;
    default:
        return DANCE_FAIL(DANCE_IPSECKEY_UNSUPPORTED, err, errlen,
                          "IPSECKEY algorithm %u (supported: 2 RSA, 3 ECDSA, "
                          "4 EdDSA)",
                          k->algorithm);
    }
    if (st == DANCE_IPSECKEY_OK && k->algorithm != DANCE_IPSECKEY_ALG_EDDSA &&
        !public_check(libctx, *out)) {
        EVP_PKEY_free(*out);
        *out = NULL;
        st = DANCE_FAIL(DANCE_IPSECKEY_MALFORMED, err, errlen,
                        "OpenSSL's public-key check rejects the key");
    }
    return st;
}

/* bn_param_bin - a BIGNUM key parameter as big-endian octets, padded to
 * pad octets (0: minimal); *out is allocated, the caller frees it. */
static int bn_param_bin(const EVP_PKEY *pkey, const char *param, size_t pad,
                        uint8_t **out, size_t *len)
{
    BIGNUM *bn = NULL;
    int n, ok = 0;

    if (!EVP_PKEY_get_bn_param(pkey, param, &bn))
        return 0;
    n = BN_num_bytes(bn);
    if (pad == 0)
        pad = (size_t)n;
    if ((size_t)n > pad || pad == 0)
        goto done;
    *out = OPENSSL_malloc(pad);
    if (*out == NULL || BN_bn2binpad(bn, *out, (int)pad) < 0)
        goto done;
    *len = pad;
    ok = 1;
done:
    if (!ok) {
        OPENSSL_free(*out);
        *out = NULL;
    }
    BN_free(bn);
    return ok;
}

/* dance_ipseckey_from_pkey - see dance_ipseckey.h. */
dance_ipseckey_status dance_ipseckey_from_pkey(const EVP_PKEY *pkey,
                                               uint8_t *alg, uint8_t **key,
                                               size_t *key_len, char *err,
                                               size_t errlen)
{
    uint8_t *a = NULL, *b = NULL;
    size_t alen = 0, blen = 0, fsize, off;
    char group[32];

    *key = NULL;
    *key_len = 0;
    if (EVP_PKEY_is_a(pkey, "ED25519") || EVP_PKEY_is_a(pkey, "ED448")) {
        *alg = DANCE_IPSECKEY_ALG_EDDSA;
        if (EVP_PKEY_get_raw_public_key(pkey, NULL, &alen) != 1 ||
            (*key = OPENSSL_malloc(alen)) == NULL ||
            EVP_PKEY_get_raw_public_key(pkey, *key, &alen) != 1)
            goto err;
        *key_len = alen;
        return DANCE_IPSECKEY_OK;
    }
    if (EVP_PKEY_is_a(pkey, "EC")) {
        *alg = DANCE_IPSECKEY_ALG_ECDSA;
        if (!EVP_PKEY_get_group_name(pkey, group, sizeof(group), NULL))
            goto err;
        if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0)
            fsize = 32;
        else if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0)
            fsize = 48;
        else
            return DANCE_FAIL(DANCE_IPSECKEY_UNSUPPORTED, err, errlen,
                              "EC key on curve %s (supported: P-256, P-384)",
                              group);
        if (!bn_param_bin(pkey, OSSL_PKEY_PARAM_EC_PUB_X, fsize, &a, &alen) ||
            !bn_param_bin(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, fsize, &b, &blen) ||
            (*key = OPENSSL_malloc(2 * fsize)) == NULL)
            goto err;
        memcpy(*key, a, fsize);
        memcpy(*key + fsize, b, fsize);
        *key_len = 2 * fsize;
        goto ok;
    }
    if (EVP_PKEY_is_a(pkey, "RSA")) {
        *alg = DANCE_IPSECKEY_ALG_RSA;
        if (EVP_PKEY_get_bits(pkey) < RSA_MIN_BITS ||
            EVP_PKEY_get_bits(pkey) > RSA_MAX_BITS)
            return DANCE_FAIL(DANCE_IPSECKEY_UNSUPPORTED, err, errlen,
                              "RSA key of %d bits (accepted: %d..%d)",
                              EVP_PKEY_get_bits(pkey), RSA_MIN_BITS,
                              RSA_MAX_BITS);
        if (!bn_param_bin(pkey, OSSL_PKEY_PARAM_RSA_E, 0, &a, &alen) ||
            !bn_param_bin(pkey, OSSL_PKEY_PARAM_RSA_N, 0, &b, &blen) ||
            alen > 0xffff)
            goto err;
        off = alen <= 255 ? 1 : 3;
        *key = OPENSSL_malloc(off + alen + blen);
        if (*key == NULL)
            goto err;
        if (off == 1) {
            (*key)[0] = (uint8_t)alen;
        } else {
            (*key)[0] = 0;
            (*key)[1] = (uint8_t)(alen >> 8);
            (*key)[2] = (uint8_t)alen;
        }
        memcpy(*key + off, a, alen);
        memcpy(*key + off + alen, b, blen);
        *key_len = off + alen + blen;
        goto ok;
    }
    return DANCE_FAIL(
        DANCE_IPSECKEY_UNSUPPORTED, err, errlen,
        "key type %s (supported: Ed25519, Ed448, ECDSA P-256/P-384, "
        "RSA)",
        EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "?");
ok:
    OPENSSL_free(a);
    OPENSSL_free(b);
    return DANCE_IPSECKEY_OK;
err:
    OPENSSL_free(a);
    OPENSSL_free(b);
    OPENSSL_free(*key);
    *key = NULL;
    *key_len = 0;
    return DANCE_FAIL(DANCE_IPSECKEY_INTERNAL, err, errlen,
                      "cannot read the public key (OpenSSL error)");
}

/* dance_ipseckey_record - see dance_ipseckey.h. */
dance_ipseckey_status dance_ipseckey_record(const char *owner,
                                            unsigned precedence,
                                            const EVP_PKEY *pkey, char **line,
                                            char *err, size_t errlen)
{
    dance_ipseckey_status st;
    uint8_t alg, *key = NULL;
    size_t key_len, b64len, n;
    unsigned char *b64 = NULL;

    *line = NULL;
    if (precedence > 255)
        return DANCE_FAIL(DANCE_IPSECKEY_UNSUPPORTED, err, errlen,
                          "precedence %u is not in 0..255", precedence);
    st = dance_ipseckey_from_pkey(pkey, &alg, &key, &key_len, err, errlen);
    if (st != DANCE_IPSECKEY_OK)
        return st;
    b64len = 4 * ((key_len + 2) / 3) + 1;
    b64 = OPENSSL_malloc(b64len);
    n = strlen(owner) + b64len + 64;
    *line = OPENSSL_malloc(n);
    if (b64 == NULL || *line == NULL) {
        st = DANCE_FAIL(DANCE_IPSECKEY_INTERNAL, err, errlen, "out of memory");
        goto err;
    }
    EVP_EncodeBlock(b64, key, (int)key_len);
    snprintf(*line, n, "%s IN IPSECKEY %u 0 %u . %s", owner, precedence, alg,
             (const char *)b64);
    OPENSSL_free(b64);
    OPENSSL_free(key);
    return DANCE_IPSECKEY_OK;

err:
    OPENSSL_free(*line);
    *line = NULL;
    OPENSSL_free(b64);
    OPENSSL_free(key);
    return st;
}

/* dname_str - rdf as a lower-case name without the trailing dot; the caller
 * frees it with OPENSSL_free. */
static char *dname_str(const ldns_rdf *rdf)
{
    ldns_rdf *canon = ldns_rdf_clone(rdf);
    char *s = NULL, *out = NULL;
    size_t n;

    if (canon == NULL)
        return NULL;
    ldns_dname2canonical(canon);
    s = ldns_rdf2str(canon);
    if (s != NULL) {
        n = strlen(s);
        if (n > 1 && s[n - 1] == '.')
            s[n - 1] = '\0';
        out = OPENSSL_strdup(s);
    }
    free(s);
    ldns_rdf_deep_free(canon);
    return out;
}

/* lookup_cname - step 1 of dance_ipseckey_fetch: *target is name's CNAME
 * target, or a copy of name when it provably has none. */
static dance_ipseckey_status lookup_cname(dance_res *res, const char *name,
                                          time_t now, char **target, char *err,
                                          size_t errlen)
{
    dance_res_result *r = dance_res_lookup(res, name, LDNS_RR_TYPE_CNAME, now);
    ldns_rr_list *rrs = NULL;
    ldns_rdf *owner = NULL;
    dance_ipseckey_status st;
    dance_res_status s;

    *target = NULL;
    if (r == NULL)
        return DANCE_FAIL(DANCE_IPSECKEY_INTERNAL, err, errlen,
                          "out of memory");
    s = dance_res_result_status(r);
    if (s == DANCE_RES_SECURE) {
        rrs = dance_res_result_get1_rrset(r);
        if (rrs == NULL || ldns_rr_list_rr_count(rrs) != 1 ||
            ldns_rr_get_type(ldns_rr_list_rr(rrs, 0)) != LDNS_RR_TYPE_CNAME ||
            ldns_rr_rd_count(ldns_rr_list_rr(rrs, 0)) != 1) {
            st = DANCE_FAIL(
                DANCE_IPSECKEY_DNS, err, errlen,
                "CNAME lookup of %s: secure, but not one CNAME record", name);
            goto done;
        }
        *target = dname_str(ldns_rr_rdf(ldns_rr_list_rr(rrs, 0), 0));
    } else if (s == DANCE_RES_SECURE_NODATA) {
        if (ldns_str2rdf_dname(&owner, name) == LDNS_STATUS_OK)
            *target = dname_str(owner);
        ldns_rdf_deep_free(owner);
    } else {
        st = DANCE_FAIL(
            DANCE_IPSECKEY_DNS, err, errlen,
            "CNAME lookup of %s: %s (%s); both the alias and the key "
            "record must be DNSSEC-secure",
            name, dance_res_status_str(s), dance_res_result_get0_why(r));
        goto done;
    }
    st = *target != NULL ? DANCE_IPSECKEY_OK
                         : DANCE_FAIL(DANCE_IPSECKEY_INTERNAL, err, errlen,
                                      "out of memory");
done:
    ldns_rr_list_deep_free(rrs);
    dance_res_result_free(r);
    return st;
}

/* lookup_key - step 2 of dance_ipseckey_fetch: the one IPSECKEY at name. */
static dance_ipseckey_status lookup_key(dance_res *res, const char *name,
                                        time_t now, OSSL_LIB_CTX *libctx,
                                        const char *curve, EVP_PKEY **pkey,
                                        char *err, size_t errlen)
{
    dance_res_result *r;
    ldns_rr_list *rrs = NULL;
    ldns_buffer *buf = NULL;
    ldns_rr *rr = NULL;
    ldns_rdf *want = NULL;
    dance_ipseckey k;
    dance_ipseckey_status st;
    char why[256];
    size_t i, count = 0;

    r = dance_res_lookup(res, name, LDNS_RR_TYPE_IPSECKEY, now);
    if (r == NULL)
        return DANCE_FAIL(DANCE_IPSECKEY_INTERNAL, err, errlen,
                          "out of memory");
    if (dance_res_result_status(r) != DANCE_RES_SECURE) {
        st = DANCE_FAIL(DANCE_IPSECKEY_DNS, err, errlen,
                        "IPSECKEY lookup of %s: %s (%s)", name,
                        dance_res_status_str(dance_res_result_status(r)),
                        dance_res_result_get0_why(r));
        goto done;
    }
    rrs = dance_res_result_get1_rrset(r);
    for (i = 0; rrs != NULL && i < ldns_rr_list_rr_count(rrs); i++) {
        if (ldns_rr_get_type(ldns_rr_list_rr(rrs, i)) ==
            LDNS_RR_TYPE_IPSECKEY) {
            rr = ldns_rr_list_rr(rrs, i);
            count++;
        }
    }
    if (count != 1) {
        st = DANCE_FAIL(
            DANCE_IPSECKEY_DNS, err, errlen,
            "IPSECKEY lookup of %s: secure, but %zu records (a key id "
            "must name exactly one key)",
            name, count);
        goto done;
    }
    if (ldns_str2rdf_dname(&want, name) != LDNS_STATUS_OK ||
        ldns_dname_compare(want, ldns_rr_owner(rr)) != 0) {
        st =
            DANCE_FAIL(DANCE_IPSECKEY_DNS, err, errlen,
                       "IPSECKEY lookup of %s: the key is held by another name "
                       "(an alias of an alias is not accepted)",
                       name);
        goto done;
    }
    buf = ldns_buffer_new(512);
    if (buf == NULL || ldns_rr_rdata2buffer_wire(buf, rr) != LDNS_STATUS_OK) {
        st = DANCE_FAIL(DANCE_IPSECKEY_INTERNAL, err, errlen, "out of memory");
        goto done;
    }
    st = dance_ipseckey_parse(ldns_buffer_begin(buf), ldns_buffer_position(buf),
                              &k, why, sizeof(why));
    if (st == DANCE_IPSECKEY_OK)
        st = dance_ipseckey_to_pkey(libctx, &k, curve, pkey, why, sizeof(why));
    if (st != DANCE_IPSECKEY_OK)
        dance_msg(err, errlen, "IPSECKEY record of %s: %s", name, why);
done:
    ldns_rdf_deep_free(want);
    ldns_buffer_free(buf);
    ldns_rr_list_deep_free(rrs);
    dance_res_result_free(r);
    return st;
}

/* dance_ipseckey_fetch - see dance_ipseckey.h. */
dance_ipseckey_status dance_ipseckey_fetch(dance_res *res, const char *name,
                                           time_t now, OSSL_LIB_CTX *libctx,
                                           const char *curve, EVP_PKEY **pkey,
                                           char **target, char *err,
                                           size_t errlen)
{
    dance_ipseckey_status st;
    ldns_rdf *check = NULL;
    char *t = NULL;

    *pkey = NULL;
    if (target != NULL)
        *target = NULL;
    if (ldns_str2rdf_dname(&check, name) != LDNS_STATUS_OK)
        return DANCE_FAIL(DANCE_IPSECKEY_MALFORMED, err, errlen,
                          "'%s' is not a valid domain name", name);
    ldns_rdf_deep_free(check);
    st = lookup_cname(res, name, now, &t, err, errlen);
    if (st != DANCE_IPSECKEY_OK)
        return st;
    st = lookup_key(res, t, now, libctx, curve, pkey, err, errlen);
    if (st == DANCE_IPSECKEY_OK && target != NULL) {
        *target = t;
        t = NULL;
    }
    OPENSSL_free(t);
    return st;
}
