/* SPDX-License-Identifier: Apache-2.0 */
/*
 * faultproxy.c - a DNS relay that injects faults, for the test DNS world.
 *
 * It listens on UDP and TCP and relays each query to one upstream server
 * (UDP to UDP, TCP to TCP).  What it does with a query depends on the
 * leftmost label of the query name:
 *
 *   servfail  answer SERVFAIL itself (same ID, question echoed)
 *   silent    never answer
 *   garbage   answer with the query's ID followed by random bytes
 *   tc        over UDP answer with TC set and no records; over TCP relay
 *   strip     relay, then remove every RRSIG from the answer
 *   retarget  relay, then drop the leftmost label of every answer-section
 *             CNAME target that starts with "retarget" (a forged
 *             DNAME-synthesised CNAME: retarget.X -> retarget.Y becomes
 *             retarget.X -> Y; the CNAME is unsigned, so nothing else
 *             betrays it)
 *   other     relay verbatim
 *
 * These are the answers a real server cannot be made to give on demand, so
 * the resolver's handling of them can be tested against real servers.
 *
 * Every query is handled on its own thread (up to a cap), so --delay-ms
 * delays each answer without serialising the others; that also makes the
 * proxy usable as a slow, far-away resolver in benchmarks.  All state lives
 * in one context struct owned by main(); the mutable parts are guarded by
 * its locks or are atomics.  Packets from clients and from upstream are
 * validated before use; anything malformed is dropped.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#define DNS_HDR_LEN 12
#define DNS_MAX_MSG 65535
#define GARBAGE_LEN 40
#define MAX_INFLIGHT 512  /* concurrent query threads, UDP and TCP */
#define MAX_TCP_CONNS 128 /* concurrent client TCP connections */
#define TCP_IDLE_MS 10000 /* close a client TCP connection idle this long */
#define POLL_TICK_MS 200  /* how often listeners look at the stop flag */
#define THREAD_STACK (256 * 1024)

typedef enum {
    ACT_FORWARD = 0,
    ACT_SERVFAIL,
    ACT_SILENT,
    ACT_GARBAGE,
    ACT_TC,
    ACT_STRIP,
    ACT_RETARGET
} fp_action;

typedef enum { TR_UDP = 0, TR_TCP } fp_transport;

/* Shared state, created by main() and passed to every thread. */
typedef struct {
    struct sockaddr_storage listen_addr;
    socklen_t listen_len;
    struct sockaddr_storage up_addr;
    socklen_t up_len;
    unsigned delay_ms;
    unsigned timeout_ms;
    int udp_fd;
    int tcp_fd;
    atomic_int stop;

    pthread_mutex_t log_lock; /* guards log */
    FILE *log;

    pthread_mutex_t slot_lock; /* guards inflight, tcp_conns */
    pthread_cond_t slot_cond;
    int inflight;
    int tcp_conns;
} fp_ctx;

/* One UDP query handed to a worker thread; the worker frees it. */
typedef struct {
    fp_ctx *ctx;
    struct sockaddr_storage from;
    socklen_t from_len;
    size_t len;
    uint8_t msg[];
} fp_udp_job;

/* One accepted TCP client connection; the connection thread frees it. */
typedef struct {
    fp_ctx *ctx;
    int fd;
} fp_tcp_job;

/* action_str - the name of an action as written to the log. */
static const char *action_str(fp_action act)
{
    switch (act) {
    case ACT_FORWARD:
        return "forward";
    case ACT_SERVFAIL:
        return "servfail";
    case ACT_SILENT:
        return "silent";
    case ACT_GARBAGE:
        return "garbage";
    case ACT_TC:
        return "tc";
    case ACT_STRIP:
        return "strip";
    case ACT_RETARGET:
        return "retarget";
    }
    return "?";
}

