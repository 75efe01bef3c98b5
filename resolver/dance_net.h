/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_net.h - DNS transport: one question to a list of servers, over UDP
 * with EDNS0, falling back to TCP when the answer is truncated.
 *
 * The transport checks that a reply is a well-formed response to the
 * question asked (ID, QR, question section); everything about its content
 * (rcode, records, signatures) is the caller's business.
 */
#ifndef DANCE_NET_H
#define DANCE_NET_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#define DANCE_NET_MAX_SERVERS 8
#define DANCE_NET_DEFAULT_PORT 53

typedef struct {
    struct sockaddr_storage addr;
    socklen_t addrlen;
} dance_net_server;

typedef enum {
    DANCE_NET_OK = 0,      /* a valid reply was received (any rcode) */
    DANCE_NET_TIMEOUT,     /* no server answered in time */
    DANCE_NET_UNREACHABLE, /* sockets could not be used */
    DANCE_NET_MALFORMED,   /* replies came back but none was usable */
    DANCE_NET_NOMEM
} dance_net_status;

/* dance_net_status_str - short name of a transport status. */
const char *dance_net_status_str(dance_net_status status);

/*
 * dance_net_parse_servers - parse "IP[@PORT], IP[@PORT] ..." (IPv4 or IPv6,
 * comma or white space separated, at most DANCE_NET_MAX_SERVERS).
 * On error returns 0 and writes a message naming the bad item into err.
 * Returns 1 and sets *n on success.
 */
int dance_net_parse_servers(const char *list, dance_net_server *out, size_t *n,
                            char *err, size_t errlen);

/*
 * dance_net_servers_from_resolv_conf - the "nameserver" lines of path
 * (normally /etc/resolv.conf), port 53. Returns 1 on success with *n >= 1,
 * 0 with a message in err otherwise.
 */
int dance_net_servers_from_resolv_conf(const char *path, dance_net_server *out,
                                       size_t *n, char *err, size_t errlen);

/* dance_net_server_is_loopback - 1 for 127.0.0.0/8 and ::1. */
int dance_net_server_is_loopback(const dance_net_server *server);

/* dance_net_server_str - "IP@PORT" into buf; returns buf. */
char *dance_net_server_str(const dance_net_server *server, char *buf,
                           size_t len);

typedef struct {
    unsigned timeout_ms;   /* wait for one UDP or TCP exchange */
    unsigned attempts;     /* rounds over the server list */
    int dnssec_ok;         /* set the EDNS0 DO bit */
    int checking_disabled; /* set CD: the caller validates itself */
} dance_net_params;

typedef struct {
    unsigned udp_queries;
    unsigned tcp_queries;
} dance_net_counters;

/*
 * dance_net_query - ask (qname, qtype, IN) of servers[0..n), in order, for
 * params->attempts rounds, never past deadline_ms (CLOCK_MONOTONIC
 * milliseconds, see dance_net_now_ms). Truncated UDP replies are retried over
 * TCP to the same server. A reply with rcode SERVFAIL, REFUSED or NOTIMP moves
 * on to the next server; if no server does better, the last such reply is
 * returned with DANCE_NET_OK.
 * On DANCE_NET_OK, *reply is the caller's (ldns_pkt_free). counters (may be
 * NULL) are incremented per packet sent. why receives a reason on failure.
 */
dance_net_status dance_net_query(const dance_net_server *servers, size_t n,
                                 const ldns_rdf *qname, ldns_rr_type qtype,
                                 const dance_net_params *params,
                                 uint64_t deadline_ms, ldns_pkt **reply,
                                 dance_net_counters *counters, char *why,
                                 size_t whylen);

/*
 * A scope bounds every dance_net_query made by the calling thread while it
 * is entered, without the layers in between (dance_res.c) passing it on:
 * the lookup pool (dance_async.c) enters one around each lookup it runs.
 *  - deadline_ms (CLOCK_MONOTONIC ms; 0: none) caps every query's own
 *    deadline, so time a lookup spent queued counts against it;
 *  - cancelled (may be NULL): once it reads nonzero (nobody waits for the
 *    answer any more), a query is not retried: after an exchange that got
 *    no usable reply it returns DANCE_NET_TIMEOUT with "abandoned" as its
 *    reason. A query's first packet is always sent, so an abandoned
 *    lookup never hands other lookups sharing its queries (the resolver's
 *    single flight: DNSKEY, DS) a failure that a working server would not
 *    have caused;
 *  - failures is incremented for every query that ended without a usable
 *    reply because servers timed out or answered only SERVFAIL, REFUSED or
 *    NOTIMP (what makes a zone "failing", see dance_async.h).
 * The scope is borrowed: it must stay valid until dance_net_scope_leave.
 */
typedef struct {
    uint64_t deadline_ms;
    const atomic_int *cancelled;
    unsigned failures;
} dance_net_scope;

/* dance_net_scope_enter - make scope the calling thread's current scope
 * (replacing any other). */
void dance_net_scope_enter(dance_net_scope *scope);

/* dance_net_scope_leave - the calling thread has no scope any more. */
void dance_net_scope_leave(void);

/* A usable reply to question i of a batch; the callee owns reply. */
typedef void (*dance_net_reply_fn)(void *arg, size_t i, ldns_pkt *reply);

/*
 * dance_net_query_batch - ask one server n questions (qnames[i], qtype, IN)
 * at once: each over UDP from a socket and with an ID of its own (as
 * dance_net_query's first packet), all waited for together, for
 * params->timeout_ms and never past deadline_ms; one attempt, no TCP, no
 * other server. on_reply(arg, i, reply) is called as each reply arrives
 * that answers question i (the checks of dance_net_query) and can be used
 * as it is: not truncated, not SERVFAIL, REFUSED or NOTIMP. A question
 * that gets no such reply (none in time, a truncated or malformed one, a
 * server failure, a NULL qname) has no call: the caller asks it the
 * ordinary way, with every retry and fallback of dance_net_query. counters
 * are incremented per packet sent. Returns the number of calls. Uses up to
 * n sockets at once: the caller bounds n.
 */
size_t dance_net_query_batch(const dance_net_server *server,
                             const ldns_rdf *const *qnames, size_t n,
                             ldns_rr_type qtype, const dance_net_params *params,
                             uint64_t deadline_ms, dance_net_reply_fn on_reply,
                             void *arg, dance_net_counters *counters);

/*
 * An answer in hand: set for the calling thread (dance_net_preanswer_set),
 * the next dance_net_query of exactly this question (server, the same
 * pointer; qname, compared as a domain name; qtype; the DO and CD bits)
 * takes reply (setting it to NULL) instead of asking it again. A reply
 * still there afterwards is the setter's to free. This is how a lookup
 * whose first query went out in a batch (dance_net_query_batch) uses that
 * answer without a change to the code that validates it.
 */
typedef struct {
    const dance_net_server *server;
    const ldns_rdf *qname;
    ldns_rr_type qtype;
    int dnssec_ok, checking_disabled;
    ldns_pkt *reply;
} dance_net_preanswer;

/* dance_net_preanswer_set - make pre the calling thread's answer in hand
 * (NULL: none). Borrowed until replaced. */
void dance_net_preanswer_set(dance_net_preanswer *pre);

/* dance_net_now_ms - CLOCK_MONOTONIC in milliseconds. */
uint64_t dance_net_now_ms(void);

#endif /* DANCE_NET_H */
