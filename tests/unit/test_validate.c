/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_validate.c - suite "validate": signature, key-set and denial checks
 * of resolver/dance_validate.c, on keys generated and records signed at test
 * time with ldns (real ECDSA P-256 signatures, no stored fixtures).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dance_test.h"
#include "dance_validate.h"

#define T0 1800000000u /* a fixed "now" for every test */
#define DAY 86400u

static ldns_rdf *zone;        /* example.test. */
static ldns_key *ksk;         /* signs the DNSKEY set */
static ldns_key *zsk;         /* signs everything else */
static ldns_rr_list *dnskeys; /* both public keys */

/* rr - parse one record or fail the test run. */
static ldns_rr *rr(const char *text)
{
    ldns_rr *r = NULL;

    CU_ASSERT_FATAL(ldns_rr_new_frm_str(&r, text, 300, NULL, NULL) ==
                    LDNS_STATUS_OK);
    return r;
}

/* list_of - a list holding the given records (NULL-terminated). */
static ldns_rr_list *list_of(ldns_rr *first, ...)
{
    ldns_rr_list *l = ldns_rr_list_new();
    va_list ap;

    va_start(ap, first);
    for (ldns_rr *r = first; r != NULL; r = va_arg(ap, ldns_rr *))
        ldns_rr_list_push_rr(l, r);
    va_end(ap);
    return l;
}

/* new_key - a P-256 key for zone, valid from T0 - 1 day to T0 + 1 day. */
static ldns_key *new_key(uint16_t flags)
{
    ldns_key *k = ldns_key_new_frm_algorithm(LDNS_SIGN_ECDSAP256SHA256, 256);

    if (k == NULL)
        return NULL;
    ldns_key_set_pubkey_owner(k, ldns_rdf_clone(zone));
    ldns_key_set_flags(k, flags);
    ldns_key_set_inception(k, T0 - DAY);
    ldns_key_set_expiration(k, T0 + DAY);
    {
        ldns_rr *pub = ldns_key2rr(k); /* the tag is computed, not kept */

        ldns_key_set_keytag(k, ldns_calc_keytag(pub));
        ldns_rr_free(pub);
    }
    return k;
}

/* sign - RRSIGs over rrset by key (caller frees). */
static ldns_rr_list *sign(ldns_rr_list *rrset, ldns_key *key)
{
    ldns_key_list *kl = ldns_key_list_new();
    ldns_rr_list *sigs;

    ldns_key_list_push_key(kl, key);
    sigs = ldns_sign_public(rrset, kl);
    ldns_key_list_set_key_count(kl, 0); /* the list would free the key */
    ldns_key_list_free(kl);
    return sigs;
}

static int setup(void)
{
    zone = ldns_dname_new_frm_str("example.test.");
    ksk = new_key(LDNS_KEY_ZONE_KEY | LDNS_KEY_SEP_KEY);
    zsk = new_key(LDNS_KEY_ZONE_KEY);
    if (zone == NULL || ksk == NULL || zsk == NULL)
        return 1;
    dnskeys = ldns_rr_list_new();
    ldns_rr_list_push_rr(dnskeys, ldns_key2rr(ksk));
    ldns_rr_list_push_rr(dnskeys, ldns_key2rr(zsk));
    return 0;
}

static int teardown(void)
{
    ldns_rr_list_deep_free(dnskeys);
    ldns_key_deep_free(ksk);
    ldns_key_deep_free(zsk);
    ldns_rdf_deep_free(zone);
    return 0;
}

/* check_rrset_skew - dance_val_rrset of a freshly signed TLSA RRset,
 * optionally altered after signing, verified at time now allowing skew. */
