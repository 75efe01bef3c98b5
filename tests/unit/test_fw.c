/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_fw.c - CUnit suite "fw": IPSECKEY key encodings, the CBOR reader's
 * defences, COSE_Sign1, SUIT envelopes and rollover manifests, with keys
 * generated at test time.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "dance_cbor.h"
#include "dance_cose.h"
#include "dance_ipseckey.h"
#include "dance_rollover.h"
#include "dance_suit.h"
#include "dance_test.h"

enum { K_P256, K_P384, K_ED25519, K_RSA, NKEYS };

typedef struct {
    EVP_PKEY *key[NKEYS];
    EVP_PKEY *other; /* a second P-256 key */
} fw_keys;

/* keys - the suite's keys, made once by fw_init (CUnit has no fixture
 * argument; this is written only before the tests run). */
static fw_keys keys;

/* fw_init - generate one key of each type. */
static int fw_init(void)
{
    keys.key[K_P256] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    keys.key[K_P384] = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
    keys.key[K_ED25519] = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    keys.key[K_RSA] = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    keys.other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    for (int i = 0; i < NKEYS; i++)
        if (keys.key[i] == NULL)
            return 1;
    return keys.other == NULL;
}

/* fw_cleanup - free the keys. */
static int fw_cleanup(void)
{
    for (int i = 0; i < NKEYS; i++)
        EVP_PKEY_free(keys.key[i]);
    EVP_PKEY_free(keys.other);
    memset(&keys, 0, sizeof(keys));
    return 0;
}

/* test_ipseckey_roundtrip - key -> IPSECKEY key field -> key, every type. */
static void test_ipseckey_roundtrip(void)
{
    static const uint8_t want_alg[NKEYS] = {3, 3, 4, 2};
    char err[256];

    for (int i = 0; i < NKEYS; i++) {
        uint8_t rdata[1024], alg, *k = NULL;
        size_t klen;
        dance_ipseckey ik;
        EVP_PKEY *back = NULL;

        CU_ASSERT_EQUAL_FATAL(dance_ipseckey_from_pkey(keys.key[i], &alg, &k,
                                                       &klen, err, sizeof(err)),
                              DANCE_IPSECKEY_OK);
        CU_ASSERT_EQUAL(alg, want_alg[i]);
        CU_ASSERT_FATAL(klen + 3 <= sizeof(rdata));
        rdata[0] = 10;
        rdata[1] = 0;
        rdata[2] = alg;
        memcpy(rdata + 3, k, klen);
        CU_ASSERT_EQUAL(
            dance_ipseckey_parse(rdata, klen + 3, &ik, err, sizeof(err)),
            DANCE_IPSECKEY_OK);
        CU_ASSERT_EQUAL(
            dance_ipseckey_to_pkey(NULL, &ik, NULL, &back, err, sizeof(err)),
            DANCE_IPSECKEY_OK);
        CU_ASSERT_EQUAL(EVP_PKEY_eq(back, keys.key[i]), 1);
        EVP_PKEY_free(back);
        OPENSSL_free(k);
    }
}

/* test_ipseckey_hostile - bad RDATA and key fields are refused. */
static void test_ipseckey_hostile(void)
{
    uint8_t rd[200];
    dance_ipseckey ik;
    EVP_PKEY *pk = NULL;
    char err[256];

    memset(rd, 0, sizeof(rd));
    CU_ASSERT_EQUAL(dance_ipseckey_parse(rd, 2, &ik, err, sizeof(err)),
                    DANCE_IPSECKEY_MALFORMED);
    rd[1] = 1; /* IPv4 gateway */
    CU_ASSERT_EQUAL(dance_ipseckey_parse(rd, 10, &ik, err, sizeof(err)),
                    DANCE_IPSECKEY_UNSUPPORTED);
    rd[1] = 0;
    rd[2] = 3;
    CU_ASSERT_EQUAL(dance_ipseckey_parse(rd, 3, &ik, err, sizeof(err)),
                    DANCE_IPSECKEY_MALFORMED); /* no key */
    /* ECDSA: 64 zero octets are not a point on P-256 */
    CU_ASSERT_EQUAL(dance_ipseckey_parse(rd, 3 + 64, &ik, err, sizeof(err)),
                    DANCE_IPSECKEY_OK);
    CU_ASSERT_NOT_EQUAL(
        dance_ipseckey_to_pkey(NULL, &ik, NULL, &pk, err, sizeof(err)),
        DANCE_IPSECKEY_OK);
    CU_ASSERT_PTR_NULL(pk);
    ik.key_len = 65; /* neither P-256 nor P-384 */
    CU_ASSERT_EQUAL(
        dance_ipseckey_to_pkey(NULL, &ik, NULL, &pk, err, sizeof(err)),
        DANCE_IPSECKEY_UNSUPPORTED);
    /* RSA: exponent length beyond the data, and a 512-bit modulus */
    ik.algorithm = 2;
    rd[3] = 200;
    ik.key_len = 10;
    CU_ASSERT_EQUAL(
        dance_ipseckey_to_pkey(NULL, &ik, NULL, &pk, err, sizeof(err)),
        DANCE_IPSECKEY_MALFORMED);
    rd[3] = 1;
    rd[4] = 3;
    memset(rd + 5, 0xff, 64);
    ik.key_len = 1 + 1 + 64;
    CU_ASSERT_EQUAL(
        dance_ipseckey_to_pkey(NULL, &ik, NULL, &pk, err, sizeof(err)),
        DANCE_IPSECKEY_UNSUPPORTED);
    /* unknown algorithm; curve asked for a non-ECDSA key */
    ik.algorithm = 9;
    CU_ASSERT_EQUAL(
        dance_ipseckey_to_pkey(NULL, &ik, NULL, &pk, err, sizeof(err)),
        DANCE_IPSECKEY_UNSUPPORTED);
    ik.algorithm = 4;
    ik.key_len = 32;
    CU_ASSERT_EQUAL(
        dance_ipseckey_to_pkey(NULL, &ik, "P-256", &pk, err, sizeof(err)),
        DANCE_IPSECKEY_UNSUPPORTED);
}

