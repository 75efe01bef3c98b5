/*
 * test_config.c - suite "config": defaults and strict parsing of every
 * openssl.cnf key (provider/dance_config.c).
 */
#include <string.h>

#include "dance_config.h"
#include "dance_test.h"

/* A settings source: NULL-terminated key, value pairs. */
static const char *from_pairs(const char *key, void *arg)
{
    const char *const *kv = arg;

    for (; kv[0] != NULL; kv += 2)
        if (strcmp(kv[0], key) == 0)
            return kv[1];
    return NULL;
}

static void test_defaults(void)
{
    static const char *const none[] = {NULL};
    dance_config cfg;
    dance_res_config rc;
    char err[300] = "";

    CU_ASSERT_EQUAL_FATAL(
        dance_config_load(&cfg, from_pairs, (void *)none, err, sizeof(err)), 1);
    CU_ASSERT_PTR_NULL(cfg.client_name);
    CU_ASSERT_EQUAL(cfg.client_auth, DANCE_CLIENT_AUTH_OPTIONAL);
    CU_ASSERT_EQUAL(cfg.request_cert, DANCE_REQUEST_SIGNALLED);
    CU_ASSERT_EQUAL(cfg.nallow, 0);
    CU_ASSERT_PTR_NULL(cfg.client_service);
    CU_ASSERT_EQUAL(cfg.server_dane, DANCE_SERVER_DANE_OFF);
    CU_ASSERT_EQUAL(cfg.profile, DANCE_PROFILE_HELLO);
    CU_ASSERT_EQUAL(cfg.hello_name, 1);
    CU_ASSERT_EQUAL(cfg.extension_type, 65293);
    CU_ASSERT_EQUAL(cfg.dnssec, DANCE_RES_MODE_VALIDATE);
    CU_ASSERT_STRING_EQUAL(cfg.trust_anchor, "/usr/share/dns/root.key");
    CU_ASSERT_PTR_NULL(cfg.nameservers);
    CU_ASSERT_EQUAL(cfg.timeout_ms, 2000);
    CU_ASSERT_EQUAL(cfg.cache_max_entries, 10000);
    CU_ASSERT_EQUAL(cfg.cache_max_bytes, (size_t)64 << 20);
    CU_ASSERT_EQUAL(cfg.cache_max_ttl, 3600);
    CU_ASSERT_EQUAL(cfg.log_level, DANCE_LOG_WARN);
    CU_ASSERT_STRING_EQUAL(cfg.log_file, "stderr");
    dance_config_resolver(&cfg, &rc);
    CU_ASSERT_EQUAL(rc.deadline_ms, 2000);
    CU_ASSERT(rc.timeout_ms * rc.attempts <= rc.deadline_ms);
    dance_config_clear(&cfg);
}

