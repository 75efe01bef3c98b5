/*
 * test_log.c - suite "log": the provider's log lines (provider/dance_log.c)
 * as they reach a real file and a real AF_UNIX syslog socket: timestamp,
 * level, the dance identity, one line per message, also from many threads.
 */
#define _GNU_SOURCE /* timegm */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <regex.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "dance_log.h"
#include "dance_test.h"

static char dir[64];
static char file_path[100];
static char sock_path[100];

/* suite_init - a private directory; no DANCE_LOG_LEVEL override. */
static int suite_init(void)
{
    snprintf(dir, sizeof(dir), "/tmp/dance-log-test.XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(file_path, sizeof(file_path), "%s/dance.log", dir);
    snprintf(sock_path, sizeof(sock_path), "%s/log.sock", dir);
    unsetenv("DANCE_LOG_LEVEL");
    return 0;
}

/* suite_cleanup - back to stderr, remove the files. */
static int suite_cleanup(void)
{
    char err[200];

    dance_log_configure(DANCE_LOG_WARN, "stderr", err, sizeof(err));
    unlink(file_path);
    unlink(sock_path);
    rmdir(dir);
    return 0;
}

/* matches - does s match the extended regular expression re? */
static int matches(const char *re, const char *s)
{
    regex_t r;
    int ok;

    if (regcomp(&r, re, REG_EXTENDED | REG_NOSUB) != 0)
        return 0;
    ok = regexec(&r, s, 0, NULL, 0) == 0;
    regfree(&r);
    if (!ok)
        fprintf(stderr, "\n'%s' does not match /%s/\n", s, re);
    return ok;
}

/* read_path - the whole file at path into buf (NUL-terminated); the
 * number of bytes read (NUL bytes included). */
static size_t read_path(const char *path, char *buf, size_t len)
{
    FILE *fp = fopen(path, "r");
    size_t n = 0;

    if (fp != NULL) {
        n = fread(buf, 1, len - 1, fp);
        fclose(fp);
    }
    buf[n] = '\0';
    return n;
}

/* read_file - the whole log file into buf (NUL-terminated); its length. */
static size_t read_file(char *buf, size_t len)
{
    return read_path(file_path, buf, len);
}

/* next_check - wait until the log sink looks at its path again (it does
 * at most once a second). */
static void next_check(void)
{
    struct timespec ts = {1, 100 * 1000 * 1000};

    nanosleep(&ts, NULL);
}

/* has - does the file at path hold text? */
static int has(const char *path, const char *text)
{
    char buf[4096];

    read_path(path, buf, sizeof(buf));
    return strstr(buf, text) != NULL;
}

/* rotated - move the log file to moved (and with create, make an empty
 * one at its path), wait for the next check, log line: it must land at
 * the path only, and old, logged before, in the moved file only. */
static int rotated(const char *moved, int create, const char *line,
                   const char *old)
{
    int fd;

    if (rename(file_path, moved) != 0)
        return 0;
    if (create) {
        fd = open(file_path, O_WRONLY | O_CREAT | O_EXCL, 0640);
        if (fd < 0)
            return 0;
        close(fd);
    }
    next_check();
    dance_log(DANCE_LOG_WARN, "%s", line);
    return has(file_path, line) && !has(moved, line) && has(moved, old) &&
           !has(file_path, old);
}

/* Rotation without a signal: the file moved away (and made anew, or not)
 * gets no more lines, the path gets them; a file truncated in place gets
 * the next line at its start, with no hole of NUL bytes before it. */
static void test_rotation(void)
{
    char err[200] = "", buf[4096], moved[120];
    size_t n;

    snprintf(moved, sizeof(moved), "%s/dance.log.1", dir);
    unlink(file_path);
    unlink(moved);
    CU_ASSERT_EQUAL_FATAL(
        dance_log_configure(DANCE_LOG_WARN, file_path, err, sizeof(err)), 1);
    dance_log(DANCE_LOG_WARN, "before the move");
    /* Moved away, nothing made anew (the program is expected to reopen). */
    CU_ASSERT(rotated(moved, 0, "after the move", "before the move"));
    /* logrotate "create": moved away, an empty file made at the path. */
    CU_ASSERT(rotated(moved, 1, "after create", "after the move"));
    /* logrotate "copytruncate": the same file, emptied in place. */
    dance_log(DANCE_LOG_WARN, "before truncation");
    CU_ASSERT_EQUAL_FATAL(truncate(file_path, 0), 0);
    dance_log(DANCE_LOG_WARN, "after truncation");
    n = read_file(buf, sizeof(buf));
    CU_ASSERT_EQUAL(n, strlen(buf)); /* no NUL bytes */
    CU_ASSERT(matches("^[0-9]{4}-[^\n]* warn: after truncation\n$", buf));
    unlink(moved);
}

/* A file (and stderr) line: ISO 8601 UTC with milliseconds, the dance
 * identity with the pid, the level; below the level nothing; control
 * characters cannot start a forged line. */
static void test_file_line(void)
{
    char err[200] = "", buf[4096], want[200];
    struct tm tm;
    time_t before = time(NULL), at;

    unlink(file_path);
    CU_ASSERT_EQUAL_FATAL(
        dance_log_configure(DANCE_LOG_WARN, file_path, err, sizeof(err)), 1);
    dance_log(DANCE_LOG_INFO, "not at the default level");
    dance_log(DANCE_LOG_WARN, "refused %s", "a\nfake line");
    dance_log(DANCE_LOG_ERROR, "second");
    read_file(buf, sizeof(buf));
    snprintf(want, sizeof(want),
             "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\."
             "[0-9]{3}Z dance\\[%ld\\]: warn: refused a\\?fake line\n"
             "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]{12}Z dance\\[%ld\\]: error: "
             "second\n$",
             (long)getpid(), (long)getpid());
    CU_ASSERT(matches(want, buf));
    /* The stamp is now, in UTC. */
    memset(&tm, 0, sizeof(tm));
    CU_ASSERT_PTR_NOT_NULL_FATAL(strptime(buf, "%Y-%m-%dT%H:%M:%S", &tm));
    at = timegm(&tm);
    CU_ASSERT(at >= before && at <= time(NULL));
}

/* listen_syslog - a datagram socket bound at sock_path, as a syslog daemon
 * has at /dev/log; -1 on failure. */
static int listen_syslog(void)
{
    struct sockaddr_un sa;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {2, 0};

    if (fd < 0)
        return -1;
    unlink(sock_path);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* receive - one datagram from fd as a string ("" on timeout). */
static void receive(int fd, char *buf, size_t len)
{
    ssize_t n = recv(fd, buf, len - 1, 0);

    buf[n > 0 ? n : 0] = '\0';
}

/* Syslog: an RFC 3164 message tagged dance[pid], facility daemon, even
 * after the host program called openlog() with its own identity; and a
 * restarted daemon (new socket at the same path) still gets the lines. */
static void test_syslog_identity(void)
{
    char err[200] = "", dest[160], buf[2048], want[200];
    int fd = listen_syslog();

    CU_ASSERT_FATAL(fd >= 0);
    openlog("hostprog", LOG_PID, LOG_USER); /* the host program's own */
    snprintf(dest, sizeof(dest), "syslog:%s", sock_path);
    CU_ASSERT_EQUAL_FATAL(
        dance_log_configure(DANCE_LOG_WARN, dest, err, sizeof(err)), 1);
    dance_log(DANCE_LOG_WARN, "client %s refused", "_c.dev1.example");
    receive(fd, buf, sizeof(buf));
    /* <facility daemon (3) * 8 + warning (4)> */
    snprintf(want, sizeof(want),
             "^<28>(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
             "[ 1-3][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} dance\\[%ld\\]: warn: "
             "client _c\\.dev1\\.example refused$",
             (long)getpid());
    CU_ASSERT(matches(want, buf));
    dance_log(DANCE_LOG_ERROR, "e");
    receive(fd, buf, sizeof(buf));
    CU_ASSERT(matches("^<27>.* dance\\[[0-9]+\\]: error: e$", buf));
    dance_log(DANCE_LOG_INFO, "below the level");
    /* The daemon restarts: the old socket is gone, a new one is bound. */
    close(fd);
    fd = listen_syslog();
    CU_ASSERT_FATAL(fd >= 0);
    dance_log(DANCE_LOG_ERROR, "after restart");
    receive(fd, buf, sizeof(buf));
    CU_ASSERT(matches("^<27>.* dance\\[[0-9]+\\]: error: after restart$", buf));
    close(fd);
    closelog();
}

/* log_file = syslog:<relative path> is refused, naming the key. */
static void test_syslog_bad_path(void)
{
    char err[200] = "";

    CU_ASSERT_EQUAL(dance_log_configure(DANCE_LOG_WARN, "syslog:log.sock", err,
                                        sizeof(err)),
                    0);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "log_file"));
}

