/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_stats.c - the stats file (see dance_stats.h): a writer thread,
 * its fork and exit handling, and the Prometheus text it writes.
 *
 * The counters themselves are atomics kept where things happen (the SSL
 * hooks' decisions in ext/dance_ext_stats.c, lookups in the resolver and
 * the lookup pool); this file only reads them, off the handshake path.
 *
 * fork(): like the lookup pool (resolver/dance_async.c), the handlers are
 * installed with pthread_atfork once per process. The prepare handler
 * takes the write lock (no child inherits it held mid-write), the parent
 * releases it; the child makes it new, takes the counters as they stand
 * as its baseline (a child counts from zero), and starts a writer thread
 * of its own, which writes the child's own file. The child handler runs
 * after the lookup pool's (registered before ours), whose locks are then
 * usable again.
 */
#include "dance_stats.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dance_ext_stats.h"
#include "dance_log.h"

/* Everything the file shows, read at one time. */
typedef struct {
    dance_ext_stats ext;
    dance_res_stats res;
    dance_async_stats pool;
} snapshot;

/* The writer's state: one per process, set once by dance_stats_start
 * (under lock), then read by the writer thread and the handlers. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;
static char *pattern;           /* NULL: not started */
static dance_res *stats_res;    /* borrowed */
static dance_async *stats_pool; /* borrowed */
static snapshot baseline;       /* counted before this process (fork) */
static int stopped;             /* the process is exiting: no more writes */
static int failing;             /* the last write failed (logged once) */

/* dance_stats_path - see header. */
int dance_stats_path(const char *pat, pid_t pid, char *out, size_t len)
{
    const char *base, *dot;
    size_t used = 0, at;
    int has_pid = 0;

    if (len == 0)
        return 0;
    out[0] = '\0';

    for (const char *p = pat; *p != '\0'; p++) {
        int n;

        if (*p != '%') {
            n = snprintf(out + used, len - used, "%c", *p);
        } else if (p[1] == 'p') {
            n = snprintf(out + used, len - used, "%ld", (long)pid);
            has_pid = 1;
            p++;
        } else if (p[1] == '%') {
            n = snprintf(out + used, len - used, "%%");
            p++;
        } else {
            return 0;
        }
        if (n < 0 || (size_t)n >= len - used)
            return 0;
        used += (size_t)n;
    }
    if (has_pid)
        return 1;
    /* No %p: ".<pid>" before the last component's extension. */
    base = strrchr(out, '/');
    base = base != NULL ? base + 1 : out;
    dot = strrchr(base, '.');
    at = dot != NULL && dot != base ? (size_t)(dot - out) : used;
    {
        char tail[PATH_MAX];
        int n;

        if (used - at >= sizeof(tail))
            return 0;
        memcpy(tail, out + at, used - at + 1);
        n = snprintf(out + at, len - at, ".%ld%s", (long)pid, tail);
        if (n < 0 || (size_t)n >= len - at)
            return 0;
    }
    return 1;
}

/* take - the counters now. */
static void take(snapshot *s, dance_res *res, dance_async *pool)
{
    memset(s, 0, sizeof(*s));
    dance_ext_stats_get(&s->ext);
    if (res != NULL)
        dance_res_get_stats(res, &s->res);
    if (pool != NULL)
        dance_async_get_stats(pool, &s->pool);
}

