/* SPDX-License-Identifier: Apache-2.0 */
/*
 * handshake.c - dance-bench: the cost of mutual TLS with DANE client
 * authentication against the same handshake with a private CA.
 *
 *   dance-bench pki DIR COUNT [TTL]
 *   dance-bench run --pki DIR [options]
 *
 * "pki" writes a private CA, a server certificate it issued, COUNT client
 * identities (EC P-256 key + CA-issued certificate whose dNSName SAN is
 * _client.bNNNNN.example.test) and DIR/tlsa.rr, one DANE-EE TLSA record
 * per identity (3 1 1, SHA-256 of the SPKI) for tests/dnsworld/dnsworld.sh.
 *
 * "pki" also writes DIR/ca-key.pem (the CA's key), used only by
 * --flood-ca-signed.
 *
 * "run" is an ordinary OpenSSL application: it knows nothing of DANE. It
 * runs a TLS server and clients in one process over loopback TCP; the
 * server asks every client for a certificate and verifies it against the
 * private CA; whatever the provider loaded through OPENSSL_CONF does on
 * top (client_auth = require, client_name = auto) is the only difference
 * between the baseline and the DANE scenarios. Every handshake is full
 * (no session cache, no tickets). A sample is the client's time from
 * connect() until it reads the byte the server writes after SSL_accept
 * succeeded, so it includes the server's verdict. The provider's counters
 * (OSSL_PROVIDER_get_params) are read before and after the measured phase.
 *
 * Flood (--flood K, issue 14): while the measured phase runs, K more
 * client threads (and K more server threads) keep connecting, each
 * handshake claiming a fresh random name LABEL.f<16 hex>.ZONE
 * (--flood-label, default "_flood"; --flood-zone) that has no TLSA
 * record, in the certificate's CN and dNSName SAN (where client_name =
 * auto takes it), with a key of the thread's own, issued by a CA of the
 * thread's own (which the server does not trust), or with
 * --flood-ca-signed by the server's own private CA. The flood stops when
 * the measured clients are done; every flood handshake must be refused.
 *
 * Output: one "result key=value ..." line on stdout. Exit status 0 when
 * every measured handshake succeeded and no flood handshake was accepted,
 * 1 otherwise, 2 on a usage or set-up error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define NAME_FMT "_client.b%05ld.example.test"
#define MAX_THREADS 512
#define NCOUNTERS 13

/* Provider counters, in the order they are printed. */
static const char *const counter_names[NCOUNTERS] = {
    "dance-lookups",
    "dance-cache-hits",
    "dance-cache-misses",
    "dance-cache-entries",
    "dance-queries-udp",
    "dance-queries-tcp",
    "dance-jobs-immediate",
    "dance-jobs-queued",
    "dance-jobs-shared",
    "dance-refreshes",
    "dance-joiner-runs",
    "dance-prewarmed",
    "dance-prewarm-handed-over"};
static const char *const counter_keys[NCOUNTERS] = {"lookups",
                                                    "cache_hits",
                                                    "cache_misses",
                                                    "cache_entries",
                                                    "udp",
                                                    "tcp",
                                                    "immediate",
                                                    "queued",
                                                    "shared",
                                                    "refreshes",
                                                    "joiner_runs",
                                                    "prewarmed",
                                                    "prewarm_handed_over"};

typedef struct {
    EVP_PKEY *key;
    X509 *cert;
} bench_id;

typedef struct {
    /* options */
    const char *pki;
    const char *label;
    int tls;           /* 12 or 13 */
    long n;            /* measured handshakes */
    long warmup;       /* unmeasured handshakes over the id range first */
    long id_first;     /* identities used by measured handshakes */
    long id_count;     /* how many (cycled, or one each with fresh) */
    int fresh;         /* every measured handshake a never-used identity */
    int prewarm;       /* one handshake per identity in range first */
    long chain_warm;   /* identity for one handshake first, or -1 */
    double srv_cpu;    /* CPU s of the server threads over the measured
                          phase: the server's share of cpu_s */
    double from_first; /* s from the chain warm-up's start to the last
                          handshake's end (the server's first handshake
                          starts what it warms, see prewarm_file), or -1 */
    int conc;          /* client threads (and as many server threads) */
    int burst;         /* clients start together (single flight) */
    long interval_ms;  /* pause before each handshake (refresh runs) */
    long pair_warm;    /* identity of a warm handshake after each sample */
    int expect_dance;  /* -1: either, 0: must be absent, 1: present */

    /* flood (0 threads: none); names are LABEL.f<hex>.ZONE */
    int flood;
    const char *flood_zone, *flood_label;
    int flood_ca_signed; /* flood certificates from the private CA */
    /* run time */
    SSL_CTX *sctx, *cctx;
    int lfd;
    struct sockaddr_in addr;
    bench_id *ids;
    long nids;
    double *lat;  /* seconds per measured sample, -1 for a failure */
    double *pair; /* the warm handshake paired with each sample */
    atomic_long next;
    atomic_int stop;
    pthread_barrier_t start;
    EVP_PKEY *ca_key; /* the private CA (--flood-ca-signed only) */
    X509 *ca_cert;
    atomic_int flood_stop;
    atomic_long flood_n, flood_accepted;
    pthread_barrier_t flood_ready; /* flood threads and cmd_run */
    pthread_mutex_t flood_lock;    /* guards flood_max */
    double flood_max;              /* longest flood handshake, seconds */
} bench;

