/*
 * test_config.c - suite "config": defaults and strict parsing of every
 * openssl.cnf key (provider/dance_config.c).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/conf.h>

#include "dance_activate.h"
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
    for (size_t k = 0; dance_config_table[k].name != NULL; k++)
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
    /* Every key can be printed; a name that is no key is not printed as
     * if it were one. */
    for (size_t k = 0; dance_config_table[k].name != NULL; k++) {
        dance_config_value(&cfg, dance_config_table[k].name, buf, sizeof(buf));
        CU_ASSERT_STRING_NOT_EQUAL(buf, "(not a key)");
    }
    CU_ASSERT_STRING_EQUAL(
        dance_config_value(&cfg, "clientauth", buf, sizeof(buf)),
        "(not a key)");
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

/* ---- the key table (dance_config_table) --------------------------------- */

/* load_one - cfg from key = value alone (with allow = * when key turns
 * client_auth on, which needs it); 1 if it loads. */
static int load_one(dance_config *cfg, const char *key, const char *value,
                    char *err, size_t errlen)
{
    const char *kv[] = {key, value, "allow", "*", NULL};

    if (strcmp(key, "allow") == 0)
        kv[2] = NULL;
    return dance_config_load(cfg, from_pairs, (void *)kv, err, errlen);
}

/* round_trip - key = value loads, is recorded as written, and prints as
 * expect; what it prints loads again and prints the same. */
static void round_trip(const dance_config_key *k, const char *value,
                       const char *expect)
{
    dance_config a, b;
    char err[300] = "", pa[300], pb[300];

    if (load_one(&a, k->name, value, err, sizeof(err)) != 1) {
        fprintf(stderr, "%s = '%s': %s\n", k->name, value, err);
        CU_FAIL("a key's own value is refused");
        return;
    }
    CU_ASSERT_STRING_EQUAL(dance_config_given(&a, k->name), value);
    dance_config_value(&a, k->name, pa, sizeof(pa));
    if (strcmp(pa, expect) != 0)
        fprintf(stderr, "%s = '%s' prints '%s', not '%s'\n", k->name, value, pa,
                expect);
    CU_ASSERT_STRING_EQUAL(pa, expect);
    if (load_one(&b, k->name, pa, err, sizeof(err)) != 1) {
        fprintf(stderr, "%s = '%s' (as printed): %s\n", k->name, pa, err);
        CU_FAIL("what a key prints does not parse");
    } else {
        CU_ASSERT_STRING_EQUAL(dance_config_value(&b, k->name, pb, sizeof(pb)),
                               pa);
        /* Equal as printed is equal for a second activation too. */
        CU_ASSERT_PTR_NULL(dance_config_conflict(&a, &b));
        dance_config_clear(&b);
    }
    dance_config_clear(&a);
}

/* Every entry is complete, and its name is unique. */
static void test_table_shape(void)
{
    size_t n = 0;

    for (const dance_config_key *k = dance_config_table; k->name != NULL;
         k++, n++) {
        CU_ASSERT_PTR_NOT_NULL(k->parse);
        CU_ASSERT_PTR_NOT_NULL(k->print);
        CU_ASSERT(k->help != NULL && k->help[0] != '\0');
        CU_ASSERT(k->accepted != NULL && k->accepted[0] != '\0');
        CU_ASSERT(k->example != NULL && k->example[0] != '\0');
        CU_ASSERT(k->role <= DANCE_ROLE_LOGGING);
        CU_ASSERT_PTR_EQUAL(dance_config_key_find(k->name), k);
        if (k->type == DANCE_KEY_ENUM)
            CU_ASSERT_PTR_NOT_NULL(k->names);
        if (k->type == DANCE_KEY_NUMBER) {
            CU_ASSERT(k->min <= k->def && k->def <= k->max);
        }
        if (k->type == DANCE_KEY_ENUM || k->type == DANCE_KEY_NUMBER)
            CU_ASSERT_PTR_NULL(k->def_text);
    }
    CU_ASSERT(n > 0 && n < DANCE_CONFIG_MAX_KEYS);
    CU_ASSERT_PTR_NULL(dance_config_key_find("clientauth"));
    CU_ASSERT_PTR_NULL(dance_config_key_find(""));
}