/* die - print a message to stderr and exit; used during start-up only. */
static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    fputs("faultproxy: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* usage - print the command line synopsis to `out`. */
static void usage(FILE *out)
{
    fputs("usage: faultproxy [-l ADDR] -p PORT -u ADDR@PORT [--delay-ms N]\n"
          "                  [--timeout-ms N] [--log FILE] [--pidfile FILE]\n"
          "       faultproxy --free-port [-l ADDR]\n"
          "Relays DNS over UDP and TCP from ADDR:PORT (default 127.0.0.1) to\n"
          "the upstream, acting on the query name's leftmost label:\n"
          "servfail, silent, garbage, tc (UDP only), strip (RRSIGs removed),\n"
          "retarget (CNAME targets lose a leading 'retarget' label).\n"
          "--free-port prints a port free for both UDP and TCP and exits.\n",
          out);
}

/* parse_uint - parse a decimal number in [min, max]; 1 on success. */
static int parse_uint(const char *s, unsigned long min, unsigned long max,
                      unsigned long *out)
{
    char *end = NULL;
    unsigned long v;

    if (s == NULL || *s < '0' || *s > '9')
        return 0;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return 0;
    *out = v;
    return 1;
}

/* parse_addr - fill `ss` from an IPv4/IPv6 literal and a port; 1 on success. */
static int parse_addr(const char *ip, unsigned port,
                      struct sockaddr_storage *ss, socklen_t *len)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        *len = sizeof(*sin);
        return 1;
    }
    if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        *len = sizeof(*sin6);
        return 1;
    }
    return 0;
}

/* parse_upstream - parse "IP@PORT" (port defaults to 53); 1 on success. */
static int parse_upstream(const char *arg, struct sockaddr_storage *ss,
                          socklen_t *len)
{
    char ip[INET6_ADDRSTRLEN + 1];
    const char *at = strchr(arg, '@');
    size_t iplen = at != NULL ? (size_t)(at - arg) : strlen(arg);
    unsigned long port = 53;

    if (iplen == 0 || iplen >= sizeof(ip))
        return 0;
    memcpy(ip, arg, iplen);
    ip[iplen] = '\0';
    if (at != NULL && !parse_uint(at + 1, 1, 65535, &port))
        return 0;
    return parse_addr(ip, (unsigned)port, ss, len);
}

/* set_port - change the port of a socket address in place. */
static void set_port(struct sockaddr_storage *ss, unsigned port)
{
    if (ss->ss_family == AF_INET)
        ((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
    else
        ((struct sockaddr_in6 *)ss)->sin6_port = htons((uint16_t)port);
}

/* get_port - the port of a socket address. */
static unsigned get_port(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)ss)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
}

/* bind_socket - a socket of `type` bound to `addr`, or -1 (errno kept). */
static int bind_socket(int type, const struct sockaddr_storage *addr,
                       socklen_t len)
{
    int fd = socket(addr->ss_family, type | SOCK_CLOEXEC, 0);
    int one = 1;
    int saved;

    if (fd < 0)
        return -1;
    if (type == SOCK_STREAM)
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)addr, len) != 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* free_port - find a port free for UDP and TCP on `addr`; 0 on failure. */
static unsigned free_port(const struct sockaddr_storage *addr, socklen_t len)
{
    struct sockaddr_storage a = *addr;
    struct sockaddr_storage got;
    socklen_t got_len;
    unsigned port = 0;
    int tries;

    for (tries = 0; tries < 100 && port == 0; tries++) {
        int ufd, tfd;

        set_port(&a, 0);
        ufd = bind_socket(SOCK_DGRAM, &a, len);
        if (ufd < 0)
            return 0;
        got_len = sizeof(got);
        if (getsockname(ufd, (struct sockaddr *)&got, &got_len) == 0) {
            set_port(&a, get_port(&got));
            tfd = bind_socket(SOCK_STREAM, &a, len);
            if (tfd >= 0) {
                port = get_port(&got);
                close(tfd);
            }
        }
        close(ufd);
    }
    return port;
}

/* sleep_ms - sleep `ms` milliseconds, resuming after signal interruptions. */
static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (long)(ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* now_ms - a monotonic clock in milliseconds. */
static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* wait_fd - poll one fd for `events` until `deadline` (now_ms); 1 if ready. */
static int wait_fd(int fd, short events, long long deadline)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = events, .revents = 0};
        long long left = deadline - now_ms();
        int rc;

        if (left <= 0)
            return 0;
        rc = poll(&p, 1, left > INT_MAX ? INT_MAX : (int)left);
        if (rc > 0)
            return 1;
        if (rc == 0)
            return 0;
        if (errno != EINTR)
            return 0;
    }
}

/* read_full - read exactly `len` bytes before `deadline`; 1 on success. */
static int read_full(int fd, uint8_t *buf, size_t len, long long deadline)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n;

        if (!wait_fd(fd, POLLIN, deadline))
            return 0;
        n = recv(fd, buf + done, len - done, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        done += (size_t)n;
    }
    return 1;
}

