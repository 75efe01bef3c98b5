/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_validate.h - DNSSEC checks on records already in hand (RFC 4033-4035,
 * RFC 5155). No I/O: the resolver fetches, these functions judge. Every
 * function takes the validation time as a parameter.
 *
 * Inputs are borrowed and left unchanged in content, but ldns may lower-case
 * owner names of RRSIGs it verifies: pass records the caller owns.
 */
#ifndef DANCE_VALIDATE_H
#define DANCE_VALIDATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <ldns/ldns.h>

/* NSEC3 iteration counts above this are treated as insecure (RFC 9276). */
#define DANCE_VAL_NSEC3_MAX_ITERATIONS 150

/* Work bounds per lookup (see dance_res.c): RRSIG verifications and NSEC3
 * hash computations. A valid chain needs about one verification per RRset
 * and a few hashes per NSEC3 proof. */
#define DANCE_VAL_MAX_SIG_CHECKS 128
#define DANCE_VAL_MAX_NSEC3_HASHES 256

/* Default allowance for an RRSIG inception in the future, seconds. */
#define DANCE_VAL_DEFAULT_CLOCK_SKEW 300

/*
 * dance_val_ctx - the state of one lookup's validation: the time, the clock
 * skew allowed, and the work bounds (KeyTrap, CVE-2023-50387; NSEC3 hashing,
 * CVE-2023-50868). Every signature verification and every NSEC3 hash
 * computation is counted against the bounds; once one is spent, the checks
 * fail and dance_val_ctx_exhausted() says so. NSEC3 hashes are computed
 * once per (name, algorithm, salt, iterations) and remembered here.
 * Not thread-safe: one context per lookup.
 */
typedef struct dance_val_ctx dance_val_ctx;

/*
 * dance_val_ctx_new - a context validating at time now; an RRSIG whose
 * inception is at most skew seconds after now is accepted (expiration is
 * never extended). max_sigs and max_hashes bound the work. Returns NULL
 * when memory runs out; free with dance_val_ctx_free (NULL is fine).
 */
dance_val_ctx *dance_val_ctx_new(time_t now, uint32_t skew, unsigned max_sigs,
                                 unsigned max_hashes);

/* dance_val_ctx_free - NULL is fine. */
void dance_val_ctx_free(dance_val_ctx *vc);

/* dance_val_ctx_now - the validation time. */
time_t dance_val_ctx_now(const dance_val_ctx *vc);

/* dance_val_ctx_exhausted - 1 once a bound stopped some check, else 0. */
int dance_val_ctx_exhausted(const dance_val_ctx *vc);

/* dance_val_ctx_sig_checks - signature verifications done so far. */
unsigned dance_val_ctx_sig_checks(const dance_val_ctx *vc);

/* dance_val_ctx_nsec3_hashes - NSEC3 hashes computed so far. */
unsigned dance_val_ctx_nsec3_hashes(const dance_val_ctx *vc);

/*
 * dance_val_rrset - does some RRSIG in sigs, made by zone over rrset's type,
 * verify rrset with one of keys at vc's time? Stops at the first signature
 * that verifies; each (RRSIG, key with its tag and algorithm) pair tried
 * costs one verification of vc's budget.
 * rrset:  one RRset (same owner, type, class), non-empty.
 * sigs:   candidate RRSIGs (others are ignored).
 * On success returns 1, sets *ttl to min(RRset TTLs, the signature's original
 * TTL, seconds until the signature expires) and *labels to the RRSIG labels
 * field (less than the owner's label count means wildcard expansion).
 * Returns 0 with a reason in why when no signature verifies.
 */
int dance_val_rrset(const ldns_rr_list *rrset, const ldns_rr_list *sigs,
                    const ldns_rdf *zone, const ldns_rr_list *keys,
                    dance_val_ctx *vc, uint32_t *ttl, uint8_t *labels,
                    char *why, size_t whylen);

typedef enum {
    DANCE_VAL_KEYS_BOGUS = 0,
    DANCE_VAL_KEYS_SECURE,
    DANCE_VAL_KEYS_INSECURE /* no DS/anchor with an algorithm we support */
} dance_val_keys;

/*
 * dance_val_keyset - authenticate zone's DNSKEY RRset (dnskeys, with its
 * RRSIGs in sigs) by trust: DS records (from the secure parent) and/or
 * DNSKEY records (trust anchors). On DANCE_VAL_KEYS_SECURE *out (caller
 * frees, ldns_rr_list_deep_free) holds the zone keys usable for RRSIGs and
 * *ttl the validity of the key set.
 */
dance_val_keys dance_val_keyset(const ldns_rr_list *dnskeys,
                                const ldns_rr_list *sigs, const ldns_rdf *zone,
                                const ldns_rr_list *trust, dance_val_ctx *vc,
                                ldns_rr_list **out, uint32_t *ttl, char *why,
                                size_t whylen);

typedef enum {
    DANCE_DENIAL_FAIL = 0, /* the records do not prove the claim */
    DANCE_DENIAL_NODATA,   /* qname exists, qtype does not */
    DANCE_DENIAL_NXDOMAIN, /* qname does not exist */
    DANCE_DENIAL_INSECURE, /* opt-out, or NSEC3 iterations over the limit:
                              nothing is proven */
    DANCE_DENIAL_NO_DS     /* DS asked at a delegation the parent proves
                              to have no DS: the DS RRset is securely
                              absent, and the child zone is unsigned */
} dance_denial;

/* dance_denial_str - short name of a denial outcome. */
const char *dance_denial_str(dance_denial d);

/*
 * dance_val_denial - what the NSEC or NSEC3 records in nsecs (whose
 * signatures the caller has verified; owners inside zone) prove about
 * (qname, qtype). nxdomain says which claim the reply's rcode made: 1 for
 * NXDOMAIN (a name-error proof is needed), 0 for NOERROR/NODATA.
 * NSEC3 records with flags other than opt-out are ignored (RFC 5155 8.2);
 * an NSEC3 proof whose next closer name falls in an opt-out span proves
 * only that no signed delegation exists, hence DANCE_DENIAL_INSECURE.
 */
dance_denial dance_val_denial(const ldns_rdf *qname, ldns_rr_type qtype,
                              int nxdomain, const ldns_rr_list *nsecs,
                              const ldns_rdf *zone, dance_val_ctx *vc,
                              char *why, size_t whylen);

/*
 * dance_val_wildcard - for a positive answer expanded from a wildcard whose
 * RRSIG labels field is labels: do nsecs prove that qname does not exist
 * and that its closest encloser is the wildcard's parent (the last labels
 * labels of qname), i.e. that the next closer name does not exist (RFC 4035
 * 5.3.4, RFC 5155 8.8)? Returns DANCE_DENIAL_NXDOMAIN when proven,
 * DANCE_DENIAL_INSECURE when the next closer name is covered by an opt-out
 * NSEC3 (RFC 5155 9.2), DANCE_DENIAL_FAIL otherwise.
 */
dance_denial dance_val_wildcard(const ldns_rdf *qname, uint8_t labels,
                                const ldns_rr_list *nsecs, const ldns_rdf *zone,
                                dance_val_ctx *vc, char *why, size_t whylen);

#endif /* DANCE_VALIDATE_H */
