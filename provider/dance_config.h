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
#include "dance_res.h"

typedef enum {
    DANCE_CLIENT_AUTH_OFF = 0,
    DANCE_CLIENT_AUTH_OPTIONAL,
    DANCE_CLIENT_AUTH_REQUIRE
} dance_client_auth;

typedef enum {
    DANCE_REQUEST_SIGNALLED = 0,
    DANCE_REQUEST_ALWAYS
} dance_request;

typedef enum {
    DANCE_SERVER_DANE_OFF = 0,
    DANCE_SERVER_DANE_OPPORTUNISTIC,
    DANCE_SERVER_DANE_REQUIRE
} dance_server_dane;

typedef enum {
    DANCE_PROFILE_HELLO = 0,     /* name in ClientHello (and TLS 1.3 Cert) */
    DANCE_PROFILE_CLIENT_AUTH_13 /* draft-ietf-dance-client-auth-13 */
} dance_profile;

typedef struct {
    /* client role */
    char *client_name; /* NULL: "auto", the first dNSName SAN */
    dance_server_dane server_dane;
    int hello_name; /* send the name in ClientHello (hello profile) */
    /* server role */
    dance_client_auth client_auth;
    dance_request request_cert;
    char **allow; /* patterns; NULL: every name */
    size_t nallow;
    char *client_service; /* NULL: none */
    /* both */
    dance_profile profile;
    uint16_t extension_type;
    /* resolver */
    dance_res_mode dnssec;
    char *trust_anchor;
    char *nameservers; /* NULL: /etc/resolv.conf */
    unsigned timeout_ms;
    size_t cache_max_entries;
    uint32_t cache_max_ttl;
    uint32_t clock_skew; /* RRSIG inception may be this far ahead, seconds */
    /* logging */
    dance_log_level log_level;
    char *log_file; /* "stderr", "syslog" or a path */
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
 * dance_config_resolver - the resolver settings of cfg in out; strings are
 * borrowed from cfg.
 */
void dance_config_resolver(const dance_config *cfg, dance_res_config *out);

#endif /* DANCE_CONFIG_H */
