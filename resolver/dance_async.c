/*
 * dance_async.c - a lazily started worker pool for background lookups.
 *
 * Jobs are reference counted: each asker holds one, and the queue/worker
 * holds one while the job is pending, so a caller may drop a job it no
 * longer needs (a handshake that failed early) at any time. Askers of the
 * same (name, type) while a job is pending share that job: however many
 * handshakes wait for one name, one lookup runs (and the resolver's own
 * single flight merges what is left, such as the DNSKEY chain).
 *
 * fork(): pthread_atfork handlers hold every pool's lock and its
 * resolver's locks across fork(), so the child inherits none of them held.
 * The child has no workers; they are started again on demand. A lookup
 * that was running in a parent's worker at fork time never finishes in the
 * child: its joiner times out and gets an indeterminate result.
 */
#include "dance_async.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dance_net.h"

#define JOIN_MARGIN_MS 1000 /* beyond the resolver's own deadline */

struct dance_res_job {
    dance_async *pool;
    dance_res_job *next;        /* queue link */
    dance_res_job *next_active; /* pending jobs, for sharing */
    char *name;
    uint16_t type;
    time_t now;
    unsigned refs; /* under pool->lock */
    int refresh;   /* renew a cached answer (no asker waits for it) */
    int immediate; /* answered from the cache at start; never changes */
    int done;      /* under pool->lock unless immediate */
    dance_res_result *result;
};

struct dance_async {
    dance_res *res;
    pthread_mutex_t lock;
    pthread_cond_t work_cv;     /* workers wait for jobs */
    pthread_cond_t done_cv;     /* joiners wait for results */
    dance_res_job *head, *tail; /* queued, not yet picked up */
    dance_res_job *active;      /* queued or running: shared by askers */
    pthread_t *tids;
    unsigned max_threads, threads, idle;
    int stopping;
    dance_async *next_pool;         /* registry link, under registry_lock */
    dance_async_stats stats;        /* under lock, but for immediate: */
    atomic_uint_fast64_t immediate; /* counted without it, on the hot path */
};

/* Every live pool, for the fork handlers (which take no argument). */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static dance_async *registry;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* atfork_prepare - take the registry, every pool and resolver lock. */
static void atfork_prepare(void)
{
    pthread_mutex_lock(&registry_lock);
    for (dance_async *p = registry; p != NULL; p = p->next_pool) {
        pthread_mutex_lock(&p->lock);
        dance_res_atfork_lock(p->res);
    }
}

/* atfork_parent - release what atfork_prepare took. */
static void atfork_parent(void)
{
    for (dance_async *p = registry; p != NULL; p = p->next_pool) {
        dance_res_atfork_unlock(p->res);
        pthread_mutex_unlock(&p->lock);
    }
    pthread_mutex_unlock(&registry_lock);
}

/* atfork_child - release the locks; the child has no workers. */
static void atfork_child(void)
{
    for (dance_async *p = registry; p != NULL; p = p->next_pool) {
        dance_res_atfork_unlock(p->res);
        p->threads = 0;
        p->idle = 0;
        p->active = NULL; /* running ones never finish here: share none */
        pthread_mutex_unlock(&p->lock);
    }
    pthread_mutex_unlock(&registry_lock);
}

