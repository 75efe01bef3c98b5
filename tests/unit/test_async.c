/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_async.c - suite "async": background lookups (resolver/dance_async.c)
 * against a silent UDP "server" on loopback that counts the queries it
 * gets: sharing of pending lookups, timeouts, early release, and fork.
 * The flood tests add a real answering server (a thread with a UDP
 * socket, speaking DNS through ldns) that behaves per zone like the
 * servers of a DNS world: names containing "silent" (silent.test,
 * silent7.test) get no reply at all, "servfail" SERVFAIL, "slow" a reply
 * after SLOW_MS, any other name a TLSA answer with the AD bit (the resolver
 * runs in trust-ad mode, which believes AD from a loopback server).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dance_async.h"
#include "dance_net.h"
#include "dance_test.h"

static int silent_fd = -1; /* bound, never answers */
static char anchor_path[64];
static char servers[64];

static int setup(void)
{
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);
    FILE *fp;
    int fd;

    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    silent_fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (silent_fd < 0 ||
        bind(silent_fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
        getsockname(silent_fd, (struct sockaddr *)&sin, &len) != 0)
        return 1;
    fcntl(silent_fd, F_SETFL, O_NONBLOCK);
    snprintf(servers, sizeof(servers), "127.0.0.1@%u", ntohs(sin.sin_port));
    strcpy(anchor_path, "/tmp/dance-async-anchor-XXXXXX");
    fd = mkstemp(anchor_path);
    fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (fp == NULL)
        return 1;
    fputs("test. IN DS 12345 13 2 "
          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n",
          fp);
    fclose(fp);
    return 0;
}

static int teardown(void)
{
    close(silent_fd);
    unlink(anchor_path);
    return 0;
}

/* drain - the number of queries the silent server got since last time. */
static int drain(void)
{
    char buf[2048];
    int n = 0;

    while (recv(silent_fd, buf, sizeof(buf), 0) > 0)
        n++;
    return n;
}

/* new_res - a validating resolver that asks the silent server, once, for
 * at most deadline_ms. */
static dance_res *new_res(unsigned deadline_ms)
{
    dance_res_config cfg;
    char err[256];
    dance_res *res;

    dance_res_config_init(&cfg);
    cfg.nameservers = servers;
    cfg.trust_anchor = anchor_path;
    cfg.timeout_ms = deadline_ms;
    cfg.deadline_ms = deadline_ms;
    cfg.attempts = 1;
    res = dance_res_new(&cfg, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(res);
    return res;
}

static void test_shared_pending_lookup(void)
{
    dance_res *res = new_res(300);
    dance_async *pool = dance_async_new(res, 4);
    dance_res_job *jobs[50];

    drain();
    for (int i = 0; i < 50; i++)
        jobs[i] = dance_async_start(pool, "_c.dev1.example.test",
                                    LDNS_RR_TYPE_TLSA, 1800000000);
    for (int i = 0; i < 50; i++) {
        dance_res_result *r = dance_res_job_join(jobs[i]);

        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        CU_ASSERT_EQUAL(dance_res_result_status(r), DANCE_RES_INDETERMINATE);
        dance_res_result_free(r);
        dance_res_job_free(jobs[i]);
    }
    /* Fifty askers, one question on the wire. */
    CU_ASSERT_EQUAL(drain(), 1);
    /* A failure is not cached, but its zone is remembered as failing for
     * a moment: the next asker is answered at once, without a query.
     * (The joins end at the deadline, as the worker does: let it record.) */
    usleep(100 * 1000);
    jobs[0] = dance_async_start(pool, "_c.dev1.example.test", LDNS_RR_TYPE_TLSA,
                                1800000000);
    {
        dance_res_result *r = dance_res_job_join(jobs[0]);

        CU_ASSERT_PTR_NOT_NULL_FATAL(r);
        CU_ASSERT_EQUAL(dance_res_result_status(r), DANCE_RES_INDETERMINATE);
        CU_ASSERT_PTR_NOT_NULL(
            strstr(dance_res_result_get0_why(r), "failed recently"));
        dance_res_result_free(r);
    }
    dance_res_job_free(jobs[0]);
    CU_ASSERT_EQUAL(drain(), 0);
    dance_async_free(pool);
    dance_res_free(res);
}

static void test_distinct_names(void)
{
    dance_res *res = new_res(200);
    dance_async *pool = dance_async_new(res, 2);
    dance_res_job *a, *b;

    drain();
    /* (in two zones: a failing zone is remembered) */
    a = dance_async_start(pool, "a.one.test", LDNS_RR_TYPE_TLSA, 1);
    b = dance_async_start(pool, "b.two.test", LDNS_RR_TYPE_TLSA, 1);
    CU_ASSERT_PTR_NOT_EQUAL(a, b);
    dance_res_result_free(dance_res_job_join(a));
    dance_res_result_free(dance_res_job_join(b));
    /* Joining twice gives the same answer again. */
    {
        dance_res_result *r = dance_res_job_join(a);

        CU_ASSERT_PTR_NOT_NULL(r);
        dance_res_result_free(r);
    }
    dance_res_job_free(a);
    dance_res_job_free(b);
    CU_ASSERT_EQUAL(drain(), 2);
    dance_async_free(pool);
    dance_res_free(res);
}

static void test_release_before_done(void)
{
    dance_res *res = new_res(200);
    dance_async *pool = dance_async_new(res, 1);

    /* Dropped at once: the worker finishes it and frees it (ASan checks
     * that nothing leaks or is used after free). */
    for (int i = 0; i < 5; i++)
        dance_res_job_free(
            dance_async_start(pool, "gone.example.test", LDNS_RR_TYPE_TLSA, 1));
    dance_async_free(pool);
    dance_res_free(res);
    drain();
}

static void test_fork(void)
{
    dance_res *res = new_res(200);
    dance_async *pool = dance_async_new(res, 2);
    dance_res_job *job;
    pid_t pid;
    int status = -1;

    /* Workers exist in the parent before the fork... */
    job = dance_async_start(pool, "parent.example.test", LDNS_RR_TYPE_TLSA, 1);
    dance_res_result_free(dance_res_job_join(job));
    dance_res_job_free(job);
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        /* ...and the child, which has none, still gets its answer. */
        dance_res_job *j =
            dance_async_start(pool, "child.example.test", LDNS_RR_TYPE_TLSA, 1);
        dance_res_result *r = dance_res_job_join(j);
        int ok = r != NULL &&
                 dance_res_result_status(r) == DANCE_RES_INDETERMINATE &&
                 strstr(dance_res_result_get0_why(r), "did not finish") == NULL;

        _exit(ok ? 0 : 1);
    }
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    dance_async_free(pool);
    dance_res_free(res);
    drain();
}

