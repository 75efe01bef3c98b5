/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_result.h - the outcome of one DNSSEC-validated lookup.
 *
 * A dance_res_result is immutable once built and reference counted, so the
 * cache can hand the same object to many threads: every holder owns one
 * reference and drops it with dance_res_result_free().
 */
#ifndef DANCE_RESULT_H
#define DANCE_RESULT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <ldns/ldns.h>

/*
 * DNSSEC outcomes are kept apart: a caller must never mistake a failure to
 * learn the answer (indeterminate) for a proof that there is none.
 */
typedef enum {
    DANCE_RES_SECURE = 0,      /* validated RRset */
    DANCE_RES_SECURE_NODATA,   /* name exists, type proven absent */
    DANCE_RES_SECURE_NXDOMAIN, /* name proven absent */
    DANCE_RES_INSECURE,        /* proven unsigned (or no trust anchor) */
    DANCE_RES_BOGUS,           /* should be signed, does not validate */
    DANCE_RES_INDETERMINATE    /* no usable answer: timeout, SERVFAIL, ... */
} dance_res_status;

/* dance_res_status_str - presentation form ("secure", "secure-nodata", ...). */
const char *dance_res_status_str(dance_res_status status);

/* dance_res_status_is_secure - 1 for the three proven outcomes, else 0. */
int dance_res_status_is_secure(dance_res_status status);

typedef struct dance_res_result dance_res_result;

/*
 * dance_res_result_new - build a result.
 * name:    owner name asked for (presentation format); copied.
 * type:    RR type asked for.
 * status:  outcome.
 * rrset:   records (may be NULL); read, not kept (the caller frees it).
 * ttl:     seconds the result may be reused from `now`.
 * now:     the time the result was produced.
 * why:     human-readable reason, copied; NULL means "".
 * Returns a result with one reference, or NULL on allocation failure.
 */
dance_res_result *dance_res_result_new(const char *name, uint16_t type,
                                       dance_res_status status,
                                       const ldns_rr_list *rrset, uint32_t ttl,
                                       time_t now, const char *why);

/* dance_res_result_up_ref - take one more reference. Thread-safe. */
void dance_res_result_up_ref(dance_res_result *res);

/* dance_res_result_free - drop one reference; NULL is fine. Thread-safe. */
void dance_res_result_free(dance_res_result *res);

dance_res_status dance_res_result_status(const dance_res_result *res);
/* The reason, never NULL; borrowed, valid while the caller holds a ref. */
const char *dance_res_result_get0_why(const dance_res_result *res);
/* The owner name asked for; borrowed. */
const char *dance_res_result_get0_name(const dance_res_result *res);
uint16_t dance_res_result_type(const dance_res_result *res);
/*
 * Records: the RRset of the name asked for (of the final name for a CNAME
 * chain). They are kept in DNS wire form, in the result's own allocation,
 * so a cache of many results stays small.
 */

/* dance_res_result_rr_count - how many records (0 for absence). */
size_t dance_res_result_rr_count(const dance_res_result *res);

/* dance_res_result_rr_type - the type of record i, or 0 when out of range. */
uint16_t dance_res_result_rr_type(const dance_res_result *res, size_t i);

/*
 * dance_res_result_get0_rdata - the wire RDATA of record i and its length;
 * NULL when out of range. Borrowed: valid while the caller holds a ref.
 * No allocation: this is what the handshake path uses.
 */
const uint8_t *dance_res_result_get0_rdata(const dance_res_result *res,
                                           size_t i, size_t *len);

/*
 * dance_res_result_get1_rrset - the records as a new ldns list (caller
 * frees with ldns_rr_list_deep_free), or NULL when there are none or
 * memory runs out.
 */
ldns_rr_list *dance_res_result_get1_rrset(const dance_res_result *res);

/* dance_res_result_size - bytes of the result's allocation (its fixed
 * fields, name, reason and records): what holding it costs a cache. */
size_t dance_res_result_size(const dance_res_result *res);

/* The TTL granted when the result was made. */
uint32_t dance_res_result_ttl(const dance_res_result *res);
/* Absolute time after which the result must not be used. */
time_t dance_res_result_expires(const dance_res_result *res);

#endif /* DANCE_RESULT_H */
