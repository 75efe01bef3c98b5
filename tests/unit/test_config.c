/*
 * test_config.c - suite "config": defaults and strict parsing of every
 * openssl.cnf key (provider/dance_config.c).
 */
#include <stdio.h>
#include <string.h>

#include "dance_config.h"
#include "dance_name.h"
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
    /* The module changes nothing on the server side until asked to. */
    CU_ASSERT_EQUAL(cfg.client_auth, DANCE_CLIENT_AUTH_OFF);
    CU_ASSERT_EQUAL(cfg.request_cert, DANCE_REQUEST_SIGNALLED);
    CU_ASSERT_EQUAL(cfg.nallow, 0);
    CU_ASSERT_EQUAL(cfg.identity_check, DANCE_IDENTITY_CHECK_STRICT);
    for (size_t k = 0; dance_config_keys[k] != NULL; k++)
        CU_ASSERT_PTR_NULL(cfg.given[k]);
    CU_ASSERT_PTR_NULL(cfg.client_service);
    CU_ASSERT_EQUAL(cfg.server_dane, DANCE_SERVER_DANE_OFF);
    CU_ASSERT_EQUAL(cfg.profile, DANCE_PROFILE_CLIENT_AUTH_13); /* issue 10 */
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
        "identity_check",
        "off",
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
    CU_ASSERT_EQUAL(cfg.identity_check, DANCE_IDENTITY_CHECK_OFF);
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
    /* Every key was given: each is recorded as written. */
    for (size_t k = 0; kv[2 * k] != NULL; k++)
        CU_ASSERT_STRING_EQUAL(dance_config_given(&cfg, kv[2 * k]),
                               kv[2 * k + 1]);
    dance_config_clear(&cfg);
}

/* load - cfg from key, value pairs; CUnit-fails (and returns 0) if that is
 * refused. */
static int load(dance_config *cfg, const char *const *kv)
{
    char err[300] = "";
    int ok = dance_config_load(cfg, from_pairs, (void *)kv, err, sizeof(err));

    if (!ok)
        fprintf(stderr, "load: %s\n", err);
    CU_ASSERT_EQUAL(ok, 1);
    return ok;
}

/* The draft profile is "client-auth"; "client-auth-13" stays an alias. */
static void test_profile_names(void)
{
    static const char *const now[] = {"profile", "client-auth", NULL};
    static const char *const old[] = {"profile", "client-auth-13", NULL};
    dance_config a, b;

    if (!load(&a, now))
        return;
    if (load(&b, old)) {
        CU_ASSERT_EQUAL(a.profile, DANCE_PROFILE_CLIENT_AUTH_13);
        CU_ASSERT_EQUAL(b.profile, DANCE_PROFILE_CLIENT_AUTH_13);
        /* The same setting under either name: no conflict. */
        CU_ASSERT_PTR_NULL(dance_config_conflict(&a, &b));
        dance_config_clear(&b);
    }
    dance_config_clear(&a);
}

/* With client_auth on, allow must be set: there is no "every name". */
static void test_allow_required(void)
{
    static const char *const modes[] = {"optional", "require"};

    for (size_t i = 0; i < 2; i++) {
        const char *kv[] = {"client_auth", modes[i], NULL};
        const char *every[] = {"client_auth", modes[i], "allow", "*", NULL};
        dance_config cfg;
        char err[300] = "";

        CU_ASSERT_EQUAL(
            dance_config_load(&cfg, from_pairs, (void *)kv, err, sizeof(err)),
            0);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "allow"));
        CU_ASSERT_PTR_NULL(cfg.trust_anchor);
        /* "allow = *" is written by someone who means it: every name. */
        if (!load(&cfg, every))
            continue;
        CU_ASSERT_EQUAL_FATAL(cfg.nallow, 1);
        CU_ASSERT_STRING_EQUAL(cfg.allow[0], "*");
        CU_ASSERT(dance_name_match(cfg.allow[0], "_client.dev1.example.com"));
        CU_ASSERT(dance_name_match(cfg.allow[0], "example"));
        dance_config_clear(&cfg);
    }
}

/* conflict - the key a second activation kv2 conflicts on after kv1, or
 * NULL (both must load). */
static const char *conflict(const char *const *kv1, const char *const *kv2)
{
    dance_config a, b;
    const char *key = "(not loaded)";

    if (!load(&a, kv1))
        return key;
    if (load(&b, kv2)) {
        key = dance_config_conflict(&a, &b);
        dance_config_clear(&b);
    }
    dance_config_clear(&a);
    return key;
}

/* Two activations in one process: the first one's settings stay in force,
 * so any key the second sets to something else must be reported. */
