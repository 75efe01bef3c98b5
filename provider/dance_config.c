/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_config.c - defaults and strict parsing of the openssl.cnf keys.
 */
#include "dance_config.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dance_name.h"
#include "dance_net.h"

/* Names of the policy enums, by value (NULL-terminated). The resolver's
 * modes and the log levels have theirs in their own modules. */
static const char *const auth_names[] = {"off", "optional", "require", NULL};
static const char *const req_names[] = {"signalled", "always", NULL};
static const char *const sdane_names[] = {"off", "opportunistic", "require",
                                          NULL};
static const char *const onoff_names[] = {"off", "on", NULL};
static const char *const idcheck_names[] = {"strict", "off", NULL};
static const char *const rpk_names[] = {"off", "accept", "prefer", NULL};
/* profile: "client-auth" names the draft profile; "client-auth-13" is its
 * older name, kept as an alias. */
static const char *const prof_names[] = {"hello", "client-auth", NULL};
static const dance_key_alias prof_aliases[] = {
    {"client-auth-13", DANCE_PROFILE_CLIENT_AUTH_13}, {NULL, 0}};

_Static_assert(DANCE_PROFILE_HELLO == 0 && DANCE_PROFILE_CLIENT_AUTH_13 == 1,
               "prof_names is indexed by dance_profile");
_Static_assert(DANCE_CLIENT_AUTH_REQUIRE == 2 && DANCE_REQUEST_ALWAYS == 1 &&
                   DANCE_SERVER_DANE_REQUIRE == 2 &&
                   DANCE_IDENTITY_CHECK_OFF == 1 &&
                   DANCE_RES_MODE_TRUST_AD == 1 && DANCE_LOG_DEBUG == 3,
               "the name tables are indexed by their enum");

/* dance_config_enum_names - see header. */
const char *dance_config_enum_names(const dance_config_key *key, char *buf,
                                    size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (int i = 0; key->names != NULL && key->names[i] != NULL && used < len;
         i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s",
                                 i > 0 ? ", " : "", key->names[i]);
    for (int i = 0;
         key->aliases != NULL && key->aliases[i].name != NULL && used < len;
         i++)
        used += (size_t)snprintf(buf + used, len - used, ", %s",
                                 key->aliases[i].name);
    return buf;
}

/* choice - value must be one of key's names or aliases; its enum value. */
static int choice(const dance_config_key *key, const char *value, int *out,
                  char *err, size_t errlen)
{
    char names[200];

    for (int i = 0; key->names[i] != NULL; i++)
        if (strcmp(value, key->names[i]) == 0) {
            *out = i;
            return 1;
        }
    for (int i = 0; key->aliases != NULL && key->aliases[i].name != NULL; i++)
        if (strcmp(value, key->aliases[i].name) == 0) {
            *out = key->aliases[i].value;
            return 1;
        }
    snprintf(err, errlen, "%s = '%s' is not valid (expected %s)", key->name,
             value, dance_config_enum_names(key, names, sizeof(names)));
    return 0;
}

/* number - a decimal whole number in [min, max]. */
static int number(const char *key, const char *value, unsigned long min,
                  unsigned long max, unsigned long *out, char *err,
                  size_t errlen)
{
    char *end = NULL;

    errno = 0;
    *out = value[0] >= '0' && value[0] <= '9' ? strtoul(value, &end, 10) : 0;
    if (end == NULL || *end != '\0' || errno != 0 || *out < min || *out > max) {
        snprintf(err, errlen,
                 "%s = '%s' is not valid (expected a whole number from %lu "
                 "to %lu)",
                 key, value, min, max);
        return 0;
    }
    return 1;
}

/* copy - strdup that reports failure in err. */
static int copy(const char *value, char **out, char *err, size_t errlen)
{
    *out = strdup(value);
    if (*out == NULL)
        snprintf(err, errlen, "out of memory");
    return *out != NULL;
}

/* field - key's field in cfg. */
static void *field(const dance_config_key *key, dance_config *cfg)
{
    return (char *)cfg + key->offset;
}