static int check_rrset_skew(int alter, time_t now, uint32_t skew,
                            const char *signer, uint32_t *ttl)
{
    dance_val_ctx *vc = dance_val_ctx_new(now, skew, 100, 100);
    ldns_rr_list *set = list_of(
        rr("_443._tcp.www.example.test. 300 IN TLSA 3 1 1 "
           "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
        NULL);
    ldns_rr_list *sigs = sign(set, zsk);
    ldns_rdf *sname = ldns_dname_new_frm_str(signer);
    uint8_t labels = 0;
    char why[256] = "";
    int ok;

    CU_ASSERT_FATAL(sigs != NULL && ldns_rr_list_rr_count(sigs) == 1);
    if (alter) {
        ldns_rr_list_deep_free(set);
        set = list_of(rr("_443._tcp.www.example.test. 300 IN TLSA 3 1 1 "
                         "ff23456789abcdef0123456789abcdef0123456789abcdef0"
                         "123456789abcdef"),
                      NULL);
    }
    CU_ASSERT_FATAL(vc != NULL);
    ok = dance_val_rrset(set, sigs, sname, dnskeys, vc, ttl, &labels, why,
                         sizeof(why));
    dance_val_ctx_free(vc);
    if (ok) {
        CU_ASSERT_EQUAL(labels, 5);
    } else {
        CU_ASSERT(why[0] != '\0');
    }
    ldns_rdf_deep_free(sname);
    ldns_rr_list_deep_free(set);
    ldns_rr_list_deep_free(sigs);
    return ok;
}

/* check_rrset - check_rrset_skew with no clock skew allowed. */
static int check_rrset(int alter, time_t now, const char *signer, uint32_t *ttl)
{
    return check_rrset_skew(alter, now, 0, signer, ttl);
}

static void test_rrset_valid(void)
{
    uint32_t ttl = 0;

    CU_ASSERT_EQUAL(check_rrset(0, T0, "example.test.", &ttl), 1);
    CU_ASSERT_EQUAL(ttl, 300);
}

static void test_rrset_ttl_capped_by_expiry(void)
{
    uint32_t ttl = 0;

    /* Ten seconds before the signature expires, it may be used for ten. */
    CU_ASSERT_EQUAL(check_rrset(0, T0 + DAY - 10, "example.test.", &ttl), 1);
    CU_ASSERT_EQUAL(ttl, 10);
}

static void test_rrset_altered(void)
{
    uint32_t ttl;

    CU_ASSERT_EQUAL(check_rrset(1, T0, "example.test.", &ttl), 0);
}

static void test_rrset_expired_and_not_yet_valid(void)
{
    uint32_t ttl;

    CU_ASSERT_EQUAL(check_rrset(0, T0 + DAY + 1, "example.test.", &ttl), 0);
    CU_ASSERT_EQUAL(check_rrset(0, T0 - DAY - 1, "example.test.", &ttl), 0);
}

static void test_rrset_clock_skew(void)
{
    uint32_t ttl;

    /* Inception up to skew seconds ahead of our clock is accepted, not one
     * second more; expiration is never extended. */
    CU_ASSERT_EQUAL(
        check_rrset_skew(0, T0 - DAY - 300, 300, "example.test.", &ttl), 1);
    CU_ASSERT_EQUAL(
        check_rrset_skew(0, T0 - DAY - 301, 300, "example.test.", &ttl), 0);
    CU_ASSERT_EQUAL(
        check_rrset_skew(1, T0 - DAY - 300, 300, "example.test.", &ttl), 0);
    CU_ASSERT_EQUAL(
        check_rrset_skew(0, T0 + DAY + 1, 300, "example.test.", &ttl), 0);
}

static void test_rrset_wrong_signer(void)
{
    uint32_t ttl;

    /* The signature names example.test.; judged as another zone's it must
     * not count, even though the key would verify it. */
    CU_ASSERT_EQUAL(check_rrset(0, T0, "test.", &ttl), 0);
}

/* check_keyset - dance_val_keyset of the DNSKEY set signed by signer,
 * against trust. */
static dance_val_keys check_keyset(ldns_key *signer, ldns_rr_list *trust)
{
    ldns_rr_list *sigs = sign(dnskeys, signer);
    ldns_rr_list *out = NULL;
    uint32_t ttl = 0;
    char why[256] = "";
    dance_val_ctx *vc = dance_val_ctx_new(T0, 0, 100, 100);
    dance_val_keys v = dance_val_keyset(dnskeys, sigs, zone, trust, vc, &out,
                                        &ttl, why, sizeof(why));

    dance_val_ctx_free(vc);

    if (v == DANCE_VAL_KEYS_SECURE) {
        CU_ASSERT_PTR_NOT_NULL(out);
        CU_ASSERT_EQUAL(ldns_rr_list_rr_count(out), 2);
    } else {
        CU_ASSERT_PTR_NULL(out);
        CU_ASSERT(why[0] != '\0');
    }
    ldns_rr_list_deep_free(out);
    ldns_rr_list_deep_free(sigs);
    ldns_rr_list_deep_free(trust);
    return v;
}

static void test_keyset_by_ds(void)
{
    ldns_rr *ksk_rr = ldns_key2rr(ksk);
    ldns_rr *ds = ldns_key_rr2ds(ksk_rr, LDNS_SHA256);

    ldns_rr_free(ksk_rr);
    CU_ASSERT_EQUAL(check_keyset(ksk, list_of(ds, NULL)),
                    DANCE_VAL_KEYS_SECURE);
}

static void test_keyset_by_dnskey_anchor(void)
{
    CU_ASSERT_EQUAL(check_keyset(ksk, list_of(ldns_key2rr(ksk), NULL)),
                    DANCE_VAL_KEYS_SECURE);
}

static void test_keyset_ds_of_other_key(void)
{
    ldns_key *other = new_key(LDNS_KEY_ZONE_KEY | LDNS_KEY_SEP_KEY);
    ldns_rr *other_rr = ldns_key2rr(other);
    ldns_rr *ds = ldns_key_rr2ds(other_rr, LDNS_SHA256);

    ldns_rr_free(other_rr);
    ldns_key_deep_free(other);
    CU_ASSERT_EQUAL(check_keyset(ksk, list_of(ds, NULL)), DANCE_VAL_KEYS_BOGUS);
}

static void test_keyset_signed_by_untrusted_key(void)
{
    ldns_rr *ksk_rr = ldns_key2rr(ksk);
    ldns_rr *ds = ldns_key_rr2ds(ksk_rr, LDNS_SHA256);

    ldns_rr_free(ksk_rr);
    /* The DS names the KSK, but only the ZSK signed the DNSKEY set. */
    CU_ASSERT_EQUAL(check_keyset(zsk, list_of(ds, NULL)), DANCE_VAL_KEYS_BOGUS);
}

static void test_keyset_unsupported_ds(void)
{
    /* Algorithm 253 (private) only: the zone counts as unsigned. */
    CU_ASSERT_EQUAL(
        check_keyset(ksk, list_of(rr("example.test. 300 IN DS 1234 253 2 "
                                     "0123456789abcdef0123456789abcdef0123"
                                     "456789abcdef0123456789abcdef"),
                                  NULL)),
        DANCE_VAL_KEYS_INSECURE);
}

/* NSEC chain of example.test., in canonical order:
 *   apex -> a -> sec (delegation with DS) -> sub (delegation, no DS)
 *   -> x.y (y is an empty non-terminal) -> back to the apex. */
static ldns_rr_list *nsec_chain(void)
{
    return list_of(
        rr("example.test. 300 IN NSEC a.example.test. SOA NS RRSIG NSEC "
           "DNSKEY"),
        rr("a.example.test. 300 IN NSEC sec.example.test. A RRSIG NSEC"),
        rr("sec.example.test. 300 IN NSEC sub.example.test. NS DS RRSIG "
           "NSEC"),
        rr("sub.example.test. 300 IN NSEC x.y.example.test. NS RRSIG NSEC"),
        rr("x.y.example.test. 300 IN NSEC example.test. TLSA RRSIG NSEC"),
        NULL);
}

/* denial - what the whole NSEC chain proves about (name, type). */
static dance_denial denial(const char *name, ldns_rr_type type, int nxdomain,
                           ldns_rr_list *nsecs)
{
    ldns_rdf *q = ldns_dname_new_frm_str(name);
    char why[256];
    dance_val_ctx *vc = dance_val_ctx_new(T0, 0, 100, 1000);
    dance_denial d =
        dance_val_denial(q, type, nxdomain, nsecs, zone, vc, why, sizeof(why));

    dance_val_ctx_free(vc);
    ldns_rdf_deep_free(q);
    return d;
}

static void test_nsec_nxdomain(void)
{
    ldns_rr_list *all = nsec_chain();
    /* Without the apex NSEC, nothing says "*.example.test." is absent. */
    ldns_rr_list *no_wildcard_proof = list_of(
        rr("a.example.test. 300 IN NSEC sec.example.test. A RRSIG NSEC"), NULL);

    CU_ASSERT_EQUAL(denial("b.example.test.", LDNS_RR_TYPE_TLSA, 1, all),
                    DANCE_DENIAL_NXDOMAIN);
    CU_ASSERT_EQUAL(
        denial("b.example.test.", LDNS_RR_TYPE_TLSA, 1, no_wildcard_proof),
        DANCE_DENIAL_FAIL);
    /* A name that exists cannot be denied. */
    CU_ASSERT_EQUAL(denial("a.example.test.", LDNS_RR_TYPE_TLSA, 1, all),
                    DANCE_DENIAL_FAIL);
    /* Below a delegation, the parent's NSEC proves nothing. */
    CU_ASSERT_EQUAL(denial("www.sub.example.test.", LDNS_RR_TYPE_TLSA, 1, all),
                    DANCE_DENIAL_FAIL);
    ldns_rr_list_deep_free(all);
    ldns_rr_list_deep_free(no_wildcard_proof);
}

static void test_nsec_nodata(void)
{
    ldns_rr_list *all = nsec_chain();

    CU_ASSERT_EQUAL(denial("a.example.test.", LDNS_RR_TYPE_TLSA, 0, all),
                    DANCE_DENIAL_NODATA);
    /* The bitmap lists A: a NODATA claim for A is a lie. */
    CU_ASSERT_EQUAL(denial("a.example.test.", LDNS_RR_TYPE_A, 0, all),
                    DANCE_DENIAL_FAIL);
    /* Empty non-terminal y.example.test. exists with no records. */
    CU_ASSERT_EQUAL(denial("y.example.test.", LDNS_RR_TYPE_TLSA, 0, all),
                    DANCE_DENIAL_NODATA);
    /* A NODATA claim about a name that does not exist is not proven. */
    CU_ASSERT_EQUAL(denial("b.example.test.", LDNS_RR_TYPE_TLSA, 0, all),
                    DANCE_DENIAL_FAIL);
    ldns_rr_list_deep_free(all);
}

static void test_nsec_delegations(void)
{
    ldns_rr_list *all = nsec_chain();

    /* No DS at an NS-only delegation: the child is unsigned. */
    CU_ASSERT_EQUAL(denial("sub.example.test.", LDNS_RR_TYPE_DS, 0, all),
                    DANCE_DENIAL_NO_DS);
    /* The DS bit is set: "no DS" is a lie. */
    CU_ASSERT_EQUAL(denial("sec.example.test.", LDNS_RR_TYPE_DS, 0, all),
                    DANCE_DENIAL_FAIL);
    /* Parent-side NSEC cannot deny a child's data. */
    CU_ASSERT_EQUAL(denial("sub.example.test.", LDNS_RR_TYPE_TLSA, 0, all),
                    DANCE_DENIAL_FAIL);
    /* DS absent at an ordinary name: not a zone cut. */
    CU_ASSERT_EQUAL(denial("a.example.test.", LDNS_RR_TYPE_DS, 0, all),
                    DANCE_DENIAL_NODATA);
    ldns_rr_list_deep_free(all);
}

static void test_nsec_apex_never_denies_ds(void)
{
    /* A zone's own apex NSEC (SOA bit set) never proves that the zone has
     * no DS: that is the parent's data (RFC 4035 5.2). */
    ldns_rr_list *apex = list_of(
        rr("example.test. 300 IN NSEC a.example.test. SOA NS RRSIG NSEC "
           "DNSKEY"),
        NULL);

    CU_ASSERT_EQUAL(denial("example.test.", LDNS_RR_TYPE_DS, 0, apex),
                    DANCE_DENIAL_FAIL);
    /* ... while it does deny other types at the apex. */
    CU_ASSERT_EQUAL(denial("example.test.", LDNS_RR_TYPE_TLSA, 0, apex),
                    DANCE_DENIAL_NODATA);
    ldns_rr_list_deep_free(apex);
}

static void test_denial_outside_zone(void)
{
    ldns_rr_list *all = nsec_chain();

    CU_ASSERT_EQUAL(denial("b.example.org.", LDNS_RR_TYPE_TLSA, 1, all),
                    DANCE_DENIAL_FAIL);
    ldns_rr_list_deep_free(all);
}

/* nsec3 - an NSEC3 record (SHA-1, no salt, 0 iterations) at hash(owner_of)
 * with the given next hashed owner, flags and types. */
static ldns_rr *nsec3(const char *owner_of, const char *next_hash,
                      uint8_t flags, const char *types)
{
    ldns_rdf *n = ldns_dname_new_frm_str(owner_of);
    ldns_rdf *h = ldns_nsec3_hash_name(n, 1, 0, 0, NULL);
    char *hs = ldns_rdf2str(h);
    char text[512];
    ldns_rr *r;

    hs[strlen(hs) - 1] = '\0'; /* drop the trailing dot */
    snprintf(text, sizeof(text), "%s.example.test. 300 IN NSEC3 1 %u 0 - %s %s",
             hs, flags, next_hash, types);
    r = rr(text);
    free(hs);
    ldns_rdf_deep_free(h);
    ldns_rdf_deep_free(n);
    return r;
}

/* hash_of - base32hex hash of a name with no salt and 0 iterations. */
static char *hash_of(const char *name)
{
    ldns_rdf *n = ldns_dname_new_frm_str(name);
    ldns_rdf *h = ldns_nsec3_hash_name(n, 1, 0, 0, NULL);
    char *hs = ldns_rdf2str(h);

    hs[strlen(hs) - 1] = '\0';
    ldns_rdf_deep_free(h);
    ldns_rdf_deep_free(n);
    return hs;
}

static void test_nsec3_hash_bound(void)
{
    /* An NXDOMAIN proof for a.b.c.example.test. needs 5 hashes (the name,
     * its ancestors down to the apex, the wildcard): with a bound of 3 the
     * proof stops, says why, and the context says the bound was hit. */
    char *apex = hash_of("example.test.");
    ldns_rr_list *proof =
        list_of(nsec3("example.test.", apex, 0, "SOA NS DNSKEY RRSIG"), NULL);
    ldns_rdf *q = ldns_dname_new_frm_str("a.b.c.example.test.");
    dance_val_ctx *roomy = dance_val_ctx_new(T0, 0, 10, 100);
    dance_val_ctx *tight = dance_val_ctx_new(T0, 0, 10, 3);
    char why[256] = "";

    CU_ASSERT_EQUAL(dance_val_denial(q, LDNS_RR_TYPE_A, 1, proof, zone, roomy,
                                     why, sizeof(why)),
                    DANCE_DENIAL_NXDOMAIN);
    CU_ASSERT_EQUAL(dance_val_ctx_exhausted(roomy), 0);
    /* Each name is hashed once, however many times the proof looks. */
    CU_ASSERT_EQUAL(dance_val_ctx_nsec3_hashes(roomy), 5);
    CU_ASSERT_EQUAL(dance_val_denial(q, LDNS_RR_TYPE_A, 1, proof, zone, roomy,
                                     why, sizeof(why)),
                    DANCE_DENIAL_NXDOMAIN);
    CU_ASSERT_EQUAL(dance_val_ctx_nsec3_hashes(roomy), 5);
    CU_ASSERT_EQUAL(dance_val_denial(q, LDNS_RR_TYPE_A, 1, proof, zone, tight,
                                     why, sizeof(why)),
                    DANCE_DENIAL_FAIL);
    CU_ASSERT_EQUAL(dance_val_ctx_exhausted(tight), 1);
    CU_ASSERT_EQUAL(dance_val_ctx_nsec3_hashes(tight), 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "budget"));
    dance_val_ctx_free(roomy);
    dance_val_ctx_free(tight);
    ldns_rdf_deep_free(q);
    ldns_rr_list_deep_free(proof);
    free(apex);
}

