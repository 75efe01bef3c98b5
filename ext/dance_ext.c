/*
 * dance_ext.c - the dane_clientid extension, policy, and the DANE verify
 * join point, attached to every SSL_CTX through an ex_data "new" callback.
 *
 * Per connection state (dance_conn) hangs off the SSL's ex_data and is
 * freed with the SSL. Decisions are logged at info level, one line each.
 *
 * Security invariants, checked in one place each:
 *  - a connection under client_auth = require completes only if the client
 *    was authenticated by a DNSSEC-secure TLSA RRset (server_verify);
 *  - a name is looked up only if it is a valid ClientName and on the allow
 *    list (start_client_lookup);
 *  - verification is OpenSSL's DANE engine; our own verify_cb wrapper only
 *    records whether any error was reported, so an application callback
 *    that forgives errors cannot turn a DANE failure into a success.
 */
#include "dance_ext.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "dance_log.h"
#include "dance_name.h"

/* The messages dane_clientid may appear in (DESIGN.md section 2). */
#define EXT_CONTEXTS                                                           \
    (SSL_EXT_TLS_ONLY | SSL_EXT_CLIENT_HELLO | SSL_EXT_TLS1_2_SERVER_HELLO |   \
     SSL_EXT_TLS1_3_CERTIFICATE_REQUEST | SSL_EXT_TLS1_3_CERTIFICATE)

#define OWNER_MAX (DANCE_NAME_MAX + 80) /* room for a service label */

typedef enum {
    NAME_NONE = 0,  /* no extension seen */
    NAME_FROM_CERT, /* empty extension: take the dNSName SAN */
    NAME_GIVEN,     /* a ClientName */
    NAME_BAD        /* malformed, or inconsistent between messages */
} name_state;

typedef struct {
    const dance_ext_runtime *rt;
    /* both roles */
    int app_mode;    /* the application's verify mode before ours */
    int mode_raised; /* we changed the verify mode */
    int first_err;   /* first X509 error seen during verification */
    X509_STORE_CTX_verify_cb app_cb;
    /* server role */
    int requested; /* we asked this client for DANE */
    int signalled; /* dane_clientid came in the ClientHello */
    name_state state;
    const char *bad_why; /* static text, for NAME_BAD */
    char name[DANCE_NAME_MAX + 1];
    /* lookups: the client's TLSA (server role), the server's (client) */
    dance_res_job *job;
    char owner[OWNER_MAX];
    char host[DANCE_NAME_MAX + 1]; /* client role: SNI name */
} dance_conn;

static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
static _Atomic(const dance_ext_runtime *) installed;
static int ctx_index = -1;        /* under install_lock */
static atomic_int ssl_index = -1; /* set once, never released */

/* ---- per-connection state ----------------------------------------------- */

/* conn_free - ex_data free callback: release a connection's state. */
static void conn_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
                      long argl, void *argp)
{
    dance_conn *conn = ptr;

    (void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
    if (conn == NULL)
        return;
    dance_res_job_free(conn->job);
    OPENSSL_free(conn);
}

/* conn_dup - ex_data dup callback: a duplicated SSL starts afresh. */
static int conn_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from,
                    void **from_d, int idx, long argl, void *argp)
{
    (void)to, (void)from, (void)idx, (void)argl, (void)argp;
    *(dance_conn **)from_d = NULL;
    return 1;
}

/* conn_get - the state of s, created on first use; NULL if the hooks are
 * not installed or memory runs out. */
static dance_conn *conn_get(SSL *s)
{
    int idx = atomic_load(&ssl_index);
    const dance_ext_runtime *rt = atomic_load(&installed);
    dance_conn *conn;

    if (idx < 0)
        return NULL;
    conn = SSL_get_ex_data(s, idx);
    if (conn != NULL || rt == NULL)
        return conn;
    conn = OPENSSL_zalloc(sizeof(*conn));
    if (conn == NULL)
        return NULL;
    conn->rt = rt;
    conn->app_mode = SSL_get_verify_mode(s);
    if (!SSL_set_ex_data(s, idx, conn)) {
        OPENSSL_free(conn);
        return NULL;
    }
    return conn;
}

