/* SPDX-License-Identifier: Apache-2.0 */
/*
 * appsrv.c - a hostile-but-ordinary TLS server application for the tests.
 *
 * It knows nothing about DANE: like haproxy, lighttpd, apache or nginx it
 * owns the handshake callbacks that the dance provider would like to use,
 * and overrides the verify mode there.  The provider is loaded only through
 * OPENSSL_CONF (libssl loads the configuration at the first SSL_CTX_new).
 *
 *   appsrv -p PORT -c CERT -k KEY [-A CAFILE] [-v none|peer|require]
 *          [-F] [-H] [-S] [-C] [-X] [-R] [-Z] [-2]
 *
 *   -v MODE  the application's own verify mode, set on the SSL_CTX after
 *            creation: none (SSL_VERIFY_NONE, default), peer
 *            (SSL_VERIFY_PEER), require (PEER|FAIL_IF_NO_PEER_CERT)
 *   -A FILE  trusted CAs for client certificates (and the CA list sent)
 *   -F       a verify callback that forgives every error (returns 1)
 *   -H       its own ClientHello callback (SSL_CTX_set_client_hello_cb,
 *            which replaces any other), setting the verify mode to MODE
 *   -S       its own servername (SNI) callback, setting the verify mode to
 *            MODE (as nginx does when it switches server blocks)
 *   -C       its own certificate callback (SSL_CTX_set_cert_cb), setting
 *            the verify mode to MODE (as lighttpd does)
 *   -X       the SNI callback switches the connection to a second SSL_CTX
 *            (SSL_set_SSL_CTX), configured like the first
 *   -R       after the handshake, renegotiate (TLS 1.2; server-initiated
 *            HelloRequest, a full handshake: no session resumption) and
 *            report the result of the new handshake
 *   -Z       one SSL object for every connection, reused with SSL_clear
 *   -2       TLS 1.2 at most
 *
 * For each connection it prints one line to stdout, and on success sends
 * the same line to the client:
 *   ADMITTED verify=N subject=DN|none [reneg=ok verify=N subject=DN]
 *   REFUSED <reason>
 * Exit status: 2 on usage or set-up errors; it runs until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

/* Seconds a silent client may keep a connection. */
#define APP_IO_TIMEOUT 10

/* What the application does; read by its callbacks. */
typedef struct {
    int mode;        /* SSL_VERIFY_* the application wants */
    int forgive;     /* -F */
    int hello;       /* -H */
    int sni;         /* -S */
    int certcb;      /* -C */
    int switch_ctx;  /* -X */
    int reneg;       /* -R */
    int reuse;       /* -Z */
    int tls12;       /* -2 */
    SSL_CTX *second; /* the SSL_CTX that -X switches to */
} app_opts;

static app_opts opts;
static int handshakes_done; /* SSL_CB_HANDSHAKE_DONE seen (one thread) */

/* info_cb - count completed handshakes (renegotiation included). */
static void info_cb(const SSL *s, int where, int ret)
{
    (void)s, (void)ret;
    if (where & SSL_CB_HANDSHAKE_DONE)
        handshakes_done++;
    if (getenv("APPSRV_DEBUG") != NULL &&
        (where & (SSL_CB_HANDSHAKE_START | SSL_CB_HANDSHAKE_DONE)))
        fprintf(stderr, "appsrv: %s %s\n",
                where & SSL_CB_HANDSHAKE_START ? "start" : "done",
                SSL_state_string_long(s));
}

/* usage - print the synopsis and exit 2. */
static void usage(void)
{
    fprintf(stderr, "usage: appsrv -p PORT -c CERT -k KEY [-A CAFILE] "
                    "[-v none|peer|require] [-F] [-H] [-S] [-C] [-X] [-R] "
                    "[-Z] [-2]\n");
    exit(2);
}

/* forgive_cb - an application verify callback that accepts every error. */
static int forgive_cb(int ok, X509_STORE_CTX *xs)
{
    (void)ok, (void)xs;
    return 1;
}

/* app_set_verify - set the application's own verify mode on s. */
static void app_set_verify(SSL *s)
{
    SSL_set_verify(s, opts.mode, opts.forgive ? forgive_cb : NULL);
}

/* hello_cb - the application's ClientHello callback. */
static int hello_cb(SSL *s, int *al, void *arg)
{
    (void)al, (void)arg;
    app_set_verify(s);
    return SSL_CLIENT_HELLO_SUCCESS;
}

