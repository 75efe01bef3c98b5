/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_check.h - what `dance check` and `dance rotate` share: does a
 * validated TLSA answer authenticate an identity, and how long may caches
 * hold an answer for a name.
 */
#ifndef DANCE_CHECK_H
#define DANCE_CHECK_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "dance_res.h"
#include "dance_tlsa.h"

/*
 * dance_check_match - the index of the first DANE-EE (usage 3) record of r
 * that matches id, or -1.  With out, one line per record says whether it
 * matches and why not (other usages need a chain this check does not
 * have).
 */
int dance_check_match(const dance_res_result *r, const dance_tlsa_ident *id,
                      FILE *out);

/*
 * dance_check_cache_ttl - how long a cache may keep the answer r for name
 * (seconds): the RRset's TTL when there are records, else the negative TTL
 * of zone (min of the SOA TTL and SOA MINIMUM, RFC 2308 section 5) looked
 * up through res; zone NULL: the name's parent domains are tried.  0 when
 * it cannot be learnt (the reason in *why).
 */
uint32_t dance_check_cache_ttl(dance_res *res, const dance_res_result *r,
                               const char *name, const char *zone, time_t now,
                               const char **why);

/* dance_check_utc - "YYYY-MM-DDTHH:MM:SSZ" of t into buf (at least 21). */
const char *dance_check_utc(time_t t, char *buf, size_t len);

#endif /* DANCE_CHECK_H */