/* Every key's default prints as something that parses back to itself;
 * a key without a default prints what unset means. */
static void test_table_defaults(void)
{
    static const char *const none[] = {NULL};
    dance_config cfg;
    char err[300] = "", buf[300];

    CU_ASSERT_EQUAL_FATAL(
        dance_config_load(&cfg, from_pairs, (void *)none, err, sizeof(err)), 1);
    for (const dance_config_key *k = dance_config_table; k->name != NULL; k++) {
        int has_default = k->type == DANCE_KEY_ENUM ||
                          k->type == DANCE_KEY_NUMBER || k->def_text != NULL;

        dance_config_value(&cfg, k->name, buf, sizeof(buf));
        if (k->def_text != NULL)
            CU_ASSERT_STRING_EQUAL(buf, k->def_text);
        if (has_default)
            round_trip(k, buf, buf);
        else
            CU_ASSERT_STRING_EQUAL(buf, k->unset != NULL ? k->unset : "");
    }
    dance_config_clear(&cfg);
}

/* Every key's example parses and prints back as written. */
static void test_table_examples(void)
{
    for (const dance_config_key *k = dance_config_table; k->name != NULL; k++)
        round_trip(k, k->example, k->example);
}

/* Every value of every enum has a name that parses to it and prints as
 * itself; an alias parses to its value and prints as the value's name;
 * numbers accept their bounds and refuse what lies beyond. */
static void test_table_values(void)
{
    /* The count of each enum's values (its last value + 1). */
    static const struct {
        const char *key;
        size_t count;
    } enums[] = {
        {"client_auth", DANCE_CLIENT_AUTH_REQUIRE + 1},
        {"request_cert", DANCE_REQUEST_ALWAYS + 1},
        {"server_dane", DANCE_SERVER_DANE_REQUIRE + 1},
        {"profile", DANCE_PROFILE_CLIENT_AUTH_13 + 1},
        {"hello_name", 2},
        {"dnssec", DANCE_RES_MODE_TRUST_AD + 1},
        {"log_level", DANCE_LOG_DEBUG + 1},
        {"identity_check", DANCE_IDENTITY_CHECK_OFF + 1},
    };
    size_t checked = 0;

    for (const dance_config_key *k = dance_config_table; k->name != NULL; k++) {
        char text[40], err[300];
        dance_config cfg;
        size_t n = 0;

        if (k->type == DANCE_KEY_NUMBER) {
            snprintf(text, sizeof(text), "%lu", k->min);
            round_trip(k, text, text);
            snprintf(text, sizeof(text), "%lu", k->max);
            round_trip(k, text, text);
            snprintf(text, sizeof(text), "%lu", k->max + 1);
            CU_ASSERT_EQUAL(load_one(&cfg, k->name, text, err, sizeof(err)), 0);
            if (k->min > 0) {
                snprintf(text, sizeof(text), "%lu", k->min - 1);
                CU_ASSERT_EQUAL(load_one(&cfg, k->name, text, err, sizeof(err)),
                                0);
            }
            continue;
        }
        if (k->type != DANCE_KEY_ENUM)
            continue;
        while (k->names[n] != NULL) {
            CU_ASSERT(k->names[n][0] != '\0');
            for (size_t j = 0; j < n; j++)
                CU_ASSERT_STRING_NOT_EQUAL(k->names[j], k->names[n]);
            round_trip(k, k->names[n], k->names[n]);
            n++;
        }
        for (size_t i = 0; k->aliases != NULL && k->aliases[i].name != NULL;
             i++) {
            CU_ASSERT_FATAL(k->aliases[i].value >= 0 &&
                            (size_t)k->aliases[i].value < n);
            round_trip(k, k->aliases[i].name, k->names[k->aliases[i].value]);
        }
        for (size_t e = 0; e < sizeof(enums) / sizeof(enums[0]); e++)
            if (strcmp(enums[e].key, k->name) == 0) {
                CU_ASSERT_EQUAL(n, enums[e].count);
                checked++;
            }
    }
    /* Every enum key is in the list above. */
    CU_ASSERT_EQUAL(checked, sizeof(enums) / sizeof(enums[0]));
    for (size_t e = 0; e < sizeof(enums) / sizeof(enums[0]); e++) {
        const dance_config_key *k = dance_config_key_find(enums[e].key);

        CU_ASSERT(k != NULL && k->type == DANCE_KEY_ENUM);
    }
}

