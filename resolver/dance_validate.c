/*
 * dance_validate.c - signature, key-set and denial-of-existence checks.
 *
 * Cryptography is ldns's (ldns_verify_rrsig_keylist_time); the decisions
 * around it, which signer, which keys, which names an NSEC or NSEC3 proves
 * absent, are made here, following RFC 4035 section 5 and RFC 5155 section 8.
 */
#include "dance_validate.h"
#include "dance_msg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DNSKEY_FLAG_ZONE 0x0100
#define DNSKEY_PROTOCOL 3
#define NSEC3_FLAG_OPTOUT 0x01

/* name_str - presentation form of a dname into buf. */
static const char *name_str(const ldns_rdf *name, char *buf, size_t len)
{
    char *s = name != NULL ? ldns_rdf2str(name) : NULL;

    snprintf(buf, len, "%s", s != NULL ? s : "?");
    free(s);
    return buf;
}

/* is_at_or_below - 1 if name equals zone or lies under it. */
static int is_at_or_below(const ldns_rdf *name, const ldns_rdf *zone)
{
    return ldns_dname_compare(name, zone) == 0 ||
           ldns_dname_is_subdomain(name, zone);
}

/* rrsig_ok_shape - an RRSIG with all nine fields present. */
static int rrsig_ok_shape(const ldns_rr *sig)
{
    return ldns_rr_get_type(sig) == LDNS_RR_TYPE_RRSIG &&
           ldns_rr_rd_count(sig) == 9;
}

/* seconds_until - RRSIG timestamp minus now in serial arithmetic (RFC 4034
 * 3.1.5), clamped to 0. */
static uint32_t seconds_until(const ldns_rdf *stamp, time_t now)
{
    int32_t delta =
        (int32_t)(ldns_rdf2native_int32(stamp) - (uint32_t)(int64_t)now);

    return delta > 0 ? (uint32_t)delta : 0;
}

/* One remembered NSEC3 hash: the owner label for (name, alg, salt, iter). */
typedef struct {
    ldns_rdf *name; /* canonical (lower case) */
    uint8_t alg;
    uint16_t iterations;
    uint8_t salt_len;
    uint8_t salt[255];
    ldns_rdf *hash; /* the b32hex label as a one-label dname */
} nsec3_memo;

struct dance_val_ctx {
    time_t now;
    uint32_t skew;
    unsigned sigs_left, hashes_left;
    unsigned sigs_done, hashes_done;
    int exhausted;
    nsec3_memo *memo;
    size_t nmemo, memo_cap;
};

/* dance_val_ctx_new - see header. */
dance_val_ctx *dance_val_ctx_new(time_t now, uint32_t skew, unsigned max_sigs,
                                 unsigned max_hashes)
{
    dance_val_ctx *vc = calloc(1, sizeof(*vc));

    if (vc == NULL)
        return NULL;
    vc->now = now;
    vc->skew = skew;
    vc->sigs_left = max_sigs;
    vc->hashes_left = max_hashes;
    return vc;
}

/* dance_val_ctx_free - see header. */
void dance_val_ctx_free(dance_val_ctx *vc)
{
    if (vc == NULL)
        return;
    for (size_t i = 0; i < vc->nmemo; i++) {
        ldns_rdf_deep_free(vc->memo[i].name);
        ldns_rdf_deep_free(vc->memo[i].hash);
    }
    free(vc->memo);
    free(vc);
}

/* dance_val_ctx_now - see header. */
time_t dance_val_ctx_now(const dance_val_ctx *vc)
{
    return vc->now;
}

/* dance_val_ctx_exhausted - see header. */
int dance_val_ctx_exhausted(const dance_val_ctx *vc)
{
    return vc->exhausted;
}

/* dance_val_ctx_sig_checks - see header. */
unsigned dance_val_ctx_sig_checks(const dance_val_ctx *vc)
{
    return vc->sigs_done;
}

/* dance_val_ctx_nsec3_hashes - see header. */
unsigned dance_val_ctx_nsec3_hashes(const dance_val_ctx *vc)
{
    return vc->hashes_done;
}

/* sig_time - the time at which to check sig: now, or its inception when
 * that is in the future by at most the allowed skew. Returns 0 with the
 * reason in *st when the signature is outside its validity at now. */
static int sig_time(const dance_val_ctx *vc, const ldns_rr *sig, time_t *t,
                    ldns_status *st)
{
    uint32_t now = (uint32_t)(int64_t)vc->now;
    uint32_t inc = ldns_rdf2native_int32(ldns_rr_rrsig_inception(sig));
    uint32_t exp = ldns_rdf2native_int32(ldns_rr_rrsig_expiration(sig));
    int32_t to_exp = (int32_t)(exp - now), to_inc = (int32_t)(inc - now);

    if (to_exp < 0) {
        *st = LDNS_STATUS_CRYPTO_SIG_EXPIRED;
        return 0;
    }
    if (to_inc > 0 && (uint32_t)to_inc > vc->skew) {
        *st = LDNS_STATUS_CRYPTO_SIG_NOT_INCEPTED;
        return 0;
    }
    if ((int32_t)(exp - inc) < 0) {
        *st = LDNS_STATUS_CRYPTO_EXPIRATION_BEFORE_INCEPTION;
        return 0;
    }
    *t = to_inc > 0 ? vc->now + to_inc : vc->now;
    return 1;
}

