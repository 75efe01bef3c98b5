/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_ext.c - the dane_clientid extension, policy, and the DANE verify
 * join point, attached to every SSL_CTX through an ex_data "new" callback
 * and to every SSL through another.
 *
 * Per connection state (dance_conn) hangs off the SSL's ex_data: it is
 * created inside SSL_new (ex_data "new" callback), reset at the start of
 * every handshake (renegotiation, SSL_clear reuse) and freed with the SSL.
 *
 * Security invariants, checked in one place each:
 *  - the module never widens who gets in. Under client_auth = optional a
 *    client is either authenticated by DANE (verify result OK) or judged
 *    by the application exactly as without the module: its verify mode,
 *    trust store and verify callback decide, in a verification that never
 *    sees any DANE state (server_verify, app_verify);
 *  - under client_auth = require a handshake completes only for a client
 *    authenticated by DANE in this handshake, or resuming a session that
 *    was, under the same ClientName, before its TLSA answer expired. This
 *    is enforced from the per-SSL info callback, which runs after the
 *    application's ClientHello, servername and certificate callbacks:
 *    right before libssl decides on a CertificateRequest it forces
 *    SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT and a verify
 *    callback of ours (enforce); at SSL_CB_HANDSHAKE_DONE a handshake that
 *    did not pass our check is made unusable (backstop). An SSL we cannot
 *    watch (its SSL_CTX was not hooked) refuses every handshake;
 *  - a name is looked up only if it is a valid ClientName and on the allow
 *    list (start_client_lookup);
 *  - verification is OpenSSL's DANE engine, run on a private SSL's DANE
 *    state and a private X509_STORE_CTX (dane_verify), so no DANE state
 *    survives into the application's own verification, a renegotiation or
 *    a reused SSL. Our verify_cb wrapper records whether any error was
 *    reported, so an application callback that forgives errors cannot
 *    turn a DANE failure into a success.
 *
 * Known limits (documented in the README): an application that installs
 * its own per-SSL info callback (SSL_set_info_callback) replaces ours;
 * we then still refuse in the certificate-verify path, but a client
 * without a certificate is judged by the application's verify mode.
 */
#include "dance_ext.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "dance_ext_stats.h"
#include "dance_ident.h"
#include "dance_log.h"
#include "dance_name.h"
#include "dance_rpk.h"

/* The messages dane_clientid may appear in (DESIGN.md section 2). */
#define EXT_CONTEXTS                                                           \
    (SSL_EXT_TLS_ONLY | SSL_EXT_CLIENT_HELLO | SSL_EXT_TLS1_2_SERVER_HELLO |   \
     SSL_EXT_TLS1_3_CERTIFICATE_REQUEST | SSL_EXT_TLS1_3_CERTIFICATE)

#define OWNER_MAX DANCE_EXT_OWNER_MAX /* room for a service label */

/* Every protocol version off: the handshake fails before it starts. */
#define NO_PROTOCOLS                                                           \
    (SSL_OP_NO_SSLv3 | SSL_OP_NO_TLSv1 | SSL_OP_NO_TLSv1_1 |                   \
     SSL_OP_NO_TLSv1_2 | SSL_OP_NO_TLSv1_3 | SSL_OP_NO_DTLSv1 |                \
     SSL_OP_NO_DTLSv1_2)

/* Session ticket appdata of a DANE-authenticated session:
 * "dance1 <expiry, seconds since the epoch> <ClientName>". */
#define SESS_TAG "dance1 "

typedef enum {
    NAME_NONE = 0,  /* no extension seen */
    NAME_FROM_CERT, /* empty extension: take the dNSName SAN */
    NAME_GIVEN,     /* a ClientName */
    NAME_BAD        /* malformed, or inconsistent between messages */
} name_state;

typedef struct {
    const dance_ext_runtime *rt;
    /* Fail every handshake on this SSL (static text: why). */
    const char *refuse;
    /* verify mode bookkeeping: what the application set, what we set */
    int app_mode;
    int our_mode; /* -1: we have not looked yet this handshake */
    SSL_verify_cb app_x509_cb;
    /* the application's own per-SSL info callback, if it replaced ours */
    void (*app_info)(const SSL *, int, int);
    int first_err; /* first X509 error seen during verification */
    X509_STORE_CTX_verify_cb app_cb;
    /* server role, per handshake */
    int requested; /* we asked this client for DANE */
    int signalled; /* dane_clientid came in the ClientHello or Cert */
    int in_dane;   /* inside our own verification */
    int dane_ok;   /* the client is authenticated by DANE */
    int resume_checked;
    /* static text: why DANE cannot authenticate anyone in this handshake
     * (client-auth profile below TLS 1.3), or NULL */
    const char *no_dane;
    int decided;      /* a final decision was logged (and counted) */
    const char *kill; /* static text: make the connection unusable */
    name_state state;
    const char *bad_why; /* static text, for NAME_BAD */
    char name[DANCE_NAME_MAX + 1];
    /* lookups: the client's TLSA (server role), the server's (client) */
    dance_res_job *job;
    char owner[OWNER_MAX];
    char host[DANCE_NAME_MAX + 1]; /* client role: SNI name */
} dance_conn;

static pthread_mutex_t install_lock = PTHREAD_MUTEX_INITIALIZER;
/* The runtime the hooks were installed with. Callbacks never read it: each
 * gets the runtime through its own argument (ex_data argp, the verify and
 * extension callbacks' arg) or its connection's state. */
static const dance_ext_runtime *installed; /* under install_lock */
static int ctx_index = -1;                 /* under install_lock */
static atomic_int mark_index = -1;         /* SSL_CTX ex_data: hooked by us */
static atomic_int ssl_index = -1;          /* set once, never released */
static const char ctx_mark = 'd';          /* its value in hooked SSL_CTXs */

/* The private SSL_CTX whose SSLs carry DANE state for one verification. */
static pthread_once_t dane_once = PTHREAD_ONCE_INIT;
static SSL_CTX *dane_ctx;
/* Set in a thread while it makes our own private SSL_CTX or SSL, so the
 * hooks leave those alone. A pthread key, not _Thread_local: static TLS
 * in a dlopen'ed module is scarce and LeakSanitizer cannot walk it. */
static pthread_once_t private_once = PTHREAD_ONCE_INIT;
static pthread_key_t private_key;
static int private_key_ok;

/* private_key_make - create private_key (pthread_once). */
static void private_key_make(void)
{
    private_key_ok = pthread_key_create(&private_key, NULL) == 0;
}

/* set_making_private - mark (on != 0) or unmark the calling thread.
 * Returns 0 when the mark cannot be kept (no key). */
static int set_making_private(int on)
{
    static const char mark = 'p';

    pthread_once(&private_once, private_key_make);
    return private_key_ok &&
           pthread_setspecific(private_key, on ? &mark : NULL) == 0;
}

/* making_private - is the calling thread making a private object? */
static int making_private(void)
{
    pthread_once(&private_once, private_key_make);
    return private_key_ok && pthread_getspecific(private_key) != NULL;
}

static void info_cb(const SSL *s, int where, int ret);

/* ---- per-connection state ----------------------------------------------- */

/* ctx_hooked - did ctx_new attach our hooks to ctx? */
static int ctx_hooked(SSL_CTX *ctx)
{
    int idx = atomic_load(&mark_index);

    return ctx != NULL && idx >= 0 &&
           SSL_CTX_get_ex_data(ctx, idx) == &ctx_mark;
}

/* conn_new - ex_data "new" callback, run inside every SSL_new: our state
 * and our info callback on every SSL of the process. */
static void conn_new(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx,
                     long argl, void *argp)
{
    SSL *s = parent;
    const dance_ext_runtime *rt = argp; /* given to SSL_get_ex_new_index */
    dance_conn *conn;

    (void)ptr, (void)argl;
    if (rt == NULL || s == NULL || making_private() || rt->fatal != NULL)
        return;
    conn = OPENSSL_zalloc(sizeof(*conn));
    if (conn == NULL || !CRYPTO_set_ex_data(ad, idx, conn)) {
        OPENSSL_free(conn);
        if (rt->policy.client_auth == DANCE_CLIENT_AUTH_REQUIRE) {
            /* No state: nothing can be enforced. Fail closed. */
            dance_log(DANCE_LOG_ERROR, "server: out of memory for an SSL: "
                                       "every handshake on it is refused");
            SSL_set_options(s, NO_PROTOCOLS);
        }
        return;
    }
    conn->rt = rt;
    conn->our_mode = -1;
    SSL_set_info_callback(s, info_cb);
}

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

