/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_stats.c - suite "stats": the stats file (provider/dance_stats.c):
 * the path pattern, the Prometheus text, and a forked child that counts
 * from zero and writes its own file at exit (or none, having counted
 * nothing).
 *
 * Starting the writer is once per process and lasts: this suite runs last.
 */
#if defined(__SANITIZE_ADDRESS__)
#define DANCE_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DANCE_TEST_ASAN 1
#endif
#endif
#ifndef DANCE_TEST_ASAN
#define DANCE_TEST_ASAN 0
#endif

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dance_config.h"
#include "dance_ext_stats.h"
#include "dance_stats.h"
#include "dance_test.h"

static char dir[64];
static char pattern[128];

/* suite_init - a private directory for the files. */
static int suite_init(void)
{
    snprintf(dir, sizeof(dir), "/tmp/dance-stats-test.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(pattern, sizeof(pattern), "%s/s-%%p.prom", dir);
    return 0;
}

/* suite_cleanup - remove the files (the writer finds no directory then,
 * and says so once). */
static int suite_cleanup(void)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* path_is - dance_stats_path(pat, 42) gives want (NULL: refused). */
static int path_is(const char *pat, const char *want)
{
    char out[256];
    int ok = dance_stats_path(pat, 42, out, sizeof(out));

    if (want == NULL)
        return !ok;
    if (!ok || strcmp(out, want) != 0) {
        fprintf(stderr, "\n%s -> %s, want %s\n", pat, ok ? out : "(refused)",
                want);
        return 0;
    }
    return 1;
}

/* The pattern: %p is the pid, %% a percent sign, any other % refused;
 * without %p the pid goes before the last component's extension. */
static void test_path(void)
{
    char small[12];

    CU_ASSERT(path_is("/var/lib/dance-%p.prom", "/var/lib/dance-42.prom"));
    CU_ASSERT(path_is("/a/%p/%p.prom", "/a/42/42.prom"));
    CU_ASSERT(path_is("/a/100%%-%p", "/a/100%-42"));
    CU_ASSERT(path_is("/var/lib/dance.prom", "/var/lib/dance.42.prom"));
    CU_ASSERT(path_is("/var/lib/dance", "/var/lib/dance.42"));
    CU_ASSERT(path_is("/var/lib.d/dance", "/var/lib.d/dance.42"));
    CU_ASSERT(path_is("/var/lib/.dance", "/var/lib/.dance.42"));
    CU_ASSERT(path_is("/a/x%%.prom", "/a/x%.42.prom"));
    CU_ASSERT(path_is("/a/x%d.prom", NULL));
    CU_ASSERT(path_is("/a/x%", NULL));
    CU_ASSERT_EQUAL(dance_stats_path("/a/long-name", 42, small, sizeof(small)),
                    0);
}

/* stats_key - a settings source with stats_file = arg only. */
static const char *stats_key(const char *key, void *arg)
{
    return strcmp(key, "stats_file") == 0 ? arg : NULL;
}

/* The openssl.cnf key: an absolute path, %p and %% its only escapes; the
 * default is none. */
static void test_config_key(void)
{
    static const char *const bad[] = {"dance.prom", "/x/a%q.prom", "/x/a%", ""};
    char err[300], buf[300];
    dance_config cfg;

    CU_ASSERT_EQUAL_FATAL(
        dance_config_load(&cfg, stats_key, NULL, err, sizeof(err)), 1);
    CU_ASSERT_PTR_NULL(cfg.stats_file);
    CU_ASSERT_STRING_EQUAL(
        dance_config_value(&cfg, "stats_file", buf, sizeof(buf)), "none");
    dance_config_clear(&cfg);
    CU_ASSERT_EQUAL_FATAL(dance_config_load(&cfg, stats_key,
                                            (void *)"/var/lib/d-%p-%%.prom",
                                            err, sizeof(err)),
                          1);
    CU_ASSERT_STRING_EQUAL(cfg.stats_file, "/var/lib/d-%p-%%.prom");
    dance_config_clear(&cfg);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        CU_ASSERT_EQUAL(dance_config_load(&cfg, stats_key, (void *)bad[i], err,
                                          sizeof(err)),
                        0);
        CU_ASSERT_PTR_NOT_NULL(strstr(err, "stats_file"));
    }
}

/* value - the value of the sample line starting with prefix in text, or
 * -1 when there is none. */
static long long value(const char *text, const char *prefix)
{
    const char *p = text;

    while ((p = strstr(p, prefix)) != NULL) {
        if (p == text || p[-1] == '\n')
            return atoll(p + strlen(prefix));
        p++;
    }
    return -1;
}