/* raise_verify - make s request (server) or check (client) the peer's
 * certificate; the application's own verify callback is kept. */
static void raise_verify(SSL *s, dance_conn *conn, int fail_if_none)
{
    int mode = SSL_get_verify_mode(s);
    int want = mode | SSL_VERIFY_PEER |
               (fail_if_none ? SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0);

    if (want == mode)
        return;
    if (!conn->mode_raised)
        conn->app_mode = mode;
    conn->mode_raised = 1;
    SSL_set_verify(s, want, SSL_get_verify_callback(s));
}

/* ---- names -------------------------------------------------------------- */

/* first_dns_san - the first dNSName SAN of x that is a valid ClientName,
 * into out (DANCE_NAME_MAX + 1 bytes). Returns 1 if found. */
static int first_dns_san(X509 *x, char *out)
{
    GENERAL_NAMES *sans =
        x != NULL ? X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL)
                  : NULL;
    int found = 0;

    for (int i = 0; sans != NULL && i < sk_GENERAL_NAME_num(sans); i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
        const char *why;
        int len;

        if (gn->type != GEN_DNS)
            continue;
        len = ASN1_STRING_length(gn->d.dNSName);
        if (len <= 0 || len > DANCE_NAME_MAX ||
            !dance_name_check(
                (const char *)ASN1_STRING_get0_data(gn->d.dNSName), (size_t)len,
                &why))
            continue;
        memcpy(out, ASN1_STRING_get0_data(gn->d.dNSName), (size_t)len);
        out[len] = '\0';
        found = 1;
        break;
    }
    GENERAL_NAMES_free(sans);
    return found;
}

/* own_name - the name this client presents: client_name, or with "auto"
 * the first dNSName SAN of its certificate x. */
static int own_name(const dance_ext_runtime *rt, X509 *x, char *out)
{
    if (rt->cfg.client_name != NULL) {
        snprintf(out, DANCE_NAME_MAX + 1, "%s", rt->cfg.client_name);
        return 1;
    }
    return first_dns_san(x, out);
}

/* is_allowed - is name on the allow list (or is there none)? */
static int is_allowed(const dance_config *cfg, const char *name)
{
    if (cfg->nallow == 0)
        return 1;
    for (size_t i = 0; i < cfg->nallow; i++)
        if (dance_name_match(cfg->allow[i], name))
            return 1;
    return 0;
}

/* client_owner - the TLSA owner for a client name: the name itself, or
 * with client_service set and a bare name, "<service>.<name>". */
static void client_owner(const dance_config *cfg, const char *name, char *out)
{
    if (cfg->client_service != NULL && name[0] != '_')
        snprintf(out, OWNER_MAX, "%s.%s", cfg->client_service, name);
    else
        snprintf(out, OWNER_MAX, "%s", name);
}

/* start_lookup - begin the TLSA lookup for owner unless it is running. */
static void start_lookup(dance_conn *conn, const char *owner)
{
    if (conn->job != NULL && strcmp(conn->owner, owner) == 0)
        return;
    dance_res_job_free(conn->job);
    snprintf(conn->owner, sizeof(conn->owner), "%s", owner);
    conn->job = dance_async_start(conn->rt->async, owner, LDNS_RR_TYPE_TLSA,
                                  time(NULL));
}

/* start_client_lookup - server role: look up a client's TLSA early, if its
 * name may be looked up at all (the allow list guards the DNS). */
static void start_client_lookup(dance_conn *conn, const char *name)
{
    char owner[OWNER_MAX];

    if (!is_allowed(&conn->rt->cfg, name))
        return;
    client_owner(&conn->rt->cfg, name, owner);
    start_lookup(conn, owner);
}

/* peer_port - the remote port of s's socket, or 0 when not a socket. */
static unsigned peer_port(SSL *s)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    int fd = SSL_get_fd(s);

    if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
        return 0;
    if (ss.ss_family == AF_INET)
        return ntohs(((struct sockaddr_in *)&ss)->sin_port);
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return 0;
}

