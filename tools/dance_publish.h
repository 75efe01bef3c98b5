/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_publish.h - the options of `dance publish` that `dance rotate`
 * shares: zone, primary, TSIG key, batch size, TTL, wait, and the resolver
 * options of dance_opts.h.
 */
#ifndef DANCE_PUBLISH_H
#define DANCE_PUBLISH_H

#include <stdint.h>

#include "dance_opts.h"
#include "dance_update.h"

/* getopt_long codes of the long-only options. */
enum {
    DANCE_PUBLISH_ZONE = 400,
    DANCE_PUBLISH_PRIMARY,
    DANCE_PUBLISH_BATCH,
    DANCE_PUBLISH_TTL,
    DANCE_PUBLISH_WAIT
};

typedef struct {
    dance_opts res;      /* resolver options (-s, -a, --trust-ad, ...) */
    const char *zone;    /* --zone */
    const char *primary; /* --primary IP[@PORT] */
    dance_tsig key;      /* -k / -y */
    int have_key;
    unsigned batch;  /* --batch, records per message */
    uint32_t ttl;    /* --ttl, for lines without one */
    unsigned wait_s; /* --wait */
} dance_publish_opts;

/* dance_publish_opts_init - the defaults (batch 200, TTL 3600, wait 60). */
void dance_publish_opts_init(dance_publish_opts *p);

/*
 * dance_publish_handle - take option c if it is one of these (k, y and the
 * codes above, plus dance_opts_handle's).  1 taken, 0 not ours, -1 bad
 * argument (message printed).
 */
int dance_publish_handle(dance_publish_opts *p, int c, const char *arg,
                         const char *prog);

/* dance_publish_check - 0 if zone, primary and key are set; else -1. */
int dance_publish_check(const dance_publish_opts *p, const char *prog);

/*
 * dance_publish_run - send u, wait (unless --wait 0) and print the report
 * on stdout.  Returns the exit status (see dance_upd_report).
 */
int dance_publish_run(dance_publish_opts *p, dance_upd *u, const char *prog);

#endif /* DANCE_PUBLISH_H */
