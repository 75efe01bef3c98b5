/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_res.c - DNSSEC-validated lookups: the chain of trust, trust-ad
 * mode, CNAME chains, caching and single flight.
 *
 * Validate mode, one "hop" (name, type) at a time:
 *  - a signed answer names its signer zone S; S's DNSKEY set is trusted
 *    through a trust anchor or through DS records at S, which are themselves
 *    a hop (S, DS) answered and signed by S's parent. Every dependency goes
 *    to a strictly shorter name, or from a type to DS/DNSKEY of the same
 *    name, so recursion ends and single-flight waits cannot form a cycle.
 *  - an unsigned answer is accepted as insecure only if, walking down from
 *    the closest trust anchor, some delegation on the way is proven to have
 *    no DS. Otherwise it is bogus: stripping signatures never downgrades.
 * Every hop's outcome is cached (DNSKEY and DS hops too), so a warm chain
 * costs one query for the leaf and nothing on a cache hit.
 */
#include "dance_res.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dance_anchor.h"
#include "dance_msg.h"
#include "dance_net.h"
#include "dance_validate.h"

#define MAX_CNAME_HOPS 8
#define QUERY_BUDGET 64 /* DNS exchanges one lookup may cause */
/* Cryptographic work one lookup may cause (KeyTrap, CVE-2023-50387; NSEC3,
 * CVE-2023-50868). A valid chain needs about one verification per RRset and
 * a few hashes per NSEC3 proof; an attacker's zone gets no more. */
#define SIG_CHECK_BUDGET DANCE_VAL_MAX_SIG_CHECKS    /* per lookup: 128 */
#define NSEC3_HASH_BUDGET DANCE_VAL_MAX_NSEC3_HASHES /* per lookup: 256 */
#define BUDGET_WHY "validation budget exhausted"
#define WHY_LEN 512

typedef struct inflight inflight;

struct dance_res {
    dance_res_config cfg; /* string members point into the copies below */
    char *trust_anchor;
    dance_net_server servers[DANCE_NET_MAX_SERVERS];
    size_t nservers;
    dance_anchors *anchors; /* validate mode only */
    dance_cache *cache;
    pthread_mutex_t lock; /* guards flights */
    inflight *flights;
    atomic_uint_fast64_t lookups, udp_queries, tcp_queries, shared_waits,
        refreshes, sig_checks, nsec3_hashes, budget_exhausted;
    atomic_uint_fast64_t outcomes[DANCE_RES_OUTCOMES];
};

/* One query being answered; others asking the same wait for it. */
struct inflight {
    inflight *next;
    char *key;
    uint16_t type;
    unsigned refs;     /* owner + waiters; under dance_res.lock */
    const void *owner; /* the lookup computing it (never waits on itself) */
    int done;
    dance_res_result *result; /* one reference, released with the record */
    pthread_cond_t cv;
};

typedef struct {
    dance_res *res;
    time_t now;
    uint64_t deadline;
    unsigned budget;
    int fresh;         /* the next hop skips the cache (a refresh) */
    int timed_out;     /* the last question went unanswered */
    dance_val_ctx *vc; /* time, skew, signature and NSEC3 work bounds */
} lookup_ctx;

static dance_res_result *hop(lookup_ctx *ctx, const ldns_rdf *qname,
                             ldns_rr_type type);

const char *const dance_res_mode_names[] = {"validate", "trust-ad", NULL};

_Static_assert(DANCE_RES_DEFAULT_CACHE_MAX_BYTES ==
                   DANCE_CACHE_DEFAULT_MAX_BYTES,
               "the resolver's and the cache's default bound differ");

/* dance_res_mode_str - "validate" or "trust-ad". */
const char *dance_res_mode_str(dance_res_mode mode)
{
    return mode == DANCE_RES_MODE_TRUST_AD ? dance_res_mode_names[1]
                                           : dance_res_mode_names[0];
}

/* dance_res_config_init - documented defaults. */
void dance_res_config_init(dance_res_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->mode = DANCE_RES_DEFAULT_MODE;
    cfg->trust_anchor = DANCE_RES_DEFAULT_TRUST_ANCHOR;
    cfg->resolv_conf = DANCE_RES_DEFAULT_RESOLV_CONF;
    cfg->timeout_ms = 2000;
    cfg->attempts = 2;
    cfg->deadline_ms = 5000;
    cfg->cache_max_entries = DANCE_RES_DEFAULT_CACHE_MAX_ENTRIES;
    cfg->cache_max_bytes = DANCE_RES_DEFAULT_CACHE_MAX_BYTES;
    cfg->cache_max_ttl = DANCE_RES_DEFAULT_CACHE_MAX_TTL;
    cfg->bogus_ttl = 60;
    cfg->indeterminate_ttl = 0;
    cfg->negative_ttl = 3600;
    cfg->clock_skew = DANCE_RES_DEFAULT_CLOCK_SKEW;
}

