/*
 * dance_config.c - defaults and strict parsing of the openssl.cnf keys.
 */
#include "dance_config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dance_name.h"
#include "dance_net.h"

const char *const dance_config_keys[] = {"client_name",
                                         "client_auth",
                                         "request_cert",
                                         "allow",
                                         "client_service",
                                         "server_dane",
                                         "profile",
                                         "hello_name",
                                         "extension_type",
                                         "dnssec",
                                         "trust_anchor",
                                         "nameservers",
                                         "timeout_ms",
                                         "cache_max_entries",
                                         "cache_max_ttl",
                                         "log_level",
                                         "log_file",
                                         "identity_check",
                                         "cache_max_bytes",
                                         "clock_skew",
                                         "cache_negative_ttl",
                                         NULL};

_Static_assert(sizeof(dance_config_keys) / sizeof(dance_config_keys[0]) <=
                   DANCE_CONFIG_MAX_KEYS,
               "raise DANCE_CONFIG_MAX_KEYS");

/* Names of the enum values, in enum order (for parsing and printing). */
static const char *const auth_names[] = {"off", "optional", "require", NULL};
static const char *const req_names[] = {"signalled", "always", NULL};
static const char *const sdane_names[] = {"off", "opportunistic", "require",
                                          NULL};
static const char *const onoff_names[] = {"off", "on", NULL};
static const char *const mode_names[] = {"validate", "trust-ad", NULL};
static const char *const level_names[] = {"error", "warn", "info", "debug",
                                          NULL};
static const char *const idcheck_names[] = {"strict", "off", NULL};
/* profile: "client-auth" names the draft profile; "client-auth-13" is its
 * older name, kept as an alias. */
static const char *const prof_names[] = {"hello", "client-auth",
                                         "client-auth-13", NULL};
static const dance_profile prof_values[] = {DANCE_PROFILE_HELLO,
                                            DANCE_PROFILE_CLIENT_AUTH_13,
                                            DANCE_PROFILE_CLIENT_AUTH_13};