static void test_nsec3_nodata_and_delegation(void)
{
    char *apex = hash_of("example.test.");
    ldns_rr_list *l =
        list_of(nsec3("a.example.test.", apex, 0, "A RRSIG"),
                nsec3("sub.example.test.", apex, 0, "NS"),
                nsec3("big.example.test.", apex, 0, "NS DS"), NULL);

    CU_ASSERT_EQUAL(denial("a.example.test.", LDNS_RR_TYPE_TLSA, 0, l),
                    DANCE_DENIAL_NODATA);
    CU_ASSERT_EQUAL(denial("a.example.test.", LDNS_RR_TYPE_A, 0, l),
                    DANCE_DENIAL_FAIL);
    CU_ASSERT_EQUAL(denial("sub.example.test.", LDNS_RR_TYPE_DS, 0, l),
                    DANCE_DENIAL_NO_DS);
    CU_ASSERT_EQUAL(denial("big.example.test.", LDNS_RR_TYPE_DS, 0, l),
                    DANCE_DENIAL_FAIL);
    ldns_rr_list_deep_free(l);
    free(apex);
}

static void test_nsec3_nxdomain(void)
{
    /* One NSEC3 at the apex whose next hash is its own covers every other
     * hash: it matches the closest encloser (the apex) and covers both the
     * next closer name and the wildcard. */
    char *apex = hash_of("example.test.");
    char *a = hash_of("a.example.test.");
    ldns_rr_list *proof =
        list_of(nsec3("example.test.", apex, 0, "SOA NS DNSKEY RRSIG"), NULL);
    ldns_rr_list *optout =
        list_of(nsec3("example.test.", apex, 1, "SOA NS DNSKEY RRSIG"), NULL);
    /* Covers everything but a.example.test., yet nothing matches an
     * encloser: no closest-encloser proof. */
    ldns_rr_list *no_encloser =
        list_of(nsec3("a.example.test.", a, 0, "A"), NULL);

    CU_ASSERT_EQUAL(denial("nope.example.test.", LDNS_RR_TYPE_TLSA, 1, proof),
                    DANCE_DENIAL_NXDOMAIN);
    /* DS query inside an opt-out span: an unsigned delegation may hide. */
    CU_ASSERT_EQUAL(denial("nope.example.test.", LDNS_RR_TYPE_DS, 0, optout),
                    DANCE_DENIAL_INSECURE);
    /* Without opt-out, the same span proves nothing about a DS. */
    CU_ASSERT_EQUAL(denial("nope.example.test.", LDNS_RR_TYPE_DS, 0, proof),
                    DANCE_DENIAL_FAIL);
    CU_ASSERT_EQUAL(
        denial("nope.example.test.", LDNS_RR_TYPE_TLSA, 1, no_encloser),
        DANCE_DENIAL_FAIL);
    ldns_rr_list_deep_free(proof);
    ldns_rr_list_deep_free(optout);
    ldns_rr_list_deep_free(no_encloser);
    free(apex);
    free(a);
}