#define THREADS 4
#define LINES 250

/* writer - LINES warnings from one thread. */
static void *writer(void *arg)
{
    long id = (long)(size_t)arg;

    for (int i = 0; i < LINES; i++)
        dance_log(DANCE_LOG_WARN, "thread %ld line %d %s", id, i,
                  "padding padding padding padding padding padding");
    return NULL;
}

/* Many threads at once: every line whole, none lost. */
static void test_threads(void)
{
    static char buf[THREADS * LINES * 160];
    pthread_t t[THREADS];
    char err[200] = "";
    size_t lines = 0, bad = 0;
    char *save = NULL;

    unlink(file_path);
    CU_ASSERT_EQUAL_FATAL(
        dance_log_configure(DANCE_LOG_WARN, file_path, err, sizeof(err)), 1);
    for (long i = 0; i < THREADS; i++)
        CU_ASSERT_EQUAL_FATAL(
            pthread_create(&t[i], NULL, writer, (void *)(size_t)i), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    read_file(buf, sizeof(buf));
    for (char *l = strtok_r(buf, "\n", &save); l != NULL;
         l = strtok_r(NULL, "\n", &save)) {
        lines++;
        if (!matches("^[0-9-]{10}T[0-9:.]{12}Z dance\\[[0-9]+\\]: warn: "
                     "thread [0-9] line [0-9]+ padding( padding){5}$",
                     l))
            bad++;
    }
    CU_ASSERT_EQUAL(lines, THREADS * LINES);
    CU_ASSERT_EQUAL(bad, 0);
}

static atomic_int forking;

/* busy_writer - log until forking is cleared. */
static void *busy_writer(void *arg)
{
    (void)arg;
    while (atomic_load(&forking))
        dance_log(DANCE_LOG_WARN, "busy");
    return NULL;
}

/* A child forked while another thread is writing a line can log too (the
 * lock is not inherited held): each child logs and exits within 5 s. */
static void test_fork(void)
{
    pthread_t t;
    char err[200] = "";
    int hung = 0;

    unlink(file_path);
    CU_ASSERT_EQUAL_FATAL(
        dance_log_configure(DANCE_LOG_WARN, file_path, err, sizeof(err)), 1);
    atomic_store(&forking, 1);
    CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, busy_writer, NULL), 0);
    for (int i = 0; i < 50; i++) {
        pid_t pid = fork();
        int status = 0, done = 0;

        if (pid == 0) {
            dance_log(DANCE_LOG_WARN, "child");
            _exit(0);
        }
        CU_ASSERT_FATAL(pid > 0);
        for (int w = 0; w < 500 && !done; w++) {
            done = waitpid(pid, &status, WNOHANG) == pid;
            if (!done)
                usleep(10000);
        }
        if (!done) {
            hung++;
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
    }
    atomic_store(&forking, 0);
    pthread_join(t, NULL);
    CU_ASSERT_EQUAL(hung, 0);
}

/* dance_test_suite_log - see dance_test.h. */
int dance_test_suite_log(void)
{
    static const CU_TestInfo tests[] = {
        {"file line: UTC timestamp with ms, identity, level", test_file_line},
        {"syslog: dance identity whatever the host's openlog",
         test_syslog_identity},
        {"syslog: a relative socket path is refused", test_syslog_bad_path},
        {"threads: whole lines, none lost", test_threads},
        {"fork while another thread logs: the child can log", test_fork},
        {"rotation: moved, made anew, truncated", test_rotation},
        CU_TEST_INFO_NULL};

    return dance_test_add_suite("log", suite_init, suite_cleanup, tests);
}