/* sni_cb - the application's servername callback. */
static int sni_cb(SSL *s, int *al, void *arg)
{
    (void)al, (void)arg;
    if (opts.switch_ctx && opts.second != NULL &&
        SSL_set_SSL_CTX(s, opts.second) == NULL)
        return SSL_TLSEXT_ERR_ALERT_FATAL;
    if (opts.sni)
        app_set_verify(s);
    return SSL_TLSEXT_ERR_OK;
}

/* cert_cb - the application's certificate callback. */
static int cert_cb(SSL *s, void *arg)
{
    (void)arg;
    app_set_verify(s);
    return 1;
}

/* make_ctx - an SSL_CTX as the application configures it. */
static SSL_CTX *make_ctx(const char *cert, const char *key, const char *ca)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL)
        return NULL;
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        goto err;
    if (ca != NULL) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);

        if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1 || names == NULL)
            goto err;
        SSL_CTX_set_client_CA_list(ctx, names);
    }
    if (opts.tls12 && !SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION))
        goto err;
    SSL_CTX_set_info_callback(ctx, info_cb);
    /* A renegotiation is a full handshake: the client is verified anew. */
    if (opts.reneg)
        SSL_CTX_set_options(ctx, SSL_OP_NO_SESSION_RESUMPTION_ON_RENEGOTIATION);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"appsrv", 6);
    SSL_CTX_set_verify(ctx, opts.mode, opts.forgive ? forgive_cb : NULL);
    if (opts.hello)
        SSL_CTX_set_client_hello_cb(ctx, hello_cb, NULL);
    if (opts.sni || opts.switch_ctx)
        SSL_CTX_set_tlsext_servername_callback(ctx, sni_cb);
    if (opts.certcb)
        SSL_CTX_set_cert_cb(ctx, cert_cb, NULL);
    return ctx;
err:
    SSL_CTX_free(ctx);
    return NULL;
}

/* describe - "verify=N subject=DN" for the peer of s, into buf. */
static void describe(SSL *s, char *buf, size_t len)
{
    X509 *peer = SSL_get1_peer_certificate(s);
    char dn[256] = "none";

    if (peer != NULL) {
        X509_NAME_oneline(X509_get_subject_name(peer), dn, sizeof(dn));
        X509_free(peer);
    }
    snprintf(buf, len, "verify=%ld subject=%s", SSL_get_verify_result(s), dn);
}

/* errors - the OpenSSL error queue as one line, emptied; into buf. */
static void errors(char *buf, size_t len)
{
    unsigned long e;
    size_t used = 0;

    buf[0] = '\0';
    while ((e = ERR_get_error()) != 0 && used + 2 < len) {
        char one[160];

        ERR_error_string_n(e, one, sizeof(one));
        used += (size_t)snprintf(buf + used, len - used, "%s%s",
                                 used ? "; " : "", one);
    }
    if (used == 0)
        snprintf(buf, len, "no OpenSSL error");
}

/* wait_io - wait until fd is readable (or writable if want_write);
 * returns 0 on timeout. */
static int wait_io(int fd, int want_write)
{
    struct pollfd p = {.fd = fd, .events = want_write ? POLLOUT : POLLIN};

    return poll(&p, 1, APP_IO_TIMEOUT * 1000) > 0;
}

/* renegotiate - TLS 1.2 server-initiated renegotiation on a non-blocking
 * socket: send HelloRequest, then read until the new handshake is done and
 * a request line has arrived.  Returns 1 on success, else 0. */
static int renegotiate(SSL *s, int fd, int have_request)
{
    char line[512];
    int got = have_request, before = handshakes_done;

    if (SSL_version(s) != TLS1_2_VERSION)
        return 0;
    if (SSL_renegotiate(s) != 1 || SSL_do_handshake(s) != 1)
        return 0;
    /* Sending HelloRequest counts as one handshake (start, done) in
     * OpenSSL's info callback; the client's new handshake is the next. */
    while (handshakes_done < before + 2 || !got) {
        int n = SSL_read(s, line, sizeof(line));

        if (n > 0) {
            got = 1;
            continue;
        }
        switch (SSL_get_error(s, n)) {
        case SSL_ERROR_WANT_READ:
            if (handshakes_done >= before + 2 && got)
                return 1; /* done while reading: nothing more to read */
            if (!wait_io(fd, 0))
                return 0;
            break;
        case SSL_ERROR_WANT_WRITE:
            if (!wait_io(fd, 1))
                return 0;
            break;
        default:
            return 0;
        }
    }
    return 1;
}

/* serve - one connection on fd with s: handshake, read the request,
 * optionally renegotiate, answer, and print the outcome. */
