/*
 * dance_fw.c - status strings, key-id rules and file reading shared by the
 * firmware-key modules.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dance_fw.h"
#include "dance_msg.h"

/* dance_fw_status_str - see dance_fw.h. */
const char *dance_fw_status_str(dance_fw_status st)
{
    switch (st) {
    case DANCE_FW_OK:
        return "ok";
    case DANCE_FW_MALFORMED:
        return "malformed";
    case DANCE_FW_UNSUPPORTED:
        return "unsupported";
    case DANCE_FW_BAD_SIGNATURE:
        return "bad-signature";
    case DANCE_FW_DIGEST_MISMATCH:
        return "digest-mismatch";
    case DANCE_FW_KEY_MISMATCH:
        return "key-mismatch";
    case DANCE_FW_DNS:
        return "dns";
    case DANCE_FW_NONCE:
        return "nonce";
    case DANCE_FW_INTERNAL:
        return "internal";
    }
    return "unknown";
}

/* dance_fw_kid_valid - see dance_fw.h. */
int dance_fw_kid_valid(const uint8_t *kid, size_t len)
{
    size_t i;

    if (kid == NULL || len == 0 || len > 63)
        return 0;
    for (i = 0; i < len; i++) {
        uint8_t c = kid[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return 0;
    }
    return 1;
}

/* dance_fw_read_file - see dance_fw.h. */
dance_fw_status dance_fw_read_file(const char *path, size_t max, uint8_t **data,
                                   size_t *len, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t n = 0, got;
    dance_fw_status st;

    *data = NULL;
    *len = 0;
    if (f == NULL)
        return DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "cannot open %s: %s",
                          path, strerror(errno));
    buf = malloc(max + 1);
    if (buf == NULL) {
        st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "out of memory");
        goto err;
    }
    while ((got = fread(buf + n, 1, max + 1 - n, f)) > 0) {
        n += got;
        if (n > max) {
            st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen,
                            "%s is larger than %zu octets", path, max);
            goto err;
        }
    }
    if (ferror(f)) {
        st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "cannot read %s", path);
        goto err;
    }
    if (f != stdin)
        fclose(f);
    *data = buf;
    *len = n;
    return DANCE_FW_OK;

err:
    if (f != stdin)
        fclose(f);
    free(buf);
    return st;
}

/* hexval - the value of one hex digit, or -1. */
static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* dance_fw_hex_decode - see dance_fw.h. */
int dance_fw_hex_decode(const char *hex, uint8_t **out, size_t *len)
{
    size_t n = strlen(hex), i;
    uint8_t *b;

    *out = NULL;
    *len = 0;
    if (n == 0 || n % 2 != 0)
        return -1;
    b = malloc(n / 2);
    if (b == NULL)
        return -1;
    for (i = 0; i < n / 2; i++) {
        int hi = hexval(hex[2 * i]), lo = hexval(hex[2 * i + 1]);

        if (hi < 0 || lo < 0) {
            free(b);
            return -1;
        }
        b[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = b;
    *len = n / 2;
    return 0;
}