/* dance_res_new - see header. */
dance_res *dance_res_new(const dance_res_config *cfg, char *err, size_t errlen)
{
    dance_res *res = calloc(1, sizeof(*res));
    int ok;

    if (res == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    res->cfg = *cfg;
    pthread_mutex_init(&res->lock, NULL);
    if (cfg->timeout_ms == 0 || cfg->attempts == 0 || cfg->deadline_ms == 0) {
        snprintf(err, errlen, "timeout, attempts and deadline must be > 0");
        goto err;
    }
    if (cfg->clock_skew > DANCE_RES_MAX_CLOCK_SKEW) {
        snprintf(err, errlen, "clock_skew must be at most %d seconds",
                 DANCE_RES_MAX_CLOCK_SKEW);
        goto err;
    }
    if (cfg->exchange != NULL) {
        ok = cfg->exchange_servers >= 1 &&
             cfg->exchange_servers <= DANCE_NET_MAX_SERVERS;
        if (!ok)
            snprintf(err, errlen, "exchange needs 1 to %d servers",
                     DANCE_NET_MAX_SERVERS);
        res->nservers = cfg->exchange_servers;
    } else if (cfg->servers != NULL) {
        ok = cfg->nservers >= 1 && cfg->nservers <= DANCE_NET_MAX_SERVERS;
        if (!ok)
            snprintf(err, errlen, "1 to %d nameservers are needed",
                     DANCE_NET_MAX_SERVERS);
        else
            memcpy(res->servers, cfg->servers,
                   cfg->nservers * sizeof(*cfg->servers));
        res->nservers = ok ? cfg->nservers : 0;
    } else if (cfg->nameservers != NULL)
        ok = dance_net_parse_servers(cfg->nameservers, res->servers,
                                     &res->nservers, err, errlen);
    else
        ok = dance_net_servers_from_resolv_conf(
            cfg->resolv_conf != NULL ? cfg->resolv_conf
                                     : DANCE_RES_DEFAULT_RESOLV_CONF,
            res->servers, &res->nservers, err, errlen);
    if (!ok)
        goto err;
    if (cfg->mode == DANCE_RES_MODE_TRUST_AD && cfg->exchange == NULL) {
        /* The AD bit crosses the wire unauthenticated: only a resolver on
         * this host can be believed (as Postfix requires). */
        for (size_t i = 0; i < res->nservers; i++) {
            char addr[80];

            if (!dance_net_server_is_loopback(&res->servers[i])) {
                snprintf(
                    err, errlen,
                    "dnssec = trust-ad needs nameservers on loopback; "
                    "%s is not",
                    dance_net_server_str(&res->servers[i], addr, sizeof(addr)));
                goto err;
            }
        }
    } else {
        if (cfg->trust_anchor == NULL) {
            snprintf(err, errlen, "dnssec = validate needs a trust_anchor");
            goto err;
        }
        res->anchors = dance_anchors_load(cfg->trust_anchor, err, errlen);
        if (res->anchors == NULL)
            goto err;
    }
    res->cfg.servers = NULL; /* copied or parsed; no caller pointers kept */
    res->cfg.nameservers = NULL;
    res->cfg.resolv_conf = NULL;
    res->cfg.trust_anchor = NULL;
    res->cache = dance_cache_new(cfg->cache_max_entries);
    if (res->cache == NULL) {
        snprintf(err, errlen, "out of memory");
        goto err;
    }
    dance_cache_set_max_bytes(res->cache, cfg->cache_max_bytes);
    return res;
err:
    dance_res_free(res);
    return NULL;
}

/* dance_res_free - see header. */
void dance_res_free(dance_res *res)
{
    if (res == NULL)
        return;
    dance_anchors_free(res->anchors);
    dance_cache_free(res->cache);
    pthread_mutex_destroy(&res->lock);
    free(res);
}

/* dance_res_get_stats - see header. */
void dance_res_get_stats(dance_res *res, dance_res_stats *out)
{
    memset(out, 0, sizeof(*out));
    dance_cache_get_stats(res->cache, &out->cache);
    out->lookups = atomic_load(&res->lookups);
    out->udp_queries = atomic_load(&res->udp_queries);
    out->tcp_queries = atomic_load(&res->tcp_queries);
    out->shared_waits = atomic_load(&res->shared_waits);
    out->refreshes = atomic_load(&res->refreshes);
    out->sig_checks = atomic_load(&res->sig_checks);
    out->nsec3_hashes = atomic_load(&res->nsec3_hashes);
    out->budget_exhausted = atomic_load(&res->budget_exhausted);
    for (int i = 0; i < DANCE_RES_OUTCOMES; i++)
        out->outcomes[i] = atomic_load(&res->outcomes[i]);
}

/* dance_res_outcome_str - see header. */
const char *dance_res_outcome_str(int outcome)
{
    return outcome == DANCE_RES_OUTCOME_TIMEOUT
               ? "timeout"
               : dance_res_status_str((dance_res_status)outcome);
}

/* dance_res_deadline_ms - see header. */
unsigned dance_res_deadline_ms(const dance_res *res)
{
    return res->cfg.deadline_ms;
}

/* dance_res_atfork_lock - see header. */
void dance_res_atfork_lock(dance_res *res)
{
    pthread_mutex_lock(&res->lock);
    dance_cache_atfork_lock(res->cache);
}

/* dance_res_atfork_unlock - see header. */
void dance_res_atfork_unlock(dance_res *res)
{
    dance_cache_atfork_unlock(res->cache);
    pthread_mutex_unlock(&res->lock);
}

/* dance_res_atfork_child - see header. */
void dance_res_atfork_child(dance_res *res)
{
    res->flights = NULL; /* their owners and waiters stayed in the parent */
    dance_cache_atfork_unlock(res->cache);
    pthread_mutex_init(&res->lock, NULL);
}

/* ---- small helpers ------------------------------------------------------ */

/* dname_str - presentation form (caller frees), "?" on failure. */
static char *dname_str(const ldns_rdf *name)
{
    char *s = ldns_rdf2str(name);

    return s != NULL ? s : strdup("?");
}

/* make_result - build a result for a hop; frees rrset (the result keeps a
 * compact copy); ttl capped per status and configuration. */
static dance_res_result *make_result(lookup_ctx *ctx, const ldns_rdf *qname,
                                     ldns_rr_type type, dance_res_status st,
                                     ldns_rr_list *rrset, uint32_t ttl,
                                     const char *why)
{
    const dance_res_config *cfg = &ctx->res->cfg;
    char *name = dname_str(qname);
    dance_res_result *r = NULL;

    if (st == DANCE_RES_BOGUS && ttl > cfg->bogus_ttl)
        ttl = cfg->bogus_ttl;
    if (st == DANCE_RES_INDETERMINATE)
        ttl = cfg->indeterminate_ttl;
    if ((st == DANCE_RES_SECURE_NODATA || st == DANCE_RES_SECURE_NXDOMAIN) &&
        ttl > cfg->negative_ttl)
        ttl = cfg->negative_ttl;
    if (ttl > cfg->cache_max_ttl)
        ttl = cfg->cache_max_ttl;
    r = dance_res_result_new(name != NULL ? name : "?", type, st, rrset, ttl,
                             ctx->now, why);
    free(name);
    ldns_rr_list_deep_free(rrset);
    return r;
}

/* fail - a result with no records. */
static dance_res_result *fail(lookup_ctx *ctx, const ldns_rdf *qname,
                              ldns_rr_type type, dance_res_status st,
                              const char *why)
{
    return make_result(ctx, qname, type, st, NULL, ctx->res->cfg.bogus_ttl,
                       why);
}

/* usable_rcode - a reply another server could not improve on. */
static int usable_rcode(const ldns_pkt *pkt)
{
    ldns_pkt_rcode rc = ldns_pkt_get_rcode(pkt);

    return rc != LDNS_RCODE_SERVFAIL && rc != LDNS_RCODE_REFUSED &&
           rc != LDNS_RCODE_NOTIMPL;
}

/* ask - one question to servers [first, first + n), counted against the
 * lookup's budget: over the network, or through the configured exchange
 * (then in order, moving on past SERVFAIL, REFUSED and NOTIMP as
 * dance_net_query does). */
static ldns_pkt *ask(lookup_ctx *ctx, size_t first, size_t n,
                     const ldns_rdf *qname, ldns_rr_type type, int cd,
                     char *why)
{
    const dance_res_config *cfg = &ctx->res->cfg;
    dance_net_params p = {.timeout_ms = cfg->timeout_ms,
                          .attempts = cfg->attempts,
                          .dnssec_ok = 1,
                          .checking_disabled = cd};
    dance_net_counters c = {0, 0};
    ldns_pkt *pkt = NULL, *last = NULL;
    dance_net_status st;

    if (ctx->budget == 0) {
        dance_msg(why, WHY_LEN, "query budget of %d exhausted", QUERY_BUDGET);
        return NULL;
    }
    ctx->budget--;
    if (cfg->exchange == NULL) {
        st = dance_net_query(ctx->res->servers + first, n, qname, type, &p,
                             ctx->deadline, &pkt, &c, why, WHY_LEN);
        atomic_fetch_add(&ctx->res->udp_queries, c.udp_queries);
        atomic_fetch_add(&ctx->res->tcp_queries, c.tcp_queries);
        ctx->timed_out = st == DANCE_NET_TIMEOUT;
        return st == DANCE_NET_OK ? pkt : NULL;
    }
    for (size_t i = first; i < first + n; i++) {
        pkt = NULL;
        atomic_fetch_add(&ctx->res->udp_queries, 1);
        if (!cfg->exchange(cfg->exchange_arg, i, qname, type, &pkt) ||
            pkt == NULL)
            continue;
        ldns_pkt_free(last);
        last = pkt;
        if (usable_rcode(pkt))
            break;
    }
    if (last == NULL)
        dance_msg(why, WHY_LEN, "no server answered");
    ctx->timed_out = last == NULL; /* exchange: no answer is a timeout */
    return last;
}

/* child_apex_reply - a DS reply from the child's side of the cut: no DS
 * in the answer and the child's own SOA in the authority section. */
static int child_apex_reply(const ldns_pkt *pkt, const ldns_rdf *qname)
{
    const ldns_rr_list *an = ldns_pkt_answer(pkt),
                       *ns = ldns_pkt_authority(pkt);
    int soa = 0;

    for (size_t i = 0; i < ldns_rr_list_rr_count(an); i++)
        if (ldns_rr_get_type(ldns_rr_list_rr(an, i)) == LDNS_RR_TYPE_DS)
            return 0;
    for (size_t i = 0; i < ldns_rr_list_rr_count(ns); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(ns, i);

        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA &&
            ldns_dname_compare(ldns_rr_owner(rr), qname) == 0)
            soa = 1;
    }
    return soa;
}

/* query - one question. DS is data of the parent zone: a server that holds
 * only the child answers it from the child's apex, which proves nothing
 * (RFC 4035 3.1.4.1), so DS is asked of each server in turn until one
 * answers from the parent side. */
static ldns_pkt *query(lookup_ctx *ctx, const ldns_rdf *qname,
                       ldns_rr_type type, int cd, char *why)
{
    size_t n = ctx->res->nservers;
    ldns_pkt *fallback = NULL;

    if (type != LDNS_RR_TYPE_DS || n == 1 ||
        ctx->res->cfg.mode == DANCE_RES_MODE_TRUST_AD)
        return ask(ctx, 0, n, qname, type, cd, why);
    for (size_t i = 0; i < n; i++) {
        ldns_pkt *pkt = ask(ctx, i, 1, qname, type, cd, why);

        if (pkt == NULL)
            continue;
        if (usable_rcode(pkt) && !child_apex_reply(pkt, qname)) {
            ldns_pkt_free(fallback);
            return pkt;
        }
        if (fallback == NULL || !usable_rcode(fallback)) {
            ldns_pkt_free(fallback);
            fallback = pkt;
        } else {
            ldns_pkt_free(pkt);
        }
    }
    return fallback;
}

/* spent - the status of a failed check: indeterminate when a work bound
 * stopped it (the reason becomes BUDGET_WHY), bogus otherwise. */
