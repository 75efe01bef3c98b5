/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_cache.c - suite "cache": the LRU result cache (dance_cache.h).
 *
 * The clock is pinned: every call gets an explicit `now`. Leaks of cached
 * results (e.g. a replaced result the cache forgot to release) are caught
 * by LeakSanitizer in the -DDANCE_SANITIZE=ON build.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dance_cache.h"
#include "dance_test.h"

#define T0 ((time_t)1700000000)
#define TYPE_TLSA ((uint16_t)LDNS_RR_TYPE_TLSA)
#define TYPE_A ((uint16_t)LDNS_RR_TYPE_A)

/* mk - a result for (name, type) with no records, made at T0. */
static dance_res_result *mk(const char *name, uint16_t type, uint32_t ttl,
                            const char *why)
{
    return dance_res_result_new(name, type, DANCE_RES_SECURE, NULL, ttl, T0,
                                why);
}

/* stats - the counters of cache, for brevity in assertions. */
static dance_cache_stats stats(dance_cache *cache)
{
    dance_cache_stats st;

    dance_cache_get_stats(cache, &st);
    return st;
}

/* hits - whether (name, type) is live in cache at now; drops the ref. */
static int hits(dance_cache *cache, const char *name, uint16_t type, time_t now)
{
    dance_res_result *r = dance_cache_get1(cache, name, type, now);

    dance_res_result_free(r);
    return r != NULL;
}

/* put_new - build a result and store it; the test keeps no reference. */
static int put_new(dance_cache *cache, const char *name, uint16_t type,
                   uint32_t ttl, const char *why)
{
    dance_res_result *r = mk(name, type, ttl, why);
    int ok;

    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    ok = dance_cache_put(cache, r, T0);
    dance_res_result_free(r);
    return ok;
}

