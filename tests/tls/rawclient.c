/*
 * rawclient.c - a TLS test client that sends arbitrary dane_clientid bytes.
 *
 * A test tool, not an application under test: it uses plain OpenSSL (it
 * must not load the dance provider; run it with OPENSSL_CONF=/dev/null) and
 * SSL_CTX_add_custom_ext to put any bytes under the extension type in the
 * ClientHello and/or the TLS 1.3 Certificate message (first entry), so the
 * server's handling of malformed ClientNames can be tested with names the
 * provider itself refuses to send.
 *
 *   rawclient -p PORT -c CERT -k KEY [-C CHAIN] [-s SNI] [-t TYPE]
 *             [-v 1.2|1.3] [-H SPEC] [-M SPEC]
 *
 * SPEC (what to send; default none):
 *   none            do not send the extension in that message
 *   hex:HEX         these bytes exactly (hex: alone sends zero bytes)
 *   name:TEXT       a 1-byte length, then TEXT
 *   repeat:N:C      a 1-byte length N (0..255), then N copies of C
 * -H is the ClientHello, -M the TLS 1.3 Certificate message (OpenSSL sends
 * it there only when the server's CertificateRequest carried the type).
 *
 * After the handshake it sends "GET / HTTP/1.0" and copies the answer to
 * stdout (openssl s_server -www prints the server's view of the client's
 * certificate there).  Progress and errors go to stderr; the last stderr
 * line is "rawclient: handshake ok" or "rawclient: handshake failed: ...";
 * an alert from the server is printed as "rawclient: SSL alert number N".
 * Exit status: 0 handshake and answer, 1 TLS or connection failure, 2 usage.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

/* Default extension type: the private-use codepoint dance uses. */
#define RAW_DEFAULT_TYPE 65293
/* Largest extension body this tool builds. */
#define RAW_MAX_BODY 1024
/* Seconds before a silent server makes the client give up. */
#define RAW_IO_TIMEOUT 10

/* An extension body to send, or none. */
typedef struct {
    int send;
    size_t len;
    unsigned char data[RAW_MAX_BODY];
} raw_body;

/* What to send in each message; handed to the callbacks as add_arg. */
typedef struct {
    raw_body hello;
    raw_body cert;
    int saw_request; /* the server's CertificateRequest carried the type */
} raw_plan;

static const char raw_usage[] =
    "usage: rawclient -p PORT -c CERT -k KEY [-C CHAIN] [-s SNI] [-t TYPE]\n"
    "                 [-v 1.2|1.3] [-H SPEC] [-M SPEC]\n"
    "SPEC: none | hex:HEX | name:TEXT | repeat:N:C\n";

/* hexval - the value of one hex digit, or -1. */
static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* parse_num - a decimal number in [min, max] from s, or -1. */
static long parse_num(const char *s, long min, long max)
{
    char *end = NULL;
    long v;

    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    return v;
}

/* parse_spec - fill body from a SPEC string; 0 on success, -1 if bad. */
static int parse_spec(const char *spec, raw_body *body)
{
    memset(body, 0, sizeof(*body));
    if (strcmp(spec, "none") == 0)
        return 0;
    body->send = 1;
    if (strncmp(spec, "hex:", 4) == 0) {
        const char *h = spec + 4;
        size_t n = strlen(h);

        if (n % 2 != 0 || n / 2 > RAW_MAX_BODY)
            return -1;
        for (size_t i = 0; i < n / 2; i++) {
            int hi = hexval(h[2 * i]), lo = hexval(h[2 * i + 1]);

            if (hi < 0 || lo < 0)
                return -1;
            body->data[i] = (unsigned char)(hi * 16 + lo);
        }
        body->len = n / 2;
        return 0;
    }
    if (strncmp(spec, "name:", 5) == 0) {
        size_t n = strlen(spec + 5);

        if (n > 255)
            return -1;
        body->data[0] = (unsigned char)n;
        memcpy(body->data + 1, spec + 5, n);
        body->len = n + 1;
        return 0;
    }
    if (strncmp(spec, "repeat:", 7) == 0) {
        char num[8];
        const char *colon = strchr(spec + 7, ':');
        size_t digits;
        long n;

        if (colon == NULL || colon[1] == '\0' || colon[2] != '\0')
            return -1;
        digits = (size_t)(colon - (spec + 7));
        if (digits == 0 || digits >= sizeof(num))
            return -1;
        memcpy(num, spec + 7, digits);
        num[digits] = '\0';
        n = parse_num(num, 0, 255);
        if (n < 0)
            return -1;
        body->data[0] = (unsigned char)n;
        memset(body->data + 1, colon[1], (size_t)n);
        body->len = (size_t)n + 1;
        return 0;
    }
    return -1;
}

