/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_rpk.c - suite "rpk": raw public keys (RFC 7250): the key
 * raw_public_keys and its refusals (provider/dance_config.c, and the
 * OpenSSL version at activation, provider/dance_activate.c), which OpenSSL
 * versions can have them, and which TLSA records can match a raw key
 * (ext/dance_rpk.c). Runs on every OpenSSL: where raw keys are not
 * supported (3.0), every value but off must be refused, saying why.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "dance_activate.h"
#include "dance_config.h"
#include "dance_rpk.h"
#include "dance_test.h"
#include "testcert.h"

/* A settings source: NULL-terminated key, value pairs. */
static const char *pairs(const char *key, void *arg)
{
    const char *const *kv = arg;

    for (; kv[0] != NULL; kv += 2)
        if (strcmp(kv[0], key) == 0)
            return kv[1];
    return NULL;
}

/* load - what activation does with kv: dance_config_load, then
 * dance_activate_check_settings (cfg is cleared when that refuses); err
 * receives the refusal. */
static int load(const char *const *kv, dance_config *cfg, char *err, size_t len)
{
    err[0] = '\0';
    if (!dance_config_load(cfg, pairs, (void *)kv, err, len))
        return 0;
    if (dance_activate_check_settings(cfg, err, len))
        return 1;
    dance_config_clear(cfg);
    return 0;
}

/* has - err contains every needle (NULL-terminated). */
static int has(const char *err, const char *const *needles)
{
    for (; *needles != NULL; needles++)
        if (strstr(err, *needles) == NULL) {
            fprintf(stderr, "\n  missing '%s' in: %s\n", *needles, err);
            return 0;
        }
    return 1;
}

/* test_versions - which build/run pairs may use raw keys, and the reason
 * names the version that is too old and which side it is on. */
static void test_versions(void)
{
    char why[400];

    /* Built on Debian 12's 3.0 and loaded into 3.5: no RPK code. */
    CU_ASSERT_EQUAL(
        dance_rpk_support_why(0x30000110UL, 0x30500040UL, why, sizeof(why)), 0);
    CU_ASSERT(has(why, (const char *const[]){"OpenSSL >= 3.2",
                                             "built against OpenSSL 3.0.17",
                                             "raw_public_keys = off", NULL}));
    /* Built on 3.5, running on 3.1: libssl cannot negotiate them. */
    CU_ASSERT_EQUAL(
        dance_rpk_support_why(0x30500040UL, 0x30100000UL, why, sizeof(why)), 0);
    CU_ASSERT(has(why, (const char *const[]){"OpenSSL >= 3.2",
                                             "runs OpenSSL "
                                             "3.1.0",
                                             NULL}));
    CU_ASSERT_EQUAL(
        dance_rpk_support_why(0x301ffff0UL, 0x30500040UL, why, sizeof(why)), 0);
    CU_ASSERT_EQUAL(
        dance_rpk_support_why(0x30200000UL, 0x30200000UL, why, sizeof(why)), 1);
    CU_ASSERT_EQUAL(
        dance_rpk_support_why(0x30500040UL, 0x30600000UL, why, sizeof(why)), 1);
    /* This build and this process agree with the pure rule. */
    CU_ASSERT_EQUAL(dance_rpk_supported(why, sizeof(why)),
                    OPENSSL_VERSION_NUMBER >= 0x30200000L &&
                        OpenSSL_version_num() >= 0x30200000UL);
}

/* test_values - off, accept, prefer parse (where supported) and reach the
 * policy; anything else is refused naming the choices. */
