/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_result.c - immutable, reference-counted lookup results.
 *
 * A result is one allocation: the fixed fields, then the name, the reason
 * and the records in DNS wire form (each one owner, type, class, TTL,
 * RDLENGTH, RDATA, without name compression). A cache of 100,000 client
 * identities therefore costs one block each, not a tree of ldns objects.
 */
#include "dance_result.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct dance_res_result {
    atomic_uint refs;
    dance_res_status status;
    uint16_t type;
    uint32_t ttl;
    time_t expires;
    const char *name;    /* into data */
    const char *why;     /* into data */
    const uint8_t *wire; /* into data: the records */
    size_t wire_len;
    size_t rr_count;
    char data[]; /* name NUL why NUL records */
};

/* dance_res_status_str - presentation form of a status. */
const char *dance_res_status_str(dance_res_status status)
{
    switch (status) {
    case DANCE_RES_SECURE:
        return "secure";
    case DANCE_RES_SECURE_NODATA:
        return "secure-nodata";
    case DANCE_RES_SECURE_NXDOMAIN:
        return "secure-nxdomain";
    case DANCE_RES_INSECURE:
        return "insecure";
    case DANCE_RES_BOGUS:
        return "bogus";
    case DANCE_RES_INDETERMINATE:
        return "indeterminate";
    }
    return "unknown";
}

/* dance_res_status_is_secure - the outcomes DNSSEC proved. */
int dance_res_status_is_secure(dance_res_status status)
{
    return status == DANCE_RES_SECURE || status == DANCE_RES_SECURE_NODATA ||
           status == DANCE_RES_SECURE_NXDOMAIN;
}

/* dance_res_result_new - see header. */
dance_res_result *dance_res_result_new(const char *name, uint16_t type,
                                       dance_res_status status,
                                       const ldns_rr_list *rrset, uint32_t ttl,
                                       time_t now, const char *why)
{
    size_t name_len = strlen(name != NULL ? name : "") + 1;
    size_t why_len = strlen(why != NULL ? why : "") + 1;
    size_t count = rrset != NULL ? ldns_rr_list_rr_count(rrset) : 0;
    ldns_buffer *buf = ldns_buffer_new(512);
    dance_res_result *res = NULL;
    char *p;

    if (buf == NULL)
        return NULL;
    for (size_t i = 0; i < count; i++)
        if (ldns_rr2buffer_wire(buf, ldns_rr_list_rr(rrset, i),
                                LDNS_SECTION_ANSWER) != LDNS_STATUS_OK)
            goto done;
    res = malloc(sizeof(*res) + name_len + why_len + ldns_buffer_position(buf));
    if (res == NULL)
        goto done;
    atomic_init(&res->refs, 1);
    res->status = status;
    res->type = type;
    res->ttl = ttl;
    res->expires = now + (time_t)ttl;
    p = res->data;
    memcpy(p, name != NULL ? name : "", name_len);
    res->name = p;
    p += name_len;
    memcpy(p, why != NULL ? why : "", why_len);
    res->why = p;
    p += why_len;
    memcpy(p, ldns_buffer_begin(buf), ldns_buffer_position(buf));
    res->wire = (const uint8_t *)p;
    res->wire_len = ldns_buffer_position(buf);
    res->rr_count = count;
done:
    ldns_buffer_free(buf);
    return res;
}

/* dance_res_result_up_ref - take one more reference. */
void dance_res_result_up_ref(dance_res_result *res)
{
    atomic_fetch_add_explicit(&res->refs, 1, memory_order_relaxed);
}

/* dance_res_result_free - drop one reference, free on the last. */
void dance_res_result_free(dance_res_result *res)
{
    if (res == NULL)
        return;
    if (atomic_fetch_sub_explicit(&res->refs, 1, memory_order_acq_rel) != 1)
        return;
    free(res);
}

dance_res_status dance_res_result_status(const dance_res_result *res)
{
    return res->status;
}

const char *dance_res_result_get0_why(const dance_res_result *res)
{
    return res->why;
}

const char *dance_res_result_get0_name(const dance_res_result *res)
{
    return res->name;
}

uint16_t dance_res_result_type(const dance_res_result *res)
{
    return res->type;
}

/* dance_res_result_size - see header. */
size_t dance_res_result_size(const dance_res_result *res)
{
    return sizeof(*res) + strlen(res->name) + 1 + strlen(res->why) + 1 +
           res->wire_len;
}

uint32_t dance_res_result_ttl(const dance_res_result *res)
{
    return res->ttl;
}

time_t dance_res_result_expires(const dance_res_result *res)
{
    return res->expires;
}

size_t dance_res_result_rr_count(const dance_res_result *res)
{
    return res->rr_count;
}

/* find_rr - offset of record i's fixed fields (just past its owner name)
 * in the wire form we wrote ourselves; 0 when out of range. */
static size_t find_rr(const dance_res_result *res, size_t i)
{
    size_t pos = 0;

    for (size_t n = 0; n <= i && pos < res->wire_len; n++) {
        size_t rdlen;

        while (pos < res->wire_len && res->wire[pos] != 0)
            pos += 1 + res->wire[pos]; /* a label: no compression here */
        pos++;                         /* the root label */
        if (pos + 10 > res->wire_len)
            return 0;
        if (n == i)
            return pos;
        rdlen = ((size_t)res->wire[pos + 8] << 8) | res->wire[pos + 9];
        pos += 10 + rdlen;
    }
    return 0;
}

/* dance_res_result_rr_type - see header. */
uint16_t dance_res_result_rr_type(const dance_res_result *res, size_t i)
{
    size_t pos = i < res->rr_count ? find_rr(res, i) : 0;

    return pos == 0 ? 0
                    : (uint16_t)((res->wire[pos] << 8) | res->wire[pos + 1]);
}

/* dance_res_result_get0_rdata - see header. */
const uint8_t *dance_res_result_get0_rdata(const dance_res_result *res,
                                           size_t i, size_t *len)
{
    size_t pos = i < res->rr_count ? find_rr(res, i) : 0;
    size_t rdlen;

    if (pos == 0)
        return NULL;
    rdlen = ((size_t)res->wire[pos + 8] << 8) | res->wire[pos + 9];
    if (pos + 10 + rdlen > res->wire_len)
        return NULL;
    *len = rdlen;
    return res->wire + pos + 10;
}

/* dance_res_result_get1_rrset - see header. */
ldns_rr_list *dance_res_result_get1_rrset(const dance_res_result *res)
{
    ldns_rr_list *list;
    size_t pos = 0;

    if (res->rr_count == 0 || (list = ldns_rr_list_new()) == NULL)
        return NULL;
    for (size_t i = 0; i < res->rr_count; i++) {
        ldns_rr *rr = NULL;

        if (ldns_wire2rr(&rr, res->wire, res->wire_len, &pos,
                         LDNS_SECTION_ANSWER) != LDNS_STATUS_OK ||
            !ldns_rr_list_push_rr(list, rr)) {
            ldns_rr_free(rr);
            ldns_rr_list_deep_free(list);
            return NULL;
        }
    }
    return list;
}
