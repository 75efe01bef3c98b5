/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_replay.c - suite "replay": the real resolver and validator run on
 * scripted DNS replies, in process, with a pinned clock.
 *
 * Each .rpl file in tests/replay describes signed zones (keys are generated
 * and every record signed with ldns when the file is read: nothing signed
 * is stored), which servers hold them, replies scripted for chosen
 * questions (to build what no zone file can: replays, stripped proofs,
 * colliding key tags, odd flags), and the verdicts expected. Questions
 * without a script are answered from the zones like an authoritative
 * server would (answer, wildcard expansion, NSEC/NSEC3 denial). The format
 * is described in tests/replay/README.md.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ldns/ldns.h>

#include "dance_res.h"
#include "dance_test.h"

#ifndef DANCE_REPLAY_DIR
#error "DANCE_REPLAY_DIR must name tests/replay"
#endif

#define MAX_ZONES 16
#define MAX_SCRIPTS 32
#define MAX_SERVERS 8
#define TTL 300

typedef struct {
    ldns_rdf *apex;
    ldns_rr_list *rrs;        /* unsigned input, DNSKEYs and children's DS */
    ldns_rr_list *signed_rrs; /* everything served, with RRSIGs and chain */
    ldns_key *key;            /* one key signs everything (flags 257) */
    ldns_rr *dnskey;
    int alg; /* 13 (P-256) or 8 (RSA/SHA-256 2048) */
    int nsec3, optout, nods;
    int flags; /* NSEC3 flags; -1: opt-out bit only */
    uint16_t iterations;
    char salt[130];             /* hex, "" for none */
    long inception, expiration; /* offsets from the clock, seconds */
    int trap_keys, trap_sigs;   /* KeyTrap: colliding keys, junk RRSIGs */
    unsigned served;            /* bit per server; 0 = every server */
} zone_t;

typedef struct {
    ldns_rdf *qname;
    ldns_rr_type type;
    int server; /* -1: any */
    ldns_pkt *reply;
} script_t;

typedef struct {
    const char *file;
    int line;
    time_t clock;
    uint32_t skew;
    size_t nservers;
    zone_t zones[MAX_ZONES];
    size_t nzones;
    int is_signed;
    script_t scripts[MAX_SCRIPTS];
    size_t nscripts;
    int failures;
    uint64_t last_sig_checks, last_nsec3_hashes;
} world_t;

/* complain - report a fixture or expectation failure with file:line. */
static void complain(world_t *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void complain(world_t *w, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "\n%s:%d: ", w->file, w->line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    w->failures++;
}

/* dname - parse a name, NULL on error. */
static ldns_rdf *dname(const char *s)
{
    ldns_rdf *d = NULL;

    if (ldns_str2rdf_dname(&d, s) != LDNS_STATUS_OK)
        return NULL;
    return d;
}

/* same_name - case-insensitive equality of two names. */
static int same_name(const ldns_rdf *a, const ldns_rdf *b)
{
    return ldns_dname_compare(a, b) == 0;
}

/* at_or_below - name equals or lies under top. */
static int at_or_below(const ldns_rdf *name, const ldns_rdf *top)
{
    return same_name(name, top) || ldns_dname_is_subdomain(name, top);
}

/* sig_covers - an RRSIG over (owner, type). */
static int sig_covers(const ldns_rr *rr, const ldns_rdf *owner,
                      ldns_rr_type type)
{
    return ldns_rr_get_type(rr) == LDNS_RR_TYPE_RRSIG &&
           same_name(ldns_rr_owner(rr), owner) &&
           ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(rr)) == type;
}

/* ---- zones ------------------------------------------------------------ */

/* is_cut - a delegation point of z: a name below the apex with NS. */
static int is_cut(const zone_t *z, const ldns_rdf *name)
{
    if (same_name(name, z->apex))
        return 0;
    for (size_t i = 0; i < ldns_rr_list_rr_count(z->rrs); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(z->rrs, i);

        if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_NS &&
            same_name(ldns_rr_owner(rr), name))
            return 1;
    }
    return 0;
}

/* has_set - does z hold records of (owner, type)? */
static int has_set(const zone_t *z, const ldns_rdf *owner, ldns_rr_type type)
{
    for (size_t i = 0; i < ldns_rr_list_rr_count(z->rrs); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(z->rrs, i);

        if (ldns_rr_get_type(rr) == type && same_name(ldns_rr_owner(rr), owner))
            return 1;
    }
    return 0;
}

/* exists - name owns records in z or is an ancestor of an owner (an empty
 * non-terminal). */
static int exists(const zone_t *z, const ldns_rdf *name)
{
    for (size_t i = 0; i < ldns_rr_list_rr_count(z->rrs); i++)
        if (at_or_below(ldns_rr_owner(ldns_rr_list_rr(z->rrs, i)), name))
            return 1;
    return 0;
}

/* push_unique_name - add a clone of name to l unless present. */
static void push_unique_name(ldns_rdf ***l, size_t *n, const ldns_rdf *name)
{
    for (size_t i = 0; i < *n; i++)
        if (same_name((*l)[i], name))
            return;
    *l = realloc(*l, (*n + 1) * sizeof(**l));
    (*l)[(*n)++] = ldns_rdf_clone(name);
}

/* cmp_dname - qsort order: canonical DNS order. */
static int cmp_dname(const void *a, const void *b)
{
    return ldns_dname_compare(*(ldns_rdf *const *)a, *(ldns_rdf *const *)b);
}

/* types_at - presentation list of the types at name in z (the bitmap of
 * its NSEC/NSEC3), with RRSIG when something there is signed. */
