/*
 * dance_rollover.c - vendor key rollover manifests and their update-server
 * extension (see dance_rollover.h).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "dance_cbor.h"
#include "dance_msg.h"
#include "dance_cose.h"
#include "dance_rollover.h"

enum {
    RO_APP_ID = 1,
    RO_VERSION = 2,
    RO_NEW_KID = 3,
    RO_NEW_ALG = 4,
    RO_NEW_KEY = 5,
    RO_OLD_KID = 6,
    RO_OLD_ALG = 7,
    EXT_VENDOR = 1,
    EXT_NONCE = 2
};

#define MAX_APP_ID 255

/* dance_rollover_info_clear - see dance_rollover.h. */
void dance_rollover_info_clear(dance_rollover_info *info)
{
    free(info->app_id);
    free(info->new_kid);
    free(info->new_spki);
    free(info->old_kid);
    memset(info, 0, sizeof(*info));
}

/* app_id_ok - 1 if s (len octets) is 1..255 printable ASCII characters. */
static int app_id_ok(const char *s, size_t len)
{
    size_t i;

    if (len == 0 || len > MAX_APP_ID)
        return 0;
    for (i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

/* dance_rollover_create - see dance_rollover.h. */
dance_fw_status dance_rollover_create(const char *app_id, uint64_t version,
                                      const char *new_kid,
                                      const EVP_PKEY *new_pub,
                                      const char *old_kid, EVP_PKEY *old_priv,
                                      uint8_t **out, size_t *out_len, char *err,
                                      size_t errlen)
{
    unsigned char *spki = NULL;
    uint8_t *payload = NULL;
    size_t payload_len;
    int64_t new_alg, old_alg;
    int spki_len;
    dance_fw_status st;
    dance_cbor_buf b;

    *out = NULL;
    if (!app_id_ok(app_id, strlen(app_id)))
        return DANCE_FAIL(DANCE_FW_UNSUPPORTED, err, errlen,
                          "app id must be 1..%d printable characters",
                          MAX_APP_ID);
    if (!dance_fw_kid_valid((const uint8_t *)new_kid, strlen(new_kid)) ||
        !dance_fw_kid_valid((const uint8_t *)old_kid, strlen(old_kid)))
        return DANCE_FAIL(DANCE_FW_UNSUPPORTED, err, errlen,
                          "key ids must be DNS labels (1..63 of a-z A-Z "
                          "0-9 - _)");
    st = dance_cose_alg_for_key(new_pub, &new_alg, err, errlen);
    if (st == DANCE_FW_OK)
        st = dance_cose_alg_for_key(old_priv, &old_alg, err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    spki_len = i2d_PUBKEY(new_pub, &spki);
    if (spki_len <= 0)
        return DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen,
                          "cannot encode the new public key");
    dance_cbor_init(&b);
    dance_cbor_put_map(&b, 7);
    dance_cbor_put_uint(&b, RO_APP_ID);
    dance_cbor_put_tstr(&b, app_id);
    dance_cbor_put_uint(&b, RO_VERSION);
    dance_cbor_put_uint(&b, version);
    dance_cbor_put_uint(&b, RO_NEW_KID);
    dance_cbor_put_tstr(&b, new_kid);
    dance_cbor_put_uint(&b, RO_NEW_ALG);
    dance_cbor_put_int(&b, new_alg);
    dance_cbor_put_uint(&b, RO_NEW_KEY);
    dance_cbor_put_bstr(&b, spki, (size_t)spki_len);
    dance_cbor_put_uint(&b, RO_OLD_KID);
    dance_cbor_put_tstr(&b, old_kid);
    dance_cbor_put_uint(&b, RO_OLD_ALG);
    dance_cbor_put_int(&b, old_alg);
    if (dance_cbor_take(&b, &payload, &payload_len) != 0) {
        st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "out of memory");
        goto done;
    }
    st = dance_cose_sign1_create(old_priv, (const uint8_t *)old_kid,
                                 strlen(old_kid), payload, payload_len, 0, out,
                                 out_len, err, errlen);
done:
    OPENSSL_free(spki);
    free(payload);
    return st;
}

/* get_text - a NUL-terminated copy of the text under key; kid: it must be
 * a key id, else printable.  0, or -1 if absent or bad (or no memory). */
static int get_text(const cbor_item_t *map, int64_t key, int kid, char **out)
{
    cbor_item_t *v;
    const char *s;
    size_t n;

    *out = NULL;
    if (dance_cbor_map_get(map, key, &v) != 0 ||
        dance_cbor_get_tstr(v, &s, &n) != 0)
        return -1;
    if (kid ? !dance_fw_kid_valid((const uint8_t *)s, n) : !app_id_ok(s, n))
        return -1;
    *out = strndup(s, n);
    return *out != NULL ? 0 : -1;
}

/* parse_payload - the Table I map into info. */
static dance_fw_status parse_payload(const uint8_t *buf, size_t len,
                                     dance_rollover_info *info, char *err,
                                     size_t errlen)
{
    cbor_item_t *map = NULL, *v;
    const uint8_t *p;
    dance_fw_status st;

    st = dance_cbor_decode(buf, len, "rollover manifest", &map, err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    st = DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                    "rollover manifest: not a map with 1: app-id, "
                    "2: version, 3: new kid, 4: new alg, 5: new key "
                    "(SPKI), 6: old kid, 7: old alg");
    if (!cbor_isa_map(map) || get_text(map, RO_APP_ID, 0, &info->app_id) ||
        get_text(map, RO_NEW_KID, 1, &info->new_kid) ||
        get_text(map, RO_OLD_KID, 1, &info->old_kid))
        goto done;
    if (dance_cbor_map_get(map, RO_VERSION, &v) != 0 ||
        dance_cbor_get_uint(v, &info->version) != 0 ||
        dance_cbor_map_get(map, RO_NEW_ALG, &v) != 0 ||
        dance_cbor_get_int(v, &info->new_alg) != 0 ||
        dance_cbor_map_get(map, RO_OLD_ALG, &v) != 0 ||
        dance_cbor_get_int(v, &info->old_alg) != 0 ||
        dance_cbor_map_get(map, RO_NEW_KEY, &v) != 0 ||
        dance_cbor_get_bstr(v, &p, &info->new_spki_len) != 0 ||
        info->new_spki_len == 0)
        goto done;
    info->new_spki = malloc(info->new_spki_len);
    if (info->new_spki == NULL) {
        st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "out of memory");
        goto done;
    }
    memcpy(info->new_spki, p, info->new_spki_len);
    st = DANCE_FW_OK;
done:
    cbor_decref(&map);
    return st;
}

