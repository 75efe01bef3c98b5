/* dance_msg.c - see dance_msg.h. */
#include "dance_msg.h"

#include <stdio.h>

/* dance_vmsg - see header. */
void dance_vmsg(char *buf, size_t len, const char *fmt, va_list ap)
{
    if (buf == NULL || len == 0)
        return;
    vsnprintf(buf, len, fmt, ap);
}

/* dance_msg - see header. */
void dance_msg(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    dance_vmsg(buf, len, fmt, ap);
    va_end(ap);
}