/* ---- a real answering server ------------------------------------------ */

#define SLOW_MS 700
#define MAX_DELAYED 128

typedef struct {
    int fd;
    char addr[64]; /* "127.0.0.1@PORT" */
    pthread_t tid;
    atomic_int stop;
    atomic_int silent_queries, servfail_queries, slow_queries, good_queries;
} answer_server;

typedef struct {
    uint8_t *wire;
    size_t len;
    struct sockaddr_storage peer;
    socklen_t plen;
    uint64_t due;
} delayed;

/* build_reply - the reply to query q (caller frees), or NULL: silence. */
static ldns_pkt *build_reply(answer_server *srv, const ldns_pkt *q, int *slow)
{
    const ldns_rr *qrr = ldns_rr_list_rr(ldns_pkt_question(q), 0);
    char *qs = qrr != NULL ? ldns_rdf2str(ldns_rr_owner(qrr)) : NULL;
    ldns_pkt *r = NULL;

    *slow = 0;
    if (qs == NULL)
        return NULL;
    if (strstr(qs, "silent") != NULL) {
        atomic_fetch_add(&srv->silent_queries, 1);
        free(qs);
        return NULL;
    }
    r = ldns_pkt_new();
    ldns_pkt_set_id(r, ldns_pkt_id(q));
    ldns_pkt_set_qr(r, 1);
    ldns_pkt_set_rd(r, ldns_pkt_rd(q));
    ldns_pkt_set_ra(r, 1);
    ldns_pkt_set_cd(r, ldns_pkt_cd(q));
    ldns_rr_list_push_rr(ldns_pkt_question(r), ldns_rr_clone(qrr));
    ldns_pkt_set_qdcount(r, 1);
    if (strstr(qs, "servfail") != NULL) {
        atomic_fetch_add(&srv->servfail_queries, 1);
        ldns_pkt_set_rcode(r, LDNS_RCODE_SERVFAIL);
    } else {
        char rr_text[600];
        ldns_rr *rr = NULL;

        if (strstr(qs, "slow") != NULL) {
            atomic_fetch_add(&srv->slow_queries, 1);
            *slow = 1;
        } else {
            atomic_fetch_add(&srv->good_queries, 1);
        }
        snprintf(rr_text, sizeof(rr_text),
                 "%s 300 IN TLSA 3 1 1 "
                 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
                 "cdef",
                 qs);
        if (ldns_rr_new_frm_str(&rr, rr_text, 0, NULL, NULL) ==
            LDNS_STATUS_OK) {
            ldns_rr_list_push_rr(ldns_pkt_answer(r), rr);
            ldns_pkt_set_ancount(r, 1);
        }
        ldns_pkt_set_ad(r, 1);
    }
    free(qs);
    return r;
}