/* family - the HELP and TYPE lines of a metric. */
static void family(FILE *out, const char *name, const char *type,
                   const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* sample - one line: name{pid="pid"[,label="value"]} v. */
static void sample(FILE *out, const char *name, pid_t pid, const char *label,
                   const char *value, unsigned long long v)
{
    if (label != NULL)
        fprintf(out, "%s{pid=\"%ld\",%s=\"%s\"} %llu\n", name, (long)pid, label,
                value, v);
    else
        fprintf(out, "%s{pid=\"%ld\"} %llu\n", name, (long)pid, v);
}

/* counter - a counter without labels: now - then; added to *sum. */
static void counter(FILE *out, const char *name, const char *help, pid_t pid,
                    uint64_t now, uint64_t then, unsigned long long *sum)
{
    family(out, name, "counter", help);
    sample(out, name, pid, NULL, NULL, now - then);
    *sum += now - then;
}

/* applies - can decision d with reason r occur in role? Accepted: by
 * DANE or a resumed DANE session (a server's only by DANE); refused or
 * left to the application: for a client, every other reason but no_sni;
 * for a server, what a lookup of its TLSA RRset can end in. */
static int applies(dance_stats_role role, int d, int r)
{
    if (d == DANCE_DECISION_ACCEPTED)
        return r == DANCE_REASON_DANE ||
               (r == DANCE_REASON_RESUMED && role == DANCE_STATS_CLIENTS);
    if (r == DANCE_REASON_DANE || r == DANCE_REASON_RESUMED)
        return 0;
    if (role == DANCE_STATS_CLIENTS)
        return r != DANCE_REASON_NO_SNI;
    return r == DANCE_REASON_NO_SNI || r == DANCE_REASON_INTERNAL ||
           (r >= DANCE_REASON_NO_TLSA && r <= DANCE_REASON_KEY_MISMATCH);
}

/* decisions - dance_<role>_total{decision, reason}, every pair that can
 * occur (and any other that did). */
static void decisions(FILE *out, const char *name, const char *help,
                      dance_stats_role role, const snapshot *now,
                      const snapshot *then, pid_t pid, unsigned long long *sum)
{
    family(out, name, "counter", help);
    for (int d = 0; d < DANCE_DECISIONS; d++)
        for (int r = 0; r < DANCE_REASONS; r++) {
            uint64_t v =
                now->ext.count[role][d][r] - then->ext.count[role][d][r];

            if (v == 0 && !applies(role, d, r))
                continue;
            fprintf(out, "%s{pid=\"%ld\",decision=\"%s\",reason=\"%s\"} %llu\n",
                    name, (long)pid, dance_ext_decision_str((dance_decision)d),
                    dance_ext_reason_str((dance_reason)r),
                    (unsigned long long)v);
            *sum += v;
        }
}

/* render - dance_stats_render, counting from then. */
static unsigned long long render(FILE *out, dance_res *res, dance_async *pool,
                                 pid_t pid, const snapshot *then)
{
    static const char *const starts[] = {"cache", "queued", "shared",
                                         "queue_full", "zone_failing"};
    const dance_res_stats *r, *r0;
    const dance_async_stats *a, *a0;
    unsigned long long sum = 0;
    snapshot now;

    take(&now, res, pool);
    r = &now.res, r0 = &then->res, a = &now.pool, a0 = &then->pool;
    decisions(out, "dance_clients_total",
              "TLS clients judged by this server (client_auth), by "
              "decision (accepted by DANE, refused, fallback to the "
              "application's own verification) and reason.",
              DANCE_STATS_CLIENTS, &now, then, pid, &sum);
    decisions(out, "dance_servers_total",
              "TLS servers judged by this client (server_dane), by "
              "decision and reason.",
              DANCE_STATS_SERVERS, &now, then, pid, &sum);
    family(out, "dance_dns_lookups_total", "counter",
           "DNSSEC-validated lookups run by the resolver, by outcome "
           "(timeout: indeterminate because the last query went "
           "unanswered).");
    for (int i = 0; i < DANCE_RES_OUTCOMES; i++) {
        sample(out, "dance_dns_lookups_total", pid, "outcome",
               dance_res_outcome_str(i), r->outcomes[i] - r0->outcomes[i]);
        sum += r->outcomes[i] - r0->outcomes[i];
    }
    family(out, "dance_dns_queries_total", "counter",
           "DNS queries sent, by transport.");
    sample(out, "dance_dns_queries_total", pid, "transport", "udp",
           r->udp_queries - r0->udp_queries);
    sample(out, "dance_dns_queries_total", pid, "transport", "tcp",
           r->tcp_queries - r0->tcp_queries);
    sum += r->udp_queries - r0->udp_queries + r->tcp_queries - r0->tcp_queries;
    counter(out, "dance_cache_hits_total",
            "Cache lookups that found a live answer.", pid, r->cache.hits,
            r0->cache.hits, &sum);
    counter(out, "dance_cache_misses_total",
            "Cache lookups that found no usable answer.", pid, r->cache.misses,
            r0->cache.misses, &sum);
    counter(out, "dance_cache_evictions_total",
            "Cache entries dropped to stay within cache_max_entries or "
            "cache_max_bytes.",
            pid, r->cache.evictions, r0->cache.evictions, &sum);
    counter(out, "dance_cache_expirations_total",
            "Cache entries dropped because they had expired.", pid,
            r->cache.expirations, r0->cache.expirations, &sum);
    family(out, "dance_cache_entries", "gauge", "Answers in the cache now.");
    sample(out, "dance_cache_entries", pid, NULL, NULL, r->cache.entries);
    family(out, "dance_cache_bytes", "gauge",
           "What the cached answers cost now, bytes.");
    sample(out, "dance_cache_bytes", pid, NULL, NULL, r->cache.bytes);
    family(out, "dance_lookup_starts_total", "counter",
           "Lookups handshakes asked for, by how they were served "
           "(cache, queued for a worker, shared with a pending lookup, "
           "refused because the queue was full, answered at once because "
           "the zone is failing).");
    {
        const uint64_t v[] = {a->immediate - a0->immediate,
                              a->queued - a0->queued, a->shared - a0->shared,
                              a->refused - a0->refused,
                              a->failed_fast - a0->failed_fast};

        for (size_t i = 0; i < sizeof(starts) / sizeof(starts[0]); i++) {
            sample(out, "dance_lookup_starts_total", pid, "served", starts[i],
                   v[i]);
            sum += v[i];
        }
    }
    counter(out, "dance_lookup_refreshes_total",
            "Background renewals of answers in use.", pid, a->refreshes,
            a0->refreshes, &sum);
    counter(out, "dance_lookup_joiner_runs_total",
            "Lookups a waiting handshake ran on its own thread (no worker "
            "had taken them).",
            pid, a->joiner_runs, a0->joiner_runs, &sum);
    counter(out, "dance_prewarm_lookups_total",
            "Lookups of prewarm_file names answered from a batch (their "
            "first queries sent together), first ones and renewals.",
            pid, a->prewarmed, a0->prewarmed, &sum);
    counter(out, "dance_prewarm_handed_over_total",
            "Lookups of prewarm_file names their batch got no usable "
            "answer for, given to the workers (retries, TCP, other "
            "servers).",
            pid, a->prewarm_handed_over, a0->prewarm_handed_over, &sum);
    family(out, "dance_lookup_queue_depth", "gauge",
           "Lookups waiting for a worker now.");
    sample(out, "dance_lookup_queue_depth", pid, NULL, NULL, a->pending);
    counter(out, "dance_dnssec_signature_checks_total", "RRSIG verifications.",
            pid, r->sig_checks, r0->sig_checks, &sum);
    counter(out, "dance_dnssec_budget_exhausted_total",
            "Lookups stopped by a validation work bound.", pid,
            r->budget_exhausted, r0->budget_exhausted, &sum);
    family(out, "dance_stats_timestamp_seconds", "gauge",
           "When this file was written, seconds since the epoch.");
    sample(out, "dance_stats_timestamp_seconds", pid, NULL, NULL,
           (unsigned long long)time(NULL));
    return sum;
}

/* dance_stats_render - see header. */
unsigned long long dance_stats_render(FILE *out, dance_res *res,
                                      dance_async *pool, pid_t pid)
{
    snapshot then;

    pthread_mutex_lock(&lock);
    then = baseline;
    pthread_mutex_unlock(&lock);
    return render(out, res, pool, pid, &then);
}

/* write_file - render into <path>.tmp and rename it over <path>; with
 * last set, remove the file instead when nothing was counted. Lock held.
 * Returns 1, or 0 with errno set. */
static int write_file(int last)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    unsigned long long sum;
    FILE *fp;
    int fd, ok;

    if (!dance_stats_path(pattern, getpid(), path, sizeof(path)) ||
        snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return 0;
    }
    /* A new file, never through a link someone else left at its name. */
    (void)unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return 0;
    fp = fdopen(fd, "w");
    if (fp == NULL) {
        close(fd);
        unlink(tmp);
        return 0;
    }
    sum = render(fp, stats_res, stats_pool, getpid(), &baseline);
    ok = fflush(fp) == 0 && !ferror(fp);
    ok = fclose(fp) == 0 && ok;
    if (ok && last && sum == 0) {
        unlink(tmp);
        return unlink(path) == 0 || errno == ENOENT;
    }
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;

        unlink(tmp);
        errno = e;
        return 0;
    }
    return 1;
}

