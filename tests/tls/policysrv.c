/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policysrv.c - a small TLS server that does to the module what real
 * servers do (haproxy, lighttpd, apache, nginx): it owns the ClientHello,
 * servername and certificate callbacks, resets the verify mode in them,
 * switches SSL_CTX on SNI, or installs its own certificate-verify callback.
 * The provider is loaded through OPENSSL_CONF only.
 *
 *   policysrv -p PORT -C CERT -K KEY [-A CAFILE] [-V none|peer|require]
 *             [-h] [-n] [-c] [-x] [-v] [-r] [-L] [-E]
 *             [-N CONNECTIONS]
 *
 *   -V  the verify mode the server sets (default none)
 *   -h  own ClientHello callback: SSL_set_verify(NONE)
 *   -n  own servername callback: SSL_set_verify(NONE)
 *   -c  own certificate callback: SSL_set_verify(NONE)
 *   -x  servername callback switches to a second SSL_CTX (verify none)
 *   -v  own certificate-verify callback that accepts everything
 *   -r  reuse one SSL object for every connection (SSL_clear)
 *   -L  make the SSL_CTX in a library context of its own
 *   -E  make the SSL_CTX before loading OPENSSL_CONF (so before the
 *       module is loaded), then load it
 *
 * For each connection it reads one line and answers like `openssl
 * s_server -www` does (tests/tls/lib.sh tls_verdict reads it):
 * "HTTP/1.0 200 ok", "Verify return code: N (...)", then "Client
 * certificate" or "no client certificate available". Prints ACCEPT when
 * it listens.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

static int opt_h, opt_n, opt_c, opt_x, opt_v, opt_r, opt_l, opt_e;
static OSSL_LIB_CTX *libctx;
static SSL *reused;
static SSL_CTX *second_ctx;

/* hello_cb - the application's own ClientHello callback. */
static int hello_cb(SSL *s, int *al, void *arg)
{
    (void)al, (void)arg;
    SSL_set_verify(s, SSL_VERIFY_NONE, NULL);
    return SSL_CLIENT_HELLO_SUCCESS;
}

/* sni_cb - the application's own servername callback. */
static int sni_cb(SSL *s, int *al, void *arg)
{
    (void)al, (void)arg;
    if (opt_x)
        SSL_set_SSL_CTX(s, second_ctx);
    if (opt_n)
        SSL_set_verify(s, SSL_VERIFY_NONE, NULL);
    return SSL_TLSEXT_ERR_OK;
}

/* cert_cb - the application's own certificate callback. */
static int cert_cb(SSL *s, void *arg)
{
    (void)arg;
    SSL_set_verify(s, SSL_VERIFY_NONE, NULL);
    return 1;
}

/* accept_all - the application's own certificate-verify callback. */
static int accept_all(X509_STORE_CTX *xs, void *arg)
{
    (void)arg;
    X509_verify_cert(xs);
    X509_STORE_CTX_set_error(xs, X509_V_OK);
    return 1;
}

/* new_ctx - a server SSL_CTX with cert/key, verify mode and callbacks. */
static SSL_CTX *new_ctx(const char *cert, const char *key, const char *ca,
                        int mode)
{
    SSL_CTX *ctx = SSL_CTX_new_ex(libctx, NULL, TLS_server_method());

    if (ctx == NULL || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        ERR_print_errors_fp(stderr);
        exit(2);
    }
    if (ca != NULL && SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
        ERR_print_errors_fp(stderr);
        exit(2);
    }
    SSL_CTX_set_verify(ctx, mode, NULL);
    SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"ps", 2);
    if (opt_h)
        SSL_CTX_set_client_hello_cb(ctx, hello_cb, NULL);
    if (opt_n || opt_x)
        SSL_CTX_set_tlsext_servername_callback(ctx, sni_cb);
    if (opt_c)
        SSL_CTX_set_cert_cb(ctx, cert_cb, NULL);
    if (opt_v)
        SSL_CTX_set_cert_verify_callback(ctx, accept_all, NULL);
    return ctx;
}