/* answer_main - serve until stopped, holding slow replies back. */
static void *answer_main(void *arg)
{
    answer_server *srv = arg;
    delayed pending[MAX_DELAYED];
    size_t npending = 0;

    while (!atomic_load(&srv->stop)) {
        struct pollfd pfd = {.fd = srv->fd, .events = POLLIN};
        uint64_t now = dance_net_now_ms();
        uint8_t buf[4096];
        struct sockaddr_storage peer;
        socklen_t plen = sizeof(peer);
        ldns_pkt *q = NULL, *r;
        ssize_t n;
        int slow;

        for (size_t i = 0; i < npending;) {
            if (pending[i].due <= now) {
                sendto(srv->fd, pending[i].wire, pending[i].len, 0,
                       (struct sockaddr *)&pending[i].peer, pending[i].plen);
                free(pending[i].wire);
                pending[i] = pending[--npending];
            } else {
                i++;
            }
        }
        if (poll(&pfd, 1, 20) <= 0)
            continue;
        n = recvfrom(srv->fd, buf, sizeof(buf), 0, (struct sockaddr *)&peer,
                     &plen);
        if (n <= 0 || ldns_wire2pkt(&q, buf, (size_t)n) != LDNS_STATUS_OK)
            continue;
        r = build_reply(srv, q, &slow);
        ldns_pkt_free(q);
        if (r != NULL) {
            uint8_t *wire = NULL;
            size_t len = 0;

            if (ldns_pkt2wire(&wire, r, &len) == LDNS_STATUS_OK) {
                if (slow && npending < MAX_DELAYED) {
                    pending[npending] = (delayed){.wire = wire,
                                                  .len = len,
                                                  .peer = peer,
                                                  .plen = plen,
                                                  .due = now + SLOW_MS};
                    npending++;
                    wire = NULL;
                } else if (!slow) {
                    sendto(srv->fd, wire, len, 0, (struct sockaddr *)&peer,
                           plen);
                }
            }
            free(wire);
            ldns_pkt_free(r);
        }
    }
    for (size_t i = 0; i < npending; i++)
        free(pending[i].wire);
    return NULL;
}

/* answer_start - a running server on a fresh loopback port. */
static answer_server *answer_start(void)
{
    answer_server *srv = calloc(1, sizeof(*srv));
    struct sockaddr_in sin = {.sin_family = AF_INET};
    socklen_t len = sizeof(sin);

    CU_ASSERT_PTR_NOT_NULL_FATAL(srv);
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    srv->fd = socket(AF_INET, SOCK_DGRAM, 0);
    CU_ASSERT_FATAL(srv->fd >= 0 &&
                    bind(srv->fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
                    getsockname(srv->fd, (struct sockaddr *)&sin, &len) == 0);
    snprintf(srv->addr, sizeof(srv->addr), "127.0.0.1@%u", ntohs(sin.sin_port));
    CU_ASSERT_FATAL(pthread_create(&srv->tid, NULL, answer_main, srv) == 0);
    return srv;
}

/* answer_stop - stop and free the server. */
static void answer_stop(answer_server *srv)
{
    atomic_store(&srv->stop, 1);
    pthread_join(srv->tid, NULL);
    close(srv->fd);
    free(srv);
}

/* trust_ad_res - a trust-ad resolver asking srv; deadline_ms per lookup,
 * one exchange of deadline_ms / attempts each. */
static dance_res *trust_ad_res(const answer_server *srv, unsigned deadline_ms,
                               unsigned attempts)
{
    dance_res_config cfg;
    char err[256];
    dance_res *res;

    dance_res_config_init(&cfg);
    cfg.mode = DANCE_RES_MODE_TRUST_AD;
    cfg.nameservers = srv->addr;
    cfg.timeout_ms = deadline_ms / attempts;
    cfg.attempts = attempts;
    cfg.deadline_ms = deadline_ms;
    res = dance_res_new(&cfg, err, sizeof(err));
    CU_ASSERT_PTR_NOT_NULL_FATAL(res);
    return res;
}

/* timed_join - join job; its status, its reason into why (may be NULL),
 * and how long the join took into *ms. */
static dance_res_status timed_join(dance_res_job *job, uint64_t *ms, char *why,
                                   size_t len)
{
    uint64_t t0 = dance_net_now_ms();
    dance_res_result *r = dance_res_job_join(job);
    dance_res_status st =
        r != NULL ? dance_res_result_status(r) : DANCE_RES_INDETERMINATE;

    *ms = dance_net_now_ms() - t0;
    if (why != NULL)
        snprintf(why, len, "%s", r != NULL ? dance_res_result_get0_why(r) : "");
    dance_res_result_free(r);
    return st;
}

#define DEADLINE 600 /* ms: lookups in these tests */
#define SLACK 400    /* ms: generous for 2 busy cores and ASan */
#define FLOOD 300

/* A flood of unknown names under a silent zone, abandoned at once (the
 * attacker disconnects): a good client's lookup right after it completes
 * within the deadline, and the abandoned lookups are not all sent. */
static void test_flood_abandoned(void)
{
    answer_server *srv = answer_start();
    dance_res *res = trust_ad_res(srv, DEADLINE, 2);
    dance_async *pool = dance_async_new(res, 4);
    dance_res_job *good;
    char name[64], why[512];
    uint64_t ms;

    for (int i = 0; i < FLOOD; i++) {
        snprintf(name, sizeof(name), "_c.h%d.silent.test", i);
        dance_res_job_free(
            dance_async_start(pool, name, LDNS_RR_TYPE_TLSA, 1800000000));
    }
    good = dance_async_start(pool, "_c.dev1.example.test", LDNS_RR_TYPE_TLSA,
                             1800000000);
    CU_ASSERT_EQUAL(timed_join(good, &ms, why, sizeof(why)), DANCE_RES_SECURE);
    CU_ASSERT(ms <= DEADLINE + SLACK);
    if (ms > DEADLINE + SLACK)
        fprintf(stderr, "\n  good lookup took %llu ms: %s\n",
                (unsigned long long)ms, why);
    dance_res_job_free(good);
    usleep(3 * DEADLINE * 1000);
    /* Nobody waits for them: at most the few that were running went out,
     * each at most twice (its attempts), never the whole flood. */
    CU_ASSERT(atomic_load(&srv->silent_queries) <= 8 * 2);
    dance_async_free(pool);
    dance_res_free(res);
    answer_stop(srv);
}

/* The same flood, but the attacker keeps its handshakes open: the bounded
 * queue answers the excess at once, the good client still completes in
 * time, and every flooded handshake has its (indeterminate) answer within
 * its own deadline. */
static void test_flood_held(void)
{
    answer_server *srv = answer_start();
    dance_res *res = trust_ad_res(srv, DEADLINE, 2);
    dance_async *pool = dance_async_new(res, 4);
    dance_res_job *jobs[FLOOD], *good;
    char name[64], why[512];
    uint64_t ms, t0 = dance_net_now_ms(), worst = 0;
    int refused = 0;

    for (int i = 0; i < FLOOD; i++) {
        snprintf(name, sizeof(name), "_c.h%d.silent.test", i);
        jobs[i] = dance_async_start(pool, name, LDNS_RR_TYPE_TLSA, 1800000000);
        CU_ASSERT_PTR_NOT_NULL_FATAL(jobs[i]);
    }
    good = dance_async_start(pool, "_c.dev2.example.test", LDNS_RR_TYPE_TLSA,
                             1800000000);
    CU_ASSERT_EQUAL(timed_join(good, &ms, why, sizeof(why)), DANCE_RES_SECURE);
    CU_ASSERT(ms <= DEADLINE + SLACK);
    dance_res_job_free(good);
    for (int i = 0; i < FLOOD; i++) {
        CU_ASSERT_EQUAL(timed_join(jobs[i], &ms, why, sizeof(why)),
                        DANCE_RES_INDETERMINATE);
        refused += strstr(why, "waiting under silent.test") != NULL;
        dance_res_job_free(jobs[i]);
    }
    worst = dance_net_now_ms() - t0;
    /* Every join ended by its own deadline (all started within t0..). */
    CU_ASSERT(worst <= DEADLINE + 2 * SLACK);
    CU_ASSERT(refused >= FLOOD - DANCE_ASYNC_MAX_QUEUED_PER_SITE - 4);
    dance_async_free(pool);
    dance_res_free(res);
    answer_stop(srv);
}

/* The queue bound: past DANCE_ASYNC_MAX_QUEUED waiting lookups (names in
 * distinct sites, so no per-site bound applies), a start is answered at
 * once, indeterminate, and says why. */
static void test_queue_bound(void)
{
    answer_server *srv = answer_start();
    dance_res *res = trust_ad_res(srv, DEADLINE, 1);
    dance_async *pool = dance_async_new(res, 2);
    enum { N = DANCE_ASYNC_MAX_QUEUED + 8 };
    dance_res_job **jobs = calloc(N, sizeof(*jobs));
    dance_res_job *extra;
    char name[64], why[512];
    uint64_t ms;

    CU_ASSERT_PTR_NOT_NULL_FATAL(jobs);
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "_c.h.silent%d.test", i);
        jobs[i] = dance_async_start(pool, name, LDNS_RR_TYPE_TLSA, 1800000000);
        CU_ASSERT_PTR_NOT_NULL_FATAL(jobs[i]);
    }
    extra = dance_async_start(pool, "_c.h.other.test", LDNS_RR_TYPE_TLSA,
                              1800000000);
    CU_ASSERT_EQUAL(timed_join(extra, &ms, why, sizeof(why)),
                    DANCE_RES_INDETERMINATE);
    CU_ASSERT(ms < 100);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "queue full"));
    dance_res_job_free(extra);
    for (int i = 0; i < N; i++)
        dance_res_job_free(jobs[i]);
    free(jobs);
    dance_async_free(pool);
    dance_res_free(res);
    answer_stop(srv);
}

