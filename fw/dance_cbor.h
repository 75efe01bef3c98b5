/*
 * dance_cbor.h - the CBOR (RFC 8949) layer of the firmware-key modules, on
 * libcbor: a deterministic encoder into a growing buffer, and a defensive
 * decoder that checks well-formedness and bounds before libcbor builds
 * items.
 *
 * Encoding: definite lengths, shortest integer forms (RFC 8949 4.2.1);
 * callers write map keys in ascending order.  Errors are sticky: after the
 * first allocation failure every put is a no-op and dance_cbor_take fails.
 *
 * Decoding accepts only definite-length items, at most DANCE_CBOR_MAX_DEPTH
 * nested arrays/maps/tags, and exactly one item filling the input.
 */
#ifndef DANCE_CBOR_H
#define DANCE_CBOR_H

#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

#include "dance_fw.h"

#define DANCE_CBOR_MAX_DEPTH 16

typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
    int failed;
} dance_cbor_buf;

/* dance_cbor_init - an empty buffer (no allocation yet). */
void dance_cbor_init(dance_cbor_buf *b);

/* dance_cbor_reset - free b's data and make it empty again. */
void dance_cbor_reset(dance_cbor_buf *b);

/* dance_cbor_put_uint - append an unsigned integer. */
void dance_cbor_put_uint(dance_cbor_buf *b, uint64_t v);

/* dance_cbor_put_int - append a signed integer (major type 0 or 1). */
void dance_cbor_put_int(dance_cbor_buf *b, int64_t v);

/* dance_cbor_put_bstr - append a byte string (data may be NULL if len 0). */
void dance_cbor_put_bstr(dance_cbor_buf *b, const uint8_t *data, size_t len);

/* dance_cbor_put_tstr - append a text string (UTF-8, NUL-terminated). */
void dance_cbor_put_tstr(dance_cbor_buf *b, const char *s);

/* dance_cbor_put_array - append the head of an array of n items. */
void dance_cbor_put_array(dance_cbor_buf *b, size_t n);

/* dance_cbor_put_map - append the head of a map of n pairs. */
void dance_cbor_put_map(dance_cbor_buf *b, size_t n);

/* dance_cbor_put_tag - append a tag head; the tagged item follows. */
void dance_cbor_put_tag(dance_cbor_buf *b, uint64_t tag);

/* dance_cbor_put_null - append null. */
void dance_cbor_put_null(dance_cbor_buf *b);

/*
 * dance_cbor_take - hand b's bytes to the caller (*out, freed with free())
 * and reset b.  Returns 0, or -1 (b reset, *out NULL) if any put failed.
 */
int dance_cbor_take(dance_cbor_buf *b, uint8_t **out, size_t *len);

/*
 * dance_cbor_wellformed - check that buf holds exactly one well-formed,
 * definite-length CBOR item nested at most max_depth deep.  Returns 0 or -1
 * with err saying what is wrong and where.
 */
int dance_cbor_wellformed(const uint8_t *buf, size_t len, unsigned max_depth,
                          char *err, size_t errlen);

/*
 * dance_cbor_decode - dance_cbor_wellformed, then libcbor's cbor_load.
 * On DANCE_FW_OK *item is a new item the caller releases (cbor_decref);
 * what names the structure in error messages ("manifest", ...).
 */
dance_fw_status dance_cbor_decode(const uint8_t *buf, size_t len,
                                  const char *what, cbor_item_t **item,
                                  char *err, size_t errlen);

/*
 * dance_cbor_skip_tag - if *buf starts with the head of tag, move *buf and
 * *len past that head (the tagged item follows).  libcbor 0.8 refuses tags
 * 6..20 (such as COSE_Sign1's 18) in cbor_load, so outermost tags are
 * taken off here before decoding.
 */
void dance_cbor_skip_tag(const uint8_t **buf, size_t *len, uint64_t tag);

/*
 * dance_cbor_untag - item without its tag: the tagged item if item is
 * tagged with tag, item itself if untagged, NULL if it has another tag.
 * The result is borrowed from item.
 */
cbor_item_t *dance_cbor_untag(cbor_item_t *item, uint64_t tag);

/*
 * dance_cbor_map_get - the value under integer key in map (borrowed), in
 * *value (NULL when absent).  Returns 0, or -1 if map is not a definite
 * map or the key occurs more than once.
 */
int dance_cbor_map_get(const cbor_item_t *map, int64_t key,
                       cbor_item_t **value);

/* dance_cbor_is_null - 1 if item is the simple value null.  (libcbor 0.8's
 * cbor_is_null asserts, and so aborts, when given a float.) */
int dance_cbor_is_null(const cbor_item_t *item);

/* dance_cbor_get_int - 0 and *v if item is an integer fitting int64_t. */
int dance_cbor_get_int(const cbor_item_t *item, int64_t *v);

/* dance_cbor_get_uint - 0 and *v if item is an unsigned integer. */
int dance_cbor_get_uint(const cbor_item_t *item, uint64_t *v);

/* dance_cbor_get_bstr - 0 and the bytes (borrowed) of a definite bstr. */
int dance_cbor_get_bstr(const cbor_item_t *item, const uint8_t **p,
                        size_t *len);

/* dance_cbor_get_tstr - 0 and the bytes (borrowed, not NUL-terminated) of a
 * definite text string. */
int dance_cbor_get_tstr(const cbor_item_t *item, const char **p, size_t *len);

#endif /* DANCE_CBOR_H */