/* serve - one connection: handshake, one line in, the verdict page out. */
static void serve(SSL_CTX *ctx, int fd)
{
    SSL *s;
    char line[512], page[1024];
    X509 *peer;
    long vr;
    int n;

    if (opt_r && reused != NULL) {
        s = reused;
        if (SSL_clear(s) != 1) {
            fprintf(stderr, "SSL_clear failed\n");
            close(fd);
            return;
        }
    } else {
        s = SSL_new(ctx);
        if (opt_r)
            reused = s;
    }
    SSL_set_fd(s, fd);
    if (SSL_accept(s) != 1) {
        fprintf(stderr, "handshake failed\n");
        ERR_print_errors_fp(stderr);
        goto done;
    }
    n = SSL_read(s, line, sizeof(line) - 1);
    if (n <= 0) {
        fprintf(stderr, "read failed (%d)\n", SSL_get_error(s, n));
        ERR_clear_error();
        goto done;
    }
    peer = SSL_get1_peer_certificate(s);
    vr = SSL_get_verify_result(s);
    snprintf(page, sizeof(page),
             "HTTP/1.0 200 ok\r\n\r\nVerify return code: %ld (%s)\n%s\n", vr,
             X509_verify_cert_error_string(vr),
             peer != NULL ? "Client certificate"
                          : "no client certificate available");
    X509_free(peer);
    if (SSL_write(s, page, (int)strlen(page)) <= 0) {
        fprintf(stderr, "write failed\n");
        ERR_clear_error();
    }
    fprintf(stderr, "served: verify %ld\n", vr);
    SSL_shutdown(s);
done:
    if (!opt_r)
        SSL_free(s);
    close(fd);
}

/* main - parse options, listen on 127.0.0.1:PORT, serve forever. */
int main(int argc, char **argv)
{
    const char *cert = NULL, *key = NULL, *ca = NULL;
    int port = 0, mode = SSL_VERIFY_NONE, opt, lfd, one = 1;
    long count = -1;
    struct sockaddr_in sa;
    SSL_CTX *ctx;

    while ((opt = getopt(argc, argv, "p:C:K:A:V:hncxvrLEN:")) != -1) {
        switch (opt) {
        case 'p':
            port = atoi(optarg);
            break;
        case 'C':
            cert = optarg;
            break;
        case 'K':
            key = optarg;
            break;
        case 'A':
            ca = optarg;
            break;
        case 'V':
            if (strcmp(optarg, "peer") == 0)
                mode = SSL_VERIFY_PEER;
            else if (strcmp(optarg, "require") == 0)
                mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
            break;
        case 'h':
            opt_h = 1;
            break;
        case 'n':
            opt_n = 1;
            break;
        case 'c':
            opt_c = 1;
            break;
        case 'x':
            opt_x = 1;
            break;
        case 'v':
            opt_v = 1;
            break;
        case 'r':
            opt_r = 1;
            break;
        case 'L':
            opt_l = 1;
            break;
        case 'E':
            opt_e = 1;
            break;
        case 'N':
            count = atol(optarg);
            break;
        default:
            fprintf(stderr, "usage: see the header of policysrv.c\n");
            return 2;
        }
    }
    if (port == 0 || cert == NULL || key == NULL) {
        fprintf(stderr, "usage: see the header of policysrv.c\n");
        return 2;
    }
    if (opt_l && (libctx = OSSL_LIB_CTX_new()) == NULL)
        return 2;
    if (opt_e)
        OPENSSL_init_ssl(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
    ctx = new_ctx(cert, key, ca, mode);
    if (opt_e && getenv("OPENSSL_CONF") != NULL &&
        CONF_modules_load_file(getenv("OPENSSL_CONF"), NULL, 0) <= 0) {
        ERR_print_errors_fp(stderr);
        return 2;
    }
    if (opt_x)
        second_ctx = new_ctx(cert, key, ca, SSL_VERIFY_NONE);
    lfd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        listen(lfd, 16) != 0) {
        perror("bind/listen");
        return 2;
    }
    printf("ACCEPT\n");
    fflush(stdout);
    while (count != 0) {
        int fd = accept(lfd, NULL, NULL);

        if (fd < 0)
            continue;
        serve(ctx, fd);
        if (count > 0)
            count--;
    }
    close(lfd);
    SSL_free(reused);
    SSL_CTX_free(ctx);
    SSL_CTX_free(second_ctx);
    OSSL_LIB_CTX_free(libctx);
    return 0;
}
