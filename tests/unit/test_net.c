/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_net.c - suite "net": nameserver parsing and the loopback rule of
 * resolver/dance_net.c, the per-thread scope that bounds exchanges
 * (against a real silent UDP socket on loopback), and the exchanges
 * against a scripted server on loopback that answers as a spoofer or a
 * truncating server would (the rest is covered by the integration tests
 * against nsd, unbound and the fault proxy).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dance_net.h"
#include "dance_test.h"

static void test_parse_good(void)
{
    dance_net_server s[DANCE_NET_MAX_SERVERS];
    size_t n = 0;
    char err[256] = "", buf[80];

    CU_ASSERT_EQUAL_FATAL(
        dance_net_parse_servers("127.0.0.1@5354, ::1 [::1]@53,192.0.2.1", s, &n,
                                err, sizeof(err)),
        1);
    CU_ASSERT_EQUAL(n, 4);
    CU_ASSERT_STRING_EQUAL(dance_net_server_str(&s[0], buf, sizeof(buf)),
                           "127.0.0.1@5354");
    CU_ASSERT_STRING_EQUAL(dance_net_server_str(&s[1], buf, sizeof(buf)),
                           "::1@53");
    CU_ASSERT_STRING_EQUAL(dance_net_server_str(&s[3], buf, sizeof(buf)),
                           "192.0.2.1@53");
    CU_ASSERT_TRUE(dance_net_server_is_loopback(&s[0]));
    CU_ASSERT_TRUE(dance_net_server_is_loopback(&s[1]));
    CU_ASSERT_TRUE(dance_net_server_is_loopback(&s[2]));
    CU_ASSERT_FALSE(dance_net_server_is_loopback(&s[3]));
}

/* bad - parsing list fails and the message quotes needle. */
static void bad(const char *list, const char *needle)
{
    dance_net_server s[DANCE_NET_MAX_SERVERS];
    size_t n = 0;
    char err[256] = "";

    CU_ASSERT_EQUAL(dance_net_parse_servers(list, s, &n, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, needle));
}

static void test_parse_bad(void)
{
    bad("127.0.0.1@0", "127.0.0.1@0");
    bad("127.0.0.1@65536", "127.0.0.1@65536");
    bad("127.0.0.1@", "127.0.0.1@");
    bad("127.0.0.1@53x", "127.0.0.1@53x");
    bad("127.0.0.1@-5", "127.0.0.1@-5");
    bad("ns.example.test", "ns.example.test");
    bad("127.0.0.1, 300.1.1.1", "300.1.1.1");
    bad("", "no nameserver");
    bad(" , ", "no nameserver");
    bad("1.1.1.1 1.1.1.2 1.1.1.3 1.1.1.4 1.1.1.5 1.1.1.6 1.1.1.7 1.1.1.8 "
        "1.1.1.9",
        "more than");
}

static void test_resolv_conf(void)
{
    char path[] = "/tmp/dance-resolv-XXXXXX";
    int fd = mkstemp(path);
    FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    dance_net_server s[DANCE_NET_MAX_SERVERS];
    size_t n = 0;
    char err[256] = "", buf[80];

    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    fputs("# comment\nsearch example.test\nnameserver 127.0.0.53\n"
          "nameserver fe80::1%eth0\noptions edns0\nnameserver ::1\n",
          fp);
    fclose(fp);
    CU_ASSERT_EQUAL(
        dance_net_servers_from_resolv_conf(path, s, &n, err, sizeof(err)), 1);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_STRING_EQUAL(dance_net_server_str(&s[0], buf, sizeof(buf)),
                           "127.0.0.53@53");
    CU_ASSERT_STRING_EQUAL(dance_net_server_str(&s[1], buf, sizeof(buf)),
                           "::1@53");
    unlink(path);
    CU_ASSERT_EQUAL(
        dance_net_servers_from_resolv_conf(path, s, &n, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, path));
}

