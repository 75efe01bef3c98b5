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

/*
 * dance_val_rrset - does some RRSIG in sigs, made by zone over rrset's type,
 * verify rrset with one of keys at time now?
 * rrset:  one RRset (same owner, type, class), non-empty.
 * sigs:   candidate RRSIGs (others are ignored).
 * On success returns 1, sets *ttl to min(RRset TTLs, the signature's original
 * TTL, seconds until the signature expires) and *labels to the RRSIG labels
 * field (less than the owner's label count means wildcard expansion).
 * Returns 0 with a reason in why when no signature verifies.
 */
int dance_val_rrset(const ldns_rr_list *rrset, const ldns_rr_list *sigs,
                    const ldns_rdf *zone, const ldns_rr_list *keys, time_t now,
                    uint32_t *ttl, uint8_t *labels, char *why, size_t whylen);

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
                                const ldns_rr_list *trust, time_t now,
                                ldns_rr_list **out, uint32_t *ttl, char *why,
                                size_t whylen);

typedef enum {
    DANCE_DENIAL_FAIL = 0, /* the records do not prove the claim */
    DANCE_DENIAL_NODATA,   /* qname exists, qtype does not */
    DANCE_DENIAL_NXDOMAIN, /* qname does not exist */
    DANCE_DENIAL_INSECURE  /* DS denied at an unsigned delegation, opt-out,
                              or NSEC3 iterations over the limit */
} dance_denial;

/* dance_denial_str - short name of a denial outcome. */
const char *dance_denial_str(dance_denial d);

/*
 * dance_val_denial - what the NSEC or NSEC3 records in nsecs (whose
 * signatures the caller has verified; owners inside zone) prove about
 * (qname, qtype). nxdomain says which claim the reply's rcode made: 1 for
 * NXDOMAIN (a name-error proof is needed), 0 for NOERROR/NODATA.
 */
dance_denial dance_val_denial(const ldns_rdf *qname, ldns_rr_type qtype,
                              int nxdomain, const ldns_rr_list *nsecs,
                              const ldns_rdf *zone, char *why, size_t whylen);

/*
 * dance_val_wildcard - for a positive answer expanded from a wildcard whose
 * RRSIG labels field is labels: do nsecs prove that no closer name than the
 * wildcard matched qname? Returns 1 if proven, 0 otherwise.
 */
int dance_val_wildcard(const ldns_rdf *qname, uint8_t labels,
                       const ldns_rr_list *nsecs, const ldns_rdf *zone,
                       char *why, size_t whylen);

#endif /* DANCE_VALIDATE_H */