/* The resolver's defaults are the resolver's: the provider's keys that
 * mean the same thing start from them. */
static void test_resolver_defaults(void)
{
    static const char *const none[] = {NULL};
    dance_res_config own, from_cfg;
    dance_config cfg;
    char err[300] = "";

    CU_ASSERT_EQUAL_FATAL(
        dance_config_load(&cfg, from_pairs, (void *)none, err, sizeof(err)), 1);
    dance_res_config_init(&own);
    dance_config_resolver(&cfg, &from_cfg);
    CU_ASSERT_EQUAL(from_cfg.mode, own.mode);
    CU_ASSERT_STRING_EQUAL(from_cfg.trust_anchor, own.trust_anchor);
    CU_ASSERT_PTR_NULL(from_cfg.nameservers);
    CU_ASSERT_EQUAL(from_cfg.cache_max_entries, own.cache_max_entries);
    CU_ASSERT_EQUAL(from_cfg.cache_max_bytes, own.cache_max_bytes);
    CU_ASSERT_EQUAL(from_cfg.cache_max_ttl, own.cache_max_ttl);
    CU_ASSERT_EQUAL(from_cfg.clock_skew, own.clock_skew);
    dance_config_clear(&cfg);
}

/* The activation log line names the flagged keys with their values. */
static void test_summary(void)
{
    static const char *const kv[] = {
        "client_auth",    "require", "allow",    "*", "profile",
        "client-auth-13", "dnssec",  "trust-ad", NULL};
    dance_config cfg;
    char buf[300];

    if (!load(&cfg, kv))
        return;
    CU_ASSERT_STRING_EQUAL(dance_config_summary(&cfg, buf, sizeof(buf)),
                           "client_auth=require server_dane=off "
                           "profile=client-auth extension_type=65293 "
                           "dnssec=trust-ad");
    dance_config_clear(&cfg);
}

/* ---- activation checks shared with check-config (dance_activate.c) ---- */

/* conf_from - a CONF parsed from text by libcrypto (NULL on a parse
 * error); free with NCONF_free. */
static CONF *conf_from(const char *text)
{
    BIO *bio = BIO_new_mem_buf(text, -1);
    CONF *conf = NCONF_new(NULL);
    long line = -1;

    if (bio == NULL || conf == NULL || NCONF_load_bio(conf, bio, &line) <= 0) {
        NCONF_free(conf);
        conf = NULL;
    }
    BIO_free(bio);
    return conf;
}

/* or_null - s, or "(null)" (to compare strings that may be missing). */
static const char *or_null(const char *s)
{
    return s != NULL ? s : "(null)";
}

/* The section is found the way libcrypto names the provider: by the
 * providers entry (after any "x." prefix) or by its identity; a misspelt
 * key there is found wherever the section is. */