/* write_full - write all `len` bytes before `deadline`; 1 on success. */
static int write_full(int fd, const uint8_t *buf, size_t len,
                      long long deadline)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n;

        if (!wait_fd(fd, POLLOUT, deadline))
            return 0;
        n = send(fd, buf + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 0;
        done += (size_t)n;
    }
    return 1;
}

/* tcp_read_msg - read one length-prefixed DNS message; its length or 0. */
static size_t tcp_read_msg(int fd, uint8_t *buf, long long deadline)
{
    uint8_t lenbuf[2];
    size_t len;

    if (!read_full(fd, lenbuf, 2, deadline))
        return 0;
    len = ((size_t)lenbuf[0] << 8) | lenbuf[1];
    if (len == 0 || !read_full(fd, buf, len, deadline))
        return 0;
    return len;
}

/* tcp_write_msg - write one length-prefixed DNS message; 1 on success. */
static int tcp_write_msg(int fd, const uint8_t *msg, size_t len,
                         long long deadline)
{
    uint8_t lenbuf[2];

    if (len > DNS_MAX_MSG)
        return 0;
    lenbuf[0] = (uint8_t)(len >> 8);
    lenbuf[1] = (uint8_t)len;
    return write_full(fd, lenbuf, 2, deadline) &&
           write_full(fd, msg, len, deadline);
}

/* log_query - append one "<transport> <qname> <qtype> <action>" line. */
static void log_query(fp_ctx *ctx, fp_transport tr, const ldns_rr *q,
                      fp_action act)
{
    char *name;
    char *type;

    name = ldns_rdf2str(ldns_rr_owner(q));
    type = ldns_rr_type2str(ldns_rr_get_type(q));
    pthread_mutex_lock(&ctx->log_lock);
    if (ctx->log != NULL) {
        fprintf(ctx->log, "%s %s %s %s\n", tr == TR_UDP ? "udp" : "tcp",
                name != NULL ? name : "?", type != NULL ? type : "?",
                action_str(act));
        fflush(ctx->log);
    }
    pthread_mutex_unlock(&ctx->log_lock);
    free(name);
    free(type);
}

/* classify - the action for a query, from its name's leftmost label. */
static fp_action classify(const ldns_rr *q, fp_transport tr)
{
    static const struct {
        const char *label;
        fp_action act;
    } table[] = {{"servfail", ACT_SERVFAIL}, {"silent", ACT_SILENT},
                 {"garbage", ACT_GARBAGE},   {"tc", ACT_TC},
                 {"strip", ACT_STRIP},       {"retarget", ACT_RETARGET}};
    const ldns_rdf *owner = ldns_rr_owner(q);
    const uint8_t *wire;
    size_t i, llen;

    if (owner == NULL || ldns_rdf_size(owner) < 2)
        return ACT_FORWARD; /* the root: no label */
    wire = ldns_rdf_data(owner);
    llen = wire[0];
    if (llen == 0 || llen + 1 > ldns_rdf_size(owner))
        return ACT_FORWARD;
    for (i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        if (strlen(table[i].label) == llen &&
            strncasecmp((const char *)wire + 1, table[i].label, llen) == 0) {
            if (table[i].act == ACT_TC && tr == TR_TCP)
                return ACT_FORWARD;
            return table[i].act;
        }
    }
    return ACT_FORWARD;
}

/* parse_query - parse and check a client query; the packet or NULL. */
static ldns_pkt *parse_query(const uint8_t *msg, size_t len)
{
    ldns_pkt *pkt = NULL;

    if (len < DNS_HDR_LEN || len > DNS_MAX_MSG)
        return NULL;
    if (ldns_wire2pkt(&pkt, msg, len) != LDNS_STATUS_OK)
        return NULL;
    if (ldns_pkt_qr(pkt) || ldns_pkt_get_opcode(pkt) != LDNS_PACKET_QUERY ||
        ldns_pkt_qdcount(pkt) != 1 ||
        ldns_rr_list_rr_count(ldns_pkt_question(pkt)) != 1) {
        ldns_pkt_free(pkt);
        return NULL;
    }
    return pkt;
}

/* make_reply - a reply to `query` with `rcode`, its question and no records;
 * TC set if `tc`.  Writes malloc'ed wire data to *out (caller frees). */
