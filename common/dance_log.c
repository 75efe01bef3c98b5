/*
 * dance_log.c - the provider's log sink: stderr, a file, or syslog.
 *
 * Lines on stderr and in files:
 *
 *   2026-11-29T21:42:11.123Z dance[4242]: warn: <message>
 *
 * Syslog: the module runs inside other people's programs, and openlog()
 * would change the host program's own syslog identity (or the host's later
 * openlog() ours, which is how lines ended up tagged "mosquitto[...]").
 * So the module speaks the local syslog protocol itself: one RFC 3164
 * datagram per line, "<PRI>Mmm dd hh:mm:ss dance[pid]: warn: <message>",
 * on its own AF_UNIX socket to /dev/log (or the socket log_file names as
 * "syslog:<path>"), facility daemon. The syslog daemon adds the host name
 * and keeps the time; the host program's syslog is untouched.
 *
 * Log files are rotated under the module's feet, and the module cannot
 * catch the host program's SIGHUP (the program owns its signals). So
 * before writing a line, at most once a second, the path is looked at
 * again: when it names another file than the one open (logrotate's
 * "create": moved away and made anew) or no file (moved away only), the
 * path is opened again, and the line goes to the new file. A file
 * truncated in place (logrotate's "copytruncate") needs nothing: it is
 * open with O_APPEND, so the next line lands at its new end.
 */
#define _GNU_SOURCE /* secure_getenv */
#include "dance_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define SYSLOG_DEFAULT "/dev/log"
#define FACILITY_DAEMON 3 /* RFC 3164 facility code */
#define LINE_MAX_LEN 1400 /* a message is cut to fit one datagram */

typedef enum { SINK_STDERR, SINK_SYSLOG, SINK_FILE } sink_kind;

/* The sink is process-wide by nature (one log per process); level is read
 * without the lock on every call, the rest only under it. */
static atomic_int log_level = DANCE_LOG_WARN;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;
static sink_kind log_sink = SINK_STDERR;
static FILE *log_fp;        /* SINK_FILE only */
static char *log_path;      /* SINK_FILE: the path, to reopen it */
static time_t log_checked;  /* SINK_FILE: the second it was last looked at */
static int log_sock = -1;   /* SINK_SYSLOG: connected, or -1 */
static int log_sock_stream; /* the socket is SOCK_STREAM */
static char log_sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];

const char *const dance_log_level_names[] = {"error", "warn", "info", "debug",
                                             NULL};

/* dance_log_level_parse - see header. */
int dance_log_level_parse(const char *s, dance_log_level *out)
{
    for (int i = DANCE_LOG_ERROR; i <= DANCE_LOG_DEBUG; i++)
        if (strcmp(s, dance_log_level_names[i]) == 0) {
            *out = (dance_log_level)i;
            return 1;
        }
    return 0;
}

/* sock_close - drop the syslog socket (under log_lock). */
static void sock_close(void)
{
    if (log_sock >= 0)
        close(log_sock);
    log_sock = -1;
}

/* sock_open - connect to the syslog socket at log_sock_path (under
 * log_lock): a datagram socket, or a stream socket where the daemon
 * listens on one. Returns 1, or 0 with errno set. */
static int sock_open(void)
{
    static const int types[] = {SOCK_DGRAM, SOCK_STREAM};
    struct sockaddr_un sa;

    sock_close();
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    memcpy(sa.sun_path, log_sock_path, sizeof(sa.sun_path));
    for (size_t i = 0; i < 2; i++) {
        int fd = socket(AF_UNIX, types[i] | SOCK_CLOEXEC, 0);

        if (fd < 0)
            return 0;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
            log_sock = fd;
            log_sock_stream = types[i] == SOCK_STREAM;
            return 1;
        }
        close(fd);
        if (errno != EPROTOTYPE)
            return 0;
    }
    return 0;
}

/* file_open - a log file, appended to (O_APPEND), closed on exec, one
 * line per write. NULL with errno set. */
static FILE *file_open(const char *path)
{
    FILE *fp = fopen(path, "ae");

    if (fp != NULL)
        setvbuf(fp, NULL, _IOLBF, 0);
    return fp;
}