static void types_at(const zone_t *z, const ldns_rdf *name, int nsec, char *buf,
                     size_t len)
{
    int seen[65536 / 8 + 1];
    int any_signed = 0, cut = is_cut(z, name);

    memset(seen, 0, sizeof(seen));
    buf[0] = '\0';
    for (size_t i = 0; i < ldns_rr_list_rr_count(z->rrs); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(z->rrs, i);
        ldns_rr_type t = ldns_rr_get_type(rr);
        char *ts;

        if (!same_name(ldns_rr_owner(rr), name) || seen[t / 8] & (1 << t % 8))
            continue;
        seen[t / 8] |= 1 << t % 8;
        if (!cut || t == LDNS_RR_TYPE_DS)
            any_signed = 1;
        ts = ldns_rr_type2str(t);
        snprintf(buf + strlen(buf), len - strlen(buf), " %s", ts);
        free(ts);
    }
    if (any_signed)
        snprintf(buf + strlen(buf), len - strlen(buf), " RRSIG");
    if (nsec)
        snprintf(buf + strlen(buf), len - strlen(buf), " NSEC");
}

/* hash_of - the NSEC3 owner label of name in z, as text (caller frees). */
static char *hash_of(const zone_t *z, const ldns_rdf *name)
{
    uint8_t salt[64];
    size_t slen = strlen(z->salt) / 2;
    ldns_rdf *h;
    char *s;

    for (size_t i = 0; i < slen; i++)
        sscanf(z->salt + 2 * i, "%2hhx", &salt[i]);
    h = ldns_nsec3_hash_name(name, LDNS_SHA1, z->iterations, (uint8_t)slen,
                             salt);
    s = ldns_rdf2str(h);
    ldns_rdf_deep_free(h);
    if (s != NULL && strlen(s) > 0 && s[strlen(s) - 1] == '.')
        s[strlen(s) - 1] = '\0';
    return s;
}

/* add_text_rr - parse text into z->rrs. */
static int add_text_rr(world_t *w, zone_t *z, const char *text)
{
    ldns_rr *rr = NULL;
    ldns_status st = ldns_rr_new_frm_str(&rr, text, TTL, z->apex, NULL);

    if (st != LDNS_STATUS_OK) {
        complain(w, "bad record '%s': %s", text, ldns_get_errorstr_by_id(st));
        return 0;
    }
    ldns_rr_list_push_rr(z->rrs, rr);
    return 1;
}

/* struct name_hash - an NSEC3 chain member. */
typedef struct {
    char *hash;
    ldns_rdf *name;
} name_hash;

/* cmp_hash - qsort order of hashed owners. */
static int cmp_hash(const void *a, const void *b)
{
    return strcmp(((const name_hash *)a)->hash, ((const name_hash *)b)->hash);
}

/* build_chain - the NSEC or NSEC3 records of z, into z->rrs. */
static int build_chain(world_t *w, zone_t *z)
{
    ldns_rdf **names = NULL;
    size_t n = 0;
    char text[4096], types[1024], *apex = ldns_rdf2str(z->apex);
    int ok = 1;

    for (size_t i = 0; i < ldns_rr_list_rr_count(z->rrs); i++) {
        const ldns_rdf *o = ldns_rr_owner(ldns_rr_list_rr(z->rrs, i));
        int glue = 0;

        for (size_t j = 0; j < ldns_rr_list_rr_count(z->rrs); j++) {
            const ldns_rr *c = ldns_rr_list_rr(z->rrs, j);

            if (ldns_rr_get_type(c) == LDNS_RR_TYPE_NS &&
                is_cut(z, ldns_rr_owner(c)) &&
                ldns_dname_is_subdomain(o, ldns_rr_owner(c)))
                glue = 1;
        }
        if (glue)
            continue;
        if (z->nsec3 && z->optout && is_cut(z, o) &&
            !has_set(z, o, LDNS_RR_TYPE_DS))
            continue; /* opted out: no NSEC3 of its own */
        push_unique_name(&names, &n, o);
        /* NSEC3 also covers empty non-terminals on the way to the apex. */
        if (!z->nsec3)
            continue;
        for (ldns_rdf *a = ldns_dname_left_chop(o); a != NULL;) {
            ldns_rdf *up = NULL;

            if (ldns_dname_is_subdomain(a, z->apex)) {
                push_unique_name(&names, &n, a);
                up = ldns_dname_left_chop(a);
            }
            ldns_rdf_deep_free(a);
            a = up;
        }
    }
    if (!z->nsec3) {
        qsort(names, n, sizeof(*names), cmp_dname);
        for (size_t i = 0; i < n && ok; i++) {
            char *o = ldns_rdf2str(names[i]);
            char *nx = ldns_rdf2str(names[(i + 1) % n]);

            types_at(z, names[i], 1, types, sizeof(types));
            snprintf(text, sizeof(text), "%s %d IN NSEC %s%s", o, TTL, nx,
                     types);
            ok = add_text_rr(w, z, text);
            free(o);
            free(nx);
        }
    } else {
        name_hash *hs = calloc(n, sizeof(*hs));
        int flags = z->flags >= 0 ? z->flags : (z->optout ? 1 : 0);

        for (size_t i = 0; i < n; i++) {
            hs[i].hash = hash_of(z, names[i]);
            hs[i].name = names[i];
        }
        qsort(hs, n, sizeof(*hs), cmp_hash);
        for (size_t i = 0; i < n && ok; i++) {
            types_at(z, hs[i].name, 0, types, sizeof(types));
            snprintf(text, sizeof(text), "%s.%s %d IN NSEC3 1 %d %u %s %s%s",
                     hs[i].hash, apex, TTL, flags, z->iterations,
                     z->salt[0] ? z->salt : "-", hs[(i + 1) % n].hash, types);
            ok = add_text_rr(w, z, text);
        }
        for (size_t i = 0; i < n; i++)
            free(hs[i].hash);
        free(hs);
    }
    for (size_t i = 0; i < n; i++)
        ldns_rdf_deep_free(names[i]);
    free(names);
    free(apex);
    return ok;
}