/* test_ipseckey_curve - ?curve= must match the record's curve. */
static void test_ipseckey_curve(void)
{
    uint8_t rd[128], alg, *k = NULL;
    size_t klen;
    dance_ipseckey ik;
    EVP_PKEY *pk = NULL;
    char err[256];

    CU_ASSERT_EQUAL_FATAL(dance_ipseckey_from_pkey(keys.key[K_P384], &alg, &k,
                                                   &klen, err, sizeof(err)),
                          DANCE_IPSECKEY_OK);
    rd[0] = 10;
    rd[1] = 0;
    rd[2] = alg;
    memcpy(rd + 3, k, klen);
    OPENSSL_free(k);
    CU_ASSERT_EQUAL(dance_ipseckey_parse(rd, klen + 3, &ik, err, sizeof(err)),
                    DANCE_IPSECKEY_OK);
    CU_ASSERT_EQUAL(
        dance_ipseckey_to_pkey(NULL, &ik, "P-256", &pk, err, sizeof(err)),
        DANCE_IPSECKEY_UNSUPPORTED);
    CU_ASSERT_EQUAL(
        dance_ipseckey_to_pkey(NULL, &ik, "P-384", &pk, err, sizeof(err)),
        DANCE_IPSECKEY_OK);
    EVP_PKEY_free(pk);
}

