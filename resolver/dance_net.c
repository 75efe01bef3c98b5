/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_net.c - DNS over UDP (EDNS0) with TCP fallback, bounded in time.
 *
 * Sockets are connected to the server, so the kernel drops datagrams from
 * other sources; replies must also match the random query ID and echo the
 * question. Nothing here keeps state between calls: it is thread-safe.
 */
#include "dance_net.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#define EDNS_UDP_SIZE 1232 /* DNS flag day 2020: no IP fragmentation */
#define MAX_REPLY 65535    /* over TCP */
/* Room for one UDP reply: more than the EDNS0 size we advertise. A larger
 * datagram is taken as truncated (asked again over TCP). A small buffer,
 * so that a query allocates no 64 KiB block per exchange (whose every free
 * trimmed a thread's heap). */
#define UDP_REPLY_MAX 4096

/* dance_net_status_str - short name of a transport status. */
const char *dance_net_status_str(dance_net_status status)
{
    switch (status) {
    case DANCE_NET_OK:
        return "ok";
    case DANCE_NET_TIMEOUT:
        return "timeout";
    case DANCE_NET_UNREACHABLE:
        return "unreachable";
    case DANCE_NET_MALFORMED:
        return "malformed reply";
    case DANCE_NET_NOMEM:
        return "out of memory";
    }
    return "unknown";
}

/* The calling thread's scope (see dance_net.h); NULL outside one. A
 * pthread key, not _Thread_local: this code runs in a module loaded with
 * dlopen, where static TLS is a scarce resource of the host process and
 * LeakSanitizer cannot walk it. */
static pthread_once_t scope_once = PTHREAD_ONCE_INIT;
static pthread_key_t scope_key, pre_key;
static int scope_key_ok, pre_key_ok;

/* scope_key_make - create scope_key and pre_key (pthread_once). */
static void scope_key_make(void)
{
    scope_key_ok = pthread_key_create(&scope_key, NULL) == 0;
    pre_key_ok = pthread_key_create(&pre_key, NULL) == 0;
}

/* cur_scope - the calling thread's scope, or NULL. */
static dance_net_scope *cur_scope(void)
{
    pthread_once(&scope_once, scope_key_make);
    return scope_key_ok ? pthread_getspecific(scope_key) : NULL;
}

/* cur_preanswer - the calling thread's answer in hand, or NULL. */
static dance_net_preanswer *cur_preanswer(void)
{
    pthread_once(&scope_once, scope_key_make);
    return pre_key_ok ? pthread_getspecific(pre_key) : NULL;
}

/* dance_net_preanswer_set - see header. */
void dance_net_preanswer_set(dance_net_preanswer *pre)
{
    pthread_once(&scope_once, scope_key_make);
    if (pre_key_ok)
        pthread_setspecific(pre_key, pre);
}

/* dance_net_scope_enter - see header. */
void dance_net_scope_enter(dance_net_scope *scope)
{
    pthread_once(&scope_once, scope_key_make);
    if (scope_key_ok)
        pthread_setspecific(scope_key, scope);
}

/* dance_net_scope_leave - see header. */
void dance_net_scope_leave(void)
{
    dance_net_scope_enter(NULL);
}

/* scope_cancelled - has the current scope's lookup been abandoned? */
static int scope_cancelled(void)
{
    dance_net_scope *scope = cur_scope();

    return scope != NULL && scope->cancelled != NULL &&
           atomic_load(scope->cancelled) != 0;
}