/* A lookup queued behind slow ones waits no longer than the deadline from
 * its own start (it used to wait deadline + 1000 ms). */
static void test_join_deadline(void)
{
    answer_server *srv = answer_start();
    dance_res *res = trust_ad_res(srv, DEADLINE, 1);
    dance_async *pool = dance_async_new(res, 1);
    dance_res_job *a, *b;
    uint64_t ms;

    a = dance_async_start(pool, "_c.h.one.silent.test", LDNS_RR_TYPE_TLSA, 1);
    b = dance_async_start(pool, "_c.h.two.silent.test", LDNS_RR_TYPE_TLSA, 1);
    CU_ASSERT_EQUAL(timed_join(b, &ms, NULL, 0), DANCE_RES_INDETERMINATE);
    CU_ASSERT(ms <= DEADLINE + SLACK);
    CU_ASSERT(ms >= DEADLINE - 100);
    dance_res_job_free(a);
    dance_res_job_free(b);
    dance_async_free(pool);
    dance_res_free(res);
    answer_stop(srv);
}

/* A joiner whose lookup no worker has taken runs it itself: with the only
 * worker held by a silent name (a flood holding every worker), a good
 * name is answered at once instead of after the silent one's deadline. A
 * start for a caller that joins at once wakes no worker at all. */