/* cfield - key's field in cfg, read-only. */
static const void *cfield(const dance_config_key *key, const dance_config *cfg)
{
    return (const char *)cfg + key->offset;
}

/* store_uint - v into an unsigned field (or an enum) of size bytes. */
static void store_uint(void *to, size_t size, unsigned long v)
{
    if (size == sizeof(uint16_t)) {
        uint16_t x = (uint16_t)v;
        memcpy(to, &x, size);
    } else if (size == sizeof(uint32_t)) {
        uint32_t x = (uint32_t)v;
        memcpy(to, &x, size);
    } else {
        uint64_t x = v;
        memcpy(to, &x, sizeof(x));
    }
}

/* load_uint - an unsigned field (or an enum) of size bytes. */
static unsigned long load_uint(const void *from, size_t size)
{
    if (size == sizeof(uint16_t)) {
        uint16_t x;
        memcpy(&x, from, size);
        return x;
    }
    if (size == sizeof(uint32_t)) {
        uint32_t x;
        memcpy(&x, from, size);
        return x;
    }
    uint64_t x;
    memcpy(&x, from, sizeof(x));
    return (unsigned long)x;
}

/* set_text - replace the string field of key by a copy of value (NULL:
 * unset). */
static int set_text(const dance_config_key *key, dance_config *cfg,
                    const char *value, char *err, size_t errlen)
{
    char **to = field(key, cfg);

    free(*to);
    *to = NULL;
    return value == NULL || copy(value, to, err, errlen);
}

/* ---- parsers (dance_key_parse_fn) ---------------------------------------- */

/* parse_enum - one of the key's names or aliases. */
static int parse_enum(const dance_config_key *key, dance_config *cfg,
                      const char *v, char *err, size_t errlen)
{
    int i;

    if (!choice(key, v, &i, err, errlen))
        return 0;
    store_uint(field(key, cfg), key->size, (unsigned long)i);
    return 1;
}

/* parse_number - a whole number in [key->min, key->max]. */
static int parse_number(const dance_config_key *key, dance_config *cfg,
                        const char *v, char *err, size_t errlen)
{
    unsigned long n;

    if (!number(key->name, v, key->min, key->max, &n, err, errlen))
        return 0;
    store_uint(field(key, cfg), key->size, n);
    return 1;
}

/* parse_client_name - "auto", or a TLSA owner name. */
static int parse_client_name(const dance_config_key *key, dance_config *cfg,
                             const char *v, char *err, size_t errlen)
{
    const char *why = "";

    if (strcmp(v, "auto") == 0)
        return set_text(key, cfg, NULL, err, errlen);
    if (!dance_name_check(v, strlen(v), &why)) {
        snprintf(err, errlen,
                 "client_name = '%s' is not valid (%s; expected auto or "
                 "a TLSA owner name such as _mqtt-client.dev1.example.com)",
                 v, why);
        return 0;
    }
    return set_text(key, cfg, v, err, errlen);
}

/* free_allow - forget cfg's allow list. */
static void free_allow(dance_config *cfg)
{
    for (size_t i = 0; i < cfg->nallow; i++)
        free(cfg->allow[i]);
    free(cfg->allow);
    cfg->allow = NULL;
    cfg->nallow = 0;
}

/* parse_allow - comma-separated patterns into cfg->allow. */
static int parse_allow(const dance_config_key *key, dance_config *cfg,
                       const char *value, char *err, size_t errlen)
{
    const char *p = value;

    (void)key;
    free_allow(cfg);
    while (*p != '\0') {
        size_t len;
        char **grown;
        char *item;
        const char *why = "";

        p += strspn(p, ", \t");
        len = strcspn(p, ", \t");
        if (len == 0)
            break;
        item = strndup(p, len);
        if (item == NULL || !dance_pattern_check(item, &why)) {
            snprintf(err, errlen,
                     "allow: '%.*s' is not a name or *.name pattern (%s)",
                     (int)len, p, item == NULL ? "out of memory" : why);
            free(item);
            return 0;
        }
        grown = realloc(cfg->allow, (cfg->nallow + 1) * sizeof(*grown));
        if (grown == NULL) {
            free(item);
            snprintf(err, errlen, "out of memory");
            return 0;
        }
        cfg->allow = grown;
        cfg->allow[cfg->nallow++] = item;
        p += len;
    }
    if (cfg->nallow == 0) {
        snprintf(err, errlen, "allow = '%s' names no pattern", value);
        return 0;
    }
    return 1;
}