/* choice - value must be one of names (NULL-terminated); its index. */
static int choice(const char *key, const char *value, const char *const *names,
                  int *out, char *err, size_t errlen)
{
    size_t used;

    for (int i = 0; names[i] != NULL; i++)
        if (strcmp(value, names[i]) == 0) {
            *out = i;
            return 1;
        }
    used = (size_t)snprintf(err, errlen, "%s = '%s' is not valid (expected ",
                            key, value);
    for (int i = 0; names[i] != NULL && used < errlen; i++)
        used += (size_t)snprintf(err + used, errlen - used, "%s%s",
                                 i > 0 ? ", " : "", names[i]);
    if (used < errlen)
        snprintf(err + used, errlen - used, ")");
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

/* parse_allow - comma-separated patterns into cfg->allow. */
static int parse_allow(dance_config *cfg, const char *value, char *err,
                       size_t errlen)
{
    const char *p = value;

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
static int parse_service(dance_config *cfg, const char *value, char *err,
                         size_t errlen)
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
    return copy(value, &cfg->client_service, err, errlen);
}

/* set_key - parse one key's value into cfg. */
static int set_key(dance_config *cfg, const char *key, const char *v, char *err,
                   size_t errlen)
{
    unsigned long n;
    int i;

    if (strcmp(key, "client_name") == 0) {
        const char *why = "";

        if (strcmp(v, "auto") == 0)
            return 1;
        if (!dance_name_check(v, strlen(v), &why)) {
            snprintf(err, errlen,
                     "client_name = '%s' is not valid (%s; expected auto or "
                     "a TLSA owner name such as _mqtt-client.dev1.example.com)",
                     v, why);
            return 0;
        }
        return copy(v, &cfg->client_name, err, errlen);
    }
    if (strcmp(key, "client_auth") == 0) {
        if (!choice(key, v, auth_names, &i, err, errlen))
            return 0;
        cfg->client_auth = (dance_client_auth)i;
    } else if (strcmp(key, "identity_check") == 0) {
        if (!choice(key, v, idcheck_names, &i, err, errlen))
            return 0;
        cfg->identity_check = (dance_identity_check)i;
    } else if (strcmp(key, "request_cert") == 0) {
        if (!choice(key, v, req_names, &i, err, errlen))
            return 0;
        cfg->request_cert = (dance_request)i;
    } else if (strcmp(key, "allow") == 0) {
        return parse_allow(cfg, v, err, errlen);
    } else if (strcmp(key, "client_service") == 0) {
        return parse_service(cfg, v, err, errlen);
    } else if (strcmp(key, "server_dane") == 0) {
        if (!choice(key, v, sdane_names, &i, err, errlen))
            return 0;
        cfg->server_dane = (dance_server_dane)i;
    } else if (strcmp(key, "profile") == 0) {
        if (!choice(key, v, prof_names, &i, err, errlen))
            return 0;
        cfg->profile = prof_values[i];
    } else if (strcmp(key, "hello_name") == 0) {
        if (!choice(key, v, onoff_names, &i, err, errlen))
            return 0;
        cfg->hello_name = i;
    } else if (strcmp(key, "extension_type") == 0) {
        if (!number(key, v, 1, 65535, &n, err, errlen))
            return 0;
        cfg->extension_type = (uint16_t)n;
    } else if (strcmp(key, "dnssec") == 0) {
        if (!choice(key, v, mode_names, &i, err, errlen))
            return 0;
        cfg->dnssec = (dance_res_mode)i;
    } else if (strcmp(key, "trust_anchor") == 0) {
        free(cfg->trust_anchor);
        return copy(v, &cfg->trust_anchor, err, errlen);
    } else if (strcmp(key, "nameservers") == 0) {
        dance_net_server servers[DANCE_NET_MAX_SERVERS];
        size_t count;
        char why[200];

        if (!dance_net_parse_servers(v, servers, &count, why, sizeof(why))) {
            snprintf(err, errlen, "nameservers = '%s' is not valid: %s", v,
                     why);
            return 0;
        }
        return copy(v, &cfg->nameservers, err, errlen);
    } else if (strcmp(key, "timeout_ms") == 0) {
        if (!number(key, v, 10, 60000, &n, err, errlen))
            return 0;
        cfg->timeout_ms = (unsigned)n;
    } else if (strcmp(key, "cache_max_entries") == 0) {
        if (!number(key, v, 0, 10000000, &n, err, errlen))
            return 0;
        cfg->cache_max_entries = n;
    } else if (strcmp(key, "cache_max_bytes") == 0) {
        /* 1 MiB .. 64 GiB; 0 is refused (cache_max_entries = 0 disables) */
        if (!number(key, v, 1UL << 20, 1UL << 36, &n, err, errlen))
            return 0;
        cfg->cache_max_bytes = n;
    } else if (strcmp(key, "cache_negative_ttl") == 0) {
        if (!number(key, v, 0, 604800, &n, err, errlen))
            return 0;
        cfg->cache_negative_ttl = (uint32_t)n;
    } else if (strcmp(key, "cache_max_ttl") == 0) {
        if (!number(key, v, 0, 604800, &n, err, errlen))
            return 0;
        cfg->cache_max_ttl = (uint32_t)n;
    } else if (strcmp(key, "clock_skew") == 0) {
        if (!number(key, v, 0, DANCE_RES_MAX_CLOCK_SKEW, &n, err, errlen))
            return 0;
        cfg->clock_skew = (uint32_t)n;
    } else if (strcmp(key, "log_level") == 0) {
        if (!choice(key, v, level_names, &i, err, errlen))
            return 0;
        cfg->log_level = (dance_log_level)i;
    } else if (strcmp(key, "log_file") == 0) {
        if (v[0] == '\0') {
            snprintf(err, errlen,
                     "log_file is empty (expected a path, "
                     "stderr or syslog)");
            return 0;
        }
        free(cfg->log_file);
        return copy(v, &cfg->log_file, err, errlen);
    }
    return 1;
}

/* check_combination - rules that span keys, after every key is parsed. */
static int check_combination(const dance_config *cfg, char *err, size_t errlen)
{
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

/* dance_config_load - see header. */
int dance_config_load(dance_config *cfg, dance_config_get_fn get, void *arg,
                      char *err, size_t errlen)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->client_auth = DANCE_CLIENT_AUTH_OFF;
    cfg->identity_check = DANCE_IDENTITY_CHECK_STRICT;
    cfg->request_cert = DANCE_REQUEST_SIGNALLED;
    cfg->server_dane = DANCE_SERVER_DANE_OFF;
    cfg->profile = DANCE_PROFILE_HELLO;
    cfg->hello_name = 1;
    cfg->extension_type = DANCE_EXT_TYPE_DEFAULT;
    cfg->dnssec = DANCE_RES_MODE_VALIDATE;
    cfg->timeout_ms = 2000;
    cfg->cache_max_entries = 10000;
    cfg->cache_max_bytes = DANCE_CACHE_DEFAULT_MAX_BYTES;
    cfg->cache_max_ttl = 3600;
    cfg->cache_negative_ttl = 30;
    cfg->clock_skew = DANCE_RES_DEFAULT_CLOCK_SKEW;
    cfg->log_level = DANCE_LOG_WARN;
    if (!copy("/usr/share/dns/root.key", &cfg->trust_anchor, err, errlen) ||
        !copy("stderr", &cfg->log_file, err, errlen))
        goto err;
    for (size_t k = 0; dance_config_keys[k] != NULL; k++) {
        const char *v = get(dance_config_keys[k], arg);

        if (v == NULL)
            continue;
        if (!set_key(cfg, dance_config_keys[k], v, err, errlen) ||
            !copy(v, &cfg->given[k], err, errlen))
            goto err;
    }
    if (!check_combination(cfg, err, errlen))
        goto err;
    return 1;
err:
    dance_config_clear(cfg);
    return 0;
}

/* dance_config_clear - see header. */
void dance_config_clear(dance_config *cfg)
{
    for (size_t i = 0; i < cfg->nallow; i++)
        free(cfg->allow[i]);
    free(cfg->allow);
    free(cfg->client_name);
    free(cfg->client_service);
    free(cfg->trust_anchor);
    free(cfg->nameservers);
    free(cfg->log_file);
    for (size_t k = 0; k < DANCE_CONFIG_MAX_KEYS; k++)
        free(cfg->given[k]);
    free(cfg->source);
    memset(cfg, 0, sizeof(*cfg));
}

/* key_index - the index of key in dance_config_keys, or -1. */
static int key_index(const char *key)
{
    for (int k = 0; dance_config_keys[k] != NULL; k++)
        if (strcmp(dance_config_keys[k], key) == 0)
            return k;
    return -1;
}

/* dance_config_given - see header. */
const char *dance_config_given(const dance_config *cfg, const char *key)
{
    int k = key_index(key);

    return k >= 0 ? cfg->given[k] : NULL;
}

/* render - key's value in cfg as text; 0 for a key it cannot print. */
static int render(const dance_config *cfg, const char *key, char *buf,
                  size_t len)
{
    const char *s = NULL;
    unsigned long n = 0;
    int is_number = 0;

    if (strcmp(key, "client_name") == 0)
        s = cfg->client_name != NULL ? cfg->client_name : "auto";
    else if (strcmp(key, "client_auth") == 0)
        s = auth_names[cfg->client_auth];
    else if (strcmp(key, "request_cert") == 0)
        s = req_names[cfg->request_cert];
    else if (strcmp(key, "client_service") == 0)
        s = cfg->client_service != NULL ? cfg->client_service : "none";
    else if (strcmp(key, "identity_check") == 0)
        s = idcheck_names[cfg->identity_check];
    else if (strcmp(key, "server_dane") == 0)
        s = sdane_names[cfg->server_dane];
    else if (strcmp(key, "profile") == 0)
        s = cfg->profile == DANCE_PROFILE_HELLO ? "hello" : "client-auth";
    else if (strcmp(key, "hello_name") == 0)
        s = onoff_names[cfg->hello_name != 0];
    else if (strcmp(key, "dnssec") == 0)
        s = mode_names[cfg->dnssec];
    else if (strcmp(key, "trust_anchor") == 0)
        s = cfg->trust_anchor != NULL ? cfg->trust_anchor : "";
    else if (strcmp(key, "nameservers") == 0)
        s = cfg->nameservers != NULL ? cfg->nameservers : "/etc/resolv.conf";
    else if (strcmp(key, "log_level") == 0)
        s = level_names[cfg->log_level];
    else if (strcmp(key, "log_file") == 0)
        s = cfg->log_file != NULL ? cfg->log_file : "";
    else if ((is_number = strcmp(key, "extension_type") == 0))
        n = cfg->extension_type;
    else if ((is_number = strcmp(key, "timeout_ms") == 0))
        n = cfg->timeout_ms;
    else if ((is_number = strcmp(key, "cache_max_entries") == 0))
        n = cfg->cache_max_entries;
    else if ((is_number = strcmp(key, "cache_max_ttl") == 0))
        n = cfg->cache_max_ttl;
    else if ((is_number = strcmp(key, "cache_max_bytes") == 0))
        n = (unsigned long)cfg->cache_max_bytes;
    else if ((is_number = strcmp(key, "clock_skew") == 0))
        n = cfg->clock_skew;
    else if ((is_number = strcmp(key, "cache_negative_ttl") == 0))
        n = cfg->cache_negative_ttl;
    if (is_number) {
        snprintf(buf, len, "%lu", n);
        return 1;
    }
    if (s != NULL) {
        snprintf(buf, len, "%s", s);
        return 1;
    }
    if (strcmp(key, "allow") == 0) {
        size_t used = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < cfg->nallow && used < len; i++)
            used += (size_t)snprintf(buf + used, len - used, "%s%s",
                                     i > 0 ? ", " : "", cfg->allow[i]);
        return 1;
    }
    return 0;
}

/* dance_config_value - see header. */
const char *dance_config_value(const dance_config *cfg, const char *key,
                               char *buf, size_t len)
{
    const char *given = dance_config_given(cfg, key);

    if (!render(cfg, key, buf, len))
        snprintf(buf, len, "%s", given != NULL ? given : "(default)");
    return buf;
}

/* dance_config_conflict - see header. */
const char *dance_config_conflict(const dance_config *first,
                                  const dance_config *second)
{
    char a[1024], b[1024];

    for (size_t k = 0; dance_config_keys[k] != NULL; k++) {
        const char *key = dance_config_keys[k];

        if (second->given[k] == NULL)
            continue;
        if (render(first, key, a, sizeof(a)) &&
            render(second, key, b, sizeof(b))) {
            if (strcmp(a, b) != 0)
                return key;
        } else if (first->given[k] == NULL ||
                   strcmp(first->given[k], second->given[k]) != 0) {
            return key;
        }
    }
    return NULL;
}

/* dance_config_resolver - see header. */
void dance_config_resolver(const dance_config *cfg, dance_res_config *out)
{
    dance_res_config_init(out);
    out->mode = cfg->dnssec;
    out->trust_anchor = cfg->trust_anchor;
    out->nameservers = cfg->nameservers;
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
}