/* key_may_have_made - does key (whose tag is tag) carry sig's key tag and
 * algorithm? */
static int key_may_have_made(const ldns_rr *key, uint16_t tag,
                             const ldns_rr *sig)
{
    return ldns_rr_get_type(key) == LDNS_RR_TYPE_DNSKEY &&
           ldns_rr_rd_count(key) == 4 &&
           ldns_rdf2native_int8(ldns_rr_dnskey_algorithm(key)) ==
               ldns_rdf2native_int8(ldns_rr_rrsig_algorithm(sig)) &&
           tag == ldns_rdf2native_int16(ldns_rr_rrsig_keytag(sig));
}

/* dance_val_rrset - see header. */
int dance_val_rrset(const ldns_rr_list *rrset, const ldns_rr_list *sigs,
                    const ldns_rdf *zone, const ldns_rr_list *keys,
                    dance_val_ctx *vc, uint32_t *ttl, uint8_t *labels,
                    char *why, size_t whylen)
{
    const ldns_rr *first = ldns_rr_list_rr(rrset, 0);
    ldns_status last = LDNS_STATUS_CRYPTO_NO_RRSIG;
    size_t nkeys = ldns_rr_list_rr_count(keys);
    uint16_t *tags;
    char zbuf[256];

    if (first == NULL) {
        dance_msg(why, whylen, "empty RRset");
        return 0;
    }
    tags = calloc(nkeys + 1, sizeof(*tags)); /* each key's tag, once */
    if (tags == NULL) {
        dance_msg(why, whylen, "out of memory");
        return 0;
    }
    for (size_t k = 0; k < nkeys; k++)
        tags[k] = ldns_calc_keytag(ldns_rr_list_rr(keys, k));
    for (size_t i = 0; i < ldns_rr_list_rr_count(sigs); i++) {
        ldns_rr *sig = ldns_rr_list_rr(sigs, i);
        uint8_t siglabels;
        uint32_t min_ttl;
        time_t t = vc->now;
        int verified = 0;

        if (!rrsig_ok_shape(sig) ||
            ldns_rdf2rr_type(ldns_rr_rrsig_typecovered(sig)) !=
                ldns_rr_get_type(first) ||
            ldns_dname_compare(ldns_rr_owner(sig), ldns_rr_owner(first)) != 0 ||
            ldns_dname_compare(ldns_rr_rrsig_signame(sig), zone) != 0)
            continue;
        siglabels = ldns_rdf2native_int8(ldns_rr_rrsig_labels(sig));
        /* A labels field larger than the owner's is malformed (RFC 4035
         * 5.3.1); a wildcard owner itself counts one label less. */
        if (siglabels > ldns_dname_label_count(ldns_rr_owner(first)))
            continue;
        if (!sig_time(vc, sig, &t, &last))
            continue;
        for (size_t k = 0; !verified && k < nkeys; k++) {
            ldns_rr *key = ldns_rr_list_rr(keys, k);
            ldns_status st;

            if (!key_may_have_made(key, tags[k], sig))
                continue;
            if (vc->sigs_left == 0) {
                vc->exhausted = 1;
                dance_msg(why, whylen, "validation budget exhausted");
                free(tags);
                return 0;
            }
            vc->sigs_left--;
            vc->sigs_done++;
            st = ldns_verify_rrsig_time((ldns_rr_list *)rrset, sig, key, t);
            if (st == LDNS_STATUS_OK)
                verified = 1;
            else
                last = st;
        }
        if (!verified) {
            if (last == LDNS_STATUS_CRYPTO_NO_RRSIG)
                last = LDNS_STATUS_CRYPTO_NO_MATCHING_KEYTAG_DNSKEY;
            continue;
        }
        min_ttl = ldns_rdf2native_int32(ldns_rr_rrsig_origttl(sig));
        for (size_t j = 0; j < ldns_rr_list_rr_count(rrset); j++) {
            uint32_t rt = ldns_rr_ttl(ldns_rr_list_rr(rrset, j));

            if (rt < min_ttl)
                min_ttl = rt;
        }
        if (seconds_until(ldns_rr_rrsig_expiration(sig), vc->now) < min_ttl)
            min_ttl = seconds_until(ldns_rr_rrsig_expiration(sig), vc->now);
        *ttl = min_ttl;
        *labels = siglabels;
        free(tags);
        return 1;
    }
    free(tags);
    dance_msg(why, whylen, "no valid signature by %s: %s",
              name_str(zone, zbuf, sizeof(zbuf)),
              ldns_get_errorstr_by_id(last));
    return 0;
}

/* ds_supported - can we compute this DS's digest and verify its algorithm? */
static int ds_supported(const ldns_rr *ds)
{
    uint8_t alg, digest;

    if (ldns_rr_rd_count(ds) != 4)
        return 0;
    alg = ldns_rdf2native_int8(ldns_rr_rdf(ds, 1));
    digest = ldns_rdf2native_int8(ldns_rr_rdf(ds, 2));
    switch (alg) {
    case LDNS_RSASHA1:
    case LDNS_RSASHA1_NSEC3:
    case LDNS_RSASHA256:
    case LDNS_RSASHA512:
    case LDNS_ECDSAP256SHA256:
    case LDNS_ECDSAP384SHA384:
    case LDNS_ED25519:
    case LDNS_ED448:
        break;
    default:
        return 0;
    }
    return digest == LDNS_SHA1 || digest == LDNS_SHA256 ||
           digest == LDNS_SHA384;
}