/* parse_service - an underscore label such as "_mqtt-client". */
static int parse_service(const dance_config_key *key, dance_config *cfg,
                         const char *value, char *err, size_t errlen)
{
    const char *why = "";

    if (value[0] != '_' || strchr(value, '.') != NULL ||
        !dance_name_check(value, strlen(value), &why)) {
        snprintf(err, errlen,
                 "client_service = '%s' is not valid (expected one label "
                 "starting with '_', e.g. _mqtt-client)",
                 value);
        return 0;
    }
    return set_text(key, cfg, value, err, errlen);
}

/* parse_nameservers - "IP[@PORT], ...", parsed once here into cfg->servers
 * (the resolver takes that list, dance_config_resolver) and kept as written
 * for printing. */
static int parse_nameservers(const dance_config_key *key, dance_config *cfg,
                             const char *v, char *err, size_t errlen)
{
    char why[200];

    if (!dance_net_parse_servers(v, cfg->servers, &cfg->nservers, why,
                                 sizeof(why))) {
        cfg->nservers = 0;
        snprintf(err, errlen, "nameservers = '%s' is not valid: %s", v, why);
        return 0;
    }
    return set_text(key, cfg, v, err, errlen);
}

/* parse_path - any text (a file's name; the resolver reads it). */
static int parse_path(const dance_config_key *key, dance_config *cfg,
                      const char *v, char *err, size_t errlen)
{
    return set_text(key, cfg, v, err, errlen);
}

/* parse_log_file - a path, "stderr", "syslog" or "syslog:<socket>". */
static int parse_log_file(const dance_config_key *key, dance_config *cfg,
                          const char *v, char *err, size_t errlen)
{
    if (v[0] == '\0') {
        snprintf(err, errlen,
                 "log_file is empty (expected a path, "
                 "stderr or syslog)");
        return 0;
    }
    return set_text(key, cfg, v, err, errlen);
}

/* parse_stats_file - an absolute path; "%p" (the pid) and "%%" are its only
 * escapes (provider/dance_stats.h). */
static int parse_stats_file(const dance_config_key *key, dance_config *cfg,
                            const char *v, char *err, size_t errlen)
{
    const char *p = v;
    int ok = v[0] == '/';

    while (ok && (p = strchr(p, '%')) != NULL) {
        ok = p[1] == 'p' || p[1] == '%';
        p += 2;
    }
    if (!ok) {
        snprintf(err, errlen,
                 "stats_file = '%s' is not valid (expected an absolute "
                 "path; %%p in it stands for the process id, %%%% for %%)",
                 v);
        return 0;
    }
    return set_text(key, cfg, v, err, errlen);
}

/* parse_prewarm_file - an absolute path (the file is read at activation,
 * dance_activate_prewarm). */
static int parse_prewarm_file(const dance_config_key *key, dance_config *cfg,
                              const char *v, char *err, size_t errlen)
{
    if (v[0] != '/') {
        snprintf(err, errlen,
                 "prewarm_file = '%s' is not valid (expected an absolute "
                 "path to a file of ClientNames, one a line)",
                 v);
        return 0;
    }
    return set_text(key, cfg, v, err, errlen);
}

/* ---- printers (dance_key_print_fn) --------------------------------------- */

/* print_enum - the value's first name. */
static void print_enum(const dance_config_key *key, const dance_config *cfg,
                       char *buf, size_t len)
{
    unsigned long v = load_uint(cfield(key, cfg), key->size);
    size_t n = 0;

    while (key->names[n] != NULL)
        n++;
    snprintf(buf, len, "%s", v < n ? key->names[v] : "?");
}

