/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_cache.c - bounded, thread-safe LRU cache of lookup results.
 *
 * A chained hash table indexes the entries; a doubly linked list orders them
 * from most (head) to least (tail) recently used. get, put and eviction are
 * O(1) on average.
 *
 * Keys: the cache does not copy names. An entry's key is its result's own
 * name and type, compared ASCII case-insensitively and without a trailing
 * root dot. Presentation escapes are not decoded ("\065" and "A" are
 * different keys; the resolver always asks with the same spelling), but an
 * escaped final dot ("a\.") is part of the label, not the root dot.
 *
 * Hashing is SipHash-2-4 keyed with a per-cache random key, so names chosen
 * by a peer (client identities) cannot be picked to collide in one bucket.
 *
 * Memory (also bounded in bytes, see dance_cache_entry_cost): one entry (one
 * malloc, 48 bytes of heap with glibc) per result, plus the bucket array, sized
 * once to the power of two >= the bound (1-2 pointers per entry, capped at
 * DANCE_CACHE_MAX_BUCKETS): about 60 bytes per entry. 100,000 entries measured:
 * 192 bytes per entry including small negative results with their name and
 * reason.
 *
 * Locking: one mutex guards the table, the list and the counters. Names are
 * hashed and entries allocated before it is taken; results and entries that
 * leave the cache are released after it is dropped, so an ldns free never
 * runs under the lock.
 *
 * Ownership: the cache holds one reference on every stored result. get1
 * returns a new reference that the caller drops with dance_res_result_free.
 */
#include "dance_cache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* Bucket array cap: 2^20 pointers = 8 MiB; beyond it chains grow. */
#define DANCE_CACHE_MAX_BUCKETS ((size_t)1 << 20)

typedef struct dance_cache_entry dance_cache_entry;

struct dance_cache_entry {
    dance_cache_entry *lru_prev; /* towards the head (more recent) */
    dance_cache_entry *lru_next; /* towards the tail (less recent) */
    dance_cache_entry *chain;    /* next entry in the same bucket */
    dance_res_result *res;       /* one reference owned by the cache */
    size_t cost;                 /* dance_cache_entry_cost(res) */
    uint32_t hash;               /* low 32 bits of the key hash */
    uint16_t type;
};

/* Allocator overhead per block (glibc: an 8-byte header, 16-byte rounding):
 * counted so that many small entries cannot exceed the bound unseen. */
#define MALLOC_OVERHEAD 16

struct dance_cache {
    pthread_mutex_t lock;
    size_t max_entries;
    size_t max_bytes;
    size_t mask;                 /* number of buckets - 1 */
    dance_cache_entry **buckets; /* NULL when disabled */
    dance_cache_entry *lru_head; /* most recently used */
    dance_cache_entry *lru_tail; /* least recently used */
    uint64_t sipkey[2];          /* immutable after dance_cache_new */
    dance_cache_stats stats;
};

/* ascii_lower - ASCII lowercase of one byte, locale independent. */
static unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* key_len - length of name without its root dot (an unescaped final '.'). */
static size_t key_len(const char *name)
{
    size_t len = strlen(name);
    size_t backslashes = 0;

    if (len == 0 || name[len - 1] != '.')
        return len;
    while (backslashes < len - 1 && name[len - 2 - backslashes] == '\\')
        backslashes++;
    return (backslashes % 2 == 0) ? len - 1 : len;
}

/* rotl64 - rotate x left by b bits. */
static uint64_t rotl64(uint64_t x, unsigned int b)
{
    return (x << b) | (x >> (64 - b));
}