/* now_s - monotonic time in seconds. */
static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* die - print a set-up error with OpenSSL's queue and exit 2. */
static void die(const char *what)
{
    fprintf(stderr, "dance-bench: %s\n", what);
    ERR_print_errors_fp(stderr);
    exit(2);
}

/* ---- pki ---------------------------------------------------------------- */

/* new_key - a fresh EC P-256 key. */
static EVP_PKEY *new_key(void)
{
    return EVP_EC_gen("P-256");
}

/* add_ext - add one X509v3 extension given in openssl.cnf syntax. */
static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (ext == NULL)
        return 0;
    ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* make_cert - a certificate for key with common name cn, issued by
 * (issuer, ikey) or self-signed when issuer is NULL; san/eku may be NULL. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer,
                       EVP_PKEY *ikey, long serial, const char *san,
                       const char *eku)
{
    X509 *cert = X509_new();
    X509_NAME *name = X509_NAME_new();

    if (cert == NULL || name == NULL || !X509_set_version(cert, 2) ||
        !ASN1_INTEGER_set(X509_get_serialNumber(cert), serial) ||
        X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == NULL ||
        X509_gmtime_adj(X509_getm_notAfter(cert), 30L * 24 * 3600) == NULL ||
        !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)cn, -1, -1, 0) ||
        !X509_set_subject_name(cert, name) ||
        !X509_set_issuer_name(
            cert, issuer != NULL ? X509_get_subject_name(issuer) : name) ||
        !X509_set_pubkey(cert, key))
        goto err;
    if (issuer == NULL) {
        if (!add_ext(cert, cert, NID_basic_constraints, "critical,CA:TRUE") ||
            !add_ext(cert, cert, NID_key_usage, "critical,keyCertSign,cRLSign"))
            goto err;
    } else if (!add_ext(cert, issuer, NID_basic_constraints, "CA:FALSE") ||
               (san != NULL &&
                !add_ext(cert, issuer, NID_subject_alt_name, san)) ||
               (eku != NULL && !add_ext(cert, issuer, NID_ext_key_usage, eku)))
        goto err;
    if (X509_sign(cert, issuer != NULL ? ikey : key, EVP_sha256()) <= 0)
        goto err;
    X509_NAME_free(name);
    return cert;
err:
    X509_NAME_free(name);
    X509_free(cert);
    return NULL;
}

/* write_pem - write key (if any) and cert to path. */
static int write_pem(const char *path, EVP_PKEY *key, X509 *cert)
{
    FILE *f = fopen(path, "w");
    int ok;

    if (f == NULL)
        return 0;
    ok = (key == NULL ||
          PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)) &&
         PEM_write_X509(f, cert);
    return fclose(f) == 0 && ok;
}

/* spki_sha256_hex - hex SHA-256 of key's DER SubjectPublicKeyInfo. */
static int spki_sha256_hex(EVP_PKEY *key, char out[65])
{
    unsigned char *der = NULL, md[32];
    unsigned int mdlen = 0;
    int len = i2d_PUBKEY(key, &der);

    if (len <= 0 ||
        !EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL)) {
        OPENSSL_free(der);
        return 0;
    }
    OPENSSL_free(der);
    for (unsigned int i = 0; i < mdlen; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 1;
}