/* print_number - decimal. */
static void print_number(const dance_config_key *key, const dance_config *cfg,
                         char *buf, size_t len)
{
    snprintf(buf, len, "%lu", load_uint(cfield(key, cfg), key->size));
}

/* print_text - the string, or the key's unset text. */
static void print_text(const dance_config_key *key, const dance_config *cfg,
                       char *buf, size_t len)
{
    const char *const *s = cfield(key, cfg);

    snprintf(buf, len, "%s",
             *s != NULL ? *s : (key->unset != NULL ? key->unset : ""));
}

/* print_allow - the patterns, ", "-separated. */
static void print_allow(const dance_config_key *key, const dance_config *cfg,
                        char *buf, size_t len)
{
    size_t used = 0;

    (void)key;
    buf[0] = '\0';
    for (size_t i = 0; i < cfg->nallow && used < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s",
                                 i > 0 ? ", " : "", cfg->allow[i]);
}

/* ---- the table ---------------------------------------------------------- */

#define FIELD(f) offsetof(dance_config, f), sizeof(((dance_config *)0)->f)
#define ENUM(names, aliases) names, aliases, 0, 0, parse_enum, print_enum
#define NUMBER(lo, hi) NULL, NULL, lo, hi, parse_number, print_number
#define TEXT(parser, printer) NULL, NULL, 0, 0, parser, printer
#define STR_(x) #x
#define STR(x) STR_(x)

/* Keep the order: it is the order keys are read and checked in (the first
 * bad one is the one reported). To add a key: its field in dance_config,
 * one entry here (an existing parser/printer, or a new pair next to
 * theirs), the README's key table; an enum key also gets a line in
 * unit.config's test_table_values (which checks every value has a name).
 * E.g. an on/off key:
 *   {"raw_public_keys", DANCE_KEY_ENUM, DANCE_ROLE_BOTH, 0, "off, on", 0,
 *    NULL, NULL, "on", "<one sentence>", FIELD(raw_public_keys),
 *    ENUM(onoff_names, NULL)},
 * and a path that may be unset:
 *   {"stats_file", DANCE_KEY_PATH, DANCE_ROLE_LOGGING, 0, "a file", 0, NULL,
 *    "none", "/run/dance/stats.prom", "<one sentence>", FIELD(stats_file),
 *    TEXT(parse_path, print_text)},
 * (a print_text field is a char * that dance_config_clear frees). */