static dance_res_status spent(lookup_ctx *ctx, char *why)
{
    if (!dance_val_ctx_exhausted(ctx->vc))
        return DANCE_RES_BOGUS;
    dance_msg(why, WHY_LEN, "%s", BUDGET_WHY);
    return DANCE_RES_INDETERMINATE;
}

/* section_select - clone of the records in a section with owner name (or
 * any owner if NULL) and type (or any type if 0), class IN. */
static ldns_rr_list *section_select(const ldns_rr_list *sec,
                                    const ldns_rdf *owner, ldns_rr_type type)
{
    ldns_rr_list *out = ldns_rr_list_new();

    for (size_t i = 0; out != NULL && i < ldns_rr_list_rr_count(sec); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(sec, i);

        if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN ||
            (type != 0 && ldns_rr_get_type(rr) != type) ||
            (owner != NULL &&
             ldns_dname_compare(ldns_rr_owner(rr), owner) != 0))
            continue;
        if (!ldns_rr_list_push_rr(out, ldns_rr_clone(rr))) {
            ldns_rr_list_deep_free(out);
            return NULL;
        }
    }
    return out;
}

/* min_ttl - smallest TTL in a list, or cap if the list is empty. */
static uint32_t min_ttl(const ldns_rr_list *l, uint32_t cap)
{
    for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++)
        if (ldns_rr_ttl(ldns_rr_list_rr(l, i)) < cap)
            cap = ldns_rr_ttl(ldns_rr_list_rr(l, i));
    return cap;
}

/* negative_ttl - RFC 2308: min(SOA TTL, SOA MINIMUM) of the authority. */
static uint32_t negative_ttl(const ldns_rr_list *auth, uint32_t cap)
{
    for (size_t i = 0; i < ldns_rr_list_rr_count(auth); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(auth, i);

        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA ||
            ldns_rr_rd_count(rr) != 7)
            continue;
        if (ldns_rr_ttl(rr) < cap)
            cap = ldns_rr_ttl(rr);
        if (ldns_rdf2native_int32(ldns_rr_rdf(rr, 6)) < cap)
            cap = ldns_rdf2native_int32(ldns_rr_rdf(rr, 6));
    }
    return cap;
}

/* rcode_str - mnemonic of a reply's rcode (caller frees). */
static char *rcode_str(const ldns_pkt *pkt)
{
    char *s = ldns_pkt_rcode2str(ldns_pkt_get_rcode(pkt));

    return s != NULL ? s : strdup("?");
}

/* ---- validate mode ------------------------------------------------------ */

/* pick_signer - the signer of the first RRSIG in sigs covering type (any
 * type if 0) whose signer may sign for (qname, qtype): at or above qname,
 * strictly above for DS (which the parent signs: a child's apex NSEC must
 * never deny its own DS). Borrowed from sigs, or NULL. */
static const ldns_rdf *pick_signer(const ldns_rr_list *sigs,
                                   const ldns_rdf *qname, ldns_rr_type qtype,
                                   ldns_rr_type type)
{
    for (size_t i = 0; i < ldns_rr_list_rr_count(sigs); i++) {
        const ldns_rr *sig = ldns_rr_list_rr(sigs, i);
        const ldns_rdf *signer;

        if (ldns_rr_rd_count(sig) != 9 ||
            (type != 0 &&
             ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig)) != type))
            continue;
        signer = ldns_rr_rrsig_signame(sig);
        if (ldns_dname_is_subdomain(qname, signer) ||
            (qtype != LDNS_RR_TYPE_DS &&
             ldns_dname_compare(qname, signer) == 0))
            return signer;
    }
    return NULL;
}

/* prove_insecure - an unsigned reply about (qname, type) is acceptable
 * only below a delegation proven to have no DS. Walk down from the closest
 * trust anchor asking for DS at each name. Returns the status that the
 * unsigned reply deserves: insecure, bogus or indeterminate. */
static dance_res_status prove_insecure(lookup_ctx *ctx, const ldns_rdf *qname,
                                       ldns_rr_type type, char *why)
{
    const ldns_rdf *anchor = dance_anchors_closest(ctx->res->anchors, qname);
    uint8_t qlabels = ldns_dname_label_count(qname);
    /* DS at qname is data of the parent: only cuts above qname count. */
    uint8_t last = type == LDNS_RR_TYPE_DS ? qlabels - 1 : qlabels;
    char *qs = dname_str(qname);

    if (anchor == NULL) {
        dance_msg(why, WHY_LEN, "no trust anchor covers %s", qs);
        free(qs);
        return DANCE_RES_INSECURE;
    }
    for (uint8_t l = ldns_dname_label_count(anchor) + 1; l <= last; l++) {
        ldns_rdf *c = ldns_dname_clone_from(qname, (uint16_t)(qlabels - l));
        dance_res_result *ds = c != NULL ? hop(ctx, c, LDNS_RR_TYPE_DS) : NULL;
        dance_res_status st =
            ds != NULL ? dance_res_result_status(ds) : DANCE_RES_INDETERMINATE;
        char *cs = c != NULL ? dname_str(c) : strdup("?");

        if (st == DANCE_RES_INSECURE) {
            dance_msg(why, WHY_LEN, "unsigned delegation at %s (%s)",
                      cs ? cs : "?", dance_res_result_get0_why(ds));
        } else if (st == DANCE_RES_BOGUS || st == DANCE_RES_INDETERMINATE) {
            dance_msg(why, WHY_LEN, "DS lookup for %s: %s", cs ? cs : "?",
                      ds != NULL ? dance_res_result_get0_why(ds)
                                 : "out of memory");
        } else if (st == DANCE_RES_SECURE_NXDOMAIN) {
            dance_msg(why, WHY_LEN,
                      "unsigned reply about %s, but %s is proven not to exist",
                      qs, cs ? cs : "?");
            st = DANCE_RES_BOGUS;
        }
        free(cs);
        ldns_rdf_deep_free(c);
        dance_res_result_free(ds);
        if (st != DANCE_RES_SECURE && st != DANCE_RES_SECURE_NODATA) {
            free(qs);
            return st;
        }
    }
    dance_msg(why, WHY_LEN, "unsigned reply about %s inside a signed zone", qs);
    free(qs);
    return DANCE_RES_BOGUS;
}