/* test_put_get - a stored result comes back, as the same object. */
static void test_put_get(void)
{
    dance_cache *cache = dance_cache_new(16);
    dance_res_result *r = mk("_443._tcp.a.example.test", TYPE_TLSA, 300, "x");
    dance_res_result *got;
    dance_cache_stats st;

    CU_ASSERT_PTR_NOT_NULL_FATAL(cache);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_PTR_NULL(
        dance_cache_get1(cache, "_443._tcp.a.example.test", TYPE_TLSA, T0));
    CU_ASSERT_EQUAL(dance_cache_put(cache, r, T0), 1);
    dance_res_result_free(r); /* the cache keeps its own reference */

    got =
        dance_cache_get1(cache, "_443._tcp.a.example.test", TYPE_TLSA, T0 + 10);
    CU_ASSERT_PTR_EQUAL(got, r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_STRING_EQUAL(dance_res_result_get0_name(got),
                           "_443._tcp.a.example.test");
    CU_ASSERT_STRING_EQUAL(dance_res_result_get0_why(got), "x");
    CU_ASSERT_EQUAL(dance_res_result_status(got), DANCE_RES_SECURE);
    dance_res_result_free(got);

    st = stats(cache);
    CU_ASSERT_EQUAL(st.hits, 1);
    CU_ASSERT_EQUAL(st.misses, 1);
    CU_ASSERT_EQUAL(st.insertions, 1);
    CU_ASSERT_EQUAL(st.entries, 1);
    dance_cache_free(cache);
}

/* test_name_normalisation - case and the root dot do not change the key. */
static void test_name_normalisation(void)
{
    dance_cache *cache = dance_cache_new(16);

    CU_ASSERT_PTR_NOT_NULL_FATAL(cache);
    CU_ASSERT_EQUAL(put_new(cache, "Example.TEST.", TYPE_TLSA, 300, "a"), 1);
    CU_ASSERT_TRUE(hits(cache, "example.test", TYPE_TLSA, T0));
    CU_ASSERT_TRUE(hits(cache, "EXAMPLE.TEST", TYPE_TLSA, T0));
    CU_ASSERT_TRUE(hits(cache, "eXaMpLe.TeSt.", TYPE_TLSA, T0));
    CU_ASSERT_FALSE(hits(cache, "example.test..", TYPE_TLSA, T0));
    CU_ASSERT_FALSE(hits(cache, "example.tes", TYPE_TLSA, T0));
    CU_ASSERT_FALSE(hits(cache, "xexample.test", TYPE_TLSA, T0));

    /* Storing the other spelling replaces, it does not add. */
    CU_ASSERT_EQUAL(put_new(cache, "example.test", TYPE_TLSA, 300, "b"), 1);
    CU_ASSERT_EQUAL(stats(cache).entries, 1);

    /* An escaped final dot belongs to the label; "\\\\." ends in a root dot */
    CU_ASSERT_EQUAL(put_new(cache, "a\\.", TYPE_A, 300, "esc"), 1);
    CU_ASSERT_FALSE(hits(cache, "a", TYPE_A, T0));
    CU_ASSERT_FALSE(hits(cache, "a\\", TYPE_A, T0));
    CU_ASSERT_TRUE(hits(cache, "a\\.", TYPE_A, T0));
    CU_ASSERT_EQUAL(put_new(cache, "b\\\\.", TYPE_A, 300, "bs"), 1);
    CU_ASSERT_TRUE(hits(cache, "B\\\\", TYPE_A, T0));

    /* The root name: "." and "" are the same key. */
    CU_ASSERT_EQUAL(put_new(cache, ".", TYPE_A, 300, "root"), 1);
    CU_ASSERT_TRUE(hits(cache, "", TYPE_A, T0));
    CU_ASSERT_EQUAL(stats(cache).entries, 4);
    dance_cache_free(cache);
}

/* test_type_in_key - the same name under another type is another entry. */
static void test_type_in_key(void)
{
    dance_cache *cache = dance_cache_new(16);
    dance_res_result *r;

    CU_ASSERT_PTR_NOT_NULL_FATAL(cache);
    CU_ASSERT_EQUAL(put_new(cache, "a.example.test", TYPE_TLSA, 300, "t"), 1);
    CU_ASSERT_FALSE(hits(cache, "a.example.test", TYPE_A, T0));
    CU_ASSERT_EQUAL(put_new(cache, "a.example.test", TYPE_A, 300, "a"), 1);
    CU_ASSERT_EQUAL(stats(cache).entries, 2);

    r = dance_cache_get1(cache, "a.example.test", TYPE_TLSA, T0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_STRING_EQUAL(dance_res_result_get0_why(r), "t");
    CU_ASSERT_EQUAL(dance_res_result_type(r), TYPE_TLSA);
    dance_res_result_free(r);
    r = dance_cache_get1(cache, "a.example.test", TYPE_A, T0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_STRING_EQUAL(dance_res_result_get0_why(r), "a");
    dance_res_result_free(r);
    dance_cache_free(cache);
}

/*
 * test_replace - a put for a stored key swaps the result: gets see the new
 * one, a holder of the old one keeps a valid object, and the cache's
 * reference on the old one is dropped (else LeakSanitizer reports it).
 */
static void test_replace(void)
{
    dance_cache *cache = dance_cache_new(16);
    dance_res_result *r1 = mk("r.example.test", TYPE_TLSA, 300, "first");
    dance_res_result *r2 = mk("R.example.test.", TYPE_TLSA, 600, "second");
    dance_res_result *got;
    dance_cache_stats st;

    CU_ASSERT_PTR_NOT_NULL_FATAL(cache);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r2);
    CU_ASSERT_EQUAL(dance_cache_put(cache, r1, T0), 1);
    CU_ASSERT_EQUAL(dance_cache_put(cache, r2, T0 + 1), 1);
    dance_res_result_free(r2);

    got = dance_cache_get1(cache, "r.example.test", TYPE_TLSA, T0 + 400);
    CU_ASSERT_PTR_EQUAL(got, r2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_STRING_EQUAL(dance_res_result_get0_why(got), "second");
    CU_ASSERT_EQUAL(dance_res_result_ttl(got), 600);
    dance_res_result_free(got);

    /* Our reference on r1 outlived its replacement. */
    CU_ASSERT_STRING_EQUAL(dance_res_result_get0_why(r1), "first");
    CU_ASSERT_EQUAL(dance_res_result_expires(r1), T0 + 300);
    dance_res_result_free(r1);

    /* Putting the stored object again changes nothing but recency. */
    got = dance_cache_get1(cache, "r.example.test", TYPE_TLSA, T0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_EQUAL(dance_cache_put(cache, got, T0), 1);
    dance_res_result_free(got);

    st = stats(cache);
    CU_ASSERT_EQUAL(st.entries, 1);
    CU_ASSERT_EQUAL(st.insertions, 3);
    CU_ASSERT_EQUAL(st.evictions, 0);
    CU_ASSERT_EQUAL(st.hits, 2);
    dance_cache_free(cache);
}

/* test_expiry_boundary - live at expires-1, gone at expires. */
static void test_grace(void)
{
    dance_cache *cache = dance_cache_new(16);
    dance_res_result *r;

    CU_ASSERT_PTR_NOT_NULL_FATAL(cache);
    CU_ASSERT_EQUAL(put_new(cache, "g.example.test", TYPE_TLSA, 100, "g"), 1);
    /* Past expiry, within the grace: still served, visibly expired. */
    r = dance_cache_get1_grace(cache, "g.example.test", TYPE_TLSA, T0 + 101, 2);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT(dance_res_result_expires(r) <= T0 + 101);
    dance_res_result_free(r);
    /* A plain get never serves it. */
    CU_ASSERT_PTR_NULL(
        dance_cache_get1(cache, "g.example.test", TYPE_TLSA, T0 + 101));
    CU_ASSERT_EQUAL(put_new(cache, "g.example.test", TYPE_TLSA, 100, "g"), 1);
    /* Beyond the grace: gone. */
    CU_ASSERT_PTR_NULL(dance_cache_get1_grace(cache, "g.example.test",
                                              TYPE_TLSA, T0 + 102, 2));
    CU_ASSERT_EQUAL(stats(cache).entries, 0);
    dance_cache_free(cache);
}

static void test_expiry_boundary(void)
{
    dance_cache *cache = dance_cache_new(16);
    dance_cache_stats st;

    CU_ASSERT_PTR_NOT_NULL_FATAL(cache);
    CU_ASSERT_EQUAL(put_new(cache, "e.example.test", TYPE_TLSA, 100, "e"), 1);
    CU_ASSERT_TRUE(hits(cache, "e.example.test", TYPE_TLSA, T0 + 99));
    st = stats(cache);
    CU_ASSERT_EQUAL(st.hits, 1);
    CU_ASSERT_EQUAL(st.expirations, 0);

    CU_ASSERT_FALSE(hits(cache, "e.example.test", TYPE_TLSA, T0 + 100));
    st = stats(cache);
    CU_ASSERT_EQUAL(st.hits, 1);
    CU_ASSERT_EQUAL(st.misses, 1);
    CU_ASSERT_EQUAL(st.expirations, 1);
    CU_ASSERT_EQUAL(st.entries, 0);

    /* Removed on access: a second get is a plain miss. */
    CU_ASSERT_FALSE(hits(cache, "e.example.test", TYPE_TLSA, T0 + 100));
    st = stats(cache);
    CU_ASSERT_EQUAL(st.misses, 2);
    CU_ASSERT_EQUAL(st.expirations, 1);

    /* Time going backwards does not resurrect it. */
    CU_ASSERT_FALSE(hits(cache, "e.example.test", TYPE_TLSA, T0));
    dance_cache_free(cache);
}

/* test_put_expired - a result already expired at now is refused. */
static void test_put_expired(void)
{
    dance_cache *cache = dance_cache_new(16);
    dance_res_result *r = mk("x.example.test", TYPE_TLSA, 10, "x");
    dance_res_result *zero = mk("z.example.test", TYPE_TLSA, 0, "ttl 0");
    dance_cache_stats st;

    CU_ASSERT_PTR_NOT_NULL_FATAL(cache);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_PTR_NOT_NULL_FATAL(zero);
    CU_ASSERT_EQUAL(dance_cache_put(cache, r, T0 + 10), 0);
    CU_ASSERT_EQUAL(dance_cache_put(cache, r, T0 + 11), 0);
    CU_ASSERT_EQUAL(dance_cache_put(cache, zero, T0), 0);
    st = stats(cache);
    CU_ASSERT_EQUAL(st.insertions, 0);
    CU_ASSERT_EQUAL(st.entries, 0);

    CU_ASSERT_EQUAL(dance_cache_put(cache, r, T0 + 9), 1);
    CU_ASSERT_TRUE(hits(cache, "x.example.test", TYPE_TLSA, T0 + 9));
    dance_res_result_free(r);
    dance_res_result_free(zero);
    dance_cache_free(cache);
}

/* test_negative - proven absence is cached like a positive answer. */
static void test_negative(void)
{
    dance_cache *cache = dance_cache_new(16);
    dance_res_result *nx = dance_res_result_new(
        "nx.example.test", TYPE_TLSA, DANCE_RES_SECURE_NXDOMAIN, NULL, 60, T0,
        "NSEC3 proves NXDOMAIN");
    dance_res_result *nd =
        dance_res_result_new("nd.example.test", TYPE_TLSA,
                             DANCE_RES_SECURE_NODATA, NULL, 30, T0, "NSEC");
    dance_res_result *got;

    CU_ASSERT_PTR_NOT_NULL_FATAL(cache);
    CU_ASSERT_PTR_NOT_NULL_FATAL(nx);
    CU_ASSERT_PTR_NOT_NULL_FATAL(nd);
    CU_ASSERT_EQUAL(dance_cache_put(cache, nx, T0), 1);
    CU_ASSERT_EQUAL(dance_cache_put(cache, nd, T0), 1);
    dance_res_result_free(nx);
    dance_res_result_free(nd);

    got = dance_cache_get1(cache, "NX.example.test.", TYPE_TLSA, T0 + 59);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_EQUAL(dance_res_result_status(got), DANCE_RES_SECURE_NXDOMAIN);
    CU_ASSERT_EQUAL(dance_res_result_rr_count(got), 0);
    CU_ASSERT_STRING_EQUAL(dance_res_result_get0_why(got),
                           "NSEC3 proves NXDOMAIN");
    dance_res_result_free(got);

    got = dance_cache_get1(cache, "nd.example.test", TYPE_TLSA, T0 + 29);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);
    CU_ASSERT_EQUAL(dance_res_result_status(got), DANCE_RES_SECURE_NODATA);
    CU_ASSERT_EQUAL(dance_res_result_rr_count(got), 0);
    dance_res_result_free(got);

    /* Negative entries expire by their own TTL too. */
    CU_ASSERT_FALSE(hits(cache, "nd.example.test", TYPE_TLSA, T0 + 30));
    CU_ASSERT_TRUE(hits(cache, "nx.example.test", TYPE_TLSA, T0 + 30));
    CU_ASSERT_EQUAL(stats(cache).expirations, 1);
    dance_cache_free(cache);
}

/* test_lru_evicts_oldest - with no gets, the first inserted goes first. */
static void test_lru_evicts_oldest(void)
{
    dance_cache *cache = dance_cache_new(3);
    dance_cache_stats st;

    CU_ASSERT_PTR_NOT_NULL_FATAL(cache);
    CU_ASSERT_EQUAL(put_new(cache, "a.test", TYPE_TLSA, 300, "a"), 1);
    CU_ASSERT_EQUAL(put_new(cache, "b.test", TYPE_TLSA, 300, "b"), 1);
    CU_ASSERT_EQUAL(put_new(cache, "c.test", TYPE_TLSA, 300, "c"), 1);
    CU_ASSERT_EQUAL(stats(cache).evictions, 0);
    CU_ASSERT_EQUAL(put_new(cache, "d.test", TYPE_TLSA, 300, "d"), 1);

    st = stats(cache);
    CU_ASSERT_EQUAL(st.entries, 3);
    CU_ASSERT_EQUAL(st.evictions, 1);
    CU_ASSERT_EQUAL(st.insertions, 4);
    CU_ASSERT_FALSE(hits(cache, "a.test", TYPE_TLSA, T0));
    CU_ASSERT_TRUE(hits(cache, "b.test", TYPE_TLSA, T0));
    CU_ASSERT_TRUE(hits(cache, "c.test", TYPE_TLSA, T0));
    CU_ASSERT_TRUE(hits(cache, "d.test", TYPE_TLSA, T0));
    dance_cache_free(cache);
}

/* test_lru_get_refreshes - a get (and a replacing put) renews recency. */
static void test_lru_get_refreshes(void)
{
    dance_cache *cache = dance_cache_new(3);
    dance_cache_stats st;

    CU_ASSERT_PTR_NOT_NULL_FATAL(cache);
    CU_ASSERT_EQUAL(put_new(cache, "a.test", TYPE_TLSA, 300, "a"), 1);
    CU_ASSERT_EQUAL(put_new(cache, "b.test", TYPE_TLSA, 300, "b"), 1);
    CU_ASSERT_EQUAL(put_new(cache, "c.test", TYPE_TLSA, 300, "c"), 1);
    CU_ASSERT_TRUE(hits(cache, "a.test", TYPE_TLSA, T0)); /* order: b c a */
    CU_ASSERT_EQUAL(put_new(cache, "d.test", TYPE_TLSA, 300, "d"), 1);

    /* b was least recently used; check the others without reordering b. */
    CU_ASSERT_FALSE(hits(cache, "b.test", TYPE_TLSA, T0));
    CU_ASSERT_TRUE(hits(cache, "a.test", TYPE_TLSA, T0)); /* c d a */
    CU_ASSERT_TRUE(hits(cache, "c.test", TYPE_TLSA, T0)); /* d a c */
    CU_ASSERT_TRUE(hits(cache, "d.test", TYPE_TLSA, T0)); /* a c d */

    /* A replacing put also refreshes: a becomes newest, c is oldest. */
    CU_ASSERT_EQUAL(put_new(cache, "A.test.", TYPE_TLSA, 300, "a2"), 1);
    CU_ASSERT_EQUAL(put_new(cache, "e.test", TYPE_TLSA, 300, "e"), 1);
    CU_ASSERT_FALSE(hits(cache, "c.test", TYPE_TLSA, T0));
    CU_ASSERT_TRUE(hits(cache, "a.test", TYPE_TLSA, T0));
    CU_ASSERT_TRUE(hits(cache, "d.test", TYPE_TLSA, T0));
    CU_ASSERT_TRUE(hits(cache, "e.test", TYPE_TLSA, T0));

    st = stats(cache);
    CU_ASSERT_EQUAL(st.entries, 3);
    CU_ASSERT_EQUAL(st.evictions, 2);
    CU_ASSERT_EQUAL(st.insertions, 6);
    CU_ASSERT_EQUAL(st.hits, 7);
    CU_ASSERT_EQUAL(st.misses, 2);
    CU_ASSERT_EQUAL(st.expirations, 0);
    dance_cache_free(cache);
}

/* test_lru_many - 1000 keys through 100 slots: exactly the last 100 stay. */
static void test_lru_many(void)
{
    dance_cache *cache = dance_cache_new(100);
    dance_cache_stats st;
    char name[64];
    int i, found = 0, ok = 1;

    CU_ASSERT_PTR_NOT_NULL_FATAL(cache);
    for (i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "_443._tcp.h%d.example.test", i);
        ok &= put_new(cache, name, TYPE_TLSA, 300, "m");
    }
    CU_ASSERT_TRUE(ok);
    for (i = 0; i < 1000; i++) {
        int hit;

        snprintf(name, sizeof(name), "_443._tcp.H%d.EXAMPLE.test.", i);
        hit = hits(cache, name, TYPE_TLSA, T0);
        if (hit != (i >= 900))
            ok = 0;
        found += hit;
    }
    CU_ASSERT_TRUE(ok);
    CU_ASSERT_EQUAL(found, 100);
    st = stats(cache);
    CU_ASSERT_EQUAL(st.entries, 100);
    CU_ASSERT_EQUAL(st.evictions, 900);
    CU_ASSERT_EQUAL(st.insertions, 1000);
    CU_ASSERT_EQUAL(st.hits, 100);
    CU_ASSERT_EQUAL(st.misses, 900);
    dance_cache_free(cache);
}

/* test_disabled - max_entries 0: puts refused, gets miss and are counted. */
static void test_disabled(void)
{
    dance_cache *cache = dance_cache_new(0);
    dance_cache_stats st;

    CU_ASSERT_PTR_NOT_NULL_FATAL(cache);
    CU_ASSERT_EQUAL(put_new(cache, "a.test", TYPE_TLSA, 300, "a"), 0);
    CU_ASSERT_FALSE(hits(cache, "a.test", TYPE_TLSA, T0));
    CU_ASSERT_FALSE(hits(cache, "b.test", TYPE_TLSA, T0));
    dance_cache_flush(cache);
    st = stats(cache);
    CU_ASSERT_EQUAL(st.hits, 0);
    CU_ASSERT_EQUAL(st.misses, 2);
    CU_ASSERT_EQUAL(st.insertions, 0);
    CU_ASSERT_EQUAL(st.evictions, 0);
    CU_ASSERT_EQUAL(st.expirations, 0);
    CU_ASSERT_EQUAL(st.entries, 0);
    dance_cache_free(cache);
}

/* test_null_args - NULL caches and arguments are harmless. */
static void test_null_args(void)
{
    dance_cache *cache = dance_cache_new(4);
    dance_res_result *r = mk("a.test", TYPE_TLSA, 300, "a");
    dance_cache_stats st;

    CU_ASSERT_PTR_NOT_NULL_FATAL(cache);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    dance_cache_free(NULL);
    dance_cache_flush(NULL);
    CU_ASSERT_PTR_NULL(dance_cache_get1(NULL, "a.test", TYPE_TLSA, T0));
    CU_ASSERT_PTR_NULL(dance_cache_get1(cache, NULL, TYPE_TLSA, T0));
    CU_ASSERT_EQUAL(dance_cache_put(NULL, r, T0), 0);
    CU_ASSERT_EQUAL(dance_cache_put(cache, NULL, T0), 0);
    dance_cache_get_stats(NULL, &st);
    CU_ASSERT_EQUAL(st.entries, 0);
    CU_ASSERT_EQUAL(st.misses, 0);
    dance_res_result_free(r);
    dance_cache_free(cache);
}

/* test_stats_exact - every counter after a scripted sequence. */
static void test_stats_exact(void)
{
    dance_cache *cache = dance_cache_new(2);
    dance_cache_stats st;

    CU_ASSERT_PTR_NOT_NULL_FATAL(cache);
    st = stats(cache);
    CU_ASSERT_EQUAL(st.hits + st.misses + st.insertions + st.evictions +
                        st.expirations + st.entries,
                    0);
    CU_ASSERT_FALSE(hits(cache, "a.test", TYPE_TLSA, T0)); /* miss */
    CU_ASSERT_EQUAL(put_new(cache, "a.test", TYPE_TLSA, 10, "a"), 1);
    CU_ASSERT_EQUAL(put_new(cache, "b.test", TYPE_TLSA, 100, "b"), 1);
    CU_ASSERT_TRUE(hits(cache, "a.test", TYPE_TLSA, T0 + 5));   /* hit */
    CU_ASSERT_TRUE(hits(cache, "b.test", TYPE_TLSA, T0 + 5));   /* hit */
    CU_ASSERT_FALSE(hits(cache, "a.test", TYPE_TLSA, T0 + 10)); /* expired */
    CU_ASSERT_EQUAL(put_new(cache, "c.test", TYPE_TLSA, 100, "c"), 1);
    /* d evicts b (a is gone, c is newer), then a second d replaces d. */
    CU_ASSERT_EQUAL(put_new(cache, "d.test", TYPE_TLSA, 100, "d"), 1);
    CU_ASSERT_EQUAL(put_new(cache, "d.test", TYPE_TLSA, 100, "d"), 1);
    CU_ASSERT_FALSE(hits(cache, "b.test", TYPE_TLSA, T0 + 5)); /* evicted */
    CU_ASSERT_TRUE(hits(cache, "c.test", TYPE_TLSA, T0 + 5));  /* hit */

    st = stats(cache);
    CU_ASSERT_EQUAL(st.hits, 3);
    CU_ASSERT_EQUAL(st.misses, 3);
    CU_ASSERT_EQUAL(st.insertions, 5);
    CU_ASSERT_EQUAL(st.evictions, 1);
    CU_ASSERT_EQUAL(st.expirations, 1);
    CU_ASSERT_EQUAL(st.entries, 2);
    dance_cache_free(cache);
}

/* test_flush - drops every entry, keeps the counters, cache stays usable. */
static void test_flush(void)
{
    dance_cache *cache = dance_cache_new(8);
    dance_res_result *held = mk("held.test", TYPE_TLSA, 300, "held");
    dance_cache_stats st;

    CU_ASSERT_PTR_NOT_NULL_FATAL(cache);
    CU_ASSERT_PTR_NOT_NULL_FATAL(held);
    CU_ASSERT_EQUAL(dance_cache_put(cache, held, T0), 1);
    CU_ASSERT_EQUAL(put_new(cache, "a.test", TYPE_TLSA, 300, "a"), 1);
    CU_ASSERT_EQUAL(put_new(cache, "b.test", TYPE_TLSA, 300, "b"), 1);
    CU_ASSERT_EQUAL(stats(cache).entries, 3);

    dance_cache_flush(cache);
    st = stats(cache);
    CU_ASSERT_EQUAL(st.entries, 0);
    CU_ASSERT_EQUAL(st.insertions, 3);
    CU_ASSERT_EQUAL(st.evictions, 0);
    CU_ASSERT_FALSE(hits(cache, "a.test", TYPE_TLSA, T0));
    CU_ASSERT_FALSE(hits(cache, "held.test", TYPE_TLSA, T0));
    CU_ASSERT_STRING_EQUAL(dance_res_result_get0_why(held), "held");

    dance_cache_flush(cache); /* flushing an empty cache is fine */
    CU_ASSERT_EQUAL(put_new(cache, "a.test", TYPE_TLSA, 300, "a"), 1);
    CU_ASSERT_TRUE(hits(cache, "a.test", TYPE_TLSA, T0));
    CU_ASSERT_EQUAL(stats(cache).entries, 1);
    dance_res_result_free(held);
    dance_cache_free(cache); /* frees the remaining entry */
}

/* A TLSA 3 1 1 record, as a DANE-EE SPKI SHA-256 association. */
#define TLSA_RR                                                                \
    "_443._tcp.a.example.test. 300 IN TLSA 3 1 1 "                             \
    "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20"

/* test_rrset_outlives_eviction - held results keep their ldns records. */
static void test_rrset_outlives_eviction(void)
{
    dance_cache *cache = dance_cache_new(1);
    ldns_rr_list *list = ldns_rr_list_new();
    ldns_rr *rr = NULL;
    dance_res_result *r, *got;
    ldns_rr_list *rrset;
    const ldns_rr *first;
    const uint8_t *rdata;
    size_t rdlen = 0;
    char *text;

    CU_ASSERT_PTR_NOT_NULL_FATAL(cache);
    CU_ASSERT_PTR_NOT_NULL_FATAL(list);
    CU_ASSERT_EQUAL_FATAL(ldns_rr_new_frm_str(&rr, TLSA_RR, 0, NULL, NULL),
                          LDNS_STATUS_OK);
    CU_ASSERT_TRUE_FATAL(ldns_rr_list_push_rr(list, rr));
    r = dance_res_result_new("_443._tcp.a.example.test", TYPE_TLSA,
                             DANCE_RES_SECURE, list, 300, T0, "validated");
    ldns_rr_list_deep_free(list); /* the result keeps its own copy */
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_EQUAL(dance_cache_put(cache, r, T0), 1);
    dance_res_result_free(r); /* only the cache holds it now */

    got =
        dance_cache_get1(cache, "_443._TCP.a.example.test.", TYPE_TLSA, T0 + 1);
    CU_ASSERT_PTR_NOT_NULL_FATAL(got);

    /* Evict it (max 1), then flush and free the cache. */
    CU_ASSERT_EQUAL(put_new(cache, "other.test", TYPE_TLSA, 300, "o"), 1);
    CU_ASSERT_EQUAL(stats(cache).evictions, 1);
    CU_ASSERT_FALSE(hits(cache, "_443._tcp.a.example.test", TYPE_TLSA, T0));
    dance_cache_free(cache);

    /* The wire RDATA, as the handshake path reads it. */
    CU_ASSERT_EQUAL(dance_res_result_rr_count(got), 1);
    CU_ASSERT_EQUAL(dance_res_result_rr_type(got, 0), LDNS_RR_TYPE_TLSA);
    CU_ASSERT_EQUAL(dance_res_result_rr_type(got, 1), 0);
    CU_ASSERT_PTR_NULL(dance_res_result_get0_rdata(got, 1, &rdlen));
    rdata = dance_res_result_get0_rdata(got, 0, &rdlen);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rdata);
    CU_ASSERT_EQUAL(rdlen, 3 + 32);
    CU_ASSERT(rdata[0] == 3 && rdata[1] == 1 && rdata[2] == 1 &&
              rdata[3] == 0x01 && rdata[4] == 0x02);
    /* And as ldns records again. */
    rrset = dance_res_result_get1_rrset(got);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rrset);
    CU_ASSERT_EQUAL_FATAL(ldns_rr_list_rr_count(rrset), 1);
    first = ldns_rr_list_rr(rrset, 0);
    CU_ASSERT_EQUAL(ldns_rr_get_type(first), LDNS_RR_TYPE_TLSA);
    CU_ASSERT_EQUAL(ldns_rr_rd_count(first), 4);
    CU_ASSERT_EQUAL(ldns_rdf2native_int8(ldns_rr_rdf(first, 0)), 3);
    CU_ASSERT_EQUAL(ldns_rdf2native_int8(ldns_rr_rdf(first, 1)), 1);
    CU_ASSERT_EQUAL(ldns_rdf2native_int8(ldns_rr_rdf(first, 2)), 1);
    CU_ASSERT_EQUAL(ldns_rdf_size(ldns_rr_rdf(first, 3)), 32);
    text = ldns_rr2str(first);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "0102030405060708090a0b0c0d0e0f10"));
    LDNS_FREE(text);
    ldns_rr_list_deep_free(rrset);
    dance_res_result_free(got);
}