const dance_config_key dance_config_table[] = {
    {"client_name", DANCE_KEY_NAME, DANCE_ROLE_CLIENT, 0,
     "auto, or a TLSA owner name", 0, NULL, "auto",
     "_mqtt-client.device1.example.com",
     "the ClientName the client sends; auto: the certificate's first "
     "dNSName SAN",
     FIELD(client_name), TEXT(parse_client_name, print_text)},
    {"client_auth", DANCE_KEY_ENUM, DANCE_ROLE_SERVER, DANCE_KEY_SUMMARY,
     "off, optional, require", DANCE_CLIENT_AUTH_OFF, NULL, NULL, "require",
     "whether the server authenticates clients by DANE: off changes "
     "nothing, optional accepts DANE and other clients, require only DANE "
     "clients",
     FIELD(client_auth), ENUM(auth_names, NULL)},
    {"request_cert", DANCE_KEY_ENUM, DANCE_ROLE_SERVER, 0, "signalled, always",
     DANCE_REQUEST_SIGNALLED, NULL, NULL, "always",
     "when the server asks for a certificate: only from clients that signal "
     "dane_clientid, or from every client",
     FIELD(request_cert), ENUM(req_names, NULL)},
    {"allow", DANCE_KEY_LIST, DANCE_ROLE_SERVER, 0,
     "names and *.name patterns, or * for every name", 0, NULL, "",
     "*.devices.example.com, _mqtt-client.*.example.net",
     "the ClientNames the server looks up and may accept; required when "
     "client_auth is not off",
     offsetof(dance_config, allow), 0, TEXT(parse_allow, print_allow)},
    {"client_service", DANCE_KEY_NAME, DANCE_ROLE_SERVER, 0,
     "one label starting with '_'", 0, NULL, "none", "_mqtt-client",
     "a label the server prepends to bare ClientNames (legacy -00 style)",
     FIELD(client_service), TEXT(parse_service, print_text)},
    {"server_dane", DANCE_KEY_ENUM, DANCE_ROLE_CLIENT, DANCE_KEY_SUMMARY,
     "off, opportunistic, require", DANCE_SERVER_DANE_OFF, NULL, NULL,
     "opportunistic",
     "whether the client checks servers by their TLSA records (RFC 7671)",
     FIELD(server_dane), ENUM(sdane_names, NULL)},
    {"profile", DANCE_KEY_ENUM, DANCE_ROLE_BOTH, DANCE_KEY_SUMMARY,
     "client-auth (alias client-auth-13), hello",
     DANCE_PROFILE_CLIENT_AUTH_13, /* the draft's (issue 10) */
     NULL, NULL, "client-auth",
     "the wire profile of dane_clientid: hello (legacy, ClientHello) or "
     "client-auth (draft-ietf-dance-client-auth)",
     FIELD(profile), ENUM(prof_names, prof_aliases)},
    {"hello_name", DANCE_KEY_ENUM, DANCE_ROLE_CLIENT, 0, "off, on", 1, NULL,
     NULL, "off",
     "whether the client sends its name in ClientHello (hello profile)",
     FIELD(hello_name), ENUM(onoff_names, NULL)},
    {"extension_type", DANCE_KEY_NUMBER, DANCE_ROLE_BOTH, DANCE_KEY_SUMMARY,
     "1 to 65535, not one libssl handles", DANCE_EXT_TYPE_DEFAULT, NULL, NULL,
     "65293",
     "the TLS extension number of dane_clientid until IANA assigns one",
     FIELD(extension_type), NUMBER(1, 65535)},
    {"dnssec", DANCE_KEY_ENUM, DANCE_ROLE_RESOLVER, DANCE_KEY_SUMMARY,
     "validate, trust-ad", DANCE_RES_DEFAULT_MODE, NULL, NULL, "trust-ad",
     "validate the chain of trust from trust_anchor, or believe the AD bit "
     "of a resolver on loopback",
     FIELD(dnssec), ENUM(dance_res_mode_names, NULL)},
    {"trust_anchor", DANCE_KEY_PATH, DANCE_ROLE_RESOLVER, 0,
     "a file of DS or DNSKEY records", 0, DANCE_RES_DEFAULT_TRUST_ANCHOR, NULL,
     "/usr/share/dns/root.key", "the DNSSEC trust anchors (validate mode)",
     FIELD(trust_anchor), TEXT(parse_path, print_text)},
    {"nameservers", DANCE_KEY_LIST, DANCE_ROLE_RESOLVER, 0,
     "IP[@PORT], ... (at most 8)", 0, NULL, DANCE_RES_DEFAULT_RESOLV_CONF,
     "127.0.0.1@5354, ::1",
     "the DNS servers asked; unset: those of /etc/resolv.conf",
     FIELD(nameservers), TEXT(parse_nameservers, print_text)},
    {"timeout_ms", DANCE_KEY_NUMBER, DANCE_ROLE_RESOLVER, 0, "10 to 60000",
     2000, NULL, NULL, "500",
     "the longest a handshake waits for one DNS lookup, retries included, "
     "milliseconds",
     FIELD(timeout_ms), NUMBER(10, 60000)},
    {"cache_max_entries", DANCE_KEY_NUMBER, DANCE_ROLE_RESOLVER, 0,
     "0 to 10000000 (0: no cache)", DANCE_RES_DEFAULT_CACHE_MAX_ENTRIES, NULL,
     NULL, "0", "how many answers the cache holds", FIELD(cache_max_entries),
     NUMBER(0, 10000000)},
    {"cache_max_ttl", DANCE_KEY_NUMBER, DANCE_ROLE_RESOLVER, 0, "0 to 604800",
     DANCE_RES_DEFAULT_CACHE_MAX_TTL, NULL, NULL, "60",
     "the longest an answer is cached, seconds", FIELD(cache_max_ttl),
     NUMBER(0, 604800)},
    {"log_level", DANCE_KEY_ENUM, DANCE_ROLE_LOGGING, 0,
     "error, warn, info, debug", DANCE_LOG_WARN, NULL, NULL, "info",
     "the least severe messages logged (DANCE_LOG_LEVEL overrides it)",
     FIELD(log_level), ENUM(dance_log_level_names, NULL)},
    {"log_file", DANCE_KEY_PATH, DANCE_ROLE_LOGGING, 0,
     "stderr, syslog, syslog:<socket> or a file", 0, "stderr", NULL, "syslog",
     "where log lines go", FIELD(log_file), TEXT(parse_log_file, print_text)},
    {"identity_check", DANCE_KEY_ENUM, DANCE_ROLE_SERVER, 0, "strict, off",
     DANCE_IDENTITY_CHECK_STRICT, NULL, NULL, "off",
     "strict: the certificate names no one but the ClientName",
     FIELD(identity_check), ENUM(idcheck_names, NULL)},
    /* issue 10; OpenSSL >= 3.2 (checked at activation, dance_activate.c) */
    {"raw_public_keys", DANCE_KEY_ENUM, DANCE_ROLE_BOTH, 0,
     "off, accept, prefer", DANCE_RAW_PUBLIC_KEYS_OFF, NULL, NULL, "accept",
     "RFC 7250 raw public keys, authenticated by DANE-EE SPKI records only: "
     "accept takes the peer's raw key, prefer also offers our own",
     FIELD(raw_public_keys), ENUM(rpk_names, NULL)},
    /* 1 MiB .. 64 GiB; 0 is refused (cache_max_entries = 0 disables) */
    {"cache_max_bytes", DANCE_KEY_NUMBER, DANCE_ROLE_RESOLVER, 0,
     "1048576 to 68719476736", DANCE_RES_DEFAULT_CACHE_MAX_BYTES, NULL, NULL,
     "1048576", "what the cached answers may cost, bytes",
     FIELD(cache_max_bytes), NUMBER(1UL << 20, 1UL << 36)},
    {"clock_skew", DANCE_KEY_NUMBER, DANCE_ROLE_RESOLVER, 0,
     "0 to " STR(DANCE_RES_MAX_CLOCK_SKEW), DANCE_RES_DEFAULT_CLOCK_SKEW, NULL,
     NULL, "60",
     "how far ahead of the clock a signature's inception may be, seconds",
     FIELD(clock_skew), NUMBER(0, DANCE_RES_MAX_CLOCK_SKEW)},
    {"cache_negative_ttl", DANCE_KEY_NUMBER, DANCE_ROLE_RESOLVER, 0,
     "0 to 604800", 30, NULL, NULL, "10",
     "the longest a proof of absence is cached, seconds",
     FIELD(cache_negative_ttl), NUMBER(0, 604800)},
    {"stats_file", DANCE_KEY_PATH, DANCE_ROLE_LOGGING, 0,
     "an absolute path; %p stands for the process id", 0, NULL, "none",
     "/var/lib/prometheus/node-exporter/dance-%p.prom",
     "a Prometheus text file of the counters, rewritten every 5 s by "
     "each process",
     FIELD(stats_file), TEXT(parse_stats_file, print_text)},
    /* issue 14; read and checked at activation (dance_activate.c) */
    {"prewarm_file", DANCE_KEY_PATH, DANCE_ROLE_SERVER, 0,
     "an absolute path to a file of ClientNames, one a line", 0, NULL, "none",
     "/etc/dance/clients.txt",
     "ClientNames whose TLSA records each process looks up from its first "
     "server handshake on and keeps in its cache",
     FIELD(prewarm_file), TEXT(parse_prewarm_file, print_text)},
    {NULL, 0, 0, 0, NULL, 0, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, 0, 0,
     NULL, NULL}};