/* cmd_pki - the "pki" command: CA, server, identities, TLSA records. */
static int cmd_pki(const char *dir, long count, long ttl)
{
    char path[4096], name[64], hex[65];
    EVP_PKEY *cakey = new_key(), *skey = new_key(), *key = NULL;
    X509 *ca = NULL, *srv = NULL, *cert = NULL;
    FILE *ids = NULL, *rr = NULL;
    int ok = 0;

    if (cakey == NULL || skey == NULL)
        goto err;
    ca = make_cert(cakey, "dance-bench private CA", NULL, NULL, 1, NULL, NULL);
    srv = make_cert(skey, "localhost", ca, cakey, 2, "DNS:localhost",
                    "serverAuth");
    snprintf(path, sizeof(path), "%s/ca.crt", dir);
    if (ca == NULL || srv == NULL || !write_pem(path, NULL, ca))
        goto err;
    snprintf(path, sizeof(path), "%s/ca-key.pem", dir);
    if (!write_pem(path, cakey, ca))
        goto err;
    snprintf(path, sizeof(path), "%s/server.pem", dir);
    if (!write_pem(path, skey, srv))
        goto err;
    snprintf(path, sizeof(path), "%s/ids.pem", dir);
    ids = fopen(path, "w");
    snprintf(path, sizeof(path), "%s/tlsa.rr", dir);
    rr = fopen(path, "w");
    if (ids == NULL || rr == NULL)
        goto err;
    for (long i = 0; i < count; i++) {
        char san[80];

        snprintf(name, sizeof(name), NAME_FMT, i);
        snprintf(san, sizeof(san), "DNS:%s", name);
        key = new_key();
        cert = key != NULL
                   ? make_cert(key, name, ca, cakey, 100 + i, san, "clientAuth")
                   : NULL;
        if (cert == NULL || !spki_sha256_hex(key, hex) ||
            !PEM_write_PrivateKey(ids, key, NULL, NULL, 0, NULL, NULL) ||
            !PEM_write_X509(ids, cert))
            goto err;
        fprintf(rr, "%s. %ld IN TLSA 3 1 1 %s\n", name, ttl, hex);
        if (i == 0) { /* for a cross-check with `dance tlsa` */
            snprintf(path, sizeof(path), "%s/id0.crt", dir);
            if (!write_pem(path, NULL, cert))
                goto err;
        }
        EVP_PKEY_free(key);
        X509_free(cert);
        key = NULL;
        cert = NULL;
    }
    ok = 1;
err:
    if (ids != NULL && fclose(ids) != 0)
        ok = 0;
    if (rr != NULL && fclose(rr) != 0)
        ok = 0;
    EVP_PKEY_free(key);
    X509_free(cert);
    EVP_PKEY_free(cakey);
    EVP_PKEY_free(skey);
    X509_free(ca);
    X509_free(srv);
    if (!ok)
        die("pki: cannot create the certificates");
    return 0;
}

/* needed - is identity i used by this run? */
static int needed(const bench *b, long i)
{
    return i == b->chain_warm || i == b->pair_warm ||
           (i >= b->id_first && i < b->id_first + b->id_count);
}

/* load_ids - read ids.pem (key, then certificate, per identity) and decode
 * only the identities this run uses: OpenSSL 3's key decoders cost about
 * a millisecond per key, which thousands of identities would add to every
 * start. */
static void load_ids(bench *b)
{
    char path[4096], *name = NULL, *header = NULL;
    unsigned char *data = NULL;
    long len, block = 0, cap = 256;
    FILE *f;

    snprintf(path, sizeof(path), "%s/ids.pem", b->pki);
    f = fopen(path, "r");
    b->ids = calloc((size_t)cap, sizeof(*b->ids));
    if (f == NULL || b->ids == NULL)
        die("cannot read ids.pem (run `dance-bench pki` first)");
    while (PEM_read(f, &name, &header, &data, &len)) {
        long i = block / 2;
        const unsigned char *p = data;

        if (i >= cap) {
            bench_id *more = realloc(b->ids, 2 * (size_t)cap * sizeof(*more));

            if (more == NULL)
                die("out of memory");
            memset(more + cap, 0, (size_t)cap * sizeof(*more));
            b->ids = more;
            cap *= 2;
        }
        if (needed(b, i) && block % 2 == 0)
            b->ids[i].key = d2i_AutoPrivateKey(NULL, &p, len);
        else if (needed(b, i))
            b->ids[i].cert = d2i_X509(NULL, &p, len);
        if (needed(b, i) &&
            (block % 2 == 0 ? b->ids[i].key == NULL : b->ids[i].cert == NULL))
            die("ids.pem: an identity does not decode");
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        block++;
    }
    ERR_clear_error(); /* the end of the file reads as an error */
    fclose(f);
    if (block % 2 != 0)
        die("ids.pem: a key without its certificate");
    b->nids = block / 2;
}

/* ---- TLS set-up --------------------------------------------------------- */

/* common_ctx - what both roles share: protocol version, full handshakes. */
static SSL_CTX *common_ctx(bench *b, const SSL_METHOD *method)
{
    SSL_CTX *ctx = SSL_CTX_new(method);
    int v = b->tls == 12 ? TLS1_2_VERSION : TLS1_3_VERSION;
    char path[4096];

    if (ctx == NULL || !SSL_CTX_set_min_proto_version(ctx, v) ||
        !SSL_CTX_set_max_proto_version(ctx, v))
        die("cannot create an SSL_CTX");
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
    SSL_CTX_set_num_tickets(ctx, 0);
    snprintf(path, sizeof(path), "%s/ca.crt", b->pki);
    if (!SSL_CTX_load_verify_locations(ctx, path, NULL))
        die("cannot load ca.crt");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT,
                       NULL);
    return ctx;
}