/* conn_dup - ex_data dup callback: a duplicated SSL keeps the fresh state
 * conn_new gave it (SSL_dup calls SSL_new first). */
static int conn_dup(CRYPTO_EX_DATA *to, const CRYPTO_EX_DATA *from,
                    void **from_d, int idx, long argl, void *argp)
{
    (void)from, (void)argl, (void)argp;
    *(dance_conn **)from_d = CRYPTO_get_ex_data(to, idx);
    return 1;
}

/* conn_get - the state of s; NULL if s has none (created before the hooks
 * were installed, or memory ran out). */
static dance_conn *conn_get(const SSL *s)
{
    int idx = atomic_load(&ssl_index);

    return idx >= 0 ? SSL_get_ex_data(s, idx) : NULL;
}

/* watch - the application may have replaced our per-SSL info callback
 * with its own (SSL_set_info_callback): put ours back, chaining to its. */
static void watch(SSL *s, dance_conn *conn)
{
    void (*cb)(const SSL *, int, int) = SSL_get_info_callback(s);

    if (cb == info_cb)
        return;
    dance_log(DANCE_LOG_WARN, "the application replaced the module's info "
                              "callback on an SSL: put back, chained to the "
                              "application's");
    conn->app_info = cb;
    SSL_set_info_callback(s, info_cb);
}

/* conn_reset - a handshake starts: forget the previous one, and give the
 * application back the verify mode it had set. */
static void conn_reset(SSL *s, dance_conn *conn)
{
    if (conn->our_mode >= 0 && SSL_get_verify_mode(s) == conn->our_mode)
        SSL_set_verify(s, conn->app_mode, conn->app_x509_cb);
    dance_res_job_free(conn->job);
    conn->job = NULL;
    conn->our_mode = -1;
    conn->requested = conn->signalled = conn->in_dane = conn->dane_ok = 0;
    conn->resume_checked = conn->decided = 0;
    conn->no_dane = NULL;
    conn->kill = NULL;
    conn->state = NAME_NONE;
    conn->bad_why = NULL;
    conn->name[0] = conn->owner[0] = conn->host[0] = '\0';
}

/* raise_verify - client role: make s check the server's certificate; the
 * application's own verify callback is kept. */
static void raise_verify(SSL *s, dance_conn *conn)
{
    int mode = SSL_get_verify_mode(s);

    if (mode & SSL_VERIFY_PEER)
        return;
    conn->app_mode = mode;
    conn->app_x509_cb = SSL_get_verify_callback(s);
    conn->our_mode = mode | SSL_VERIFY_PEER;
    SSL_set_verify(s, conn->our_mode, conn->app_x509_cb);
}

/* ---- logging ------------------------------------------------------------ */

/* peer_of - the address (into host, INET6_ADDRSTRLEN bytes) and port of
 * s's peer. Returns AF_INET or AF_INET6, or 0 when s has no IP socket. */
static int peer_of(const SSL *s, char *host, unsigned *port)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int fd = SSL_get_fd(s);

    if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
        return 0;
    if (ss.ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;

        *port = ntohs(in->sin_port);
        return inet_ntop(AF_INET, &in->sin_addr, host, INET6_ADDRSTRLEN)
                   ? AF_INET
                   : 0;
    }
    if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;

        *port = ntohs(in6->sin6_port);
        return inet_ntop(AF_INET6, &in6->sin6_addr, host, INET6_ADDRSTRLEN)
                   ? AF_INET6
                   : 0;
    }
    return 0;
}

/* peer_addr - "address:port" of s's peer, or "-" when s has no socket. */
static void peer_addr(const SSL *s, char *out, size_t len)
{
    char host[INET6_ADDRSTRLEN];
    unsigned port = 0;

    switch (peer_of(s, host, &port)) {
    case AF_INET:
        snprintf(out, len, "%s:%u", host, port);
        break;
    case AF_INET6:
        snprintf(out, len, "[%s]:%u", host, port);
        break;
    default:
        snprintf(out, len, "-");
    }
}

/* log_verdict - one line for a decision: role, peer, name, TLSA owner,
 * outcome, then the matched record or the reason, and until when the
 * answer it rests on is valid (expires 0: no answer). A final decision
 * (d not DANCE_DECISION_NONE) is counted here, with reason r, whatever
 * the log level: the one place every verdict passes. */
static void log_verdict(dance_log_level level, const SSL *s, const char *role,
                        const char *name, const char *owner,
                        const char *outcome, const char *why, time_t expires,
                        dance_decision d, dance_reason r)
{
    char peer[INET6_ADDRSTRLEN + 16], until[80] = "";
    dance_conn *conn = conn_get(s);
    struct tm tm;

    if (conn != NULL && d != DANCE_DECISION_NONE)
        conn->decided = 1;
    dance_ext_stats_count(
        SSL_is_server(s) ? DANCE_STATS_CLIENTS : DANCE_STATS_SERVERS, d, r);
    if (!dance_log_enabled(level))
        return;
    peer_addr(s, peer, sizeof(peer));
    if (expires > 0 && gmtime_r(&expires, &tm) != NULL)
        strftime(until, sizeof(until),
                 conn != NULL && dance_res_job_from_cache(conn->job)
                     ? "; answer from the cache, valid until "
                       "%Y-%m-%dT%H:%M:%SZ"
                     : "; answer looked up now, valid until "
                       "%Y-%m-%dT%H:%M:%SZ",
                 &tm);
    dance_log(level, "%s: peer %s name %s tlsa %s: %s: %s%s", role, peer,
              name != NULL && name[0] != '\0' ? name : "-",
              owner != NULL && owner[0] != '\0' ? owner : "-", outcome, why,
              until);
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
    if (rt->policy.client_name != NULL) {
        snprintf(out, DANCE_NAME_MAX + 1, "%s", rt->policy.client_name);
        return 1;
    }
    return first_dns_san(x, out);
}

/* is_allowed - is name on the allow list (or is there none)? */
static int is_allowed(const dance_policy *pol, const char *name)
{
    if (pol->nallow == 0)
        return 1;
    for (size_t i = 0; i < pol->nallow; i++)
        if (dance_name_match(pol->allow[i], name))
            return 1;
    return 0;
}

/* client_owner - the TLSA owner for a client name: the name itself, or
 * with client_service set and a bare name, "<service>.<name>". */
static void client_owner(const dance_policy *pol, const char *name, char *out)
{
    if (pol->client_service != NULL && name[0] != '_')
        snprintf(out, OWNER_MAX, "%s.%s", pol->client_service, name);
    else
        snprintf(out, OWNER_MAX, "%s", name);
}

/* start_lookup - begin the TLSA lookup for owner unless it is running.
 * joined: the answer is needed at once (the name came with the message
 * that is verified next), so the handshake's own thread runs the lookup
 * when it joins, rather than handing it to a worker and waiting. */
static void start_lookup(dance_conn *conn, const char *owner, int joined)
{
    if (conn->job != NULL && strcmp(conn->owner, owner) == 0)
        return;
    dance_res_job_free(conn->job);
    snprintf(conn->owner, sizeof(conn->owner), "%s", owner);
    conn->job = joined ? dance_async_start_joined(conn->rt->async, owner,
                                                  LDNS_RR_TYPE_TLSA, time(NULL))
                       : dance_async_start(conn->rt->async, owner,
                                           LDNS_RR_TYPE_TLSA, time(NULL));
}

/* client_gate - server role: may the ClientName name be looked up at
 * all? Not a server's TLSA owner (or no name), and on the allow list (which
 * guards the DNS). Returns 1 with the TLSA owner in owner (OWNER_MAX
 * bytes), or 0 with *why (static text). */
static int client_gate(const dance_policy *pol, const char *name, char *owner,
                       const char **why)
{
    if (!dance_ident_client_name_check(name, why))
        return 0;
    if (!is_allowed(pol, name)) {
        *why = "name not on the allow list";
        return 0;
    }
    client_owner(pol, name, owner);
    return 1;
}

