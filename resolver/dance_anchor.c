/*
 * dance_anchor.c - trust anchor file parsing and lookup.
 */
#include "dance_anchor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct dance_anchors {
    ldns_rr_list *records; /* every DS/DNSKEY anchor, owned */
    ldns_rr_list *scratch; /* empty list returned for "no anchor" */
    /* One view per anchored zone, borrowing from records. Anchor files
     * hold a handful of zones, so a linear scan is the simplest index. */
    ldns_rr_list **by_zone;
    size_t nzones;
};

/* add_to_zone_view - append rr (borrowed) to the view for its owner. */
static int add_to_zone_view(dance_anchors *a, ldns_rr *rr)
{
    ldns_rr_list **grown;

    for (size_t i = 0; i < a->nzones; i++) {
        const ldns_rr *first = ldns_rr_list_rr(a->by_zone[i], 0);

        if (ldns_dname_compare(ldns_rr_owner(first), ldns_rr_owner(rr)) == 0)
            return ldns_rr_list_push_rr(a->by_zone[i], rr) ? 1 : 0;
    }
    grown = realloc(a->by_zone, (a->nzones + 1) * sizeof(*grown));
    if (grown == NULL)
        return 0;
    a->by_zone = grown;
    a->by_zone[a->nzones] = ldns_rr_list_new();
    if (a->by_zone[a->nzones] == NULL ||
        !ldns_rr_list_push_rr(a->by_zone[a->nzones], rr)) {
        ldns_rr_list_free(a->by_zone[a->nzones]);
        return 0;
    }
    a->nzones++;
    return 1;
}

/* dance_anchors_load - see header. */
dance_anchors *dance_anchors_load(const char *path, char *err, size_t errlen)
{
    dance_anchors *a = calloc(1, sizeof(*a));
    FILE *fp = NULL;
    uint32_t default_ttl = 3600;
    ldns_rdf *origin = NULL, *prev = NULL;
    int line = 0; /* lines consumed so far */

    if (a == NULL || (a->records = ldns_rr_list_new()) == NULL ||
        (a->scratch = ldns_rr_list_new()) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto err;
    }
    if ((fp = fopen(path, "r")) == NULL) {
        snprintf(err, errlen, "cannot read trust anchor file %s: %s", path,
                 strerror(errno));
        goto err;
    }
    while (!feof(fp)) {
        ldns_rr *rr = NULL;
        int start = line + 1; /* the line this record begins on */
        ldns_status st =
            ldns_rr_new_frm_fp_l(&rr, fp, &default_ttl, &origin, &prev, &line);

        if (st == LDNS_STATUS_SYNTAX_EMPTY || st == LDNS_STATUS_SYNTAX_TTL ||
            st == LDNS_STATUS_SYNTAX_ORIGIN)
            continue;
        if (st != LDNS_STATUS_OK) {
            snprintf(err, errlen, "%s:%d: %s", path, start,
                     ldns_get_errorstr_by_id(st));
            goto err;
        }
        if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_DS &&
            ldns_rr_get_type(rr) != LDNS_RR_TYPE_DNSKEY) {
            snprintf(err, errlen,
                     "%s:%d: only DS and DNSKEY records may be "
                     "trust anchors",
                     path, start);
            ldns_rr_free(rr);
            goto err;
        }
        ldns_dname2canonical(ldns_rr_owner(rr));
        if (!ldns_rr_list_push_rr(a->records, rr)) {
            ldns_rr_free(rr);
            snprintf(err, errlen, "out of memory");
            goto err;
        }
        if (!add_to_zone_view(a, rr)) {
            snprintf(err, errlen, "out of memory");
            goto err;
        }
    }
    if (ldns_rr_list_rr_count(a->records) == 0) {
        snprintf(err, errlen, "%s holds no DS or DNSKEY record", path);
        goto err;
    }
    fclose(fp);
    ldns_rdf_deep_free(origin);
    ldns_rdf_deep_free(prev);
    return a;

err:
    if (fp != NULL)
        fclose(fp);
    ldns_rdf_deep_free(origin);
    ldns_rdf_deep_free(prev);
    dance_anchors_free(a);
    return NULL;
}

/* dance_anchors_free - release the anchors. */
void dance_anchors_free(dance_anchors *anchors)
{
    if (anchors == NULL)
        return;
    for (size_t i = 0; i < anchors->nzones; i++)
        ldns_rr_list_free(anchors->by_zone[i]); /* views borrow records */
    free(anchors->by_zone);
    ldns_rr_list_deep_free(anchors->records);
    ldns_rr_list_free(anchors->scratch);
    free(anchors);
}

/* dance_anchors_closest - nearest anchored ancestor-or-self of name. */
const ldns_rdf *dance_anchors_closest(const dance_anchors *anchors,
                                      const ldns_rdf *name)
{
    const ldns_rdf *best = NULL;

    for (size_t i = 0; i < anchors->nzones; i++) {
        const ldns_rdf *zone =
            ldns_rr_owner(ldns_rr_list_rr(anchors->by_zone[i], 0));

        if (ldns_dname_compare(zone, name) != 0 &&
            !ldns_dname_is_subdomain(name, zone))
            continue;
        if (best == NULL ||
            ldns_dname_label_count(zone) > ldns_dname_label_count(best))
            best = zone;
    }
    return best;
}

/* dance_anchors_get0 - anchor records of zone (possibly empty). */
const ldns_rr_list *dance_anchors_get0(const dance_anchors *anchors,
                                       const ldns_rdf *zone)
{
    for (size_t i = 0; i < anchors->nzones; i++) {
        const ldns_rr_list *view = anchors->by_zone[i];

        if (ldns_dname_compare(ldns_rr_owner(ldns_rr_list_rr(view, 0)), zone) ==
            0)
            return view;
    }
    return anchors->scratch;
}

/* dance_anchors_zone_count - see header. */
size_t dance_anchors_zone_count(const dance_anchors *anchors)
{
    return anchors->nzones;
}

/* dance_anchors_zone - see header. */
const ldns_rdf *dance_anchors_zone(const dance_anchors *anchors, size_t i)
{
    return i < anchors->nzones
               ? ldns_rr_owner(ldns_rr_list_rr(anchors->by_zone[i], 0))
               : NULL;
}