static void test_joiner_runs(void)
{
    answer_server *srv = answer_start();
    dance_res *res = trust_ad_res(srv, DEADLINE, 1);
    dance_async *pool = dance_async_new(res, 1);
    dance_res_job *a, *b, *c;
    dance_async_stats st;
    uint64_t ms;

    a = dance_async_start(pool, "_c.h.held.silent.test", LDNS_RR_TYPE_TLSA,
                          1800000000);
    usleep(50 * 1000); /* the worker has taken a */
    b = dance_async_start(pool, "_c.dev4.example.test", LDNS_RR_TYPE_TLSA,
                          1800000000);
    CU_ASSERT_EQUAL(timed_join(b, &ms, NULL, 0), DANCE_RES_SECURE);
    CU_ASSERT(ms < DEADLINE / 2);
    dance_res_job_free(b);
    dance_async_get_stats(pool, &st);
    CU_ASSERT_EQUAL(st.joiner_runs, 1);
    CU_ASSERT_EQUAL(timed_join(a, &ms, NULL, 0), DANCE_RES_INDETERMINATE);
    dance_res_job_free(a);
    usleep(50 * 1000); /* the worker is idle again */
    c = dance_async_start_joined(pool, "_c.dev5.example.test",
                                 LDNS_RR_TYPE_TLSA, 1800000000);
    usleep(50 * 1000); /* time enough for a worker, had one been woken */
    CU_ASSERT_EQUAL(timed_join(c, &ms, NULL, 0), DANCE_RES_SECURE);
    dance_res_job_free(c);
    dance_async_get_stats(pool, &st);
    CU_ASSERT_EQUAL(st.joiner_runs, 2);
    dance_async_free(pool);
    dance_res_free(res);
    answer_stop(srv);
}

/* A joiner that runs a shared lookup itself stops at its own deadline,
 * even when a later asker's deadline is later: the joiner is never held
 * past the resolver's deadline from its own start; the later asker gets
 * the same (indeterminate) answer, no later than its own deadline. */
static void test_joiner_deadline(void)
{
    answer_server *srv = answer_start();
    dance_res *res = trust_ad_res(srv, DEADLINE, 3);
    dance_async *pool = dance_async_new(res, 1);
    dance_res_job *a1, *a2, *x, *y;
    uint64_t ms, t0;

    /* The only worker: busy with a1, then a2, for two deadlines. */
    a1 = dance_async_start(pool, "_c.h.busy1.silent.test", LDNS_RR_TYPE_TLSA,
                           1800000000);
    a2 = dance_async_start(pool, "_c.h.busy2.silent.test", LDNS_RR_TYPE_TLSA,
                           1800000000);
    usleep(50 * 1000);
    t0 = dance_net_now_ms();
    x = dance_async_start(pool, "_c.h.shared.silent.test", LDNS_RR_TYPE_TLSA,
                          1800000000);
    usleep(DEADLINE * 9 / 10 * 1000); /* y's deadline: 1.9 deadlines */
    y = dance_async_start(pool, "_c.h.shared.silent.test", LDNS_RR_TYPE_TLSA,
                          1800000000);
    CU_ASSERT_EQUAL(timed_join(x, &ms, NULL, 0), DANCE_RES_INDETERMINATE);
    ms = dance_net_now_ms() - t0;
    CU_ASSERT(ms <= DEADLINE + SLACK);
    if (ms > DEADLINE + SLACK)
        fprintf(stderr, "\n  the joiner was held %llu ms from its start\n",
                (unsigned long long)ms);
    CU_ASSERT_EQUAL(timed_join(y, &ms, NULL, 0), DANCE_RES_INDETERMINATE);
    CU_ASSERT(ms <= DEADLINE + SLACK);
    dance_res_job_free(x);
    dance_res_job_free(y);
    dance_res_job_free(a1);
    dance_res_job_free(a2);
    dance_async_free(pool);
    dance_res_free(res);
    answer_stop(srv);
}

/* An abandoned lookup is not retried: its one remaining attempt is never
 * sent once its only asker has gone. */
static void test_abandoned_not_retried(void)
{
    answer_server *srv = answer_start();
    dance_res *res = trust_ad_res(srv, 3 * DEADLINE, 3);
    dance_async *pool = dance_async_new(res, 1);
    dance_res_job *job;

    job = dance_async_start(pool, "_c.h.silent.test", LDNS_RR_TYPE_TLSA, 1);
    usleep(DEADLINE / 2 * 1000); /* the first packet is out */
    dance_res_job_free(job);
    usleep(4 * DEADLINE * 1000);
    CU_ASSERT_EQUAL(atomic_load(&srv->silent_queries), 1);
    dance_async_free(pool);
    dance_res_free(res);
    answer_stop(srv);
}

/* An abandoned lookup asked for again while it runs is revived and
 * shared: the new asker gets the answer of the one query on the wire.
 * (A guard for the revival: cancelling must never hand a later asker of
 * the same name a failure that a working server did not cause.) */
static void test_abandoned_then_asked_again(void)
{
    answer_server *srv = answer_start();
    dance_res *res = trust_ad_res(srv, 2000, 2);
    dance_async *pool = dance_async_new(res, 2);
    dance_res_job *job;
    uint64_t ms;

    job = dance_async_start(pool, "_c.again.slow.test", LDNS_RR_TYPE_TLSA, 1);
    usleep(100 * 1000); /* running: its query waits for the slow reply */
    dance_res_job_free(job);
    job = dance_async_start(pool, "_c.again.slow.test", LDNS_RR_TYPE_TLSA, 1);
    CU_ASSERT_EQUAL(timed_join(job, &ms, NULL, 0), DANCE_RES_SECURE);
    CU_ASSERT_EQUAL(atomic_load(&srv->slow_queries), 1);
    dance_res_job_free(job);
    dance_async_free(pool);
    dance_res_free(res);
    answer_stop(srv);
}

