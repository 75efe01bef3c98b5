/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_name.h - client names: the rules for a ClientName, its wire form in
 * the dane_clientid extension, and allow-list patterns.
 *
 * A ClientName is a DNS name in presentation format without the trailing
 * dot, made of letters, digits, hyphens, underscores and dots only (so
 * A-labels, never U-labels or \DDD escapes), labels of 1 to 63 octets,
 * at most 253 octets in all (draft-ietf-dance-tls-clientid).
 */
#ifndef DANCE_NAME_H
#define DANCE_NAME_H

#include <stddef.h>

#define DANCE_NAME_MAX 253

/*
 * dance_name_check - is s[0..len) a valid ClientName? Returns 1, or 0 and
 * sets *why (static text) to the rule it breaks.
 */
int dance_name_check(const char *s, size_t len, const char **why);

typedef enum {
    DANCE_WIRE_EMPTY = 0, /* no extension_data: a bare signal */
    DANCE_WIRE_ZERO_NAME, /* one octet 0: a zero-length ClientName */
    DANCE_WIRE_NAME,      /* a ClientName, copied to out */
    DANCE_WIRE_MALFORMED  /* anything else; *why says what */
} dance_wire;

/*
 * dance_name_decode - parse extension_data (opaque ClientName<0..255>).
 * out must hold DANCE_NAME_MAX + 1 bytes; on DANCE_WIRE_NAME it receives
 * the validated, NUL-terminated name.
 */
dance_wire dance_name_decode(const unsigned char *data, size_t len, char *out,
                             const char **why);

/*
 * dance_name_encode - the extension_data for name (NULL or "" gives the
 * one-octet zero-length form) into out (at least DANCE_NAME_MAX + 1 bytes).
 * Returns the number of bytes, or 0 if name is not a valid ClientName.
 */
size_t dance_name_encode(const char *name, unsigned char *out, size_t outlen);

/*
 * dance_name_match - does name match pattern? Labels compare without
 * regard to ASCII case. A "*" label matches exactly one label, except
 * as the leftmost label, where it matches one or more:
 * "*.devices.example.com" matches "a.b.devices.example.com" but not
 * "devices.example.com"; "_ns-client.*.example.net" matches
 * "_ns-client.ns1.example.net".
 */
int dance_name_match(const char *pattern, const char *name);

/*
 * dance_pattern_check - is s a valid allow-list pattern (a ClientName whose
 * labels may be "*")? Returns 1, or 0 with *why set.
 */
int dance_pattern_check(const char *s, const char **why);

#endif /* DANCE_NAME_H */
