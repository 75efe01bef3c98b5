/*
 * dance_log.c - the provider's log sink: stderr, syslog or a file.
 */
#include "dance_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

typedef enum { SINK_STDERR, SINK_SYSLOG, SINK_FILE } sink_kind;

/* The sink is process-wide by nature (one log per process); level is read
 * without the lock on every call, the rest only under it. */
static atomic_int log_level = DANCE_LOG_WARN;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static sink_kind log_sink = SINK_STDERR;
static FILE *log_fp; /* SINK_FILE only */

static const char *const level_names[] = {"error", "warn", "info", "debug"};

/* dance_log_level_parse - see header. */
int dance_log_level_parse(const char *s, dance_log_level *out)
{
    for (int i = DANCE_LOG_ERROR; i <= DANCE_LOG_DEBUG; i++)
        if (strcmp(s, level_names[i]) == 0) {
            *out = (dance_log_level)i;
            return 1;
        }
    return 0;
}

/* dance_log_configure - see header. */
int dance_log_configure(dance_log_level level, const char *dest, char *err,
                        size_t errlen)
{
    const char *env = getenv("DANCE_LOG_LEVEL");
    dance_log_level from_env;
    FILE *fp = NULL;
    sink_kind kind = SINK_STDERR;

    if (dest != NULL && strcmp(dest, "syslog") == 0) {
        kind = SINK_SYSLOG;
    } else if (dest != NULL && strcmp(dest, "stderr") != 0) {
        fp = fopen(dest, "a");
        if (fp == NULL) {
            snprintf(err, errlen, "cannot open log_file %s: %s", dest,
                     strerror(errno));
            return 0;
        }
        setvbuf(fp, NULL, _IOLBF, 0);
        kind = SINK_FILE;
    }
    if (env != NULL && dance_log_level_parse(env, &from_env))
        level = from_env;
    pthread_mutex_lock(&log_lock);
    if (log_fp != NULL)
        fclose(log_fp);
    log_fp = fp;
    log_sink = kind;
    if (kind == SINK_SYSLOG)
        openlog("dance", LOG_PID, LOG_DAEMON);
    atomic_store(&log_level, (int)level);
    pthread_mutex_unlock(&log_lock);
    return 1;
}

/* dance_log_enabled - see header. */
int dance_log_enabled(dance_log_level level)
{
    return (int)level <= atomic_load_explicit(&log_level, memory_order_relaxed);
}

/* dance_log - see header. */
void dance_log(dance_log_level level, const char *fmt, ...)
{
    static const int syslog_prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO,
                                      LOG_DEBUG};
    char msg[1024];
    va_list ap;

    if (!dance_log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&log_lock);
    if (log_sink == SINK_SYSLOG)
        syslog(syslog_prio[level], "%s: %s", level_names[level], msg);
    else
        fprintf(log_sink == SINK_FILE ? log_fp : stderr, "dance[%ld]: %s: %s\n",
                (long)getpid(), level_names[level], msg);
    pthread_mutex_unlock(&log_lock);
}