/* junk_sigs - KeyTrap: copies of a real RRSIG with the same key tag and a
 * wrong signature, pushed to out before the real one. */
static void junk_sigs(const zone_t *z, const ldns_rr *real, ldns_rr_list *out)
{
    for (int j = 0; j < z->trap_sigs; j++) {
        ldns_rr *junk = ldns_rr_clone(real);
        ldns_rdf *sig = ldns_rr_rdf(junk, 8);
        uint8_t *d = ldns_rdf_data(sig);

        d[ldns_rdf_size(sig) / 2] ^= (uint8_t)(j + 1);
        d[ldns_rdf_size(sig) / 2 + 1] ^= (uint8_t)((j + 1) >> 8);
        ldns_rr_list_push_rr(out, junk);
    }
}

/* colliding_keys - KeyTrap: DNSKEYs with the key tag of z's key but other
 * public keys (two bytes of equal parity moved by one: same checksum). */
static void colliding_keys(zone_t *z)
{
    uint16_t tag = ldns_calc_keytag(z->dnskey);
    int made = 0;
    size_t pos = 8;

    while (made < z->trap_keys) {
        ldns_rr *k = ldns_rr_clone(z->dnskey);
        ldns_rdf *pub = ldns_rr_rdf(k, 3);
        uint8_t *d = ldns_rdf_data(pub);
        size_t len = ldns_rdf_size(pub);

        if (pos + 2 >= len - 4) {
            ldns_rr_free(k);
            break;
        }
        if (d[pos] < 255 && d[pos + 2] > 0) {
            d[pos]++;
            d[pos + 2]--;
            if (ldns_calc_keytag(k) == tag) {
                ldns_rr_list_push_rr(z->rrs, k);
                made++;
                k = NULL;
            }
        }
        ldns_rr_free(k);
        pos += 2;
    }
}

/* sign_zone - sign every authoritative RRset of z and its chain. */
static int sign_zone(world_t *w, zone_t *z)
{
    ldns_key_list *kl = ldns_key_list_new();
    ldns_rr_list *done = ldns_rr_list_new();
    int ok = 1;

    ldns_key_set_inception(z->key, (uint32_t)(w->clock + z->inception));
    ldns_key_set_expiration(z->key, (uint32_t)(w->clock + z->expiration));
    if (z->trap_keys > 0)
        colliding_keys(z);
    if (!build_chain(w, z))
        return 0;
    ldns_key_list_push_key(kl, z->key);
    z->signed_rrs = ldns_rr_list_new();
    for (size_t i = 0; i < ldns_rr_list_rr_count(z->rrs); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(z->rrs, i);
        const ldns_rdf *o = ldns_rr_owner(rr);
        ldns_rr_type t = ldns_rr_get_type(rr);
        ldns_rr_list *set, *sigs;
        int seen = 0, glue = 0;

        for (size_t j = 0; j < ldns_rr_list_rr_count(done); j++)
            if (sig_covers(ldns_rr_list_rr(done, j), o, t))
                seen = 1;
        for (size_t j = 0; j < ldns_rr_list_rr_count(z->rrs); j++) {
            const ldns_rr *c = ldns_rr_list_rr(z->rrs, j);

            if (ldns_rr_get_type(c) == LDNS_RR_TYPE_NS &&
                is_cut(z, ldns_rr_owner(c)) &&
                ldns_dname_is_subdomain(o, ldns_rr_owner(c)))
                glue = 1;
        }
        ldns_rr_list_push_rr(z->signed_rrs, ldns_rr_clone(rr));
        if (seen || glue || (t == LDNS_RR_TYPE_NS && is_cut(z, o)))
            continue;
        set = ldns_rr_list_new();
        for (size_t j = 0; j < ldns_rr_list_rr_count(z->rrs); j++) {
            const ldns_rr *m = ldns_rr_list_rr(z->rrs, j);

            if (ldns_rr_get_type(m) == t && same_name(ldns_rr_owner(m), o))
                ldns_rr_list_push_rr(set, ldns_rr_clone(m));
        }
        sigs = ldns_sign_public(set, kl);
        if (sigs == NULL || ldns_rr_list_rr_count(sigs) != 1) {
            complain(w, "signing failed");
            ok = 0;
        } else {
            ldns_rr *sig = ldns_rr_list_rr(sigs, 0);

            junk_sigs(z, sig, done);
            ldns_rr_list_push_rr(done, ldns_rr_clone(sig));
        }
        ldns_rr_list_deep_free(set);
        ldns_rr_list_deep_free(sigs);
    }
    ldns_rr_list_push_rr_list(z->signed_rrs, done);
    ldns_rr_list_free(done);
    ldns_key_list_set_key_count(kl, 0);
    ldns_key_list_free(kl);
    return ok;
}

/* parent_of - the closest declared zone strictly above z, or NULL. */
static zone_t *parent_of(world_t *w, const zone_t *z)
{
    zone_t *best = NULL;

    for (size_t i = 0; i < w->nzones; i++) {
        zone_t *p = &w->zones[i];

        if (p != z && ldns_dname_is_subdomain(z->apex, p->apex) &&
            (best == NULL || ldns_dname_label_count(p->apex) >
                                 ldns_dname_label_count(best->apex)))
            best = p;
    }
    return best;
}

/* sign_world - keys into zones, DS into parents, then sign everything. */
static int sign_world(world_t *w)
{
    if (w->is_signed)
        return 1;
    w->is_signed = 1;
    for (size_t i = 0; i < w->nzones; i++) {
        zone_t *z = &w->zones[i];
        zone_t *p = parent_of(w, z);

        ldns_rr_list_push_rr(z->rrs, ldns_rr_clone(z->dnskey));
        if (p != NULL && !z->nods)
            ldns_rr_list_push_rr(p->rrs,
                                 ldns_key_rr2ds(z->dnskey, LDNS_SHA256));
    }
    for (size_t i = 0; i < w->nzones; i++)
        if (!sign_zone(w, &w->zones[i]))
            return 0;
    return 1;
}