/* zone_keys - the validated DNSKEY set of zone (a DNSKEY hop). */
static dance_res_result *zone_keys(lookup_ctx *ctx, const ldns_rdf *zone)
{
    const ldns_rr_list *trust = dance_anchors_get0(ctx->res->anchors, zone);
    dance_res_result *ds = NULL, *r = NULL;
    ldns_rr_list *dnskeys = NULL, *sigs = NULL, *keys = NULL, *ds_set = NULL;
    ldns_pkt *pkt = NULL;
    char why[WHY_LEN], *zs = dname_str(zone);
    uint32_t ttl = 0;

    if (ldns_rr_list_rr_count(trust) == 0) {
        dance_res_status st;

        if (dance_anchors_closest(ctx->res->anchors, zone) == NULL) {
            dance_msg(why, WHY_LEN, "no trust anchor covers %s", zs);
            r = fail(ctx, zone, LDNS_RR_TYPE_DNSKEY, DANCE_RES_INSECURE, why);
            goto done;
        }
        ds = hop(ctx, zone, LDNS_RR_TYPE_DS);
        st = ds != NULL ? dance_res_result_status(ds) : DANCE_RES_INDETERMINATE;
        if (st != DANCE_RES_SECURE) {
            const char *dwhy =
                ds != NULL ? dance_res_result_get0_why(ds) : "out of memory";

            if (st == DANCE_RES_INSECURE) {
                dance_msg(why, WHY_LEN, "%s is not signed: %s", zs, dwhy);
            } else if (dance_res_status_is_secure(st)) {
                dance_msg(why, WHY_LEN,
                          "signer %s is not a signed zone: no DS (%s)", zs,
                          dance_res_status_str(st));
                st = DANCE_RES_BOGUS;
            } else {
                dance_msg(why, WHY_LEN, "DS of %s: %s", zs, dwhy);
            }
            r = fail(ctx, zone, LDNS_RR_TYPE_DNSKEY, st, why);
            goto done;
        }
        ds_set = dance_res_result_get1_rrset(ds);
        if (ds_set == NULL) {
            r = fail(ctx, zone, LDNS_RR_TYPE_DNSKEY, DANCE_RES_INDETERMINATE,
                     "out of memory");
            goto done;
        }
        trust = ds_set;
    }
    pkt = query(ctx, zone, LDNS_RR_TYPE_DNSKEY, 1, why);
    if (pkt == NULL) {
        r = fail(ctx, zone, LDNS_RR_TYPE_DNSKEY, DANCE_RES_INDETERMINATE, why);
        goto done;
    }
    dnskeys = section_select(ldns_pkt_answer(pkt), zone, LDNS_RR_TYPE_DNSKEY);
    sigs = section_select(ldns_pkt_answer(pkt), zone, LDNS_RR_TYPE_RRSIG);
    if (dnskeys == NULL || sigs == NULL) {
        r = fail(ctx, zone, LDNS_RR_TYPE_DNSKEY, DANCE_RES_INDETERMINATE,
                 "out of memory");
        goto done;
    }
    if (ldns_rr_list_rr_count(dnskeys) == 0) {
        char *rc = rcode_str(pkt);

        dance_msg(why, WHY_LEN, "no DNSKEY records for %s (rcode %s)", zs, rc);
        free(rc);
        r = fail(ctx, zone, LDNS_RR_TYPE_DNSKEY,
                 ldns_pkt_get_rcode(pkt) == LDNS_RCODE_NOERROR ||
                         ldns_pkt_get_rcode(pkt) == LDNS_RCODE_NXDOMAIN
                     ? DANCE_RES_BOGUS
                     : DANCE_RES_INDETERMINATE,
                 why);
        goto done;
    }
    switch (dance_val_keyset(dnskeys, sigs, zone, trust, ctx->vc, &keys, &ttl,
                             why, sizeof(why))) {
    case DANCE_VAL_KEYS_SECURE:
        if (ds != NULL && dance_res_result_ttl(ds) < ttl)
            ttl = dance_res_result_ttl(ds);
        dance_msg(why, WHY_LEN, "DNSKEY set of %s validated", zs);
        r = make_result(ctx, zone, LDNS_RR_TYPE_DNSKEY, DANCE_RES_SECURE, keys,
                        ttl, why);
        break;
    case DANCE_VAL_KEYS_INSECURE:
        r = make_result(ctx, zone, LDNS_RR_TYPE_DNSKEY, DANCE_RES_INSECURE,
                        NULL, min_ttl(dnskeys, UINT32_MAX), why);
        break;
    case DANCE_VAL_KEYS_BOGUS:
        r = fail(ctx, zone, LDNS_RR_TYPE_DNSKEY, spent(ctx, why), why);
        break;
    }
done:
    free(zs);
    ldns_rr_list_deep_free(dnskeys);
    ldns_rr_list_deep_free(sigs);
    ldns_rr_list_deep_free(ds_set);
    ldns_pkt_free(pkt);
    dance_res_result_free(ds);
    return r;
}

/* verified_denials - the NSEC/NSEC3 RRsets of the authority section whose
 * signatures by zone verify with keys (caller frees); their TTL cap in *ttl.
 * Unverifiable records are left out: they then prove nothing. */
static ldns_rr_list *verified_denials(lookup_ctx *ctx, const ldns_pkt *pkt,
                                      const ldns_rdf *zone,
                                      const ldns_rr_list *keys, uint32_t *ttl)
{
    const ldns_rr_list *auth = ldns_pkt_authority(pkt);
    ldns_rr_list *out = ldns_rr_list_new();
    ldns_rr_list *sigs = section_select(auth, NULL, LDNS_RR_TYPE_RRSIG);

    for (size_t i = 0;
         out != NULL && sigs != NULL && i < ldns_rr_list_rr_count(auth); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(auth, i);
        ldns_rr_type t = ldns_rr_get_type(rr);
        ldns_rr_list *set;
        uint32_t set_ttl = 0;
        uint8_t labels;
        char why[WHY_LEN];

        if (t != LDNS_RR_TYPE_NSEC && t != LDNS_RR_TYPE_NSEC3)
            continue;
        set = ldns_rr_list_new();
        if (set == NULL || !ldns_rr_list_push_rr(set, ldns_rr_clone(rr))) {
            ldns_rr_list_deep_free(set);
            continue;
        }
        if (dance_val_rrset(set, sigs, zone, keys, ctx->vc, &set_ttl, &labels,
                            why, sizeof(why))) {
            ldns_rr_list_push_rr(out, ldns_rr_list_pop_rr(set));
            if (set_ttl < *ttl)
                *ttl = set_ttl;
        }
        ldns_rr_list_deep_free(set);
    }
    ldns_rr_list_deep_free(sigs);
    return out;
}

/* is_wildcard_name - does the name start with the "*" label? */
static int is_wildcard_name(const ldns_rdf *name)
{
    const uint8_t *d = ldns_rdf_data(name);

    return ldns_rdf_size(name) >= 2 && d[0] == 1 && d[1] == '*';
}

/* signer_keys - the validated DNSKEY set of signer (caller frees), or
 * NULL with *st the status a reply signed by it deserves (insecure: the
 * zone is unsigned; bogus or indeterminate: its keys failed) and why. */
static ldns_rr_list *signer_keys(lookup_ctx *ctx, const ldns_rdf *signer,
                                 dance_res_status *st, char *why)
{
    dance_res_result *keys = hop(ctx, signer, LDNS_RR_TYPE_DNSKEY);
    ldns_rr_list *keyset = NULL;

    *st =
        keys != NULL ? dance_res_result_status(keys) : DANCE_RES_INDETERMINATE;
    if (*st == DANCE_RES_SECURE) {
        keyset = dance_res_result_get1_rrset(keys);
        if (keyset == NULL) {
            *st = DANCE_RES_INDETERMINATE;
            dance_msg(why, WHY_LEN, "out of memory");
        }
    } else if (*st == DANCE_RES_INSECURE) {
        dance_msg(why, WHY_LEN, "%s", dance_res_result_get0_why(keys));
    } else {
        char *ss = dname_str(signer);

        dance_msg(why, WHY_LEN, "keys of %s: %s", ss != NULL ? ss : "?",
                  keys != NULL ? dance_res_result_get0_why(keys)
                               : "out of memory");
        free(ss);
    }
    dance_res_result_free(keys);
    return keyset;
}

/* signed_positive - validate an answer RRset signed by signer. */
static dance_res_result *signed_positive(lookup_ctx *ctx, const ldns_pkt *pkt,
                                         const ldns_rdf *qname,
                                         ldns_rr_type type, ldns_rr_list *set,
                                         const ldns_rdf *signer)
{
    dance_res_result *r = NULL;
    ldns_rr_list *sigs =
        section_select(ldns_pkt_answer(pkt), qname, LDNS_RR_TYPE_RRSIG);
    uint8_t labels = 0, qlabels = ldns_dname_label_count(qname);
    uint32_t ttl = 0;
    char why[WHY_LEN], *ss = dname_str(signer);
    dance_res_status kst;
    ldns_rr_list *keyset = signer_keys(ctx, signer, &kst, why);

    if (keyset == NULL && kst == DANCE_RES_INSECURE) {
        r = make_result(ctx, qname, type, DANCE_RES_INSECURE, set,
                        min_ttl(set, UINT32_MAX), why);
        set = NULL;
    } else if (keyset == NULL) {
        r = fail(ctx, qname, type, kst, why);
    } else if (sigs == NULL ||
               !dance_val_rrset(set, sigs, signer, keyset, ctx->vc, &ttl,
                                &labels, why, sizeof(why))) {
        r = fail(ctx, qname, type, spent(ctx, why), why);
    } else {
        if (is_wildcard_name(qname))
            qlabels--;
        if (labels < qlabels) {
            uint32_t nttl = ttl;
            ldns_rr_list *nsecs =
                verified_denials(ctx, pkt, signer, keyset, &nttl);

            dance_denial d =
                nsecs == NULL ? DANCE_DENIAL_FAIL
                              : dance_val_wildcard(qname, labels, nsecs, signer,
                                                   ctx->vc, why, sizeof(why));

            ldns_rr_list_deep_free(nsecs);
            if (d == DANCE_DENIAL_INSECURE) {
                r = make_result(ctx, qname, type, DANCE_RES_INSECURE, set, nttl,
                                why);
                set = NULL;
                goto done;
            }
            if (d != DANCE_DENIAL_NXDOMAIN) {
                r = fail(ctx, qname, type, spent(ctx, why), why);
                goto done;
            }
            ttl = nttl;
        }
        dance_msg(why, WHY_LEN, "signed by %s, chain of trust validated", ss);
        r = make_result(ctx, qname, type, DANCE_RES_SECURE, set, ttl, why);
        set = NULL;
    }
done:
    free(ss);
    ldns_rr_list_deep_free(set);
    ldns_rr_list_deep_free(sigs);
    ldns_rr_list_deep_free(keyset);
    return r;
}

