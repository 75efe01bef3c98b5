/*
 * dance_policy.h - what the SSL hooks of ext/ are told to do: the policy
 * of both roles, with no knowledge of where it was written.
 *
 * The provider parses openssl.cnf (provider/dance_config.h) and hands ext/
 * one of these (dance_config_policy); ext/ never reads the provider's
 * configuration itself. Strings are borrowed from whoever filled it in and
 * must outlive every SSL_CTX the hooks were attached to.
 */
#ifndef DANCE_POLICY_H
#define DANCE_POLICY_H

#include <stddef.h>
#include <stdint.h>

/* The dane_clientid extension type until IANA assigns one (DESIGN.md). */
#define DANCE_EXT_TYPE_DEFAULT 65293

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
    DANCE_PROFILE_HELLO = 0,     /* legacy (-00): name in ClientHello (and
                                    TLS 1.3 Cert), TLS 1.2 too */
    DANCE_PROFILE_CLIENT_AUTH_13 /* the default, draft-ietf-dance-client-auth:
                                    "client-auth" (alias "client-auth-13");
                                    TLS 1.3 CertificateRequest and
                                    Certificate only */
} dance_profile;

/* identity_check: may the certificate name anyone but the ClientName? */
typedef enum {
    DANCE_IDENTITY_CHECK_STRICT = 0, /* CN and dNSName SANs = the ClientName */
    DANCE_IDENTITY_CHECK_OFF
} dance_identity_check;

typedef struct {
    /* client role */
    const char *client_name; /* NULL: "auto", the first dNSName SAN */
    dance_server_dane server_dane;
    int hello_name; /* send the name in ClientHello (hello profile) */
    /* server role */
    dance_client_auth client_auth;
    dance_request request_cert;
    char *const *allow; /* patterns ("*" alone: every name) */
    size_t nallow;
    const char *client_service; /* NULL: none */
    dance_identity_check identity_check;
    /* both */
    dance_profile profile;
    uint16_t extension_type;
} dance_policy;

#endif /* DANCE_POLICY_H */