/* ---- answers from the zones ------------------------------------------- */

/* serves - does server s hold zone z? */
static int serves(const zone_t *z, size_t s)
{
    return z->served == 0 || (z->served & (1u << s)) != 0;
}

/* pick_zone - the zone server s answers (qname, type) from: the deepest
 * it holds at or above qname; for DS, one strictly above if it has one. */
static zone_t *pick_zone(world_t *w, size_t s, const ldns_rdf *qname,
                         ldns_rr_type type)
{
    zone_t *best = NULL;

    for (int strict = type == LDNS_RR_TYPE_DS; strict >= 0; strict--) {
        for (size_t i = 0; i < w->nzones; i++) {
            zone_t *z = &w->zones[i];

            if (!serves(z, s) ||
                !(strict ? ldns_dname_is_subdomain(qname, z->apex)
                         : at_or_below(qname, z->apex)))
                continue;
            if (best == NULL || ldns_dname_label_count(z->apex) >
                                    ldns_dname_label_count(best->apex))
                best = z;
        }
        if (best != NULL)
            return best;
    }
    return NULL;
}

/* push_set - (owner, type) from z's signed records with their RRSIGs into
 * a section of p, renamed to as_owner if not NULL. */
static int push_set(ldns_pkt *p, ldns_pkt_section sec, const zone_t *z,
                    const ldns_rdf *owner, ldns_rr_type type,
                    const ldns_rdf *as_owner)
{
    int n = 0;

    for (size_t i = 0; i < ldns_rr_list_rr_count(z->signed_rrs); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(z->signed_rrs, i);
        ldns_rr *c;

        if (!same_name(ldns_rr_owner(rr), owner) ||
            (ldns_rr_get_type(rr) != type && !sig_covers(rr, owner, type)))
            continue;
        c = ldns_rr_clone(rr);
        if (as_owner != NULL) {
            ldns_rdf_deep_free(ldns_rr_owner(c));
            ldns_rr_set_owner(c, ldns_rdf_clone(as_owner));
        }
        if (!ldns_pkt_safe_push_rr(p, sec, c))
            ldns_rr_free(c);
        n++;
    }
    return n;
}

/* nsec_find - z's NSEC at name (cover 0) or covering it (cover 1); its
 * owner, or NULL. NSEC3: name is hashed with z's parameters. */
static const ldns_rdf *nsec_find(const zone_t *z, const ldns_rdf *name,
                                 int cover)
{
    char *h = z->nsec3 ? hash_of(z, name) : NULL;
    ldns_rdf *target = NULL;
    const ldns_rdf *found = NULL;

    if (z->nsec3) {
        char *apex = ldns_rdf2str(z->apex);
        char buf[600];

        snprintf(buf, sizeof(buf), "%s.%s", h, apex);
        target = dname(buf);
        free(apex);
    } else {
        target = ldns_rdf_clone(name);
    }
    for (size_t i = 0; target != NULL && found == NULL &&
                       i < ldns_rr_list_rr_count(z->signed_rrs);
         i++) {
        const ldns_rr *rr = ldns_rr_list_rr(z->signed_rrs, i);
        const ldns_rdf *o = ldns_rr_owner(rr);
        ldns_rdf *next;
        int lo, hi;

        if (ldns_rr_get_type(rr) !=
            (z->nsec3 ? LDNS_RR_TYPE_NSEC3 : LDNS_RR_TYPE_NSEC))
            continue;
        if (!cover) {
            if (same_name(o, target))
                found = o;
            continue;
        }
        if (z->nsec3) {
            char *nh = ldns_rdf2str(ldns_nsec3_next_owner(rr));
            char *apex = ldns_rdf2str(z->apex), buf[600];

            snprintf(buf, sizeof(buf), "%s.%s", nh, apex);
            next = dname(buf);
            free(nh);
            free(apex);
        } else {
            next = ldns_rdf_clone(ldns_rr_rdf(rr, 0));
        }
        lo = ldns_dname_compare(o, target) < 0;
        hi = ldns_dname_compare(target, next) < 0;
        if (ldns_dname_compare(o, next) < 0 ? (lo && hi) : (lo || hi))
            found = o;
        ldns_rdf_deep_free(next);
    }
    ldns_rdf_deep_free(target);
    free(h);
    return found;
}

/* push_proof - the NSEC/NSEC3 matching or covering name, with RRSIG, into
 * the authority section (once). */
static void push_proof(ldns_pkt *p, const zone_t *z, const ldns_rdf *name,
                       int cover)
{
    const ldns_rdf *o = nsec_find(z, name, cover);
    ldns_rr_type t = z->nsec3 ? LDNS_RR_TYPE_NSEC3 : LDNS_RR_TYPE_NSEC;

    if (o != NULL)
        push_set(p, LDNS_SECTION_AUTHORITY, z, o, t, NULL);
}

/* new_reply - an empty authoritative reply to (qname, type). */
static ldns_pkt *new_reply(const ldns_rdf *qname, ldns_rr_type type,
                           ldns_pkt_rcode rc)
{
    ldns_pkt *p =
        ldns_pkt_query_new(ldns_rdf_clone(qname), type, LDNS_RR_CLASS_IN, 0);

    ldns_pkt_set_qr(p, 1);
    ldns_pkt_set_aa(p, 1);
    ldns_pkt_set_rcode(p, rc);
    return p;
}

/* closest_encloser - the longest ancestor of name that exists in z (for
 * NSEC3, that has an NSEC3 of its own); caller frees. */