/* is_zone_key - DNSKEY usable for RRSIGs: zone flag set, protocol 3. */
static int is_zone_key(const ldns_rr *key)
{
    return ldns_rr_get_type(key) == LDNS_RR_TYPE_DNSKEY &&
           ldns_rr_rd_count(key) == 4 &&
           (ldns_rdf2native_int16(ldns_rr_dnskey_flags(key)) &
            DNSKEY_FLAG_ZONE) != 0 &&
           ldns_rdf2native_int8(ldns_rr_dnskey_protocol(key)) ==
               DNSKEY_PROTOCOL;
}

/* trusted_by - does some DS or DNSKEY in trust vouch for key? */
static int trusted_by(const ldns_rr *key, const ldns_rr_list *trust)
{
    for (size_t i = 0; i < ldns_rr_list_rr_count(trust); i++) {
        const ldns_rr *t = ldns_rr_list_rr(trust, i);

        if (ldns_rr_get_type(t) == LDNS_RR_TYPE_DS) {
            if (ds_supported(t) && ldns_rr_compare_ds(t, key))
                return 1;
        } else if (ldns_rr_get_type(t) == LDNS_RR_TYPE_DNSKEY &&
                   ldns_rr_rd_count(t) == ldns_rr_rd_count(key)) {
            size_t j;

            for (j = 0; j < ldns_rr_rd_count(t); j++)
                if (ldns_rdf_compare(ldns_rr_rdf(t, j), ldns_rr_rdf(key, j)))
                    break;
            if (j == ldns_rr_rd_count(t))
                return 1;
        }
    }
    return 0;
}