static void test_values(void)
{
    static const char *const bad[] = {"on", "yes", "Prefer", "", "1", NULL};
    static const char *const names[] = {"off", "accept", "prefer"};
    char err[600], why[400];
    dance_config cfg;
    dance_policy pol;
    int supported = dance_rpk_supported(why, sizeof(why));

    for (int i = 0; i < 3; i++) {
        const char *kv[] = {"raw_public_keys", names[i], "client_name",
                            "_client.dev1.example.test", NULL};
        int ok = load(kv, &cfg, err, sizeof(err));

        if (i == 0 || supported) {
            CU_ASSERT_EQUAL_FATAL(ok, 1);
            dance_config_policy(&cfg, &pol);
            CU_ASSERT_EQUAL(pol.raw_public_keys, (dance_raw_public_keys)i);
            CU_ASSERT_STRING_EQUAL(
                dance_config_value(&cfg, "raw_public_keys", err, sizeof(err)),
                names[i]);
            dance_config_clear(&cfg);
        } else {
            /* OpenSSL < 3.2: refused at activation, saying why. */
            CU_ASSERT_EQUAL(ok, 0);
            CU_ASSERT(
                has(err, (const char *const[]){"raw_public_keys = ", names[i],
                                               "need OpenSSL >= 3.2", NULL}));
        }
    }
    for (int i = 0; bad[i] != NULL; i++) {
        const char *kv[] = {"raw_public_keys", bad[i], NULL};

        CU_ASSERT_EQUAL(load(kv, &cfg, err, sizeof(err)), 0);
        CU_ASSERT(has(err, (const char *const[]){"raw_public_keys",
                                                 "off, accept, prefer", NULL}));
    }
    /* The default is off, and off is fine anywhere. */
    {
        const char *kv[] = {NULL};

        CU_ASSERT_EQUAL_FATAL(load(kv, &cfg, err, sizeof(err)), 1);
        CU_ASSERT_EQUAL(cfg.raw_public_keys, DANCE_RAW_PUBLIC_KEYS_OFF);
        dance_config_clear(&cfg);
    }
}

/* test_auto_refused - client_name = auto takes the name from a
 * certificate, which a raw key does not have: written with raw keys, it is
 * refused, naming both keys. */
static void test_auto_refused(void)
{
    static const char *const auto_accept[] = {
        "client_name", "auto", "raw_public_keys", "accept", NULL};
    static const char *const auto_prefer[] = {
        "client_name", "auto", "raw_public_keys", "prefer", NULL};
    static const char *const default_prefer[] = {"raw_public_keys", "prefer",
                                                 NULL};
    /* A server that only accepts raw keys needs no client_name. */
    static const char *const server_accept[] = {
        "client_auth",     "require", "allow", "*.example.test",
        "raw_public_keys", "accept",  NULL};
    static const char *const auto_off[] = {"client_name", "auto",
                                           "raw_public_keys", "off", NULL};
    char err[600], why[400];
    dance_config cfg;

    CU_ASSERT_EQUAL_FATAL(load(auto_off, &cfg, err, sizeof(err)), 1);
    dance_config_clear(&cfg);
    /* The key combination is refused whatever the OpenSSL version. */
    CU_ASSERT_EQUAL(load(auto_accept, &cfg, err, sizeof(err)), 0);
    CU_ASSERT(has(err, (const char *const[]){"client_name = auto",
                                             "raw_public_keys = accept",
                                             "no certificate", NULL}));
    CU_ASSERT_EQUAL(load(auto_prefer, &cfg, err, sizeof(err)), 0);
    CU_ASSERT(
        has(err, (const char *const[]){"client_name = auto",
                                       "raw_public_keys = prefer", NULL}));
    if (!dance_rpk_supported(why, sizeof(why))) {
        /* OpenSSL < 3.2: a good combination is refused for the version. */
        CU_ASSERT_EQUAL(load(server_accept, &cfg, err, sizeof(err)), 0);
        CU_ASSERT(has(err, (const char *const[]){"raw_public_keys = accept",
                                                 "need OpenSSL >= 3.2", NULL}));
        return;
    }
    CU_ASSERT_EQUAL_FATAL(load(server_accept, &cfg, err, sizeof(err)), 1);
    CU_ASSERT_EQUAL(cfg.raw_public_keys, DANCE_RAW_PUBLIC_KEYS_ACCEPT);
    dance_config_clear(
        &cfg); /* Unset (not written) under prefer: loads; the client role then
                * sends its certificate (tls.rpk), the server role offers its
                * raw key. */
    CU_ASSERT_EQUAL_FATAL(load(default_prefer, &cfg, err, sizeof(err)), 1);
    CU_ASSERT_PTR_NULL(cfg.client_name);
    dance_config_clear(&cfg);
}