static ldns_rdf *closest_encloser(const zone_t *z, const ldns_rdf *name)
{
    ldns_rdf *a = ldns_dname_left_chop(name);

    while (a != NULL && !same_name(a, z->apex) &&
           !(z->nsec3 ? nsec_find(z, a, 0) != NULL : exists(z, a))) {
        ldns_rdf *up = ldns_dname_left_chop(a);

        ldns_rdf_deep_free(a);
        a = up;
    }
    return a;
}

/* next_closer - the ancestor of name one label below ce; caller frees. */
static ldns_rdf *next_closer(const ldns_rdf *name, const ldns_rdf *ce)
{
    uint8_t want = ldns_dname_label_count(ce) + 1;

    return ldns_dname_clone_from(name, ldns_dname_label_count(name) - want);
}

/* wildcard_of - "*." + name; caller frees. */
static ldns_rdf *wildcard_of(const ldns_rdf *name)
{
    ldns_rdf *w = dname("*");

    ldns_dname_cat(w, name);
    return w;
}

/* synthesize_dname - if a DNAME at an ancestor of qname redirects it: the
 * signed DNAME and an unsigned CNAME made by text substitution (RFC 6672
 * 2.2, 3.1) into the answer of p; 1 if so. */
static int synthesize_dname(ldns_pkt *p, const zone_t *z, const ldns_rdf *qname)
{
    for (size_t i = 0; i < ldns_rr_list_rr_count(z->rrs); i++) {
        const ldns_rr *rr = ldns_rr_list_rr(z->rrs, i);
        char *qs, *os, *ts, text[1200];
        ldns_rr *cname = NULL;

        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_DNAME ||
            !ldns_dname_is_subdomain(qname, ldns_rr_owner(rr)))
            continue;
        push_set(p, LDNS_SECTION_ANSWER, z, ldns_rr_owner(rr),
                 LDNS_RR_TYPE_DNAME, NULL);
        qs = ldns_rdf2str(qname);
        os = ldns_rdf2str(ldns_rr_owner(rr));
        ts = ldns_rdf2str(ldns_rr_rdf(rr, 0));
        snprintf(text, sizeof(text), "%s %u IN CNAME %.*s%s", qs,
                 ldns_rr_ttl(rr), (int)(strlen(qs) - strlen(os)), qs, ts);
        if (ldns_rr_new_frm_str(&cname, text, TTL, NULL, NULL) ==
            LDNS_STATUS_OK)
            ldns_pkt_push_rr(p, LDNS_SECTION_ANSWER, cname);
        free(qs);
        free(os);
        free(ts);
        return 1;
    }
    return 0;
}

/* auto_answer - what an authoritative server holding w's zones for server
 * s would answer. */
static ldns_pkt *auto_answer(world_t *w, size_t s, const ldns_rdf *qname,
                             ldns_rr_type type)
{
    zone_t *z = pick_zone(w, s, qname, type);
    ldns_rdf *ce = NULL, *nc = NULL, *wc = NULL;
    ldns_pkt *p;
    int there;

    if (z == NULL)
        return new_reply(qname, type, LDNS_RCODE_REFUSED);
    for (size_t i = 0; i < ldns_rr_list_rr_count(z->rrs); i++) {
        const ldns_rdf *o = ldns_rr_owner(ldns_rr_list_rr(z->rrs, i));

        if (is_cut(z, o) && (ldns_dname_is_subdomain(qname, o) ||
                             (same_name(qname, o) && type != LDNS_RR_TYPE_DS)))
            return new_reply(qname, type, LDNS_RCODE_SERVFAIL); /* referral */
    }
    p = new_reply(qname, type, LDNS_RCODE_NOERROR);
    if (synthesize_dname(p, z, qname))
        return p;
    if (push_set(p, LDNS_SECTION_ANSWER, z, qname, type, NULL) > 0 ||
        push_set(p, LDNS_SECTION_ANSWER, z, qname, LDNS_RR_TYPE_CNAME, NULL) >
            0)
        return p;
    there = exists(z, qname);
    ce = closest_encloser(z, qname);
    nc = next_closer(qname, ce);
    wc = wildcard_of(ce);
    if (!there && has_set(z, wc, type)) {
        push_set(p, LDNS_SECTION_ANSWER, z, wc, type, qname);
        push_proof(p, z, z->nsec3 ? nc : qname, 1);
        goto done;
    }
    if (!there)
        ldns_pkt_set_rcode(p, LDNS_RCODE_NXDOMAIN);
    push_set(p, LDNS_SECTION_AUTHORITY, z, z->apex, LDNS_RR_TYPE_SOA, NULL);
    if (there && nsec_find(z, qname, 0) != NULL) {
        push_proof(p, z, qname, 0);
    } else if (!z->nsec3) {
        push_proof(p, z, qname, 1);
        if (!there && nsec_find(z, wc, 1) != nsec_find(z, qname, 1))
            push_proof(p, z, wc, 1);
    } else {
        push_proof(p, z, ce, 0);
        push_proof(p, z, nc, 1);
        if (!there && nsec_find(z, wc, 1) != nsec_find(z, nc, 1))
            push_proof(p, z, wc, 1);
    }
done:
    ldns_rdf_deep_free(ce);
    ldns_rdf_deep_free(nc);
    ldns_rdf_deep_free(wc);
    return p;
}

/* exchange - dance_res_exchange_fn: a scripted reply if one matches, else
 * the zones' own answer. */
