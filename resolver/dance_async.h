/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_async.h - lookups in the background, joined later.
 *
 * A TLS handshake starts the TLSA lookup as soon as it learns the name and
 * joins it when it needs the answer, so DNS overlaps the handshake's own
 * round trips. A cache hit completes at once without a thread (and, in
 * the last tenth of its TTL, queues one background refresh, so names in
 * use never expire under a handshake); misses go to a pool of worker
 * threads, each running one lookup at a time, so up to max_threads
 * queries are in flight at once (a restart storm of new names); workers
 * are created as lookups queue up and again after fork() in the child
 * (an nginx master loads the provider, its workers use it). A joiner
 * whose lookup no worker has taken yet runs it on its own thread instead
 * of waiting for one; a caller that needs the answer at once (the name
 * came in the message verified next) starts it with
 * dance_async_start_joined, which wakes no worker: no hand-off between
 * threads, and the workers stay free for lookups started early.
 *
 * No client can make the pool wait or grow (a flood of unknown names):
 *  - join waits at most the resolver's deadline (dance_res_deadline_ms,
 *    the openssl.cnf timeout_ms) counted from dance_async_start: never
 *    longer, whatever is queued ahead;
 *  - the queue is bounded (DANCE_ASYNC_MAX_QUEUED, and
 *    DANCE_ASYNC_MAX_QUEUED_PER_SITE under one site); a start that finds
 *    no room is answered at once: indeterminate, with the reason;
 *  - a site (the last DANCE_ASYNC_SITE_LABELS labels of the name) may
 *    occupy at most half the workers (at least one) at a time, so one busy
 *    site cannot starve lookups for others;
 *  - a lookup all of whose jobs were freed is cancelled: it leaves the
 *    queue, or if running its queries are not retried;
 *  - a zone whose servers timed out or answered SERVFAIL/REFUSED/NOTIMP is
 *    remembered for DANCE_ASYNC_FAILING_MS (at most
 *    DANCE_ASYNC_FAILING_ZONES zones); names under it are answered
 *    indeterminate at once, with the reason, meanwhile. The zone of a name
 *    is the name without its leading underscore labels and its host label
 *    (so _mqtt-client.dev1.example.com and dev1._device.example.com are
 *    charged to example.com), keeping at least two labels.
 */
#ifndef DANCE_ASYNC_H
#define DANCE_ASYNC_H

#include <stdint.h>
#include <time.h>

#include "dance_res.h"

/* Workers a pool of the provider may run at once (dance_async_new's
 * max_threads there). Each runs one lookup at a time and spends it almost
 * all waiting for DNS, so this is how many queries are in flight at once:
 * a restart storm of distinct names is served at max_threads / 2 (one
 * site's share) lookups per resolver round trip (issue 14: 4 workers gave
 * 100 lookups/s at 20 ms, 64 give 1,600). Workers start only when lookups
 * queue up and stay for the pool's life. */
#define DANCE_ASYNC_DEFAULT_THREADS 64
/* Stack of one worker: a lookup runs ldns and OpenSSL signature checks,
 * far below this; a small stack keeps 64 idle workers cheap in address
 * space (only the pages touched are resident). Sanitizer builds, whose
 * frames are several times larger, keep the default stack size. */
#define DANCE_ASYNC_STACK_BYTES (512u * 1024u)

/* Lookups waiting for a worker, in all. Each costs a few hundred bytes;
 * the bound holds a restart's burst of real clients, while a flood finds
 * the queue (or its site's share) full and is answered at once. A queued
 * lookup whose askers' deadline has passed is dropped without a query. */
#define DANCE_ASYNC_MAX_QUEUED 1024
/* Lookups waiting for a worker under one site: a quarter of the queue, so
 * one site cannot fill it. */
#define DANCE_ASYNC_MAX_QUEUED_PER_SITE 256
/* Labels of a name that make its site (example.com of a.b.example.com). */
#define DANCE_ASYNC_SITE_LABELS 2
/* How long a failing zone is remembered, milliseconds. */
#define DANCE_ASYNC_FAILING_MS 5000
/* How many failing zones are remembered at once (oldest replaced). */
#define DANCE_ASYNC_FAILING_ZONES 128

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
 * the pending lookup of the same question. Never blocks on DNS. Returns a
 * job (free with dance_res_job_free, joined or not), or NULL when memory
 * runs out. A job may come back already answered: from the cache, or
 * indeterminate because the queue is full or the name's zone is failing
 * (the reason says which).
 */
