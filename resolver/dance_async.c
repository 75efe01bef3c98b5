/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_async.c - a lazily started worker pool for background lookups.
 *
 * Two objects: a lookup (one question being answered, shared by every
 * asker of the same (name, type) while it is pending) and a job (one
 * asker's handle on a lookup, with that asker's own deadline). A lookup is
 * reference counted: one reference per job, plus one held by the queue or
 * the worker until it is done. When the last job of a lookup is freed
 * before it is done, nobody waits for it any more: a queued lookup leaves
 * the queue at once; a running one is flagged, and the transport does not
 * retry its queries (see dance_net_scope) unless someone asks for it again
 * meanwhile. A lookup still queued when one of its askers joins is taken
 * off the queue and run by that asker (bounded by the asker's own
 * deadline), and its other askers get its answer as from a worker.
 *
 * Bounds (see dance_async.h for the values): the queue holds at most
 * DANCE_ASYNC_MAX_QUEUED lookups, at most DANCE_ASYNC_MAX_QUEUED_PER_SITE
 * of them under one site; at most half the workers (at least one) run
 * lookups of one site at a time, so one busy site cannot take them all; a
 * zone whose servers timed out or failed is remembered for
 * DANCE_ASYNC_FAILING_MS and names under it are answered indeterminate at
 * once. Each of these answers is immediate and says why.
 *
 * fork(): the prepare handler takes the registry lock, every pool's lock
 * and its resolver's locks; the parent releases them; the child makes
 * every lock and condition variable new (a condition variable inherited
 * with waiters from threads that do not exist in the child can block its
 * first signal forever), completes every queued or running lookup as
 * "interrupted by fork()" (they belonged to the parent's threads), forgets
 * the resolver's shared queries, and starts workers again on demand.
 */
#include "dance_async.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <unistd.h>

#include "dance_net.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

#define WHY_LEN 256
#define ZONE_LEN 256 /* a presentation name without its root dot fits */

typedef struct lookup lookup;

enum { LK_QUEUED, LK_RUNNING, LK_DONE };

struct lookup {
    lookup *next;        /* queue or running list link */
    lookup *next_active; /* shareable lookups, for sharing */
    char *name;          /* as asked */
    char *key;           /* lowercase, without the root dot */
    const char *site;    /* suffix of key: fairness and queue bounds */
    const char *zone;    /* suffix of key: failing-zone memory */
    uint16_t type;
    time_t now;
    uint64_t deadline_ms; /* the latest asker's deadline; 0: a refresh */
    unsigned refs;        /* jobs + queue/worker; under pool->lock */
    unsigned askers;      /* jobs; under pool->lock */
    int refresh;          /* renew a cached answer: nobody waits for it */
    int state;            /* LK_*, under pool->lock */
    int shareable;        /* on pool->active */
    int forked;           /* completed by the fork child handler */
    atomic_int cancelled; /* every asker left: send nothing more */
    dance_res_result *result;
    pthread_cond_t done; /* its askers wait here (monotonic clock) */
};

struct dance_res_job {
    dance_async *pool;
    lookup *lk;               /* NULL when answered at start */
    uint64_t deadline_ms;     /* this asker waits no longer than this */
    dance_res_result *result; /* the answer given at start, if lk == NULL */
    int from_cache;           /* that answer came from the cache */
    int timed_out;            /* join gave up at the deadline */
};

typedef struct {
    char zone[ZONE_LEN];
    char why[WHY_LEN];
    uint64_t until_ms; /* remembered until then (CLOCK_MONOTONIC) */
} failing_zone;

typedef struct prewarm prewarm;

/* Lookups of one site that workers are running. */
typedef struct {
    char site[ZONE_LEN];
    unsigned n;
} site_count;

struct dance_async {
    dance_res *res;
    pthread_mutex_t lock;
    pthread_cond_t work_cv; /* workers wait for jobs */
    lookup *head, *tail;    /* queued, not yet picked up */
    size_t queued;          /* length of that queue */
    lookup *running;        /* picked up by a worker */
    lookup *active;         /* queued or running, shareable */
    pthread_t *tids;
    unsigned max_threads, threads, idle, site_limit;
    site_count *sites; /* max_threads of them; the first nsites in use */
    unsigned nsites;
    int stopping;
    failing_zone failing[DANCE_ASYNC_FAILING_ZONES];
    prewarm *pw;                    /* NULL: no population to warm */
    atomic_int pw_started;          /* its thread runs in this process */
    dance_async *next_pool;         /* registry link, under registry_lock */
    dance_async_stats stats;        /* under lock, but for immediate: */
    atomic_uint_fast64_t immediate; /* counted without it, on the hot path */
};

/* Every live pool, for the fork handlers (which take no argument). */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static dance_async *registry;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* ---- names: sites and zones ---------------------------------------------- */

/* next_label - the label after the one p starts, or NULL if p is last. */
static const char *next_label(const char *p)
{
    while (*p != '\0' && *p != '.') {
        if (*p == '\\' && p[1] != '\0')
            p++;
        p++;
    }
    return *p == '.' ? p + 1 : NULL;
}

/* count_labels - labels in a name without its root dot ("" has none). */
static unsigned count_labels(const char *p)
{
    unsigned n = *p != '\0';

    while ((p = next_label(p)) != NULL)
        n++;
    return n;
}

/* site_of - the last DANCE_ASYNC_SITE_LABELS labels of key (a suffix). */
static const char *site_of(const char *key)
{
    unsigned n = count_labels(key);

    for (; n > DANCE_ASYNC_SITE_LABELS; n--)
        key = next_label(key);
    return key;
}

/* zone_of - the zone a failing name is charged to (a suffix of key): the
 * name without its leading underscore labels (service, port, protocol)
 * and its host label, keeping at least two labels. */
static const char *zone_of(const char *key)
{
    while (*key == '_' && count_labels(key) > 2)
        key = next_label(key);
    if (count_labels(key) >= 3)
        key = next_label(key);
    while (*key == '_' && count_labels(key) > 2)
        key = next_label(key);
    return key;
}

/* make_key - lowercase copy of name without the root dot (caller frees). */
static char *make_key(const char *name)
{
    size_t len = strlen(name);
    char *key;

    if (len > 0 && name[len - 1] == '.' && (len < 2 || name[len - 2] != '\\'))
        len--;
    key = malloc(len + 1);
    if (key == NULL)
        return NULL;
    for (size_t i = 0; i < len; i++)
        key[i] =
            (name[i] >= 'A' && name[i] <= 'Z') ? (char)(name[i] + 32) : name[i];
    key[len] = '\0';
    return key;
}

/* ---- failing zones ------------------------------------------------------ */

/* failing_find - the live memory of zone, or NULL; lock held. */
static failing_zone *failing_find(dance_async *pool, const char *zone,
                                  uint64_t now_ms)
{
    for (size_t i = 0; i < DANCE_ASYNC_FAILING_ZONES; i++) {
        failing_zone *f = &pool->failing[i];

        if (f->until_ms > now_ms && strcmp(f->zone, zone) == 0)
            return f;
    }
    return NULL;
}

/* failing_remember - zone failed (why); lock held. Replaces the same
 * zone's entry, else a free one, else the one that ends first. */
static void failing_remember(dance_async *pool, const char *zone,
                             const char *why, uint64_t now_ms)
{
    failing_zone *slot = failing_find(pool, zone, now_ms);

    for (size_t i = 0; slot == NULL && i < DANCE_ASYNC_FAILING_ZONES; i++)
        if (pool->failing[i].until_ms <= now_ms)
            slot = &pool->failing[i];
    for (size_t i = 0; slot == NULL && i < DANCE_ASYNC_FAILING_ZONES; i++)
        if (slot == NULL || pool->failing[i].until_ms < slot->until_ms)
            slot = &pool->failing[i];
    if (slot == NULL) /* DANCE_ASYNC_FAILING_ZONES == 0 */
        return;
    snprintf(slot->zone, sizeof(slot->zone), "%s", zone);
    snprintf(slot->why, sizeof(slot->why), "%s", why);
    slot->until_ms = now_ms + DANCE_ASYNC_FAILING_MS;
    pool->stats.failing_zones++;
}

/* failing_result - an indeterminate answer for a name under a failing
 * zone (caller frees), or NULL when its zone is not failing; lock held. */
static dance_res_result *failing_result(dance_async *pool, const char *name,
                                        const char *zone, uint16_t type,
                                        time_t now)
{
    uint64_t now_ms = dance_net_now_ms();
    failing_zone *f = failing_find(pool, zone, now_ms);
    char why[WHY_LEN + ZONE_LEN + 80];

    if (f == NULL)
        return NULL;
    snprintf(why, sizeof(why),
             "zone %s failed recently (%s); not asked again for %llu ms",
             f->zone, f->why, (unsigned long long)(f->until_ms - now_ms));
    pool->stats.failed_fast++;
    return dance_res_result_new(name, type, DANCE_RES_INDETERMINATE, NULL, 0,
                                now, why);
}

/* ---- lookups ------------------------------------------------------------ */

/* lookup_release - drop one reference; pool->lock held. */
static void lookup_release(lookup *lk)
{
    if (--lk->refs > 0)
        return;
    pthread_cond_destroy(&lk->done);
    dance_res_result_free(lk->result);
    free(lk->key);
    free(lk->name);
    free(lk);
}

/* unshare - take lk off the list of lookups new askers may share. */
static void unshare(dance_async *pool, lookup *lk)
{
    if (!lk->shareable)
        return;
    for (lookup **pp = &pool->active; *pp != NULL; pp = &(*pp)->next_active)
        if (*pp == lk) {
            *pp = lk->next_active;
            break;
        }
    lk->shareable = 0;
}

/* unlink_from - remove lk from a singly linked list (queue or running);
 * fixes *tail when given. Returns 1 if it was there. */
static int unlink_from(lookup **head, lookup **tail, lookup *lk)
{
    lookup *prev = NULL;

    for (lookup **pp = head; *pp != NULL; prev = *pp, pp = &(*pp)->next)
        if (*pp == lk) {
            *pp = lk->next;
            if (tail != NULL && *tail == lk)
                *tail = prev;
            lk->next = NULL;
            return 1;
        }
    return 0;
}

/* complete - lk is answered with r (owned); wake its askers; lock held.
 * The caller then drops the queue's or worker's reference. */
static void complete(dance_async *pool, lookup *lk, dance_res_result *r)
{
    unshare(pool, lk);
    lk->result = r;
    lk->state = LK_DONE;
    pthread_cond_broadcast(&lk->done); /* its askers only: in a storm,
                                          waking every joiner per answer
                                          cost more than the answers */
}

/* site_find - the running count of site, or NULL when none runs; lock
 * held. At most max_threads sites run at once, usually one or two. Sites
 * are compared as kept, cut to an entry's size: two long sites alike in
 * that much share one count (a stricter share, never a looser one). */
static site_count *site_find(dance_async *pool, const char *site)
{
    for (unsigned i = 0; i < pool->nsites; i++)
        if (strncmp(pool->sites[i].site, site, ZONE_LEN - 1) == 0)
            return &pool->sites[i];
    return NULL;
}

/* site_running - lookups of site that workers are running; lock held. */
static unsigned site_running(dance_async *pool, const char *site)
{
    const site_count *c = site_find(pool, site);

    return c != NULL ? c->n : 0;
}

/* site_enter / site_leave - a worker starts or ends a lookup of site;
 * lock held. There is always room: one entry per running worker at most
 * (a site longer than an entry is cut, and counted as its cut form). */
static void site_enter(dance_async *pool, const char *site)
{
    site_count *c = site_find(pool, site);

    if (c == NULL) {
        c = &pool->sites[pool->nsites++];
        snprintf(c->site, sizeof(c->site), "%s", site);
        c->n = 0;
    }
    c->n++;
}

static void site_leave(dance_async *pool, const char *site)
{
    site_count *c = site_find(pool, site);

    if (c == NULL || --c->n > 0)
        return;
    *c = pool->sites[--pool->nsites]; /* the last entry takes its place */
}

/* first_pickable - the first queued lookup whose site has a worker slot
 * free, or NULL; lock held. */
static lookup *first_pickable(dance_async *pool)
{
    for (lookup *lk = pool->head; lk != NULL; lk = lk->next)
        if (site_running(pool, lk->site) < pool->site_limit)
            return lk;
    return NULL;
}

/* pick - the first queued lookup whose site has a worker slot free, taken
 * off the queue; NULL if none; lock held. If another could run too and a
 * worker is idle, one idle worker is woken for it (one: a wake-up of them
 * all per answer, most finding nothing to run, cost a restart storm more
 * CPU than its lookups did). */
static lookup *pick(dance_async *pool)
{
    lookup *lk = first_pickable(pool);

    if (lk == NULL)
        return NULL;
    unlink_from(&pool->head, &pool->tail, lk);
    pool->queued--;
    if (pool->idle > 0 && first_pickable(pool) != NULL)
        pthread_cond_signal(&pool->work_cv);
    return lk;
}

/* run - run lk outside the lock (re-taken on return), until deadline_ms
 * at the latest: the transport is bounded by it and stops when the askers
 * have all left; a zone whose servers failed is remembered. A worker's run
 * counts against its site's share of the workers (by_worker); a joiner's
 * run uses no worker and counts against nothing. */
static dance_res_result *run(dance_async *pool, lookup *lk,
                             uint64_t deadline_ms, int by_worker)
{
    dance_net_scope scope = {
        .deadline_ms = deadline_ms, .cancelled = &lk->cancelled, .failures = 0};
    dance_res_result *r;

    lk->state = LK_RUNNING;
    lk->next = pool->running;
    pool->running = lk;
    if (by_worker)
        site_enter(pool, lk->site);
    pthread_mutex_unlock(&pool->lock);
    dance_net_scope_enter(&scope);
    r = lk->refresh
            ? dance_res_refresh(pool->res, lk->name, lk->type, time(NULL))
            : dance_res_lookup(pool->res, lk->name, lk->type, lk->now);
    dance_net_scope_leave();
    pthread_mutex_lock(&pool->lock);
    unlink_from(&pool->running, NULL, lk);
    if (by_worker)
        site_leave(pool, lk->site);
    if (r != NULL && scope.failures > 0 &&
        dance_res_result_status(r) == DANCE_RES_INDETERMINATE)
        failing_remember(pool, lk->zone, dance_res_result_get0_why(r),
                         dance_net_now_ms());
    return r;
}

/* precheck - the answer for a lookup just taken off the queue that needs
 * no query: indeterminate when its zone is failing or (not a refresh) its
 * askers' deadline has passed; NULL when it must run; lock held. */
static dance_res_result *precheck(dance_async *pool, lookup *lk)
{
    dance_res_result *r =
        failing_result(pool, lk->name, lk->zone, lk->type, lk->now);

    if (r == NULL && !lk->refresh && dance_net_now_ms() >= lk->deadline_ms) {
        pool->stats.expired++;
        r = dance_res_result_new(lk->name, lk->type, DANCE_RES_INDETERMINATE,
                                 NULL, 0, lk->now,
                                 "waited in the lookup queue past the "
                                 "lookup deadline");
    }
    return r;
}

/* worker - run queued lookups until the pool stops. */
static void *worker(void *arg)
{
    dance_async *pool = arg;

    pthread_mutex_lock(&pool->lock);
    while (!pool->stopping) {
        lookup *lk = pick(pool);
        dance_res_result *r;

        if (lk == NULL) {
            pool->idle++;
            pthread_cond_wait(&pool->work_cv, &pool->lock);
            pool->idle--;
            continue;
        }
        r = precheck(pool, lk);
        if (r == NULL) /* then this worker picks the next one itself */
            r = run(pool, lk, lk->deadline_ms, 1);
        complete(pool, lk, r);
        lookup_release(lk);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

/* spawn - start a thread of ours running fn(arg) into *tid: a small stack
 * (DANCE_ASYNC_STACK_BYTES, but the default in sanitizer builds), every
 * signal blocked. Returns 1, or 0 if it could not be created. */
static int spawn(pthread_t *tid, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    pthread_attr_t attr;
    int sized, ok;

    sized = !SANITIZED && pthread_attr_init(&attr) == 0;
    if (sized &&
        pthread_attr_setstacksize(&attr, DANCE_ASYNC_STACK_BYTES) != 0) {
        pthread_attr_destroy(&attr);
        sized = 0; /* the default stack then */
    }
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    ok = pthread_create(tid, sized ? &attr : NULL, fn, arg) == 0;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (sized)
        pthread_attr_destroy(&attr);
    return ok;
}

/* ensure_worker - start a worker if the idle ones are fewer than the
 * lookups queued and the cap allows; pool->lock held. (Not "if none is
 * idle": idle workers may be idle because their site is at its share,
 * and a storm under another site must still get workers of its own.)
 * Workers block every signal: the application's signal handling (nginx
 * relies on it) must never land on our threads. */
static void ensure_worker(dance_async *pool)
{
    if (pool->stopping || pool->idle >= pool->queued ||
        pool->threads >= pool->max_threads)
        return;
    if (spawn(&pool->tids[pool->threads], worker, pool))
        pool->threads++;
}

/* ---- fork --------------------------------------------------------------- */

/* init_sync - make the pool's lock and condition variable. */
static void init_sync(dance_async *pool)
{
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->work_cv, NULL);
}

/* cond_init_monotonic - make cv, whose timed waits use CLOCK_MONOTONIC
 * (the clock of dance_net_now_ms and every deadline here). */
static void cond_init_monotonic(pthread_cond_t *cv)
{
    pthread_condattr_t attr;

    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(cv, &attr);
    pthread_condattr_destroy(&attr);
}

/* init_done - make lk's condition variable (joiners wait on it). */
static void init_done(lookup *lk)
{
    cond_init_monotonic(&lk->done);
}

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

/* interrupt - in the fork child: lk belonged to the parent's threads. */
static void interrupt(dance_async *pool, lookup *lk)
{
    lk->forked = 1;
    lk->shareable = 0;
    init_done(lk); /* the parent's joiners may have been waiting on it */
    lk->state = LK_DONE;
    lookup_release(lk); /* the queue's or the parent worker's */
    (void)pool;
}

static void prewarm_atfork_child(dance_async *pool);

/* atfork_child - start clean: new locks and condition variables, no
 * workers, nothing queued or in flight. */
static void atfork_child(void)
{
    pthread_mutex_init(&registry_lock, NULL);
    for (dance_async *p = registry; p != NULL; p = p->next_pool) {
        lookup *lk, *next;

        for (lk = p->running; lk != NULL; lk = next) {
            next = lk->next;
            interrupt(p, lk);
        }
        for (lk = p->head; lk != NULL; lk = next) {
            next = lk->next;
            interrupt(p, lk);
        }
        p->running = p->head = p->tail = p->active = NULL;
        p->queued = 0;
        p->nsites = 0;
        p->threads = 0;
        p->idle = 0;
        dance_res_atfork_child(p->res);
        init_sync(p);
        prewarm_atfork_child(p);
    }
}

/* install_atfork - register the handlers once per process. */
static void install_atfork(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/* ---- pool --------------------------------------------------------------- */

/* dance_async_new - see header. */
dance_async *dance_async_new(dance_res *res, unsigned max_threads)
{
    dance_async *pool = calloc(1, sizeof(*pool));

    if (pool == NULL || max_threads == 0)
        goto err;
    pool->tids = calloc(max_threads, sizeof(*pool->tids));
    pool->sites = calloc(max_threads, sizeof(*pool->sites));
    if (pool->tids == NULL || pool->sites == NULL)
        goto err;
    pool->res = res;
    pool->max_threads = max_threads;
    pool->site_limit = max_threads / 2 > 0 ? max_threads / 2 : 1;
    atomic_init(&pool->immediate, 0);
    init_sync(pool);
    pthread_once(&atfork_once, install_atfork);
    pthread_mutex_lock(&registry_lock);
    pool->next_pool = registry;
    registry = pool;
    pthread_mutex_unlock(&registry_lock);
    return pool;
err:
    if (pool != NULL) {
        free(pool->tids);
        free(pool->sites);
    }
    free(pool);
    return NULL;
}

static void prewarm_stop(dance_async *pool);

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
    prewarm_stop(pool); /* may hand lookups to the workers: before them */
    for (unsigned i = 0; i < n; i++)
        pthread_join(pool->tids[i], NULL);
    while (pool->head != NULL) { /* refreshes nobody ran */
        lookup *lk = pool->head;

        pool->head = lk->next;
        lookup_release(lk);
    }
    pthread_cond_destroy(&pool->work_cv);
    pthread_mutex_destroy(&pool->lock);
    free(pool->tids);
    free(pool->sites);
    free(pool);
}

/* lookup_new - a lookup of (name, type), not yet queued (one reference,
 * the queue's), or NULL when memory runs out. */
static lookup *lookup_new(const char *name, uint16_t type, time_t now)
{
    lookup *lk = calloc(1, sizeof(*lk));

    if (lk == NULL || (lk->name = strdup(name)) == NULL ||
        (lk->key = make_key(name)) == NULL) {
        if (lk != NULL)
            free(lk->name);
        free(lk);
        return NULL;
    }
    lk->site = site_of(lk->key);
    lk->zone = zone_of(lk->key);
    lk->type = type;
    lk->now = now;
    lk->refs = 1;
    atomic_init(&lk->cancelled, 0);
    init_done(lk);
    return lk;
}

/* enqueue - queue lk (shareable unless a refresh), and with wake, see
 * that a worker comes for it; lock held. */
static void enqueue(dance_async *pool, lookup *lk, int wake)
{
    lk->state = LK_QUEUED;
    if (!lk->refresh) {
        lk->shareable = 1;
        lk->next_active = pool->active;
        pool->active = lk;
    }
    if (pool->tail != NULL)
        pool->tail->next = lk;
    else
        pool->head = lk;
    pool->tail = lk;
    pool->queued++;
    if (!wake)
        return;
    ensure_worker(pool);
    pthread_cond_signal(&pool->work_cv);
}

/* queue_refusal - why lk may not be queued now (into why), or NULL if it
 * may; lock held. */
static const char *queue_refusal(dance_async *pool, const lookup *lk, char *why,
                                 size_t len)
{
    size_t same = 0;

    if (pool->queued >= DANCE_ASYNC_MAX_QUEUED) {
        snprintf(why, len, "lookup queue full (%d lookups waiting)",
                 DANCE_ASYNC_MAX_QUEUED);
        return why;
    }
    for (const lookup *q = pool->head; q != NULL; q = q->next)
        same += strcmp(q->site, lk->site) == 0;
    if (same >= DANCE_ASYNC_MAX_QUEUED_PER_SITE) {
        snprintf(why, len, "too many lookups waiting under %s (%d)", lk->site,
                 DANCE_ASYNC_MAX_QUEUED_PER_SITE);
        return why;
    }
    return NULL;
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

/* pending - is a lookup of (key, type) on its way: shareable, or a queued
 * or running refresh? Lock held. */
static int pending(const dance_async *pool, const char *key, uint16_t type)
{
    for (const lookup *a = pool->active; a != NULL; a = a->next_active)
        if (a->type == type && strcmp(a->key, key) == 0)
            return 1;
    for (const lookup *q = pool->head; q != NULL; q = q->next)
        if (q->refresh && q->type == type && strcmp(q->key, key) == 0)
            return 1;
    for (const lookup *q = pool->running; q != NULL; q = q->next)
        if (q->refresh && q->type == type && strcmp(q->key, key) == 0)
            return 1;
    return 0;
}

/* schedule_refresh - queue one refresh of (name, type) unless a lookup of
 * it is pending already or the queue has no room. */
static void schedule_refresh(dance_async *pool, const char *name, uint16_t type)
{
    lookup *lk = lookup_new(name, type, 0);
    char why[WHY_LEN];

    if (lk == NULL)
        return;
    lk->refresh = 1;
    pthread_mutex_lock(&pool->lock);
    if (pending(pool, lk->key, type) ||
        queue_refusal(pool, lk, why, sizeof(why)) != NULL) {
        lookup_release(lk);
        pthread_mutex_unlock(&pool->lock);
        return;
    }
    enqueue(pool, lk, 1); /* the queue holds the only reference */
    pool->stats.refreshes++;
    pthread_mutex_unlock(&pool->lock);
}

/* dance_async_get_stats - see header. */
void dance_async_get_stats(dance_async *pool, dance_async_stats *out)
{
    pthread_mutex_lock(&pool->lock);
    *out = pool->stats;
    out->immediate = atomic_load(&pool->immediate);
    out->pending = pool->queued;
    pthread_mutex_unlock(&pool->lock);
}

/* start - dance_async_start; with wake 0, no worker is called for a
 * lookup queued (its asker's join runs it). */
static dance_res_job *start(dance_async *pool, const char *name, uint16_t type,
                            time_t now, int wake)
{
    dance_res_job *job = calloc(1, sizeof(*job));
    lookup *lk = NULL;
    char why[WHY_LEN + 80];

    if (job == NULL)
        return NULL;
    job->pool = pool;
    job->deadline_ms = dance_net_now_ms() + dance_res_deadline_ms(pool->res);
    job->result = dance_res_lookup_cached(pool->res, name, type, now, 1);
    if (job->result != NULL) { /* the hot path: no lock, no thread */
        job->from_cache = 1;
        if (needs_refresh(job->result, now))
            schedule_refresh(pool, name, type);
        atomic_fetch_add_explicit(&pool->immediate, 1, memory_order_relaxed);
        return job;
    }
    lk = lookup_new(name, type, now);
    if (lk == NULL) {
        free(job);
        return NULL;
    }
    pthread_mutex_lock(&pool->lock);
    job->result = failing_result(pool, name, lk->zone, type, now);
    if (job->result != NULL)
        goto answered;
    for (lookup *a = pool->active; a != NULL; a = a->next_active)
        if (a->type == type && strcmp(a->key, lk->key) == 0) {
            a->refs++; /* share the pending lookup */
            if (a->askers++ == 0)
                atomic_store(&a->cancelled, 0); /* asked for again */
            if (a->deadline_ms < job->deadline_ms)
                a->deadline_ms = job->deadline_ms;
            job->lk = a;
            pool->stats.shared++;
            goto answered;
        }
    if (queue_refusal(pool, lk, why, sizeof(why)) != NULL) {
        pool->stats.refused++;
        job->result = dance_res_result_new(name, type, DANCE_RES_INDETERMINATE,
                                           NULL, 0, now, why);
        if (job->result == NULL) {
            lookup_release(lk);
            pthread_mutex_unlock(&pool->lock);
            free(job);
            return NULL;
        }
        goto answered;
    }
    lk->refs++; /* the queue's, and the job's below */
    lk->askers = 1;
    lk->deadline_ms = job->deadline_ms;
    job->lk = lk;
    enqueue(pool, lk, wake);
    pool->stats.queued++;
    pthread_mutex_unlock(&pool->lock);
    return job;
answered:
    lookup_release(lk); /* not needed */
    pthread_mutex_unlock(&pool->lock);
    return job;
}

/* dance_async_start - see header. */
dance_res_job *dance_async_start(dance_async *pool, const char *name,
                                 uint16_t type, time_t now)
{
    return start(pool, name, type, now, 1);
}

/* dance_async_start_joined - see header. */
dance_res_job *dance_async_start_joined(dance_async *pool, const char *name,
                                        uint16_t type, time_t now)
{
    return start(pool, name, type, now, 0);
}

/* dance_res_job_from_cache - see header. */
int dance_res_job_from_cache(const dance_res_job *job)
{
    return job != NULL && job->from_cache;
}

/* dance_res_job_timed_out - see header. */
int dance_res_job_timed_out(const dance_res_job *job)
{
    return job != NULL && job->timed_out;
}

/* dance_res_job_join - see header. */
dance_res_result *dance_res_job_join(dance_res_job *job)
{
    dance_async *pool = job->pool;
    lookup *lk = job->lk;
    struct timespec ts = {.tv_sec = (time_t)(job->deadline_ms / 1000),
                          .tv_nsec =
                              (long)(job->deadline_ms % 1000) * 1000000L};
    dance_res_result *r = NULL;
    int forked = 0, done;
    char why[WHY_LEN];

    if (lk == NULL) {
        r = job->result; /* immutable */
        if (r != NULL)
            dance_res_result_up_ref(r);
        return r;
    }
    pthread_mutex_lock(&pool->lock);
    if (lk->state == LK_QUEUED && dance_net_now_ms() < job->deadline_ms &&
        unlink_from(&pool->head, &pool->tail, lk)) {
        /* No worker has taken it: run it here rather than wait for one
         * (never past this asker's own deadline). */
        dance_res_result *own = precheck(pool, lk);

        pool->queued--;
        pool->stats.joiner_runs++;
        if (own == NULL)
            own = run(pool, lk,
                      lk->deadline_ms < job->deadline_ms ? lk->deadline_ms
                                                         : job->deadline_ms,
                      0);
        complete(pool, lk, own);
        lk->refs--; /* the queue's; this job's keeps lk alive */
    }
    if (lk->state != LK_DONE && pool->threads == 0)
        ensure_worker(pool);
    while (lk->state != LK_DONE)
        if (pthread_cond_timedwait(&lk->done, &pool->lock, &ts) == ETIMEDOUT)
            break;
    done = lk->state == LK_DONE;
    if (done) {
        r = lk->result; /* immutable once done */
        if (r != NULL)
            dance_res_result_up_ref(r);
        forked = lk->forked;
    }
    pthread_mutex_unlock(&pool->lock);
    if (r != NULL)
        return r;
    if (forked)
        snprintf(why, sizeof(why),
                 "lookup was in flight in the parent process at fork()");
    else if (done)
        return NULL; /* out of memory */
    else {
        job->timed_out = 1;
        snprintf(why, sizeof(why),
                 "no answer within the lookup deadline (%u ms)",
                 dance_res_deadline_ms(pool->res));
    }
    return dance_res_result_new(lk->name, lk->type, DANCE_RES_INDETERMINATE,
                                NULL, 0, lk->now, why);
}

/* dance_res_job_free - see header. */
void dance_res_job_free(dance_res_job *job)
{
    dance_async *pool;
    lookup *lk;

    if (job == NULL)
        return;
    pool = job->pool;
    lk = job->lk;
    if (lk == NULL) {
        dance_res_result_free(job->result);
        free(job);
        return;
    }
    pthread_mutex_lock(&pool->lock);
    if (--lk->askers == 0 && lk->state != LK_DONE) {
        /* Nobody waits for it any more: a queued lookup is dropped; a
         * running one is not retried (and revived if asked for again). */
        atomic_store(&lk->cancelled, 1);
        pool->stats.cancelled++;
        if (lk->state == LK_QUEUED &&
            unlink_from(&pool->head, &pool->tail, lk)) {
            unshare(pool, lk);
            pool->queued--;
            lk->state = LK_DONE;
            /* The queue's reference; the job's, released below, keeps
             * lk alive, so this one never frees it. */
            lk->refs--;
        }
    }
    lookup_release(lk); /* the job's */
    pthread_mutex_unlock(&pool->lock);
    free(job);
}

/* ---- warming a known population ------------------------------------------ */

/* A name with no usable answer (indeterminate, or none) is tried again
 * after this long, ms; one somebody else is looking up is looked at again
 * after PREWARM_RECHECK_MS. */
#define PREWARM_RETRY_MS 5000
#define PREWARM_RECHECK_MS 1000

struct prewarm {
    char **names;
    size_t n;
    uint16_t type;
    uint64_t *due_ms;  /* per name: when to look at it again (monotonic
                          ms); 0: at once */
    pthread_cond_t cv; /* the thread sleeps here (monotonic clock) */
    pthread_t tid;
    int running; /* the thread exists; under pool->lock */
    size_t window;
};

/* prewarm_free - free pw (its thread has ended); NULL is fine. */
static void prewarm_free(prewarm *pw)
{
    if (pw == NULL)
        return;
    for (size_t i = 0; pw->names != NULL && i < pw->n; i++)
        free(pw->names[i]);
    free(pw->names);
    free(pw->due_ms);
    pthread_cond_destroy(&pw->cv);
    free(pw);
}

/* window_size - names whose first queries go out at once: one socket each,
 * so at most an eighth of the process's descriptor limit, and at most
 * DANCE_ASYNC_PREWARM_BATCH. */
static size_t window_size(void)
{
    struct rlimit rl;
    size_t w = DANCE_ASYNC_PREWARM_BATCH;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur / 8 < w)
        w = (size_t)(rl.rlim_cur / 8);
    return w > 0 ? w : 1;
}

/* dance_async_set_prewarm - see header. */
int dance_async_set_prewarm(dance_async *pool, const char *const *names,
                            size_t n, uint16_t type)
{
    prewarm *pw;

    if (n == 0)
        return 1;
    if (pool->pw != NULL || (pw = calloc(1, sizeof(*pw))) == NULL)
        return 0;
    pw->names = calloc(n, sizeof(*pw->names));
    pw->due_ms = calloc(n, sizeof(*pw->due_ms));
    pw->n = n;
    pw->type = type;
    pw->window = window_size();
    cond_init_monotonic(&pw->cv);
    if (pw->names == NULL || pw->due_ms == NULL)
        goto err;
    for (size_t i = 0; i < n; i++)
        if ((pw->names[i] = strdup(names[i])) == NULL)
            goto err;
    pool->pw = pw;
    return 1;
err:
    prewarm_free(pw);
    return 0;
}

/* due_after - when a name answered with r (at wall clock wall, monotonic
 * now_ms) is next looked at: at the start of the last tenth of its life,
 * as needs_refresh; PREWARM_RETRY_MS when it has no life (not cached). */
static uint64_t due_after(const dance_res_result *r, time_t wall,
                          uint64_t now_ms)
{
    time_t ttl, window, at;

    if (r == NULL || dance_res_result_status(r) == DANCE_RES_INDETERMINATE ||
        dance_res_result_ttl(r) == 0)
        return now_ms + PREWARM_RETRY_MS;
    ttl = (time_t)dance_res_result_ttl(r);
    window = ttl / 10 > 1 ? ttl / 10 : 1;
    at = dance_res_result_expires(r) - window;
    return now_ms + (at > wall ? (uint64_t)(at - wall) * 1000u : 1000u);
}

/* prewarm_claim - name i is due: NULL when it needs no query now (cached
 * and not near its end, or somebody is looking it up: its due time is
 * moved on), else a lookup of it, running, shareable with handshakes that
 * ask for the name meanwhile, holding one reference (the warmer's); *fresh
 * says whether it renews a cached answer. Lock held. */
static lookup *prewarm_claim(dance_async *pool, size_t i, uint64_t now_ms,
                             time_t wall, int *fresh)
{
    prewarm *pw = pool->pw;
    dance_res_result *c =
        dance_res_lookup_cached(pool->res, pw->names[i], pw->type, wall, 0);
    lookup *lk;

    *fresh = c != NULL;
    if (c != NULL && !needs_refresh(c, wall)) {
        pw->due_ms[i] = due_after(c, wall, now_ms);
        dance_res_result_free(c);
        return NULL;
    }
    dance_res_result_free(c);
    lk = lookup_new(pw->names[i], pw->type, wall);
    if (lk == NULL || pending(pool, lk->key, lk->type)) {
        if (lk != NULL)
            lookup_release(lk);
        pw->due_ms[i] = now_ms + PREWARM_RECHECK_MS;
        return NULL;
    }
    lk->deadline_ms = now_ms + dance_res_deadline_ms(pool->res);
    lk->state = LK_RUNNING;
    lk->next = pool->running;
    pool->running = lk;
    lk->shareable = 1;
    lk->next_active = pool->active;
    pool->active = lk;
    return lk;
}

/* prewarm_finish - the warmer is done with lk (name i): answered with r
 * (owned), or, when it has no answer and was not looked up (unanswered),
 * handed to the workers to be looked up the ordinary way (retries, TCP,
 * the other servers) if the queue has room and the pool is not stopping;
 * run here if handshakes wait for it; else given up until its next turn.
 * Lock held. */
static void prewarm_finish(dance_async *pool, size_t i, lookup *lk,
                           dance_res_result *r, int unanswered, int fresh)
{
    prewarm *pw = pool->pw;
    uint64_t now_ms = dance_net_now_ms();
    char why[WHY_LEN];

    unlink_from(&pool->running, NULL, lk);
    if (unanswered) {
        pw->due_ms[i] = now_ms + PREWARM_RECHECK_MS;
        if (!pool->stopping &&
            queue_refusal(pool, lk, why, sizeof(why)) == NULL) {
            uint64_t deadline = now_ms + dance_res_deadline_ms(pool->res);

            pool->stats.prewarm_handed_over++;
            unshare(pool, lk);
            lk->refresh = fresh && lk->askers == 0;
            if (lk->deadline_ms < deadline)
                lk->deadline_ms = deadline;
            enqueue(pool, lk, 1); /* the warmer's reference: the queue's */
            return;
        }
        if (lk->askers > 0 && !pool->stopping)
            r = run(pool, lk, lk->deadline_ms, 0);
        else
            r = dance_res_result_new(lk->name, lk->type,
                                     DANCE_RES_INDETERMINATE, NULL, 0, lk->now,
                                     "not warmed: no answer to its batch, "
                                     "and no room in the lookup queue");
    } else {
        pool->stats.prewarmed++;
    }
    if (!unanswered || r != NULL)
        pw->due_ms[i] = due_after(r, time(NULL), dance_net_now_ms());
    complete(pool, lk, r);
    lookup_release(lk);
}

typedef struct {
    dance_async *pool;
    size_t *idx;
    lookup **lks;
    int *fresh;
    unsigned char *answered;
} prewarm_round;

/* prewarm_answered - the batch answered name j of the round: finish its
 * lookup (dance_res_batch_fn). */
static void prewarm_answered(void *arg, size_t j, dance_res_result *r)
{
    prewarm_round *w = arg;

    w->answered[j] = 1;
    pthread_mutex_lock(&w->pool->lock);
    prewarm_finish(w->pool, w->idx[j], w->lks[j], r, 0, w->fresh[j]);
    pthread_mutex_unlock(&w->pool->lock);
}

/* prewarm_main - the warmer: look up the due names, a window at a time
 * (their first queries at once), then sleep until the next is due. */
static void *prewarm_main(void *arg)
{
    dance_async *pool = arg;
    prewarm *pw = pool->pw;
    prewarm_round w = {.pool = pool,
                       .idx = calloc(pw->window, sizeof(*w.idx)),
                       .lks = calloc(pw->window, sizeof(*w.lks)),
                       .fresh = calloc(pw->window, sizeof(*w.fresh)),
                       .answered = calloc(pw->window, 1)};
    const char **names = calloc(pw->window, sizeof(*names));

    pthread_mutex_lock(&pool->lock);
    while (!pool->stopping && w.idx != NULL && w.lks != NULL &&
           w.fresh != NULL && w.answered != NULL && names != NULL) {
        uint64_t now_ms = dance_net_now_ms(), next = now_ms + 3600000u;
        time_t wall = time(NULL);
        size_t k = 0;

        for (size_t i = 0; i < pw->n && k < pw->window; i++) {
            if (pw->due_ms[i] <= now_ms &&
                (w.lks[k] = prewarm_claim(pool, i, now_ms, wall,
                                          &w.fresh[k])) != NULL) {
                w.idx[k] = i;
                w.answered[k] = 0;
                names[k] = w.lks[k]->name;
                k++;
            } else if (pw->due_ms[i] < next) {
                next = pw->due_ms[i];
            }
        }
        if (k == 0) {
            struct timespec ts = {.tv_sec = (time_t)(next / 1000),
                                  .tv_nsec = (long)(next % 1000) * 1000000L};

            pthread_cond_timedwait(&pw->cv, &pool->lock, &ts);
            continue;
        }
        pthread_mutex_unlock(&pool->lock);
        dance_res_batch(pool->res, names, k, pw->type, wall, w.fresh,
                        prewarm_answered, &w);
        pthread_mutex_lock(&pool->lock);
        for (size_t j = 0; j < k; j++)
            if (!w.answered[j])
                prewarm_finish(pool, w.idx[j], w.lks[j], NULL, 1, w.fresh[j]);
    }
    pthread_mutex_unlock(&pool->lock);
    free(w.idx);
    free(w.lks);
    free(w.fresh);
    free(w.answered);
    free(names);
    return NULL;
}

/* dance_async_prewarm_start - see header. */
void dance_async_prewarm_start(dance_async *pool)
{
    if (pool->pw == NULL || atomic_load(&pool->pw_started))
        return;
    pthread_mutex_lock(&pool->lock);
    if (!pool->pw->running && !pool->stopping &&
        spawn(&pool->pw->tid, prewarm_main, pool))
        pool->pw->running = 1;
    atomic_store(&pool->pw_started, 1); /* once per process, even failed */
    pthread_mutex_unlock(&pool->lock);
}

/* prewarm_stop - end the warmer's thread (pool->stopping is set) and
 * free its state. */
static void prewarm_stop(dance_async *pool)
{
    int running;

    if (pool->pw == NULL)
        return;
    pthread_mutex_lock(&pool->lock);
    running = pool->pw->running;
    pthread_cond_broadcast(&pool->pw->cv);
    pthread_mutex_unlock(&pool->lock);
    if (running)
        pthread_join(pool->pw->tid, NULL);
    prewarm_free(pool->pw);
    pool->pw = NULL;
}

/* prewarm_atfork_child - the warmer's thread stayed in the parent: the
 * child starts its own on its first dance_async_prewarm_start. Names it
 * had in flight keep their due times (already past): asked again. */
static void prewarm_atfork_child(dance_async *pool)
{
    if (pool->pw == NULL)
        return;
    pool->pw->running = 0;
    cond_init_monotonic(&pool->pw->cv);
    atomic_store(&pool->pw_started, 0);
}
