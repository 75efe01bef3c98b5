/*
 * dance_cbor.c - deterministic CBOR encoding and defensive decoding on
 * libcbor (see dance_cbor.h).
 */
#include <stdlib.h>
#include <string.h>

#include "dance_cbor.h"
#include "dance_msg.h"

/* dance_cbor_init - see dance_cbor.h. */
void dance_cbor_init(dance_cbor_buf *b)
{
    memset(b, 0, sizeof(*b));
}

/* dance_cbor_reset - see dance_cbor.h. */
void dance_cbor_reset(dance_cbor_buf *b)
{
    free(b->data);
    dance_cbor_init(b);
}

/* reserve - room for n more octets; 0, or -1 (and b marked failed). */
static int reserve(dance_cbor_buf *b, size_t n)
{
    size_t cap;
    uint8_t *p;

    if (b->failed)
        return -1;
    if (b->cap - b->len >= n)
        return 0;
    if (n > SIZE_MAX / 2 - b->len)
        goto err;
    cap = b->cap ? b->cap : 256;
    while (cap - b->len < n)
        cap *= 2;
    p = realloc(b->data, cap);
    if (p == NULL)
        goto err;
    b->data = p;
    b->cap = cap;
    return 0;

err:
    b->failed = 1;
    return -1;
}

/* put_head - append a head written by one of libcbor's encoders. */
static void put_head(dance_cbor_buf *b,
                     size_t (*enc)(uint64_t, unsigned char *, size_t),
                     uint64_t v)
{
    size_t n;

    if (reserve(b, 9) != 0)
        return;
    n = enc(v, b->data + b->len, b->cap - b->len);
    if (n == 0)
        b->failed = 1;
    b->len += n;
}

/* enc_bstr - libcbor's bstr head encoder with a uint64_t length. */
static size_t enc_bstr(uint64_t v, unsigned char *p, size_t n)
{
    return cbor_encode_bytestring_start((size_t)v, p, n);
}

/* enc_tstr - libcbor's text string head encoder. */
static size_t enc_tstr(uint64_t v, unsigned char *p, size_t n)
{
    return cbor_encode_string_start((size_t)v, p, n);
}

/* enc_array - libcbor's array head encoder. */
static size_t enc_array(uint64_t v, unsigned char *p, size_t n)
{
    return cbor_encode_array_start((size_t)v, p, n);
}

/* enc_map - libcbor's map head encoder. */
static size_t enc_map(uint64_t v, unsigned char *p, size_t n)
{
    return cbor_encode_map_start((size_t)v, p, n);
}

/* put_bytes - append raw octets. */
static void put_bytes(dance_cbor_buf *b, const void *data, size_t len)
{
    if (len == 0 || reserve(b, len) != 0)
        return;
    memcpy(b->data + b->len, data, len);
    b->len += len;
}

/* dance_cbor_put_uint - see dance_cbor.h. */
void dance_cbor_put_uint(dance_cbor_buf *b, uint64_t v)
{
    put_head(b, cbor_encode_uint, v);
}

/* dance_cbor_put_int - see dance_cbor.h. */
void dance_cbor_put_int(dance_cbor_buf *b, int64_t v)
{
    if (v >= 0)
        put_head(b, cbor_encode_uint, (uint64_t)v);
    else
        put_head(b, cbor_encode_negint, (uint64_t)(-(v + 1)));
}

/* dance_cbor_put_bstr - see dance_cbor.h. */
void dance_cbor_put_bstr(dance_cbor_buf *b, const uint8_t *data, size_t len)
{
    put_head(b, enc_bstr, len);
    put_bytes(b, data, len);
}

/* dance_cbor_put_tstr - see dance_cbor.h. */
void dance_cbor_put_tstr(dance_cbor_buf *b, const char *s)
{
    size_t len = strlen(s);

    put_head(b, enc_tstr, len);
    put_bytes(b, s, len);
}

/* dance_cbor_put_array - see dance_cbor.h. */
void dance_cbor_put_array(dance_cbor_buf *b, size_t n)
{
    put_head(b, enc_array, n);
}

/* dance_cbor_put_map - see dance_cbor.h. */
void dance_cbor_put_map(dance_cbor_buf *b, size_t n)
{
    put_head(b, enc_map, n);
}