static int make_reply(const ldns_pkt *query, uint8_t rcode, int tc,
                      uint8_t **out, size_t *outlen)
{
    ldns_pkt *r = ldns_pkt_new();
    ldns_rr *q;
    int ok = 0;

    if (r == NULL)
        return 0;
    q = ldns_rr_clone(ldns_rr_list_rr(ldns_pkt_question(query), 0));
    if (q == NULL)
        goto done;
    ldns_pkt_set_id(r, ldns_pkt_id(query));
    ldns_pkt_set_qr(r, true);
    ldns_pkt_set_opcode(r, LDNS_PACKET_QUERY);
    ldns_pkt_set_rd(r, ldns_pkt_rd(query));
    ldns_pkt_set_cd(r, ldns_pkt_cd(query));
    ldns_pkt_set_tc(r, tc != 0);
    ldns_pkt_set_rcode(r, rcode);
    if (!ldns_pkt_push_rr(r, LDNS_SECTION_QUESTION, q)) {
        ldns_rr_free(q);
        goto done;
    }
    if (ldns_pkt_edns(query)) {
        ldns_pkt_set_edns_udp_size(r, 1232);
        ldns_pkt_set_edns_do(r, ldns_pkt_edns_do(query));
    }
    ok = ldns_pkt2wire(out, r, outlen) == LDNS_STATUS_OK;
done:
    ldns_pkt_free(r);
    return ok;
}

/* make_garbage - the query's ID and random bytes (caller frees *out). */
static int make_garbage(const uint8_t *query, uint8_t **out, size_t *outlen)
{
    uint8_t *g = malloc(2 + GARBAGE_LEN);
    size_t i;

    if (g == NULL)
        return 0;
    g[0] = query[0];
    g[1] = query[1];
    if (getrandom(g + 2, GARBAGE_LEN, 0) != GARBAGE_LEN) {
        /* Any bytes will do; they need not be unpredictable. */
        for (i = 0; i < GARBAGE_LEN; i++)
            g[2 + i] = (uint8_t)(i * 151u + 17u);
    }
    /* Flags say "response to a standard query", so a client that checks
     * only the ID and the QR bit has to find out from parsing. */
    g[2] = (uint8_t)(0x80 | (g[2] & 0x07));
    *out = g;
    *outlen = 2 + GARBAGE_LEN;
    return 1;
}

/* strip_list - a deep copy of `in` without its RRSIG records, or NULL. */
static ldns_rr_list *strip_list(const ldns_rr_list *in)
{
    ldns_rr_list *out = ldns_rr_list_new();
    size_t i;

    if (out == NULL)
        return NULL;
    for (i = 0; i < ldns_rr_list_rr_count(in); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(in, i);
        ldns_rr *c;

        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG)
            continue;
        c = ldns_rr_clone(rr);
        if (c == NULL || !ldns_rr_list_push_rr(out, c)) {
            ldns_rr_free(c);
            ldns_rr_list_deep_free(out);
            return NULL;
        }
    }
    return out;
}

/* strip_rrsigs - re-encode a reply without any RRSIG (caller frees *out). */
static int strip_rrsigs(const uint8_t *msg, size_t len, uint8_t **out,
                        size_t *outlen)
{
    ldns_pkt *p = NULL;
    ldns_rr_list *an = NULL, *ns = NULL, *ar = NULL;
    int ok = 0;

    if (ldns_wire2pkt(&p, msg, len) != LDNS_STATUS_OK)
        return 0;
    an = strip_list(ldns_pkt_answer(p));
    ns = strip_list(ldns_pkt_authority(p));
    ar = strip_list(ldns_pkt_additional(p));
    if (an == NULL || ns == NULL || ar == NULL)
        goto done;
    ldns_rr_list_deep_free(ldns_pkt_answer(p));
    ldns_pkt_set_answer(p, an);
    ldns_pkt_set_ancount(p, (uint16_t)ldns_rr_list_rr_count(an));
    ldns_rr_list_deep_free(ldns_pkt_authority(p));
    ldns_pkt_set_authority(p, ns);
    ldns_pkt_set_nscount(p, (uint16_t)ldns_rr_list_rr_count(ns));
    ldns_rr_list_deep_free(ldns_pkt_additional(p));
    ldns_pkt_set_additional(p, ar);
    ldns_pkt_set_arcount(p, (uint16_t)ldns_rr_list_rr_count(ar));
    an = ns = ar = NULL;
    ok = ldns_pkt2wire(out, p, outlen) == LDNS_STATUS_OK;
done:
    ldns_rr_list_deep_free(an);
    ldns_rr_list_deep_free(ns);
    ldns_rr_list_deep_free(ar);
    ldns_pkt_free(p);
    return ok;
}