/* start_server_lookup - client role: TLSA of the server at
 * _<port>._tcp.<SNI name> (RFC 7671), if both are known. */
static void start_server_lookup(SSL *s, dance_conn *conn)
{
    const char *sni = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
    unsigned port = peer_port(s);
    const char *why;
    char owner[OWNER_MAX];

    if (sni == NULL || port == 0 || strlen(sni) > DANCE_NAME_MAX ||
        !dance_name_check(sni, strlen(sni), &why))
        return;
    snprintf(conn->host, sizeof(conn->host), "%s", sni);
    snprintf(owner, sizeof(owner), "_%u._tcp.%s", port, sni);
    start_lookup(conn, owner);
}

/* ---- the extension ------------------------------------------------------ */

/* ext_add - what we put in each message that may carry dane_clientid. */
static int ext_add(SSL *s, unsigned int type, unsigned int context,
                   const unsigned char **out, size_t *outlen, X509 *x,
                   size_t chainidx, int *al, void *arg)
{
    dance_conn *conn = conn_get(s);
    const dance_ext_runtime *rt = conn != NULL ? conn->rt : NULL;
    char name[DANCE_NAME_MAX + 1];
    unsigned char *buf;

    (void)type, (void)al, (void)arg;
    *out = NULL;
    *outlen = 0;
    if (rt == NULL)
        return 0;
    switch (context) {
    case SSL_EXT_CLIENT_HELLO:
        if (rt->cfg.server_dane != DANCE_SERVER_DANE_OFF) {
            raise_verify(s, conn, 0);
            start_server_lookup(s, conn);
        }
        /* No certificate configured: this client does not do DANE. */
        if (rt->cfg.profile != DANCE_PROFILE_HELLO ||
            SSL_get_certificate(s) == NULL ||
            !own_name(rt, SSL_get_certificate(s), name))
            return 0;
        if (!rt->cfg.hello_name)
            return 1; /* the bare signal: name from the certificate */
        break;
    case SSL_EXT_TLS1_2_SERVER_HELLO:
        return rt->cfg.client_auth != DANCE_CLIENT_AUTH_OFF; /* empty */
    case SSL_EXT_TLS1_3_CERTIFICATE_REQUEST:
        if (!conn->requested)
            return 0;
        if (rt->cfg.profile == DANCE_PROFILE_HELLO)
            return 1;   /* empty */
        name[0] = '\0'; /* client-auth-13: a zero-length ClientName */
        break;
    case SSL_EXT_TLS1_3_CERTIFICATE:
        /* Only a client's own first certificate carries its name. */
        if (SSL_is_server(s) || chainidx != 0 || !own_name(rt, x, name))
            return 0;
        break;
    default:
        return 0;
    }
    buf = OPENSSL_malloc(DANCE_NAME_MAX + 1);
    if (buf == NULL)
        return 0;
    *outlen = dance_name_encode(name, buf, DANCE_NAME_MAX + 1);
    if (*outlen == 0) {
        OPENSSL_free(buf);
        return 0;
    }
    *out = buf;
    return 1;
}

/* ext_free - release what ext_add allocated. */
static void ext_free(SSL *s, unsigned int type, unsigned int context,
                     const unsigned char *out, void *arg)
{
    (void)s, (void)type, (void)context, (void)arg;
    OPENSSL_free((unsigned char *)out);
}

/* bad_name - a malformed or inconsistent ClientName: fatal under require
 * (handshake_failure), remembered as a failure under optional. */
static int bad_name(dance_conn *conn, const char *why, int *al)
{
    conn->state = NAME_BAD;
    conn->bad_why = why;
    dance_log(DANCE_LOG_INFO, "server: malformed ClientName: %s", why);
    if (conn->rt->cfg.client_auth == DANCE_CLIENT_AUTH_REQUIRE) {
        *al = SSL_AD_HANDSHAKE_FAILURE;
        return 0;
    }
    return 1;
}