/* setup_tls - the server and client contexts and the listening socket. */
static void setup_tls(bench *b)
{
    char path[4096];
    socklen_t len = sizeof(b->addr);
    int one = 1;

    b->sctx = common_ctx(b, TLS_server_method());
    b->cctx = common_ctx(b, TLS_client_method());
    snprintf(path, sizeof(path), "%s/server.pem", b->pki);
    if (SSL_CTX_use_certificate_file(b->sctx, path, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(b->sctx, path, SSL_FILETYPE_PEM) != 1)
        die("cannot load server.pem");
    b->lfd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&b->addr, 0, sizeof(b->addr));
    b->addr.sin_family = AF_INET;
    b->addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (b->lfd < 0 ||
        setsockopt(b->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
        bind(b->lfd, (struct sockaddr *)&b->addr, sizeof(b->addr)) != 0 ||
        listen(b->lfd, 1024) != 0 ||
        getsockname(b->lfd, (struct sockaddr *)&b->addr, &len) != 0)
        die("cannot listen on 127.0.0.1");
}

/* ---- provider counters -------------------------------------------------- */

/* read_counters - the dance provider's counters into out; 0 when the
 * provider is not active in this process (the baseline). */
static int read_counters(uint64_t out[NCOUNTERS])
{
    OSSL_PARAM params[NCOUNTERS + 1];
    OSSL_PROVIDER *prov;
    int ok;

    memset(out, 0, NCOUNTERS * sizeof(out[0]));
    /* available() never loads a module that openssl.cnf did not name. */
    if (!OSSL_PROVIDER_available(NULL, "dance"))
        return 0;
    prov = OSSL_PROVIDER_load(NULL, "dance");
    if (prov == NULL)
        return 0;
    for (int i = 0; i < NCOUNTERS; i++)
        params[i] = OSSL_PARAM_construct_uint64(counter_names[i], &out[i]);
    params[NCOUNTERS] = OSSL_PARAM_construct_end();
    ok = OSSL_PROVIDER_get_params(prov, params);
    OSSL_PROVIDER_unload(prov);
    return ok;
}

/* ---- server ------------------------------------------------------------- */

/* serve_one - one full handshake; on success the byte the client waits
 * for, then wait for the client to go away. */
static void serve_one(bench *b, int fd)
{
    SSL *s = SSL_new(b->sctx);
    int one = 1;
    char c;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (s != NULL && SSL_set_fd(s, fd) && SSL_accept(s) == 1 &&
        SSL_write(s, "K", 1) == 1)
        (void)SSL_read(s, &c, 1); /* returns at the client's close */
    SSL_free(s);
    ERR_clear_error();
    close(fd);
}

/* server_main - accept and serve connections until stopped. */
static void *server_main(void *arg)
{
    bench *b = arg;

    while (!atomic_load(&b->stop)) {
        int fd = accept(b->lfd, NULL, NULL);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            break; /* shutdown() of the listening socket */
        }
        serve_one(b, fd);
    }
    return NULL;
}

/* threads_cpu_s - CPU time (user + system) the threads t[0..n) have used,
 * seconds. */