/* silent_server - a bound UDP socket that never answers; its address. */
static int silent_server(dance_net_server *srv)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);
    char spec[64];
    size_t n = 0;
    char err[128];

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CU_ASSERT_FATAL(fd >= 0 &&
                    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
                    getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    snprintf(spec, sizeof(spec), "127.0.0.1@%u", ntohs(sin.sin_port));
    CU_ASSERT_FATAL(dance_net_parse_servers(spec, srv, &n, err, sizeof(err)));
    return fd;
}

/* packets - datagrams waiting on fd (drained). */
static int packets(int fd)
{
    char buf[2048];
    int n = 0;

    while (recv(fd, buf, sizeof(buf), 0) > 0)
        n++;
    return n;
}

/* ask - one query for name to srv; its status, elapsed ms in *ms. */
static dance_net_status ask(const dance_net_server *srv, unsigned timeout_ms,
                            unsigned attempts, unsigned deadline_ms,
                            uint64_t *ms, char *why, size_t whylen)
{
    dance_net_params p = {.timeout_ms = timeout_ms,
                          .attempts = attempts,
                          .dnssec_ok = 1,
                          .checking_disabled = 1};
    ldns_rdf *qname = ldns_dname_new_frm_str("_c.h.silent.test.");
    ldns_pkt *reply = NULL;
    uint64_t t0 = dance_net_now_ms();
    dance_net_status st =
        dance_net_query(srv, 1, qname, LDNS_RR_TYPE_TLSA, &p, t0 + deadline_ms,
                        &reply, NULL, why, whylen);

    *ms = dance_net_now_ms() - t0;
    ldns_pkt_free(reply);
    ldns_rdf_deep_free(qname);
    return st;
}

/* The scope's deadline caps a query's own, and a timeout is counted as a
 * failure of the scope. */
static void test_scope_deadline(void)
{
    dance_net_server srv;
    int fd = silent_server(&srv);
    dance_net_scope scope = {.deadline_ms = dance_net_now_ms() + 200};
    char why[256] = "";
    uint64_t ms;

    dance_net_scope_enter(&scope);
    CU_ASSERT_EQUAL(ask(&srv, 2000, 2, 5000, &ms, why, sizeof(why)),
                    DANCE_NET_TIMEOUT);
    dance_net_scope_leave();
    CU_ASSERT(ms < 1000);
    CU_ASSERT_EQUAL(scope.failures, 1);
    CU_ASSERT_EQUAL(packets(fd), 1);
    close(fd);
}

/* Abandoned: the first packet goes out, nothing is retried. */
static void test_scope_cancelled(void)
{
    dance_net_server srv;
    int fd = silent_server(&srv);
    atomic_int cancelled;
    dance_net_scope scope = {.cancelled = &cancelled};
    char why[256] = "";
    uint64_t ms;

    atomic_init(&cancelled, 1);
    dance_net_scope_enter(&scope);
    CU_ASSERT_EQUAL(ask(&srv, 200, 4, 5000, &ms, why, sizeof(why)),
                    DANCE_NET_TIMEOUT);
    dance_net_scope_leave();
    CU_ASSERT_EQUAL(packets(fd), 1);
    CU_ASSERT(ms < 700);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "abandoned"));
    /* Outside a scope, all attempts are made. */
    CU_ASSERT_EQUAL(ask(&srv, 100, 3, 5000, &ms, why, sizeof(why)),
                    DANCE_NET_TIMEOUT);
    CU_ASSERT_EQUAL(packets(fd), 3);
    close(fd);
}

/* ---- a scripted server: answers as an attacker or a broken server would */

typedef enum {
    SC_PLAIN,          /* the answer, nothing else */
    SC_WRONG_ID,       /* first a reply with another ID, then the answer */
    SC_WRONG_QUESTION, /* first our ID with another name/type/class */
    SC_WRONG_SOURCE,   /* first a forged answer from another port */
    SC_TRUNCATED,      /* TC over UDP; the answer over TCP */
    SC_TRUNCATED_ONLY, /* TC over UDP; no TCP listener */
    SC_OVERSIZED,      /* over UDP a datagram larger than the transport
                          reads, TC clear; the answer over TCP */
    SC_STAGGER         /* the first query answered at once, each later
                          one 50 ms after the one before */
} script;