/* retarget_cnames - re-encode a reply whose answer-section CNAME targets
 * lose a leftmost "retarget" label (caller frees *out). */
static int retarget_cnames(const uint8_t *msg, size_t len, uint8_t **out,
                           size_t *outlen)
{
    static const char label[] = "retarget";
    ldns_pkt *p = NULL;
    ldns_rr_list *an;
    int ok = 0;

    if (ldns_wire2pkt(&p, msg, len) != LDNS_STATUS_OK)
        return 0;
    an = ldns_pkt_answer(p);
    for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++) {
        ldns_rr *rr = ldns_rr_list_rr(an, i);
        ldns_rdf *target, *chopped;
        const uint8_t *wire;

        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_CNAME ||
            ldns_rr_rd_count(rr) != 1)
            continue;
        target = ldns_rr_rdf(rr, 0);
        wire = ldns_rdf_data(target);
        if (ldns_rdf_size(target) < sizeof(label) + 1 ||
            wire[0] != sizeof(label) - 1 ||
            strncasecmp((const char *)wire + 1, label, sizeof(label) - 1) != 0)
            continue;
        chopped = ldns_dname_left_chop(target);
        if (chopped == NULL)
            goto done;
        ldns_rdf_deep_free(ldns_rr_set_rdf(rr, chopped, 0));
    }
    ok = ldns_pkt2wire(out, p, outlen) == LDNS_STATUS_OK;
done:
    ldns_pkt_free(p);
    return ok;
}

/* reply_matches - 1 if `reply` looks like the answer to `query`. */
static int reply_matches(const uint8_t *query, const uint8_t *reply,
                         size_t rlen)
{
    return rlen >= DNS_HDR_LEN && reply[0] == query[0] &&
           reply[1] == query[1] && (reply[2] & 0x80) != 0;
}

/* forward_udp - relay a query over UDP; malloc'ed reply in *out, or 0. */
static int forward_udp(fp_ctx *ctx, const uint8_t *msg, size_t len,
                       uint8_t **out, size_t *outlen)
{
    long long deadline = now_ms() + ctx->timeout_ms;
    uint8_t *buf = malloc(DNS_MAX_MSG);
    int fd = -1;
    int ok = 0;

    if (buf == NULL)
        return 0;
    fd = socket(ctx->up_addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 ||
        connect(fd, (struct sockaddr *)&ctx->up_addr, ctx->up_len) != 0 ||
        send(fd, msg, len, 0) != (ssize_t)len)
        goto done;
    while (wait_fd(fd, POLLIN, deadline)) {
        ssize_t n = recv(fd, buf, DNS_MAX_MSG, 0);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            break;
        if (reply_matches(msg, buf, (size_t)n)) {
            *out = buf;
            *outlen = (size_t)n;
            buf = NULL;
            ok = 1;
            break;
        }
        /* a stray datagram: keep waiting for ours */
    }
done:
    if (fd >= 0)
        close(fd);
    free(buf);
    return ok;
}