/* A zone whose server times out or says SERVFAIL is remembered: the next
 * name under it fails at once without a query; other zones are not
 * affected. */
static void test_failing_zone(void)
{
    answer_server *srv = answer_start();
    dance_res *res = trust_ad_res(srv, DEADLINE, 1);
    dance_async *pool = dance_async_new(res, 2);
    static const char *const zones[] = {"silent.test", "servfail.test"};
    char name[64], why[512];
    uint64_t ms;

    for (int z = 0; z < 2; z++) {
        dance_res_job *job;
        int before;

        snprintf(name, sizeof(name), "_c.first.%s", zones[z]);
        job = dance_async_start(pool, name, LDNS_RR_TYPE_TLSA, 1);
        CU_ASSERT_EQUAL(timed_join(job, &ms, NULL, 0), DANCE_RES_INDETERMINATE);
        dance_res_job_free(job);
        usleep(50 * 1000); /* the worker records the failure after join */
        before = atomic_load(&srv->silent_queries) +
                 atomic_load(&srv->servfail_queries);
        snprintf(name, sizeof(name), "_c.second.%s", zones[z]);
        job = dance_async_start(pool, name, LDNS_RR_TYPE_TLSA, 1);
        CU_ASSERT_EQUAL(timed_join(job, &ms, why, sizeof(why)),
                        DANCE_RES_INDETERMINATE);
        CU_ASSERT(ms < DEADLINE / 4);
        CU_ASSERT_PTR_NOT_NULL(strstr(why, zones[z]));
        CU_ASSERT_PTR_NOT_NULL(strstr(why, "failed recently"));
        dance_res_job_free(job);
        usleep(100 * 1000);
        CU_ASSERT_EQUAL(atomic_load(&srv->silent_queries) +
                            atomic_load(&srv->servfail_queries),
                        before);
    }
    {
        dance_res_job *job = dance_async_start(pool, "_c.dev3.example.test",
                                               LDNS_RR_TYPE_TLSA, 1);

        CU_ASSERT_EQUAL(timed_join(job, &ms, NULL, 0), DANCE_RES_SECURE);
        dance_res_job_free(job);
    }
    dance_async_free(pool);
    dance_res_free(res);
    answer_stop(srv);
}

/* child_check - in a forked child: the name in flight in the parent is
 * answered afresh, a silent one times out in bounded time, a good one
 * completes; exit 0 if all held. A hang is ended by alarm(). */
static void child_check(dance_async *pool)
{
    uint64_t ms;
    dance_res_job *j;
    int ok = 1;

    alarm(10);
    j = dance_async_start(pool, "_c.inflight.slow.test", LDNS_RR_TYPE_TLSA, 1);
    ok &= j != NULL && timed_join(j, &ms, NULL, 0) == DANCE_RES_SECURE;
    dance_res_job_free(j);
    j = dance_async_start(pool, "_c.h.silent.test", LDNS_RR_TYPE_TLSA, 1);
    ok &= j != NULL && timed_join(j, &ms, NULL, 0) == DANCE_RES_INDETERMINATE &&
          ms <= DEADLINE * 2 + SLACK;
    dance_res_job_free(j);
    j = dance_async_start(pool, "_c.after.example.test", LDNS_RR_TYPE_TLSA, 1);
    ok &= j != NULL && timed_join(j, &ms, NULL, 0) == DANCE_RES_SECURE;
    dance_res_job_free(j);
    _exit(ok ? 0 : 1);
}

/* fork() while a lookup is in flight: the child starts clean and works. */
static void test_fork_in_flight(void)
{
    answer_server *srv = answer_start();
    dance_res *res = trust_ad_res(srv, 2 * DEADLINE, 1);
    dance_async *pool = dance_async_new(res, 2);
    dance_res_job *job;
    pid_t pid;
    int status = -1;

    job =
        dance_async_start(pool, "_c.inflight.slow.test", LDNS_RR_TYPE_TLSA, 1);
    usleep(100 * 1000); /* the worker is waiting for the slow reply */
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0)
        child_check(pool);
    CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
    CU_ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    {
        uint64_t ms;

        /* The parent's lookup is unharmed. */
        CU_ASSERT_EQUAL(timed_join(job, &ms, NULL, 0), DANCE_RES_SECURE);
    }
    dance_res_job_free(job);
    dance_async_free(pool);
    dance_res_free(res);
    answer_stop(srv);
}

#define STORM 64 /* distinct names at once: a restart (issue 14) */

/* A restart storm: STORM distinct names under one site, each answered
 * SLOW_MS late, asked at once while a flood of silent names under another
 * site holds its handshakes open. The provider's pool runs many lookups
 * at once, so every good name is answered within its deadline of
 * 4 * SLOW_MS (two rounds of one site's half of the workers); a pool that
 * ran 2 per site would need 32 rounds. The flood keeps its own half. */