typedef struct {
    script sc;
    int udp, tcp, forger; /* sockets; tcp/forger -1 when unused */
    dance_net_server addr;
    pthread_t tid;
    int queries;        /* UDP queries answered */
    uint16_t ids[64];   /* their IDs and source ports, */
    uint16_t ports[64]; /* for the randomisation test */
} scripted;

/* reply_wire - a reply to query q: rcode, TLSA answers (count), TC flag,
 * question replaced by (qname, qtype, qclass) when qname is not NULL, ID
 * xor id_flip. Caller frees the wire. */
static uint8_t *reply_wire(const ldns_pkt *q, ldns_pkt_rcode rcode, int count,
                           int tc, const char *qname, ldns_rr_type qtype,
                           ldns_rr_class qclass, uint16_t id_flip, size_t *len)
{
    const ldns_rr *qrr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
    ldns_pkt *r = ldns_pkt_new();
    ldns_rr *question = NULL;
    uint8_t *wire = NULL;
    char *owner = ldns_rdf2str(ldns_rr_owner(qrr));

    ldns_pkt_set_id(r, ldns_pkt_id(q) ^ id_flip);
    ldns_pkt_set_qr(r, 1);
    ldns_pkt_set_rd(r, 1);
    ldns_pkt_set_ra(r, 1);
    ldns_pkt_set_tc(r, tc);
    ldns_pkt_set_rcode(r, rcode);
    if (qname != NULL) {
        question = ldns_rr_new();
        ldns_rr_set_owner(question, ldns_dname_new_frm_str(qname));
        ldns_rr_set_type(question, qtype);
        ldns_rr_set_class(question, qclass);
        ldns_rr_set_question(question, 1);
    } else {
        question = ldns_rr_clone(qrr);
    }
    ldns_rr_list_push_rr(ldns_pkt_question(r), question);
    ldns_pkt_set_qdcount(r, 1);
    for (int i = 0; i < count; i++) {
        char text[300];
        ldns_rr *rr = NULL;

        snprintf(text, sizeof(text), "%s 300 IN TLSA 3 1 1 %064x", owner,
                 (unsigned)i + 1);
        if (ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL) == LDNS_STATUS_OK)
            ldns_rr_list_push_rr(ldns_pkt_answer(r), rr);
    }
    ldns_pkt_set_ancount(r,
                         (uint16_t)ldns_rr_list_rr_count(ldns_pkt_answer(r)));
    if (ldns_pkt2wire(&wire, r, len) != LDNS_STATUS_OK)
        wire = NULL;
    ldns_pkt_free(r);
    free(owner);
    return wire;
}

/* send_wire - send wire (then free it) from fd to peer; len is read after
 * the call's arguments are evaluated, so reply_wire may set it in the
 * same call. */
static void send_wire(int fd, uint8_t *wire, const size_t *len,
                      const struct sockaddr_storage *peer, socklen_t plen)
{
    if (wire != NULL)
        sendto(fd, wire, *len, 0, (const struct sockaddr *)peer, plen);
    free(wire);
}

