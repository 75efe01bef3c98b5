/*
 * dance_result.c - immutable, reference-counted lookup results.
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
    char *name;
    char *why;
    ldns_rr_list *rrset; /* owned, read-only after construction */
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
                                       ldns_rr_list *rrset, uint32_t ttl,
                                       time_t now, const char *why)
{
    dance_res_result *res = calloc(1, sizeof(*res));

    if (res == NULL)
        goto err;
    res->name = strdup(name != NULL ? name : "");
    res->why = strdup(why != NULL ? why : "");
    if (res->name == NULL || res->why == NULL)
        goto err;
    atomic_init(&res->refs, 1);
    res->status = status;
    res->type = type;
    res->ttl = ttl;
    res->expires = now + (time_t)ttl;
    res->rrset = rrset;
    return res;

err:
    if (res != NULL) {
        free(res->name);
        free(res->why);
        free(res);
    }
    ldns_rr_list_deep_free(rrset);
    return NULL;
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
    ldns_rr_list_deep_free(res->rrset);
    free(res->name);
    free(res->why);
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

const ldns_rr_list *dance_res_result_get0_rrset(const dance_res_result *res)
{
    return res->rrset;
}

uint32_t dance_res_result_ttl(const dance_res_result *res)
{
    return res->ttl;
}

time_t dance_res_result_expires(const dance_res_result *res)
{
    return res->expires;
}
