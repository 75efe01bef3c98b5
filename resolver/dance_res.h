/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_res.h - DNSSEC-validated lookups with a cache.
 *
 * One dance_res serves a whole process: it is thread-safe, and concurrent
 * lookups of one (name, type) share a single query (single flight).
 *
 *   dance_res_config cfg;
 *   dance_res_config_init(&cfg);
 *   cfg.nameservers = "127.0.0.1@5354";
 *   dance_res *res = dance_res_new(&cfg, err, sizeof(err));
 *   dance_res_result *r = dance_res_lookup(res, "_443._tcp.example.com",
 *                                          LDNS_RR_TYPE_TLSA, time(NULL));
 *   if (r != NULL && dance_res_result_status(r) == DANCE_RES_SECURE) ...
 *   dance_res_result_free(r);
 *   dance_res_free(res);
 */
#ifndef DANCE_RES_H
#define DANCE_RES_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dance_cache.h"
#include "dance_net.h"
#include "dance_result.h"

typedef enum {
    DANCE_RES_MODE_VALIDATE = 0, /* walk the chain of trust ourselves */
    DANCE_RES_MODE_TRUST_AD      /* believe the AD bit of a loopback resolver */
} dance_res_mode;

/* The names of the modes, indexed by dance_res_mode, NULL-terminated: the
 * only copy (openssl.cnf's dnssec key and the tool print and parse them). */
extern const char *const dance_res_mode_names[];

/* dance_res_mode_str - "validate" or "trust-ad". */
const char *dance_res_mode_str(dance_res_mode mode);

/*
 * dance_res_exchange_fn - answers one question in place of the network:
 * ask server number `server` (0 <= server < exchange_servers) about (qname,
 * type, IN). Returns 1 with *reply set (the resolver frees it with
 * ldns_pkt_free) or 0 when that server gives no answer (a timeout).
 * Used by the replay tests to run the real validation on scripted replies;
 * it must be safe to call from any thread that calls dance_res_lookup.
 */
typedef int (*dance_res_exchange_fn)(void *arg, size_t server,
                                     const ldns_rdf *qname, uint16_t type,
                                     ldns_pkt **reply);

typedef struct {
    dance_res_mode mode;
    const char *trust_anchor;        /* validate mode; DS/DNSKEY file */
    const dance_net_server *servers; /* parsed already (nservers of them);
                                        NULL: nameservers */
    size_t nservers;
    const char *nameservers;    /* "IP[@PORT], ..."; NULL: resolv_conf */
    const char *resolv_conf;    /* used when nameservers is NULL */
    unsigned timeout_ms;        /* one UDP/TCP exchange */
    unsigned attempts;          /* rounds over the nameserver list */
    unsigned deadline_ms;       /* a whole lookup, chain included */
    size_t cache_max_entries;   /* 0 disables the cache */
    size_t cache_max_bytes;     /* what cached entries may cost; 0: default */
    uint32_t cache_max_ttl;     /* cap on any cached TTL, seconds */
    uint32_t bogus_ttl;         /* how long bogus results are kept, seconds */
    uint32_t indeterminate_ttl; /* 0: failures to look up are not cached */
    uint32_t negative_ttl;      /* cap on secure-nodata/-nxdomain, seconds */
    uint32_t clock_skew;        /* RRSIG inception may be this far ahead of
                                   now, seconds (expiration is exact) */
    dance_res_exchange_fn exchange; /* NULL: the network (nameservers) */
    void *exchange_arg;             /* passed to exchange, borrowed */
    size_t exchange_servers;        /* servers exchange answers for, >= 1 */
} dance_res_config;

/* The resolver's defaults, owned here (it is usable without the provider);
 * the provider's openssl.cnf keys take theirs from these where a key means
 * the same thing (dnssec, trust_anchor, cache_max_entries, cache_max_bytes,
 * cache_max_ttl, clock_skew). Plain literals, so the provider can print
 * them. */
#define DANCE_RES_DEFAULT_MODE DANCE_RES_MODE_VALIDATE
#define DANCE_RES_DEFAULT_TRUST_ANCHOR "/usr/share/dns/root.key"
#define DANCE_RES_DEFAULT_RESOLV_CONF "/etc/resolv.conf"
#define DANCE_RES_DEFAULT_CACHE_MAX_ENTRIES 10000
#define DANCE_RES_DEFAULT_CACHE_MAX_BYTES 67108864 /* 64 MiB */
#define DANCE_RES_DEFAULT_CACHE_MAX_TTL 3600
/* Default and largest accepted clock_skew (one day), seconds. */
#define DANCE_RES_DEFAULT_CLOCK_SKEW 300
#define DANCE_RES_MAX_CLOCK_SKEW 86400

/* dance_res_config_init - defaults: the DANCE_RES_DEFAULT_* above
 * (validate, /usr/share/dns/root.key, /etc/resolv.conf, 10000 entries,
 * 64 MiB, 3600 s max TTL, 300 s clock skew), and 2000 ms per exchange,
 * 2 attempts, 5000 ms per lookup, bogus kept 60 s, failures not cached,
 * the network, proven absence kept at most 3600 s (negative_ttl). */
void dance_res_config_init(dance_res_config *cfg);

typedef struct dance_res dance_res;

/*
 * dance_res_new - a resolver for cfg (strings are copied). With
 * cfg->exchange set, nameservers and resolv_conf are not read. Returns NULL
 * with a message in err naming the setting at fault (unreadable anchor, bad
 * nameserver, trust-ad with a non-loopback nameserver, ...).
 */