/* decode_vendor - the vendor COSE_Sign1 (*msg, caller frees), info and
 * new key, with the consistency checks of dance_rollover_decode. */
static dance_fw_status decode_vendor(const uint8_t *buf, size_t len,
                                     dance_cose_sign1 **msg,
                                     dance_rollover_info *info,
                                     EVP_PKEY **new_key, char *err,
                                     size_t errlen)
{
    const uint8_t *payload, *kid, *p;
    size_t payload_len, kid_len;
    EVP_PKEY *nk = NULL;
    dance_fw_status st;

    memset(info, 0, sizeof(*info));
    if (new_key != NULL)
        *new_key = NULL;
    st = dance_cose_sign1_decode(buf, len, msg, err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    payload = dance_cose_sign1_get0_payload(*msg, &payload_len);
    if (payload == NULL) {
        st = DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                        "rollover manifest: the payload is detached");
        goto err;
    }
    st = parse_payload(payload, payload_len, info, err, errlen);
    if (st != DANCE_FW_OK)
        goto err;
    kid = dance_cose_sign1_get0_kid(*msg, &kid_len);
    if (kid == NULL || kid_len != strlen(info->old_kid) ||
        memcmp(kid, info->old_kid, kid_len) != 0 ||
        dance_cose_sign1_alg(*msg) != info->old_alg) {
        st = DANCE_FAIL(DANCE_FW_KEY_MISMATCH, err, errlen,
                        "rollover manifest: the signature's kid and alg "
                        "are not the old key id and algorithm (%s)",
                        info->old_kid);
        goto err;
    }
    p = info->new_spki;
    nk = d2i_PUBKEY(NULL, &p, (long)info->new_spki_len);
    if (nk == NULL || p != info->new_spki + info->new_spki_len) {
        st = DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                        "rollover manifest: the new public key is not "
                        "SubjectPublicKeyInfo DER");
        goto err;
    }
    st = dance_cose_check_alg_key(info->new_alg, nk, err, errlen);
    if (st != DANCE_FW_OK)
        goto err;
    if (new_key != NULL)
        *new_key = nk;
    else
        EVP_PKEY_free(nk);
    return DANCE_FW_OK;

err:
    EVP_PKEY_free(nk);
    dance_cose_sign1_free(*msg);
    *msg = NULL;
    dance_rollover_info_clear(info);
    return st;
}

/* dance_rollover_decode - see dance_rollover.h. */
dance_fw_status dance_rollover_decode(const uint8_t *buf, size_t len,
                                      dance_rollover_info *info,
                                      EVP_PKEY **new_key, char *err,
                                      size_t errlen)
{
    dance_cose_sign1 *msg = NULL;
    dance_fw_status st;

    st = decode_vendor(buf, len, &msg, info, new_key, err, errlen);
    dance_cose_sign1_free(msg);
    return st;
}