static void test_every_key(void)
{
    static const char *const kv[] = {
        "client_name",
        "_mqtt-client.device1.example.com",
        "client_auth",
        "require",
        "request_cert",
        "always",
        "allow",
        "*.devices.example.com, _ns-client.*.example.net",
        "client_service",
        "_mqtt-client",
        "server_dane",
        "opportunistic",
        "profile",
        "client-auth-13",
        "hello_name",
        "off",
        "extension_type",
        "65000",
        "dnssec",
        "trust-ad",
        "trust_anchor",
        "/etc/anchor.key",
        "nameservers",
        "127.0.0.1@5354, ::1",
        "timeout_ms",
        "500",
        "cache_max_entries",
        "0",
        "cache_max_ttl",
        "60",
        "log_level",
        "debug",
        "log_file",
        "syslog",
        NULL};
    dance_config cfg;
    char err[300] = "";

    CU_ASSERT_EQUAL_FATAL(
        dance_config_load(&cfg, from_pairs, (void *)kv, err, sizeof(err)), 1);
    CU_ASSERT_STRING_EQUAL(cfg.client_name, "_mqtt-client.device1.example.com");
    CU_ASSERT_EQUAL(cfg.client_auth, DANCE_CLIENT_AUTH_REQUIRE);
    CU_ASSERT_EQUAL(cfg.request_cert, DANCE_REQUEST_ALWAYS);
    CU_ASSERT_EQUAL_FATAL(cfg.nallow, 2);
    CU_ASSERT_STRING_EQUAL(cfg.allow[1], "_ns-client.*.example.net");
    CU_ASSERT_STRING_EQUAL(cfg.client_service, "_mqtt-client");
    CU_ASSERT_EQUAL(cfg.server_dane, DANCE_SERVER_DANE_OPPORTUNISTIC);
    CU_ASSERT_EQUAL(cfg.profile, DANCE_PROFILE_CLIENT_AUTH_13);
    CU_ASSERT_EQUAL(cfg.hello_name, 0);
    CU_ASSERT_EQUAL(cfg.extension_type, 65000);
    CU_ASSERT_EQUAL(cfg.dnssec, DANCE_RES_MODE_TRUST_AD);
    CU_ASSERT_STRING_EQUAL(cfg.trust_anchor, "/etc/anchor.key");
    CU_ASSERT_STRING_EQUAL(cfg.nameservers, "127.0.0.1@5354, ::1");
    CU_ASSERT_EQUAL(cfg.timeout_ms, 500);
    CU_ASSERT_EQUAL(cfg.cache_max_entries, 0);
    CU_ASSERT_EQUAL(cfg.cache_max_ttl, 60);
    CU_ASSERT_EQUAL(cfg.log_level, DANCE_LOG_DEBUG);
    CU_ASSERT_STRING_EQUAL(cfg.log_file, "syslog");
    dance_config_clear(&cfg);
}

/* refused - loading key = value fails, naming the key and each of the
 * needles (the accepted values). */
static void refused(const char *key, const char *value, const char *needle)
{
    const char *kv[] = {key, value, NULL};
    dance_config cfg;
    char err[300] = "";

    CU_ASSERT_EQUAL(
        dance_config_load(&cfg, from_pairs, (void *)kv, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, key));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, needle));
    /* A refused load leaves nothing allocated behind. */
    CU_ASSERT_PTR_NULL(cfg.trust_anchor);
}

static void test_bad_values(void)
{
    refused("client_auth", "maybe", "off, optional, require");
    refused("client_auth", "Require", "off, optional, require");
    refused("request_cert", "sometimes", "signalled, always");
    refused("server_dane", "yes", "off, opportunistic, require");
    refused("profile", "client-auth-12", "hello, client-auth-13");
    refused("hello_name", "1", "off, on");
    refused("dnssec", "ad", "validate, trust-ad");
    refused("log_level", "verbose", "error, warn, info, debug");
    refused("extension_type", "0", "1 to 65535");
    refused("extension_type", "65536", "1 to 65535");
    refused("extension_type", "0x10", "1 to 65535");
    refused("timeout_ms", "-5", "10 to 60000");
    refused("timeout_ms", "", "10 to 60000");
    refused("cache_max_entries", "many", "0 to 10000000");
    refused("cache_max_ttl", "1e3", "0 to 604800");
    refused("cache_max_bytes", "0", "1048576 to 68719476736");
    refused("cache_max_bytes", "64M", "1048576 to 68719476736");
    refused("cache_max_bytes", "68719476737", "1048576 to 68719476736");
    refused("client_name", "bad name", "auto");
    refused("client_name", "name.with.dot.", "trailing dot");
    refused("allow", "*.ok.example, bad*.example", "bad*.example");
    refused("allow", " , ", "names no pattern");
    refused("client_service", "mqtt-client", "starting with '_'");
    refused("client_service", "_a._b", "one label");
    refused("nameservers", "127.0.0.1@99999", "127.0.0.1@99999");
    refused("log_file", "", "log_file");
}

int dance_test_suite_config(void)
{
    static const CU_TestInfo tests[] = {
        {"defaults", test_defaults},
        {"every key parsed", test_every_key},
        {"bad values name the key and the choices", test_bad_values},
        CU_TEST_INFO_NULL};

    return dance_test_add_suite("config", NULL, NULL, tests);
}