_Static_assert(sizeof(dance_config_table) / sizeof(dance_config_table[0]) <=
                   DANCE_CONFIG_MAX_KEYS,
               "raise DANCE_CONFIG_MAX_KEYS");

/* dance_config_key_find - see header. */
const dance_config_key *dance_config_key_find(const char *key)
{
    for (const dance_config_key *k = dance_config_table; k->name != NULL; k++)
        if (strcmp(k->name, key) == 0)
            return k;
    return NULL;
}

/* check_raw_keys - a client offering its raw key needs a ClientName that
 * does not come from a certificate: client_name = auto, written, is
 * refused with raw keys. (Left unset, the client role keeps sending its
 * certificate: dance_rpk_conn_setup.) */
static int check_raw_keys(const dance_config *cfg, char *err, size_t errlen)
{
    const char *v = rpk_names[cfg->raw_public_keys];
    const char *name = dance_config_given(cfg, "client_name");

    if (cfg->raw_public_keys == DANCE_RAW_PUBLIC_KEYS_OFF)
        return 1;
    if (name != NULL && strcmp(name, "auto") == 0) {
        snprintf(err, errlen,
                 "client_name = auto with raw_public_keys = %s: a raw public "
                 "key has no certificate to take the ClientName from (set "
                 "client_name to the TLSA owner name of this client's key, "
                 "e.g. _mqtt-client.device1.example.com)",
                 v);
        return 0;
    }
    return 1;
}