static void test_activate_section(void)
{
    static const char text[] = "openssl_conf = init\n"
                               "client_auth = off\n"
                               "[init]\n"
                               "providers = provs\n"
                               "[provs]\n"
                               "default = dflt\n"
                               "x.dance = s1\n"
                               "other = s2\n"
                               "[dflt]\n"
                               "activate = 1\n"
                               "[s1]\n"
                               "activate = 0\n"
                               "client_auth = require\n"
                               "client_auth = optional\n"
                               "allow = names\n"
                               "[s2]\n"
                               "identity = dance2\n"
                               "clientauth = require\n"
                               "[names]\n"
                               "a = *.test\n";
    CONF *conf = conf_from(text);

    CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
    CU_ASSERT_STRING_EQUAL(or_null(dance_activate_find_section(conf, "dance")),
                           "s1");
    CU_ASSERT_STRING_EQUAL(or_null(dance_activate_find_section(conf, "dance2")),
                           "s2");
    /* "other" is renamed by its identity: no provider has that name. */
    CU_ASSERT_PTR_NULL(dance_activate_find_section(conf, "other"));
    CU_ASSERT_PTR_NULL(dance_activate_find_section(conf, "x.dance"));
    CU_ASSERT_STRING_EQUAL(or_null(dance_activate_unknown_key(conf, "s2")),
                           "clientauth");
    CU_ASSERT_PTR_NULL(dance_activate_unknown_key(conf, "s1"));
    /* The core hands over the last value; a value that names a section
     * is passed as allow.<key>, so allow itself is not set; nothing comes
     * from the file's default section. */
    CU_ASSERT_STRING_EQUAL(
        or_null(dance_activate_core_value(conf, "s1", "client_auth")),
        "optional");
    CU_ASSERT_PTR_NULL(dance_activate_core_value(conf, "s1", "allow"));
    CU_ASSERT_PTR_NULL(dance_activate_core_value(conf, "s2", "client_auth"));
    /* OpenSSL 3.0 activates on the key alone, whatever its value. */
    if (OpenSSL_version_num() < 0x30200000L)
        CU_ASSERT_EQUAL(dance_activate_activates(conf, "s1"), 1);
    CU_ASSERT_EQUAL(dance_activate_activates(conf, "s2"), 0);
    NCONF_free(conf);
}

/* An extension type libssl parses itself is refused; ours is not. */
static void test_activate_settings(void)
{
    static const char *const types[] = {"50", "43", "65000", "0"};
    dance_config cfg;
    char err[300];

    for (size_t i = 0; i < 3; i++) {
        const char *kv[] = {"extension_type", types[i], NULL};

        if (!load(&cfg, kv))
            continue;
        err[0] = '\0';
        CU_ASSERT_EQUAL(dance_activate_check_settings(&cfg, err, sizeof(err)),
                        0);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "extension_type"));
        dance_config_clear(&cfg);
    }
    {
        const char *none[] = {NULL};

        if (load(&cfg, none)) {
            CU_ASSERT_EQUAL(
                dance_activate_check_settings(&cfg, err, sizeof(err)), 1);
            dance_config_clear(&cfg);
        }
    }
    CU_ASSERT_EQUAL(
        dance_config_check_value("extension_type", types[3], err, sizeof(err)),
        0);
    CU_ASSERT_EQUAL(
        dance_config_check_value("clientauth", "off", err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(
        dance_config_check_value("client_auth", "off", err, sizeof(err)), 1);
}

/* A second activation that changes a setting is refused naming the key
 * and both sections. */
static void test_activate_second(void)
{
    static const char *const off[] = {"client_auth", "off", NULL};
    static const char *const req[] = {"client_auth", "require", "allow", "*",
                                      NULL};
    dance_config a, b;
    char err[600] = "";

    if (!load(&a, off))
        return;
    if (load(&b, req)) {
        a.source = strdup("[one]");
        b.source = strdup("[two]");
        CU_ASSERT_EQUAL(dance_activate_second(&a, &b, err, sizeof(err)), 0);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "[two] sets client_auth = require"));
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "[one]"));
        CU_ASSERT_EQUAL(dance_activate_second(&b, &b, err, sizeof(err)), 1);
        dance_config_clear(&b);
    }
    dance_config_clear(&a);
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
        {"table: every entry complete, names unique", test_table_shape},
        {"table: every default parses and prints back", test_table_defaults},
        {"table: every example parses and prints back", test_table_examples},
        {"table: every enum value has a name; number bounds",
         test_table_values},
        {"table: resolver keys default to the resolver's defaults",
         test_resolver_defaults},
        {"table: the activation line's keys", test_summary},
        {"activation: the section, its unknown keys, the core's values",
         test_activate_section},
        {"activation: extension types libssl handles are refused",
         test_activate_settings},
        {"activation: a second one may not change a setting",
         test_activate_second},
        CU_TEST_INFO_NULL};

    return dance_test_add_suite("config", NULL, NULL, tests);
}