/* signed_negative - validate an NXDOMAIN or NODATA reply signed by signer. */
static dance_res_result *signed_negative(lookup_ctx *ctx, const ldns_pkt *pkt,
                                         const ldns_rdf *qname,
                                         ldns_rr_type type,
                                         const ldns_rdf *signer)
{
    dance_res_result *r = NULL;
    dance_res_status kst;
    int nxdomain = ldns_pkt_get_rcode(pkt) == LDNS_RCODE_NXDOMAIN;
    uint32_t ttl = negative_ttl(ldns_pkt_authority(pkt), UINT32_MAX);
    ldns_rr_list *nsecs = NULL, *keyset = NULL;
    char why[WHY_LEN], *ss = dname_str(signer);

    keyset = signer_keys(ctx, signer, &kst, why);
    if (keyset == NULL) {
        r = kst == DANCE_RES_INSECURE
                ? make_result(ctx, qname, type, DANCE_RES_INSECURE, NULL, ttl,
                              why)
                : fail(ctx, qname, type, kst, why);
        goto done;
    }
    nsecs = verified_denials(ctx, pkt, signer, keyset, &ttl);
    if (nsecs == NULL) {
        r = fail(ctx, qname, type, DANCE_RES_INDETERMINATE, "out of memory");
        goto done;
    }
    switch (dance_val_denial(qname, type, nxdomain, nsecs, signer, ctx->vc, why,
                             sizeof(why))) {
    case DANCE_DENIAL_NODATA:
        dance_msg(why, WHY_LEN, "no such type, proven by %s", ss);
        r = make_result(ctx, qname, type, DANCE_RES_SECURE_NODATA, NULL, ttl,
                        why);
        break;
    case DANCE_DENIAL_NXDOMAIN:
        dance_msg(why, WHY_LEN, "no such name, proven by %s", ss);
        r = make_result(ctx, qname, type, DANCE_RES_SECURE_NXDOMAIN, NULL, ttl,
                        why);
        break;
    case DANCE_DENIAL_NO_DS:
        /* Inside the resolver this DS hop is insecure: the chain of trust
         * ends at this cut (zone_keys, prove_insecure). The verified
         * denial records ride along as the mark that the parent proved
         * it, so that a lookup of the DS itself reports what it is: a
         * secure absence (public_result). */
        dance_msg(why, WHY_LEN, "no DS: %s proves a delegation without DS", ss);
        r = make_result(ctx, qname, type, DANCE_RES_INSECURE, nsecs, ttl, why);
        nsecs = NULL;
        break;
    case DANCE_DENIAL_INSECURE:
        r = make_result(ctx, qname, type, DANCE_RES_INSECURE, NULL, ttl, why);
        break;
    case DANCE_DENIAL_FAIL: {
        char detail[WHY_LEN + 16];
        dance_res_status st = spent(ctx, why);

        snprintf(detail, sizeof(detail), "%s: %s",
                 nxdomain ? "NXDOMAIN" : "NODATA", why);
        r = fail(ctx, qname, type, st,
                 st == DANCE_RES_INDETERMINATE ? why : detail);
        break;
    }
    }
done:
    free(ss);
    ldns_rr_list_deep_free(nsecs);
    ldns_rr_list_deep_free(keyset);
    return r;
}

/* unsigned_reply - an answer or denial without usable signatures. */
static dance_res_result *unsigned_reply(lookup_ctx *ctx, const ldns_rdf *qname,
                                        ldns_rr_type type, ldns_rr_list *set,
                                        uint32_t ttl)
{
    char why[WHY_LEN];
    dance_res_status st = prove_insecure(ctx, qname, type, why);

    if (st != DANCE_RES_INSECURE) {
        ldns_rr_list_deep_free(set);
        return fail(ctx, qname, type, st, why);
    }
    return make_result(ctx, qname, type, DANCE_RES_INSECURE, set, ttl, why);
}

/* find_dname - a DNAME of the answer section whose owner is a proper
 * ancestor of qname (it redirects qname, RFC 6672 2.2), or NULL. */
static const ldns_rr *find_dname(const ldns_rr_list *answer,
                                 const ldns_rdf *qname)
{
    for (size_t i = 0; i < ldns_rr_list_rr_count(answer); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(answer, i);

        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_DNAME &&
            ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
            ldns_rr_rd_count(rr) == 1 &&
            ldns_dname_is_subdomain(qname, ldns_rr_owner(rr)))
            return rr;
    }
    return NULL;
}

/* dname_substitute - qname with its suffix owner replaced by target (RFC
 * 6672 2.2); caller frees; NULL if the result would be too long. */
static ldns_rdf *dname_substitute(const ldns_rdf *qname, const ldns_rdf *owner,
                                  const ldns_rdf *target)
{
    size_t keep = ldns_rdf_size(qname) - ldns_rdf_size(owner);
    size_t len = keep + ldns_rdf_size(target);
    uint8_t buf[LDNS_MAX_DOMAINLEN + 1];

    if (ldns_rdf_size(owner) > ldns_rdf_size(qname) || len > LDNS_MAX_DOMAINLEN)
        return NULL;
    memcpy(buf, ldns_rdf_data(qname), keep);
    memcpy(buf + keep, ldns_rdf_data(target), ldns_rdf_size(target));
    return ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, len, buf);
}

/* dname_hop - (qname, type) answered through a DNAME at an ancestor: the
 * DNAME RRset is validated like any answer (signed, or proven unsigned),
 * and the CNAME is derived from it, never taken from the reply, where it
 * is unsigned (RFC 4035 3.2.3, RFC 6672 5.3.1): a synthesized CNAME that
 * says otherwise is bogus. The hop becomes a CNAME hop with the DNAME's
 * status, which the lookup follows like any CNAME. */
static dance_res_result *dname_hop(lookup_ctx *ctx, const ldns_pkt *pkt,
                                   const ldns_rdf *qname, ldns_rr_type type,
                                   const ldns_rr *dname)
{
    const ldns_rdf *owner = ldns_rr_owner(dname);
    ldns_rr_list *dset =
        section_select(ldns_pkt_answer(pkt), owner, LDNS_RR_TYPE_DNAME);
    ldns_rr_list *sigs =
        section_select(ldns_pkt_answer(pkt), owner, LDNS_RR_TYPE_RRSIG);
    ldns_rr_list *synth =
        section_select(ldns_pkt_answer(pkt), qname, LDNS_RR_TYPE_CNAME);
    ldns_rr_list *out = NULL;
    const ldns_rdf *signer;
    dance_res_result *d = NULL, *r = NULL;
    dance_res_status st;
    ldns_rdf *target = NULL;
    ldns_rr *cname = NULL;
    char why[WHY_LEN], *os = dname_str(owner);

    if (dset == NULL || sigs == NULL || synth == NULL) {
        r = fail(ctx, qname, type, DANCE_RES_INDETERMINATE, "out of memory");
        goto done;
    }
    if (ldns_rr_list_rr_count(dset) != 1) {
        dance_msg(why, WHY_LEN, "more than one DNAME at %s", os);
        r = fail(ctx, qname, type, DANCE_RES_BOGUS, why);
        goto done;
    }
    target = dname_substitute(qname, owner, ldns_rr_rdf(dname, 0));
    if (target == NULL) {
        dance_msg(why, WHY_LEN, "DNAME at %s makes a name too long", os);
        r = fail(ctx, qname, type, DANCE_RES_BOGUS, why);
        goto done;
    }
    for (size_t i = 0; i < ldns_rr_list_rr_count(synth); i++) {
        const ldns_rr *c = ldns_rr_list_rr(synth, i);

        if (ldns_rr_rd_count(c) != 1 ||
            ldns_dname_compare(ldns_rr_rdf(c, 0), target) != 0) {
            dance_msg(why, WHY_LEN,
                      "CNAME at the name does not follow from the DNAME at %s",
                      os);
            r = fail(ctx, qname, type, DANCE_RES_BOGUS, why);
            goto done;
        }
    }
    signer = pick_signer(sigs, owner, LDNS_RR_TYPE_DNAME, LDNS_RR_TYPE_DNAME);
    if (signer == NULL)
        d = unsigned_reply(ctx, owner, LDNS_RR_TYPE_DNAME, dset,
                           min_ttl(dset, UINT32_MAX));
    else
        d = signed_positive(ctx, pkt, owner, LDNS_RR_TYPE_DNAME, dset, signer);
    dset = NULL;
    st = d != NULL ? dance_res_result_status(d) : DANCE_RES_INDETERMINATE;
    if (st != DANCE_RES_SECURE && st != DANCE_RES_INSECURE) {
        dance_msg(why, WHY_LEN, "DNAME at %s: %s", os,
                  d != NULL ? dance_res_result_get0_why(d) : "out of memory");
        r = fail(ctx, qname, type, st, why);
        goto done;
    }
    cname = ldns_rr_new();
    out = ldns_rr_list_new();
    if (cname == NULL || out == NULL) {
        ldns_rr_free(cname);
        r = fail(ctx, qname, type, DANCE_RES_INDETERMINATE, "out of memory");
        goto done;
    }
    ldns_rr_set_owner(cname, ldns_rdf_clone(qname));
    ldns_rr_set_type(cname, LDNS_RR_TYPE_CNAME);
    ldns_rr_set_class(cname, LDNS_RR_CLASS_IN);
    ldns_rr_set_ttl(cname, dance_res_result_ttl(d));
    ldns_rr_push_rdf(cname, target);
    target = NULL;
    ldns_rr_list_push_rr(out, cname);
    dance_msg(why, WHY_LEN, "via DNAME at %s (%s: %s)", os,
              dance_res_status_str(st), dance_res_result_get0_why(d));
    r = make_result(ctx, qname, type, st, out, dance_res_result_ttl(d), why);
    out = NULL;
done:
    free(os);
    ldns_rdf_deep_free(target);
    ldns_rr_list_deep_free(dset);
    ldns_rr_list_deep_free(sigs);
    ldns_rr_list_deep_free(synth);
    ldns_rr_list_deep_free(out);
    dance_res_result_free(d);
    return r;
}