/* dance_net_now_ms - CLOCK_MONOTONIC in milliseconds. */
uint64_t dance_net_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* parse_one_server - "IP" or "IP@PORT" (IPv6 may be bracketed). */
static int parse_one_server(const char *item, dance_net_server *out)
{
    char host[INET6_ADDRSTRLEN + 2];
    const char *at = strchr(item, '@');
    size_t hlen = at != NULL ? (size_t)(at - item) : strlen(item);
    unsigned long port = DANCE_NET_DEFAULT_PORT;
    struct sockaddr_in *sin = (struct sockaddr_in *)&out->addr;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->addr;

    if (hlen == 0 || hlen >= sizeof(host))
        return 0;
    memcpy(host, item, hlen);
    host[hlen] = '\0';
    if (host[0] == '[' && hlen > 2 && host[hlen - 1] == ']') {
        memmove(host, host + 1, hlen - 2);
        host[hlen - 2] = '\0';
    }
    if (at != NULL) {
        char *end = NULL;

        if (!isdigit((unsigned char)at[1]))
            return 0;
        errno = 0;
        port = strtoul(at + 1, &end, 10);
        if (errno != 0 || *end != '\0' || port == 0 || port > 65535)
            return 0;
    }
    memset(out, 0, sizeof(*out));
    if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        sin->sin_port = htons((uint16_t)port);
        out->addrlen = sizeof(*sin);
        return 1;
    }
    if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        sin6->sin6_port = htons((uint16_t)port);
        out->addrlen = sizeof(*sin6);
        return 1;
    }
    return 0;
}

/* dance_net_parse_servers - see header. */
int dance_net_parse_servers(const char *list, dance_net_server *out, size_t *n,
                            char *err, size_t errlen)
{
    const char *p = list;

    *n = 0;
    while (p != NULL && *p != '\0') {
        char item[128];
        size_t len = strcspn(p, ", \t");

        if (len == 0) {
            p++;
            continue;
        }
        if (len >= sizeof(item)) {
            snprintf(err, errlen, "nameserver entry too long: '%.40s...'", p);
            return 0;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        if (*n == DANCE_NET_MAX_SERVERS) {
            snprintf(err, errlen, "more than %d nameservers given",
                     DANCE_NET_MAX_SERVERS);
            return 0;
        }
        if (!parse_one_server(item, &out[*n])) {
            snprintf(err, errlen,
                     "bad nameserver '%s' (expected IP or IP@PORT)", item);
            return 0;
        }
        (*n)++;
        p += len;
    }
    if (*n == 0) {
        snprintf(err, errlen, "no nameserver given");
        return 0;
    }
    return 1;
}

/* dance_net_servers_from_resolv_conf - see header. */
int dance_net_servers_from_resolv_conf(const char *path, dance_net_server *out,
                                       size_t *n, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "r");
    char line[512];

    *n = 0;
    if (fp == NULL) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return 0;
    }
    while (fgets(line, sizeof(line), fp) != NULL &&
           *n < DANCE_NET_MAX_SERVERS) {
        char addr[128];

        /* A zone index (fe80::1%eth0) is not supported; such lines fail
         * to parse and are skipped like any other unusable line. */
        if (sscanf(line, " nameserver %127s", addr) == 1 &&
            parse_one_server(addr, &out[*n]))
            (*n)++;
    }
    fclose(fp);
    if (*n == 0) {
        snprintf(err, errlen, "no usable nameserver line in %s", path);
        return 0;
    }
    return 1;
}

/* dance_net_server_is_loopback - 1 for 127.0.0.0/8 and ::1. */
int dance_net_server_is_loopback(const dance_net_server *server)
{
    if (server->addr.ss_family == AF_INET) {
        const struct sockaddr_in *sin =
            (const struct sockaddr_in *)&server->addr;

        return (ntohl(sin->sin_addr.s_addr) >> 24) == 127;
    }
    if (server->addr.ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 =
            (const struct sockaddr_in6 *)&server->addr;

        return IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr);
    }
    return 0;
}

/* dance_net_server_str - "IP@PORT" into buf. */
char *dance_net_server_str(const dance_net_server *server, char *buf,
                           size_t len)
{
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;

    if (server->addr.ss_family == AF_INET) {
        const struct sockaddr_in *sin =
            (const struct sockaddr_in *)&server->addr;

        inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
        port = ntohs(sin->sin_port);
    } else if (server->addr.ss_family == AF_INET6) {
        const struct sockaddr_in6 *sin6 =
            (const struct sockaddr_in6 *)&server->addr;

        inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
        port = ntohs(sin6->sin6_port);
    }
    snprintf(buf, len, "%s@%u", host, port);
    return buf;
}