/* serve_tcp - accept one TCP connection and answer its one query fully. */
static void serve_tcp(scripted *s)
{
    struct pollfd pfd = {.fd = s->tcp, .events = POLLIN};
    uint8_t buf[2048], lenbuf[2];
    ldns_pkt *q = NULL;
    size_t len = 0;
    ssize_t n;
    int c;

    if (poll(&pfd, 1, 2000) <= 0 || (c = accept(s->tcp, NULL, NULL)) < 0)
        return;
    n = recv(c, lenbuf, 2, MSG_WAITALL) == 2
            ? recv(c, buf, ((size_t)lenbuf[0] << 8 | lenbuf[1]) % sizeof(buf),
                   MSG_WAITALL)
            : -1;
    if (n > 0 && ldns_wire2pkt(&q, buf, (size_t)n) == LDNS_STATUS_OK) {
        uint8_t *wire =
            reply_wire(q, LDNS_RCODE_NOERROR, 3, 0, NULL, 0, 0, 0, &len);

        lenbuf[0] = (uint8_t)(len >> 8);
        lenbuf[1] = (uint8_t)len;
        if (wire != NULL && send(c, lenbuf, 2, MSG_NOSIGNAL) == 2)
            (void)send(c, wire, len, MSG_NOSIGNAL);
        free(wire);
    }
    ldns_pkt_free(q);
    close(c);
}

/* scripted_main - answer UDP queries by the script until the socket is
 * shut down. */
static void *scripted_main(void *arg)
{
    scripted *s = arg;

    for (;;) {
        uint8_t buf[2048];
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        ssize_t n = recvfrom(s->udp, buf, sizeof(buf), 0,
                             (struct sockaddr *)&peer, &plen);
        ldns_pkt *q = NULL;
        size_t len = 0;
        const char *owner = "_c.other.test.";

        if (n <= 0)
            break;
        if (ldns_wire2pkt(&q, buf, (size_t)n) != LDNS_STATUS_OK)
            continue;
        if (s->queries < 64) {
            s->ids[s->queries] = ldns_pkt_id(q);
            s->ports[s->queries] =
                ntohs(((struct sockaddr_in *)&peer)->sin_port);
        }
        s->queries++;
        switch (s->sc) {
        case SC_WRONG_ID:
            send_wire(s->udp,
                      reply_wire(q, LDNS_RCODE_NXDOMAIN, 0, 0, NULL, 0, 0,
                                 0x5a5a, &len),
                      &len, &peer, plen);
            break;
        case SC_WRONG_QUESTION: /* name, then type, then class */
            send_wire(s->udp,
                      reply_wire(q, LDNS_RCODE_NXDOMAIN, 0, 0, owner,
                                 LDNS_RR_TYPE_TLSA, LDNS_RR_CLASS_IN, 0, &len),
                      &len, &peer, plen);
            send_wire(s->udp,
                      reply_wire(q, LDNS_RCODE_NXDOMAIN, 0, 0,
                                 "_c.h.query.test.", LDNS_RR_TYPE_A,
                                 LDNS_RR_CLASS_IN, 0, &len),
                      &len, &peer, plen);
            send_wire(s->udp,
                      reply_wire(q, LDNS_RCODE_NXDOMAIN, 0, 0,
                                 "_c.h.query.test.", LDNS_RR_TYPE_TLSA,
                                 LDNS_RR_CLASS_CH, 0, &len),
                      &len, &peer, plen);
            break;
        case SC_WRONG_SOURCE:
            send_wire(
                s->forger,
                reply_wire(q, LDNS_RCODE_NXDOMAIN, 0, 0, NULL, 0, 0, 0, &len),
                &len, &peer, plen);
            usleep(20 * 1000); /* let the forgery arrive first */
            break;
        case SC_TRUNCATED:
        case SC_TRUNCATED_ONLY:
            send_wire(
                s->udp,
                reply_wire(q, LDNS_RCODE_NOERROR, 0, 1, NULL, 0, 0, 0, &len),
                &len, &peer, plen);
            if (s->sc == SC_TRUNCATED)
                serve_tcp(s);
            ldns_pkt_free(q);
            continue;
        case SC_OVERSIZED: /* 120 records: about 8 KB, TC not set */
            send_wire(
                s->udp,
                reply_wire(q, LDNS_RCODE_NOERROR, 120, 0, NULL, 0, 0, 0, &len),
                &len, &peer, plen);
            serve_tcp(s);
            ldns_pkt_free(q);
            continue;
        case SC_STAGGER:
            if (s->queries > 1)
                usleep(50 * 1000);
            break;
        case SC_PLAIN:
            break;
        }
        send_wire(s->udp,
                  reply_wire(q, LDNS_RCODE_NOERROR, 1, 0, NULL, 0, 0, 0, &len),
                  &len, &peer, plen);
        ldns_pkt_free(q);
    }
    return NULL;
}