/* forward_tcp - relay a query over TCP; malloc'ed reply in *out, or 0. */
static int forward_tcp(fp_ctx *ctx, const uint8_t *msg, size_t len,
                       uint8_t **out, size_t *outlen)
{
    long long deadline = now_ms() + ctx->timeout_ms;
    uint8_t *buf = malloc(DNS_MAX_MSG);
    int fd = -1;
    int ok = 0;
    size_t n;

    if (buf == NULL)
        return 0;
    fd = socket(ctx->up_addr.ss_family,
                SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        goto done;
    if (connect(fd, (struct sockaddr *)&ctx->up_addr, ctx->up_len) != 0) {
        int err = 0;
        socklen_t elen = sizeof(err);

        if (errno != EINPROGRESS || !wait_fd(fd, POLLOUT, deadline) ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0)
            goto done;
    }
    if (!tcp_write_msg(fd, msg, len, deadline))
        goto done;
    n = tcp_read_msg(fd, buf, deadline);
    if (n == 0 || !reply_matches(msg, buf, n))
        goto done;
    *out = buf;
    *outlen = n;
    buf = NULL;
    ok = 1;
done:
    if (fd >= 0)
        close(fd);
    free(buf);
    return ok;
}

/* handle_query - decide and build the reply to one client query.
 * Returns 1 with a malloc'ed reply in *out (caller frees), 0 for none. */
static int handle_query(fp_ctx *ctx, fp_transport tr, const uint8_t *msg,
                        size_t len, uint8_t **out, size_t *outlen)
{
    ldns_pkt *query = parse_query(msg, len);
    const ldns_rr *q;
    fp_action act;
    uint8_t *fwd = NULL;
    size_t fwdlen = 0;
    int ok = 0;

    if (query == NULL)
        return 0; /* malformed: drop */
    q = ldns_rr_list_rr(ldns_pkt_question(query), 0);
    act = classify(q, tr);
    log_query(ctx, tr, q, act);

    switch (act) {
    case ACT_SILENT:
        break;
    case ACT_SERVFAIL:
        ok = make_reply(query, LDNS_RCODE_SERVFAIL, 0, out, outlen);
        break;
    case ACT_TC:
        ok = make_reply(query, LDNS_RCODE_NOERROR, 1, out, outlen);
        break;
    case ACT_GARBAGE:
        ok = make_garbage(msg, out, outlen);
        break;
    case ACT_STRIP:
    case ACT_RETARGET:
    case ACT_FORWARD:
        if (tr == TR_UDP)
            ok = forward_udp(ctx, msg, len, &fwd, &fwdlen);
        else
            ok = forward_tcp(ctx, msg, len, &fwd, &fwdlen);
        if (ok && act == ACT_STRIP) {
            ok = strip_rrsigs(fwd, fwdlen, out, outlen);
            free(fwd);
        } else if (ok && act == ACT_RETARGET) {
            ok = retarget_cnames(fwd, fwdlen, out, outlen);
            free(fwd);
        } else if (ok) {
            *out = fwd;
            *outlen = fwdlen;
        }
        break;
    }
    ldns_pkt_free(query);
    if (ok && ctx->delay_ms > 0)
        sleep_ms(ctx->delay_ms);
    return ok;
}

/* slot_acquire - wait for a free query slot; 0 if stopping instead. */
static int slot_acquire(fp_ctx *ctx)
{
    int ok;

    pthread_mutex_lock(&ctx->slot_lock);
    while (ctx->inflight >= MAX_INFLIGHT && !atomic_load(&ctx->stop))
        pthread_cond_wait(&ctx->slot_cond, &ctx->slot_lock);
    ok = !atomic_load(&ctx->stop);
    if (ok)
        ctx->inflight++;
    pthread_mutex_unlock(&ctx->slot_lock);
    return ok;
}

/* slot_release - give back a query slot taken with slot_acquire. */
static void slot_release(fp_ctx *ctx)
{
    pthread_mutex_lock(&ctx->slot_lock);
    ctx->inflight--;
    pthread_cond_broadcast(&ctx->slot_cond);
    pthread_mutex_unlock(&ctx->slot_lock);
}

/* spawn_detached - start a detached thread with a small stack; 1 on success. */
static int spawn_detached(void *(*fn)(void *), void *arg)
{
    pthread_attr_t attr;
    pthread_t tid;
    int rc;

    if (pthread_attr_init(&attr) != 0)
        return 0;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, THREAD_STACK);
    rc = pthread_create(&tid, &attr, fn, arg);
    pthread_attr_destroy(&attr);
    return rc == 0;
}

/* udp_worker - answer one UDP query (thread body; frees its job). */
static void *udp_worker(void *arg)
{
    fp_udp_job *job = arg;
    fp_ctx *ctx = job->ctx;
    uint8_t *reply = NULL;
    size_t rlen = 0;

    if (handle_query(ctx, TR_UDP, job->msg, job->len, &reply, &rlen) &&
        !atomic_load(&ctx->stop))
        (void)sendto(ctx->udp_fd, reply, rlen, 0, (struct sockaddr *)&job->from,
                     job->from_len);
    free(reply);
    free(job);
    slot_release(ctx);
    return NULL;
}