/* write_now - write_file under the lock, logging the first failure of a
 * run of failures and the recovery. */
static void write_now(int last)
{
    pthread_mutex_lock(&lock);
    if (pattern != NULL && !stopped) {
        if (!write_file(last)) {
            if (!failing)
                dance_log(DANCE_LOG_WARN, "stats_file %s: cannot write: %s",
                          pattern, strerror(errno));
            failing = 1;
        } else if (failing) {
            dance_log(DANCE_LOG_WARN, "stats_file %s: written again", pattern);
            failing = 0;
        }
        stopped = last;
    }
    pthread_mutex_unlock(&lock);
}

/* writer - the thread: a write every DANCE_STATS_INTERVAL seconds. */
static void *writer(void *arg)
{
    (void)arg;
    for (;;) {
        struct timespec ts = {.tv_sec = DANCE_STATS_INTERVAL, .tv_nsec = 0};

        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        write_now(0);
    }
    return NULL;
}

/* start_writer - a detached writer thread that takes no signal (the
 * application's signal handling must never land on it). Returns 1 or 0. */
static int start_writer(void)
{
    sigset_t all, old;
    pthread_attr_t attr;
    pthread_t tid;
    int ok;

    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    ok = pthread_create(&tid, &attr, writer, NULL) == 0;
    pthread_attr_destroy(&attr);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return ok;
}