/* sip_round - one SipHash round over the state v[0..3]. */
static void sip_round(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = rotl64(v[1], 13);
    v[1] ^= v[0];
    v[0] = rotl64(v[0], 32);
    v[2] += v[3];
    v[3] = rotl64(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = rotl64(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = rotl64(v[1], 17);
    v[1] ^= v[2];
    v[2] = rotl64(v[2], 32);
}

/* sip_compress - absorb one little-endian 64-bit message word m. */
static void sip_compress(uint64_t v[4], uint64_t m)
{
    v[3] ^= m;
    sip_round(v);
    sip_round(v);
    v[0] ^= m;
}

/*
 * key_hash - SipHash-2-4 under key k of the message
 * lowercase(name[0..len)) || type (2 bytes, big-endian).
 */
static uint64_t key_hash(const uint64_t k[2], const char *name, size_t len,
                         uint16_t type)
{
    uint64_t v[4] = {k[0] ^ 0x736f6d6570736575ULL, k[1] ^ 0x646f72616e646f6dULL,
                     k[0] ^ 0x6c7967656e657261ULL,
                     k[1] ^ 0x7465646279746573ULL};
    size_t total = len + 2;
    uint64_t word = 0;
    size_t i;

    for (i = 0; i < total; i++) {
        unsigned char c;

        if (i < len)
            c = ascii_lower((unsigned char)name[i]);
        else if (i == len)
            c = (unsigned char)(type >> 8);
        else
            c = (unsigned char)(type & 0xff);
        word |= (uint64_t)c << (8 * (i % 8));
        if (i % 8 == 7) {
            sip_compress(v, word);
            word = 0;
        }
    }
    word |= (uint64_t)(total & 0xff) << 56;
    sip_compress(v, word);
    v[2] ^= 0xff;
    sip_round(v);
    sip_round(v);
    sip_round(v);
    sip_round(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* entry_matches - whether e holds the key (name[0..len), type). */
static int entry_matches(const dance_cache_entry *e, uint32_t hash,
                         const char *name, size_t len, uint16_t type)
{
    const char *ename;
    size_t i;

    if (e->hash != hash || e->type != type)
        return 0;
    ename = dance_res_result_get0_name(e->res);
    if (key_len(ename) != len)
        return 0;
    for (i = 0; i < len; i++) {
        if (ascii_lower((unsigned char)ename[i]) !=
            ascii_lower((unsigned char)name[i]))
            return 0;
    }
    return 1;
}

/* lru_unlink - take e out of the recency list. Lock held. */
static void lru_unlink(dance_cache *cache, dance_cache_entry *e)
{
    if (e->lru_prev != NULL)
        e->lru_prev->lru_next = e->lru_next;
    else
        cache->lru_head = e->lru_next;
    if (e->lru_next != NULL)
        e->lru_next->lru_prev = e->lru_prev;
    else
        cache->lru_tail = e->lru_prev;
    e->lru_prev = NULL;
    e->lru_next = NULL;
}

/* lru_push_head - make e the most recently used entry. Lock held. */
static void lru_push_head(dance_cache *cache, dance_cache_entry *e)
{
    e->lru_prev = NULL;
    e->lru_next = cache->lru_head;
    if (cache->lru_head != NULL)
        cache->lru_head->lru_prev = e;
    else
        cache->lru_tail = e;
    cache->lru_head = e;
}

/*
 * table_find - the slot pointing at the entry for the key, or at the end of
 * its bucket's chain (*slot == NULL) when there is none. Lock held.
 */
static dance_cache_entry **table_find(dance_cache *cache, uint32_t hash,
                                      const char *name, size_t len,
                                      uint16_t type)
{
    dance_cache_entry **slot = &cache->buckets[hash & cache->mask];

    while (*slot != NULL && !entry_matches(*slot, hash, name, len, type))
        slot = &(*slot)->chain;
    return slot;
}

/*
 * table_remove - unlink e from its bucket and the recency list and count it
 * out. The caller then owns e and its result reference. Lock held.
 */
static void table_remove(dance_cache *cache, dance_cache_entry *e)
{
    dance_cache_entry **slot = &cache->buckets[e->hash & cache->mask];

    while (*slot != e)
        slot = &(*slot)->chain;
    *slot = e->chain;
    e->chain = NULL;
    lru_unlink(cache, e);
    cache->stats.entries--;
    cache->stats.bytes -= e->cost;
}

/* dance_cache_entry_cost - see header. */
size_t dance_cache_entry_cost(const dance_res_result *res)
{
    return dance_res_result_size(res) + MALLOC_OVERHEAD +
           sizeof(dance_cache_entry) + MALLOC_OVERHEAD +
           sizeof(dance_cache_entry *);
}

/* evict_for - evict least recently used entries (chained into *victims
 * through lru_next, for the caller to free unlocked) until one more entry
 * of cost bytes fits both bounds. Lock held. */
static void evict_for(dance_cache *cache, size_t cost,
                      dance_cache_entry **victims)
{
    while (cache->lru_tail != NULL &&
           (cache->stats.entries >= cache->max_entries ||
            cache->stats.bytes + cost > cache->max_bytes)) {
        dance_cache_entry *v = cache->lru_tail;

        table_remove(cache, v);
        cache->stats.evictions++;
        v->lru_next = *victims;
        *victims = v;
    }
}

/* entry_free - drop e's result reference and e itself; NULL is fine. */
static void entry_free(dance_cache_entry *e)
{
    if (e == NULL)
        return;
    dance_res_result_free(e->res);
    free(e);
}

/* free_victims - free a chain made by evict_for. */
static void free_victims(dance_cache_entry *v)
{
    while (v != NULL) {
        dance_cache_entry *next = v->lru_next;

        entry_free(v);
        v = next;
    }
}

/*
 * seed_key - fill k with a random SipHash key. Falls back to mixing clocks,
 * the pid and the cache address when getrandom cannot deliver.
 */
static void seed_key(uint64_t k[2], const void *cache)
{
    struct timespec rt = {0, 0}, mt = {0, 0};
    uint64_t mix[2];

    if (getrandom(k, 2 * sizeof(k[0]), GRND_NONBLOCK) ==
        (ssize_t)(2 * sizeof(k[0])))
        return;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_MONOTONIC, &mt);
    mix[0] = (uint64_t)rt.tv_sec * 1000000007ULL ^ (uint64_t)rt.tv_nsec ^
             ((uint64_t)getpid() << 32);
    mix[1] = (uint64_t)mt.tv_sec * 998244353ULL ^ (uint64_t)mt.tv_nsec ^
             (uint64_t)(uintptr_t)cache;
    k[0] = key_hash(mix, "dance-cache-0", 13, 0);
    k[1] = key_hash(mix, "dance-cache-1", 13, 0);
}

/* dance_cache_new - see header. */
dance_cache *dance_cache_new(size_t max_entries)
{
    dance_cache *cache = calloc(1, sizeof(*cache));
    size_t nbuckets = 1;

    if (cache == NULL)
        return NULL;
    cache->max_entries = max_entries;
    cache->max_bytes = DANCE_CACHE_DEFAULT_MAX_BYTES;
    seed_key(cache->sipkey, cache);
    if (max_entries > 0) { /* disabled caches have no table */
        while (nbuckets < max_entries && nbuckets < DANCE_CACHE_MAX_BUCKETS)
            nbuckets <<= 1;
        cache->buckets = calloc(nbuckets, sizeof(*cache->buckets));
        if (cache->buckets == NULL)
            goto err;
        cache->mask = nbuckets - 1;
    }
    if (pthread_mutex_init(&cache->lock, NULL) != 0)
        goto err;
    return cache;

err:
    free(cache->buckets);
    free(cache);
    return NULL;
}

/* dance_cache_set_max_bytes - see header. */
void dance_cache_set_max_bytes(dance_cache *cache, size_t max_bytes)
{
    dance_cache_entry *victims = NULL;

    if (cache == NULL)
        return;
    pthread_mutex_lock(&cache->lock);
    cache->max_bytes =
        max_bytes > 0 ? max_bytes : DANCE_CACHE_DEFAULT_MAX_BYTES;
    evict_for(cache, 0, &victims);
    pthread_mutex_unlock(&cache->lock);
    free_victims(victims);
}

/* dance_cache_free - see header. */
void dance_cache_free(dance_cache *cache)
{
    if (cache == NULL)
        return;
    dance_cache_flush(cache);
    pthread_mutex_destroy(&cache->lock);
    free(cache->buckets);
    free(cache);
}

/* dance_cache_get1 - see header. */
dance_res_result *dance_cache_get1(dance_cache *cache, const char *name,
                                   uint16_t type, time_t now)
{
    return dance_cache_get1_grace(cache, name, type, now, 0);
}

/* dance_cache_get1_grace - see header. */
dance_res_result *dance_cache_get1_grace(dance_cache *cache, const char *name,
                                         uint16_t type, time_t now,
                                         time_t grace)
{
    dance_cache_entry **slot;
    dance_cache_entry *e, *expired = NULL;
    dance_res_result *res = NULL;
    size_t len;
    uint32_t hash;

    if (cache == NULL || name == NULL)
        return NULL;
    len = key_len(name);
    hash = (uint32_t)key_hash(cache->sipkey, name, len, type);

    pthread_mutex_lock(&cache->lock);
    if (cache->buckets == NULL) {
        cache->stats.misses++;
        goto out;
    }
    slot = table_find(cache, hash, name, len, type);
    e = *slot;
    if (e == NULL) {
        cache->stats.misses++;
    } else if (dance_res_result_expires(e->res) + grace <= now) {
        table_remove(cache, e);
        expired = e;
        cache->stats.expirations++;
        cache->stats.misses++;
    } else {
        if (cache->lru_head != e) {
            lru_unlink(cache, e);
            lru_push_head(cache, e);
        }
        res = e->res;
        dance_res_result_up_ref(res); /* under the lock: e may go next */
        cache->stats.hits++;
    }
out:
    pthread_mutex_unlock(&cache->lock);

    entry_free(expired);
    return res;
}

/* dance_cache_put - see header. */
int dance_cache_put(dance_cache *cache, dance_res_result *res, time_t now)
{
    dance_cache_entry *fresh = NULL, *victim = NULL, *e;
    dance_res_result *old_res = NULL;
    dance_cache_entry **slot;
    const char *name;
    size_t len;

    if (cache == NULL || res == NULL || cache->buckets == NULL)
        return 0;
    if (dance_res_result_expires(res) <= now)
        return 0;

    name = dance_res_result_get0_name(res);
    len = key_len(name);
    fresh = calloc(1, sizeof(*fresh));
    if (fresh == NULL)
        return 0;
    fresh->cost = dance_cache_entry_cost(res);
    fresh->type = dance_res_result_type(res);
    fresh->hash = (uint32_t)key_hash(cache->sipkey, name, len, fresh->type);
    fresh->res = res;
    dance_res_result_up_ref(res); /* the cache's reference */

    pthread_mutex_lock(&cache->lock);
    slot = table_find(cache, fresh->hash, name, len, fresh->type);
    e = *slot;
    if (e != NULL) {
        /* Same key: the old answer goes in any case (it was replaced);
         * the new one is inserted as a new entry, within the bounds. */
        table_remove(cache, e);
        old_res = e->res;
        e->res = NULL;
        victim = e;
    }
    if (fresh->cost > cache->max_bytes / DANCE_CACHE_MAX_ENTRY_FRACTION) {
        cache->stats.too_big++;
        pthread_mutex_unlock(&cache->lock);
        entry_free(fresh);
        free_victims(victim);
        dance_res_result_free(old_res);
        return 0;
    }
    evict_for(cache, fresh->cost, &victim);
    /* At the chain's head: slot may have pointed into a victim. */
    slot = &cache->buckets[fresh->hash & cache->mask];
    fresh->chain = *slot;
    *slot = fresh;
    lru_push_head(cache, fresh);
    cache->stats.entries++;
    cache->stats.bytes += fresh->cost;
    cache->stats.insertions++;
    pthread_mutex_unlock(&cache->lock);

    free_victims(victim);
    dance_res_result_free(old_res);
    return 1;
}

/* dance_cache_flush - see header. Counters other than entries are kept. */
void dance_cache_flush(dance_cache *cache)
{
    dance_cache_entry *list, *next;

    if (cache == NULL)
        return;
    pthread_mutex_lock(&cache->lock);
    list = cache->lru_head;
    cache->lru_head = NULL;
    cache->lru_tail = NULL;
    if (cache->buckets != NULL)
        memset(cache->buckets, 0, (cache->mask + 1) * sizeof(*cache->buckets));
    cache->stats.entries = 0;
    cache->stats.bytes = 0;
    pthread_mutex_unlock(&cache->lock);

    for (; list != NULL; list = next) {
        next = list->lru_next;
        entry_free(list);
    }
}

/* dance_cache_get_stats - see header. */
void dance_cache_get_stats(dance_cache *cache, dance_cache_stats *out)
{
    if (out == NULL)
        return;
    if (cache == NULL) {
        memset(out, 0, sizeof(*out));
        return;
    }
    pthread_mutex_lock(&cache->lock);
    *out = cache->stats;
    pthread_mutex_unlock(&cache->lock);
}

/* dance_cache_atfork_lock - see header. */
void dance_cache_atfork_lock(dance_cache *cache)
{
    if (cache != NULL)
        pthread_mutex_lock(&cache->lock);
}

/* dance_cache_atfork_unlock - see header. */
void dance_cache_atfork_unlock(dance_cache *cache)
{
    if (cache != NULL)
        pthread_mutex_unlock(&cache->lock);
}