static void test_nsec3_iteration_cap(void)
{
    char *apex = hash_of("example.test.");
    char text[256];
    ldns_rr_list *l;

    snprintf(text, sizeof(text), "a.example.test. 300 IN NSEC3 1 0 500 - %s A",
             apex);
    l = list_of(rr(text), NULL);
    CU_ASSERT_EQUAL(denial("a.example.test.", LDNS_RR_TYPE_TLSA, 0, l),
                    DANCE_DENIAL_INSECURE);
    ldns_rr_list_deep_free(l);
    free(apex);
}

int dance_test_suite_validate(void)
{
    static const CU_TestInfo tests[] = {
        {"rrset: valid signature", test_rrset_valid},
        {"rrset: TTL capped by signature expiry",
         test_rrset_ttl_capped_by_expiry},
        {"rrset: altered after signing", test_rrset_altered},
        {"rrset: expired / not yet valid",
         test_rrset_expired_and_not_yet_valid},
        {"rrset: signer name must match", test_rrset_wrong_signer},
        {"rrset: clock skew on inception only", test_rrset_clock_skew},
        {"keyset: trusted by DS", test_keyset_by_ds},
        {"keyset: trusted by DNSKEY anchor", test_keyset_by_dnskey_anchor},
        {"keyset: DS of another key", test_keyset_ds_of_other_key},
        {"keyset: signed by an untrusted key",
         test_keyset_signed_by_untrusted_key},
        {"keyset: unsupported DS algorithm", test_keyset_unsupported_ds},
        {"nsec: nxdomain", test_nsec_nxdomain},
        {"nsec: nodata and empty non-terminal", test_nsec_nodata},
        {"nsec: delegations", test_nsec_delegations},
        {"nsec: an apex NSEC never denies DS", test_nsec_apex_never_denies_ds},
        {"denial: name outside the zone", test_denial_outside_zone},
        {"nsec3: nodata and delegation", test_nsec3_nodata_and_delegation},
        {"nsec3: nxdomain and opt-out", test_nsec3_nxdomain},
        {"nsec3: iteration cap", test_nsec3_iteration_cap},
        {"nsec3: hashes once, within the bound", test_nsec3_hash_bound},
        CU_TEST_INFO_NULL};

    return dance_test_add_suite("validate", setup, teardown, tests);
}