/* take_name - server role: a ClientName arrived (hello or Certificate). */
static int take_name(dance_conn *conn, const char *name, int *al)
{
    if (conn->state == NAME_GIVEN && strcmp(conn->name, name) != 0)
        return bad_name(conn,
                        "ClientName differs between ClientHello and "
                        "Certificate",
                        al);
    if (conn->state == NAME_BAD)
        return conn->rt->cfg.client_auth != DANCE_CLIENT_AUTH_REQUIRE;
    snprintf(conn->name, sizeof(conn->name), "%s", name);
    conn->state = NAME_GIVEN;
    start_client_lookup(conn, name);
    return 1;
}

/* ext_parse - what we accept in each message. */
static int ext_parse(SSL *s, unsigned int type, unsigned int context,
                     const unsigned char *in, size_t inlen, X509 *x,
                     size_t chainidx, int *al, void *arg)
{
    dance_conn *conn = conn_get(s);
    const dance_ext_runtime *rt = conn != NULL ? conn->rt : NULL;
    char name[DANCE_NAME_MAX + 1];
    const char *why = "";
    dance_wire w;

    (void)type, (void)x, (void)arg;
    if (rt == NULL)
        return 1;
    switch (context) {
    case SSL_EXT_TLS1_2_SERVER_HELLO:
    case SSL_EXT_TLS1_3_CERTIFICATE_REQUEST:
        return 1; /* the server supports DANE clients: nothing to record */
    case SSL_EXT_CLIENT_HELLO:
        if (rt->cfg.client_auth == DANCE_CLIENT_AUTH_OFF)
            return 1;
        conn->signalled = 1;
        conn->requested = 1;
        raise_verify(s, conn, rt->cfg.client_auth == DANCE_CLIENT_AUTH_REQUIRE);
        w = dance_name_decode(in, inlen, name, &why);
        if (w == DANCE_WIRE_MALFORMED)
            return bad_name(conn, why, al);
        if (w == DANCE_WIRE_NAME)
            return take_name(conn, name, al);
        conn->state = NAME_FROM_CERT; /* empty or zero-length: a signal */
        return 1;
    case SSL_EXT_TLS1_3_CERTIFICATE:
        if (!SSL_is_server(s) || chainidx != 0 ||
            rt->cfg.client_auth == DANCE_CLIENT_AUTH_OFF)
            return 1;
        conn->signalled = 1;
        w = dance_name_decode(in, inlen, name, &why);
        if (w == DANCE_WIRE_MALFORMED)
            return bad_name(conn, why, al);
        if (w == DANCE_WIRE_NAME)
            return take_name(conn, name, al);
        if (rt->cfg.profile == DANCE_PROFILE_CLIENT_AUTH_13) {
            /* A zero-length ClientName here is a protocol violation that
             * the draft makes fatal whatever the policy. */
            dance_log(DANCE_LOG_INFO, "server: zero-length ClientName in "
                                      "Certificate: handshake_failure");
            *al = SSL_AD_HANDSHAKE_FAILURE;
            return 0;
        }
        if (conn->state != NAME_GIVEN && conn->state != NAME_BAD)
            conn->state = NAME_FROM_CERT;
        return 1;
    default:
        return 1;
    }
}

/* hello_cb - server role: decide, before the server's flight is built,
 * whether this client is asked for a certificate for DANE. */
static int hello_cb(SSL *s, int *al, void *arg)
{
    dance_conn *conn = conn_get(s);
    const dance_ext_runtime *rt = conn != NULL ? conn->rt : NULL;
    const unsigned char *data;
    size_t len;
    int signalled, require;

    (void)al, (void)arg;
    if (rt == NULL || rt->cfg.client_auth == DANCE_CLIENT_AUTH_OFF)
        return SSL_CLIENT_HELLO_SUCCESS;
    require = rt->cfg.client_auth == DANCE_CLIENT_AUTH_REQUIRE;
    signalled =
        SSL_client_hello_get0_ext(s, rt->cfg.extension_type, &data, &len);
    /* client-auth-13 clients give no signal before the Certificate, so
     * that profile asks every client, as request_cert = always does. */
    if (signalled || require || rt->cfg.request_cert == DANCE_REQUEST_ALWAYS ||
        rt->cfg.profile == DANCE_PROFILE_CLIENT_AUTH_13) {
        conn->requested = 1;
        raise_verify(s, conn, require);
    }
    return SSL_CLIENT_HELLO_SUCCESS;
}