/* check_combination - rules that span keys, after every key is parsed. */
static int check_combination(const dance_config *cfg, char *err, size_t errlen)
{
    if (!check_raw_keys(cfg, err, errlen))
        return 0;
    /* No implicit "every name": whoever turns client authentication on
     * says whose names may be looked up (and admitted). */
    if (cfg->client_auth != DANCE_CLIENT_AUTH_OFF && cfg->nallow == 0) {
        snprintf(err, errlen,
                 "allow is not set, and client_auth = %s needs it (expected "
                 "the ClientNames to accept, e.g. allow = "
                 "*.devices.example.com, or allow = * for every name)",
                 auth_names[cfg->client_auth]);
        return 0;
    }
    return 1;
}

/* set_default - key's default into cfg. */
static int set_default(const dance_config_key *key, dance_config *cfg,
                       char *err, size_t errlen)
{
    if (key->type == DANCE_KEY_ENUM || key->type == DANCE_KEY_NUMBER) {
        store_uint(field(key, cfg), key->size, key->def);
        return 1;
    }
    return key->def_text == NULL ||
           key->parse(key, cfg, key->def_text, err, errlen);
}

/* dance_config_load - see header. */
int dance_config_load(dance_config *cfg, dance_config_get_fn get, void *arg,
                      char *err, size_t errlen)
{
    const dance_config_key *k;

    memset(cfg, 0, sizeof(*cfg));
    for (k = dance_config_table; k->name != NULL; k++)
        if (!set_default(k, cfg, err, errlen))
            goto err;
    for (k = dance_config_table; k->name != NULL; k++) {
        const char *v = get(k->name, arg);

        if (v == NULL)
            continue;
        if (!k->parse(k, cfg, v, err, errlen) ||
            !copy(v, &cfg->given[k - dance_config_table], err, errlen))
            goto err;
    }
    if (!check_combination(cfg, err, errlen))
        goto err;
    return 1;
err:
    dance_config_clear(cfg);
    return 0;
}

/* dance_config_check_value - see header. */
int dance_config_check_value(const char *key, const char *value, char *err,
                             size_t errlen)
{
    const dance_config_key *k = dance_config_key_find(key);
    dance_config scratch;
    int ok;

    if (k == NULL) {
        snprintf(err, errlen, "'%s' is not a key of the dance provider", key);
        return 0;
    }
    memset(&scratch, 0, sizeof(scratch));
    ok = k->parse(k, &scratch, value, err, errlen);
    dance_config_clear(&scratch);
    return ok;
}