static void test_storm(void)
{
    answer_server *srv = answer_start();
    dance_res *res = trust_ad_res(srv, 4 * SLOW_MS, 1);
    dance_async *pool = dance_async_new(res, DANCE_ASYNC_DEFAULT_THREADS);
    dance_res_job *flood[FLOOD], *jobs[STORM];
    char name[64], why[512] = "";
    int secure = 0;
    uint64_t ms;

    for (int i = 0; i < FLOOD; i++) {
        snprintf(name, sizeof(name), "_c.h%d.silent.test", i);
        flood[i] = dance_async_start(pool, name, LDNS_RR_TYPE_TLSA, 1800000000);
        CU_ASSERT_PTR_NOT_NULL_FATAL(flood[i]);
    }
    for (int i = 0; i < STORM; i++) {
        snprintf(name, sizeof(name), "_c.d%d.slow.test", i);
        jobs[i] = dance_async_start(pool, name, LDNS_RR_TYPE_TLSA, 1800000000);
        CU_ASSERT_PTR_NOT_NULL_FATAL(jobs[i]);
    }
    for (int i = 0; i < STORM; i++) {
        if (timed_join(jobs[i], &ms, why, sizeof(why)) == DANCE_RES_SECURE)
            secure++;
        dance_res_job_free(jobs[i]);
    }
    CU_ASSERT_EQUAL(secure, STORM);
    if (secure != STORM)
        fprintf(stderr, "\n  %d of %d storm names secure; last: %s\n", secure,
                STORM, why);
    /* One query per name: nothing was retried or asked twice. */
    CU_ASSERT_EQUAL(atomic_load(&srv->slow_queries), STORM);
    for (int i = 0; i < FLOOD; i++)
        dance_res_job_free(flood[i]);
    dance_async_free(pool);
    dance_res_free(res);
    answer_stop(srv);
}

/* ---- a known population, warmed (issue 14) ------------------------------ */

/* population - n names "_c.<prefix><i>.<zone>" (caller frees with
 * population_free). */
static char **population(size_t n, const char *prefix, const char *zone)
{
    char **names = calloc(n, sizeof(*names));

    CU_ASSERT_PTR_NOT_NULL_FATAL(names);
    for (size_t i = 0; i < n; i++) {
        char name[128];

        snprintf(name, sizeof(name), "_c.%s%zu.%s", prefix, i, zone);
        names[i] = strdup(name);
        CU_ASSERT_PTR_NOT_NULL_FATAL(names[i]);
    }
    return names;
}

/* population_free - free what population made. */
static void population_free(char **names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* cached_secure - how many of names[0..n) the cache answers secure. */
static size_t cached_secure(dance_res *res, char **names, size_t n)
{
    size_t got = 0;

    for (size_t i = 0; i < n; i++) {
        dance_res_result *r = dance_res_lookup_cached(
            res, names[i], LDNS_RR_TYPE_TLSA, time(NULL), 0);

        got += r != NULL && dance_res_result_status(r) == DANCE_RES_SECURE;
        dance_res_result_free(r);
    }
    return got;
}

/* wait_cached - wait (up to limit_ms) until the cache answers all n names
 * secure; how long that took, or limit_ms + 1. */
static uint64_t wait_cached(dance_res *res, char **names, size_t n,
                            uint64_t limit_ms)
{
    uint64_t t0 = dance_net_now_ms();

    while (cached_secure(res, names, n) < n) {
        if (dance_net_now_ms() - t0 > limit_ms)
            return limit_ms + 1;
        usleep(10 * 1000);
    }
    return dance_net_now_ms() - t0;
}

/* one_window - names that fit in one batch here (DANCE_ASYNC_PREWARM_BATCH,
 * or an eighth of the descriptor limit), at most want. */
static size_t one_window(size_t want)
{
    struct rlimit rl;
    size_t w = DANCE_ASYNC_PREWARM_BATCH;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur / 8 < w)
        w = (size_t)(rl.rlim_cur / 8);
    return w < want ? w : want;
}

/* A known population of N names, each answered SLOW_MS late, with only 2
 * workers: warmed in one round trip (their first queries went out at once,
 * not two at a time), one query per name, before any client asks. */
static void test_prewarm_population(void)
{
    size_t n = one_window(100);
    answer_server *srv = answer_start();
    dance_res *res = trust_ad_res(srv, 4 * SLOW_MS, 1);
    dance_async *pool = dance_async_new(res, 2);
    char **names = population(n, "w", "slow.test");
    dance_async_stats st;
    uint64_t ms;

    CU_ASSERT_FATAL(dance_async_set_prewarm(pool, (const char *const *)names, n,
                                            LDNS_RR_TYPE_TLSA));
    CU_ASSERT_EQUAL(cached_secure(res, names, n), 0);
    usleep(100 * 1000);
    CU_ASSERT_EQUAL(atomic_load(&srv->slow_queries), 0); /* not started */
    dance_async_prewarm_start(pool);
    dance_async_prewarm_start(pool); /* once */
    ms = wait_cached(res, names, n, 3 * SLOW_MS);
    CU_ASSERT(ms <= SLOW_MS + SLACK);
    if (ms > SLOW_MS + SLACK)
        fprintf(stderr, "\n  %zu of %zu names warmed after %llu ms\n",
                cached_secure(res, names, n), n, (unsigned long long)ms);
    CU_ASSERT_EQUAL(atomic_load(&srv->slow_queries), (int)n);
    dance_async_get_stats(pool, &st);
    CU_ASSERT_EQUAL(st.prewarmed, n);
    CU_ASSERT_EQUAL(st.prewarm_handed_over, 0);
    CU_ASSERT_EQUAL(st.queued, 0); /* no worker was needed */
    dance_async_free(pool);
    dance_res_free(res);
    answer_stop(srv);
    population_free(names, n);
}