/* dance_ext_client_owner - see header. */
int dance_ext_client_owner(const dance_policy *pol, const char *name,
                           char *owner, size_t len, const char **why)
{
    char buf[OWNER_MAX];

    if (!client_gate(pol, name, buf, why))
        return 0;
    if (strlen(buf) >= len) {
        *why = "TLSA owner name longer than the room for it";
        return 0;
    }
    memcpy(owner, buf, strlen(buf) + 1);
    return 1;
}

/* start_client_lookup - server role: look up a client's TLSA early, if its
 * name passes client_gate (joined: see start_lookup). */
static void start_client_lookup(dance_conn *conn, const char *name, int joined)
{
    char owner[OWNER_MAX];
    const char *why;

    if (client_gate(&conn->rt->policy, name, owner, &why))
        start_lookup(conn, owner, joined);
}

/* start_server_lookup - client role: TLSA of the server at
 * _<port>._tcp.<SNI name> (RFC 7671), if both are known. */
static void start_server_lookup(SSL *s, dance_conn *conn)
{
    const char *sni = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
    char host[INET6_ADDRSTRLEN], owner[OWNER_MAX];
    unsigned port = 0;
    const char *why;

    if (sni == NULL || peer_of(s, host, &port) == 0 || port == 0 ||
        strlen(sni) > DANCE_NAME_MAX ||
        !dance_name_check(sni, strlen(sni), &why))
        return;
    snprintf(conn->host, sizeof(conn->host), "%s", sni);
    snprintf(owner, sizeof(owner), "_%u._tcp.%s", port, sni);
    start_lookup(conn, owner, 0);
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
    switch (dance_rpk_context(context)) {
    case SSL_EXT_CLIENT_HELLO:
        if (rt->policy.server_dane != DANCE_SERVER_DANE_OFF) {
            raise_verify(s, conn);
            start_server_lookup(s, conn);
        }
        /* No certificate configured: this client does not do DANE. */
        if (rt->policy.profile != DANCE_PROFILE_HELLO ||
            SSL_get_certificate(s) == NULL ||
            !own_name(rt, SSL_get_certificate(s), name))
            return 0;
        if (!rt->policy.hello_name)
            return 1; /* the bare signal: name from the certificate */
        break;
    case SSL_EXT_TLS1_2_SERVER_HELLO:
        /* Legacy only: the draft has no TLS 1.2 extension (empty). */
        return rt->policy.client_auth != DANCE_CLIENT_AUTH_OFF &&
               rt->policy.profile == DANCE_PROFILE_HELLO;
    case SSL_EXT_TLS1_3_CERTIFICATE_REQUEST:
        if (!conn->requested)
            return 0;
        if (rt->policy.profile == DANCE_PROFILE_HELLO)
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
static int bad_name(SSL *s, dance_conn *conn, const char *why, int *al)
{
    conn->state = NAME_BAD;
    conn->bad_why = why;
    /* Final under require; under optional server_verify decides later. */
    log_verdict(DANCE_LOG_WARN, s, "server", NULL, NULL, "malformed ClientName",
                why, 0,
                conn->rt->policy.client_auth == DANCE_CLIENT_AUTH_REQUIRE
                    ? DANCE_DECISION_REFUSED
                    : DANCE_DECISION_NONE,
                DANCE_REASON_BAD_NAME);
    if (conn->rt->policy.client_auth == DANCE_CLIENT_AUTH_REQUIRE) {
        *al = SSL_AD_HANDSHAKE_FAILURE;
        return 0;
    }
    return 1;
}

/* take_name - server role: a ClientName arrived (hello or Certificate:
 * in_cert, when its lookup is joined next). */
static int take_name(SSL *s, dance_conn *conn, const char *name, int in_cert,
                     int *al)
{
    if (conn->state == NAME_GIVEN && strcmp(conn->name, name) != 0)
        return bad_name(s, conn,
                        "ClientName differs between ClientHello and "
                        "Certificate",
                        al);
    if (conn->state == NAME_BAD)
        return conn->rt->policy.client_auth != DANCE_CLIENT_AUTH_REQUIRE;
    snprintf(conn->name, sizeof(conn->name), "%s", name);
    conn->state = NAME_GIVEN;
    start_client_lookup(conn, name, in_cert);
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
    watch(s, conn);
    switch (dance_rpk_context(context)) {
    case SSL_EXT_TLS1_2_SERVER_HELLO:
    case SSL_EXT_TLS1_3_CERTIFICATE_REQUEST:
        return 1; /* the server supports DANE clients: nothing to record */
    case SSL_EXT_CLIENT_HELLO:
        if (rt->policy.client_auth == DANCE_CLIENT_AUTH_OFF)
            return 1;
        if (rt->policy.profile != DANCE_PROFILE_HELLO) {
            /* The draft's ClientName travels only in the client's
             * Certificate: a name here (a legacy client's) neither
             * signals nor names anyone, and starts no lookup. */
            dance_log(DANCE_LOG_DEBUG, "server: dane_clientid in a "
                                       "ClientHello ignored (profile = "
                                       "client-auth)");
            return 1;
        }
        /* The verify mode is raised in enforce(), after the
         * application's own ClientHello, SNI and certificate callbacks. */
        conn->signalled = 1;
        conn->requested = 1;
        w = dance_name_decode(in, inlen, name, &why);
        if (w == DANCE_WIRE_MALFORMED)
            return bad_name(s, conn, why, al);
        if (w == DANCE_WIRE_NAME)
            return take_name(s, conn, name, 0, al);
        conn->state = NAME_FROM_CERT; /* empty or zero-length: a signal */
        return 1;
    case SSL_EXT_TLS1_3_CERTIFICATE:
        if (!SSL_is_server(s) || chainidx != 0 ||
            rt->policy.client_auth == DANCE_CLIENT_AUTH_OFF)
            return 1;
        conn->signalled = 1;
        w = dance_name_decode(in, inlen, name, &why);
        if (w == DANCE_WIRE_MALFORMED)
            return bad_name(s, conn, why, al);
        if (w == DANCE_WIRE_NAME)
            return take_name(s, conn, name, 1, al);
        if (rt->policy.profile == DANCE_PROFILE_CLIENT_AUTH_13) {
            /* A zero-length ClientName here is a protocol violation that
             * the draft makes fatal whatever the policy. */
            log_verdict(DANCE_LOG_WARN, s, "server", NULL, NULL, "refused",
                        "zero-length ClientName in Certificate", 0,
                        DANCE_DECISION_REFUSED, DANCE_REASON_BAD_NAME);
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

/* ---- verification ------------------------------------------------------- */

/* record_cb - X509 verify callback of our own DANE verification: note the
 * first error, then let the application's callback see everything as
 * before (it may refuse more, never less). */
static int record_cb(int ok, X509_STORE_CTX *xs)
{
    SSL *s =
        X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    dance_conn *conn = s != NULL ? conn_get(s) : NULL;

    if (conn == NULL)
        return 0;
    if (!ok && conn->first_err == X509_V_OK) {
        conn->first_err = X509_STORE_CTX_get_error(xs);
        if (conn->first_err == X509_V_OK)
            conn->first_err = X509_V_ERR_UNSPECIFIED;
    }
    return conn->app_cb != NULL ? conn->app_cb(ok, xs) : ok;
}

/* guard_cb - the per-SSL X509 verify callback a server under require runs
 * with (set by enforce): a verification of the client's chain that is not
 * our DANE verification means our certificate-verify callback was
 * replaced (or the SSL cannot be watched), and must not admit anyone. */
static int guard_cb(int ok, X509_STORE_CTX *xs)
{
    SSL *s =
        X509_STORE_CTX_get_ex_data(xs, SSL_get_ex_data_X509_STORE_CTX_idx());
    dance_conn *conn = s != NULL ? conn_get(s) : NULL;

    if (conn == NULL || conn->refuse != NULL || !conn->dane_ok) {
        if (conn != NULL && conn->kill == NULL)
            conn->kill = conn->refuse != NULL
                             ? conn->refuse
                             : "the client's certificate was verified "
                               "without DANE (the application replaced the "
                               "certificate verify callback?)";
        X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    return conn->app_x509_cb != NULL ? conn->app_x509_cb(ok, xs) : ok;
}

/* make_dane_ctx - the private SSL_CTX (pthread_once). */
static void make_dane_ctx(void)
{
    SSL_CTX *ctx;

    if (!set_making_private(1))
        return; /* dane_ctx stays NULL: DANE checks fail closed */
    ctx = SSL_CTX_new(TLS_method());
    set_making_private(0);
    if (ctx != NULL && SSL_CTX_dane_enable(ctx) <= 0) {
        SSL_CTX_free(ctx);
        ctx = NULL;
    }
    dane_ctx = ctx;
}

/* load_tlsa - the secure TLSA RRset of result into d's DANE state, record
 * by record (dance_ident_tlsa_load): an unusable record is skipped, logged
 * once per RRset, and leaves nothing on the error queue. Returns 1 with
 * usable records loaded, else 0 with *why (static text, or why_buf). */
static int load_tlsa(SSL *d, const dance_res_result *result, const char **why,
                     char *why_buf, size_t why_len)
{
    dance_ident_tlsa_report rep;
    dance_ident_status st = dance_ident_tlsa_load(d, result, &rep);

    if (rep.skipped > 0 && st != DANCE_IDENT_INTERNAL &&
        dance_ident_report_once(result))
        dance_log(DANCE_LOG_WARN, "TLSA %s: %zu unusable record(s) skipped: %s",
                  dance_res_result_get0_name(result), rep.skipped,
                  rep.skipped_why);
    if (st == DANCE_IDENT_OK)
        return 1;
    if (st == DANCE_IDENT_INTERNAL) {
        snprintf(why_buf, why_len, "%s", rep.skipped_why);
        *why = why_buf;
    } else {
        snprintf(why_buf, why_len,
                 "no usable TLSA record (unsupported usage, selector or "
                 "matching type): %s",
                 rep.skipped_why);
        *why = why_buf;
    }
    return 0;
}

/* verify_failed - *err and *why for a DANE verification of dx that did
 * not pass: the first error our record_cb saw, else dx's own. */
static void verify_failed(const dance_conn *conn, X509_STORE_CTX *dx, int *err,
                          const char **why, char *why_buf, size_t why_len)
{
    *err = conn->first_err != X509_V_OK ? conn->first_err
                                        : X509_STORE_CTX_get_error(dx);
    if (*err == X509_V_OK)
        *err = X509_V_ERR_UNSPECIFIED;
    snprintf(why_buf, why_len, "%s does not match: %s", dance_rpk_what(dx),
             X509_verify_cert_error_string(*err));
    *why = why_buf;
}

/* describe_match - "TLSA u s m matched" for the record of d that matched. */
static void describe_match(SSL *d, char *matched, size_t mlen)
{
    uint8_t u, sel, m;

    if (SSL_get0_dane_tlsa(d, &u, &sel, &m, NULL, NULL) >= 0)
        snprintf(matched, mlen, "TLSA %u %u %u matched", u, sel, m);
    else
        snprintf(matched, mlen, "TLSA matched");
}

/* dane_verify - verify the peer's chain of xs against result's TLSA RRset
 * with OpenSSL's DANE engine, for peer name `name` (name checks of usages
 * 0-2), in a private X509_STORE_CTX with a private SSL's DANE state: xs and
 * s are left untouched. On success the verified chain goes to *chain (the
 * caller owns it) or, with chain NULL, to xs (which then reports
 * X509_V_OK), and the matched record to matched. Returns 1, or 0 with
 * *why / *err. */
static int dane_verify(SSL *s, dance_conn *conn, X509_STORE_CTX *xs,
                       const char *name, const dance_res_result *result,
                       const char **why, char *why_buf, size_t why_len,
                       int *err, char *matched, size_t mlen,
                       STACK_OF(X509) * *chain)
{
    X509_STORE_CTX *dx = NULL;
    SSL *d = NULL;
    X509_VERIFY_PARAM *param;
    int ok = 0;

    *err = X509_V_ERR_APPLICATION_VERIFICATION;
    pthread_once(&dane_once, make_dane_ctx);
    if (dane_ctx == NULL) {
        *why = "cannot set up OpenSSL's DANE engine";
        return 0;
    }
    d = set_making_private(1) ? SSL_new(dane_ctx) : NULL;
    set_making_private(0);
    dx = X509_STORE_CTX_new();
    if (d == NULL || dx == NULL || SSL_dane_enable(d, name) <= 0) {
        *why = "OpenSSL refused to enable DANE (out of memory?)";
        goto done;
    }
    SSL_dane_set_flags(d, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    if (!load_tlsa(d, result, why, why_buf, why_len))
        goto done;
    if (!dance_rpk_store_ctx_init(dx, xs) ||
        !X509_STORE_CTX_set_ex_data(dx, SSL_get_ex_data_X509_STORE_CTX_idx(),
                                    s)) {
        *why = "out of memory";
        goto done;
    }
    param = X509_STORE_CTX_get0_param(dx);
    X509_STORE_CTX_set_default(dx,
                               SSL_is_server(s) ? "ssl_client" : "ssl_server");
    X509_VERIFY_PARAM_set1(param, X509_STORE_CTX_get0_param(xs));
    X509_STORE_CTX_set0_dane(dx, SSL_get0_dane(d));
    /* Usages 0-2: the name must be a dNSName SAN exactly (no CN, no
     * wildcard) for a client; RFC 6125 rules for a server. */
    if (SSL_is_server(s) ? !dance_ident_set_peer_name(param, name)
                         : (X509_VERIFY_PARAM_set_hostflags(
                                param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS),
                            X509_VERIFY_PARAM_set1_host(param, name, 0) != 1)) {
        *why = "out of memory";
        goto done;
    }
    conn->first_err = X509_V_OK;
    conn->app_cb = conn->app_x509_cb;
    X509_STORE_CTX_set_verify_cb(dx, record_cb);
    conn->in_dane = 1;
    ok = X509_verify_cert(dx) == 1 && conn->first_err == X509_V_OK;
    conn->in_dane = 0;
    if (!ok) {
        verify_failed(conn, dx, err, why, why_buf, why_len);
        goto done;
    }
    /* The connection reports what our verification found. */
    if (chain != NULL) {
        *chain = X509_STORE_CTX_get1_chain(dx);
    } else {
        X509_STORE_CTX_set0_verified_chain(xs, X509_STORE_CTX_get1_chain(dx));
        X509_STORE_CTX_set_error(xs, X509_V_OK);
    }
    describe_match(d, matched, mlen);
done:
    X509_STORE_CTX_free(dx);
    SSL_free(d);
    ERR_clear_error(); /* nothing of ours stays on the error queue */
    return ok;
}

/* dane_verify_conn - client role: OpenSSL's DANE engine on the
 * connection itself, so the application sees the outcome
 * (SSL_get0_dane_authority, SSL_get0_dane_tlsa) as if it had enabled DANE.
 * Returns 1, 0 (*why, *err), or -1 when DANE is already enabled on s (a
 * renegotiation, SSL_clear reuse, or the application's own): then
 * dane_verify must be used. */
static int dane_verify_conn(SSL *s, dance_conn *conn, X509_STORE_CTX *xs,
                            const char *name, const dance_res_result *result,
                            const char **why, char *why_buf, size_t why_len,
                            int *err, char *matched, size_t mlen)
{
    X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(xs);
    X509_STORE_CTX_verify_cb app;
    int ok, en;

    *err = X509_V_ERR_APPLICATION_VERIFICATION;
    ERR_set_mark();
    en = SSL_dane_enable(s, name);
    ERR_pop_to_mark();
    if (en <= 0)
        return -1;
    SSL_dane_set_flags(s, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    if (!load_tlsa(s, result, why, why_buf, why_len))
        return 0;
    X509_STORE_CTX_set0_dane(xs, SSL_get0_dane(s));
    X509_VERIFY_PARAM_set_hostflags(param,
                                    X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    X509_VERIFY_PARAM_set1_host(param, name, 0);
    conn->first_err = X509_V_OK;
    app = X509_STORE_CTX_get_verify_cb(xs);
    conn->app_cb = app;
    X509_STORE_CTX_set_verify_cb(xs, record_cb);
    ok = X509_verify_cert(xs) == 1 && conn->first_err == X509_V_OK;
    X509_STORE_CTX_set_verify_cb(xs, app);
    if (!ok) {
        verify_failed(conn, xs, err, why, why_buf, why_len);
        return 0;
    }
    describe_match(s, matched, mlen);
    return 1;
}

/* dane_check - join the TLSA lookup of owner and verify. Returns 1 if the
 * peer is authenticated by DANE; else 0 with *why (static text or a
 * pointer into why_buf), *err (an X509_V_ERR_*) and *status (the lookup
 * outcome, or -1 when there was none). *expires: until when the answer is
 * valid (0 if none). chain: as for dane_verify. */
static int dane_check(SSL *s, dance_conn *conn, X509_STORE_CTX *xs,
                      const char *name, const char *owner, const char **why,
                      char *why_buf, size_t why_len, int *err, char *matched,
                      size_t mlen, int *status, time_t *expires,
                      STACK_OF(X509) * *chain)
{
    dance_res_result *r;
    int ok = 0;

    start_lookup(conn, owner, 1); /* a no-op when it was started early */
    r = conn->job != NULL ? dance_res_job_join(conn->job) : NULL;
    *err = X509_V_ERR_APPLICATION_VERIFICATION;
    *status = -1;
    *expires = 0;
    if (r == NULL) {
        *why = "out of memory";
        return 0;
    }
    *status = (int)dance_res_result_status(r);
    *expires = dance_res_result_expires(r);
    if (dance_res_result_status(r) != DANCE_RES_SECURE) {
        snprintf(why_buf, why_len, "TLSA %s: %s",
                 dance_res_status_str(dance_res_result_status(r)),
                 dance_res_result_get0_why(r));
        *why = why_buf;
    } else if (!dance_rpk_gate(&conn->rt->policy, xs, why)) {
        /* a raw key under raw_public_keys = off: matches nothing */
    } else if (dance_rpk_get0_peer(xs) != NULL &&
               dance_rpk_tlsa_usable(r) == 0) {
        *why = "raw public key, and the TLSA RRset has no DANE-EE SPKI "
               "(3 1 x) record, the only kind that can match a raw key";
    } else {
        ok = SSL_is_server(s)
                 ? -1
                 : dane_verify_conn(s, conn, xs, name, r, why, why_buf, why_len,
                                    err, matched, mlen);
        if (ok < 0)
            ok = dane_verify(s, conn, xs, name, r, why, why_buf, why_len, err,
                             matched, mlen, chain);
    }
    dance_res_result_free(r);
    return ok;
}

/* identity_ok - identity_check = strict: the client's certificate names
 * nobody but its ClientName (dance_ident_check). Returns 1, or 0 with
 * *why pointing into why_buf. */
static int identity_ok(const dance_policy *pol, X509 *leaf, const char *name,
                       const char **why, char *why_buf, size_t why_len)
{
    char reason[400];
    dance_ident_status st;

    if (pol->identity_check == DANCE_IDENTITY_CHECK_OFF)
        return 1;
    st = dance_ident_check(leaf, name, reason, sizeof(reason));
    if (st == DANCE_IDENT_OK)
        return 1;
    snprintf(why_buf, why_len, "identity check (strict): %s: %s",
             dance_ident_status_str(st), reason);
    *why = why_buf;
    return 0;
}

/* app_verify - the application's own verification of the client, exactly
 * as without the module: its trust store, its verify callback, no DANE
 * state, and the consequences its verify mode implies. If the application
 * did not ask for the peer's certificate (we did), a failure does not end
 * the handshake, but the verify result is not OK either. */
static int app_verify(dance_conn *conn, X509_STORE_CTX *xs)
{
    int ok = X509_verify_cert(xs);

    if (ok == 1)
        return 1;
    if (X509_STORE_CTX_get_error(xs) == X509_V_OK)
        X509_STORE_CTX_set_error(xs, X509_V_ERR_UNSPECIFIED);
    if (conn->our_mode >= 0 && !(conn->app_mode & SSL_VERIFY_PEER))
        return 1;
    return ok;
}

/* session_bind - a client authenticated by DANE as name: its session may
 * resume only under that name and until the TLSA answer expires. The
 * binding travels in the session's ticket appdata, which libssl encodes in
 * session tickets and i2d_SSL_SESSION (external caches) alike. */
static void session_bind(SSL *s, const char *name, time_t expires)
{
    SSL_SESSION *sess = SSL_get_session(s);
    char buf[DANCE_NAME_MAX + 40];
    time_t now = time(NULL);
    int n;

    if (sess == NULL)
        return;
    n = snprintf(buf, sizeof(buf), SESS_TAG "%lld %s", (long long)expires,
                 name);
    if (n <= 0 || (size_t)n >= sizeof(buf) ||
        !SSL_SESSION_set1_ticket_appdata(sess, buf, (size_t)n))
        SSL_SESSION_set_timeout(sess, 0); /* cannot bind: never resume */
    else if (expires > now && SSL_SESSION_get_timeout(sess) > expires - now)
        SSL_SESSION_set_timeout(sess, (long)(expires - now));
}

/* session_binding - the ClientName and expiry a session is bound to.
 * Returns 1 (bound; name in out), 0 (no binding: not a DANE session), -1
 * (a binding that does not parse). */
static int session_binding(const SSL_SESSION *sess, char *out, time_t *expires)
{
    void *data = NULL;
    size_t len = 0;
    char buf[DANCE_NAME_MAX + 40], name[DANCE_NAME_MAX + 1];
    long long exp;
    const char *why;

    if (sess == NULL)
        return 0;
    SSL_SESSION_get0_ticket_appdata((SSL_SESSION *)sess, &data, &len);
    if (data == NULL || len < strlen(SESS_TAG) ||
        memcmp(data, SESS_TAG, strlen(SESS_TAG)) != 0)
        return 0;
    if (len >= sizeof(buf))
        return -1;
    memcpy(buf, data, len);
    buf[len] = '\0';
    if (sscanf(buf + strlen(SESS_TAG), "%lld %253s", &exp, name) != 2 ||
        !dance_name_check(name, strlen(name), &why))
        return -1;
    snprintf(out, DANCE_NAME_MAX + 1, "%s", name);
    *expires = (time_t)exp;
    return 1;
}

/* resume_ok - may a session bound to (bname, expires) resume for a client
 * whose ClientHello carried announced (NULL: no name)? *why on no. */
static int resume_ok(const dance_policy *pol, const char *bname, time_t expires,
                     const char *announced, const char **why)
{
    if (expires <= time(NULL)) {
        *why = "the TLSA answer that authenticated the session has expired";
        return 0;
    }
    /* client-auth-13 clients name themselves only in the Certificate,
     * which a resumption does not carry: the session's name binds. */
    if (pol->profile == DANCE_PROFILE_CLIENT_AUTH_13)
        return 1;
    if (announced == NULL) {
        *why = "the client announced no ClientName";
        return 0;
    }
    if (strcmp(announced, bname) != 0) {
        *why = "the client announced another ClientName";
        return 0;
    }
    return 1;
}

/* server_verify - server role: authenticate a client by its TLSA RRset,
 * or leave the judgement to the application (optional). */
static int server_verify(SSL *s, dance_conn *conn, X509_STORE_CTX *xs)
{
    const dance_policy *pol = &conn->rt->policy;
    int require = pol->client_auth == DANCE_CLIENT_AUTH_REQUIRE;
    char name[DANCE_NAME_MAX + 1] = "", owner[OWNER_MAX] = "", buf[600];
    char matched[40] = "";
    const char *why = NULL, *nwhy = NULL;
    STACK_OF(X509) *chain = NULL;
    EVP_PKEY *rpk = dance_rpk_get0_peer(xs);
    int err = X509_V_ERR_APPLICATION_VERIFICATION, status = -1, dane;
    dance_reason reason = DANCE_REASON_INTERNAL;
    time_t expires = 0;

    if (pol->client_auth == DANCE_CLIENT_AUTH_OFF)
        return X509_verify_cert(xs);
    conn->dane_ok = 0;
    if (conn->refuse != NULL) {
        why = conn->refuse;
    } else if (conn->no_dane != NULL) {
        /* below_tls13 logged the verdict already */
        if (!require)
            return app_verify(conn, xs);
        X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    } else if (!conn->signalled) {
        if (!require)
            return app_verify(conn, xs); /* not a DANE client */
        why = "client did not send dane_clientid";
        /* The draft profile has no place for it in TLS 1.2. */
        reason = pol->profile == DANCE_PROFILE_CLIENT_AUTH_13 &&
                         SSL_version(s) < TLS1_3_VERSION
                     ? DANCE_REASON_TLS12
                     : DANCE_REASON_NO_EXTENSION;
    } else if (conn->state == NAME_BAD) {
        why = conn->bad_why;
        reason = DANCE_REASON_BAD_NAME;
    } else if (conn->state == NAME_GIVEN) {
        snprintf(name, sizeof(name), "%s", conn->name);
    } else if (rpk != NULL) {
        why = "raw public key without a ClientName (no certificate to take "
              "the name from)";
        reason = DANCE_REASON_NO_NAME;
    } else if (!first_dns_san(X509_STORE_CTX_get0_cert(xs), name)) {
        why = "no ClientName and no usable dNSName in the certificate";
        reason = DANCE_REASON_NO_NAME;
    }
    if (why == NULL && !client_gate(pol, name, owner, &nwhy)) {
        why = nwhy;
        reason = dance_ident_client_name_check(name, &nwhy)
                     ? DANCE_REASON_NOT_ALLOWED
                     : DANCE_REASON_BAD_NAME;
    }
    if (why == NULL) {
        /* DANE's verified chain goes to xs only once the identity check
         * passed too: until then the application's own verification
         * (optional) can still run on xs. */
        /* A raw key names nobody: the ClientName DANE-EE proved is the
         * identity (dance_rpk.h). */
        dane =
            dane_check(s, conn, xs, name, owner, &why, buf, sizeof(buf), &err,
                       matched, sizeof(matched), &status, &expires, &chain);
        if (dane &&
            (rpk != NULL || identity_ok(pol, X509_STORE_CTX_get0_cert(xs), name,
                                        &why, buf, sizeof(buf)))) {
            X509_STORE_CTX_set0_verified_chain(xs, chain);
            chain = NULL;
            conn->dane_ok = 1;
            snprintf(conn->name, sizeof(conn->name), "%s", name);
            session_bind(s, name, expires);
            log_verdict(DANCE_LOG_INFO, s, "server", name, owner,
                        rpk != NULL ? "authenticated by DANE (raw public key)"
                                    : "authenticated by DANE",
                        matched, expires, DANCE_DECISION_ACCEPTED,
                        DANCE_REASON_DANE);
            X509_STORE_CTX_set_error(xs, X509_V_OK);
            return 1;
        }
        sk_X509_pop_free(chain, X509_free);
        reason = dane ? DANCE_REASON_IDENTITY
                      : dance_ext_reason_of_status(
                            status, dance_res_job_timed_out(conn->job));
    }
    if (require) {
        log_verdict(DANCE_LOG_WARN, s, "server", name, owner,
                    rpk != NULL ? "refused (client_auth = require; raw public "
                                  "key)"
                                : "refused (client_auth = require)",
                    why, expires, DANCE_DECISION_REFUSED, reason);
        /* One alert for every DANE failure: handshake_failure. */
        (void)err;
        X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
        return 0;
    }
    /* optional: the application judges this client as it would without
     * the module; DANE never touched xs. */
    log_verdict(DANCE_LOG_WARN, s, "server", name, owner,
                "not authenticated by DANE (client_auth = optional: the "
                "application's own verification decides)",
                why, expires, DANCE_DECISION_FALLBACK, reason);
    return app_verify(conn, xs);
}

/* client_verify - client role: authenticate the server by DANE
 * (RFC 7671) when server_dane asks for it. Opportunistic falls back to the
 * application's PKIX only when the TLSA RRset is proven absent or the zone
 * proven insecure (RFC 7672); bogus and indeterminate fail. */
static int client_verify(SSL *s, dance_conn *conn, X509_STORE_CTX *xs)
{
    const dance_policy *pol = &conn->rt->policy;
    int require = pol->server_dane == DANCE_SERVER_DANE_REQUIRE;
    char buf[600], matched[40] = "";
    const char *why = NULL;
    dance_res_result *r = NULL;
    int err = X509_V_ERR_APPLICATION_VERIFICATION, status = -1;
    time_t expires = 0;

    if (pol->server_dane == DANCE_SERVER_DANE_OFF)
        return X509_verify_cert(xs);
    if (conn->job == NULL) {
        /* Nothing to look up (no SNI name, not a socket): not an answer an
         * attacker on the DNS path can produce. */
        if (!require) {
            log_verdict(DANCE_LOG_INFO, s, "client", conn->host, NULL,
                        "no DANE, PKIX as configured",
                        "no SNI host name or no socket to learn the port from",
                        0, DANCE_DECISION_FALLBACK, DANCE_REASON_NO_SNI);
            return app_verify(conn, xs);
        }
        why = "no SNI host name or no socket to learn the port from";
    } else {
        r = dance_res_job_join(conn->job);
        if (r == NULL) {
            why = "out of memory";
        } else {
            status = (int)dance_res_result_status(r);
            expires = dance_res_result_expires(r);
            if (status != DANCE_RES_SECURE) {
                snprintf(buf, sizeof(buf), "TLSA %s: %s",
                         dance_res_status_str(dance_res_result_status(r)),
                         dance_res_result_get0_why(r));
                why = buf;
            }
        }
    }
    if (why != NULL && !require &&
        (status == DANCE_RES_SECURE_NODATA ||
         status == DANCE_RES_SECURE_NXDOMAIN || status == DANCE_RES_INSECURE)) {
        log_verdict(DANCE_LOG_INFO, s, "client", conn->host, conn->owner,
                    "no DANE, PKIX as configured", why, expires,
                    DANCE_DECISION_FALLBACK,
                    dance_ext_reason_of_status(status, 0));
        dance_res_result_free(r);
        return app_verify(conn, xs);
    }
    if (why == NULL &&
        dane_check(s, conn, xs, conn->host, conn->owner, &why, buf, sizeof(buf),
                   &err, matched, sizeof(matched), &status, &expires, NULL)) {
        log_verdict(DANCE_LOG_INFO, s, "client", conn->host, conn->owner,
                    dance_rpk_get0_peer(xs) != NULL
                        ? "server authenticated by DANE (raw public key)"
                        : "server authenticated by DANE",
                    matched, expires, DANCE_DECISION_ACCEPTED,
                    DANCE_REASON_DANE);
        dance_res_result_free(r);
        return 1;
    }
    log_verdict(DANCE_LOG_WARN, s, "client", conn->host, conn->owner,
                require ? "server refused (server_dane = require)"
                        : "server refused (server_dane = opportunistic: "
                          "no proof that DANE is absent)",
                why, expires, DANCE_DECISION_REFUSED,
                conn->job == NULL
                    ? DANCE_REASON_NO_SNI
                    : dance_ext_reason_of_status(
                          status, dance_res_job_timed_out(conn->job)));
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

    if (conn == NULL) {
        /* Without our state we cannot tell who asked for what: only the
         * strict answer is safe for a server that requires DANE. */
        const dance_ext_runtime *rt = arg; /* given by ctx_new */

        if (s != NULL && SSL_is_server(s) && rt != NULL &&
            rt->policy.client_auth == DANCE_CLIENT_AUTH_REQUIRE) {
            log_verdict(DANCE_LOG_ERROR, s, "server", NULL, NULL, "refused",
                        "an SSL without the module's state", 0,
                        DANCE_DECISION_REFUSED, DANCE_REASON_INTERNAL);
            X509_STORE_CTX_set_error(xs, X509_V_ERR_APPLICATION_VERIFICATION);
            return 0;
        }
        return X509_verify_cert(xs);
    }
    watch(s, conn);
    return SSL_is_server(s) ? server_verify(s, conn, xs)
                            : client_verify(s, conn, xs);
}

/* ---- enforcement -------------------------------------------------------- */

/* fail_closed - this SSL cannot be watched: refuse every handshake. */
static void fail_closed(SSL *s, dance_conn *conn, const char *why)
{
    if (conn->refuse == NULL)
        log_verdict(DANCE_LOG_ERROR, s, "server", NULL, NULL,
                    "every handshake refused (client_auth = require)", why, 0,
                    DANCE_DECISION_NONE, DANCE_REASON_INTERNAL);
    conn->refuse = why;
}

/* below_tls13 - server, client-auth profile: once the version is
 * negotiated, a handshake below TLS 1.3 (or DTLS, which the extension
 * does not cover) has no place for the ClientName, so DANE authenticates
 * nobody in it (conn->no_dane). Under require it is refused (the draft:
 * such a server MUST NOT negotiate below TLS 1.3), and the log says why
 * and what to do; under optional the application's own verification
 * decides, as for any client that did not ask for DANE. */
static void below_tls13(SSL *s, dance_conn *conn)
{
    const dance_policy *pol = &conn->rt->policy;
    int v = SSL_version(s);

    if (pol->profile == DANCE_PROFILE_HELLO || conn->no_dane != NULL ||
        v == TLS_ANY_VERSION || v == DTLS_ANY_VERSION ||
        (!SSL_is_dtls(s) && v >= TLS1_3_VERSION))
        return;
    conn->no_dane = "the client negotiated TLS 1.2 or older, and the "
                    "client-auth profile carries the ClientName only in TLS "
                    "1.3 (the client must use TLS 1.3; profile = hello on "
                    "both sides is the legacy -00 protocol that also runs "
                    "over TLS 1.2)";
    if (pol->client_auth == DANCE_CLIENT_AUTH_REQUIRE) {
        conn->kill = conn->no_dane;
        log_verdict(DANCE_LOG_WARN, s, "server", NULL, NULL,
                    "refused (client_auth = require)", conn->no_dane, 0,
                    DANCE_DECISION_REFUSED, DANCE_REASON_TLS12);
    } else {
        log_verdict(DANCE_LOG_INFO, s, "server", NULL, NULL,
                    "not authenticated by DANE (client_auth = optional: the "
                    "application's own verification decides)",
                    conn->no_dane, 0, DANCE_DECISION_FALLBACK,
                    DANCE_REASON_TLS12);
    }
}

/* check_resumed - server: a session resumes. A session bound to a
 * ClientName (session_bind) stands only for that name and until its TLSA
 * answer expires; under require, nothing else resumes. The ticket callback
 * turns most mismatches into a full handshake before we get here; what
 * remains (a server-side session cache) is refused. */
static void check_resumed(SSL *s, dance_conn *conn)
{
    const dance_policy *pol = &conn->rt->policy;
    char bname[DANCE_NAME_MAX + 1] = "";
    const char *why = NULL;
    time_t expires = 0;
    int b = session_binding(SSL_get0_session(s), bname, &expires);

    conn->resume_checked = 1;
    if (b == 0) {
        if (pol->client_auth == DANCE_CLIENT_AUTH_REQUIRE)
            conn->kill = "resumed a session that was not authenticated by "
                         "DANE";
        return; /* optional: the application's own session */
    }
    if (b < 0)
        why = "the session's DANE binding does not parse";
    else if (conn->no_dane != NULL)
        why = conn->no_dane; /* a DANE session, in a version without it */
    else
        resume_ok(pol, bname, expires,
                  conn->state == NAME_GIVEN ? conn->name : NULL, &why);
    if (why != NULL) {
        conn->kill = why;
        return;
    }
    conn->dane_ok = 1;
    snprintf(conn->name, sizeof(conn->name), "%s", bname);
    log_verdict(DANCE_LOG_INFO, s, "server", bname, NULL,
                "authenticated by DANE (resumed session)", "bound name",
                expires, DANCE_DECISION_ACCEPTED, DANCE_REASON_RESUMED);
}

/* enforce - server: the application's callbacks for this ClientHello
 * have run, and libssl is about to decide whether to ask for a
 * certificate. Put our policy on top of whatever verify mode the
 * application has set by now. */
static void enforce(SSL *s, dance_conn *conn)
{
    const dance_policy *pol = &conn->rt->policy;
    int require = pol->client_auth == DANCE_CLIENT_AUTH_REQUIRE;
    int mode = SSL_get_verify_mode(s), want;
    SSL_verify_cb cb = SSL_get_verify_callback(s);

    if (cb != guard_cb)
        conn->app_x509_cb = cb;
    if (conn->our_mode < 0 || mode != conn->our_mode)
        conn->app_mode = mode; /* the application set it (again) */
    if (require && conn->refuse == NULL && !ctx_hooked(SSL_get_SSL_CTX(s)))
        fail_closed(s, conn,
                    "the SSL_CTX in use (after SSL_set_SSL_CTX?) was created "
                    "before the module was loaded: it has none of the "
                    "module's hooks");
    below_tls13(s, conn);
    if (SSL_session_reused(s) && !conn->resume_checked)
        check_resumed(s, conn);
    if (!dance_rpk_server_mode(s, pol, conn->app_mode) && conn->refuse == NULL)
        conn->refuse = "raw public keys could not be withdrawn from an "
                       "application that demands a certificate";
    /* client-auth: every TLS 1.3 client is asked (CertificateRequest with
     * a zero-length ClientName); below TLS 1.3 nobody is, for DANE. */
    if (conn->signalled || require ||
        pol->request_cert == DANCE_REQUEST_ALWAYS ||
        (pol->profile == DANCE_PROFILE_CLIENT_AUTH_13 &&
         SSL_version(s) == TLS1_3_VERSION && !SSL_is_dtls(s)))
        conn->requested = 1;
    want = conn->app_mode;
    if (require)
        want = (want | SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT) &
               ~(SSL_VERIFY_CLIENT_ONCE | SSL_VERIFY_POST_HANDSHAKE);
    else if (conn->requested)
        want |= SSL_VERIFY_PEER;
    conn->our_mode = want;
    if (require) {
        if (want != mode || cb != guard_cb)
            SSL_set_verify(s, want, guard_cb);
    } else if (want != mode) {
        SSL_set_verify(s, want, cb);
    }
}

/* kill_conn - server: this handshake must not give the application a
 * usable connection: verify result not OK, no further reads or writes, no
 * session to resume. */
static void kill_conn(SSL *s, dance_conn *conn, const char *why)
{
    SSL_SESSION *sess = SSL_get0_session(s);

    /* A resumed session that may not stand, or a handshake the module
     * could not enforce. */
    log_verdict(
        DANCE_LOG_ERROR, s, "server", conn->name, conn->owner,
        "connection closed after the handshake", why, 0, DANCE_DECISION_REFUSED,
        conn->refuse == NULL && SSL_session_reused(s) ? DANCE_REASON_RESUMPTION
                                                      : DANCE_REASON_INTERNAL);
    SSL_set_verify_result(s, X509_V_ERR_APPLICATION_VERIFICATION);
    SSL_set_shutdown(s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    if (sess != NULL) {
        SSL_SESSION_set1_ticket_appdata(sess, SESS_TAG "refused",
                                        strlen(SESS_TAG "refused"));
        SSL_CTX_remove_session(SSL_get_SSL_CTX(s), sess);
    }
}

/* no_cert_alert - server under require: libssl ends a handshake in the
 * client's Certificate message before any verdict of ours was logged:
 * the client sent no certificate (SSL_VERIFY_FAIL_IF_NO_PEER_CERT, set
 * by enforce), or guard_cb refused a verification that was not ours (its
 * reason in conn->kill). Log and count that refusal like the others.
 * alert: the info callback's ret for a written alert (level << 8 |
 * description). */
static void no_cert_alert(SSL *s, dance_conn *conn, int alert)
{
    int desc = alert & 0xff;

    if (conn->decided || (alert >> 8) != SSL3_AL_FATAL ||
        SSL_get_state(s) != TLS_ST_SR_CERT ||
        SSL_get0_peer_certificate(s) != NULL ||
        (desc != SSL_AD_CERTIFICATE_REQUIRED &&
         desc != SSL_AD_HANDSHAKE_FAILURE))
        return;
    log_verdict(DANCE_LOG_WARN, s, "server", NULL, NULL,
                "refused (client_auth = require)",
                conn->kill != NULL ? conn->kill
                                   : "the client sent no certificate",
                0, DANCE_DECISION_REFUSED,
                conn->kill != NULL ? DANCE_REASON_INTERNAL
                                   : DANCE_REASON_NO_CERTIFICATE);
}

/* info_cb - the per-SSL info callback: the application's SSL_CTX info
 * callback first (it would have run without us), then ours. */
static void info_cb(const SSL *cs, int where, int ret)
{
    SSL *s = (SSL *)cs;
    dance_conn *conn = conn_get(s);
    void (*app)(const SSL *, int, int) =
        conn != NULL && conn->app_info != NULL
            ? conn->app_info
            : SSL_CTX_get_info_callback(SSL_get_SSL_CTX(s));
    const dance_policy *pol;

    if (app != NULL && app != info_cb)
        app(cs, where, ret);
    if (conn == NULL)
        return;
    pol = &conn->rt->policy;
    if (where & SSL_CB_HANDSHAKE_START) {
        conn_reset(s, conn);
        dance_rpk_conn_setup(s, pol);
    }
    if (!SSL_is_server(s) || pol->client_auth == DANCE_CLIENT_AUTH_OFF)
        return;
    if (where & SSL_CB_HANDSHAKE_START) /* a server: warm its population */
        dance_async_prewarm_start(conn->rt->async);
    if ((where & SSL_CB_ACCEPT_LOOP) && SSL_get_state(s) != TLS_ST_BEFORE &&
        SSL_get_state(s) != TLS_ST_OK)
        enforce(s, conn);
    if ((where & SSL_CB_WRITE_ALERT) &&
        pol->client_auth == DANCE_CLIENT_AUTH_REQUIRE)
        no_cert_alert(s, conn, ret);
    /* A server that sent HelloRequest has "finished" that exchange with
     * the renegotiation still pending: the handshake it asked for comes. */
    if ((where & SSL_CB_HANDSHAKE_DONE) && !SSL_renegotiate_pending(s)) {
        if (conn->kill == NULL && conn->refuse != NULL)
            conn->kill = conn->refuse;
        if (conn->kill == NULL &&
            pol->client_auth == DANCE_CLIENT_AUTH_REQUIRE && !conn->dane_ok)
            conn->kill = "the handshake completed without DANE "
                         "authentication (an application callback changed "
                         "the verification?)";
        if (conn->kill != NULL)
            kill_conn(s, conn, conn->kill);
    }
}

/* ticket_dec_cb - server: a session ticket was decrypted. A ticket bound
 * to a ClientName is used only for that name, before its TLSA answer
 * expires; otherwise a full handshake with a fresh DANE check. */
static SSL_TICKET_RETURN ticket_dec_cb(SSL *s, SSL_SESSION *sess,
                                       const unsigned char *keyname,
                                       size_t keyname_len,
                                       SSL_TICKET_STATUS status, void *arg)
{
    dance_conn *conn = conn_get(s);
    char bname[DANCE_NAME_MAX + 1], name[DANCE_NAME_MAX + 1];
    const char *announced = NULL, *why = NULL, *wwhy;
    const unsigned char *data;
    size_t len;
    time_t expires = 0;
    int b;

    (void)keyname, (void)keyname_len, (void)arg;
    if (conn != NULL)
        watch(s, conn);
    if (status != SSL_TICKET_SUCCESS && status != SSL_TICKET_SUCCESS_RENEW)
        return SSL_TICKET_RETURN_IGNORE_RENEW;
    b = session_binding(sess, bname, &expires);
    if (conn == NULL || conn->rt->policy.client_auth == DANCE_CLIENT_AUTH_OFF ||
        b == 0)
        return status == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE
                                            : SSL_TICKET_RETURN_USE_RENEW;
    if (SSL_client_hello_get0_ext(s, conn->rt->policy.extension_type, &data,
                                  &len) &&
        dance_name_decode(data, len, name, &wwhy) == DANCE_WIRE_NAME)
        announced = name;
    if (b < 0)
        why = "the session's DANE binding does not parse";
    else
        resume_ok(&conn->rt->policy, bname, expires, announced, &why);
    if (why == NULL)
        return status == SSL_TICKET_SUCCESS ? SSL_TICKET_RETURN_USE
                                            : SSL_TICKET_RETURN_USE_RENEW;
    log_verdict(DANCE_LOG_WARN, s, "server", announced, bname,
                "session not resumed, full handshake", why, expires,
                DANCE_DECISION_NONE, DANCE_REASON_RESUMPTION);
    return SSL_TICKET_RETURN_IGNORE_RENEW;
}

/* ---- fail closed -------------------------------------------------------- */

/* refuse_add - a client's ClientHello cannot be built: the provider's
 * configuration was refused. */
static int refuse_add(SSL *s, unsigned int type, unsigned int context,
                      const unsigned char **out, size_t *outlen, X509 *x,
                      size_t chainidx, int *al, void *arg)
{
    const dance_ext_runtime *rt = arg; /* given by ctx_new */

    (void)s, (void)type, (void)context, (void)out, (void)outlen, (void)x;
    (void)chainidx;
    dance_log(DANCE_LOG_ERROR, "TLS refused: %s",
              rt != NULL && rt->fatal != NULL ? rt->fatal : "?");
    *al = SSL_AD_INTERNAL_ERROR;
    return -1;
}

/* refuse_hello - a server refuses every ClientHello, for the same reason. */
static int refuse_hello(SSL *s, int *al, void *arg)
{
    return refuse_add(s, 0, 0, NULL, NULL, NULL, 0, al, arg) < 0
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
    const dance_ext_runtime *rt = argp; /* given to SSL_CTX_get_ex_new_index */

    (void)ptr, (void)argl;
    if (rt == NULL || ctx == NULL || making_private())
        return;
    if (rt->fatal != NULL) {
        SSL_CTX_add_custom_ext(ctx, DANCE_EXT_TYPE_DEFAULT,
                               SSL_EXT_CLIENT_HELLO, refuse_add, NULL,
                               (void *)rt, NULL, NULL);
        SSL_CTX_set_client_hello_cb(ctx, refuse_hello, (void *)rt);
        return;
    }
    /* The client role enables DANE on its connections (dane_verify_conn). */
    if (rt->policy.server_dane != DANCE_SERVER_DANE_OFF &&
        SSL_CTX_dane_enable(ctx) <= 0)
        dance_log(DANCE_LOG_WARN, "SSL_CTX_dane_enable failed");
    if (!SSL_CTX_add_custom_ext(ctx, rt->policy.extension_type,
                                EXT_CONTEXTS | dance_rpk_ext_context(), ext_add,
                                ext_free, NULL, ext_parse, NULL)) {
        dance_log(DANCE_LOG_ERROR,
                  "cannot add extension type %u to an SSL_CTX (already in "
                  "use?): DANE client authentication is off for it",
                  rt->policy.extension_type);
        return;
    }
    SSL_CTX_set_cert_verify_callback(ctx, verify_cb, (void *)rt);
    SSL_CTX_set_session_ticket_cb(ctx, NULL, ticket_dec_cb, NULL);
    /* Hooked: SSLs using this SSL_CTX can be watched (enforce). */
    CRYPTO_set_ex_data(ad, idx, (void *)&ctx_mark);
    dance_log(DANCE_LOG_DEBUG, "SSL_CTX %p: dane_clientid (type %u) attached",
              (void *)ctx, rt->policy.extension_type);
}

/* dance_ext_install - see header. */
int dance_ext_install(const dance_ext_runtime *rt, char *err, size_t errlen)
{
    int ok = 0;

    pthread_mutex_lock(&install_lock);
    /* Existing SSL_CTXs keep using the first runtime even after an
     * uninstall, so only that one may be installed again. */
    if (installed != NULL && installed != rt) {
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
        int idx =
            SSL_get_ex_new_index(0, (void *)rt, conn_new, conn_dup, conn_free);

        if (idx < 0) {
            snprintf(err, errlen, "no SSL ex_data index");
            goto done;
        }
        atomic_store(&ssl_index, idx);
    }
    installed = rt;
    ctx_index = SSL_CTX_get_ex_new_index(0, (void *)rt, ctx_new, NULL, NULL);
    if (ctx_index < 0) {
        snprintf(err, errlen, "no SSL_CTX ex_data index");
        goto done;
    }
    atomic_store(&mark_index, ctx_index);
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