/* udp_listener - receive UDP queries and hand each to a worker thread. */
static void *udp_listener(void *arg)
{
    fp_ctx *ctx = arg;
    uint8_t *buf = malloc(DNS_MAX_MSG);

    if (buf == NULL)
        return NULL;
    while (!atomic_load(&ctx->stop)) {
        struct sockaddr_storage from;
        socklen_t from_len = sizeof(from);
        fp_udp_job *job;
        ssize_t n;

        if (!wait_fd(ctx->udp_fd, POLLIN, now_ms() + POLL_TICK_MS))
            continue;
        n = recvfrom(ctx->udp_fd, buf, DNS_MAX_MSG, 0, (struct sockaddr *)&from,
                     &from_len);
        if (n < DNS_HDR_LEN)
            continue; /* error or too short to be a query */
        if (!slot_acquire(ctx))
            break;
        job = malloc(sizeof(*job) + (size_t)n);
        if (job == NULL) {
            slot_release(ctx);
            continue;
        }
        job->ctx = ctx;
        job->from = from;
        job->from_len = from_len;
        job->len = (size_t)n;
        memcpy(job->msg, buf, (size_t)n);
        if (!spawn_detached(udp_worker, job)) {
            free(job);
            slot_release(ctx);
        }
    }
    free(buf);
    return NULL;
}

/* tcp_conn - serve the queries of one client TCP connection, in order. */
static void *tcp_conn(void *arg)
{
    fp_tcp_job *job = arg;
    fp_ctx *ctx = job->ctx;
    uint8_t *buf = malloc(DNS_MAX_MSG);

    while (buf != NULL && !atomic_load(&ctx->stop)) {
        uint8_t *reply = NULL;
        size_t rlen = 0, n;
        int ok;

        n = tcp_read_msg(job->fd, buf, now_ms() + TCP_IDLE_MS);
        if (n == 0)
            break;
        if (!slot_acquire(ctx))
            break;
        ok = handle_query(ctx, TR_TCP, buf, n, &reply, &rlen);
        slot_release(ctx);
        if (ok &&
            !tcp_write_msg(job->fd, reply, rlen, now_ms() + ctx->timeout_ms)) {
            free(reply);
            break;
        }
        free(reply);
    }
    free(buf);
    close(job->fd);
    pthread_mutex_lock(&ctx->slot_lock);
    ctx->tcp_conns--;
    pthread_cond_broadcast(&ctx->slot_cond);
    pthread_mutex_unlock(&ctx->slot_lock);
    free(job);
    return NULL;
}

/* tcp_listener - accept client TCP connections, one thread each (capped). */
static void *tcp_listener(void *arg)
{
    fp_ctx *ctx = arg;

    while (!atomic_load(&ctx->stop)) {
        fp_tcp_job *job;
        int fd, full;

        if (!wait_fd(ctx->tcp_fd, POLLIN, now_ms() + POLL_TICK_MS))
            continue;
        fd = accept(ctx->tcp_fd, NULL, NULL);
        if (fd < 0)
            continue;
        (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
        pthread_mutex_lock(&ctx->slot_lock);
        full = ctx->tcp_conns >= MAX_TCP_CONNS;
        if (!full)
            ctx->tcp_conns++;
        pthread_mutex_unlock(&ctx->slot_lock);
        if (full) {
            close(fd);
            continue;
        }
        job = malloc(sizeof(*job));
        if (job != NULL) {
            job->ctx = ctx;
            job->fd = fd;
            if (spawn_detached(tcp_conn, job))
                continue;
            free(job);
        }
        close(fd);
        pthread_mutex_lock(&ctx->slot_lock);
        ctx->tcp_conns--;
        pthread_mutex_unlock(&ctx->slot_lock);
    }
    return NULL;
}

/* wait_idle - wait up to `ms` for in-flight queries and connections to end. */
static void wait_idle(fp_ctx *ctx, unsigned ms)
{
    long long deadline = now_ms() + ms;
    struct timespec ts;

    pthread_mutex_lock(&ctx->slot_lock);
    while ((ctx->inflight > 0 || ctx->tcp_conns > 0) && now_ms() < deadline) {
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&ctx->slot_cond, &ctx->slot_lock, &ts);
    }
    pthread_mutex_unlock(&ctx->slot_lock);
}

/* write_pidfile - write our pid to `path`; 1 on success. */
static int write_pidfile(const char *path)
{
    FILE *f = fopen(path, "w");

    if (f == NULL)
        return 0;
    fprintf(f, "%ld\n", (long)getpid());
    return fclose(f) == 0;
}