static double threads_cpu_s(const pthread_t *t, int n)
{
    double sum = 0;

    for (int i = 0; i < n; i++) {
        clockid_t c;
        struct timespec ts;

        if (pthread_getcpuclockid(t[i], &c) == 0 && clock_gettime(c, &ts) == 0)
            sum += (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    }
    return sum;
}

/* ---- client ------------------------------------------------------------- */

/* handshake_timed - one client handshake as identity id: 1 if the server
 * accepted it (its byte arrived), 0 if not; *secs is the time from
 * connect() to the verdict (0 when it never got that far). */
static int handshake_timed(bench *b, const bench_id *id, double *secs)
{
    struct linger lg = {1, 0};
    SSL *s = SSL_new(b->cctx);
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, ok = 0;
    double t0 = 0, t1 = 0;
    char c = 0;

    if (s == NULL || fd < 0 || !SSL_use_certificate(s, id->cert) ||
        !SSL_use_PrivateKey(s, id->key) || !SSL_set_fd(s, fd))
        goto done;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    t0 = now_s();
    if (connect(fd, (struct sockaddr *)&b->addr, sizeof(b->addr)) == 0 &&
        SSL_connect(s) == 1 && SSL_read(s, &c, 1) == 1 && c == 'K')
        ok = 1;
    t1 = now_s();
done:
    /* Reset instead of TIME_WAIT: hundreds of thousands of loopback
     * connections would otherwise exhaust the ephemeral ports. */
    if (fd >= 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    SSL_free(s);
    ERR_clear_error();
    if (fd >= 0)
        close(fd);
    *secs = t1 - t0;
    return ok;
}

/* handshake - one client handshake as identity id; seconds, or -1. */
static double handshake(bench *b, const bench_id *id)
{
    double secs;

    return handshake_timed(b, id, &secs) ? secs : -1.0;
}

/* pick - the identity of measured sample i. */
static const bench_id *pick(const bench *b, long i)
{
    return &b->ids[b->id_first + i % b->id_count];
}

/* sleep_ms - sleep ms milliseconds. */
static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* client_main - measured handshakes until n are taken. */
static void *client_main(void *arg)
{
    bench *b = arg;

    if (b->burst)
        pthread_barrier_wait(&b->start);
    for (;;) {
        long i = atomic_fetch_add(&b->next, 1);

        if (i >= b->n)
            break;
        if (b->interval_ms > 0)
            sleep_ms(b->interval_ms);
        b->lat[i] = handshake(b, pick(b, i));
        if (b->pair_warm >= 0)
            b->pair[i] = handshake(b, &b->ids[b->pair_warm]);
    }
    return NULL;
}

/* flood_name - a fresh random name LABEL.f<16 hex>.ZONE into out; 0 if
 * it does not fit. */
static int flood_name(const bench *b, char *out, size_t len)
{
    unsigned char r[8];
    int n;

    if (RAND_bytes(r, sizeof(r)) != 1)
        return 0;
    n = snprintf(out, len, "%s.f%02x%02x%02x%02x%02x%02x%02x%02x.%s",
                 b->flood_label, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7],
                 b->flood_zone);
    return n > 0 && (size_t)n < len && n <= 253;
}

/* flood_main - flood handshakes, each claiming a fresh unknown name, until
 * flood_stop; counts them, the accepted ones and the longest. */
static void *flood_main(void *arg)
{
    bench *b = arg;
    EVP_PKEY *key = new_key(), *own_key = new_key();
    X509 *own_ca = own_key != NULL ? make_cert(own_key, "dance-bench flood CA",
                                               NULL, NULL, 1, NULL, NULL)
                                   : NULL;
    X509 *issuer = b->flood_ca_signed ? b->ca_cert : own_ca;
    EVP_PKEY *ikey = b->flood_ca_signed ? b->ca_key : own_key;
    double longest = 0;
    long serial = 1000;

    if (key == NULL || issuer == NULL)
        die("flood: cannot make a key or a CA");
    pthread_barrier_wait(&b->flood_ready);
    do { /* at least one each, however short the measured phase */
        char name[256], san[264];
        bench_id id = {key, NULL};
        double secs = 0;

        if (!flood_name(b, name, sizeof(name)))
            die("flood: the flood name does not fit");
        snprintf(san, sizeof(san), "DNS:%s", name);
        id.cert =
            make_cert(key, name, issuer, ikey, ++serial, san, "clientAuth");
        if (id.cert == NULL)
            die("flood: cannot issue a certificate");
        atomic_fetch_add(&b->flood_n, 1);
        if (handshake_timed(b, &id, &secs) &&
            atomic_fetch_add(&b->flood_accepted, 1) == 0) /* say it once */
            fprintf(stderr, "dance-bench: flood handshake for %s ACCEPTED\n",
                    name);
        if (secs > longest)
            longest = secs;
        X509_free(id.cert);
    } while (!atomic_load(&b->flood_stop));
    pthread_mutex_lock(&b->flood_lock);
    if (longest > b->flood_max)
        b->flood_max = longest;
    pthread_mutex_unlock(&b->flood_lock);
    EVP_PKEY_free(key);
    EVP_PKEY_free(own_key);
    X509_free(own_ca);
    return NULL;
}

/* load_ca_key - the private CA's key and certificate (--flood-ca-signed). */
static void load_ca_key(bench *b)
{
    char path[4096];
    FILE *f;

    snprintf(path, sizeof(path), "%s/ca-key.pem", b->pki);
    f = fopen(path, "r");
    if (f == NULL)
        die("cannot read ca-key.pem (run `dance-bench pki` again)");
    b->ca_key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    b->ca_cert = b->ca_key != NULL ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
    fclose(f);
    if (b->ca_cert == NULL)
        die("ca-key.pem: no key and certificate");
}

/* unmeasured - a handshake outside the measurement; exit on failure. */
static void unmeasured(bench *b, long id, const char *what)
{
    if (handshake(b, &b->ids[id]) < 0) {
        fprintf(stderr, "dance-bench: %s handshake (identity %ld) failed\n",
                what, id);
        exit(1);
    }
}

/* ---- statistics and output ---------------------------------------------- */

/* cmp_double - qsort order for doubles. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* rank - nearest-rank percentile p (0..1] of sorted v[0..n). */
static double rank(const double *v, long n, double p)
{
    long k = (long)(p * (double)n + 0.999999);

    if (k < 1)
        k = 1;
    return v[k - 1];
}

/* report_pairs - the paired warm handshakes' median and the median of
 * (sample - its paired warm handshake): the extra cost of a cold sample,
 * with the machine's drifts cancelled pair by pair. */
static void report_pairs(const bench *b)
{
    double *warm = malloc((size_t)b->n * sizeof(*warm));
    double *extra = malloc((size_t)b->n * sizeof(*extra));
    long n = 0;

    if (warm == NULL || extra == NULL)
        die("out of memory");
    for (long i = 0; i < b->n; i++)
        if (b->lat[i] >= 0 && b->pair[i] >= 0) {
            warm[n] = b->pair[i];
            extra[n++] = b->lat[i] - b->pair[i];
        }
    qsort(warm, (size_t)n, sizeof(*warm), cmp_double);
    qsort(extra, (size_t)n, sizeof(*extra), cmp_double);
    if (n > 0)
        printf(" pairs=%ld pair_p50_ms=%.4f extra_p50_ms=%.4f", n,
               1e3 * rank(warm, n, 0.5), 1e3 * rank(extra, n, 0.5));
    free(warm);
    free(extra);
}

/* peak_rss_kb - the process's peak resident set so far, KiB (clients,
 * servers and the provider together). */
static long peak_rss_kb(void)
{
    struct rusage ru;

    return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

/* cpu_s - CPU time (user + system) the process has used so far, seconds:
 * unlike wall clock, hardly moved by other jobs on a shared machine. */
static double cpu_s(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) != 0)
        return 0;
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* report - print the result line. */
static void report(const bench *b, double wall, double cpu,
                   const uint64_t before[], const uint64_t after[], int dance)
{
    double *ok = malloc((size_t)b->n * sizeof(*ok)), sum = 0;
    long nok = 0;

    if (ok == NULL)
        die("out of memory");
    for (long i = 0; i < b->n; i++)
        if (b->lat[i] >= 0) {
            ok[nok++] = b->lat[i];
            sum += b->lat[i];
        }
    qsort(ok, (size_t)nok, sizeof(*ok), cmp_double);
    printf("result label=%s tls=1.%d n=%ld ok=%ld fail=%ld conc=%d "
           "wall_s=%.4f hps=%.1f",
           b->label, b->tls - 10, b->n, nok, b->n - nok, b->conc, wall,
           wall > 0 ? (double)nok / wall : 0.0);
    if (nok > 0)
        printf(" mean_ms=%.4f p50_ms=%.4f p99_ms=%.4f min_ms=%.4f "
               "max_ms=%.4f",
               1e3 * sum / (double)nok, 1e3 * rank(ok, nok, 0.5),
               1e3 * rank(ok, nok, 0.99), 1e3 * ok[0], 1e3 * ok[nok - 1]);
    if (b->pair_warm >= 0)
        report_pairs(b);
    if (b->from_first >= 0)
        printf(" from_first_s=%.4f", b->from_first);
    if (b->flood > 0)
        printf(" flood=%d flood_zone=%s flood_n=%ld flood_refused=%ld "
               "flood_accepted=%ld flood_max_ms=%.4f",
               b->flood, b->flood_zone, atomic_load(&b->flood_n),
               atomic_load(&b->flood_n) - atomic_load(&b->flood_accepted),
               atomic_load(&b->flood_accepted), 1e3 * b->flood_max);
    printf(" cpu_s=%.3f srv_cpu_s=%.3f maxrss_kb=%ld", cpu, b->srv_cpu,
           peak_rss_kb());
    printf(" dance=%d", dance);
    for (int i = 0; dance && i < NCOUNTERS; i++)
        printf(" %s=%llu", counter_keys[i],
               (unsigned long long)(after[i] - before[i]));
    for (int i = 0; dance && i < NCOUNTERS; i++)
        printf(" total_%s=%llu", counter_keys[i], (unsigned long long)after[i]);
    printf("\n");
    fflush(stdout);
    free(ok);
}

/* ---- the run command ---------------------------------------------------- */

/* usage - the synopsis, exit 2. */
static void usage(void)
{
    fputs("usage: dance-bench pki DIR COUNT [TTL]\n"
          "       dance-bench run --pki DIR [--label L] [--tls 1.2|1.3]\n"
          "           [--n N] [--warmup N] [--ids FIRST:COUNT] [--fresh]\n"
          "           [--prewarm] [--chain-warm ID] [--conc C] [--burst]\n"
          "           [--interval-ms MS] [--pair-warm ID]\n"
          "           [--expect-dance yes|no]\n"
          "           [--flood K --flood-zone ZONE [--flood-label LABEL]\n"
          "            [--flood-ca-signed]]\n"
          "  --flood K: K more clients keep connecting while the measured\n"
          "    ones run, each claiming a fresh name LABEL.f<16 hex>.ZONE\n"
          "    (LABEL default _flood) that has no TLSA record; every one\n"
          "    must be refused (exit 1 if one is accepted).\n"
          "  --flood-ca-signed: their certificates are issued by the\n"
          "    private CA (default: by a CA of their own).\n"
          "  --chain-warm ID: one handshake first, unmeasured; the result\n"
          "    line then also has from_first_s, the time from its start to\n"
          "    the last measured handshake's end.\n",
          stderr);
    exit(2);
}

/* num - a whole number option value, or usage(). */
static long num(const char *s)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 0)
        usage();
    return v;
}