/*
 * add_cb - OpenSSL's custom extension add callback: the planned bytes for
 * the ClientHello, or for the first Certificate entry; 0 (omit) otherwise.
 */
static int add_cb(SSL *s, unsigned int type, unsigned int context,
                  const unsigned char **out, size_t *outlen, X509 *x,
                  size_t chainidx, int *al, void *add_arg)
{
    const raw_plan *plan = add_arg;
    const raw_body *body = NULL;

    (void)s;
    (void)type;
    (void)x;
    (void)al;
    if (context & SSL_EXT_CLIENT_HELLO)
        body = &plan->hello;
    else if ((context & SSL_EXT_TLS1_3_CERTIFICATE) && chainidx == 0)
        body = &plan->cert;
    if (body == NULL || !body->send)
        return 0;
    *out = body->data;
    *outlen = body->len;
    fprintf(stderr, "rawclient: sending %zu extension bytes in %s\n", body->len,
            (context & SSL_EXT_CLIENT_HELLO) ? "ClientHello" : "Certificate");
    return 1;
}

/* parse_cb - accept whatever the server sends under the type; note it. */
static int parse_cb(SSL *s, unsigned int type, unsigned int context,
                    const unsigned char *in, size_t inlen, X509 *x,
                    size_t chainidx, int *al, void *parse_arg)
{
    raw_plan *plan = parse_arg;

    (void)s;
    (void)type;
    (void)in;
    (void)x;
    (void)chainidx;
    (void)al;
    if (context & SSL_EXT_TLS1_3_CERTIFICATE_REQUEST)
        plan->saw_request = 1;
    fprintf(stderr, "rawclient: server sent %zu extension bytes in %s\n", inlen,
            (context & SSL_EXT_TLS1_3_CERTIFICATE_REQUEST)
                ? "CertificateRequest"
                : "ServerHello");
    return 1;
}

/* alert_cb - info callback: print every alert the server sends, in the
 * words s_client uses ("SSL alert number N"), so tests can check it. */
static void alert_cb(const SSL *s, int where, int ret)
{
    (void)s;
    if (where & SSL_CB_READ_ALERT)
        fprintf(stderr, "rawclient: SSL alert number %d (%s)\n", ret & 0xff,
                SSL_alert_desc_string_long(ret));
}

