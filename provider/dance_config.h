/* SPDX-License-Identifier: Apache-2.0 */
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

/* Room for every key of dance_config_table. */
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
    char *prewarm_file; /* NULL: none; ClientNames to keep warm
                           (dance_activate_prewarm reads it) */
    /* both */
    dance_profile profile;
    uint16_t extension_type;
    dance_raw_public_keys raw_public_keys; /* RFC 7250; OpenSSL >= 3.2 */
    /* resolver */
    dance_res_mode dnssec;
    char *trust_anchor;
    char *nameservers; /* as written, NULL: /etc/resolv.conf */
    dance_net_server servers[DANCE_NET_MAX_SERVERS]; /* nameservers, parsed */
    size_t nservers;
    unsigned timeout_ms;
    size_t cache_max_entries;
    size_t cache_max_bytes; /* cost bound of the cache, bytes */
    uint32_t cache_max_ttl;
    uint32_t cache_negative_ttl; /* cap on cached proofs of absence, s */
    uint32_t clock_skew; /* RRSIG inception may be this far ahead, seconds */
    /* logging */
    dance_log_level log_level;
    char *log_file;   /* "stderr", "syslog", "syslog:<socket>" or a path */
    char *stats_file; /* NULL: none; a path pattern (dance_stats.h) */
    /* provenance: the value of each key of dance_config_table (same index)
     * as written, NULL where the key took its default; and where the
     * settings came from (NULL until the caller sets it; freed by
     * dance_config_clear). Used to check that two activations agree. */
    char *given[DANCE_CONFIG_MAX_KEYS];
    char *source;
} dance_config;

/* What a key's value is. */
typedef enum {
    DANCE_KEY_ENUM,   /* one of names (or aliases) */
    DANCE_KEY_NUMBER, /* a decimal whole number in [min, max] */
    DANCE_KEY_NAME,   /* a DNS name or label */
    DANCE_KEY_LIST,   /* comma- or space-separated items */
    DANCE_KEY_PATH    /* a file (or a destination such as "syslog") */
} dance_key_type;

/* Who a key is for. */
typedef enum {
    DANCE_ROLE_CLIENT, /* the client role (proves itself, checks servers) */
    DANCE_ROLE_SERVER, /* the server role (authenticates clients) */
    DANCE_ROLE_BOTH,   /* both TLS roles */
    DANCE_ROLE_RESOLVER,
    DANCE_ROLE_LOGGING
} dance_key_role;

/* Flags of a key. */
#define DANCE_KEY_SUMMARY 1u /* named in the activation log line */

/* Another name for an enum value ("client-auth-13" for client-auth). */
typedef struct {
    const char *name;
    int value;
} dance_key_alias;

typedef struct dance_config_key dance_config_key;

/* A key's parser: value into cfg (replacing what the key had), or 0 with a
 * message in err naming the key, the value and what is accepted. */
typedef int (*dance_key_parse_fn)(const dance_config_key *key,
                                  dance_config *cfg, const char *value,
                                  char *err, size_t errlen);
/* A key's printer: its value in cfg as text, as it would be written (or
 * the key's `unset` text where it is not set). */
typedef void (*dance_key_print_fn)(const dance_config_key *key,
                                   const dance_config *cfg, char *buf,
                                   size_t len);

/*
 * One configuration key: everything the parser, the defaults, the printer,
 * the activation log line, `dance check-config` and the documentation need
 * to know about it. A new key is one entry of dance_config_table (and its
 * field in dance_config).
 */
struct dance_config_key {
    const char *name;     /* as written in openssl.cnf */
    dance_key_type type;  /* what the value is */
    dance_key_role role;  /* who it is for */
    unsigned flags;       /* DANCE_KEY_* */
    const char *accepted; /* the values it accepts, for people */
    /* Default: enum value or number (ENUM, NUMBER), or text parsed like a
     * written value (other types; NULL: not set, which reads as unset). */
    unsigned long def;
    const char *def_text;
    const char *unset;              /* what an unset value means, e.g. "auto" */
    const char *example;            /* a value it accepts, e.g. for the docs */
    const char *help;               /* one sentence */
    size_t offset;                  /* its field in dance_config */
    size_t size;                    /* sizeof that field (ENUM, NUMBER) */
    const char *const *names;       /* ENUM: by value, NULL-terminated */
    const dance_key_alias *aliases; /* ENUM: more names (NULL-ended), or NULL */
    unsigned long min, max;         /* NUMBER */
    dance_key_parse_fn parse;
    dance_key_print_fn print;
};

/* Every key the provider reads, in the order it reads them; ends with an
 * entry whose name is NULL. Read-only. */
extern const dance_config_key dance_config_table[];

/* dance_config_key_find - the entry of key, or NULL. */
const dance_config_key *dance_config_key_find(const char *key);

/*
 * dance_config_enum_names - "a, b, c": the names and aliases key accepts
 * (ENUM keys), in buf; returns buf.
 */
const char *dance_config_enum_names(const dance_config_key *key, char *buf,
                                    size_t len);

/*
 * dance_config_summary - "client_auth=off server_dane=off ..." for the
 * keys flagged DANCE_KEY_SUMMARY (the activation log line), in buf;
 * returns buf.
 */
const char *dance_config_summary(const dance_config *cfg, char *buf,
                                 size_t len);

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

/*
 * dance_config_check_value - would key = value parse (on its own, without
 * the rules that span keys)? Returns 1, or 0 with the message
 * dance_config_load would give in err (also for a name that is no key).
 */
int dance_config_check_value(const char *key, const char *value, char *err,
                             size_t errlen);

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
 * Values are compared as printed (dance_config_value), so two spellings
 * of one value ("client-auth", "client-auth-13") agree.
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