static void test_second_activation(void)
{
    static const char *const off[] = {"client_auth", "off", NULL};
    static const char *const none[] = {NULL};
    static const char *const require[] = {"client_auth", "require", "allow",
                                          "*.example.test", NULL};
    static const char *const require2[] = {"allow", "*.example.test",
                                           "client_auth", "require", NULL};
    static const char *const client[] = {"client_name", "_c.d.example.test",
                                         NULL};
    static const char *const wider[] = {"client_auth", "require", "allow",
                                        "*.example.test, *.other.test", NULL};
    static const char *const spaced[] = {"client_auth", "require", "allow",
                                         "*.example.test,*.other.test", NULL};
    static const char *const idoff[] = {"identity_check", "off", NULL};
    static const char *const idstrict[] = {"identity_check", "strict", NULL};
    static const char *const timeout[] = {"timeout_ms", "2000", NULL};
    const char *key;

    /* An "off" section first, a "require" one second: never off. */
    key = conflict(off, require);
    CU_ASSERT_PTR_NOT_NULL(key);
    CU_ASSERT_STRING_EQUAL(key != NULL ? key : "", "client_auth");
    /* ...and the other way round. */
    key = conflict(require, off);
    CU_ASSERT_STRING_EQUAL(key != NULL ? key : "", "client_auth");
    /* The client snippet's section first (client_auth left at its default,
     * off), a server section second. */
    key = conflict(client, require);
    CU_ASSERT_STRING_EQUAL(key != NULL ? key : "", "client_auth");
    /* A wider allow list is not the same list. */
    key = conflict(require, wider);
    CU_ASSERT_STRING_EQUAL(key != NULL ? key : "", "allow");
    key = conflict(idstrict, idoff);
    CU_ASSERT_STRING_EQUAL(key != NULL ? key : "", "identity_check");
    /* Identical settings, in any order or spacing: fine. */
    CU_ASSERT_PTR_NULL(conflict(require, require2));
    CU_ASSERT_PTR_NULL(conflict(wider, spaced));
    /* A second activation that says nothing (another library context),
     * or only what the first has by default, or less than the first. */
    CU_ASSERT_PTR_NULL(conflict(require, none));
    CU_ASSERT_PTR_NULL(conflict(none, idstrict));
    CU_ASSERT_PTR_NULL(conflict(none, timeout));
    CU_ASSERT_PTR_NULL(conflict(none, off));
    /* A client section after a server section: the first runtime would
     * send no client_name the second asked for. */
    key = conflict(require, client);
    CU_ASSERT_STRING_EQUAL(key != NULL ? key : "", "client_name");
}

/* dance_config_value prints written and default values alike. */
static void test_values(void)
{
    static const char *const kv[] = {"client_auth", "optional", "allow",
                                     "a.example,  *.b.example", NULL};
    dance_config cfg;
    char buf[100];

    if (!load(&cfg, kv))
        return;
    CU_ASSERT_STRING_EQUAL(
        dance_config_value(&cfg, "client_auth", buf, sizeof(buf)), "optional");
    CU_ASSERT_STRING_EQUAL(dance_config_value(&cfg, "allow", buf, sizeof(buf)),
                           "a.example, *.b.example");
    CU_ASSERT_STRING_EQUAL(
        dance_config_value(&cfg, "timeout_ms", buf, sizeof(buf)), "2000");
    CU_ASSERT_STRING_EQUAL(
        dance_config_value(&cfg, "identity_check", buf, sizeof(buf)), "strict");
    CU_ASSERT_STRING_EQUAL(
        dance_config_value(&cfg, "client_name", buf, sizeof(buf)), "auto");
    CU_ASSERT_PTR_NULL(dance_config_given(&cfg, "timeout_ms"));
    CU_ASSERT_STRING_EQUAL(dance_config_given(&cfg, "client_auth"), "optional");
    /* Every key can be printed (a new key needs a case in render()). */
    for (size_t k = 0; dance_config_keys[k] != NULL; k++) {
        dance_config_value(&cfg, dance_config_keys[k], buf, sizeof(buf));
        CU_ASSERT_STRING_NOT_EQUAL(buf, "(default)");
    }
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
    refused("profile", "client-auth-12", "hello, client-auth, client-auth-13");
    refused("identity_check", "loose", "strict, off");
    refused("identity_check", "", "strict, off");
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
        {"profile client-auth and its alias client-auth-13",
         test_profile_names},
        {"allow is required with client_auth on; * is every name",
         test_allow_required},
        {"a second activation may not change a setting",
         test_second_activation},
        {"values print, written or default", test_values},
        CU_TEST_INFO_NULL};

    return dance_test_add_suite("config", NULL, NULL, tests);
}