/* test_second_activation - a second activation that asks for raw keys
 * where the first did not is a conflict (configuration never ends weaker
 * or different than written). */
static void test_second_activation(void)
{
    static const char *const first[] = {"client_name", "_c.dev1.example.test",
                                        NULL};
    static const char *const second[] = {"client_name", "_c.dev1.example.test",
                                         "raw_public_keys", "prefer", NULL};
    char err[600], why[400];
    dance_config a, b;
    const char *key;

    if (!dance_rpk_supported(why, sizeof(why)))
        return; /* second would not load at all (test_values) */
    CU_ASSERT_EQUAL_FATAL(load(first, &a, err, sizeof(err)), 1);
    CU_ASSERT_EQUAL_FATAL(load(second, &b, err, sizeof(err)), 1);
    key = dance_config_conflict(&a, &b);
    CU_ASSERT_STRING_EQUAL(key != NULL ? key : "", "raw_public_keys");
    dance_config_clear(&a);
    dance_config_clear(&b);
}

/* test_tlsa_usable - only DANE-EE SPKI records (3 1 x) can match a raw
 * key; a certificate selector, a CA or PKIX usage counts for nothing. */
static void test_tlsa_usable(void)
{
    static const char *const mixed[] = {
        "3 0 1 "
        "0102030405060708091011121314151617181920212223242526272829303132",
        "2 1 1 "
        "0102030405060708091011121314151617181920212223242526272829303132",
        "1 1 1 "
        "0102030405060708091011121314151617181920212223242526272829303132",
        "0 1 1 "
        "0102030405060708091011121314151617181920212223242526272829303132",
        NULL};
    static const char *const good[] = {
        "3 0 1 "
        "0102030405060708091011121314151617181920212223242526272829303132",
        "3 1 1 "
        "0102030405060708091011121314151617181920212223242526272829303132",
        "3 1 0 0102030405", NULL};
    dance_res_result *r;

    r = dance_tc_result("_c.dev1.example.test", DANCE_RES_SECURE, mixed,
                        time(NULL), 300);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(dance_rpk_tlsa_usable(r), 0);
    dance_res_result_free(r);
    r = dance_tc_result("_c.dev1.example.test", DANCE_RES_SECURE, good,
                        time(NULL), 300);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(dance_rpk_tlsa_usable(r), 2);
    dance_res_result_free(r);
    CU_ASSERT_EQUAL(dance_rpk_tlsa_usable(NULL), 0);
}

/* test_context_map - a raw key's Certificate entry is read as the
 * Certificate's, and no other context changes. */
static void test_context_map(void)
{
    unsigned int rpk = dance_rpk_ext_context();

    CU_ASSERT_EQUAL(dance_rpk_context(SSL_EXT_CLIENT_HELLO),
                    SSL_EXT_CLIENT_HELLO);
    CU_ASSERT_EQUAL(dance_rpk_context(SSL_EXT_TLS1_3_CERTIFICATE),
                    SSL_EXT_TLS1_3_CERTIFICATE);
    if (rpk != 0) {
        CU_ASSERT_EQUAL(dance_rpk_context(rpk), SSL_EXT_TLS1_3_CERTIFICATE);
    } else {
        CU_ASSERT_EQUAL(OPENSSL_VERSION_NUMBER >= 0x30200000L &&
                            OpenSSL_version_num() >= 0x30200000UL,
                        0);
    }
}

int dance_test_suite_rpk(void)
{
    static const CU_TestInfo tests[] = {
        {"OpenSSL versions that have raw keys, and why not", test_versions},
        {"off, accept, prefer; others refused; refused before 3.2",
         test_values},
        {"client_name = auto with raw keys is refused", test_auto_refused},
        {"a second activation may not switch raw keys on",
         test_second_activation},
        {"only 3 1 x records can match a raw key", test_tlsa_usable},
        {"a raw key's Certificate entry carries the ClientName",
         test_context_map},
        CU_TEST_INFO_NULL};

    return dance_test_add_suite("rpk", NULL, NULL, tests);
}