/* validate_hop - fetch and validate (qname, type), type != DNSKEY. */
static dance_res_result *validate_hop(lookup_ctx *ctx, const ldns_rdf *qname,
                                      ldns_rr_type type)
{
    char why[WHY_LEN];
    ldns_pkt *pkt = query(ctx, qname, type, 1, why);
    ldns_rr_list *set = NULL, *sigs = NULL;
    const ldns_rdf *signer;
    dance_res_result *r = NULL;
    ldns_pkt_rcode rc;

    if (pkt == NULL)
        return fail(ctx, qname, type, DANCE_RES_INDETERMINATE, why);
    rc = ldns_pkt_get_rcode(pkt);
    if (rc != LDNS_RCODE_NOERROR && rc != LDNS_RCODE_NXDOMAIN) {
        char *s = rcode_str(pkt);

        dance_msg(why, WHY_LEN, "server answered %s", s);
        free(s);
        r = fail(ctx, qname, type, DANCE_RES_INDETERMINATE, why);
        goto done;
    }
    set = section_select(ldns_pkt_answer(pkt), qname, type);
    if (set != NULL && ldns_rr_list_rr_count(set) == 0 &&
        type != LDNS_RR_TYPE_DNAME &&
        find_dname(ldns_pkt_answer(pkt), qname) != NULL) {
        r = dname_hop(ctx, pkt, qname, type,
                      find_dname(ldns_pkt_answer(pkt), qname));
        goto done;
    }
    if (set != NULL && ldns_rr_list_rr_count(set) == 0 &&
        type != LDNS_RR_TYPE_CNAME) {
        ldns_rr_list_deep_free(set);
        set = section_select(ldns_pkt_answer(pkt), qname, LDNS_RR_TYPE_CNAME);
        if (set != NULL && ldns_rr_list_rr_count(set) > 1) {
            r = fail(ctx, qname, type, DANCE_RES_BOGUS,
                     "more than one CNAME at a name");
            goto done;
        }
    }
    sigs = section_select(ldns_pkt_answer(pkt), qname, LDNS_RR_TYPE_RRSIG);
    if (set == NULL || sigs == NULL) {
        r = fail(ctx, qname, type, DANCE_RES_INDETERMINATE, "out of memory");
        goto done;
    }
    if (ldns_rr_list_rr_count(set) > 0) {
        ldns_rr_type got = ldns_rr_get_type(ldns_rr_list_rr(set, 0));

        signer = pick_signer(sigs, qname, type, got);
        if (signer == NULL) {
            r = unsigned_reply(ctx, qname, type, set, min_ttl(set, UINT32_MAX));
            set = NULL;
        } else {
            r = signed_positive(ctx, pkt, qname, type, set, signer);
            set = NULL;
        }
        goto done;
    }
    ldns_rr_list_deep_free(sigs);
    sigs = section_select(ldns_pkt_authority(pkt), NULL, LDNS_RR_TYPE_RRSIG);
    signer = sigs != NULL ? pick_signer(sigs, qname, type, 0) : NULL;
    if (signer == NULL)
        r = unsigned_reply(ctx, qname, type, NULL,
                           negative_ttl(ldns_pkt_authority(pkt), UINT32_MAX));
    else
        r = signed_negative(ctx, pkt, qname, type, signer);
done:
    ldns_rr_list_deep_free(set);
    ldns_rr_list_deep_free(sigs);
    ldns_pkt_free(pkt);
    return r;
}

/* ---- trust-ad mode ------------------------------------------------------ */

/* ede_text - "EDE <code>: <text>" from the reply's OPT record, if any. */
static void ede_text(ldns_pkt *pkt, char *buf, size_t len)
{
    ldns_edns_option_list *opts = ldns_pkt_edns_get_option_list(pkt);

    buf[0] = '\0';
    for (size_t i = 0;
         opts != NULL && i < ldns_edns_option_list_get_count(opts); i++) {
        ldns_edns_option *o = ldns_edns_option_list_get_option(opts, i);
        const uint8_t *d = ldns_edns_get_data(o);
        size_t sz = ldns_edns_get_size(o);

        if (ldns_edns_get_code(o) != LDNS_EDNS_EDE || sz < 2)
            continue;
        snprintf(buf, len, "; EDE %u%s%.*s", (unsigned)((d[0] << 8) | d[1]),
                 sz > 2 ? ": " : "", (int)(sz - 2 > 200 ? 200 : sz - 2),
                 (const char *)d + 2);
        return;
    }
}

/* trust_ad_hop - ask a validating resolver on loopback and believe AD. */
static dance_res_result *trust_ad_hop(lookup_ctx *ctx, const ldns_rdf *qname,
                                      ldns_rr_type type)
{
    char why[WHY_LEN], ede[256];
    ldns_pkt *pkt = query(ctx, qname, type, 0, why), *cd = NULL;
    ldns_rr_list *set = NULL;
    dance_res_result *r = NULL;
    ldns_pkt_rcode rc;
    int ad;

    if (pkt == NULL)
        return fail(ctx, qname, type, DANCE_RES_INDETERMINATE, why);
    rc = ldns_pkt_get_rcode(pkt);
    ede_text(pkt, ede, sizeof(ede));
    if (rc == LDNS_RCODE_SERVFAIL) {
        /* A validating resolver says SERVFAIL for bogus data; the same
         * question with CD set tells a validation failure (data comes
         * back) from a resolution failure (it does not). */
        cd = query(ctx, qname, type, 1, why);
        if (cd != NULL && (ldns_pkt_get_rcode(cd) == LDNS_RCODE_NOERROR ||
                           ldns_pkt_get_rcode(cd) == LDNS_RCODE_NXDOMAIN)) {
            dance_msg(why, WHY_LEN, "resolver failed DNSSEC validation%s", ede);
            r = fail(ctx, qname, type, DANCE_RES_BOGUS, why);
        } else {
            dance_msg(why, WHY_LEN, "resolver answered SERVFAIL%s", ede);
            r = fail(ctx, qname, type, DANCE_RES_INDETERMINATE, why);
        }
        goto done;
    }
    if (rc != LDNS_RCODE_NOERROR && rc != LDNS_RCODE_NXDOMAIN) {
        char *s = rcode_str(pkt);

        dance_msg(why, WHY_LEN, "resolver answered %s%s", s, ede);
        free(s);
        r = fail(ctx, qname, type, DANCE_RES_INDETERMINATE, why);
        goto done;
    }
    ad = ldns_pkt_ad(pkt);
    set = section_select(ldns_pkt_answer(pkt), qname, type);
    if (set != NULL && ldns_rr_list_rr_count(set) == 0 &&
        type != LDNS_RR_TYPE_CNAME) {
        ldns_rr_list_deep_free(set);
        set = section_select(ldns_pkt_answer(pkt), qname, LDNS_RR_TYPE_CNAME);
    }
    if (set == NULL) {
        r = fail(ctx, qname, type, DANCE_RES_INDETERMINATE, "out of memory");
        goto done;
    }
    if (ldns_rr_list_rr_count(set) > 0) {
        dance_msg(why, WHY_LEN, "%s by the resolver (AD bit %s)",
                  ad ? "validated" : "not validated", ad ? "set" : "clear");
        r = make_result(ctx, qname, type,
                        ad ? DANCE_RES_SECURE : DANCE_RES_INSECURE, set,
                        min_ttl(set, UINT32_MAX), why);
        set = NULL;
        goto done;
    }
    dance_msg(why, WHY_LEN, "%s, %s by the resolver (AD bit %s)",
              rc == LDNS_RCODE_NXDOMAIN ? "no such name" : "no such type",
              ad ? "validated" : "not validated", ad ? "set" : "clear");
    r = make_result(ctx, qname, type,
                    !ad                         ? DANCE_RES_INSECURE
                    : rc == LDNS_RCODE_NXDOMAIN ? DANCE_RES_SECURE_NXDOMAIN
                                                : DANCE_RES_SECURE_NODATA,
                    NULL, negative_ttl(ldns_pkt_authority(pkt), UINT32_MAX),
                    why);
done:
    ldns_rr_list_deep_free(set);
    ldns_pkt_free(pkt);
    ldns_pkt_free(cd);
    return r;
}