/* test_cbor_reader - the well-formedness check before libcbor. */
static void test_cbor_reader(void)
{
    static const uint8_t indefinite[] = {0x9f, 0x01, 0xff};
    static const uint8_t trailing[] = {0x01, 0x02};
    static const uint8_t huge_array[] = {0x9b, 0xff, 0xff, 0xff, 0xff,
                                         0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t short_bstr[] = {0x5a, 0x00, 0x10, 0x00, 0x00, 0x01};
    static const uint8_t ok[] = {0xa1, 0x01, 0x82, 0x41, 0x00, 0x20};
    uint8_t deep[40];
    cbor_item_t *item = NULL;
    char err[256];

    CU_ASSERT_NOT_EQUAL(dance_cbor_wellformed(indefinite, sizeof(indefinite),
                                              16, err, sizeof(err)),
                        0);
    CU_ASSERT_NOT_EQUAL(
        dance_cbor_wellformed(trailing, sizeof(trailing), 16, err, sizeof(err)),
        0);
    CU_ASSERT_NOT_EQUAL(dance_cbor_wellformed(huge_array, sizeof(huge_array),
                                              16, err, sizeof(err)),
                        0);
    CU_ASSERT_NOT_EQUAL(dance_cbor_wellformed(short_bstr, sizeof(short_bstr),
                                              16, err, sizeof(err)),
                        0);
    memset(deep, 0x81, sizeof(deep)); /* [[[[...]]]] */
    deep[sizeof(deep) - 1] = 0x00;
    CU_ASSERT_NOT_EQUAL(
        dance_cbor_wellformed(deep, sizeof(deep), 16, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(
        dance_cbor_decode(ok, sizeof(ok), "test", &item, err, sizeof(err)),
        DANCE_FW_OK);
    if (item != NULL)
        cbor_decref(&item);
}

/* test_cose_roundtrip - sign and verify with every key; tampering fails. */
static void test_cose_roundtrip(void)
{
    static const uint8_t payload[] = "payload";
    char err[256];

    for (int i = 0; i < NKEYS; i++) {
        uint8_t *msg = NULL;
        size_t len;
        dance_cose_sign1 *m = NULL;

        CU_ASSERT_EQUAL_FATAL(
            dance_cose_sign1_create(keys.key[i], (const uint8_t *)"k1", 2,
                                    payload, sizeof(payload), 1, &msg, &len,
                                    err, sizeof(err)),
            DANCE_FW_OK);
        CU_ASSERT_EQUAL_FATAL(
            dance_cose_sign1_decode(msg, len, &m, err, sizeof(err)),
            DANCE_FW_OK);
        CU_ASSERT_EQUAL(dance_cose_sign1_verify(m, keys.key[i], payload,
                                                sizeof(payload), err,
                                                sizeof(err)),
                        DANCE_FW_OK);
        CU_ASSERT_EQUAL(dance_cose_sign1_verify(m, keys.key[i], payload,
                                                sizeof(payload) - 1, err,
                                                sizeof(err)),
                        DANCE_FW_BAD_SIGNATURE);
        CU_ASSERT_EQUAL(dance_cose_sign1_verify(m, keys.key[(i + 1) % NKEYS],
                                                payload, sizeof(payload), err,
                                                sizeof(err)),
                        DANCE_FW_KEY_MISMATCH);
        dance_cose_sign1_free(m);
        msg[len - 1] ^= 1; /* last signature octet */
        CU_ASSERT_EQUAL_FATAL(
            dance_cose_sign1_decode(msg, len, &m, err, sizeof(err)),
            DANCE_FW_OK);
        CU_ASSERT_EQUAL(dance_cose_sign1_verify(m, keys.key[i], payload,
                                                sizeof(payload), err,
                                                sizeof(err)),
                        DANCE_FW_BAD_SIGNATURE);
        dance_cose_sign1_free(m);
        free(msg);
    }
}

/* test_cose_headers - crit, missing alg and a non-bstr kid are refused. */
static void test_cose_headers(void)
{
    /* 18([<<{1: -7, 2: [4]}>>, {}, h'', h'']) */
    static const uint8_t crit[] = {0xd2, 0x84, 0x46, 0xa2, 0x01, 0x26,
                                   0x02, 0x81, 0x04, 0xa0, 0x40, 0x40};
    /* [<<{4: h'6b'}>>, {}, h'', h''] */
    static const uint8_t noalg[] = {0x84, 0x43, 0xa1, 0x04, 0x41,
                                    0x6b, 0xa0, 0x40, 0x40};
    /* [<<{1: -7, 4: "k"}>>, {}, h'', h''] */
    static const uint8_t kidtext[] = {0x84, 0x45, 0xa2, 0x01, 0x26, 0x04,
                                      0x61, 0x6b, 0xa0, 0x40, 0x40};
    /* [<<{1: -7}>>, {}, 1.5, h'']: a float where the payload goes (libcbor
     * 0.8's cbor_is_null aborts on it; found by fuzz_fw) */
    static const uint8_t floatpayload[] = {0x84, 0x43, 0xa1, 0x01, 0x26,
                                           0xa0, 0xf9, 0x3e, 0x00, 0x40};
    dance_cose_sign1 *m = NULL;
    char err[256];

    CU_ASSERT_EQUAL(dance_cose_sign1_decode(floatpayload, sizeof(floatpayload),
                                            &m, err, sizeof(err)),
                    DANCE_FW_MALFORMED);
    CU_ASSERT_EQUAL(
        dance_cose_sign1_decode(crit, sizeof(crit), &m, err, sizeof(err)),
        DANCE_FW_UNSUPPORTED);
    CU_ASSERT_EQUAL(
        dance_cose_sign1_decode(noalg, sizeof(noalg), &m, err, sizeof(err)),
        DANCE_FW_MALFORMED);
    CU_ASSERT_EQUAL(
        dance_cose_sign1_decode(kidtext, sizeof(kidtext), &m, err, sizeof(err)),
        DANCE_FW_MALFORMED);
    CU_ASSERT_PTR_NULL(m);
}

/* test_suit_envelope - create, sign, decode, verify; a changed manifest
 * octet is a digest mismatch. */
static void test_suit_envelope(void)
{
    uint8_t digest[32], *man = NULL, *env = NULL;
    size_t man_len, env_len;
    dance_suit_envelope *e = NULL;
    const dance_suit_info *info;
    char err[256];

    memset(digest, 0xab, sizeof(digest));
    CU_ASSERT_EQUAL_FATAL(
        dance_suit_manifest_create(5, digest, 1234, "https://x.example/fw",
                                   &man, &man_len, err, sizeof(err)),
        DANCE_FW_OK);
    CU_ASSERT_EQUAL_FATAL(
        dance_suit_envelope_sign(man, man_len, keys.key[K_ED25519], "v1", &env,
                                 &env_len, err, sizeof(err)),
        DANCE_FW_OK);
    CU_ASSERT_EQUAL_FATAL(
        dance_suit_envelope_decode(env, env_len, &e, err, sizeof(err)),
        DANCE_FW_OK);
    info = dance_suit_envelope_get0_info(e);
    CU_ASSERT_EQUAL(info->seq, 5);
    CU_ASSERT_EQUAL(info->image_size, 1234);
    CU_ASSERT(info->has_digest && memcmp(info->image_digest, digest, 32) == 0);
    CU_ASSERT_STRING_EQUAL(info->uri, "https://x.example/fw");
    CU_ASSERT_EQUAL(
        dance_suit_envelope_verify(e, 0, keys.key[K_ED25519], err, sizeof(err)),
        DANCE_FW_OK);
    dance_suit_envelope_free(e);
    e = NULL;
    env[env_len - 1] ^= 1; /* the manifest is last in the envelope */
    CU_ASSERT_EQUAL(
        dance_suit_envelope_decode(env, env_len, &e, err, sizeof(err)),
        DANCE_FW_DIGEST_MISMATCH);
    CU_ASSERT_PTR_NULL(e);
    for (size_t n = 0; n < env_len; n++) { /* every truncation fails */
        CU_ASSERT_NOT_EQUAL(
            dance_suit_envelope_decode(env, n, &e, err, sizeof(err)),
            DANCE_FW_OK);
    }
    free(man);
    free(env);
}

/* test_rollover - vendor manifest, extension, device check, bad nonce. */
static void test_rollover(void)
{
    static const uint8_t nonce[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    uint8_t *ro = NULL, *ext = NULL, other_nonce[16];
    size_t ro_len, ext_len;
    dance_rollover_info info;
    EVP_PKEY *nk = NULL;
    char err[256];

    CU_ASSERT_EQUAL_FATAL(
        dance_rollover_create("app", 3, "new1", keys.key[K_P384], "old1",
                              keys.key[K_P256], &ro, &ro_len, err, sizeof(err)),
        DANCE_FW_OK);
    CU_ASSERT_EQUAL_FATAL(dance_rollover_extend(ro, ro_len, nonce,
                                                sizeof(nonce),
                                                keys.key[K_ED25519], &ext,
                                                &ext_len, err, sizeof(err)),
                          DANCE_FW_OK);
    CU_ASSERT_EQUAL(dance_rollover_device_check(
                        ext, ext_len, keys.key[K_P256], keys.key[K_ED25519],
                        nonce, sizeof(nonce), &info, &nk, err, sizeof(err)),
                    DANCE_FW_OK);
    CU_ASSERT_EQUAL(EVP_PKEY_eq(nk, keys.key[K_P384]), 1);
    CU_ASSERT_STRING_EQUAL(info.new_kid, "new1");
    CU_ASSERT_EQUAL(info.version, 3);
    dance_rollover_info_clear(&info);
    EVP_PKEY_free(nk);
    memcpy(other_nonce, nonce, sizeof(nonce));
    other_nonce[0] ^= 0x80;
    CU_ASSERT_EQUAL(dance_rollover_device_check(
                        ext, ext_len, keys.key[K_P256], keys.key[K_ED25519],
                        other_nonce, sizeof(other_nonce), &info, &nk, err,
                        sizeof(err)),
                    DANCE_FW_NONCE);
    CU_ASSERT_EQUAL(dance_rollover_device_check(
                        ext, ext_len, keys.other, keys.key[K_ED25519], nonce,
                        sizeof(nonce), &info, &nk, err, sizeof(err)),
                    DANCE_FW_BAD_SIGNATURE);
    CU_ASSERT_PTR_NULL(nk);
    free(ro);
    free(ext);
}

/* dance_test_suite_fw - register the suite. */
int dance_test_suite_fw(void)
{
    static const CU_TestInfo cases[] = {
        {"ipseckey round trip, every key type", test_ipseckey_roundtrip},
        {"ipseckey hostile RDATA", test_ipseckey_hostile},
        {"ipseckey curve parameter", test_ipseckey_curve},
        {"cbor reader defences", test_cbor_reader},
        {"cose sign1 round trip and tampering", test_cose_roundtrip},
        {"cose header checks", test_cose_headers},
        {"suit envelope", test_suit_envelope},
        {"rollover and device check", test_rollover},
        CU_TEST_INFO_NULL};

    return dance_test_add_suite("fw", fw_init, fw_cleanup, cases);
}