static int exchange(void *arg, size_t server, const ldns_rdf *qname,
                    uint16_t type, ldns_pkt **reply)
{
    world_t *w = arg;

    for (size_t i = 0; i < w->nscripts; i++) {
        script_t *sc = &w->scripts[i];

        if (sc->type == type && same_name(sc->qname, qname) &&
            (sc->server < 0 || (size_t)sc->server == server)) {
            *reply = sc->reply != NULL ? ldns_pkt_clone(sc->reply) : NULL;
            if (getenv("DANCE_REPLAY_TRACE") != NULL && *reply != NULL) {
                fprintf(stderr, ";; server %zu (scripted):\n", server);
                ldns_pkt_print(stderr, *reply);
            }
            return *reply != NULL;
        }
    }
    *reply = auto_answer(w, server, qname, type);
    if (getenv("DANCE_REPLAY_TRACE") != NULL && *reply != NULL) {
        fprintf(stderr, ";; server %zu:\n", server);
        ldns_pkt_print(stderr, *reply);
    }
    return *reply != NULL;
}

/* ---- the file --------------------------------------------------------- */

/* zone_holding - the declared zone whose signed records hold name. */
static zone_t *zone_holding(world_t *w, const ldns_rdf *name)
{
    zone_t *best = NULL;

    for (size_t i = 0; i < w->nzones; i++)
        if (at_or_below(name, w->zones[i].apex) &&
            (best == NULL || ldns_dname_label_count(w->zones[i].apex) >
                                 ldns_dname_label_count(best->apex)))
            best = &w->zones[i];
    return best;
}

/* start_zone - "zone APEX [nsec | nsec3 [iter N] [salt HEX] [optout]
 * [flags N]] [alg 8] [nods] [inception S] [expiration S] [trap K S]
 * [servers I,J]". */
static zone_t *start_zone(world_t *w, char **tok, int ntok)
{
    zone_t *z;

    if (w->nzones == MAX_ZONES || ntok < 2) {
        complain(w, "bad zone line");
        return NULL;
    }
    z = &w->zones[w->nzones++];
    memset(z, 0, sizeof(*z));
    z->apex = dname(tok[1]);
    z->rrs = ldns_rr_list_new();
    z->alg = LDNS_SIGN_ECDSAP256SHA256;
    z->flags = -1;
    z->inception = -86400;
    z->expiration = 30 * 86400;
    for (int i = 2; i < ntok; i++) {
        const char *o = tok[i], *v = i + 1 < ntok ? tok[i + 1] : "0";

        if (strcmp(o, "nsec") == 0) {
            z->nsec3 = 0;
        } else if (strcmp(o, "nsec3") == 0) {
            z->nsec3 = 1;
        } else if (strcmp(o, "optout") == 0) {
            z->optout = 1;
        } else if (strcmp(o, "nods") == 0) {
            z->nods = 1;
        } else if (strcmp(o, "iter") == 0) {
            z->iterations = (uint16_t)atoi(v), i++;
        } else if (strcmp(o, "salt") == 0) {
            snprintf(z->salt, sizeof(z->salt), "%s", v), i++;
        } else if (strcmp(o, "flags") == 0) {
            z->flags = atoi(v), i++;
        } else if (strcmp(o, "alg") == 0) {
            z->alg =
                atoi(v) == 8 ? LDNS_SIGN_RSASHA256 : LDNS_SIGN_ECDSAP256SHA256,
            i++;
        } else if (strcmp(o, "inception") == 0) {
            z->inception = atol(v), i++;
        } else if (strcmp(o, "expiration") == 0) {
            z->expiration = atol(v), i++;
        } else if (strcmp(o, "trap") == 0 && i + 2 < ntok) {
            z->trap_keys = atoi(tok[i + 1]);
            z->trap_sigs = atoi(tok[i + 2]);
            i += 2;
        } else if (strcmp(o, "servers") == 0) {
            for (const char *c = v; *c; c++)
                if (isdigit((unsigned char)*c))
                    z->served |= 1u << (*c - '0');
            i++;
        } else {
            complain(w, "unknown zone option '%s'", o);
        }
    }
    z->key = ldns_key_new_frm_algorithm(
        z->alg, z->alg == LDNS_SIGN_RSASHA256 ? 2048 : 256);
    if (z->apex == NULL || z->key == NULL) {
        complain(w, "bad zone apex or key generation failed");
        return NULL;
    }
    ldns_key_set_pubkey_owner(z->key, ldns_rdf_clone(z->apex));
    ldns_key_set_flags(z->key, LDNS_KEY_ZONE_KEY | LDNS_KEY_SEP_KEY);
    z->dnskey = ldns_key2rr(z->key);
    ldns_rr_set_ttl(z->dnskey, TTL);
    ldns_key_set_keytag(z->key, ldns_calc_keytag(z->dnskey));
    return z;
}

/* parse_type - an RR type mnemonic, 0 on error. */
static ldns_rr_type parse_type(const char *s)
{
    return ldns_get_rr_type_by_name(s);
}

/* script_line - one line inside a "query" block, applied to sc->reply:
 *   rcode NAME
 *   answer|authority OWNER TYPE [as NEWOWNER]   an RRset and its RRSIGs
 *   authority cover NAME | match NAME         the zone's NSEC/NSEC3 proof
 *   rr answer|authority TEXT                  a literal (unsigned) record
 *   noreply                                   the server stays silent
 */
