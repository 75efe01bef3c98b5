/*
 * test_async.c - suite "async": background lookups (resolver/dance_async.c)
 * against a silent UDP "server" on loopback that counts the queries it
 * gets: sharing of pending lookups, timeouts, early release, and fork.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dance_async.h"
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
     * a moment: the next asker is answered at once, without a query. */
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

int dance_test_suite_async(void)
{
    static const CU_TestInfo tests[] = {
        {"askers of one name share one query", test_shared_pending_lookup},
        {"distinct names, repeated joins", test_distinct_names},
        {"jobs dropped before they finish", test_release_before_done},
        {"lookups in a forked child", test_fork},
        CU_TEST_INFO_NULL};

    return dance_test_add_suite("async", setup, teardown, tests);
}
