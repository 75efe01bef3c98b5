/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_name.c - ClientName validation, wire codec and allow-list matching.
 */
#include "dance_name.h"

#include <string.h>
#include <strings.h>

#define LABEL_MAX 63
#define MAX_LABELS 127

/* name_char_ok - letters, digits, '-', '_' and '.' only. */
static int name_char_ok(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

/* check_labels - shared rules of names and patterns; star allows "*"
 * labels. */
static int check_labels(const char *s, size_t len, int star, const char **why)
{
    size_t label = 0;

    if (len == 0) {
        *why = "empty name";
        return 0;
    }
    if (len > DANCE_NAME_MAX) {
        *why = "name longer than 253 octets";
        return 0;
    }
    if (s[len - 1] == '.') {
        *why = "trailing dot";
        return 0;
    }
    for (size_t i = 0; i <= len; i++) {
        unsigned char c = i < len ? (unsigned char)s[i] : '.';

        if (c == '.') {
            if (label == 0) {
                *why = "empty label";
                return 0;
            }
            label = 0;
            continue;
        }
        if (!name_char_ok(c) && !(star && c == '*')) {
            *why = "character other than letter, digit, '-', '_' or '.'";
            return 0;
        }
        if (c == '*' && (label != 0 || (i + 1 < len && s[i + 1] != '.'))) {
            *why = "'*' must be a whole label";
            return 0;
        }
        if (++label > LABEL_MAX) {
            *why = "label longer than 63 octets";
            return 0;
        }
    }
    return 1;
}

/* dance_name_check - see header. */
int dance_name_check(const char *s, size_t len, const char **why)
{
    return check_labels(s, len, 0, why);
}

/* dance_pattern_check - see header. */
int dance_pattern_check(const char *s, const char **why)
{
    return check_labels(s, strlen(s), 1, why);
}

/* dance_name_decode - see header. */
dance_wire dance_name_decode(const unsigned char *data, size_t len, char *out,
                             const char **why)
{
    if (len == 0)
        return DANCE_WIRE_EMPTY;
    if ((size_t)data[0] != len - 1) {
        *why = "ClientName length octet does not match the extension length";
        return DANCE_WIRE_MALFORMED;
    }
    if (data[0] == 0)
        return DANCE_WIRE_ZERO_NAME;
    if (!dance_name_check((const char *)data + 1, len - 1, why))
        return DANCE_WIRE_MALFORMED;
    memcpy(out, data + 1, len - 1);
    out[len - 1] = '\0';
    return DANCE_WIRE_NAME;
}

/* dance_name_encode - see header. */
size_t dance_name_encode(const char *name, unsigned char *out, size_t outlen)
{
    size_t len = name != NULL ? strlen(name) : 0;
    const char *why;

    if (outlen < len + 1 || (len > 0 && !dance_name_check(name, len, &why)))
        return 0;
    out[0] = (unsigned char)len;
    memcpy(out + 1, name, len);
    return len + 1;
}

/* split - label start offsets and lengths of s; returns the count. */
static size_t split(const char *s, const char **start, size_t *len)
{
    size_t n = 0;

    while (*s != '\0' && n < MAX_LABELS) {
        size_t l = strcspn(s, ".");

        start[n] = s;
        len[n++] = l;
        s += l;
        if (*s == '.')
            s++;
    }
    return n;
}

/* dance_name_match - see header. */
int dance_name_match(const char *pattern, const char *name)
{
    const char *ps[MAX_LABELS], *ns[MAX_LABELS];
    size_t pl[MAX_LABELS], nl[MAX_LABELS];
    size_t np = split(pattern, ps, pl), nn = split(name, ns, nl);
    size_t i;

    if (np == 0 || nn < np)
        return 0;
    /* Compare from the right: pattern label np-1-i against name label
     * nn-1-i; the leftmost pattern label may absorb extra name labels. */
    for (i = 0; i < np; i++) {
        size_t p = np - 1 - i, q = nn - 1 - i;
        int star = pl[p] == 1 && ps[p][0] == '*';

        if (p == 0 && star)
            return 1; /* nn >= np: at least one label is left for it */
        if (star)
            continue;
        if (pl[p] != nl[q] || strncasecmp(ps[p], ns[q], pl[p]) != 0)
            return 0;
    }
    return nn == np;
}