/* bound - a socket of type bound to 127.0.0.1 (port 0: any); its port. */
static int bound(int type, uint16_t port, uint16_t *got)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    int fd = socket(AF_INET, type, 0), one = 1;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sin.sin_port = htons(port);
    CU_ASSERT_FATAL(fd >= 0);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
                    getsockname(fd, (struct sockaddr *)&sin, &len) == 0);
    if (got != NULL)
        *got = ntohs(sin.sin_port);
    return fd;
}

/* scripted_start - a server playing sc on a fresh loopback port (UDP, and
 * TCP on the same port for SC_TRUNCATED). */
static void scripted_start(scripted *s, script sc)
{
    char spec[64], err[128];
    uint16_t port = 0;
    size_t n = 0;

    memset(s, 0, sizeof(*s));
    s->sc = sc;
    s->tcp = s->forger = -1;
    s->udp = bound(SOCK_DGRAM, 0, &port);
    if (sc == SC_TRUNCATED || sc == SC_OVERSIZED) {
        s->tcp = bound(SOCK_STREAM, port, NULL);
        CU_ASSERT_FATAL(listen(s->tcp, 4) == 0);
    }
    if (sc == SC_WRONG_SOURCE)
        s->forger = bound(SOCK_DGRAM, 0, NULL);
    snprintf(spec, sizeof(spec), "127.0.0.1@%u", port);
    CU_ASSERT_FATAL(
        dance_net_parse_servers(spec, &s->addr, &n, err, sizeof(err)));
    CU_ASSERT_FATAL(pthread_create(&s->tid, NULL, scripted_main, s) == 0);
}

/* scripted_stop - stop the server thread, close its sockets. */
static void scripted_stop(scripted *s)
{
    shutdown(s->udp, SHUT_RDWR); /* ends its recvfrom */
    pthread_join(s->tid, NULL);
    close(s->udp);
    if (s->tcp >= 0)
        close(s->tcp);
    if (s->forger >= 0)
        close(s->forger);
}

/* exchange - ask s for _c.h.query.test TLSA (attempts 1, 500 ms): the
 * status, the reply's answer count in *answers (-1: no reply), counters. */
static dance_net_status exchange(scripted *s, int *answers,
                                 dance_net_counters *c, char *why,
                                 size_t whylen)
{
    dance_net_params p = {.timeout_ms = 500,
                          .attempts = 1,
                          .dnssec_ok = 1,
                          .checking_disabled = 1};
    ldns_rdf *qname = ldns_dname_new_frm_str("_c.h.Query.test.");
    ldns_pkt *reply = NULL;
    dance_net_status st;

    memset(c, 0, sizeof(*c));
    st = dance_net_query(&s->addr, 1, qname, LDNS_RR_TYPE_TLSA, &p,
                         dance_net_now_ms() + 2000, &reply, c, why, whylen);
    *answers = reply != NULL && ldns_pkt_get_rcode(reply) == LDNS_RCODE_NOERROR
                   ? (int)ldns_pkt_ancount(reply)
                   : -1;
    ldns_pkt_free(reply);
    ldns_rdf_deep_free(qname);
    return st;
}

/* A datagram with another ID, or with our ID but another question name,
 * type or class, or from another address, is not the answer: the
 * transport keeps waiting for the real one instead of failing the
 * exchange (a blind spoofer must not be able to turn a good server's
 * answer into a failure) or taking it. */