/* file_check - SINK_FILE, at most once a second (the second in now): if
 * log_path no longer names the open file (rotated: moved away, perhaps
 * made anew), open it again. Under log_lock. */
static void file_check(time_t now)
{
    struct stat at_path, open_file;
    FILE *fp;

    if (log_fp == NULL || log_path == NULL || now == log_checked)
        return;
    log_checked = now;
    if (fstat(fileno(log_fp), &open_file) != 0)
        return;
    if (stat(log_path, &at_path) == 0 && at_path.st_dev == open_file.st_dev &&
        at_path.st_ino == open_file.st_ino)
        return; /* the same file (perhaps truncated: O_APPEND copes) */
    fp = file_open(log_path);
    if (fp == NULL)
        return; /* lines go on to the old file; tried again next second */
    fclose(log_fp);
    log_fp = fp;
}

/* atfork_lock, atfork_unlock - hold the log lock across fork(), so a child
 * forked while another thread writes a line does not inherit it held. */
static void atfork_lock(void)
{
    pthread_mutex_lock(&log_lock);
}

static void atfork_unlock(void)
{
    pthread_mutex_unlock(&log_lock);
}

/* install_atfork - register the fork handlers once per process (the module
 * stays loaded for the life of the process). */
static void install_atfork(void)
{
    pthread_atfork(atfork_lock, atfork_unlock, atfork_unlock);
}

/* open_sink - what dest names: the kind of sink, the syslog socket path
 * (into sock, sizeof(log_sock_path)) or the opened file (*fp). Returns 1,
 * or 0 with a message in err. */
static int open_sink(const char *dest, sink_kind *kind, char *sock, FILE **fp,
                     char *err, size_t errlen)
{
    const char *path = SYSLOG_DEFAULT;

    *kind = SINK_STDERR;
    *fp = NULL;
    if (dest != NULL &&
        (strcmp(dest, "syslog") == 0 || strncmp(dest, "syslog:", 7) == 0)) {
        *kind = SINK_SYSLOG;
        if (dest[6] == ':')
            path = dest + 7;
        if (path[0] != '/' || strlen(path) >= sizeof(log_sock_path)) {
            snprintf(err, errlen,
                     "log_file = %s is not valid (expected syslog or "
                     "syslog:<absolute socket path, at most %zu bytes>)",
                     dest, sizeof(log_sock_path) - 1);
            return 0;
        }
        snprintf(sock, sizeof(log_sock_path), "%s", path);
    } else if (dest != NULL && strcmp(dest, "stderr") != 0) {
        *fp = file_open(dest);
        if (*fp == NULL) {
            snprintf(err, errlen, "cannot open log_file %s: %s", dest,
                     strerror(errno));
            return 0;
        }
        *kind = SINK_FILE;
    }
    return 1;
}

/* dance_log_check - see header. */
int dance_log_check(const char *dest, char *err, size_t errlen)
{
    char sock[sizeof(log_sock_path)];
    sink_kind kind;
    FILE *fp;

    if (!open_sink(dest, &kind, sock, &fp, err, errlen))
        return 0;
    if (fp != NULL)
        fclose(fp);
    return 1;
}

/* dance_log_configure - see header. */
int dance_log_configure(dance_log_level level, const char *dest, char *err,
                        size_t errlen)
{
    const char *env = secure_getenv("DANCE_LOG_LEVEL");
    char sock[sizeof(log_sock_path)];
    dance_log_level from_env;
    FILE *fp = NULL;
    char *path = NULL;
    sink_kind kind = SINK_STDERR;

    if (!open_sink(dest, &kind, sock, &fp, err, errlen))
        return 0;
    if (kind == SINK_FILE && (path = strdup(dest)) == NULL) {
        fclose(fp);
        snprintf(err, errlen, "cannot open log_file %s: out of memory", dest);
        return 0;
    }
    if (env != NULL && dance_log_level_parse(env, &from_env))
        level = from_env;
    pthread_once(&atfork_once, install_atfork);
    pthread_mutex_lock(&log_lock);
    if (log_fp != NULL)
        fclose(log_fp);
    log_fp = fp;
    free(log_path);
    log_path = path;
    log_checked = 0;
    sock_close();
    log_sink = kind;
    if (kind == SINK_SYSLOG) {
        snprintf(log_sock_path, sizeof(log_sock_path), "%s", sock);
        /* A syslog daemon that is not up yet is tried again per line. */
        (void)sock_open();
    }
    atomic_store(&log_level, (int)level);
    pthread_mutex_unlock(&log_lock);
    return 1;
}

