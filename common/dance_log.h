/*
 * dance_log.h - levelled logging for the provider.
 *
 * One process-wide sink, configured once when the provider activates
 * (openssl.cnf keys log_level and log_file); the environment variable
 * DANCE_LOG_LEVEL, when set, overrides log_level (ignored in setuid
 * programs). A message below the level costs one integer comparison.
 * Thread-safe: one line is written with one write (or one datagram), so
 * lines of concurrent threads never mix. Control characters in a message
 * are written as '?'. Never log keys or other secrets.
 */
#ifndef DANCE_LOG_H
#define DANCE_LOG_H

#include <stddef.h>

typedef enum {
    DANCE_LOG_ERROR = 0,
    DANCE_LOG_WARN,
    DANCE_LOG_INFO,
    DANCE_LOG_DEBUG
} dance_log_level;

/* The names of the levels, indexed by dance_log_level, NULL-terminated:
 * the only copy (log lines, DANCE_LOG_LEVEL and openssl.cnf's log_level). */
extern const char *const dance_log_level_names[];

/* dance_log_level_parse - "error", "warn", "info" or "debug"; 0 if not. */
int dance_log_level_parse(const char *s, dance_log_level *out);

/*
 * dance_log_configure - send messages at level or above to dest:
 *  - "stderr", or a file path (appended to): lines
 *    "2026-11-29T21:42:11.123Z dance[pid]: warn: message" (UTC, ms); a
 *    file that is rotated (moved away, made anew, or truncated) is
 *    followed: the path is looked at again at most once a second, before
 *    a line is written, and opened again when it names another file;
 *  - "syslog" (the socket /dev/log) or "syslog:/path/to/socket": RFC 3164
 *    messages "<28>Nov 29 21:42:11 dance[pid]: warn: message", facility
 *    daemon, sent on the module's own socket, so they carry the dance
 *    identity whatever the host program's openlog() says, and the host's
 *    own syslog is untouched. While the socket cannot be reached, lines go
 *    to stderr.
 * Returns 1, or 0 with a message in err when the file cannot be opened or
 * the syslog path is not valid. May be called again (reconfigures).
 */
int dance_log_configure(dance_log_level level, const char *dest, char *err,
                        size_t errlen);

/*
 * dance_log_check - would dance_log_configure accept dest? Opens it the
 * same way (a file is created if missing, as activation would) and closes
 * it again; the sink in use is untouched. Returns 1, or 0 with the message
 * dance_log_configure would give in err.
 */
int dance_log_check(const char *dest, char *err, size_t errlen);

/* dance_log_enabled - would a message at level be written? */
int dance_log_enabled(dance_log_level level);

/* dance_log - write one line (see dance_log_configure) at level. */
void dance_log(dance_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif /* DANCE_LOG_H */