/* --- concurrency --------------------------------------------------------- */

#define MT_THREADS 4
#define MT_OPS 20000
#define MT_KEYS 200
#define MT_MAX 64

typedef struct {
    dance_cache *cache;
    unsigned int seed;
    uint64_t gets, hits, puts, stored;
    int errors; /* wrong result for the key asked, or allocation failure */
} mt_arg;

/* mt_rand - xorshift32 step; per thread, so no shared state. */
static unsigned int mt_rand(unsigned int *s)
{
    unsigned int x = *s;

    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

/* mt_worker - mixed gets (2/3) and puts (1/3) with a moving clock. */
static void *mt_worker(void *p)
{
    mt_arg *a = p;
    char name[64], why[32];
    int i;

    for (i = 0; i < MT_OPS; i++) {
        unsigned int rnd = mt_rand(&a->seed);
        unsigned int key = rnd % MT_KEYS;
        uint16_t type = (key % 2) ? TYPE_TLSA : TYPE_A;
        time_t now = T0 + i / 100; /* short TTLs below expire under load */

        snprintf(name, sizeof(name), "%s%u.Example.TEST%s",
                 (rnd & 0x10000) ? "_443._tcp.h" : "_443._TCP.H", key,
                 (rnd & 0x20000) ? "." : "");
        if ((rnd >> 20) % 3 != 0) {
            dance_res_result *r = dance_cache_get1(a->cache, name, type, now);

            a->gets++;
            if (r != NULL) {
                a->hits++;
                snprintf(why, sizeof(why), "k%u", key);
                if (strcmp(dance_res_result_get0_why(r), why) != 0 ||
                    dance_res_result_type(r) != type ||
                    dance_res_result_expires(r) <= now)
                    a->errors++;
                dance_res_result_free(r);
            }
        } else {
            dance_res_result *r;

            snprintf(why, sizeof(why), "k%u", key);
            r = dance_res_result_new(name, type, DANCE_RES_SECURE, NULL,
                                     1 + (rnd >> 24) % 8, now, why);
            if (r == NULL) {
                a->errors++;
                continue;
            }
            a->puts++;
            a->stored += (uint64_t)dance_cache_put(a->cache, r, now);
            dance_res_result_free(r);
        }
    }
    return NULL;
}

/*
 * test_threads - 4 threads x 20,000 mixed operations on 200 keys through
 * 64 slots; then the counters must add up and agree with the table.
 */
static void test_threads(void)
{
    dance_cache *cache = dance_cache_new(MT_MAX);
    pthread_t tids[MT_THREADS];
    mt_arg args[MT_THREADS];
    uint64_t gets = 0, hit = 0, stored = 0;
    dance_cache_stats st, after;
    size_t live = 0;
    char name[64];
    int i, started = 0, errors = 0;
    time_t end = T0 + MT_OPS / 100;

    CU_ASSERT_PTR_NOT_NULL_FATAL(cache);
    memset(args, 0, sizeof(args));
    for (i = 0; i < MT_THREADS; i++) {
        args[i].cache = cache;
        args[i].seed = 0x9e3779b9u * (unsigned int)(i + 1);
        if (pthread_create(&tids[i], NULL, mt_worker, &args[i]) != 0)
            break;
        started++;
    }
    for (i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    CU_ASSERT_EQUAL_FATAL(started, MT_THREADS);

    for (i = 0; i < MT_THREADS; i++) {
        gets += args[i].gets;
        hit += args[i].hits;
        stored += args[i].stored;
        errors += args[i].errors;
    }
    st = stats(cache);
    CU_ASSERT_EQUAL(errors, 0);
    CU_ASSERT(st.entries <= MT_MAX);
    CU_ASSERT_EQUAL(st.hits + st.misses, gets);
    CU_ASSERT_EQUAL(st.hits, hit);
    CU_ASSERT_EQUAL(st.insertions, stored);
    CU_ASSERT(st.hits > 0);
    CU_ASSERT(st.evictions > 0);
    CU_ASSERT(st.expirations > 0);
    CU_ASSERT(st.entries <= st.insertions - st.evictions - st.expirations);

    /*
     * Every entry the counters claim must be findable: at the final clock
     * each one is either a hit or an expiration.
     */
    for (i = 0; i < MT_KEYS; i++) {
        snprintf(name, sizeof(name), "_443._tcp.h%d.example.test", i);
        live += (size_t)hits(cache, name, (i % 2) ? TYPE_TLSA : TYPE_A, end);
    }
    after = stats(cache);
    CU_ASSERT_EQUAL(live + (after.expirations - st.expirations), st.entries);
    CU_ASSERT_EQUAL(after.entries, live);
    dance_cache_free(cache);
}

/* big_rrset - n TLSA records "3 0 0 <rdlen - 3 bytes>" (caller frees). */
static ldns_rr_list *big_rrset(size_t n, size_t rdlen)
{
    ldns_rr_list *l = ldns_rr_list_new();
    size_t hexlen = 2 * (rdlen - 3);
    char *text = malloc(hexlen + 64);

    CU_ASSERT_PTR_NOT_NULL_FATAL(l);
    CU_ASSERT_PTR_NOT_NULL_FATAL(text);
    for (size_t i = 0; i < n; i++) {
        ldns_rr *rr = NULL;
        int used = snprintf(text, 64, "big.example.test. 300 IN TLSA 3 0 0 ");

        for (size_t j = 0; j < hexlen; j++) /* records differ in byte 0 */
            text[used + j] = "0123456789abcdef"[j == 0 ? i % 16 : j % 16];
        text[used + hexlen] = '\0';
        CU_ASSERT_EQUAL_FATAL(ldns_rr_new_frm_str(&rr, text, 0, NULL, NULL),
                              LDNS_STATUS_OK);
        ldns_rr_list_push_rr(l, rr);
    }
    free(text);
    return l;
}

/* wire_len - the records' uncompressed wire size, counted with ldns. */
static size_t wire_len(const ldns_rr_list *l)
{
    size_t total = 0;

    for (size_t i = 0; i < ldns_rr_list_rr_count(l); i++) {
        uint8_t *w = NULL;
        size_t len = 0;

        CU_ASSERT_EQUAL_FATAL(
            ldns_rr2wire(&w, ldns_rr_list_rr(l, i), LDNS_SECTION_ANSWER, &len),
            LDNS_STATUS_OK);
        free(w);
        total += len;
    }
    return total;
}

/* put_big - store a result for name holding rrset; the test keeps none. */
static int put_big(dance_cache *cache, const char *name,
                   const ldns_rr_list *rrset)
{
    dance_res_result *r = dance_res_result_new(
        name, TYPE_TLSA, DANCE_RES_SECURE, rrset, 300, T0, "big");
    int ok;

    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    ok = dance_cache_put(cache, r, T0);
    dance_res_result_free(r);
    return ok;
}

/* test_default_byte_bound - large answers under distinct names (a signed
 * wildcard TLSA answer: ~33 kB per client name) cannot grow the cache past
 * its default byte bound, whatever the entry bound allows. Counted from
 * what is retrievable, without the cache's own accounting. */
static void test_default_byte_bound(void)
{
    dance_cache *cache = dance_cache_new(10000);
    ldns_rr_list *rrset = big_rrset(8, 4096);
    size_t per = wire_len(rrset), held = 0;
    enum { N = 2500 }; /* 2500 x 33 kB = 82 MB */
    char name[64];

    CU_ASSERT_FATAL(per >= 32768);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "_c.h%d.example.test", i);
        put_big(cache, name, rrset);
    }
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "_c.h%d.example.test", i);
        held += hits(cache, name, TYPE_TLSA, T0 + 1);
    }
    CU_ASSERT(held * per <= (size_t)64 << 20);
    CU_ASSERT(held > 0);
    /* The newest answer is there: eviction took the oldest. */
    CU_ASSERT_TRUE(hits(cache, name, TYPE_TLSA, T0 + 1));
    CU_ASSERT_FALSE(hits(cache, "_c.h0.example.test", TYPE_TLSA, T0 + 1));
    ldns_rr_list_deep_free(rrset);
    dance_cache_free(cache);
}