/* dance_val_keyset - see header. */
dance_val_keys dance_val_keyset(const ldns_rr_list *dnskeys,
                                const ldns_rr_list *sigs, const ldns_rdf *zone,
                                const ldns_rr_list *trust, dance_val_ctx *vc,
                                ldns_rr_list **out, uint32_t *ttl, char *why,
                                size_t whylen)
{
    ldns_rr_list *sep = ldns_rr_list_new();   /* borrowed: keys in trust */
    ldns_rr_list *zkeys = ldns_rr_list_new(); /* owned clones */
    dance_val_keys result = DANCE_VAL_KEYS_BOGUS;
    int any_supported = 0;
    uint8_t labels;
    char zbuf[256], sigwhy[256];

    *out = NULL;
    name_str(zone, zbuf, sizeof(zbuf));
    if (sep == NULL || zkeys == NULL) {
        dance_msg(why, whylen, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < ldns_rr_list_rr_count(trust); i++) {
        const ldns_rr *t = ldns_rr_list_rr(trust, i);

        if (ldns_rr_get_type(t) == LDNS_RR_TYPE_DNSKEY || ds_supported(t))
            any_supported = 1;
    }
    if (!any_supported) {
        dance_msg(why, whylen,
                  "no DS for %s uses a supported algorithm and digest", zbuf);
        result = DANCE_VAL_KEYS_INSECURE;
        goto done;
    }
    for (size_t i = 0; i < ldns_rr_list_rr_count(dnskeys); i++) {
        ldns_rr *key = ldns_rr_list_rr(dnskeys, i);

        if (!is_zone_key(key) ||
            ldns_dname_compare(ldns_rr_owner(key), zone) != 0)
            continue;
        if (trusted_by(key, trust) && !ldns_rr_list_push_rr(sep, key))
            goto nomem;
        if (!ldns_rr_list_push_rr(zkeys, ldns_rr_clone(key)))
            goto nomem;
    }
    if (ldns_rr_list_rr_count(sep) == 0) {
        dance_msg(why, whylen, "no DNSKEY of %s matches its DS or trust anchor",
                  zbuf);
        goto done;
    }
    if (!dance_val_rrset(dnskeys, sigs, zone, sep, vc, ttl, &labels, sigwhy,
                         sizeof(sigwhy))) {
        if (vc->exhausted)
            dance_msg(why, whylen, "%s", sigwhy);
        else
            dance_msg(why, whylen,
                      "DNSKEY set of %s not signed by a trusted key: %s", zbuf,
                      sigwhy);
        goto done;
    }
    *out = zkeys;
    zkeys = NULL;
    result = DANCE_VAL_KEYS_SECURE;
    goto done;
nomem:
    dance_msg(why, whylen, "out of memory");
done:
    ldns_rr_list_free(sep);
    ldns_rr_list_deep_free(zkeys);
    return result;
}

/* dance_denial_str - short name of a denial outcome. */
const char *dance_denial_str(dance_denial d)
{
    switch (d) {
    case DANCE_DENIAL_FAIL:
        return "no proof";
    case DANCE_DENIAL_NODATA:
        return "nodata";
    case DANCE_DENIAL_NXDOMAIN:
        return "nxdomain";
    case DANCE_DENIAL_INSECURE:
        return "insecure";
    case DANCE_DENIAL_NO_DS:
        return "no-ds";
    }
    return "unknown";
}

/* bitmap_has - does the NSEC/NSEC3 type bitmap list type? */
static int bitmap_has(const ldns_rr *nsec, ldns_rr_type type)
{
    ldns_rdf *bitmap = ldns_nsec_get_bitmap(nsec);

    return bitmap != NULL && ldns_nsec_bitmap_covers_type(bitmap, type);
}

/* strictly_between - owner < name < next in canonical order, where the
 * last record of the chain wraps around (next <= owner). */
static int strictly_between(const ldns_rdf *owner, const ldns_rdf *name,
                            const ldns_rdf *next)
{
    int owner_vs_next = ldns_dname_compare(owner, next);

    if (owner_vs_next < 0)
        return ldns_dname_compare(owner, name) < 0 &&
               ldns_dname_compare(name, next) < 0;
    /* Last NSEC (or a chain of one): covers everything after the owner. */
    return ldns_dname_compare(owner, name) < 0 ||
           ldns_dname_compare(name, next) < 0;
}

/* delegation_nsec - NSEC/NSEC3 of a parent-side delegation: NS, no SOA. */
static int delegation_nsec(const ldns_rr *nsec)
{
    return bitmap_has(nsec, LDNS_RR_TYPE_NS) &&
           !bitmap_has(nsec, LDNS_RR_TYPE_SOA);
}

/* matched_denial - what an NSEC or NSEC3 at the name itself proves about
 * qtype there (a NODATA claim). */
static dance_denial matched_denial(const ldns_rr *match, ldns_rr_type qtype,
                                   char *why, size_t whylen)
{
    const char *kind =
        ldns_rr_get_type(match) == LDNS_RR_TYPE_NSEC ? "NSEC" : "NSEC3";

    if (bitmap_has(match, qtype) || bitmap_has(match, LDNS_RR_TYPE_CNAME)) {
        dance_msg(why, whylen, "%s at the name lists the type asked for", kind);
        return DANCE_DENIAL_FAIL;
    }
    if (qtype == LDNS_RR_TYPE_DS && bitmap_has(match, LDNS_RR_TYPE_SOA)) {
        /* The child's apex: DS is the parent's data (RFC 4035 5.2). */
        dance_msg(why, whylen, "%s of a zone apex cannot deny its DS", kind);
        return DANCE_DENIAL_FAIL;
    }
    if (delegation_nsec(match)) {
        /* Parent side of a cut: it speaks for DS only. */
        if (qtype == LDNS_RR_TYPE_DS)
            return bitmap_has(match, LDNS_RR_TYPE_DS) ? DANCE_DENIAL_FAIL
                                                      : DANCE_DENIAL_NO_DS;
        dance_msg(why, whylen, "%s from the parent side of a delegation", kind);
        return DANCE_DENIAL_FAIL;
    }
    return DANCE_DENIAL_NODATA;
}

/* nsec_covering - the NSEC that proves name does not exist, or NULL. An
 * NSEC from above a delegation cannot speak for names below the cut. */
static const ldns_rr *nsec_covering(const ldns_rr_list *nsecs,
                                    const ldns_rdf *name)
{
    for (size_t i = 0; i < ldns_rr_list_rr_count(nsecs); i++) {
        const ldns_rr *n = ldns_rr_list_rr(nsecs, i);

        if (ldns_rr_get_type(n) != LDNS_RR_TYPE_NSEC || ldns_rr_rd_count(n) < 1)
            continue;
        if (!strictly_between(ldns_rr_owner(n), name, ldns_rr_rdf(n, 0)))
            continue;
        if (ldns_dname_is_subdomain(name, ldns_rr_owner(n)) &&
            (delegation_nsec(n) || bitmap_has(n, LDNS_RR_TYPE_DNAME)))
            continue;
        return n;
    }
    return NULL;
}

/* nsec_matching - the NSEC whose owner is name, or NULL. */
static const ldns_rr *nsec_matching(const ldns_rr_list *nsecs,
                                    const ldns_rdf *name)
{
    for (size_t i = 0; i < ldns_rr_list_rr_count(nsecs); i++) {
        const ldns_rr *n = ldns_rr_list_rr(nsecs, i);

        if (ldns_rr_get_type(n) == LDNS_RR_TYPE_NSEC &&
            ldns_dname_compare(ldns_rr_owner(n), name) == 0)
            return n;
    }
    return NULL;
}

/* common_ancestor_len - labels shared by the ends of two names. */
static uint8_t common_labels(const ldns_rdf *a, const ldns_rdf *b)
{
    uint8_t la = ldns_dname_label_count(a), lb = ldns_dname_label_count(b);
    uint8_t n = la < lb ? la : lb;

    while (n > 0) {
        ldns_rdf *ca = ldns_dname_clone_from(a, (uint16_t)(la - n));
        ldns_rdf *cb = ldns_dname_clone_from(b, (uint16_t)(lb - n));
        int same = ca != NULL && cb != NULL && ldns_dname_compare(ca, cb) == 0;

        ldns_rdf_deep_free(ca);
        ldns_rdf_deep_free(cb);
        if (same)
            break;
        n--;
    }
    return n;
}

/* ancestor - the ancestor of name with the given number of labels (the
 * root has none); caller frees. */
static ldns_rdf *ancestor(const ldns_rdf *name, uint8_t labels)
{
    uint8_t have = ldns_dname_label_count(name);

    return ldns_dname_clone_from(name, (uint16_t)(have - labels));
}

/* wildcard_of - "*." + name; caller frees. */
static ldns_rdf *wildcard_of(const ldns_rdf *name)
{
    ldns_rdf *w = ldns_dname_new_frm_str("*");

    if (w != NULL && ldns_dname_cat(w, name) != LDNS_STATUS_OK) {
        ldns_rdf_deep_free(w);
        return NULL;
    }
    return w;
}

/* nsec_closest_encloser - RFC 4035 5.4: the closest encloser implied by the
 * covering NSEC (longest ancestor of qname shared with owner or next). */
static ldns_rdf *nsec_closest_encloser(const ldns_rr *cover,
                                       const ldns_rdf *qname)
{
    uint8_t a = common_labels(qname, ldns_rr_owner(cover));
    uint8_t b = common_labels(qname, ldns_rr_rdf(cover, 0));

    return ancestor(qname, a > b ? a : b);
}

/* nsec_denial - RFC 4035 5.4 with NSEC records. */
static dance_denial nsec_denial(const ldns_rdf *qname, ldns_rr_type qtype,
                                int nxdomain, const ldns_rr_list *nsecs,
                                const ldns_rdf *zone, char *why, size_t whylen)
{
    const ldns_rr *match = nsec_matching(nsecs, qname);
    const ldns_rr *cover;
    ldns_rdf *ce = NULL, *wc = NULL;
    dance_denial result = DANCE_DENIAL_FAIL;

    if (!nxdomain && match != NULL)
        return matched_denial(match, qtype, why, whylen);
    if (match != NULL) {
        dance_msg(why, whylen,
                  "NXDOMAIN claimed but an NSEC shows the name exists");
        return DANCE_DENIAL_FAIL;
    }
    cover = nsec_covering(nsecs, qname);
    if (cover == NULL) {
        dance_msg(why, whylen, "no NSEC covers the name");
        return DANCE_DENIAL_FAIL;
    }
    /* Empty non-terminal: the name exists because something below it does. */
    if (!nxdomain && ldns_dname_is_subdomain(ldns_rr_rdf(cover, 0), qname))
        return DANCE_DENIAL_NODATA;
    ce = nsec_closest_encloser(cover, qname);
    wc = ce != NULL ? wildcard_of(ce) : NULL;
    if (wc == NULL || !is_at_or_below(ce, zone)) {
        dance_msg(why, whylen, "closest encloser outside the zone");
        goto done;
    }
    match = nsec_matching(nsecs, wc);
    if (nxdomain) {
        if (match == NULL && nsec_covering(nsecs, wc) != NULL)
            result = DANCE_DENIAL_NXDOMAIN;
        else
            dance_msg(why, whylen, "no proof that the wildcard does not exist");
    } else {
        /* NODATA through a wildcard that lacks the type. */
        if (match != NULL && !bitmap_has(match, qtype) &&
            !bitmap_has(match, LDNS_RR_TYPE_CNAME))
            result = DANCE_DENIAL_NODATA;
        else
            dance_msg(why, whylen,
                      "NSEC proves neither the type nor the name "
                      "absent");
    }
done:
    ldns_rdf_deep_free(ce);
    ldns_rdf_deep_free(wc);
    return result;
}

/* nsec3_usable - SHA-1, and no flag but opt-out: an NSEC3 with a flag we
 * do not know MUST be ignored (RFC 5155 8.2). */
static int nsec3_usable(const ldns_rr *n)
{
    return ldns_rr_get_type(n) == LDNS_RR_TYPE_NSEC3 &&
           ldns_rr_rd_count(n) >= 5 && ldns_nsec3_algorithm(n) == LDNS_SHA1 &&
           (ldns_nsec3_flags(n) & ~NSEC3_FLAG_OPTOUT) == 0;
}

/* nsec3_hash_label - the hash of name under n's parameters, computed once
 * per (name, algorithm, salt, iterations) in vc and counted against its
 * bound. Borrowed from vc's memo; NULL when the bound is spent or memory
 * runs out. */
static const ldns_rdf *nsec3_hash_label(dance_val_ctx *vc, const ldns_rr *n,
                                        const ldns_rdf *name)
{
    const ldns_rdf *salt = ldns_nsec3_salt(n);
    uint8_t alg = ldns_nsec3_algorithm(n), slen = 0;
    const uint8_t *sdata = NULL;
    uint16_t iter = ldns_nsec3_iterations(n);
    ldns_rdf *canon;
    nsec3_memo *m;

    if (salt != NULL && ldns_rdf_size(salt) >= 1) {
        slen = ldns_rdf_data(salt)[0];
        if ((size_t)slen + 1 > ldns_rdf_size(salt))
            return NULL;
        sdata = ldns_rdf_data(salt) + 1;
    }
    for (size_t i = 0; i < vc->nmemo; i++) {
        m = &vc->memo[i];
        if (m->alg == alg && m->iterations == iter && m->salt_len == slen &&
            memcmp(m->salt, sdata, slen) == 0 &&
            ldns_dname_compare(m->name, name) == 0)
            return m->hash;
    }
    if (vc->hashes_left == 0) {
        vc->exhausted = 1;
        return NULL;
    }
    if (vc->nmemo == vc->memo_cap) {
        size_t cap = vc->memo_cap ? vc->memo_cap * 2 : 16;
        nsec3_memo *grown = realloc(vc->memo, cap * sizeof(*grown));

        if (grown == NULL)
            return NULL;
        vc->memo = grown;
        vc->memo_cap = cap;
    }
    canon = ldns_rdf_clone(name);
    if (canon == NULL)
        return NULL;
    ldns_dname2canonical(canon);
    vc->hashes_left--;
    vc->hashes_done++;
    m = &vc->memo[vc->nmemo];
    m->hash = ldns_nsec3_hash_name(canon, alg, iter, slen, sdata);
    if (m->hash == NULL) {
        ldns_rdf_deep_free(canon);
        return NULL;
    }
    m->name = canon;
    m->alg = alg;
    m->iterations = iter;
    m->salt_len = slen;
    if (slen > 0)
        memcpy(m->salt, sdata, slen);
    vc->nmemo++;
    return m->hash;
}

/* nsec3_hashed - hash(name) with n's parameters, as "<b32hex>.<zone>";
 * caller frees. */
static ldns_rdf *nsec3_hashed(dance_val_ctx *vc, const ldns_rr *n,
                              const ldns_rdf *name, const ldns_rdf *zone)
{
    const ldns_rdf *label = nsec3_hash_label(vc, n, name);
    ldns_rdf *h = label != NULL ? ldns_rdf_clone(label) : NULL;

    if (h != NULL && ldns_dname_cat(h, zone) != LDNS_STATUS_OK) {
        ldns_rdf_deep_free(h);
        return NULL;
    }
    return h;
}

/* nsec3_next - the NSEC3's next hashed owner as "<b32hex>.<zone>". */
static ldns_rdf *nsec3_next(const ldns_rr *n, const ldns_rdf *zone)
{
    char *b32 = ldns_rdf2str(ldns_nsec3_next_owner(n));
    ldns_rdf *next = b32 != NULL ? ldns_dname_new_frm_str(b32) : NULL;

    free(b32);
    if (next != NULL && ldns_dname_cat(next, zone) != LDNS_STATUS_OK) {
        ldns_rdf_deep_free(next);
        return NULL;
    }
    return next;
}

/* same_nsec3_params - do two NSEC3 records hash names alike (algorithm,
 * iterations, salt)? */
static int same_nsec3_params(const ldns_rr *a, const ldns_rr *b)
{
    return ldns_nsec3_algorithm(a) == ldns_nsec3_algorithm(b) &&
           ldns_nsec3_iterations(a) == ldns_nsec3_iterations(b) &&
           ldns_rdf_compare(ldns_nsec3_salt(a), ldns_nsec3_salt(b)) == 0;
}

/* nsec3_find - an NSEC3 matching (cover == 0) or covering (cover == 1)
 * name, or NULL. */
static const ldns_rr *nsec3_find(dance_val_ctx *vc, const ldns_rr_list *nsecs,
                                 const ldns_rdf *name, const ldns_rdf *zone,
                                 int cover)
{
    const ldns_rr *hashed_for = NULL; /* h was made with its parameters */
    ldns_rdf *h = NULL;
    const ldns_rr *found = NULL;

    for (size_t i = 0; found == NULL && i < ldns_rr_list_rr_count(nsecs); i++) {
        const ldns_rr *n = ldns_rr_list_rr(nsecs, i);
        ldns_rdf *next;
        int hit = 0;

        if (!nsec3_usable(n) ||
            ldns_nsec3_iterations(n) > DANCE_VAL_NSEC3_MAX_ITERATIONS)
            continue;
        if (hashed_for == NULL || !same_nsec3_params(hashed_for, n)) {
            ldns_rdf_deep_free(h);
            h = nsec3_hashed(vc, n, name, zone);
            hashed_for = n;
        }
        next = cover ? nsec3_next(n, zone) : NULL;
        if (h != NULL && !cover)
            hit = ldns_dname_compare(ldns_rr_owner(n), h) == 0;
        else if (h != NULL && next != NULL)
            hit = strictly_between(ldns_rr_owner(n), h, next);
        ldns_rdf_deep_free(next);
        if (hit)
            found = n;
    }
    ldns_rdf_deep_free(h);
    return found;
}

/* nsec3_over_limit - the first usable NSEC3 whose iteration count is over
 * DANCE_VAL_NSEC3_MAX_ITERATIONS (never hashed: RFC 9276), or NULL. */
static const ldns_rr *nsec3_over_limit(const ldns_rr_list *nsecs)
{
    for (size_t i = 0; i < ldns_rr_list_rr_count(nsecs); i++) {
        const ldns_rr *n = ldns_rr_list_rr(nsecs, i);

        if (nsec3_usable(n) &&
            ldns_nsec3_iterations(n) > DANCE_VAL_NSEC3_MAX_ITERATIONS)
            return n;
    }
    return NULL;
}

/* nsec3_closest_encloser - RFC 5155 8.3: the closest provable encloser of
 * qname and the NSEC3 covering the next closer name. Returns the encloser
 * (caller frees) or NULL. */
static ldns_rdf *nsec3_closest_encloser(dance_val_ctx *vc,
                                        const ldns_rr_list *nsecs,
                                        const ldns_rdf *qname,
                                        const ldns_rdf *zone,
                                        const ldns_rr **next_cover)
{
    uint8_t qlabels = ldns_dname_label_count(qname);
    uint8_t zlabels = ldns_dname_label_count(zone);

    for (uint8_t l = qlabels; l >= zlabels && l > 0; l--) {
        ldns_rdf *ce = ancestor(qname, (uint8_t)(l - 1));
        ldns_rdf *nc = ancestor(qname, l);
        const ldns_rr *m = NULL;

        if (ce == NULL || nc == NULL || l - 1 < zlabels) {
            ldns_rdf_deep_free(ce);
            ldns_rdf_deep_free(nc);
            break;
        }
        m = nsec3_find(vc, nsecs, ce, zone, 0);
        /* An encloser at a delegation or DNAME cannot prove anything
         * below it (RFC 5155 8.3). */
        if (m != NULL && !delegation_nsec(m) &&
            !bitmap_has(m, LDNS_RR_TYPE_DNAME)) {
            *next_cover = nsec3_find(vc, nsecs, nc, zone, 1);
            ldns_rdf_deep_free(nc);
            if (*next_cover != NULL)
                return ce;
            ldns_rdf_deep_free(ce);
            return NULL;
        }
        ldns_rdf_deep_free(ce);
        ldns_rdf_deep_free(nc);
        if (vc->exhausted)
            break;
    }
    return NULL;
}

/* is_optout - an NSEC3 with the opt-out flag. */
static int is_optout(const ldns_rr *n)
{
    return (ldns_nsec3_flags(n) & NSEC3_FLAG_OPTOUT) != 0;
}

/* nsec3_denial - RFC 5155 8.4-8.7. */
static dance_denial nsec3_denial(const ldns_rdf *qname, ldns_rr_type qtype,
                                 int nxdomain, const ldns_rr_list *nsecs,
                                 const ldns_rdf *zone, dance_val_ctx *vc,
                                 char *why, size_t whylen)
{
    const ldns_rr *match, *cover = NULL, *wmatch, *heavy;
    ldns_rdf *ce, *wc;
    dance_denial result = DANCE_DENIAL_FAIL;
    int usable = 0;

    for (size_t i = 0; i < ldns_rr_list_rr_count(nsecs); i++)
        if (nsec3_usable(ldns_rr_list_rr(nsecs, i)))
            usable = 1;
    if ((heavy = nsec3_over_limit(nsecs)) != NULL) {
        dance_msg(why, whylen, "NSEC3 iterations %u over the limit %d",
                  ldns_nsec3_iterations(heavy), DANCE_VAL_NSEC3_MAX_ITERATIONS);
        return DANCE_DENIAL_INSECURE;
    }
    if (!usable) {
        dance_msg(why, whylen, "no usable NSEC3 (unknown flags or algorithm)");
        return DANCE_DENIAL_FAIL;
    }
    match = nsec3_find(vc, nsecs, qname, zone, 0);
    if (match != NULL) {
        if (nxdomain) {
            dance_msg(why, whylen,
                      "NXDOMAIN claimed but an NSEC3 matches the name");
            return DANCE_DENIAL_FAIL;
        }
        return matched_denial(match, qtype, why, whylen);
    }
    ce = nsec3_closest_encloser(vc, nsecs, qname, zone, &cover);
    if (ce == NULL) {
        dance_msg(why, whylen, "%s",
                  vc->exhausted ? "validation budget exhausted"
                                : "no NSEC3 closest encloser proof");
        return DANCE_DENIAL_FAIL;
    }
    /* The next closer name lies in an opt-out span: it may be an unsigned
     * delegation, or an empty non-terminal above one (RFC 5155 7.1, 8.6,
     * 9.2), so neither its absence nor its types are proven. */
    if (is_optout(cover)) {
        dance_msg(why, whylen, "next closer name in an NSEC3 opt-out span");
        ldns_rdf_deep_free(ce);
        return DANCE_DENIAL_INSECURE;
    }
    wc = wildcard_of(ce);
    wmatch = wc != NULL ? nsec3_find(vc, nsecs, wc, zone, 0) : NULL;
    if (nxdomain) {
        if (wc != NULL && wmatch == NULL &&
            nsec3_find(vc, nsecs, wc, zone, 1) != NULL)
            result = DANCE_DENIAL_NXDOMAIN;
        else
            dance_msg(why, whylen,
                      "no NSEC3 proof that the wildcard is absent");
    } else if (wmatch != NULL && !bitmap_has(wmatch, qtype) &&
               !bitmap_has(wmatch, LDNS_RR_TYPE_CNAME)) {
        result = DANCE_DENIAL_NODATA;
    } else {
        dance_msg(why, whylen,
                  "NSEC3 proves neither the type nor the name absent");
    }
    if (result == DANCE_DENIAL_FAIL && vc->exhausted)
        dance_msg(why, whylen, "validation budget exhausted");
    ldns_rdf_deep_free(ce);
    ldns_rdf_deep_free(wc);
    return result;
}

/* has_type - does the list hold a record of this type? */
static int has_type(const ldns_rr_list *l, ldns_rr_type t)
{
    for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++)
        if (ldns_rr_get_type(ldns_rr_list_rr(l, i)) == t)
            return 1;
    return 0;
}

