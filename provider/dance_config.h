/*
 * dance_config.h - the provider's settings: every openssl.cnf key, its
 * default and its strict parser, in one place.
 *
 * A value that does not parse stops the provider from activating, with a
 * message naming the key and the values it accepts: an application must
 * never run with a security setting silently ignored.
 */
#ifndef DANCE_CONFIG_H
#define DANCE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "dance_log.h"
#include "dance_policy.h"
#include "dance_res.h"

/* Room for every key of dance_config_keys (and its NULL). */
#define DANCE_CONFIG_MAX_KEYS 32

typedef struct {
    /* client role */
    char *client_name; /* NULL: "auto", the first dNSName SAN */
    dance_server_dane server_dane;
    int hello_name; /* send the name in ClientHello (hello profile) */
    /* server role */
    dance_client_auth client_auth;
    dance_request request_cert;
    char **allow; /* patterns ("*" alone: every name); required (nallow > 0)
                     when client_auth is not off */
    size_t nallow;
    char *client_service; /* NULL: none */
    dance_identity_check identity_check;
    /* both */
    dance_profile profile;
    uint16_t extension_type;
    /* resolver */
    dance_res_mode dnssec;
    char *trust_anchor;
    char *nameservers; /* NULL: /etc/resolv.conf */
    unsigned timeout_ms;
    size_t cache_max_entries;
    size_t cache_max_bytes; /* cost bound of the cache, bytes */
    uint32_t cache_max_ttl;
    uint32_t cache_negative_ttl; /* cap on cached proofs of absence, s */
    uint32_t clock_skew; /* RRSIG inception may be this far ahead, seconds */
    /* logging */
    dance_log_level log_level;
    char *log_file; /* "stderr", "syslog", "syslog:<socket>" or a path */
    /* provenance: the value of each key of dance_config_keys (same index)
     * as written, NULL where the key took its default; and where the
     * settings came from (NULL until the caller sets it; freed by
     * dance_config_clear). Used to check that two activations agree. */
    char *given[DANCE_CONFIG_MAX_KEYS];
    char *source;
} dance_config;

/* Every key the provider reads, NULL-terminated (for core_get_params). */
extern const char *const dance_config_keys[];

/* A source of settings: the value of key, or NULL when it is not set. */
typedef const char *(*dance_config_get_fn)(const char *key, void *arg);

/*
 * dance_config_load - defaults, then every key get() provides, parsed
 * strictly. Returns 1, or 0 with a message in err naming the key, the bad
 * value and the accepted values (cfg is then cleared). Free the strings
 * with dance_config_clear().
 */
int dance_config_load(dance_config *cfg, dance_config_get_fn get, void *arg,
                      char *err, size_t errlen);

/* dance_config_clear - free what dance_config_load allocated. */
void dance_config_clear(dance_config *cfg);

/*
 * dance_config_given - key's value as it was written, or NULL when key was
 * not set (it has its default) or is not a key of ours. Borrowed from cfg.
 */
const char *dance_config_given(const dance_config *cfg, const char *key);

/*
 * dance_config_value - the value key has in cfg (written or default), as
 * text in buf (truncated to len), e.g. "require", "*.example.com,x.example"
 * or "2000". Returns buf.
 */
const char *dance_config_value(const dance_config *cfg, const char *key,
                               char *buf, size_t len);

/*
 * dance_config_conflict - first is the configuration in force, second one
 * written for the same process (a second activation). Returns the first key
 * that second sets to a value other than the one first has (written or
 * default), or NULL when running with first gives second everything it
 * asks for. Keys only first sets are no conflict (second says nothing).
 * A key this file cannot print (see dance_config_value) is compared as
 * written, and a key second sets that first leaves at its default then
 * counts as a conflict: on doubt, refuse.
 */
const char *dance_config_conflict(const dance_config *first,
                                  const dance_config *second);

/*
 * dance_config_resolver - the resolver settings of cfg in out; strings are
 * borrowed from cfg.
 */
void dance_config_resolver(const dance_config *cfg, dance_res_config *out);

/*
 * dance_config_policy - the SSL hooks' policy of cfg in out; strings are
 * borrowed from cfg.
 */
void dance_config_policy(const dance_config *cfg, dance_policy *out);

#endif /* DANCE_CONFIG_H */
