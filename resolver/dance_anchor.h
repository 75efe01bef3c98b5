/*
 * dance_anchor.h - DNSSEC trust anchors read from a file.
 *
 * The file holds DS and/or DNSKEY records in presentation format, one per
 * line, as /usr/share/dns/root.key does; comments, $ORIGIN and $TTL lines
 * are allowed. Anchors may be for several zones (e.g. "." or a test "test.").
 */
#ifndef DANCE_ANCHOR_H
#define DANCE_ANCHOR_H

#include <stddef.h>

#include <ldns/ldns.h>

typedef struct dance_anchors dance_anchors;

/*
 * dance_anchors_load - read path. Returns the anchors (caller frees with
 * dance_anchors_free) or NULL with a message naming the file and line in err.
 * A file without a single DS or DNSKEY record is an error.
 */
dance_anchors *dance_anchors_load(const char *path, char *err, size_t errlen);

/* dance_anchors_free - NULL is fine. */
void dance_anchors_free(dance_anchors *anchors);

/*
 * dance_anchors_closest - the owner of the anchor closest to name (name
 * itself or its nearest ancestor with an anchor), or NULL when no anchor
 * covers name. Borrowed from anchors.
 */
const ldns_rdf *dance_anchors_closest(const dance_anchors *anchors,
                                      const ldns_rdf *name);

/*
 * dance_anchors_get0 - the DS and DNSKEY anchor records whose owner is zone
 * (never NULL; empty when zone has no anchor). Borrowed from anchors.
 */
const ldns_rr_list *dance_anchors_get0(const dance_anchors *anchors,
                                       const ldns_rdf *zone);

/* dance_anchors_zone_count - how many zones have anchors (at least 1). */
size_t dance_anchors_zone_count(const dance_anchors *anchors);

/*
 * dance_anchors_zone - the owner of the i-th anchored zone (in file order),
 * or NULL when i is out of range. Borrowed from anchors.
 */
const ldns_rdf *dance_anchors_zone(const dance_anchors *anchors, size_t i);

#endif /* DANCE_ANCHOR_H */