/* dance_val_denial - see header. */
dance_denial dance_val_denial(const ldns_rdf *qname, ldns_rr_type qtype,
                              int nxdomain, const ldns_rr_list *nsecs,
                              const ldns_rdf *zone, dance_val_ctx *vc,
                              char *why, size_t whylen)
{
    if (!is_at_or_below(qname, zone)) {
        dance_msg(why, whylen,
                  "denial from a zone above which the name is not");
        return DANCE_DENIAL_FAIL;
    }
    if (has_type(nsecs, LDNS_RR_TYPE_NSEC))
        return nsec_denial(qname, qtype, nxdomain, nsecs, zone, why, whylen);
    if (has_type(nsecs, LDNS_RR_TYPE_NSEC3))
        return nsec3_denial(qname, qtype, nxdomain, nsecs, zone, vc, why,
                            whylen);
    dance_msg(why, whylen, "no NSEC or NSEC3 records");
    return DANCE_DENIAL_FAIL;
}

/* nsec_wildcard - RFC 4035 5.3.4 with NSEC: an NSEC proves that qname does
 * not exist, and the closest encloser it implies is exactly ce (the
 * wildcard's parent), so the next closer name nc does not exist either. */
static int nsec_wildcard(const ldns_rdf *qname, const ldns_rdf *ce,
                         const ldns_rdf *nc, const ldns_rr_list *nsecs,
                         char *why, size_t whylen)
{
    const ldns_rr *cover = nsec_covering(nsecs, qname);
    ldns_rdf *implied;
    int same;

    if (cover == NULL) {
        dance_msg(why, whylen,
                  "wildcard answer without proof that the name does not exist");
        return 0;
    }
    if (nsec_covering(nsecs, nc) == NULL) {
        dance_msg(
            why, whylen,
            "wildcard answer, but the NSEC does not prove the next closer "
            "name absent");
        return 0;
    }
    implied = nsec_closest_encloser(cover, qname);
    same = implied != NULL && ldns_dname_compare(implied, ce) == 0;
    ldns_rdf_deep_free(implied);
    if (!same)
        dance_msg(
            why, whylen,
            "wildcard answer whose closest encloser is not the wildcard's "
            "parent");
    return same;
}