/* parse_run - the options of "run" into b. */
static void parse_run(bench *b, int argc, char **argv)
{
    memset(b, 0, sizeof(*b));
    b->label = "run";
    b->tls = 13;
    b->n = 1000;
    b->id_count = 1;
    b->chain_warm = -1;
    b->pair_warm = -1;
    b->conc = 1;
    b->expect_dance = -1;
    b->flood_label = "_flood";
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(o, "--fresh") == 0) {
            b->fresh = 1;
            continue;
        }
        if (strcmp(o, "--prewarm") == 0) {
            b->prewarm = 1;
            continue;
        }
        if (strcmp(o, "--burst") == 0) {
            b->burst = 1;
            continue;
        }
        if (strcmp(o, "--flood-ca-signed") == 0) {
            b->flood_ca_signed = 1;
            continue;
        }
        if (v == NULL)
            usage();
        i++;
        if (strcmp(o, "--pki") == 0)
            b->pki = v;
        else if (strcmp(o, "--label") == 0)
            b->label = v;
        else if (strcmp(o, "--tls") == 0)
            b->tls = strcmp(v, "1.2") == 0   ? 12
                     : strcmp(v, "1.3") == 0 ? 13
                                             : (usage(), 0);
        else if (strcmp(o, "--n") == 0)
            b->n = num(v);
        else if (strcmp(o, "--warmup") == 0)
            b->warmup = num(v);
        else if (strcmp(o, "--ids") == 0) {
            const char *colon = strchr(v, ':');
            char first[32];

            if (colon == NULL || (size_t)(colon - v) >= sizeof(first))
                usage();
            memcpy(first, v, (size_t)(colon - v));
            first[colon - v] = '\0';
            b->id_first = num(first);
            b->id_count = num(colon + 1);
        } else if (strcmp(o, "--chain-warm") == 0)
            b->chain_warm = num(v);
        else if (strcmp(o, "--conc") == 0)
            b->conc = (int)num(v);
        else if (strcmp(o, "--interval-ms") == 0)
            b->interval_ms = num(v);
        else if (strcmp(o, "--pair-warm") == 0)
            b->pair_warm = num(v);
        else if (strcmp(o, "--flood") == 0)
            b->flood = (int)num(v);
        else if (strcmp(o, "--flood-zone") == 0)
            b->flood_zone = v;
        else if (strcmp(o, "--flood-label") == 0)
            b->flood_label = v;
        else if (strcmp(o, "--expect-dance") == 0)
            b->expect_dance = strcmp(v, "yes") == 0  ? 1
                              : strcmp(v, "no") == 0 ? 0
                                                     : (usage(), 0);
        else
            usage();
    }
    if (b->pki == NULL || b->n < 1 || b->id_count < 1 || b->conc < 1 ||
        b->conc > MAX_THREADS || (b->pair_warm >= 0 && b->conc != 1) ||
        b->flood > MAX_THREADS - b->conc ||
        (b->flood > 0) != (b->flood_zone != NULL) ||
        (b->flood_ca_signed && b->flood == 0))
        usage();
    if (b->fresh && b->id_count < b->n)
        b->id_count = b->n; /* one new identity per sample */
}