/* dance_config_clear - see header. */
void dance_config_clear(dance_config *cfg)
{
    for (const dance_config_key *k = dance_config_table; k->name != NULL; k++)
        if (k->print == print_text)
            free(*(char **)field(k, cfg));
    free_allow(cfg);
    for (size_t k = 0; k < DANCE_CONFIG_MAX_KEYS; k++)
        free(cfg->given[k]);
    free(cfg->source);
    memset(cfg, 0, sizeof(*cfg));
}

/* dance_config_given - see header. */
const char *dance_config_given(const dance_config *cfg, const char *key)
{
    const dance_config_key *k = dance_config_key_find(key);

    return k != NULL ? cfg->given[k - dance_config_table] : NULL;
}

/* dance_config_value - see header. */
const char *dance_config_value(const dance_config *cfg, const char *key,
                               char *buf, size_t len)
{
    const dance_config_key *k = dance_config_key_find(key);

    if (k != NULL)
        k->print(k, cfg, buf, len);
    else
        snprintf(buf, len, "(not a key)");
    return buf;
}

/* dance_config_conflict - see header. */
const char *dance_config_conflict(const dance_config *first,
                                  const dance_config *second)
{
    char a[1024], b[1024];

    for (const dance_config_key *k = dance_config_table; k->name != NULL; k++) {
        if (second->given[k - dance_config_table] == NULL)
            continue;
        k->print(k, first, a, sizeof(a));
        k->print(k, second, b, sizeof(b));
        if (strcmp(a, b) != 0)
            return k->name;
    }
    return NULL;
}

/* dance_config_summary - see header. */
const char *dance_config_summary(const dance_config *cfg, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (const dance_config_key *k = dance_config_table;
         k->name != NULL && used < len; k++) {
        char v[200];

        if (!(k->flags & DANCE_KEY_SUMMARY))
            continue;
        k->print(k, cfg, v, sizeof(v));
        used += (size_t)snprintf(buf + used, len - used, "%s%s=%s",
                                 used > 0 ? " " : "", k->name, v);
    }
    return buf;
}

/* dance_config_resolver - see header. */
void dance_config_resolver(const dance_config *cfg, dance_res_config *out)
{
    dance_res_config_init(out);
    out->mode = cfg->dnssec;
    out->trust_anchor = cfg->trust_anchor;
    out->servers = cfg->nservers > 0 ? cfg->servers : NULL;
    out->nservers = cfg->nservers;
    /* timeout_ms bounds a whole lookup, chain and retries included: a
     * handshake never waits longer than that for DNS. */
    out->deadline_ms = cfg->timeout_ms;
    out->timeout_ms = cfg->timeout_ms / 2 > 0 ? cfg->timeout_ms / 2 : 1;
    out->attempts = 2;
    out->cache_max_entries = cfg->cache_max_entries;
    out->cache_max_bytes = cfg->cache_max_bytes;
    out->cache_max_ttl = cfg->cache_max_ttl;
    out->negative_ttl = cfg->cache_negative_ttl;
    out->clock_skew = cfg->clock_skew;
}

/* dance_config_policy - see header. */
void dance_config_policy(const dance_config *cfg, dance_policy *out)
{
    memset(out, 0, sizeof(*out));
    out->client_name = cfg->client_name;
    out->server_dane = cfg->server_dane;
    out->hello_name = cfg->hello_name;
    out->client_auth = cfg->client_auth;
    out->request_cert = cfg->request_cert;
    out->allow = cfg->allow;
    out->nallow = cfg->nallow;
    out->client_service = cfg->client_service;
    out->identity_check = cfg->identity_check;
    out->profile = cfg->profile;
    out->extension_type = cfg->extension_type;
    out->raw_public_keys = cfg->raw_public_keys;
}