static void serve(SSL *s, int fd)
{
    char line[512], what[700], more[300], err[800];
    struct timeval tv = {APP_IO_TIMEOUT, 0};
    int n;

    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    SSL_set_fd(s, fd);
    ERR_clear_error();
    if (SSL_accept(s) != 1) {
        errors(err, sizeof(err));
        printf("REFUSED handshake: %s\n", err);
        return;
    }
    /* TLS 1.3: the client's certificate is judged when its flight arrives,
     * so read the request before reporting. */
    n = SSL_read(s, line, sizeof(line) - 1);
    if (n <= 0) {
        errors(err, sizeof(err));
        printf("REFUSED read: %s\n", err);
        return;
    }
    describe(s, what, sizeof(what));
    if (opts.reneg) {
        char first[300];

        snprintf(first, sizeof(first), "%.290s", what);
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0 ||
            !renegotiate(s, fd, 1)) {
            errors(err, sizeof(err));
            printf("REFUSED renegotiation (first: %s): %s\n", first, err);
            return;
        }
        describe(s, more, sizeof(more));
        snprintf(what, sizeof(what), "%.290s reneg=ok %.290s", first, more);
    }
    printf("ADMITTED %s\n", what);
    snprintf(line, sizeof(line), "ADMITTED %.400s\n", what);
    if (opts.reneg) {
        while ((n = SSL_write(s, line, (int)strlen(line))) <= 0) {
            int e = SSL_get_error(s, n);

            if ((e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) ||
                !wait_io(fd, e == SSL_ERROR_WANT_WRITE))
                return;
        }
    } else {
        SSL_write(s, line, (int)strlen(line));
    }
    SSL_shutdown(s);
}

/* listen_on - a socket listening on 127.0.0.1:port, or -1. */
static int listen_on(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((unsigned short)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    if (fd < 0)
        return -1;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(fd, 16)) {
        close(fd);
        return -1;
    }
    return fd;
}

/* main - parse the options, set up the SSL_CTX(s), serve forever. */
int main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL, *ca = NULL;
    SSL_CTX *ctx;
    SSL *shared = NULL;
    int port = 0, c, lfd;

    opts.mode = SSL_VERIFY_NONE;
    while ((c = getopt(argc, argv, "p:c:k:A:v:FHSCXRZ2")) != -1) {
        switch (c) {
        case 'p':
            port = atoi(optarg);
            break;
        case 'c':
            cert = optarg;
            break;
        case 'k':
            key = optarg;
            break;
        case 'A':
            ca = optarg;
            break;
        case 'v':
            if (strcmp(optarg, "none") == 0)
                opts.mode = SSL_VERIFY_NONE;
            else if (strcmp(optarg, "peer") == 0)
                opts.mode = SSL_VERIFY_PEER;
            else if (strcmp(optarg, "require") == 0)
                opts.mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
            else
                usage();
            break;
        case 'F':
            opts.forgive = 1;
            break;
        case 'H':
            opts.hello = 1;
            break;
        case 'S':
            opts.sni = 1;
            break;
        case 'C':
            opts.certcb = 1;
            break;
        case 'X':
            opts.switch_ctx = 1;
            break;
        case 'R':
            opts.reneg = 1;
            opts.tls12 = 1;
            break;
        case 'Z':
            opts.reuse = 1;
            break;
        case '2':
            opts.tls12 = 1;
            break;
        default:
            usage();
        }
    }
    if (port <= 0 || port > 65535 || cert == NULL || key == NULL ||
        optind != argc)
        usage();
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    ctx = make_ctx(cert, key, ca);
    if (ctx == NULL ||
        (opts.switch_ctx && (opts.second = make_ctx(cert, key, ca)) == NULL)) {
        ERR_print_errors_fp(stderr);
        fprintf(stderr, "appsrv: cannot set up the SSL_CTX\n");
        return 2;
    }
    lfd = listen_on(port);
    if (lfd < 0) {
        fprintf(stderr, "appsrv: cannot listen on 127.0.0.1:%d: %s\n", port,
                strerror(errno));
        return 2;
    }
    printf("LISTEN %d\n", port);
    for (;;) {
        int fd = accept(lfd, NULL, NULL);
        SSL *s;

        if (fd < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "appsrv: accept: %s\n", strerror(errno));
            return 2;
        }
        if (opts.reuse) {
            if (shared == NULL)
                shared = SSL_new(ctx);
            else if (SSL_clear(shared) != 1)
                printf("REFUSED SSL_clear failed\n");
            s = shared;
        } else {
            s = SSL_new(ctx);
        }
        if (s == NULL) {
            printf("REFUSED SSL_new failed\n");
        } else {
            serve(s, fd);
            if (!opts.reuse)
                SSL_free(s);
        }
        ERR_clear_error();
        close(fd);
    }
}
