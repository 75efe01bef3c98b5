/*
 * dance_msg.h - the one way a message reaches a caller's buffer.
 *
 * Every layer reports "why" into a caller-supplied buffer (err/errlen,
 * why/whylen). dance_msg formats into it; DANCE_FAIL does that and yields
 * a status, so a function can end with "return DANCE_FAIL(st, err, len,
 * ...)". Messages are truncated to the buffer, always terminated.
 */
#ifndef DANCE_MSG_H
#define DANCE_MSG_H

#include <stdarg.h>
#include <stddef.h>

/* dance_msg - printf fmt into buf (len bytes); nothing when buf is NULL
 * or len is 0. */
void dance_msg(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* dance_vmsg - dance_msg with a va_list. */
void dance_vmsg(char *buf, size_t len, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

/* DANCE_FAIL - dance_msg(buf, len, fmt, ...), then the value st. */
#define DANCE_FAIL(st, buf, len, ...)                                          \
    (dance_msg((buf), (len), __VA_ARGS__), (st))

#endif /* DANCE_MSG_H */