dance_res_job *dance_async_start(dance_async *pool, const char *name,
                                 uint16_t type, time_t now);

/*
 * dance_async_start_joined - dance_async_start for a caller that joins the
 * job at once (the name arrives just when the answer is needed): no worker
 * is woken for it, the caller's dance_res_job_join runs the lookup on the
 * caller's thread. It is shared, bounded and counted as any other.
 */
dance_res_job *dance_async_start_joined(dance_async *pool, const char *name,
                                        uint16_t type, time_t now);

/*
 * dance_res_job_join - wait for the job, until the resolver's deadline
 * (dance_res_deadline_ms) after its dance_async_start at the latest. A
 * lookup still queued (no worker has taken it) is run by the joiner
 * itself, never past that deadline, rather than waiting for a worker;
 * askers who share it get its answer as from a worker.
 * Returns a new reference to the result (caller frees); an indeterminate
 * result if the deadline passed; NULL only when memory runs out. May be
 * called more than once.
 */
dance_res_result *dance_res_job_join(dance_res_job *job);

/*
 * dance_res_job_from_cache - was job answered from the cache when it was
 * started (no DNS query for it)? 1 or 0; NULL gives 0.
 */
int dance_res_job_from_cache(const dance_res_job *job);

/*
 * dance_res_job_timed_out - did a dance_res_job_join of job give up at the
 * deadline (its answer: indeterminate, no answer in time)? 1 or 0; NULL
 * gives 0.
 */
int dance_res_job_timed_out(const dance_res_job *job);

typedef struct {
    uint64_t immediate;   /* starts answered from the cache at once */
    uint64_t queued;      /* starts that needed a lookup (a handshake waits) */
    uint64_t shared;      /* starts that joined a pending lookup */
    uint64_t refreshes;   /* background renewals of names in use */
    uint64_t refused;     /* starts answered at once: queue full */
    uint64_t failed_fast; /* answered at once: the zone is failing */
    uint64_t failing_zones;       /* zones remembered as failing */
    uint64_t cancelled;           /* lookups abandoned by all their askers */
    uint64_t expired;             /* dequeued past their deadline, not run */
    uint64_t pending;             /* lookups waiting in the queue now */
    uint64_t joiner_runs;         /* lookups run by a joiner, not a worker */
    uint64_t prewarmed;           /* population lookups answered from a batch */
    uint64_t prewarm_handed_over; /* population lookups the batch did not
                                     answer, given to the workers */
} dance_async_stats;

/* dance_async_get_stats - a snapshot of the pool's counters. */
void dance_async_get_stats(dance_async *pool, dance_async_stats *out);

/* Names of a known population whose first queries go out at once (one
 * socket each; at most an eighth of RLIMIT_NOFILE). */
#define DANCE_ASYNC_PREWARM_BATCH 512

/*
 * dance_async_set_prewarm - keep (names[i], type) for i < n in the cache:
 * once dance_async_prewarm_start has been called in the process, a thread
 * looks up every name not cached, DANCE_ASYNC_PREWARM_BATCH at a time
 * (dance_res_batch_send: their first queries at once), and renews each in
 * the last tenth of its life, as long as the pool lives. Its lookups are
 * shared with handshakes that ask for a name meanwhile; a name the batch
 * got no usable answer for is handed to the workers (the ordinary path:
 * retries, TCP, other servers) when the queue has room; a name without an
 * answer is tried again after 5 s. The names are copied; they are trusted
 * configuration (the operator's list), checked by the caller. Call once,
 * before the pool is used. Returns 1, or 0 when memory runs out (or a
 * population was set already).
 */
int dance_async_set_prewarm(dance_async *pool, const char *const *names,
                            size_t n, uint16_t type);

/*
 * dance_async_prewarm_start - start warming the population in this process
 * (once; again in a child after fork(), whose cache is its own). Cheap to
 * call on every handshake; does nothing without a population.
 */
void dance_async_prewarm_start(dance_async *pool);

/* dance_res_job_free - drop the caller's hold on the job; NULL is fine.
 * A job still running is finished by its worker and then freed. */
void dance_res_job_free(dance_res_job *job);

#endif /* DANCE_ASYNC_H */