/* A client whose name is being warmed shares the warmer's lookup: no
 * second query, and its answer is the warmer's (secure). */
static void test_prewarm_shared(void)
{
    size_t n = one_window(40);
    answer_server *srv = answer_start();
    dance_res *res = trust_ad_res(srv, 4 * SLOW_MS, 1);
    dance_async *pool = dance_async_new(res, 2);
    char **names = population(n, "s", "slow.test");
    dance_async_stats st;
    dance_res_job *job;
    uint64_t ms;

    CU_ASSERT_FATAL(dance_async_set_prewarm(pool, (const char *const *)names, n,
                                            LDNS_RR_TYPE_TLSA));
    dance_async_prewarm_start(pool);
    usleep(SLOW_MS / 3 * 1000); /* the batch is out, not yet answered */
    job = dance_async_start_joined(pool, names[n / 2], LDNS_RR_TYPE_TLSA,
                                   time(NULL));
    CU_ASSERT_EQUAL(timed_join(job, &ms, NULL, 0), DANCE_RES_SECURE);
    CU_ASSERT(ms <= SLOW_MS); /* the rest of the warmer's round trip */
    dance_res_job_free(job);
    dance_async_get_stats(pool, &st);
    CU_ASSERT_EQUAL(st.shared, 1);
    CU_ASSERT(wait_cached(res, names, n, 3 * SLOW_MS) <= 3 * SLOW_MS);
    CU_ASSERT_EQUAL(atomic_load(&srv->slow_queries), (int)n);
    dance_async_free(pool);
    dance_res_free(res);
    answer_stop(srv);
    population_free(names, n);
}

/* Names of the population whose server never answers do not hold back
 * the others (each is validated as its answer arrives, not when the
 * batch ends), and are handed to the workers, which ask again the
 * ordinary way. */
static void test_prewarm_unanswered(void)
{
    answer_server *srv = answer_start();
    dance_res *res = trust_ad_res(srv, 4 * SLOW_MS, 1);
    dance_async *pool = dance_async_new(res, 4);
    char **good = population(10, "g", "example.test");
    char **all = calloc(20, sizeof(*all)),
         **silent = population(10, "h", "silent.test");
    dance_async_stats st;
    uint64_t ms;

    CU_ASSERT_PTR_NOT_NULL_FATAL(all);
    for (size_t i = 0; i < 10; i++) {
        all[2 * i] = silent[i];
        all[2 * i + 1] = good[i];
    }
    CU_ASSERT_FATAL(dance_async_set_prewarm(pool, (const char *const *)all, 20,
                                            LDNS_RR_TYPE_TLSA));
    dance_async_prewarm_start(pool);
    ms = wait_cached(res, good, 10, 4 * SLOW_MS);
    CU_ASSERT(ms < SLOW_MS); /* the batch waits 4 * SLOW_MS for the rest */
    usleep((4 * SLOW_MS + SLACK) * 1000);
    dance_async_get_stats(pool, &st);
    CU_ASSERT_EQUAL(st.prewarmed, 10);
    CU_ASSERT_EQUAL(st.prewarm_handed_over, 10);
    /* Each silent name: the batch's query, then the workers' own. */
    CU_ASSERT(atomic_load(&srv->silent_queries) >= 11);
    dance_async_free(pool);
    dance_res_free(res);
    answer_stop(srv);
    free(all);
    population_free(good, 10);
    population_free(silent, 10);
}

int dance_test_suite_async(void)
{
    static const CU_TestInfo tests[] = {
        {"askers of one name share one query", test_shared_pending_lookup},
        {"distinct names, repeated joins", test_distinct_names},
        {"jobs dropped before they finish", test_release_before_done},
        {"lookups in a forked child", test_fork},
        {"flood, abandoned: good client in time", test_flood_abandoned},
        {"flood, held open: bounded, good client in time", test_flood_held},
        {"queue bound: immediate indeterminate", test_queue_bound},
        {"join deadline counts from start", test_join_deadline},
        {"joiner runs a lookup no worker took", test_joiner_runs},
        {"joiner's own run ends at its deadline", test_joiner_deadline},
        {"abandoned lookup not retried", test_abandoned_not_retried},
        {"abandoned, asked again: revived", test_abandoned_then_asked_again},
        {"failing zone remembered", test_failing_zone},
        {"fork with a lookup in flight", test_fork_in_flight},
        {"storm of new names beside a flood", test_storm},
        {"population warmed in one round trip", test_prewarm_population},
        {"a client shares the warmer's lookup", test_prewarm_shared},
        {"unanswered names: others first, then workers",
         test_prewarm_unanswered},
        CU_TEST_INFO_NULL};

    return dance_test_add_suite("async", setup, teardown, tests);
}