/* dance_rollover_verify_vendor - see dance_rollover.h. */
dance_fw_status dance_rollover_verify_vendor(const uint8_t *buf, size_t len,
                                             EVP_PKEY *old_pub,
                                             dance_rollover_info *info,
                                             EVP_PKEY **new_key, char *err,
                                             size_t errlen)
{
    dance_cose_sign1 *msg = NULL;
    dance_fw_status st;
    char why[256];

    st = decode_vendor(buf, len, &msg, info, new_key, err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    st = dance_cose_sign1_verify(msg, old_pub, NULL, 0, why, sizeof(why));
    dance_cose_sign1_free(msg);
    if (st == DANCE_FW_OK)
        return DANCE_FW_OK;
    dance_msg(err, errlen, "vendor signature (old key %s): %s", info->old_kid,
              why);
    dance_rollover_info_clear(info);
    if (new_key != NULL) {
        EVP_PKEY_free(*new_key);
        *new_key = NULL;
    }
    return st;
}

/* dance_rollover_extend - see dance_rollover.h. */
dance_fw_status dance_rollover_extend(const uint8_t *vendor, size_t len,
                                      const uint8_t *nonce, size_t nonce_len,
                                      EVP_PKEY *server_priv, uint8_t **out,
                                      size_t *out_len, char *err, size_t errlen)
{
    dance_rollover_info info;
    uint8_t *payload = NULL;
    size_t payload_len;
    dance_fw_status st;
    dance_cbor_buf b;

    *out = NULL;
    if (nonce_len < DANCE_ROLLOVER_NONCE_MIN ||
        nonce_len > DANCE_ROLLOVER_NONCE_MAX)
        return DANCE_FAIL(DANCE_FW_NONCE, err, errlen,
                          "the nonce must have %d..%d octets, not %zu",
                          DANCE_ROLLOVER_NONCE_MIN, DANCE_ROLLOVER_NONCE_MAX,
                          nonce_len);
    st = dance_rollover_decode(vendor, len, &info, NULL, err, errlen);
    dance_rollover_info_clear(&info);
    if (st != DANCE_FW_OK)
        return st;
    dance_cbor_init(&b);
    dance_cbor_put_map(&b, 2);
    dance_cbor_put_uint(&b, EXT_VENDOR);
    dance_cbor_put_bstr(&b, vendor, len);
    dance_cbor_put_uint(&b, EXT_NONCE);
    dance_cbor_put_bstr(&b, nonce, nonce_len);
    if (dance_cbor_take(&b, &payload, &payload_len) != 0)
        return DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "out of memory");
    st = dance_cose_sign1_create(server_priv, NULL, 0, payload, payload_len, 0,
                                 out, out_len, err, errlen);
    free(payload);
    return st;
}

/* dance_rollover_device_check - see dance_rollover.h. */
dance_fw_status
dance_rollover_device_check(const uint8_t *buf, size_t len, EVP_PKEY *trust_pub,
                            EVP_PKEY *server_pub, const uint8_t *nonce,
                            size_t nonce_len, dance_rollover_info *info,
                            EVP_PKEY **new_key, char *err, size_t errlen)
{
    dance_cose_sign1 *outer = NULL;
    cbor_item_t *map = NULL, *v;
    const uint8_t *payload, *vendor, *got;
    size_t payload_len, vendor_len, got_len;
    dance_fw_status st;
    char why[256];

    memset(info, 0, sizeof(*info));
    *new_key = NULL;
    st = dance_cose_sign1_decode(buf, len, &outer, err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    payload = dance_cose_sign1_get0_payload(outer, &payload_len);
    if (payload == NULL) {
        st = DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                        "extended rollover: the payload is detached");
        goto done;
    }
    st = dance_cose_sign1_verify(outer, server_pub, NULL, 0, why, sizeof(why));
    if (st != DANCE_FW_OK) {
        dance_msg(err, errlen, "update server signature: %s", why);
        goto done;
    }
    st = dance_cbor_decode(payload, payload_len, "extended rollover", &map, err,
                           errlen);
    if (st != DANCE_FW_OK)
        goto done;
    if (!cbor_isa_map(map) || dance_cbor_map_get(map, EXT_VENDOR, &v) != 0 ||
        dance_cbor_get_bstr(v, &vendor, &vendor_len) != 0 ||
        dance_cbor_map_get(map, EXT_NONCE, &v) != 0 ||
        dance_cbor_get_bstr(v, &got, &got_len) != 0) {
        st = DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                        "extended rollover: not {1: vendor manifest, "
                        "2: nonce}");
        goto done;
    }
    if (got_len != nonce_len || CRYPTO_memcmp(got, nonce, nonce_len) != 0) {
        st = DANCE_FAIL(DANCE_FW_NONCE, err, errlen,
                        "the nonce is not the one this device issued "
                        "(replayed or meant for another device)");
        goto done;
    }
    st = dance_rollover_verify_vendor(vendor, vendor_len, trust_pub, info,
                                      new_key, err, errlen);
done:
    if (map != NULL)
        cbor_decref(&map);
    dance_cose_sign1_free(outer);
    return st;
}