/* build_query - wire form of the question with a random ID; caller frees. */
static uint8_t *build_query(const ldns_rdf *qname, ldns_rr_type qtype,
                            const dance_net_params *params, uint16_t *id,
                            size_t *len)
{
    uint16_t flags = LDNS_RD | (params->checking_disabled ? LDNS_CD : 0);
    ldns_pkt *pkt = NULL;
    uint8_t *wire = NULL;

    if (RAND_bytes((unsigned char *)id, sizeof(*id)) != 1)
        return NULL;
    {
        ldns_rdf *owner = ldns_rdf_clone(qname);

        /* The packet owns owner on success; on failure it was not taken. */
        if (owner == NULL)
            return NULL;
        pkt = ldns_pkt_query_new(owner, qtype, LDNS_RR_CLASS_IN, flags);
        if (pkt == NULL) {
            ldns_rdf_deep_free(owner);
            return NULL;
        }
    }
    ldns_pkt_set_id(pkt, *id);
    ldns_pkt_set_edns_udp_size(pkt, EDNS_UDP_SIZE);
    ldns_pkt_set_edns_do(pkt, params->dnssec_ok != 0);
    if (ldns_pkt2wire(&wire, pkt, len) != LDNS_STATUS_OK)
        wire = NULL;
    ldns_pkt_free(pkt);
    return wire;
}

/* reply_matches - 1 if pkt answers our question with our ID. */
static int reply_matches(const ldns_pkt *pkt, uint16_t id,
                         const ldns_rdf *qname, ldns_rr_type qtype)
{
    const ldns_rr *q;

    if (ldns_pkt_id(pkt) != id || !ldns_pkt_qr(pkt) ||
        ldns_pkt_get_opcode(pkt) != LDNS_PACKET_QUERY ||
        ldns_pkt_qdcount(pkt) != 1)
        return 0;
    q = ldns_rr_list_rr(ldns_pkt_question(pkt), 0);
    return q != NULL && ldns_dname_compare(ldns_rr_owner(q), qname) == 0 &&
           ldns_rr_get_type(q) == qtype &&
           ldns_rr_get_class(q) == LDNS_RR_CLASS_IN;
}

/* remaining_ms - milliseconds left until deadline, 0 when past it. */
static int remaining_ms(uint64_t deadline)
{
    uint64_t now = dance_net_now_ms();

    if (now >= deadline)
        return 0;
    return deadline - now > 600000 ? 600000 : (int)(deadline - now);
}

