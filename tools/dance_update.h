/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_update.h - publish TLSA records through RFC 2136 dynamic updates
 * signed with TSIG (RFC 8945), in batches, then wait until every change is
 * visible and DNSSEC-secure through a validating resolver (dance_res).
 *
 * A job holds the changes of one command, grouped by owner name:
 *
 *   dance_upd *u = dance_upd_new("fleet.example", DANCE_UPD_ADD);
 *   dance_upd_add_rr(u, rr, err, sizeof(err));     // takes rr
 *   dance_upd_send(u, "192.0.2.1@53", &key, 200, 5000, stderr);
 *   dance_upd_wait(u, res, 60, time(NULL) ...);
 *   dance_upd_report(u, stdout);
 *   dance_upd_free(u);
 *
 * One update message is atomic (RFC 2136 section 3.7): the server applies
 * all of it or none of it.  Batches are sent in order and sending stops at
 * the first batch that is not applied, so each name ends in exactly one
 * state, which the report names.
 */
#ifndef DANCE_UPDATE_H
#define DANCE_UPDATE_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <ldns/ldns.h>

#include "dance_res.h"

/* A TSIG key: name, algorithm (ldns spelling) and base64 secret. */
typedef struct {
    char name[256];   /* absolute, with the trailing dot */
    char alg[64];     /* "hmac-sha256." ... */
    char secret[512]; /* base64, as in the key file */
} dance_tsig;

/*
 * dance_tsig_parse_arg - "[ALG:]NAME:SECRET" (as nsupdate -y; ALG defaults
 * to hmac-sha256).  0, or -1 with a message in err.
 */
int dance_tsig_parse_arg(const char *arg, dance_tsig *k, char *err,
                         size_t errlen);

/*
 * dance_tsig_load - the first key of a key file in BIND format
 * (key "NAME" { algorithm A; secret "S"; };, as tsig-keygen writes) or
 * Knot format (key: - id: NAME / algorithm: A / secret: S, as keymgr -t
 * writes).  0, or -1 with a message in err.
 */
int dance_tsig_load(const char *path, dance_tsig *k, char *err, size_t errlen);

typedef enum {
    DANCE_UPD_ADD = 0, /* add records to the RRsets */
    DANCE_UPD_REPLACE, /* the RRset becomes exactly the records given */
    DANCE_UPD_REMOVE   /* remove the records (or the whole RRset) */
} dance_upd_op;

/* What became of one name. */
typedef enum {
    DANCE_UPD_PENDING = 0, /* not sent yet */
    DANCE_UPD_NOT_SENT,    /* not sent: an earlier update failed */
    DANCE_UPD_REJECTED,    /* its update was answered with an error */
    DANCE_UPD_UNKNOWN,     /* no (authentic) answer: may have been applied */
    DANCE_UPD_APPLIED,     /* the primary applied it (not yet seen secure) */
    DANCE_UPD_VISIBLE,     /* seen, DNSSEC-secure, through the resolver */
    DANCE_UPD_NOT_VISIBLE  /* applied, but not seen secure in time */
} dance_upd_state;

/* dance_upd_state_str - "changed, secure", "NOT changed", ... */
const char *dance_upd_state_str(dance_upd_state st);

typedef struct dance_upd dance_upd;

/* dance_upd_new - an empty job for zone (copied); NULL on bad zone/ENOMEM. */
dance_upd *dance_upd_new(const char *zone, dance_upd_op op);

/* dance_upd_free - NULL is fine. */
void dance_upd_free(dance_upd *u);

/*
 * dance_upd_add_rr - add one TLSA record to the job (takes rr, also on
 * error).  Refused: another type, an owner outside the zone.  With op
 * REMOVE, a record with no RDATA stands for the owner's whole TLSA RRset.
 * 0, or -1 with a message in err.
 */
int dance_upd_add_rr(dance_upd *u, ldns_rr *rr, char *err, size_t errlen);

/* dance_upd_name_count - how many owner names the job changes. */
size_t dance_upd_name_count(const dance_upd *u);

/*
 * dance_upd_send - send the job to primary ("IP[@PORT]", TCP), at most
 * max_rrs records and about 16 KiB per message, every message signed with
 * key; log one line per message to log.  Returns the number of messages
 * not applied (0: all applied).  The names' states say the rest.
 */
int dance_upd_send(dance_upd *u, const char *primary, const dance_tsig *key,
                   unsigned max_rrs, unsigned timeout_ms, FILE *log);

/*
 * dance_upd_wait - poll res (fetching each name again, never from the
 * cache) until every applied change is visible and secure, or wait_s
 * seconds have passed.  Returns the number of names not visible.
 */
size_t dance_upd_wait(dance_upd *u, dance_res *res, unsigned wait_s);

/*
 * dance_upd_report - one line per name ("NAME: STATE (detail)") and a
 * summary line to out.  Returns the exit status for the job: 0 every name
 * visible and secure (or applied, when not waited for), 2 some name not
 * changed, 3 changed but not seen secure in time, 4 unknown outcome.
 */
int dance_upd_report(const dance_upd *u, FILE *out, int waited);

/*
 * dance_upd_max_ttl - the largest TTL among the job's records (the new
 * RRsets), 0 if none.
 */
uint32_t dance_upd_max_ttl(const dance_upd *u);

#endif /* DANCE_UPDATE_H */