dance_res *dance_res_new(const dance_res_config *cfg, char *err, size_t errlen);

/* dance_res_free - NULL is fine. No lookup may be running. */
void dance_res_free(dance_res *res);

/*
 * dance_res_lookup - the DNSSEC status and records of (name, type) at time
 * now (validity of signatures and of cache entries is judged at now).
 * name is in presentation format, with or without the trailing dot.
 * CNAMEs are followed (up to 8 hops), each hop validated; a DNAME above
 * the name counts as a CNAME hop, derived from the validated DNAME (the
 * synthesized CNAME is unsigned and never believed); the result has
 * the weakest status along the chain and the final name's records.
 * Work per lookup is bounded (DNS queries, signature verifications, NSEC3
 * hashes; see dance_res.c); past a bound the result is indeterminate with
 * the reason "validation budget exhausted".
 * Returns a result the caller frees (dance_res_result_free); NULL only when
 * memory runs out.
 */
dance_res_result *dance_res_lookup(dance_res *res, const char *name,
                                   uint16_t type, time_t now);

/*
 * dance_res_refresh - dance_res_lookup, but the answer for (name, type)
 * itself is fetched again even if cached (the chain above it may come from
 * the cache), and the cache is updated. Used to renew names in use before
 * they expire, so a handshake never waits for them.
 */
dance_res_result *dance_res_refresh(dance_res *res, const char *name,
                                    uint16_t type, time_t now);

/*
 * dance_res_lookup_cached - the cached result for (name, type) at now, if
 * the answer is in the cache as one hop (no CNAME to follow); NULL
 * otherwise. Never sends a query. Caller frees the result.
 * With stale_ok, an answer up to one lookup deadline past its expiry is
 * still returned (the caller must renew it: see dance_async.c); whether it
 * expired shows in dance_res_result_expires().
 */
dance_res_result *dance_res_lookup_cached(dance_res *res, const char *name,
                                          uint16_t type, time_t now,
                                          int stale_ok);

/* A name of a batch is looked up: r is the callee's. */
typedef void (*dance_res_batch_fn)(void *arg, size_t i, dance_res_result *r);

/*
 * dance_res_batch - many names looked up with their first queries sent at
 * once (a known population warmed before its clients connect, see
 * dance_async.h): the question of every names[i] (type) goes to the first
 * nameserver at once (dance_net_query_batch: a socket per name; the caller
 * bounds n), and as each answer arrives, within one exchange's timeout_ms,
 * names[i] is looked up as dance_res_lookup would (dance_res_refresh where
 * fresh[i]; fresh may be NULL) with that answer to its first query, and
 * done(arg, i, result) is called. Every other query of the lookup (the
 * chain, CNAME targets) goes out as usual. The batch only moves the first
 * query of each lookup forward in time: every answer is validated by the
 * same code, with the same statuses and limits. A name whose first query
 * had no usable answer gets no call: look it up the ordinary way (retries,
 * TCP, the other servers). With an exchange function configured nothing
 * is sent. Returns the number of calls.
 */
size_t dance_res_batch(dance_res *res, const char *const *names, size_t n,
                       uint16_t type, time_t now, const int *fresh,
                       dance_res_batch_fn done, void *arg);

/* dance_res_deadline_ms - the longest one lookup may take. */
unsigned dance_res_deadline_ms(const dance_res *res);

/*
 * dance_res_atfork_lock / _unlock - hold the resolver's locks across
 * fork() (see dance_async.c, which installs the handlers).
 */
void dance_res_atfork_lock(dance_res *res);
void dance_res_atfork_unlock(dance_res *res);

/*
 * dance_res_atfork_child - in the child after fork(), instead of _unlock:
 * the queries in flight belong to threads the child does not have, so
 * they are forgotten (leaked; the child asks again), and the lock is made
 * new.
 */
void dance_res_atfork_child(dance_res *res);

/* Outcomes counted per lookup: the dance_res_status values, and
 * DANCE_RES_OUTCOME_TIMEOUT for an indeterminate lookup whose last query
 * went unanswered (a timeout rather than SERVFAIL, a bogus chain, ...). */
#define DANCE_RES_OUTCOME_TIMEOUT 6
#define DANCE_RES_OUTCOMES 7

/* dance_res_outcome_str - dance_res_status_str, or "timeout". */
const char *dance_res_outcome_str(int outcome);

typedef struct {
    dance_cache_stats cache;
    uint64_t lookups;          /* dance_res_lookup calls */
    uint64_t udp_queries;      /* packets sent over UDP */
    uint64_t tcp_queries;      /* exchanges over TCP (after truncation) */
    uint64_t shared_waits;     /* lookups that waited for another's query */
    uint64_t refreshes;        /* dance_res_refresh calls */
    uint64_t sig_checks;       /* RRSIG verifications (KeyTrap bound) */
    uint64_t nsec3_hashes;     /* NSEC3 hash computations */
    uint64_t budget_exhausted; /* lookups stopped by a work bound */
    /* lookups (dance_res_lookup, dance_res_refresh) by outcome: index a
     * dance_res_status, or DANCE_RES_OUTCOME_TIMEOUT */
    uint64_t outcomes[DANCE_RES_OUTCOMES];
} dance_res_stats;

/* dance_res_get_stats - a snapshot of the counters. */
void dance_res_get_stats(dance_res *res, dance_res_stats *out);

#endif /* DANCE_RES_H */