/* ---- verification ------------------------------------------------------- */

/* record_cb - X509 verify callback wrapper: note the first error, then
 * let the application's callback see everything as before. */
static int record_cb(int ok, X509_STORE_CTX *xs)
{
    SSL *s =
        X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    dance_conn *conn = s != NULL ? conn_get(s) : NULL;

    if (conn == NULL)
        return ok;
    if (!ok && conn->first_err == X509_V_OK) {
        conn->first_err = X509_STORE_CTX_get_error(xs);
        if (conn->first_err == X509_V_OK)
            conn->first_err = X509_V_ERR_UNSPECIFIED;
    }
    return conn->app_cb != NULL ? conn->app_cb(ok, xs) : ok;
}

/* run_verify - X509_verify_cert, reporting whether it passed with no error
 * at all (an application callback may forgive errors; we do not). */
static int run_verify(dance_conn *conn, X509_STORE_CTX *xs)
{
    int ok;

    conn->first_err = X509_V_OK;
    conn->app_cb = X509_STORE_CTX_get_verify_cb(xs);
    X509_STORE_CTX_set_verify_cb(xs, record_cb);
    ok = X509_verify_cert(xs);
    X509_STORE_CTX_set_verify_cb(xs, conn->app_cb);
    if (ok == 1 && conn->first_err == X509_V_OK)
        return 1;
    if (conn->first_err == X509_V_OK)
        conn->first_err = X509_STORE_CTX_get_error(xs);
    return 0;
}

/* plain_verify - the application's own verification, untouched in effect:
 * if we raised the verify mode, a failure does not abort a handshake the
 * application would have let through. */
static int plain_verify(dance_conn *conn, X509_STORE_CTX *xs)
{
    int ok = X509_verify_cert(xs);

    if (conn->mode_raised && !(conn->app_mode & SSL_VERIFY_PEER))
        return 1;
    return ok;
}

/* enable_dane - hand the secure TLSA RRset of result to OpenSSL's DANE
 * engine for this connection, with peer name `name` for the name checks of
 * usages 0-2. Returns the number of usable records (0: none). */