static void test_spoofed_replies(void)
{
    static const script scripts[] = {SC_WRONG_ID, SC_WRONG_QUESTION,
                                     SC_WRONG_SOURCE};

    for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
        scripted s;
        dance_net_counters c;
        char why[256] = "";
        int answers = 0;

        scripted_start(&s, scripts[i]);
        CU_ASSERT_EQUAL(exchange(&s, &answers, &c, why, sizeof(why)),
                        DANCE_NET_OK);
        CU_ASSERT_EQUAL(answers, 1); /* the real answer, not the forgery */
        CU_ASSERT_EQUAL(c.udp_queries, 1);
        if (answers != 1)
            fprintf(stderr, "\n  script %zu: %d answers (%s)\n", i, answers,
                    why);
        scripted_stop(&s);
    }
}

/* via_tcp - run a server playing sc, whose UDP answer must not be taken:
 * the answer is TCP's (3 records), after one UDP and one TCP exchange. */
static void via_tcp(script sc)
{
    scripted s;
    dance_net_counters c;
    char why[256] = "";
    int answers = 0;

    scripted_start(&s, sc);
    CU_ASSERT_EQUAL(exchange(&s, &answers, &c, why, sizeof(why)), DANCE_NET_OK);
    CU_ASSERT_EQUAL(answers, 3);
    CU_ASSERT_EQUAL(c.udp_queries, 1);
    CU_ASSERT_EQUAL(c.tcp_queries, 1);
    scripted_stop(&s);
}

/* Truncated over UDP: the same question over TCP, whose (full) answer is
 * taken; without a TCP server the truncated answer is never used. */
static void test_truncated(void)
{
    scripted s;
    dance_net_counters c;
    char why[256] = "";
    int answers = 0;

    via_tcp(SC_TRUNCATED);
    scripted_start(&s, SC_TRUNCATED_ONLY);
    CU_ASSERT_NOT_EQUAL(exchange(&s, &answers, &c, why, sizeof(why)),
                        DANCE_NET_OK);
    CU_ASSERT_EQUAL(answers, -1);
    CU_ASSERT_EQUAL(c.tcp_queries, 1);
    scripted_stop(&s);
}

/* A UDP answer larger than the transport reads (it advertises 1232 bytes;
 * a server may ignore that) is never parsed cut short nor taken: it counts
 * as truncated, and the question goes to TCP. */
static void test_oversized(void)
{
    via_tcp(SC_OVERSIZED);
}

/* Every query has a fresh random ID and leaves from a fresh port. */
static void test_randomised(void)
{
    scripted s;
    dance_net_counters c;
    char why[256];
    int answers, ids = 0, ports = 0;

    scripted_start(&s, SC_PLAIN);
    for (int i = 0; i < 32; i++)
        CU_ASSERT_EQUAL(exchange(&s, &answers, &c, why, sizeof(why)),
                        DANCE_NET_OK);
    CU_ASSERT_EQUAL_FATAL(s.queries, 32);
    for (int i = 0; i < 32; i++) {
        int id_new = 1, port_new = 1;

        for (int j = 0; j < i; j++) {
            id_new &= s.ids[j] != s.ids[i];
            port_new &= s.ports[j] != s.ports[i];
        }
        ids += id_new;
        ports += port_new;
    }
    /* 32 draws from 2^16 IDs / ~28,000 ports: a repeat or two by chance. */
    CU_ASSERT(ids >= 29);
    CU_ASSERT(ports >= 29);
    scripted_stop(&s);
}

/* ---- many questions at once --------------------------------------------- */

typedef struct {
    int calls;
    int seen[8];
    unsigned sleep_first_ms;
} batch_seen;

/* batch_got - on_reply of the batch tests: count, and on the first call
 * take a long time (as validating a first answer that fetches the chain
 * does). */
static void batch_got(void *arg, size_t i, ldns_pkt *reply)
{
    batch_seen *b = arg;

    if (b->calls++ == 0 && b->sleep_first_ms > 0)
        usleep(b->sleep_first_ms * 1000);
    if (i < 8)
        b->seen[i]++;
    ldns_pkt_free(reply);
}