/* install_atfork - register the handlers once per process. */
static void install_atfork(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* job_release - drop one reference; pool->lock held. */
static void job_release(dance_res_job *job)
{
    if (--job->refs > 0)
        return;
    dance_res_result_free(job->result);
    free(job->name);
    free(job);
}

/* worker - run queued lookups until the pool stops. */
static void *worker(void *arg)
{
    dance_async *pool = arg;

    pthread_mutex_lock(&pool->lock);
    while (!pool->stopping) {
        dance_res_job *job = pool->head;
        dance_res_result *r;

        if (job == NULL) {
            pool->idle++;
            pthread_cond_wait(&pool->work_cv, &pool->lock);
            pool->idle--;
            continue;
        }
        pool->head = job->next;
        if (pool->head == NULL)
            pool->tail = NULL;
        pthread_mutex_unlock(&pool->lock);
        r = job->refresh
                ? dance_res_refresh(pool->res, job->name, job->type, time(NULL))
                : dance_res_lookup(pool->res, job->name, job->type, job->now);
        pthread_mutex_lock(&pool->lock);
        for (dance_res_job **pp = &pool->active; *pp != NULL;
             pp = &(*pp)->next_active)
            if (*pp == job) {
                *pp = job->next_active;
                break;
            }
        job->result = r;
        job->done = 1;
        pthread_cond_broadcast(&pool->done_cv);
        job_release(job);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

/* ensure_worker - start a worker if none is idle and the cap allows;
 * pool->lock held. Workers block every signal: the application's signal
 * handling (nginx relies on it) must never land on our threads. */
static void ensure_worker(dance_async *pool)
{
    sigset_t all, old;

    if (pool->idle > 0 || pool->threads >= pool->max_threads)
        return;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    if (pthread_create(&pool->tids[pool->threads], NULL, worker, pool) == 0)
        pool->threads++;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* dance_async_new - see header. */
dance_async *dance_async_new(dance_res *res, unsigned max_threads)
{
    dance_async *pool = calloc(1, sizeof(*pool));
    pthread_condattr_t attr;

    if (pool == NULL || max_threads == 0)
        goto err;
    pool->tids = calloc(max_threads, sizeof(*pool->tids));
    if (pool->tids == NULL)
        goto err;
    pool->res = res;
    pool->max_threads = max_threads;
    atomic_init(&pool->immediate, 0);
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->work_cv, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&pool->done_cv, &attr);
    pthread_condattr_destroy(&attr);
    pthread_once(&atfork_once, install_atfork);
    pthread_mutex_lock(&registry_lock);
    pool->next_pool = registry;
    registry = pool;
    pthread_mutex_unlock(&registry_lock);
    return pool;
err:
    if (pool != NULL)
        free(pool->tids);
    free(pool);
    return NULL;
}

/* dance_async_free - see header. */
void dance_async_free(dance_async *pool)
{
    unsigned n;

    if (pool == NULL)
        return;
    pthread_mutex_lock(&registry_lock);
    for (dance_async **pp = &registry; *pp != NULL; pp = &(*pp)->next_pool)
        if (*pp == pool) {
            *pp = pool->next_pool;
            break;
        }
    pthread_mutex_unlock(&registry_lock);
    pthread_mutex_lock(&pool->lock);
    pool->stopping = 1;
    n = pool->threads;
    pthread_cond_broadcast(&pool->work_cv);
    pthread_mutex_unlock(&pool->lock);
    for (unsigned i = 0; i < n; i++)
        pthread_join(pool->tids[i], NULL);
    while (pool->head != NULL) { /* jobs nobody ran: drop the queue's ref */
        dance_res_job *job = pool->head;

        pool->head = job->next;
        job_release(job);
    }
    pthread_cond_destroy(&pool->work_cv);
    pthread_cond_destroy(&pool->done_cv);
    pthread_mutex_destroy(&pool->lock);
    free(pool->tids);
    free(pool);
}

/* enqueue - queue a new job (its queue reference taken); lock held. */
static void enqueue(dance_async *pool, dance_res_job *job)
{
    job->refs++; /* the queue's */
    job->next_active = pool->active;
    pool->active = job;
    if (pool->tail != NULL)
        pool->tail->next = job;
    else
        pool->head = job;
    pool->tail = job;
    ensure_worker(pool);
    pthread_cond_signal(&pool->work_cv);
}

/* needs_refresh - should a cached answer be renewed in the background? In
 * the last tenth of its life (at least the last second), or past it (served
 * stale meanwhile), so a name in use never expires under a handshake; but
 * not within a second of its making. A validating resolver in trust-ad
 * mode answers from its own cache with the remaining TTL, so a renewal
 * near the end returns the same, almost expired answer: asking again
 * sooner would only repeat that, and the answer must be served a moment
 * past its expiry until the resolver itself has fetched a new one. */
static int needs_refresh(const dance_res_result *r, time_t now)
{
    time_t expires = dance_res_result_expires(r);
    time_t ttl = (time_t)dance_res_result_ttl(r);
    time_t window = ttl / 10 > 1 ? ttl / 10 : 1;

    return expires - now <= window && now - (expires - ttl) >= 1;
}

/* schedule_refresh - queue one refresh of (name, type) unless one is
 * pending already. */
static void schedule_refresh(dance_async *pool, const char *name, uint16_t type)
{
    dance_res_job *job;

    pthread_mutex_lock(&pool->lock);
    for (dance_res_job *a = pool->active; a != NULL; a = a->next_active)
        if (a->type == type && strcasecmp(a->name, name) == 0)
            goto done; /* a lookup or refresh is on its way */
    job = calloc(1, sizeof(*job));
    if (job == NULL || (job->name = strdup(name)) == NULL) {
        free(job);
        goto done;
    }
    job->pool = pool;
    job->type = type;
    job->refresh = 1;
    enqueue(pool, job); /* the queue holds the only reference */
    pool->stats.refreshes++;
done:
    pthread_mutex_unlock(&pool->lock);
}

/* dance_async_get_stats - see header. */
void dance_async_get_stats(dance_async *pool, dance_async_stats *out)
{
    pthread_mutex_lock(&pool->lock);
    *out = pool->stats;
    out->immediate = atomic_load(&pool->immediate);
    pthread_mutex_unlock(&pool->lock);
}

/* dance_async_start - see header. */
dance_res_job *dance_async_start(dance_async *pool, const char *name,
                                 uint16_t type, time_t now)
{
    dance_res_job *job = calloc(1, sizeof(*job));

    if (job == NULL || (job->name = strdup(name)) == NULL) {
        free(job);
        return NULL;
    }
    job->pool = pool;
    job->type = type;
    job->now = now;
    job->refs = 1;
    job->result = dance_res_lookup_cached(pool->res, name, type, now, 1);
    if (job->result != NULL) {
        job->immediate = job->done = 1; /* the hot path: no thread */
        if (needs_refresh(job->result, now))
            schedule_refresh(pool, name, type);
        atomic_fetch_add_explicit(&pool->immediate, 1, memory_order_relaxed);
        return job;
    }
    pthread_mutex_lock(&pool->lock);
    for (dance_res_job *a = pool->active; a != NULL; a = a->next_active)
        if (a->type == type && strcasecmp(a->name, name) == 0 && !a->refresh) {
            a->refs++; /* share the pending lookup */
            pool->stats.shared++;
            pthread_mutex_unlock(&pool->lock);
            free(job->name);
            free(job);
            return a;
        }
    enqueue(pool, job);
    pool->stats.queued++;
    pthread_mutex_unlock(&pool->lock);
    return job;
}

/* dance_res_job_join - see header. */
dance_res_result *dance_res_job_join(dance_res_job *job)
{
    dance_async *pool = job->pool;
    uint64_t until =
        dance_net_now_ms() + dance_res_deadline_ms(pool->res) + JOIN_MARGIN_MS;
    struct timespec ts = {.tv_sec = (time_t)(until / 1000),
                          .tv_nsec = (long)(until % 1000) * 1000000L};
    dance_res_result *r = NULL;
    int done;

    if (job->immediate)
        goto ready; /* a cache hit: no lock */
    pthread_mutex_lock(&pool->lock);
    if (!job->done && pool->threads == 0)
        ensure_worker(pool); /* e.g. first use in a forked child */
    while (!job->done)
        if (pthread_cond_timedwait(&pool->done_cv, &pool->lock, &ts) ==
            ETIMEDOUT)
            break;
    done = job->done;
    pthread_mutex_unlock(&pool->lock);
    if (!done)
        return dance_res_result_new(job->name, job->type,
                                    DANCE_RES_INDETERMINATE, NULL, 0, job->now,
                                    "lookup did not finish in time");
ready:
    r = job->result; /* immutable once done */
    if (r != NULL)
        dance_res_result_up_ref(r);
    return r;
}

/* dance_res_job_free - see header. */
void dance_res_job_free(dance_res_job *job)
{
    dance_async *pool;

    if (job == NULL)
        return;
    pool = job->pool;
    pthread_mutex_lock(&pool->lock);
    job_release(job);
    pthread_mutex_unlock(&pool->lock);
}