/* ---- cache and single flight -------------------------------------------- */

/* flight_release - drop one reference to a flight; lock held. */
static void flight_release(inflight *f)
{
    if (--f->refs > 0)
        return;
    pthread_cond_destroy(&f->cv);
    dance_res_result_free(f->result);
    free(f->key);
    free(f);
}

/* wait_flight - wait for another thread's answer to the same question. */
static dance_res_result *wait_flight(lookup_ctx *ctx, inflight *f,
                                     const ldns_rdf *qname, ldns_rr_type type)
{
    dance_res *res = ctx->res;
    dance_res_result *r = NULL;
    uint64_t ms = ctx->deadline;
    struct timespec until = {.tv_sec = (time_t)(ms / 1000),
                             .tv_nsec = (long)(ms % 1000) * 1000000L};

    atomic_fetch_add(&res->shared_waits, 1);
    f->refs++;
    while (!f->done)
        if (pthread_cond_timedwait(&f->cv, &res->lock, &until) != 0)
            break;
    if (f->done && f->result != NULL) {
        r = f->result;
        dance_res_result_up_ref(r);
    }
    flight_release(f);
    pthread_mutex_unlock(&res->lock);
    if (r == NULL)
        r = fail(ctx, qname, type, DANCE_RES_INDETERMINATE,
                 "timed out waiting for a shared query");
    return r;
}

/* hop - (qname, type) from the cache, from a query in flight, or fresh. */
static dance_res_result *hop(lookup_ctx *ctx, const ldns_rdf *qname,
                             ldns_rr_type type)
{
    dance_res *res = ctx->res;
    ldns_rdf *canon = ldns_rdf_clone(qname);
    char *key = NULL;
    dance_res_result *r = NULL;
    inflight *f;

    if (canon == NULL)
        return NULL;
    ldns_dname2canonical(canon);
    key = dname_str(canon);
    ldns_rdf_deep_free(canon);
    if (key == NULL)
        return NULL;
    r = ctx->fresh ? NULL : dance_cache_get1(res->cache, key, type, ctx->now);
    ctx->fresh = 0; /* only the first hop of a refresh is forced */
    if (r != NULL)
        goto out;

    pthread_mutex_lock(&res->lock);
    for (f = res->flights; f != NULL; f = f->next)
        if (f->type == type && strcmp(f->key, key) == 0)
            break;
    if (f != NULL && f->owner == ctx) {
        /* This lookup is computing (qname, type) further up its own stack:
         * waiting would wait for itself until the deadline. */
        pthread_mutex_unlock(&res->lock);
        r = fail(ctx, qname, type, DANCE_RES_BOGUS,
                 "validation depends on itself (a loop in the chain)");
        goto out;
    }
    if (f != NULL) {
        r = wait_flight(ctx, f, qname, type); /* unlocks */
        goto out;
    }
    f = calloc(1, sizeof(*f));
    if (f == NULL) {
        pthread_mutex_unlock(&res->lock);
        goto out;
    }
    {
        pthread_condattr_t attr;

        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&f->cv, &attr);
        pthread_condattr_destroy(&attr);
    }
    f->key = key;
    key = NULL;
    f->type = type;
    f->refs = 1;
    f->owner = ctx;
    f->next = res->flights;
    res->flights = f;
    pthread_mutex_unlock(&res->lock);

    if (res->cfg.mode == DANCE_RES_MODE_TRUST_AD)
        r = trust_ad_hop(ctx, qname, type);
    else if (type == LDNS_RR_TYPE_DNSKEY)
        r = zone_keys(ctx, qname);
    else
        r = validate_hop(ctx, qname, type);
    if (r != NULL)
        dance_cache_put(res->cache, r, ctx->now);

    pthread_mutex_lock(&res->lock);
    for (inflight **pp = &res->flights; *pp != NULL; pp = &(*pp)->next)
        if (*pp == f) {
            *pp = f->next;
            break;
        }
    f->done = 1;
    f->result = r;
    if (r != NULL)
        dance_res_result_up_ref(r);
    pthread_cond_broadcast(&f->cv);
    flight_release(f);
    pthread_mutex_unlock(&res->lock);
out:
    free(key);
    return r;
}

/* ---- public lookup ------------------------------------------------------ */

/* status_rank - how bad a status is when statuses along a chain combine. */
static int status_rank(dance_res_status st)
{
    switch (st) {
    case DANCE_RES_BOGUS:
        return 3;
    case DANCE_RES_INDETERMINATE:
        return 2;
    case DANCE_RES_INSECURE:
        return 1;
    default:
        return 0;
    }
}

/* is_cname_hop - did a hop for type answer with a CNAME to follow? */
static int is_cname_hop(const dance_res_result *r, ldns_rr_type type)
{
    return type != LDNS_RR_TYPE_CNAME &&
           dance_res_result_rr_type(r, 0) == LDNS_RR_TYPE_CNAME;
}

/* cname_target - the target of a CNAME hop (caller frees), or NULL. */
static ldns_rdf *cname_target(const dance_res_result *r, ldns_rr_type type)
{
    ldns_rdf *target = NULL;
    const uint8_t *rdata;
    size_t len = 0, pos = 0;

    if (!is_cname_hop(r, type) ||
        (rdata = dance_res_result_get0_rdata(r, 0, &len)) == NULL ||
        ldns_wire2dname(&target, rdata, len, &pos) != LDNS_STATUS_OK)
        return NULL;
    return target;
}

/* dance_res_lookup_cached - see header. */
dance_res_result *dance_res_lookup_cached(dance_res *res, const char *name,
                                          uint16_t type, time_t now,
                                          int stale_ok)
{
    time_t grace = stale_ok ? (time_t)(res->cfg.deadline_ms + 999) / 1000 : 0;
    dance_res_result *r =
        dance_cache_get1_grace(res->cache, name, type, now, grace);

    if (r != NULL && is_cname_hop(r, type)) {
        dance_res_result_free(r); /* a chain: the full lookup composes it */
        return NULL;
    }
    if (r != NULL && type == LDNS_RR_TYPE_DS &&
        dance_res_result_status(r) == DANCE_RES_INSECURE) {
        dance_res_result_free(r); /* the full lookup presents it */
        return NULL;
    }
    return r;
}

/* public_result - what a DS hop means to the caller who asked for the DS
 * itself. Internally a delegation the parent proves to have no DS is an
 * insecure DS hop carrying the verified NSEC/NSEC3 records
 * (signed_negative); asked directly, that is a secure absence of the DS
 * RRset, the data of a signed parent (as reference validators answer).
 * Takes r, returns the result to hand out (r itself, or NULL when out of
 * memory). */
static dance_res_result *public_result(lookup_ctx *ctx, dance_res_result *r)
{
    dance_res_result *out;
    int marked = 0;

    if (r == NULL || dance_res_result_type(r) != LDNS_RR_TYPE_DS ||
        dance_res_result_status(r) != DANCE_RES_INSECURE)
        return r;
    for (size_t i = 0; i < dance_res_result_rr_count(r); i++) {
        uint16_t t = dance_res_result_rr_type(r, i);

        if (t == LDNS_RR_TYPE_NSEC || t == LDNS_RR_TYPE_NSEC3)
            marked = 1;
    }
    if (!marked)
        return r;
    out = dance_res_result_new(dance_res_result_get0_name(r), LDNS_RR_TYPE_DS,
                               DANCE_RES_SECURE_NODATA, NULL,
                               dance_res_result_ttl(r) <
                                       ctx->res->cfg.negative_ttl
                                   ? dance_res_result_ttl(r)
                                   : ctx->res->cfg.negative_ttl,
                               ctx->now, dance_res_result_get0_why(r));
    dance_res_result_free(r);
    return out;
}

