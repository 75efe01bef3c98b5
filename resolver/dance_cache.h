/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_cache.h - bounded, thread-safe cache of lookup results.
 *
 * Keyed by (owner name, RR type); names compare case-insensitively and with
 * or without a trailing dot. Each entry lives until its result's expiry time
 * (dance_res_result_expires) and the least recently used entries are
 * evicted when either bound is reached: the number of entries, or the
 * bytes they cost (each entry's result allocation, which holds its key,
 * plus the entry's own bookkeeping: see dance_cache_entry_cost). An entry
 * costing more than 1/DANCE_CACHE_MAX_ENTRY_FRACTION of the byte bound is
 * not cached at all, so one answer can never flush the cache. Time is always
 * passed in, so tests can pin the clock. A get never performs I/O and holds the
 * lock only for the table operation itself.
 */
#ifndef DANCE_CACHE_H
#define DANCE_CACHE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dance_result.h"

typedef struct dance_cache dance_cache;

/* Default byte bound: 64 MiB. Typical entries cost 200-400 bytes, so the
 * default 10,000 entries need about 4 MiB and never reach it; it bounds the
 * worst case instead: answers of many large records under distinct names
 * (a signed wildcard TLSA RRset of 50 kB costs ~33 kB per client name,
 * 330 MB for 10,000 names) stay within 64 MiB. */
#define DANCE_CACHE_DEFAULT_MAX_BYTES ((size_t)64 << 20)
/* An entry above max_bytes / DANCE_CACHE_MAX_ENTRY_FRACTION is not cached
 * (1 MiB at the default; no DNS answer is that large). */
#define DANCE_CACHE_MAX_ENTRY_FRACTION 64

typedef struct {
    uint64_t hits;        /* gets that returned a live entry */
    uint64_t misses;      /* gets that found nothing usable */
    uint64_t insertions;  /* puts that stored an entry */
    uint64_t evictions;   /* entries dropped to respect the bounds */
    uint64_t expirations; /* entries dropped because they had expired */
    uint64_t too_big;     /* puts refused: entry above the size cap */
    size_t entries;       /* entries held now */
    size_t bytes;         /* what they cost now (dance_cache_entry_cost) */
} dance_cache_stats;

/*
 * dance_cache_new - a cache holding at most max_entries results, costing
 * at most DANCE_CACHE_DEFAULT_MAX_BYTES (see dance_cache_set_max_bytes).
 * max_entries == 0 gives a disabled cache: gets miss, puts store nothing.
 * Returns NULL on allocation failure. Free with dance_cache_free().
 */
dance_cache *dance_cache_new(size_t max_entries);

/*
 * dance_cache_set_max_bytes - bound what the entries cost, in bytes (0:
 * the default). Entries beyond it are evicted at once, least recently
 * used first.
 */
void dance_cache_set_max_bytes(dance_cache *cache, size_t max_bytes);

/*
 * dance_cache_entry_cost - what caching res costs, in bytes: its
 * allocation (fixed fields, name = the key, reason, records) plus the
 * entry, plus allocator overhead for both, plus one bucket pointer.
 */
size_t dance_cache_entry_cost(const dance_res_result *res);

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