static void script_line(world_t *w, script_t *sc, char **tok, int ntok,
                        const char *rest)
{
    ldns_pkt_section sec = LDNS_SECTION_ANSWER;

    if (strcmp(tok[0], "noreply") == 0) {
        ldns_pkt_free(sc->reply);
        sc->reply = NULL;
        return;
    }
    if (sc->reply == NULL) {
        complain(w, "script after noreply");
        return;
    }
    if (strcmp(tok[0], "rcode") == 0 && ntok == 2) {
        ldns_lookup_table *lt = ldns_lookup_by_name(ldns_rcodes, tok[1]);

        if (lt == NULL)
            complain(w, "unknown rcode %s", tok[1]);
        else
            ldns_pkt_set_rcode(sc->reply, (ldns_pkt_rcode)lt->id);
        return;
    }
    if (strcmp(tok[0], "rr") == 0 && ntok >= 3) {
        ldns_rr *rr = NULL;
        const char *text = rest;
        sec = strcmp(tok[1], "answer") == 0 ? LDNS_SECTION_ANSWER
                                            : LDNS_SECTION_AUTHORITY;
        if (ldns_rr_new_frm_str(&rr, text, TTL, NULL, NULL) != LDNS_STATUS_OK) {
            complain(w, "bad record '%s'", text);
            return;
        }
        ldns_pkt_push_rr(sc->reply, sec, rr);
        return;
    }
    if ((strcmp(tok[0], "answer") == 0 || strcmp(tok[0], "authority") == 0) &&
        ntok >= 3) {
        ldns_rdf *name = dname(tok[2]);
        zone_t *z;

        sec = tok[0][1] == 'n' ? LDNS_SECTION_ANSWER : LDNS_SECTION_AUTHORITY;
        if (strcmp(tok[1], "cover") == 0 || strcmp(tok[1], "match") == 0) {
            z = name != NULL ? zone_holding(w, name) : NULL;
            if (z == NULL || nsec_find(z, name, tok[1][0] == 'c') == NULL)
                complain(w, "no NSEC/NSEC3 to %s %s", tok[1], tok[2]);
            else
                push_proof(sc->reply, z, name, tok[1][0] == 'c');
        } else {
            ldns_rdf *owner = dname(tok[1]);
            ldns_rdf *as =
                ntok >= 5 && strcmp(tok[3], "as") == 0 ? dname(tok[4]) : NULL;

            ldns_rdf_deep_free(name);
            name = NULL;
            z = owner != NULL ? zone_holding(w, owner) : NULL;
            /* DS lives in the parent: look there for it. */
            if (z != NULL && parse_type(tok[2]) == LDNS_RR_TYPE_DS &&
                same_name(owner, z->apex) && parent_of(w, z) != NULL)
                z = parent_of(w, z);
            if (z == NULL ||
                push_set(sc->reply, sec, z, owner, parse_type(tok[2]), as) == 0)
                complain(w, "no %s %s in the zones", tok[1], tok[2]);
            ldns_rdf_deep_free(owner);
            ldns_rdf_deep_free(as);
        }
        ldns_rdf_deep_free(name);
        return;
    }
    complain(w, "unknown script line '%s'", tok[0]);
}

/* expect - "expect NAME TYPE STATUS [WHY-SUBSTRING...]": one lookup on a
 * fresh resolver (nothing cached) at the pinned clock. rest: the line
 * from WHY-SUBSTRING on, or NULL. */
static void expect(world_t *w, const char *anchor_file, char **tok, int ntok,
                   const char *rest)
{
    dance_res_config cfg;
    dance_res *res;
    dance_res_result *r;
    dance_res_stats st;
    char err[256];
    const char *want_why = NULL;

    if (ntok < 4) {
        complain(w, "expect NAME TYPE STATUS [WHY]");
        return;
    }
    if (ntok > 4)
        want_why = rest;
    dance_res_config_init(&cfg);
    cfg.trust_anchor = anchor_file;
    cfg.clock_skew = w->skew;
    cfg.exchange = exchange;
    cfg.exchange_arg = w;
    cfg.exchange_servers = w->nservers;
    res = dance_res_new(&cfg, err, sizeof(err));
    if (res == NULL) {
        complain(w, "dance_res_new: %s", err);
        return;
    }
    r = dance_res_lookup(res, tok[1], parse_type(tok[2]), w->clock);
    if (r != NULL && getenv("DANCE_REPLAY_TRACE") != NULL)
        fprintf(stderr, "%s:%d: %s %s -> %s (%s)\n", w->file, w->line, tok[1],
                tok[2], dance_res_status_str(dance_res_result_status(r)),
                dance_res_result_get0_why(r));
    if (r == NULL) {
        complain(w, "lookup returned NULL");
    } else if (strcmp(dance_res_status_str(dance_res_result_status(r)),
                      tok[3]) != 0 ||
               (want_why != NULL &&
                strstr(dance_res_result_get0_why(r), want_why) == NULL)) {
        complain(w, "%s %s: got %s (%s), expected %s%s%s", tok[1], tok[2],
                 dance_res_status_str(dance_res_result_status(r)),
                 dance_res_result_get0_why(r), tok[3],
                 want_why ? " with why containing: " : "",
                 want_why ? want_why : "");
    }
    dance_res_get_stats(res, &st);
    w->last_sig_checks = st.sig_checks;
    w->last_nsec3_hashes = st.nsec3_hashes;
    dance_res_result_free(r);
    dance_res_free(res);
}

/* write_anchor - the DNSKEY of the first zone, into a temporary file. */
static int write_anchor(world_t *w, char *path, size_t len)
{
    FILE *f;
    int fd;

    snprintf(path, len, "/tmp/dance-replay-anchor-XXXXXX");
    fd = mkstemp(path);
    if (fd < 0 || (f = fdopen(fd, "w")) == NULL) {
        complain(w, "cannot write the trust anchor file");
        return 0;
    }
    ldns_rr_print(f, w->zones[0].dnskey);
    fclose(f);
    return 1;
}