/* Every question of a batch gets its answer, each from a query of its
 * own (fresh ID and port), also when the first answer's handling takes
 * longer than the whole wait: answers that arrived meanwhile are taken,
 * not dropped. A NULL question is not asked. */
static void test_batch(void)
{
    dance_net_params p = {.timeout_ms = 300,
                          .attempts = 1,
                          .dnssec_ok = 1,
                          .checking_disabled = 1};
    const ldns_rdf *qnames[8];
    ldns_rdf *owned[8];
    dance_net_counters c = {0, 0};
    batch_seen b = {.sleep_first_ms = 600};
    scripted s;
    size_t got;

    for (int i = 0; i < 8; i++) {
        char name[64];

        snprintf(name, sizeof(name), "_c.h%d.batch.test.", i);
        owned[i] = ldns_dname_new_frm_str(name);
        qnames[i] = i == 5 ? NULL : owned[i];
    }
    scripted_start(&s, SC_STAGGER);
    got = dance_net_query_batch(&s.addr, qnames, 8, LDNS_RR_TYPE_TLSA, &p,
                                dance_net_now_ms() + 2000, batch_got, &b, &c);
    CU_ASSERT_EQUAL(got, 7);
    CU_ASSERT_EQUAL(b.calls, 7);
    for (int i = 0; i < 8; i++)
        CU_ASSERT_EQUAL(b.seen[i], i == 5 ? 0 : 1);
    CU_ASSERT_EQUAL(c.udp_queries, 7);
    CU_ASSERT_EQUAL(s.queries, 7);
    for (int i = 0; i < 7; i++)
        for (int j = 0; j < i; j++)
            CU_ASSERT(s.ids[i] != s.ids[j] || s.ports[i] != s.ports[j]);
    scripted_stop(&s);
    for (int i = 0; i < 8; i++)
        ldns_rdf_deep_free(owned[i]);
}

/* A batch takes no answer the single query would not: forged IDs and
 * questions, and a truncated answer, give no call (the caller asks those
 * again the ordinary way). */
static void test_batch_refuses(void)
{
    static const script scripts[] = {SC_WRONG_ID, SC_WRONG_QUESTION,
                                     SC_TRUNCATED_ONLY, SC_OVERSIZED};
    dance_net_params p = {.timeout_ms = 300,
                          .attempts = 1,
                          .dnssec_ok = 1,
                          .checking_disabled = 1};

    for (size_t k = 0; k < sizeof(scripts) / sizeof(scripts[0]); k++) {
        ldns_rdf *q = ldns_dname_new_frm_str("_c.h.Query.test.");
        const ldns_rdf *qnames[1] = {q};
        batch_seen b = {.sleep_first_ms = 0};
        scripted s;
        size_t got;

        scripted_start(&s, scripts[k]);
        got = dance_net_query_batch(&s.addr, qnames, 1, LDNS_RR_TYPE_TLSA, &p,
                                    dance_net_now_ms() + 2000, batch_got, &b,
                                    NULL);
        /* The wrong ID and wrong question scripts send the real answer
         * after the forgeries: that one is taken, the forgeries not. */
        CU_ASSERT_EQUAL(got, scripts[k] == SC_WRONG_ID ||
                                     scripts[k] == SC_WRONG_QUESTION
                                 ? 1u
                                 : 0u);
        CU_ASSERT_EQUAL(b.calls, (int)got);
        scripted_stop(&s);
        ldns_rdf_deep_free(q);
    }
}

/* nx_reply - an NXDOMAIN reply to (qname, TLSA), to hold in hand. */
static ldns_pkt *nx_reply(const char *qname)
{
    ldns_pkt *r = ldns_pkt_new();
    ldns_rr *q = ldns_rr_new();

    ldns_rr_set_owner(q, ldns_dname_new_frm_str(qname));
    ldns_rr_set_type(q, LDNS_RR_TYPE_TLSA);
    ldns_rr_set_class(q, LDNS_RR_CLASS_IN);
    ldns_rr_set_question(q, 1);
    ldns_rr_list_push_rr(ldns_pkt_question(r), q);
    ldns_pkt_set_qdcount(r, 1);
    ldns_pkt_set_qr(r, 1);
    ldns_pkt_set_rcode(r, LDNS_RCODE_NXDOMAIN);
    return r;
}