/* read_all - the file at path into buf (NUL-terminated); 0 if absent. */
static int read_all(const char *path, char *buf, size_t len)
{
    FILE *fp = fopen(path, "r");
    size_t n;

    if (fp == NULL)
        return 0;
    n = fread(buf, 1, len - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return 1;
}

/* The text: HELP and TYPE lines, every sample labelled with the pid,
 * counters since the start; a forked child counts from zero, writes its
 * own file at exit, and a child that counted nothing leaves none (even
 * where an earlier write of its own left one). */
static void test_fork(void)
{
    char err[200] = "", path[256], want[128], *text = NULL, buf[16384];
    size_t len = 0;
    FILE *mem;
    pid_t child;
    int status;

    dance_ext_stats_count(DANCE_STATS_CLIENTS, DANCE_DECISION_ACCEPTED,
                          DANCE_REASON_DANE); /* before the start: not shown */
    CU_ASSERT_EQUAL_FATAL(
        dance_stats_start(pattern, NULL, NULL, err, sizeof(err)), 1);
    for (int i = 0; i < 3; i++)
        dance_ext_stats_count(DANCE_STATS_CLIENTS, DANCE_DECISION_ACCEPTED,
                              DANCE_REASON_DANE);
    dance_ext_stats_count(DANCE_STATS_SERVERS, DANCE_DECISION_REFUSED,
                          DANCE_REASON_TIMEOUT);
    mem = open_memstream(&text, &len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(mem);
    CU_ASSERT_EQUAL(dance_stats_render(mem, NULL, NULL, getpid()), 4);
    fclose(mem);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "# HELP dance_clients_total "));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(text, "# TYPE dance_clients_total counter\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "# TYPE dance_cache_entries gauge\n"));
    snprintf(want, sizeof(want),
             "dance_clients_total{pid=\"%ld\",decision=\"accepted\","
             "reason=\"dane\"} ",
             (long)getpid());
    CU_ASSERT_EQUAL(value(text, want), 3);
    snprintf(want, sizeof(want),
             "dance_servers_total{pid=\"%ld\",decision=\"refused\","
             "reason=\"timeout\"} ",
             (long)getpid());
    CU_ASSERT_EQUAL(value(text, want), 1);
    free(text);

#if DANCE_TEST_ASAN
    /* gcc 12's AddressSanitizer can hand a forked child an allocator lock
     * held by another thread at fork time; its leak check at the child's
     * exit then hangs. The forked-child behaviour is checked here in the
     * normal build, and under ASan by tls.stats (nginx's forked workers). */
    fprintf(stderr, "test_stats: forked-child checks skipped under ASan\n");
    return;
#endif
    /* A child that counts one refusal and exits. */
    child = fork();
    CU_ASSERT_FATAL(child >= 0);
    if (child == 0) {
        dance_ext_stats_count(DANCE_STATS_CLIENTS, DANCE_DECISION_REFUSED,
                              DANCE_REASON_BOGUS);
        exit(0);
    }
    CU_ASSERT_EQUAL(waitpid(child, &status, 0), child);
    CU_ASSERT(dance_stats_path(pattern, child, path, sizeof(path)));
    CU_ASSERT_FATAL(read_all(path, buf, sizeof(buf)));
    snprintf(want, sizeof(want),
             "dance_clients_total{pid=\"%ld\",decision=\"refused\","
             "reason=\"bogus\"} ",
             (long)child);
    CU_ASSERT_EQUAL(value(buf, want), 1);
    snprintf(want, sizeof(want),
             "dance_clients_total{pid=\"%ld\",decision=\"accepted\","
             "reason=\"dane\"} ",
             (long)child);
    CU_ASSERT_EQUAL(value(buf, want), 0); /* the parent's are not its own */
    snprintf(want, sizeof(want), "{pid=\"%ld\"", (long)getpid());
    CU_ASSERT_PTR_NULL(strstr(buf, want));

    /* A child that counts nothing: no file left at exit. */
    child = fork();
    CU_ASSERT_FATAL(child >= 0);
    if (child == 0) {
        char own[256];

        /* as if its writer had written once already */
        if (dance_stats_path(pattern, getpid(), own, sizeof(own)))
            close(open(own, O_WRONLY | O_CREAT, 0644));
        exit(0);
    }
    CU_ASSERT_EQUAL(waitpid(child, &status, 0), child);
    CU_ASSERT(dance_stats_path(pattern, child, path, sizeof(path)));
    CU_ASSERT_EQUAL(access(path, F_OK), -1);
}

/* dance_test_suite_stats - see dance_test.h. */
int dance_test_suite_stats(void)
{
    static const CU_TestInfo tests[] = {
        {"path pattern: %p, %%, pid before the extension", test_path},
        {"openssl.cnf key stats_file", test_config_key},
        {"text, and a forked child's own file at exit", test_fork},
        CU_TEST_INFO_NULL};

    return dance_test_add_suite("stats", suite_init, suite_cleanup, tests);
}