/* test_bytes_accounted - every entry is charged at least its records,
 * name and reason; the total stays under the bound after every put and
 * equals the sum over the entries held. */
static void test_bytes_accounted(void)
{
    dance_cache *cache = dance_cache_new(100000);
    ldns_rr_list *rrset = big_rrset(5, 4000);
    size_t floor_cost;
    char name[64];
    int ok = 1;

    dance_cache_set_max_bytes(cache, (size_t)2 << 20);
    for (int i = 0; i < 300; i++) {
        snprintf(name, sizeof(name), "_c.h%d.example.test", i);
        CU_ASSERT_EQUAL(put_big(cache, name, rrset), 1);
        ok &= stats(cache).bytes <= (size_t)2 << 20;
    }
    CU_ASSERT_TRUE(ok);
    CU_ASSERT(stats(cache).evictions > 0);
    {
        dance_res_result *r = dance_cache_get1(cache, name, TYPE_TLSA, T0);

        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        floor_cost = wire_len(rrset) + strlen(name) + strlen("big");
        CU_ASSERT(dance_cache_entry_cost(r) > floor_cost);
        CU_ASSERT(dance_res_result_size(r) > floor_cost);
        CU_ASSERT_EQUAL(stats(cache).bytes,
                        stats(cache).entries * dance_cache_entry_cost(r));
        dance_res_result_free(r);
    }
    /* A smaller bound evicts at once. */
    dance_cache_set_max_bytes(cache, (size_t)1 << 20);
    CU_ASSERT(stats(cache).bytes <= (size_t)1 << 20);
    CU_ASSERT_TRUE(hits(cache, name, TYPE_TLSA, T0));
    dance_cache_flush(cache);
    CU_ASSERT_EQUAL(stats(cache).bytes, 0);
    ldns_rr_list_deep_free(rrset);
    dance_cache_free(cache);
}