/* An answer in hand answers exactly its question and only once: another
 * name, type, DO or CD bit, or server, goes to the network (a batch's
 * answer for one name must never stand for another's). exchange() asks
 * _c.h.Query.test TLSA with DO and CD set; the server's answer has one
 * record, the one in hand none (NXDOMAIN). */
static void test_preanswer(void)
{
    static const struct {
        const char *qname;
        ldns_rr_type type;
        int dnssec_ok, cd, other_server, taken;
    } cases[] = {
        {"_c.h.query.TEST.", LDNS_RR_TYPE_TLSA, 1, 1, 0, 1},
        {"_c.h2.query.test.", LDNS_RR_TYPE_TLSA, 1, 1, 0, 0},
        {"_c.h.query.test.", LDNS_RR_TYPE_A, 1, 1, 0, 0},
        {"_c.h.query.test.", LDNS_RR_TYPE_TLSA, 0, 1, 0, 0},
        {"_c.h.query.test.", LDNS_RR_TYPE_TLSA, 1, 0, 0, 0},
        {"_c.h.query.test.", LDNS_RR_TYPE_TLSA, 1, 1, 1, 0},
    };

    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        scripted s;
        dance_net_server copy;
        dance_net_counters c;
        char why[256] = "";
        int answers = 0;
        ldns_rdf *qn = ldns_dname_new_frm_str(cases[k].qname);
        dance_net_preanswer pre = {.qtype = cases[k].type,
                                   .qname = qn,
                                   .dnssec_ok = cases[k].dnssec_ok,
                                   .checking_disabled = cases[k].cd,
                                   .reply = nx_reply(cases[k].qname)};

        scripted_start(&s, SC_PLAIN);
        copy = s.addr;
        pre.server = cases[k].other_server ? &copy : &s.addr;
        dance_net_preanswer_set(&pre);
        CU_ASSERT_EQUAL(exchange(&s, &answers, &c, why, sizeof(why)),
                        DANCE_NET_OK);
        CU_ASSERT_EQUAL(answers, cases[k].taken ? -1 : 1);
        CU_ASSERT_EQUAL(s.queries, cases[k].taken ? 0 : 1);
        CU_ASSERT_EQUAL(pre.reply == NULL, cases[k].taken);
        /* Once taken, it is gone: the same question again is asked. */
        CU_ASSERT_EQUAL(exchange(&s, &answers, &c, why, sizeof(why)),
                        DANCE_NET_OK);
        CU_ASSERT_EQUAL(answers, 1);
        dance_net_preanswer_set(NULL);
        ldns_pkt_free(pre.reply);
        ldns_rdf_deep_free(qn);
        scripted_stop(&s);
    }
}

int dance_test_suite_net(void)
{
    static const CU_TestInfo tests[] = {
        {"parse: good lists", test_parse_good},
        {"parse: bad entries are named", test_parse_bad},
        {"resolv.conf", test_resolv_conf},
        {"scope deadline caps a query", test_scope_deadline},
        {"scope cancelled: no retry", test_scope_cancelled},
        {"spoofed replies ignored, the answer taken", test_spoofed_replies},
        {"truncated: TCP, never the truncated answer", test_truncated},
        {"oversized UDP answer: TCP, never a cut one", test_oversized},
        {"batch: every answer, also after a slow one", test_batch},
        {"batch: forged, truncated, oversized refused", test_batch_refuses},
        {"answer in hand: its question only, once", test_preanswer},
        {"random ID and source port per query", test_randomised},
        CU_TEST_INFO_NULL};

    return dance_test_add_suite("net", NULL, NULL, tests);
}