/* main - parse options, bind, serve until SIGTERM/SIGINT, clean up. */
int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"delay-ms", required_argument, NULL, 'd'},
        {"timeout-ms", required_argument, NULL, 't'},
        {"log", required_argument, NULL, 'L'},
        {"pidfile", required_argument, NULL, 'P'},
        {"free-port", no_argument, NULL, 'F'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *listen_ip = "127.0.0.1";
    const char *upstream = NULL;
    const char *log_path = NULL;
    const char *pidfile = NULL;
    unsigned long port = 0, val;
    int want_free_port = 0;
    fp_ctx ctx;
    pthread_t udp_tid, tcp_tid;
    sigset_t sigs;
    int opt, sig = 0;

    memset(&ctx, 0, sizeof(ctx));
    ctx.timeout_ms = 3000;
    ctx.udp_fd = ctx.tcp_fd = -1;
    while ((opt = getopt_long(argc, argv, "l:p:u:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'l':
            listen_ip = optarg;
            break;
        case 'p':
            if (!parse_uint(optarg, 1, 65535, &port))
                die("bad port '%s'", optarg);
            break;
        case 'u':
            upstream = optarg;
            break;
        case 'd':
            if (!parse_uint(optarg, 0, 600000, &val))
                die("bad --delay-ms '%s'", optarg);
            ctx.delay_ms = (unsigned)val;
            break;
        case 't':
            if (!parse_uint(optarg, 1, 600000, &val))
                die("bad --timeout-ms '%s'", optarg);
            ctx.timeout_ms = (unsigned)val;
            break;
        case 'L':
            log_path = optarg;
            break;
        case 'P':
            pidfile = optarg;
            break;
        case 'F':
            want_free_port = 1;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    if (!parse_addr(listen_ip, (unsigned)port, &ctx.listen_addr,
                    &ctx.listen_len))
        die("bad listen address '%s'", listen_ip);

    if (want_free_port) {
        unsigned p = free_port(&ctx.listen_addr, ctx.listen_len);

        if (p == 0)
            die("no free port on %s: %s", listen_ip, strerror(errno));
        printf("%u\n", p);
        return 0;
    }
    if (port == 0 || upstream == NULL) {
        usage(stderr);
        return 2;
    }
    if (!parse_upstream(upstream, &ctx.up_addr, &ctx.up_len))
        die("bad upstream '%s' (want IP@PORT)", upstream);

    if (log_path != NULL) {
        ctx.log = fopen(log_path, "ae");
        if (ctx.log == NULL)
            die("cannot open log %s: %s", log_path, strerror(errno));
    }
    ctx.udp_fd = bind_socket(SOCK_DGRAM, &ctx.listen_addr, ctx.listen_len);
    if (ctx.udp_fd < 0)
        die("cannot bind UDP %s port %lu: %s", listen_ip, port,
            strerror(errno));
    ctx.tcp_fd = bind_socket(SOCK_STREAM, &ctx.listen_addr, ctx.listen_len);
    if (ctx.tcp_fd < 0 || listen(ctx.tcp_fd, 64) != 0)
        die("cannot listen on TCP %s port %lu: %s", listen_ip, port,
            strerror(errno));
    if (pidfile != NULL && !write_pidfile(pidfile))
        die("cannot write pidfile %s: %s", pidfile, strerror(errno));

    /* Signals are taken by sigwait() below, never by the other threads. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    pthread_mutex_init(&ctx.log_lock, NULL);
    pthread_mutex_init(&ctx.slot_lock, NULL);
    pthread_cond_init(&ctx.slot_cond, NULL);
    atomic_init(&ctx.stop, 0);
    if (pthread_create(&udp_tid, NULL, udp_listener, &ctx) != 0 ||
        pthread_create(&tcp_tid, NULL, tcp_listener, &ctx) != 0)
        die("cannot start threads");

    while (sigwait(&sigs, &sig) != 0 || sig == SIGHUP)
        ;
    atomic_store(&ctx.stop, 1);
    pthread_mutex_lock(&ctx.slot_lock);
    pthread_cond_broadcast(&ctx.slot_cond);
    pthread_mutex_unlock(&ctx.slot_lock);
    pthread_join(udp_tid, NULL);
    pthread_join(tcp_tid, NULL);
    close(ctx.tcp_fd);
    /* Workers may be asleep in a delay or waiting on upstream; give them a
     * bounded time, then exit anyway (the process takes them down). */
    wait_idle(&ctx, ctx.delay_ms + ctx.timeout_ms + 500);
    if (pidfile != NULL)
        (void)unlink(pidfile);
    if (ctx.log != NULL) {
        pthread_mutex_lock(&ctx.log_lock);
        fclose(ctx.log);
        ctx.log = NULL;
        pthread_mutex_unlock(&ctx.log_lock);
    }
    return 0;
}