/* at_exit - the last write of this process (atexit). */
static void at_exit(void)
{
    write_now(1);
}

/* atfork_prepare, atfork_parent - hold the lock across fork(). */
static void atfork_prepare(void)
{
    pthread_mutex_lock(&lock);
}

static void atfork_parent(void)
{
    pthread_mutex_unlock(&lock);
}

/* atfork_child - the child counts from here and writes its own file. */
static void atfork_child(void)
{
    pthread_mutex_init(&lock, NULL);
    if (pattern == NULL || stopped)
        return;
    take(&baseline, stats_res, stats_pool);
    failing = 0;
    if (!start_writer())
        dance_log(DANCE_LOG_WARN,
                  "stats_file %s: no writer thread in process %ld", pattern,
                  (long)getpid());
}

/* install_handlers - fork and exit handlers, once per process. */
static void install_handlers(void)
{
    pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
    atexit(at_exit);
}

/* dance_stats_start - see header. */
int dance_stats_start(const char *pat, dance_res *res, dance_async *pool,
                      char *err, size_t errlen)
{
    char path[PATH_MAX];
    int ok = 0;

    if (!dance_stats_path(pat, getpid(), path, sizeof(path))) {
        snprintf(err, errlen,
                 "stats_file = %s is not valid (only %%p and %%%% may "
                 "follow a %%, and the name must fit in %d bytes)",
                 pat, PATH_MAX);
        return 0;
    }
    pthread_mutex_lock(&lock);
    if (pattern != NULL) {
        ok = 1;
        goto done;
    }
    pattern = strdup(pat);
    if (pattern == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    stats_res = res;
    stats_pool = pool;
    take(&baseline, res, pool);
    pthread_once(&handlers_once, install_handlers);
    ok = start_writer();
    if (!ok) {
        snprintf(err, errlen, "stats_file: cannot start the writer thread");
        free(pattern);
        pattern = NULL;
    }
done:
    pthread_mutex_unlock(&lock);
    return ok;
}