/* run_file - read and run one .rpl file; CU assertion per failure. */
static void run_file(const char *name)
{
    char path[1024], line[4096], anchor[64] = "";
    world_t *w = calloc(1, sizeof(*w));
    zone_t *in_zone = NULL;
    script_t *in_script = NULL;
    FILE *f;

    CU_ASSERT_FATAL(w != NULL);
    snprintf(path, sizeof(path), "%s/%s", DANCE_REPLAY_DIR, name);
    w->file = name;
    w->nservers = 1;
    w->skew = 300;
    f = fopen(path, "r");
    if (f == NULL) {
        complain(w, "cannot open %s", path);
        goto out;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        char copy[4096], *tok[32], *save = NULL, *c;
        int ntok = 0;

        w->line++;
        if ((c = strpbrk(line, ";#\n")) != NULL)
            *c = '\0';
        snprintf(copy, sizeof(copy), "%s", line);
        for (char *t = strtok_r(copy, " \t", &save); t != NULL && ntok < 32;
             t = strtok_r(NULL, " \t", &save))
            tok[ntok++] = t;
        if (ntok == 0)
            continue;
        if (strcmp(tok[0], "end") == 0) {
            in_zone = NULL;
            in_script = NULL;
        } else if (in_zone != NULL) {
            add_text_rr(w, in_zone, line);
        } else if (in_script != NULL) {
            script_line(w, in_script, tok, ntok,
                        ntok > 2 ? line + (tok[2] - copy) : NULL);
        } else if (strcmp(tok[0], "clock") == 0 && ntok == 2) {
            w->clock = (time_t)atoll(tok[1]);
        } else if (strcmp(tok[0], "skew") == 0 && ntok == 2) {
            w->skew = (uint32_t)atol(tok[1]);
        } else if (strcmp(tok[0], "servers") == 0 && ntok == 2) {
            w->nservers = (size_t)atoi(tok[1]);
        } else if (strcmp(tok[0], "zone") == 0) {
            if (w->is_signed)
                complain(w, "zones must come before queries and expects");
            in_zone = start_zone(w, tok, ntok);
        } else if (strcmp(tok[0], "query") == 0 && ntok >= 3) {
            script_t *sc = &w->scripts[w->nscripts];
            ldns_rdf *q = dname(tok[1]);

            if (!sign_world(w) || w->nscripts == MAX_SCRIPTS || q == NULL) {
                complain(w, "bad query block");
                ldns_rdf_deep_free(q);
                break;
            }
            w->nscripts++;
            sc->qname = q;
            sc->type = parse_type(tok[2]);
            sc->server =
                ntok >= 5 && strcmp(tok[3], "server") == 0 ? atoi(tok[4]) : -1;
            sc->reply = new_reply(q, sc->type, LDNS_RCODE_NOERROR);
            in_script = sc;
        } else if (strcmp(tok[0], "expect") == 0) {
            if (!sign_world(w))
                break;
            if (anchor[0] == '\0' && !write_anchor(w, anchor, sizeof(anchor)))
                break;
            expect(w, anchor, tok, ntok,
                   ntok > 4 ? line + (tok[4] - copy) : NULL);
        } else if (strcmp(tok[0], "expect-work") == 0 && ntok == 3) {
            /* expect-work sig_checks|nsec3_hashes MAX: of the last lookup */
            uint64_t got = strcmp(tok[1], "sig_checks") == 0
                               ? w->last_sig_checks
                               : w->last_nsec3_hashes;

            if (got > (uint64_t)atoll(tok[2]))
                complain(w, "%s: %llu, more than %s", tok[1],
                         (unsigned long long)got, tok[2]);
        } else {
            complain(w, "unknown directive '%s'", tok[0]);
        }
    }
    fclose(f);
out:
    if (anchor[0] != '\0')
        unlink(anchor);
    CU_ASSERT_EQUAL(w->failures, 0);
    for (size_t i = 0; i < w->nzones; i++) {
        ldns_rdf_deep_free(w->zones[i].apex);
        ldns_rr_list_deep_free(w->zones[i].rrs);
        ldns_rr_list_deep_free(w->zones[i].signed_rrs);
        ldns_key_deep_free(w->zones[i].key);
        ldns_rr_free(w->zones[i].dnskey);
    }
    for (size_t i = 0; i < w->nscripts; i++) {
        ldns_rdf_deep_free(w->scripts[i].qname);
        ldns_pkt_free(w->scripts[i].reply);
    }
    free(w);
}

#define REPLAY_CASE(fn, file)                                                  \
    static void fn(void)                                                       \
    {                                                                          \
        run_file(getenv("RPL") ? getenv("RPL") : file);                        \
    }
REPLAY_CASE(test_basics, "basics.rpl")
REPLAY_CASE(test_wildcard_nsec, "wildcard_nsec.rpl")
REPLAY_CASE(test_wildcard_nsec3, "wildcard_nsec3.rpl")
REPLAY_CASE(test_keytrap, "keytrap.rpl")
REPLAY_CASE(test_ds_parent_side, "ds_parent_side.rpl")
REPLAY_CASE(test_nsec3_flags, "nsec3_flags.rpl")
REPLAY_CASE(test_optout, "optout.rpl")
REPLAY_CASE(test_clock_skew, "clock_skew.rpl")
REPLAY_CASE(test_dname, "dname.rpl")
#undef REPLAY_CASE

int dance_test_suite_replay(void)
{
    static const CU_TestInfo tests[] = {
        {"basics: chain, nxdomain, nodata, insecure", test_basics},
        {"item 1: wildcard replay, NSEC", test_wildcard_nsec},
        {"item 1: wildcard replay, NSEC3", test_wildcard_nsec3},
        {"item 7: KeyTrap and NSEC3 work bounds", test_keytrap},
        {"item 5: DS only from the parent side", test_ds_parent_side},
        {"item 3: NSEC3 with unknown flags ignored", test_nsec3_flags},
        {"item 2: NSEC3 opt-out is insecure", test_optout},
        {"item 6: clock skew on inception", test_clock_skew},
        {"item 4: DNAME like a CNAME hop", test_dname},
        CU_TEST_INFO_NULL};

    return dance_test_add_suite("replay", NULL, NULL, tests);
}