/* open_socket - a non-blocking socket connected (or connecting) to server. */
static int open_socket(const dance_net_server *server, int type)
{
    int fd =
        socket(server->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    if (connect(fd, (const struct sockaddr *)&server->addr, server->addrlen) !=
            0 &&
        errno != EINPROGRESS) {
        close(fd);
        return -1;
    }
    return fd;
}

/* wait_fd - poll fd for events until deadline; 1 ready, 0 timeout, -1 err. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
    struct pollfd pfd = {.fd = fd, .events = events};

    for (;;) {
        int rc = poll(&pfd, 1, remaining_ms(deadline));

        if (rc > 0)
            return (pfd.revents & (POLLERR | POLLNVAL)) &&
                           !(pfd.revents & events)
                       ? -1
                       : 1;
        if (rc == 0)
            return 0;
        if (errno != EINTR)
            return -1;
    }
}

/* tcp_io - send or receive exactly len bytes before deadline. */
static dance_net_status tcp_io(int fd, uint8_t *buf, size_t len, int sending,
                               uint64_t deadline)
{
    size_t done = 0;

    while (done < len) {
        ssize_t rc;
        int ready = wait_fd(fd, sending ? POLLOUT : POLLIN, deadline);

        if (ready == 0)
            return DANCE_NET_TIMEOUT;
        if (ready < 0)
            return DANCE_NET_UNREACHABLE;
        rc = sending ? send(fd, buf + done, len - done, MSG_NOSIGNAL)
                     : recv(fd, buf + done, len - done, 0);
        if (rc > 0) {
            done += (size_t)rc;
            continue;
        }
        if (rc == 0)
            return DANCE_NET_MALFORMED; /* peer closed mid-message */
        if (errno != EAGAIN && errno != EINTR)
            return DANCE_NET_UNREACHABLE;
    }
    return DANCE_NET_OK;
}

/* exchange_tcp - one query over TCP; on success *out is a raw reply. */
static dance_net_status exchange_tcp(const dance_net_server *server,
                                     const uint8_t *query, size_t qlen,
                                     uint64_t deadline, uint8_t *out,
                                     size_t *outlen)
{
    uint8_t lenbuf[2];
    uint8_t *msg = malloc(qlen + 2);
    dance_net_status st = DANCE_NET_UNREACHABLE;
    int fd = open_socket(server, SOCK_STREAM);
    size_t rlen;

    if (msg == NULL || fd < 0)
        goto done;
    msg[0] = (uint8_t)(qlen >> 8);
    msg[1] = (uint8_t)qlen;
    memcpy(msg + 2, query, qlen);
    if ((st = tcp_io(fd, msg, qlen + 2, 1, deadline)) != DANCE_NET_OK)
        goto done;
    if ((st = tcp_io(fd, lenbuf, 2, 0, deadline)) != DANCE_NET_OK)
        goto done;
    rlen = ((size_t)lenbuf[0] << 8) | lenbuf[1];
    if (rlen < LDNS_HEADER_SIZE) {
        st = DANCE_NET_MALFORMED;
        goto done;
    }
    if ((st = tcp_io(fd, out, rlen, 0, deadline)) == DANCE_NET_OK)
        *outlen = rlen;
done:
    if (fd >= 0)
        close(fd);
    free(msg);
    return st;
}

/* question_len - bytes of the question section of our own query (its
 * name, type and class after the header), or 0 if it is not well formed. */
static size_t question_len(const uint8_t *query, size_t qlen)
{
    size_t off = LDNS_HEADER_SIZE;

    while (off < qlen && query[off] != 0) {
        if (query[off] > 63) /* our names are never compressed */
            return 0;
        off += (size_t)query[off] + 1;
    }
    off += 1 + 4; /* root label, type, class */
    return off <= qlen ? off - LDNS_HEADER_SIZE : 0;
}

/* udp_answers_us - is the datagram buf[0..len) a response to query: our
 * ID, QR set, opcode QUERY, one question, and that question byte for byte
 * ours but for the case of letters (name, type and class)? A datagram
 * that is not (a blind spoofer's guess, a late reply to an earlier query)
 * is ignored and the exchange keeps waiting; accepting it would let it
 * fail an exchange a good server was about to answer. */
static int udp_answers_us(const uint8_t *buf, size_t len, const uint8_t *query,
                          size_t qsec)
{
    if (qsec == 0 || len < LDNS_HEADER_SIZE + qsec || buf[0] != query[0] ||
        buf[1] != query[1] || !LDNS_QR_WIRE(buf) ||
        LDNS_OPCODE_WIRE(buf) != LDNS_PACKET_QUERY || LDNS_QDCOUNT(buf) != 1)
        return 0;
    /* Label length bytes (< 64) are not letters: folding case leaves
     * them as they are, so equal folded bytes mean equal labels. */
    for (size_t i = LDNS_HEADER_SIZE; i < LDNS_HEADER_SIZE + qsec; i++)
        if (tolower(buf[i]) != tolower(query[i]))
            return 0;
    return 1;
}

/* exchange_udp - one query over UDP, waiting for a datagram that answers
 * it (udp_answers_us); others are dropped. The socket is connected, so the
 * kernel drops datagrams from any other address or port. out has room for
 * UDP_REPLY_MAX bytes; a longer answer sets *oversized (only its first
 * UDP_REPLY_MAX bytes are kept: the caller asks again over TCP). */
static dance_net_status exchange_udp(const dance_net_server *server,
                                     const uint8_t *query, size_t qlen,
                                     uint64_t deadline, uint8_t *out,
                                     size_t *outlen, int *oversized)
{
    size_t qsec = question_len(query, qlen);

    dance_net_status st = DANCE_NET_TIMEOUT;
    int fd = open_socket(server, SOCK_DGRAM);

    if (fd < 0)
        return DANCE_NET_UNREACHABLE;
    if (send(fd, query, qlen, 0) != (ssize_t)qlen) {
        close(fd);
        return DANCE_NET_UNREACHABLE;
    }
    for (;;) {
        ssize_t rc;
        int ready = wait_fd(fd, POLLIN, deadline);

        if (ready <= 0) {
            st = ready == 0 ? DANCE_NET_TIMEOUT : DANCE_NET_UNREACHABLE;
            break;
        }
        rc = recv(fd, out, UDP_REPLY_MAX, MSG_TRUNC); /* the real length */
        if (rc < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            st = DANCE_NET_UNREACHABLE; /* e.g. ICMP port unreachable */
            break;
        }
        *oversized = rc > UDP_REPLY_MAX;
        if (*oversized)
            rc = UDP_REPLY_MAX;
        if (udp_answers_us(out, (size_t)rc, query, qsec)) {
            *outlen = (size_t)rc;
            st = DANCE_NET_OK;
            break;
        }
    }
    close(fd);
    return st;
}

/* parse_reply - raw bytes to a packet answering our question, or NULL. */
static ldns_pkt *parse_reply(const uint8_t *buf, size_t len, uint16_t id,
                             const ldns_rdf *qname, ldns_rr_type qtype)
{
    ldns_pkt *pkt = NULL;

    if (len < LDNS_HEADER_SIZE ||
        ldns_wire2pkt(&pkt, buf, len) != LDNS_STATUS_OK)
        return NULL;
    if (!reply_matches(pkt, id, qname, qtype)) {
        ldns_pkt_free(pkt);
        return NULL;
    }
    return pkt;
}

/* is_server_failure - rcodes that say "ask someone else". */
static int is_server_failure(const ldns_pkt *pkt)
{
    ldns_pkt_rcode rc = ldns_pkt_get_rcode(pkt);

    return rc == LDNS_RCODE_SERVFAIL || rc == LDNS_RCODE_REFUSED ||
           rc == LDNS_RCODE_NOTIMPL;
}

/* dance_net_query - see header. */
dance_net_status dance_net_query(const dance_net_server *servers, size_t n,
                                 const ldns_rdf *qname, ldns_rr_type qtype,
                                 const dance_net_params *params,
                                 uint64_t deadline_ms, ldns_pkt **reply,
                                 dance_net_counters *counters, char *why,
                                 size_t whylen)
{
    dance_net_status worst = DANCE_NET_TIMEOUT;
    ldns_pkt *fallback = NULL; /* last SERVFAIL-like reply */
    uint8_t *buf = malloc(UDP_REPLY_MAX), *big = NULL; /* big: TCP's */
    char addr[INET6_ADDRSTRLEN + 8] = "";
    dance_net_scope *scope = cur_scope();
    dance_net_preanswer *pre = cur_preanswer();
    unsigned round;

    *reply = NULL;
    if (pre != NULL && pre->reply != NULL && pre->server == servers &&
        pre->qtype == qtype && !pre->dnssec_ok == !params->dnssec_ok &&
        !pre->checking_disabled == !params->checking_disabled &&
        ldns_dname_compare(pre->qname, qname) == 0) {
        /* This very question was asked of this server already (by
         * dance_net_query_batch) and answered: take that answer. */
        free(buf);
        *reply = pre->reply;
        pre->reply = NULL;
        return DANCE_NET_OK;
    }
    if (buf == NULL)
        return DANCE_NET_NOMEM;
    if (scope != NULL && scope->deadline_ms != 0 &&
        scope->deadline_ms < deadline_ms)
        deadline_ms = scope->deadline_ms;
    for (round = 0; round < params->attempts; round++) {
        for (size_t i = 0; i < n; i++) {
            uint16_t id;
            size_t qlen = 0, rlen = 0;
            int oversized = 0;
            const uint8_t *raw = buf;
            uint8_t *query = build_query(qname, qtype, params, &id, &qlen);
            uint64_t now = dance_net_now_ms();
            uint64_t until = now + params->timeout_ms;
            dance_net_status st;
            ldns_pkt *pkt;

            if (query == NULL) {
                free(buf);
                free(big);
                ldns_pkt_free(fallback);
                return DANCE_NET_NOMEM;
            }
            if (now >= deadline_ms) {
                free(query);
                goto out;
            }
            if (round + i > 0 && scope_cancelled()) {
                free(query);
                free(buf);
                free(big);
                ldns_pkt_free(fallback);
                snprintf(why, whylen,
                         "abandoned: nobody waits for the answer any more");
                return DANCE_NET_TIMEOUT;
            }
            if (until > deadline_ms)
                until = deadline_ms;
            dance_net_server_str(&servers[i], addr, sizeof(addr));
            if (counters != NULL)
                counters->udp_queries++;
            st = exchange_udp(&servers[i], query, qlen, until, buf, &rlen,
                              &oversized);
            if (st == DANCE_NET_OK && (oversized || LDNS_TC_WIRE(buf))) {
                /* Truncated: the same query (same ID) again over TCP. */
                if (counters != NULL)
                    counters->tcp_queries++;
                until = dance_net_now_ms() + params->timeout_ms;
                if (until > deadline_ms)
                    until = deadline_ms;
                if (big == NULL && (big = malloc(MAX_REPLY)) == NULL) {
                    free(query);
                    free(buf);
                    ldns_pkt_free(fallback);
                    return DANCE_NET_NOMEM;
                }
                st = exchange_tcp(&servers[i], query, qlen, until, big, &rlen);
                raw = big;
            }
            free(query);
            if (st != DANCE_NET_OK) {
                if (st != DANCE_NET_TIMEOUT || worst == DANCE_NET_TIMEOUT)
                    worst = st;
                continue;
            }
            pkt = parse_reply(raw, rlen, id, qname, qtype);
            if (pkt == NULL) {
                worst = DANCE_NET_MALFORMED;
                continue;
            }
            if (is_server_failure(pkt)) {
                ldns_pkt_free(fallback);
                fallback = pkt;
                continue;
            }
            ldns_pkt_free(fallback);
            free(buf);
            free(big);
            *reply = pkt;
            return DANCE_NET_OK;
        }
    }
out:
    free(buf);
    free(big);
    if (scope != NULL && (fallback != NULL || worst == DANCE_NET_TIMEOUT))
        scope->failures++;
    if (fallback != NULL) {
        *reply = fallback;
        return DANCE_NET_OK;
    }
    snprintf(why, whylen, "%s from %s%s", dance_net_status_str(worst), addr,
             n > 1 ? " (last server tried)" : "");
    return worst;
}

/* ---- many questions at once --------------------------------------------- */

typedef struct {
    int fd; /* -1: not sent, or finished */
    uint8_t *query;
    size_t qlen, qsec;
    uint16_t id;
} batch_slot;

/* batch_finish - stop waiting on sl: close its socket. */
static void batch_finish(batch_slot *sl, size_t *open)
{
    if (sl->fd < 0)
        return;
    close(sl->fd);
    sl->fd = -1;
    (*open)--;
}

/* batch_receive - read one datagram for sl (its socket is readable);
 * returns a usable reply to question qname, or NULL. Datagrams that do not
 * answer it are dropped and the wait goes on, as in exchange_udp; an
 * answer that is cut (TC, or longer than we read), malformed or a server
 * failure ends the wait without a reply. */
static ldns_pkt *batch_receive(batch_slot *sl, const ldns_rdf *qname,
                               ldns_rr_type qtype, uint8_t *buf, size_t *open)
{
    ssize_t rc = recv(sl->fd, buf, UDP_REPLY_MAX, MSG_TRUNC | MSG_DONTWAIT);
    int oversized;
    ldns_pkt *pkt;

    if (rc < 0) {
        if (errno != EAGAIN && errno != EINTR)
            batch_finish(sl, open); /* e.g. ICMP port unreachable */
        return NULL;
    }
    oversized = rc > UDP_REPLY_MAX;
    if (oversized)
        rc = UDP_REPLY_MAX;
    if (!udp_answers_us(buf, (size_t)rc, sl->query, sl->qsec))
        return NULL;
    batch_finish(sl, open);
    if (oversized || LDNS_TC_WIRE(buf))
        return NULL;
    pkt = parse_reply(buf, (size_t)rc, sl->id, qname, qtype);
    if (pkt != NULL && is_server_failure(pkt)) {
        ldns_pkt_free(pkt);
        pkt = NULL;
    }
    return pkt;
}

/* dance_net_query_batch - see header. */
size_t dance_net_query_batch(const dance_net_server *server,
                             const ldns_rdf *const *qnames, size_t n,
                             ldns_rr_type qtype, const dance_net_params *params,
                             uint64_t deadline_ms, dance_net_reply_fn on_reply,
                             void *arg, dance_net_counters *counters)
{
    batch_slot *slot = calloc(n > 0 ? n : 1, sizeof(*slot));
    struct pollfd *pfd = calloc(n > 0 ? n : 1, sizeof(*pfd));
    size_t *idx = calloc(n > 0 ? n : 1, sizeof(*idx));
    uint8_t *buf = malloc(UDP_REPLY_MAX);
    uint64_t until = dance_net_now_ms() + params->timeout_ms;
    size_t got = 0, open = 0;

    if (slot == NULL || pfd == NULL || idx == NULL || buf == NULL)
        goto out;
    if (until > deadline_ms)
        until = deadline_ms;
    for (size_t i = 0; i < n; i++) {
        batch_slot *sl = &slot[i];

        sl->fd = -1;
        if (qnames[i] == NULL ||
            (sl->query = build_query(qnames[i], qtype, params, &sl->id,
                                     &sl->qlen)) == NULL)
            continue;
        sl->qsec = question_len(sl->query, sl->qlen);
        if ((sl->fd = open_socket(server, SOCK_DGRAM)) < 0)
            continue;
        if (send(sl->fd, sl->query, sl->qlen, 0) != (ssize_t)sl->qlen) {
            close(sl->fd);
            sl->fd = -1;
            continue;
        }
        if (counters != NULL)
            counters->udp_queries++;
        open++;
    }
    while (open > 0) {
        uint64_t now = dance_net_now_ms();
        nfds_t m = 0;
        int rc;

        /* Past the wait, answers already here are still taken (poll
         * without waiting): the time on_reply spends validating (a first
         * answer may fetch the whole chain) is not the servers'. */
        for (size_t i = 0; i < n; i++)
            if (slot[i].fd >= 0) {
                pfd[m].fd = slot[i].fd;
                pfd[m].events = POLLIN;
                pfd[m].revents = 0;
                idx[m++] = i;
            }
        rc = poll(pfd, m, now < until ? (int)(until - now) : 0);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            break;
        for (nfds_t k = 0; k < m; k++) {
            ldns_pkt *pkt;

            if (pfd[k].revents == 0)
                continue;
            pkt =
                batch_receive(&slot[idx[k]], qnames[idx[k]], qtype, buf, &open);
            if (pkt != NULL) {
                got++;
                on_reply(arg, idx[k], pkt); /* may take a while: the
                                               others wait in their
                                               sockets meanwhile */
            }
        }
    }
out:
    for (size_t i = 0; slot != NULL && i < n; i++) {
        if (slot[i].fd >= 0)
            close(slot[i].fd);
        free(slot[i].query);
    }
    free(slot);
    free(pfd);
    free(idx);
    free(buf);
    return got;
}