/* dance_cbor_put_tag - see dance_cbor.h. */
void dance_cbor_put_tag(dance_cbor_buf *b, uint64_t tag)
{
    put_head(b, cbor_encode_tag, tag);
}

/* dance_cbor_put_null - see dance_cbor.h. */
void dance_cbor_put_null(dance_cbor_buf *b)
{
    if (reserve(b, 1) != 0)
        return;
    b->len += cbor_encode_null(b->data + b->len, b->cap - b->len);
}

/* dance_cbor_take - see dance_cbor.h. */
int dance_cbor_take(dance_cbor_buf *b, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (b->failed || b->len == 0) {
        dance_cbor_reset(b);
        return -1;
    }
    *out = b->data;
    *len = b->len;
    dance_cbor_init(b);
    return 0;
}

/* dance_cbor_wellformed - see dance_cbor.h.  Iterative: remaining[d] is
 * how many items are still due at nesting level d. */
int dance_cbor_wellformed(const uint8_t *buf, size_t len, unsigned max_depth,
                          char *err, size_t errlen)
{
    uint64_t remaining[DANCE_CBOR_MAX_DEPTH + 2];
    unsigned depth = 0;
    size_t pos = 0, start, i, extra;
    uint64_t val;
    uint8_t ib, mt, ai;

    if (max_depth > DANCE_CBOR_MAX_DEPTH)
        max_depth = DANCE_CBOR_MAX_DEPTH;
    remaining[0] = 1;
    for (;;) {
        if (remaining[depth] == 0) {
            if (depth == 0)
                break;
            depth--;
            continue;
        }
        remaining[depth]--;
        start = pos;
        if (pos >= len)
            goto truncated;
        ib = buf[pos++];
        mt = ib >> 5;
        ai = ib & 0x1f;
        if (ai < 24) {
            val = ai;
        } else if (ai <= 27) {
            extra = (size_t)1 << (ai - 24);
            if (len - pos < extra)
                goto truncated;
            for (val = 0, i = 0; i < extra; i++)
                val = (val << 8) | buf[pos++];
        } else if (ai == 31) {
            dance_msg(err, errlen,
                      "indefinite-length item at offset %zu (only "
                      "definite lengths are accepted)",
                      start);
            return -1;
        } else {
            goto bad;
        }
        switch (mt) {
        case 0: /* unsigned */
        case 1: /* negative */
            break;
        case 2: /* byte string */
        case 3: /* text string */
            if (val > len - pos)
                goto truncated;
            pos += (size_t)val;
            break;
        case 4: /* array */
        case 5: /* map */
        case 6: /* tag: one item follows, nested like a container */
            if (mt == 5 && val > (len - pos) / 2)
                goto truncated;
            if (mt == 6)
                val = 1;
            if (val > len - pos)
                goto truncated;
            if (depth + 1 > max_depth) {
                dance_msg(err, errlen,
                          "items nested deeper than %u at offset %zu",
                          max_depth, start);
                return -1;
            }
            remaining[++depth] = mt == 5 ? val * 2 : val;
            break;
        default: /* 7: simple values and floats */
            if (ai == 24 && val < 32)
                goto bad;
            break;
        }
    }
    if (pos != len) {
        dance_msg(err, errlen, "%zu octets of trailing data after the item",
                  len - pos);
        return -1;
    }
    return 0;

truncated:
    dance_msg(err, errlen,
              "truncated: the item at offset %zu runs past the end "
              "(%zu octets)",
              start, len);
    return -1;
bad:
    dance_msg(err, errlen, "not well-formed CBOR at offset %zu", start);
    return -1;
}