/* dance_val_wildcard - see header. */
dance_denial dance_val_wildcard(const ldns_rdf *qname, uint8_t labels,
                                const ldns_rr_list *nsecs, const ldns_rdf *zone,
                                dance_val_ctx *vc, char *why, size_t whylen)
{
    /* The closest encloser is the wildcard's parent (the last labels labels
     * of qname); the next closer name has one label more. */
    uint8_t qlabels = ldns_dname_label_count(qname);
    ldns_rdf *ce = NULL, *nc = NULL;
    const ldns_rr *cover;
    dance_denial result = DANCE_DENIAL_FAIL;

    if (labels + 1 > qlabels || labels < ldns_dname_label_count(zone) ||
        (ce = ancestor(qname, labels)) == NULL ||
        (nc = ancestor(qname, (uint8_t)(labels + 1))) == NULL) {
        dance_msg(why, whylen, "bad RRSIG labels field");
        goto done;
    }
    if (has_type(nsecs, LDNS_RR_TYPE_NSEC)) {
        if (nsec_wildcard(qname, ce, nc, nsecs, why, whylen))
            result = DANCE_DENIAL_NXDOMAIN;
    } else if ((cover = nsec3_over_limit(nsecs)) != NULL) {
        dance_msg(why, whylen, "NSEC3 iterations %u over the limit %d",
                  ldns_nsec3_iterations(cover), DANCE_VAL_NSEC3_MAX_ITERATIONS);
        result = DANCE_DENIAL_INSECURE;
    } else if (has_type(nsecs, LDNS_RR_TYPE_NSEC3)) {
        cover = nsec3_find(vc, nsecs, nc, zone, 1);
        if (cover != NULL && is_optout(cover)) {
            dance_msg(why, whylen, "wildcard answer in an NSEC3 opt-out span");
            result = DANCE_DENIAL_INSECURE;
        } else if (cover != NULL) {
            result = DANCE_DENIAL_NXDOMAIN;
        } else {
            dance_msg(why, whylen, "%s",
                      vc->exhausted
                          ? "validation budget exhausted"
                          : "wildcard answer without NSEC3 proof that "
                            "the next closer name does not exist");
        }
    } else {
        dance_msg(why, whylen,
                  "wildcard answer without proof that the name does not exist");
    }
done:
    ldns_rdf_deep_free(ce);
    ldns_rdf_deep_free(nc);
    return result;
}