/* finish - end of a lookup: count its validation work and outcome, free
 * its context, pass r through. */
static dance_res_result *finish(lookup_ctx *ctx, dance_res_result *r)
{
    if (r != NULL) {
        int st = (int)dance_res_result_status(r);

        if (st == DANCE_RES_INDETERMINATE && ctx->timed_out)
            st = DANCE_RES_OUTCOME_TIMEOUT;
        if (st >= 0 && st < DANCE_RES_OUTCOMES)
            atomic_fetch_add(&ctx->res->outcomes[st], 1);
    }
    atomic_fetch_add(&ctx->res->sig_checks, dance_val_ctx_sig_checks(ctx->vc));
    atomic_fetch_add(&ctx->res->nsec3_hashes,
                     dance_val_ctx_nsec3_hashes(ctx->vc));
    if (dance_val_ctx_exhausted(ctx->vc))
        atomic_fetch_add(&ctx->res->budget_exhausted, 1);
    dance_val_ctx_free(ctx->vc);
    ctx->vc = NULL;
    return r;
}

/* lookup - dance_res_lookup, optionally asking afresh for the first hop. */
static dance_res_result *lookup(dance_res *res, const char *name, uint16_t type,
                                time_t now, int fresh)
{
    lookup_ctx ctx = {.res = res,
                      .now = now,
                      .deadline = dance_net_now_ms() + res->cfg.deadline_ms,
                      .budget = QUERY_BUDGET,
                      .fresh = fresh,
                      .vc = dance_val_ctx_new(now, res->cfg.clock_skew,
                                              SIG_CHECK_BUDGET,
                                              NSEC3_HASH_BUDGET)};
    ldns_rdf *qname = NULL;
    dance_res_result *r = NULL, *out;
    dance_res_status worst = DANCE_RES_SECURE;
    uint32_t ttl = UINT32_MAX;
    char chain[WHY_LEN] = "", why[WHY_LEN];
    int hops;

    atomic_fetch_add(&res->lookups, 1);
    if (ctx.vc == NULL)
        return NULL;
    if (ldns_str2rdf_dname(&qname, name) != LDNS_STATUS_OK) {
        dance_msg(why, WHY_LEN, "'%s' is not a valid domain name", name);
        dance_val_ctx_free(ctx.vc);
        return dance_res_result_new(name, type, DANCE_RES_INDETERMINATE, NULL,
                                    0, now, why);
    }
    for (hops = 0;; hops++) {
        ldns_rdf *target;
        char *ts;

        r = hop(&ctx, qname, type);
        if (r == NULL)
            break;
        target = cname_target(r, type);
        if (target == NULL)
            break;
        if (hops == MAX_CNAME_HOPS) {
            ldns_rdf_deep_free(target);
            dance_res_result_free(r);
            dance_msg(why, WHY_LEN, "CNAME chain longer than %d%s",
                      MAX_CNAME_HOPS, chain);
            r = fail(&ctx, qname, type, DANCE_RES_INDETERMINATE, why);
            break;
        }
        if (status_rank(dance_res_result_status(r)) > status_rank(worst))
            worst = dance_res_result_status(r);
        if (dance_res_result_ttl(r) < ttl)
            ttl = dance_res_result_ttl(r);
        ts = dname_str(target);
        {
            size_t used = strlen(chain);

            snprintf(chain + used, sizeof(chain) - used, " -> %s", ts);
        }
        free(ts);
        dance_res_result_free(r);
        r = NULL;
        ldns_rdf_deep_free(qname);
        qname = target;
    }
    ldns_rdf_deep_free(qname);
    if (hops == 0 || r == NULL) /* no CNAME: the hop's own result */
        return finish(&ctx, public_result(&ctx, r));

    /* Compose: the final records, the weakest status, the shortest TTL. */
    if (status_rank(dance_res_result_status(r)) > status_rank(worst) ||
        status_rank(worst) == 0)
        worst = dance_res_result_status(r);
    if (dance_res_result_ttl(r) < ttl)
        ttl = dance_res_result_ttl(r);
    {
        ldns_rr_list *copy = dance_res_result_get1_rrset(r);
        const char *last = dance_res_result_get0_why(r);
        int need = snprintf(NULL, 0, "%s (via CNAME %s%s)", last, name, chain);
        char *full = need > 0 ? malloc((size_t)need + 1) : NULL;

        if (full != NULL)
            snprintf(full, (size_t)need + 1, "%s (via CNAME %s%s)", last, name,
                     chain);
        out = dance_res_result_new(name, type, worst, copy, ttl, now,
                                   full != NULL ? full : "via CNAME");
        ldns_rr_list_deep_free(copy);
        free(full);
    }
    dance_res_result_free(r);
    return finish(&ctx, out);
}

/* dance_res_lookup - see header. */
dance_res_result *dance_res_lookup(dance_res *res, const char *name,
                                   uint16_t type, time_t now)
{
    return lookup(res, name, type, now, 0);
}

/* dance_res_refresh - see header. */
dance_res_result *dance_res_refresh(dance_res *res, const char *name,
                                    uint16_t type, time_t now)
{
    atomic_fetch_add(&res->refreshes, 1);
    return lookup(res, name, type, now, 1);
}

/* ---- many names at once ------------------------------------------------- */

/* first_cd - the CD bit of a lookup's first query in this mode (validate:
 * we check signatures ourselves; trust-ad: the resolver must). */
static int first_cd(const dance_res *res)
{
    return res->cfg.mode == DANCE_RES_MODE_VALIDATE;
}

typedef struct {
    dance_res *res;
    const char *const *names;
    ldns_rdf **qnames;
    uint16_t type;
    time_t now;
    const int *fresh;
    dance_res_batch_fn done;
    void *arg;
} batch_ctx;

/* batch_reply - names[i]'s first query is answered: look it up with that
 * answer in hand, and hand the result on. */
static void batch_reply(void *arg, size_t i, ldns_pkt *reply)
{
    batch_ctx *b = arg;
    dance_net_preanswer pre = {.server = &b->res->servers[0],
                               .qname = b->qnames[i],
                               .qtype = b->type,
                               .dnssec_ok = 1,
                               .checking_disabled = first_cd(b->res),
                               .reply = reply};
    int fresh = b->fresh != NULL && b->fresh[i];
    dance_res_result *r;

    if (fresh)
        atomic_fetch_add(&b->res->refreshes, 1);
    dance_net_preanswer_set(&pre);
    r = lookup(b->res, b->names[i], b->type, b->now, fresh);
    dance_net_preanswer_set(NULL);
    ldns_pkt_free(pre.reply); /* not asked for: the cache had it */
    b->done(b->arg, i, r);
}

/* dance_res_batch - see header. */
size_t dance_res_batch(dance_res *res, const char *const *names, size_t n,
                       uint16_t type, time_t now, const int *fresh,
                       dance_res_batch_fn done, void *arg)
{
    batch_ctx b = {.res = res,
                   .names = names,
                   .qnames = calloc(n > 0 ? n : 1, sizeof(*b.qnames)),
                   .type = type,
                   .now = now,
                   .fresh = fresh,
                   .done = done,
                   .arg = arg};
    dance_net_params p = {.timeout_ms = res->cfg.timeout_ms,
                          .attempts = 1,
                          .dnssec_ok = 1,
                          .checking_disabled = first_cd(res)};
    dance_net_counters c = {0, 0};
    size_t got;

    if (b.qnames == NULL || res->cfg.exchange != NULL || res->nservers == 0) {
        free(b.qnames);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        if (ldns_str2rdf_dname(&b.qnames[i], names[i]) != LDNS_STATUS_OK)
            b.qnames[i] = NULL; /* not asked; its own lookup says why */
    got = dance_net_query_batch(
        &res->servers[0], (const ldns_rdf *const *)b.qnames, n, type, &p,
        dance_net_now_ms() + res->cfg.timeout_ms, batch_reply, &b, &c);
    atomic_fetch_add(&res->udp_queries, c.udp_queries);
    for (size_t i = 0; i < n; i++)
        ldns_rdf_deep_free(b.qnames[i]);
    free(b.qnames);
    return got;
}
