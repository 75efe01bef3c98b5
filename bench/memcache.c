/* SPDX-License-Identifier: Apache-2.0 */
/*
 * memcache.c - dance-bench-mem: what cached client identities cost in
 * memory, measured on the resolver library the provider is built from.
 *
 *   dance-bench-mem synthetic COUNT
 *   dance-bench-mem synthetic-norr COUNT
 *   dance-bench-mem real COUNT NAMESERVER ANCHOR_FILE
 *
 * synthetic: COUNT results built exactly as a validated TLSA hop is (owner
 *   name, one TLSA 3 1 1 record with a 32-byte digest in an ldns_rr_list,
 *   the reason string), stored in a dance_cache sized for COUNT.
 * synthetic-norr: the same without the records (what the ldns
 *   representation of one TLSA record costs is the difference).
 * real: COUNT lookups of _client.bNNNNN.example.test TLSA through a
 *   dance_res in validate mode (the names of `dance-bench pki`), so the
 *   cache holds what real lookups leave in it (the DNSKEY/DS hops too).
 *
 * Reports the heap in use (glibc mallinfo2: arena + mmapped blocks) and
 * the resident set before and after, as "mem key=value ..." on stdout.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dance_cache.h"
#include "dance_res.h"
#include "dance_result.h"

#define NAME_FMT "_client.b%05ld.example.test."
#define WHY "signed by example.test., chain of trust validated"

/* heap_bytes - bytes of heap the program holds now. */
static size_t heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();

    return mi.uordblks + mi.hblkhd;
}

/* rss_bytes - resident set size now (0 when /proc is unreadable). */
static size_t rss_bytes(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f == NULL)
        return 0;
    if (fscanf(f, "%lu %lu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

/* tlsa_result - a secure TLSA result for owner i, as a validated hop
 * (without its records when norr is set). */
static dance_res_result *tlsa_result(long i, time_t now, int norr)
{
    char name[80], text[200];
    ldns_rr_list *set = NULL;
    ldns_rr *rr = NULL;

    snprintf(name, sizeof(name), NAME_FMT, i);
    if (norr)
        return dance_res_result_new(name, LDNS_RR_TYPE_TLSA, DANCE_RES_SECURE,
                                    NULL, 300, now, WHY);
    set = ldns_rr_list_new();
    /* A distinct 32-byte digest per identity. */
    snprintf(text, sizeof(text), "%s 300 IN TLSA 3 1 1 %016lx%048x", name,
             (unsigned long)i * 2654435761UL, 7);
    if (set == NULL ||
        ldns_rr_new_frm_str(&rr, text, 300, NULL, NULL) != LDNS_STATUS_OK ||
        !ldns_rr_list_push_rr(set, rr)) {
        ldns_rr_free(rr);
        ldns_rr_list_deep_free(set);
        return NULL;
    }
    {
        /* The result keeps its own (wire form) copy of the records. */
        dance_res_result *r = dance_res_result_new(
            name, LDNS_RR_TYPE_TLSA, DANCE_RES_SECURE, set, 300, now, WHY);

        ldns_rr_list_deep_free(set);
        return r;
    }
}

/* fill_synthetic - put count synthetic results into a new cache. */
static dance_cache *fill_synthetic(long count, int norr)
{
    dance_cache *cache = dance_cache_new((size_t)count);
    time_t now = time(NULL);

    for (long i = 0; cache != NULL && i < count; i++) {
        dance_res_result *r = tlsa_result(i, now, norr);

        if (r == NULL || !dance_cache_put(cache, r, now)) {
            dance_res_result_free(r);
            dance_cache_free(cache);
            return NULL;
        }
        dance_res_result_free(r);
    }
    return cache;
}

/* fill_real - count validated lookups through a new resolver. */
static dance_res *fill_real(long count, const char *ns, const char *anchor,
                            long *secure)
{
    dance_res_config cfg;
    dance_res *res;
    char err[512], name[80];
    time_t now = time(NULL);

    dance_res_config_init(&cfg);
    cfg.nameservers = ns;
    cfg.trust_anchor = anchor;
    cfg.cache_max_entries = (size_t)count + 64;
    res = dance_res_new(&cfg, err, sizeof(err));
    if (res == NULL) {
        fprintf(stderr, "dance-bench-mem: %s\n", err);
        return NULL;
    }
    *secure = 0;
    for (long i = 0; i < count; i++) {
        dance_res_result *r;

        snprintf(name, sizeof(name), NAME_FMT, i);
        r = dance_res_lookup(res, name, LDNS_RR_TYPE_TLSA, now);
        if (r != NULL && dance_res_result_status(r) == DANCE_RES_SECURE)
            (*secure)++;
        dance_res_result_free(r);
    }
    return res;
}

/* main - fill a cache one way or the other and report the growth. */
int main(int argc, char **argv)
{
    size_t heap0, rss0, heap1, rss1;
    dance_cache *cache = NULL;
    dance_res *res = NULL;
    dance_res_stats st;
    long count, secure = 0;
    int real;

    if (argc < 3 || (strncmp(argv[1], "synthetic", 9) != 0 &&
                     (strcmp(argv[1], "real") != 0 || argc < 5))) {
        fputs("usage: dance-bench-mem synthetic|synthetic-norr COUNT\n"
              "       dance-bench-mem real COUNT NAMESERVER ANCHOR_FILE\n",
              stderr);
        return 2;
    }
    real = strcmp(argv[1], "real") == 0;
    count = strtol(argv[2], NULL, 10);
    if (count <= 0)
        return 2;
    malloc_trim(0);
    heap0 = heap_bytes();
    rss0 = rss_bytes();
    if (real)
        res = fill_real(count, argv[3], argv[4], &secure);
    else
        cache = fill_synthetic(count, strcmp(argv[1], "synthetic-norr") == 0);
    if (cache == NULL && res == NULL) {
        fputs("dance-bench-mem: filling the cache failed\n", stderr);
        return 1;
    }
    malloc_trim(0); /* what the lookups' transient buffers left behind */
    heap1 = heap_bytes();
    rss1 = rss_bytes();
    if (real) {
        dance_res_get_stats(res, &st);
    } else {
        memset(&st, 0, sizeof(st));
        dance_cache_get_stats(cache, &st.cache);
    }
    printf("mem mode=%s count=%ld secure=%ld entries=%zu heap_bytes=%zu "
           "rss_bytes=%zu heap_per_entry=%.1f rss_per_entry=%.1f "
           "heap_mib_per_100k=%.2f rss_mib_per_100k=%.2f\n",
           argv[1], count, real ? secure : count, st.cache.entries,
           heap1 - heap0, rss1 - rss0, (double)(heap1 - heap0) / (double)count,
           (double)(rss1 - rss0) / (double)count,
           (double)(heap1 - heap0) / (double)count * 1e5 / 1048576.0,
           (double)(rss1 - rss0) / (double)count * 1e5 / 1048576.0);
    dance_cache_free(cache);
    dance_res_free(res);
    return real && secure != count ? 1 : 0;
}