/* dance_cbor_decode - see dance_cbor.h. */
dance_fw_status dance_cbor_decode(const uint8_t *buf, size_t len,
                                  const char *what, cbor_item_t **item,
                                  char *err, size_t errlen)
{
    struct cbor_load_result res;
    char why[160];

    *item = NULL;
    if (buf == NULL || len == 0)
        return DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen, "%s: empty input",
                          what);
    if (dance_cbor_wellformed(buf, len, DANCE_CBOR_MAX_DEPTH, why,
                              sizeof(why)) != 0)
        return DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                          "%s is not valid CBOR: %s", what, why);
    *item = cbor_load(buf, len, &res);
    if (*item == NULL || res.error.code != CBOR_ERR_NONE || res.read != len) {
        if (*item != NULL)
            cbor_decref(item);
        *item = NULL;
        if (res.error.code == CBOR_ERR_MEMERROR)
            return DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen,
                              "%s: out of memory decoding CBOR", what);
        return DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                          "%s: libcbor cannot decode it (error %d at "
                          "offset %zu)",
                          what, (int)res.error.code, res.error.position);
    }
    return DANCE_FW_OK;
}

/* dance_cbor_skip_tag - see dance_cbor.h. */
void dance_cbor_skip_tag(const uint8_t **buf, size_t *len, uint64_t tag)
{
    unsigned char head[9];
    size_t n = cbor_encode_tag(tag, head, sizeof(head));

    if (n > 0 && *len > n && memcmp(*buf, head, n) == 0) {
        *buf += n;
        *len -= n;
    }
}

/* dance_cbor_untag - see dance_cbor.h. */
cbor_item_t *dance_cbor_untag(cbor_item_t *item, uint64_t tag)
{
    if (item == NULL || !cbor_isa_tag(item))
        return item;
    if (cbor_tag_value(item) != tag)
        return NULL;
    /* cbor_tag_item takes a reference; the tag keeps its own. */
    return cbor_move(cbor_tag_item(item));
}

/* dance_cbor_is_null - see dance_cbor.h. */
int dance_cbor_is_null(const cbor_item_t *item)
{
    return item != NULL && cbor_isa_float_ctrl(item) &&
           cbor_float_get_width(item) == CBOR_FLOAT_0 &&
           cbor_ctrl_value(item) == CBOR_CTRL_NULL;
}

/* dance_cbor_get_int - see dance_cbor.h. */
int dance_cbor_get_int(const cbor_item_t *item, int64_t *v)
{
    uint64_t u;

    if (item == NULL || !cbor_is_int(item))
        return -1;
    u = cbor_get_int(item);
    if (u > INT64_MAX)
        return -1;
    *v = cbor_isa_uint(item) ? (int64_t)u : -(int64_t)u - 1;
    return 0;
}

/* dance_cbor_get_uint - see dance_cbor.h. */
int dance_cbor_get_uint(const cbor_item_t *item, uint64_t *v)
{
    if (item == NULL || !cbor_isa_uint(item))
        return -1;
    *v = cbor_get_int(item);
    return 0;
}

/* dance_cbor_get_bstr - see dance_cbor.h. */
int dance_cbor_get_bstr(const cbor_item_t *item, const uint8_t **p, size_t *len)
{
    if (item == NULL || !cbor_isa_bytestring(item) ||
        !cbor_bytestring_is_definite(item))
        return -1;
    *p = cbor_bytestring_handle(item);
    *len = cbor_bytestring_length(item);
    if (*p == NULL && *len != 0)
        return -1;
    return 0;
}

/* dance_cbor_get_tstr - see dance_cbor.h. */
int dance_cbor_get_tstr(const cbor_item_t *item, const char **p, size_t *len)
{
    if (item == NULL || !cbor_isa_string(item) ||
        !cbor_string_is_definite(item))
        return -1;
    *p = (const char *)cbor_string_handle(item);
    *len = cbor_string_length(item);
    if (*p == NULL && *len != 0)
        return -1;
    return 0;
}

/* dance_cbor_map_get - see dance_cbor.h. */
int dance_cbor_map_get(const cbor_item_t *map, int64_t key, cbor_item_t **value)
{
    struct cbor_pair *pairs;
    size_t i, n;
    int64_t k;

    *value = NULL;
    if (map == NULL || !cbor_isa_map(map) || !cbor_map_is_definite(map))
        return -1;
    pairs = cbor_map_handle(map);
    n = cbor_map_size(map);
    for (i = 0; i < n; i++) {
        if (dance_cbor_get_int(pairs[i].key, &k) != 0 || k != key)
            continue;
        if (*value != NULL) {
            *value = NULL;
            return -1; /* duplicate key */
        }
        *value = pairs[i].value;
    }
    return 0;
}