/* connect_loopback - a TCP socket connected to 127.0.0.1:port, or -1. */
static int connect_loopback(int port)
{
    struct sockaddr_in sa;
    struct timeval tv = {RAW_IO_TIMEOUT, 0};
    int fd;

    fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((unsigned short)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* print_errors - the OpenSSL error queue to stderr, one line each. */
static void print_errors(void)
{
    unsigned long e;
    char buf[256];

    while ((e = ERR_get_error()) != 0) {
        ERR_error_string_n(e, buf, sizeof(buf));
        fprintf(stderr, "rawclient:   %s\n", buf);
    }
}

/* main - parse options, run one handshake and one request. */
int main(int argc, char **argv)
{
    static const char request[] = "GET / HTTP/1.0\r\n\r\n";
    const char *cert = NULL, *key = NULL, *chain = NULL, *sni = NULL;
    long port = -1, type = RAW_DEFAULT_TYPE;
    const char *why = "TLS error";
    int version = 0, c, fd = -1, rc = 1, n;
    raw_plan *plan = NULL;
    SSL_CTX *ctx = NULL;
    SSL *ssl = NULL;
    char buf[4096];

    plan = calloc(1, sizeof(*plan));
    if (plan == NULL) {
        why = "out of memory";
        goto err;
    }
    while ((c = getopt(argc, argv, "p:c:k:C:s:t:v:H:M:")) != -1) {
        switch (c) {
        case 'p':
            port = parse_num(optarg, 1, 65535);
            break;
        case 'c':
            cert = optarg;
            break;
        case 'k':
            key = optarg;
            break;
        case 'C':
            chain = optarg;
            break;
        case 's':
            sni = optarg;
            break;
        case 't':
            type = parse_num(optarg, 1, 65535);
            break;
        case 'v':
            if (strcmp(optarg, "1.2") == 0)
                version = TLS1_2_VERSION;
            else if (strcmp(optarg, "1.3") == 0)
                version = TLS1_3_VERSION;
            else
                version = -1;
            break;
        case 'H':
        case 'M':
            if (parse_spec(optarg, c == 'H' ? &plan->hello : &plan->cert)) {
                fprintf(stderr, "rawclient: bad -%c SPEC '%s'\n", c, optarg);
                rc = 2;
                goto err;
            }
            break;
        default:
            fputs(raw_usage, stderr);
            rc = 2;
            goto err;
        }
    }
    if (port < 0 || type < 0 || version < 0 || cert == NULL || key == NULL ||
        optind != argc) {
        fputs(raw_usage, stderr);
        rc = 2;
        goto err;
    }
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        goto err;
    if (version != 0 && (!SSL_CTX_set_min_proto_version(ctx, version) ||
                         !SSL_CTX_set_max_proto_version(ctx, version)))
        goto err;
    if (SSL_CTX_use_certificate_chain_file(ctx, chain ? chain : cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
        goto err;
    if (!SSL_CTX_add_custom_ext(
            ctx, (unsigned int)type,
            SSL_EXT_CLIENT_HELLO | SSL_EXT_TLS1_2_SERVER_HELLO |
                SSL_EXT_TLS1_3_CERTIFICATE_REQUEST | SSL_EXT_TLS1_3_CERTIFICATE,
            add_cb, NULL, plan, parse_cb, plan))
        goto err;
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    SSL_CTX_set_info_callback(ctx, alert_cb);
    fd = connect_loopback((int)port);
    if (fd < 0) {
        why = "cannot connect";
        goto err;
    }
    ssl = SSL_new(ctx);
    if (ssl == NULL || !SSL_set_fd(ssl, fd))
        goto err;
    if (sni != NULL && !SSL_set_tlsext_host_name(ssl, sni))
        goto err;
    if (SSL_connect(ssl) != 1)
        goto err;
    fprintf(stderr, "rawclient: %s, CertificateRequest %s the extension\n",
            SSL_get_version(ssl),
            plan->saw_request ? "carried" : "did not carry");
    if (SSL_write(ssl, request, (int)strlen(request)) <= 0)
        goto err;
    while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
        fwrite(buf, 1, (size_t)n, stdout);
    n = SSL_get_error(ssl, n);
    if (n != SSL_ERROR_ZERO_RETURN &&
        !(n == SSL_ERROR_SYSCALL && ERR_peek_error() == 0))
        goto err;
    fflush(stdout);
    fprintf(stderr, "rawclient: handshake ok\n");
    rc = 0;
err:
    if (rc == 1) {
        fprintf(stderr, "rawclient: handshake failed: %s\n", why);
        print_errors();
    }
    SSL_free(ssl);
    if (fd >= 0)
        close(fd);
    SSL_CTX_free(ctx);
    free(plan);
    return rc;
}