static int enable_dane(SSL *s, X509_STORE_CTX *xs, const char *name,
                       const dance_res_result *result, const char **why)
{
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(xs);
    int usable = 0;

    if (SSL_dane_enable(s, name) <= 0) {
        *why = "OpenSSL refused to enable DANE on the connection";
        return 0;
    }
    SSL_dane_set_flags(s, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    /* TLSA RDATA: usage, selector, matching type (one octet each), then
     * the certificate association data. */
    for (size_t i = 0; i < dance_res_result_rr_count(result); i++) {
        size_t len = 0;
        const uint8_t *rd = dance_res_result_get0_rdata(result, i, &len);

        if (dance_res_result_rr_type(result, i) != LDNS_RR_TYPE_TLSA ||
            rd == NULL || len < 4)
            continue;
        if (SSL_dane_tlsa_add(s, rd[0], rd[1], rd[2], rd + 3, len - 3) > 0)
            usable++;
    }
    if (usable == 0) {
        *why = "no usable TLSA record (unsupported usage, selector or "
               "matching type)";
        return 0;
    }
    /* The store context was set up before DANE was enabled: point it at
     * the connection's DANE state and the name to check. */
    X509_STORE_CTX_set0_dane(xs, SSL_get0_dane(s));
    X509_VERIFY_PARAM_set_hostflags(param,
                                    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    X509_VERIFY_PARAM_set1_host(param, name, 0);
    return usable;
}

/* matched_tlsa - "usage selector mtype" of the record that matched. */
static void matched_tlsa(SSL *s, char *buf, size_t len)
{
    uint8_t u, sel, m;

    if (SSL_get0_dane_tlsa(s, &u, &sel, &m, NULL, NULL) >= 0)
        snprintf(buf, len, "TLSA %u %u %u", u, sel, m);
    else
        snprintf(buf, len, "TLSA");
}

/* dane_check - look up (joining the early lookup), enable DANE and verify.
 * Returns 1 if the peer is authenticated by DANE; else 0 with *why (static
 * text or a pointer into why_buf) and *err (an X509_V_ERR_*). */
static int dane_check(SSL *s, dance_conn *conn, X509_STORE_CTX *xs,
                      const char *name, const char *owner, const char **why,
                      char *why_buf, size_t why_len, int *err, char *matched,
                      size_t mlen)
{
    dance_res_result *r;
    int ok = 0;

    start_lookup(conn, owner); /* a no-op when it was started early */
    r = conn->job != NULL ? dance_res_job_join(conn->job) : NULL;
    *err = X509_V_ERR_APPLICATION_VERIFICATION;
    if (r == NULL) {
        *why = "out of memory";
        return 0;
    }
    if (dance_res_result_status(r) != DANCE_RES_SECURE) {
        snprintf(why_buf, why_len, "TLSA %s: %s",
                 dance_res_status_str(dance_res_result_status(r)),
                 dance_res_result_get0_why(r));
        *why = why_buf;
    } else if (enable_dane(s, xs, name, r, why) > 0) {
        ok = run_verify(conn, xs);
        if (ok) {
            matched_tlsa(s, matched, mlen);
        } else {
            *err = conn->first_err;
            snprintf(why_buf, why_len, "certificate does not match: %s",
                     X509_verify_cert_error_string(conn->first_err));
            *why = why_buf;
        }
    }
    dance_res_result_free(r);
    return ok;
}

/* server_verify - server role: authenticate a client by its TLSA RRset. */
static int server_verify(SSL *s, dance_conn *conn, X509_STORE_CTX *xs)
{
    const dance_config *cfg = &conn->rt->cfg;
    int require = cfg->client_auth == DANCE_CLIENT_AUTH_REQUIRE;
    char name[DANCE_NAME_MAX + 1] = "", owner[OWNER_MAX], buf[600];
    char matched[32] = "";
    const char *why = NULL;
    int err = X509_V_ERR_APPLICATION_VERIFICATION;

    if (cfg->client_auth == DANCE_CLIENT_AUTH_OFF)
        return X509_verify_cert(xs);
    if (!conn->signalled) {
        if (!require)
            return plain_verify(conn, xs); /* not a DANE client */
        why = "client did not send dane_clientid";
    } else if (conn->state == NAME_BAD) {
        why = conn->bad_why;
    } else if (conn->state == NAME_GIVEN) {
        snprintf(name, sizeof(name), "%s", conn->name);
    } else if (!first_dns_san(X509_STORE_CTX_get0_cert(xs), name)) {
        why = "no ClientName and no usable dNSName in the certificate";
    }
    if (why == NULL && !is_allowed(cfg, name))
        why = "name not on the allow list";
    if (why == NULL) {
        client_owner(cfg, name, owner);
        if (dane_check(s, conn, xs, name, owner, &why, buf, sizeof(buf), &err,
                       matched, sizeof(matched))) {
            dance_log(DANCE_LOG_INFO,
                      "server: client %s authenticated by DANE (%s at %s)",
                      name, matched, owner);
            X509_STORE_CTX_set_error(xs, X509_V_OK);
            return 1;
        }
    }
    dance_log(DANCE_LOG_INFO, "server: client %s not authenticated (%s): %s",
              name[0] != '\0' ? name : "(unnamed)",
              require ? "require: handshake aborted"
                      : "optional: verify result set",
              why);
    /* require: handshake_failure. optional: carry on, result not OK. */
    X509_STORE_CTX_set_error(xs, require ? X509_V_ERR_APPLICATION_VERIFICATION
                                         : err);
    return require ? 0 : 1;
}

/* client_verify - client role: authenticate the server by DANE
 * (RFC 7671) when server_dane asks for it. */
static int client_verify(SSL *s, dance_conn *conn, X509_STORE_CTX *xs)
{
    const dance_config *cfg = &conn->rt->cfg;
    int require = cfg->server_dane == DANCE_SERVER_DANE_REQUIRE;
    char buf[600], matched[32] = "";
    const char *why = NULL;
    dance_res_result *r = NULL;
    int err = X509_V_ERR_APPLICATION_VERIFICATION;

    if (cfg->server_dane == DANCE_SERVER_DANE_OFF)
        return X509_verify_cert(xs);
    if (conn->job == NULL) {
        why = "no SNI host name or no socket to learn the port from";
    } else {
        r = dance_res_job_join(conn->job);
        if (r == NULL) {
            why = "out of memory";
        } else if (dance_res_result_status(r) != DANCE_RES_SECURE) {
            snprintf(buf, sizeof(buf), "TLSA %s: %s",
                     dance_res_status_str(dance_res_result_status(r)),
                     dance_res_result_get0_why(r));
            why = buf;
        }
    }
    if (why != NULL && !require) {
        dance_log(DANCE_LOG_INFO,
                  "client: server %s: no DANE (%s); PKIX as configured",
                  conn->host[0] ? conn->host : "(unnamed)", why);
        dance_res_result_free(r);
        return plain_verify(conn, xs);
    }
    if (why == NULL &&
        dane_check(s, conn, xs, conn->host, conn->owner, &why, buf, sizeof(buf),
                   &err, matched, sizeof(matched))) {
        dance_log(DANCE_LOG_INFO,
                  "client: server %s authenticated by DANE (%s at %s)",
                  conn->host, matched, conn->owner);
        dance_res_result_free(r);
        X509_STORE_CTX_set_error(xs, X509_V_OK);
        return 1;
    }
    dance_log(DANCE_LOG_INFO, "client: server %s not authenticated: %s",
              conn->host[0] ? conn->host : "(unnamed)", why);
    dance_res_result_free(r);
    X509_STORE_CTX_set_error(xs, err);
    return 0;
}

/* verify_cb - SSL_CTX cert-verify callback: the join point of both roles,
 * after every extension is parsed and before the verdict. */
static int verify_cb(X509_STORE_CTX *xs, void *arg)
{
    SSL *s =
        X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    dance_conn *conn = s != NULL ? conn_get(s) : NULL;

    (void)arg;
    if (conn == NULL) {
        /* Without our state we cannot tell who asked for what: only the
         * strict answer is safe for a server that requires DANE. */
        const dance_ext_runtime *rt = atomic_load(&installed);

        if (s != NULL && SSL_is_server(s) && rt != NULL &&
            rt->cfg.client_auth == DANCE_CLIENT_AUTH_REQUIRE) {
            X509_STORE_CTX_set_error(xs, X509_V_ERR_OUT_OF_MEM);
            return 0;
        }
        return X509_verify_cert(xs);
    }
    return SSL_is_server(s) ? server_verify(s, conn, xs)
                            : client_verify(s, conn, xs);
}

/* ---- fail closed -------------------------------------------------------- */

/* refuse_add - a client's ClientHello cannot be built: the provider's
 * configuration was refused. */
static int refuse_add(SSL *s, unsigned int type, unsigned int context,
                      const unsigned char **out, size_t *outlen, X509 *x,
                      size_t chainidx, int *al, void *arg)
{
    const dance_ext_runtime *rt = atomic_load(&installed);

    (void)s, (void)type, (void)context, (void)out, (void)outlen, (void)x;
    (void)chainidx, (void)arg;
    dance_log(DANCE_LOG_ERROR, "TLS refused: %s",
              rt != NULL && rt->fatal != NULL ? rt->fatal : "?");
    *al = SSL_AD_INTERNAL_ERROR;
    return -1;
}

/* refuse_hello - a server refuses every ClientHello, for the same reason. */
static int refuse_hello(SSL *s, int *al, void *arg)
{
    (void)arg;
    return refuse_add(s, 0, 0, NULL, NULL, NULL, 0, al, NULL) < 0
               ? SSL_CLIENT_HELLO_ERROR
               : SSL_CLIENT_HELLO_SUCCESS;
}

/* ---- installation ------------------------------------------------------- */

/* dance_ext_type_usable - see header. */
int dance_ext_type_usable(unsigned int type)
{
    /* SSL_extension_supported misses two that libssl 3.0 parses itself:
     * signature_algorithms_cert (50) and cryptopro_bug (65000). */
    return type <= 0xffff && !SSL_extension_supported(type) && type != 50 &&
           type != 65000;
}

/* ctx_new - ex_data "new" callback, run inside every SSL_CTX_new. */
static void ctx_new(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
                    long argl, void *argp)
{
    SSL_CTX *ctx = parent;
    const dance_ext_runtime *rt = atomic_load(&installed);

    (void)ptr, (void)ad, (void)idx, (void)argl, (void)argp;
    if (rt == NULL || ctx == NULL)
        return;
    if (rt->fatal != NULL) {
        SSL_CTX_add_custom_ext(ctx, 65293, SSL_EXT_CLIENT_HELLO, refuse_add,
                               NULL, NULL, NULL, NULL);
        SSL_CTX_set_client_hello_cb(ctx, refuse_hello, NULL);
        return;
    }
    if (SSL_CTX_dane_enable(ctx) <= 0)
        dance_log(DANCE_LOG_WARN, "SSL_CTX_dane_enable failed");
    if (!SSL_CTX_add_custom_ext(ctx, rt->cfg.extension_type, EXT_CONTEXTS,
                                ext_add, ext_free, NULL, ext_parse, NULL)) {
        dance_log(DANCE_LOG_ERROR,
                  "cannot add extension type %u to an SSL_CTX (already in "
                  "use?): DANE client authentication is off for it",
                  rt->cfg.extension_type);
        return;
    }
    SSL_CTX_set_client_hello_cb(ctx, hello_cb, NULL);
    SSL_CTX_set_cert_verify_callback(ctx, verify_cb, NULL);
    dance_log(DANCE_LOG_DEBUG, "SSL_CTX %p: dane_clientid (type %u) attached",
              (void *)ctx, rt->cfg.extension_type);
}

/* dance_ext_install - see header. */
int dance_ext_install(const dance_ext_runtime *rt, char *err, size_t errlen)
{
    int ok = 0;

    pthread_mutex_lock(&install_lock);
    /* Existing SSL_CTXs keep using the first runtime even after an
     * uninstall, so only that one may be installed again. */
    if (atomic_load(&installed) != NULL && atomic_load(&installed) != rt) {
        snprintf(err, errlen,
                 "the SSL hooks are installed with other "
                 "settings already");
        goto done;
    }
    if (ctx_index >= 0) {
        ok = 1; /* already hooked with these settings */
        goto done;
    }
    if (atomic_load(&ssl_index) < 0) {
        int idx = SSL_get_ex_new_index(0, NULL, NULL, conn_dup, conn_free);

        if (idx < 0) {
            snprintf(err, errlen, "no SSL ex_data index");
            goto done;
        }
        atomic_store(&ssl_index, idx);
    }
    /* The runtime is published before the index that makes SSL_CTX_new
     * call us, so ctx_new never sees it half set. */
    atomic_store(&installed, rt);
    ctx_index = SSL_CTX_get_ex_new_index(0, NULL, ctx_new, NULL, NULL);
    if (ctx_index < 0) {
        snprintf(err, errlen, "no SSL_CTX ex_data index");
        goto done;
    }
    ok = 1;
done:
    pthread_mutex_unlock(&install_lock);
    return ok;
}

/* dance_ext_uninstall - see header. */
void dance_ext_uninstall(void)
{
    pthread_mutex_lock(&install_lock);
    if (ctx_index >= 0)
        CRYPTO_free_ex_index(CRYPTO_EX_INDEX_SSL_CTX, ctx_index);
    ctx_index = -1;
    pthread_mutex_unlock(&install_lock);
}