/* dance_log_enabled - see header. */
int dance_log_enabled(dance_log_level level)
{
    return (int)level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

/* clean - replace control characters in s by '?': a line is one line, and
 * text from the network (a peer's name, a certificate field) cannot forge
 * another. */
static void clean(char *s)
{
    for (unsigned char *p = (unsigned char *)s; *p != '\0'; p++)
        if (*p < 0x20 || *p == 0x7f)
            *p = '?';
}

/* format_stamp - "2026-11-29T21:42:11.123Z" (ISO 8601, UTC, ms) in buf. */
static void format_stamp(const struct timespec *now, char *buf, size_t len)
{
    struct tm tm;
    char day[32];

    if (gmtime_r(&now->tv_sec, &tm) == NULL ||
        strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        snprintf(day, sizeof(day), "%lld", (long long)now->tv_sec);
    snprintf(buf, len, "%s.%03ldZ", day, now->tv_nsec / 1000000);
}

/* format_syslog_stamp - RFC 3164 "Mmm dd hh:mm:ss", local time, English
 * month names whatever the locale. */
static void format_syslog_stamp(time_t t, char *buf, size_t len)
{
    static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
                                         "May", "Jun", "Jul", "Aug",
                                         "Sep", "Oct", "Nov", "Dec"};
    struct tm tm;

    if (localtime_r(&t, &tm) == NULL)
        memset(&tm, 0, sizeof(tm));
    snprintf(buf, len, "%s %2d %02d:%02d:%02d", months[tm.tm_mon % 12],
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* send_syslog - one line to the syslog socket (under log_lock); a
 * restarted daemon gets one reconnect. Returns 1 if it was sent. */
static int send_syslog(const char *line, size_t len)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        if (log_sock < 0 && !sock_open())
            return 0;
        /* A stream socket needs the terminating NUL as the separator. */
        if (send(log_sock, line, len + (size_t)log_sock_stream, MSG_NOSIGNAL) >=
            0)
            return 1;
        sock_close();
    }
    return 0;
}

/* dance_log - see header. */
void dance_log(dance_log_level level, const char *fmt, ...)
{
    static const int severity[] = {3, 4, 6, 7}; /* err warning info debug */
    char msg[1024], stamp[48], line[LINE_MAX_LEN];
    struct timespec now;
    long pid = (long)getpid();
    va_list ap;
    int n;

    if (!dance_log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    clean(msg);
    clock_gettime(CLOCK_REALTIME, &now);
    pthread_mutex_lock(&log_lock);
    if (log_sink == SINK_SYSLOG) {
        format_syslog_stamp(now.tv_sec, stamp, sizeof(stamp));
        n = snprintf(line, sizeof(line), "<%d>%s dance[%ld]: %s: %s",
                     FACILITY_DAEMON * 8 + severity[level], stamp, pid,
                     dance_log_level_names[level], msg);
        if (n > 0 &&
            send_syslog(line, (size_t)n < sizeof(line) ? (size_t)n
                                                       : sizeof(line) - 1)) {
            pthread_mutex_unlock(&log_lock);
            return;
        }
        /* No syslog daemon: stderr rather than nothing. */
    }
    if (log_sink == SINK_FILE)
        file_check(now.tv_sec);
    format_stamp(&now, stamp, sizeof(stamp));
    n = snprintf(line, sizeof(line), "%s dance[%ld]: %s: %s\n", stamp, pid,
                 dance_log_level_names[level], msg);
    if (n >= (int)sizeof(line)) {
        n = (int)sizeof(line) - 1;
        line[n - 1] = '\n';
    }
    if (n > 0)
        fwrite(line, 1, (size_t)n,
               log_sink == SINK_FILE && log_fp != NULL ? log_fp : stderr);
    pthread_mutex_unlock(&log_lock);
}
