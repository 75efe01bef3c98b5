/*
 * dance_async.h - lookups in the background, joined later.
 *
 * A TLS handshake starts the TLSA lookup as soon as it learns the name and
 * joins it when it needs the answer, so DNS overlaps the handshake's own
 * round trips. A cache hit completes at once without a thread (and, in
 * the last tenth of its TTL, queues one background refresh, so names in
 * use never expire under a handshake); misses go to a small pool of
 * worker threads, created when first needed and again
 * after fork() in the child (an nginx master loads the provider, its
 * workers use it).
 */
#ifndef DANCE_ASYNC_H
#define DANCE_ASYNC_H

#include <stdint.h>
#include <time.h>

#include "dance_res.h"

typedef struct dance_async dance_async;
typedef struct dance_res_job dance_res_job;

/*
 * dance_async_new - a pool of at most max_threads workers running lookups
 * on res (borrowed: it must outlive the pool). Returns NULL on allocation
 * failure. Free with dance_async_free (which waits for running lookups).
 */
dance_async *dance_async_new(dance_res *res, unsigned max_threads);

/* dance_async_free - stop the workers and free the pool; NULL is fine.
 * Every job must have been freed. */
void dance_async_free(dance_async *pool);

/*
 * dance_async_start - begin looking up (name, type) as of now, or share
 * the pending lookup of the same question. Returns a job (free with
 * dance_res_job_free, joined or not), or NULL when memory runs out.
 */
dance_res_job *dance_async_start(dance_async *pool, const char *name,
                                 uint16_t type, time_t now);

/*
 * dance_res_job_join - wait for the job, at most the resolver's deadline
 * plus a margin. Returns a new reference to the result (caller frees); an
 * indeterminate result if the wait timed out; NULL only when memory runs
 * out. May be called more than once.
 */
dance_res_result *dance_res_job_join(dance_res_job *job);

typedef struct {
    uint64_t immediate; /* starts answered from the cache at once */
    uint64_t queued;    /* starts that needed a lookup (a handshake waits) */
    uint64_t shared;    /* starts that joined a pending lookup */
    uint64_t refreshes; /* background renewals of names in use */
} dance_async_stats;

/* dance_async_get_stats - a snapshot of the pool's counters. */
void dance_async_get_stats(dance_async *pool, dance_async_stats *out);

/* dance_res_job_free - drop the caller's hold on the job; NULL is fine.
 * A job still running is finished by its worker and then freed. */
void dance_res_job_free(dance_res_job *job);

#endif /* DANCE_ASYNC_H */