/* cmd_run - the "run" command. */
static int cmd_run(int argc, char **argv)
{
    bench b;
    pthread_t servers[MAX_THREADS], clients[MAX_THREADS], floods[MAX_THREADS];
    uint64_t before[NCOUNTERS], after[NCOUNTERS];
    int dance, failed = 0, nservers;
    double t0, t_first, wall, cpu0, cpu;

    parse_run(&b, argc, argv);
    /* Creating the SSL_CTXs loads openssl.cnf, and with it the provider. */
    setup_tls(&b);
    dance = read_counters(before);
    if (b.expect_dance >= 0 && dance != b.expect_dance) {
        fprintf(stderr,
                "dance-bench: the dance provider is %s, expected %s "
                "(OPENSSL_CONF?)\n",
                dance ? "active" : "not active",
                b.expect_dance ? "active" : "absent");
        return 2;
    }
    load_ids(&b);
    if (b.id_first + b.id_count > b.nids ||
        (b.chain_warm >= 0 && b.chain_warm >= b.nids) ||
        (b.pair_warm >= 0 && b.pair_warm >= b.nids)) {
        fprintf(stderr,
                "dance-bench: identities %ld..%ld asked, %ld in "
                "ids.pem\n",
                b.id_first, b.id_first + b.id_count - 1, b.nids);
        return 2;
    }
    if (b.flood_ca_signed)
        load_ca_key(&b);
    b.lat = calloc((size_t)b.n, sizeof(*b.lat));
    b.pair = calloc((size_t)b.n, sizeof(*b.pair));
    if (b.lat == NULL || b.pair == NULL ||
        pthread_barrier_init(&b.start, NULL, (unsigned)b.conc) != 0 ||
        pthread_mutex_init(&b.flood_lock, NULL) != 0 ||
        pthread_barrier_init(&b.flood_ready, NULL, (unsigned)b.flood + 1) != 0)
        die("out of memory");
    /* A server thread per client, flood clients included: a flood
     * handshake holds its thread while the server waits for DNS. */
    nservers = b.conc + b.flood;
    for (int i = 0; i < nservers; i++)
        if (pthread_create(&servers[i], NULL, server_main, &b) != 0)
            die("cannot start a server thread");

    b.from_first = -1;
    t_first = now_s();
    if (b.chain_warm >= 0)
        unmeasured(&b, b.chain_warm, "chain warm-up");
    if (b.pair_warm >= 0)
        unmeasured(&b, b.pair_warm, "pair warm-up");
    if (b.prewarm)
        for (long i = 0; i < b.id_count; i++)
            unmeasured(&b, b.id_first + i, "pre-warm");
    for (long i = 0; i < b.warmup; i++)
        unmeasured(&b, b.id_first + i % b.id_count, "warm-up");

    /* The flood is running before the measured phase starts: on a busy
     * machine a new thread can wait seconds for its first time slice. */
    for (int i = 0; i < b.flood; i++)
        if (pthread_create(&floods[i], NULL, flood_main, &b) != 0)
            die("cannot start a flood thread");
    pthread_barrier_wait(&b.flood_ready);
    read_counters(before);
    cpu0 = cpu_s();
    b.srv_cpu = -threads_cpu_s(servers, nservers);
    t0 = now_s();
    for (int i = 0; i < b.conc; i++)
        if (pthread_create(&clients[i], NULL, client_main, &b) != 0)
            die("cannot start a client thread");
    for (int i = 0; i < b.conc; i++)
        pthread_join(clients[i], NULL);
    wall = now_s() - t0;
    if (b.chain_warm >= 0)
        b.from_first = now_s() - t_first;
    cpu = cpu_s() - cpu0;
    b.srv_cpu += threads_cpu_s(servers, nservers);
    read_counters(after);
    /* The flood ends with the measured clients (each flood thread ends
     * its handshake under way first). */
    atomic_store(&b.flood_stop, 1);
    for (int i = 0; i < b.flood; i++)
        pthread_join(floods[i], NULL);

    atomic_store(&b.stop, 1);
    shutdown(b.lfd, SHUT_RDWR); /* wakes the servers blocked in accept() */
    for (int i = 0; i < nservers; i++)
        pthread_join(servers[i], NULL);
    close(b.lfd);
    report(&b, wall, cpu, before, after, dance);
    for (long i = 0; i < b.n; i++)
        failed += b.lat[i] < 0;
    if (failed > 0)
        fprintf(stderr, "dance-bench: %s: %d of %ld handshakes failed\n",
                b.label, failed, b.n);
    if (atomic_load(&b.flood_accepted) > 0) {
        fprintf(stderr,
                "dance-bench: %s: SECURITY: %ld of %ld flood handshakes "
                "(unknown names) were accepted\n",
                b.label, atomic_load(&b.flood_accepted),
                atomic_load(&b.flood_n));
        failed++;
    }

    for (long i = 0; i < b.nids; i++) {
        EVP_PKEY_free(b.ids[i].key);
        X509_free(b.ids[i].cert);
    }
    free(b.ids);
    free(b.lat);
    free(b.pair);
    EVP_PKEY_free(b.ca_key);
    X509_free(b.ca_cert);
    pthread_mutex_destroy(&b.flood_lock);
    pthread_barrier_destroy(&b.flood_ready);
    pthread_barrier_destroy(&b.start);
    SSL_CTX_free(b.sctx);
    SSL_CTX_free(b.cctx);
    return failed > 0 ? 1 : 0;
}

/* main - dispatch to the pki or run command. */
int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "pki") == 0)
        return cmd_pki(argv[2], num(argv[3]), argc >= 5 ? num(argv[4]) : 300);
    if (argc >= 2 && strcmp(argv[1], "run") == 0)
        return cmd_run(argc, argv);
    usage();
    return 2;
}