/* test_too_big_not_cached - an entry above 1/DANCE_CACHE_MAX_ENTRY_FRACTION
 * of the bound is not cached, and the answer it replaces goes too (it is
 * stale). */
static void test_too_big_not_cached(void)
{
    dance_cache *cache = dance_cache_new(100);
    ldns_rr_list *rrset = big_rrset(5, 4000); /* 20 kB > 1 MiB / 64 */

    dance_cache_set_max_bytes(cache, (size_t)1 << 20);
    CU_ASSERT_EQUAL(put_new(cache, "_c.x.example.test", TYPE_TLSA, 300, "old"),
                    1);
    CU_ASSERT_EQUAL(put_big(cache, "_c.x.example.test", rrset), 0);
    CU_ASSERT_FALSE(hits(cache, "_c.x.example.test", TYPE_TLSA, T0));
    CU_ASSERT_EQUAL(stats(cache).too_big, 1);
    CU_ASSERT_EQUAL(stats(cache).entries, 0);
    CU_ASSERT_EQUAL(stats(cache).bytes, 0);
    ldns_rr_list_deep_free(rrset);
    dance_cache_free(cache);
}

static const CU_TestInfo cache_tests[] = {
    {"put_get", test_put_get},
    {"name_normalisation", test_name_normalisation},
    {"type_in_key", test_type_in_key},
    {"replace", test_replace},
    {"expiry_boundary", test_expiry_boundary},
    {"grace", test_grace},
    {"put_expired", test_put_expired},
    {"negative", test_negative},
    {"lru_evicts_oldest", test_lru_evicts_oldest},
    {"lru_get_refreshes", test_lru_get_refreshes},
    {"lru_many", test_lru_many},
    {"disabled", test_disabled},
    {"null_args", test_null_args},
    {"stats_exact", test_stats_exact},
    {"flush", test_flush},
    {"rrset_outlives_eviction", test_rrset_outlives_eviction},
    {"threads", test_threads},
    {"default_byte_bound", test_default_byte_bound},
    {"bytes_accounted", test_bytes_accounted},
    {"too_big_not_cached", test_too_big_not_cached},
    CU_TEST_INFO_NULL,
};

/* dance_test_suite_cache - register suite "cache". */
int dance_test_suite_cache(void)
{
    return dance_test_add_suite("cache", NULL, NULL, cache_tests);
}
