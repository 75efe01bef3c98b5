/*
 * dance_cache.h - bounded, thread-safe cache of lookup results.
 *
 * Keyed by (owner name, RR type); names compare case-insensitively and with
 * or without a trailing dot. Each entry lives until its result's expiry time
 * (dance_res_result_expires) and the least recently used entry is evicted
 * when the bound is reached. Time is always passed in, so tests can pin the
 * clock. A get never performs I/O and holds the lock only for the table
 * operation itself.
 */
#ifndef DANCE_CACHE_H
#define DANCE_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dance_result.h"

typedef struct dance_cache dance_cache;

typedef struct {
    uint64_t hits;        /* gets that returned a live entry */
    uint64_t misses;      /* gets that found nothing usable */
    uint64_t insertions;  /* puts that stored an entry */
    uint64_t evictions;   /* entries dropped to respect max_entries */
    uint64_t expirations; /* entries dropped because they had expired */
    size_t entries;       /* entries held now */
} dance_cache_stats;

/*
 * dance_cache_new - a cache holding at most max_entries results.
 * max_entries == 0 gives a disabled cache: gets miss, puts store nothing.
 * Returns NULL on allocation failure. Free with dance_cache_free().
 */
dance_cache *dance_cache_new(size_t max_entries);

/* dance_cache_free - drop every entry and the cache; NULL is fine. */
void dance_cache_free(dance_cache *cache);

/*
 * dance_cache_get1 - the live result for (name, type) at time now, or NULL.
 * The caller owns the returned reference (dance_res_result_free). An entry
 * whose expiry is <= now is removed and counts as a miss.
 */
dance_res_result *dance_cache_get1(dance_cache *cache, const char *name,
                                   uint16_t type, time_t now);

/*
 * dance_cache_get1_grace - dance_cache_get1, but an entry stays usable for
 * grace seconds past its expiry (the caller can tell from the result's
 * expiry time). For the handshake path only, while the answer is being
 * renewed: see dance_async.c.
 */
dance_res_result *dance_cache_get1_grace(dance_cache *cache, const char *name,
                                         uint16_t type, time_t now,
                                         time_t grace);

/*
 * dance_cache_put - store res under its own name and type, replacing any
 * entry for the same key. The cache takes its own reference; the caller
 * keeps theirs. A result already expired at now is not stored.
 * Returns 1 if stored, 0 if not (disabled, expired, or out of memory).
 */
int dance_cache_put(dance_cache *cache, dance_res_result *res, time_t now);

/* dance_cache_flush - drop every entry. */
void dance_cache_flush(dance_cache *cache);

/* dance_cache_get_stats - a consistent snapshot of the counters. */
void dance_cache_get_stats(dance_cache *cache, dance_cache_stats *out);

/*
 * dance_cache_atfork_lock / _unlock - hold the cache's lock across fork()
 * (lock in the prepare handler, unlock in both parent and child), so the
 * child never inherits it held by a thread that does not exist there.
 */
void dance_cache_atfork_lock(dance_cache *cache);
void dance_cache_atfork_unlock(dance_cache *cache);

#endif /* DANCE_CACHE_H */
