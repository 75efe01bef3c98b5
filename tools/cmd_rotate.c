/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_rotate.c - `dance rotate begin|finish`: change a device's key
 * without a moment where servers refuse it.
 *
 * begin:  add the next key's record beside the current one (RFC 2136),
 *         wait until it is visible and secure, and print the earliest time
 *         the device may switch: when every cache that holds the answer
 *         from before the change has dropped it.
 * finish: remove the old key's record, wait until that is visible, and
 *         print when the old key is refused everywhere.
 *
 *   switch_after = visible + ttl_before + skew
 *
 * visible: when the resolver (-s) first returned the new RRset, secure;
 * ttl_before: the TTL of the answer caches may hold from before: the old
 * RRset's TTL, or, when the name had no record, the zone's negative TTL
 * (min of SOA TTL and SOA MINIMUM, RFC 2308); skew: allowance for clocks
 * and for the primary-to-resolver path (--skew, default 1 s).  Caches
 * never keep an answer past its RRSIG expiry, so signatures can only
 * shorten that; signers backdate inception (Knot, BIND: an hour), so a
 * validator whose clock is behind by less does not see the new RRset as
 * not yet valid.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dance_check.h"
#include "dance_cmd.h"
#include "dance_publish.h"
#include "dance_tlsa.h"

static const char rotate_usage[] =
    "usage: dance rotate begin|finish --name NAME --zone ZONE\n"
    "                    --primary IP[@PORT] (-k KEYFILE | -y KEY)\n"
    "                    [--ttl SECONDS] [--wait SECONDS] [--skew SECONDS]\n"
    "                    [-s IP[@PORT]]... [-a ANCHOR] [--trust-ad]\n"
    "                    CERT_OR_KEY\n"
    "\n"
    "  begin CERT_OR_KEY   publish the NEXT key's record (3 1 1) at NAME\n"
    "                      beside the current one, wait until it is seen\n"
    "                      secure, print 'switch-after: UTC (UNIXTIME)':\n"
    "                      the device may use the new key from then on\n"
    "  finish CERT_OR_KEY  remove the OLD key's record (never the last\n"
    "                      record of NAME), wait until that is seen, print\n"
    "                      'old-key-refused-after: UTC (UNIXTIME)'\n"
    "\n"
    "switch-after = visible + ttl_before + skew: visible is when the\n"
    "resolver returned the new RRset, secure; ttl_before the TTL of what\n"
    "caches may hold from before (the old RRset's TTL, or the zone's\n"
    "negative TTL when NAME had no record); skew is --skew (default 1 s).\n"
    "\n"
    "  -n, --name NAME     the device's TLSA owner name (its ClientName)\n"
    "      --skew SECONDS  clock and propagation allowance (default 1)\n"
    "  --zone, --primary, -k, -y, --ttl, --wait and the resolver options\n"
    "  are those of 'dance publish' (--ttl: of the new record, default\n"
    "  3600; --wait must not be 0).\n"
    "Exit status: as 'dance publish'; 1 also when the current answer is not\n"
    "secure (nothing is sent then) or finish would empty the RRset.\n";

/* getopt_long codes of rotate's own long options. */
enum { OPT_SKEW = 500 };

/* dance_cmd_rotate - the `dance rotate` subcommand. */
int dance_cmd_rotate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"name", required_argument, NULL, 'n'},
        {"skew", required_argument, NULL, OPT_SKEW},
        {"zone", required_argument, NULL, DANCE_PUBLISH_ZONE},
        {"primary", required_argument, NULL, DANCE_PUBLISH_PRIMARY},
        {"key", required_argument, NULL, 'k'},
        {"key-arg", required_argument, NULL, 'y'},
        {"ttl", required_argument, NULL, DANCE_PUBLISH_TTL},
        {"wait", required_argument, NULL, DANCE_PUBLISH_WAIT},
        {"help", no_argument, NULL, 'h'},
        DANCE_OPTS_LONG,
        {NULL, 0, NULL, 0}};
    const char *prog = "dance rotate", *name = NULL, *why = NULL;
    dance_publish_opts p;
    dance_tlsa_idents ids = {NULL, 0, 0};
    dance_res *res = NULL;
    dance_res_result *before = NULL;
    dance_upd *u = NULL;
    ldns_rr *rr = NULL;
    uint64_t skew = 1;
    uint32_t ttl_before;
    int c, taken, begin, rc = DANCE_EXIT_USAGE, match;
    char err[400], when[32];
    time_t visible;

    dance_publish_opts_init(&p);
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:s:a:k:y:h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(rotate_usage, stdout);
            return 0;
        }
        if (c == 'n') {
            name = optarg;
            continue;
        }
        if (c == OPT_SKEW) {
            if (dance_opts_parse_uint(optarg, 86400, &skew) != 0) {
                fprintf(stderr, "%s: --skew wants 0..86400, got '%s'\n", prog,
                        optarg);
                return DANCE_EXIT_USAGE;
            }
            continue;
        }
        taken = dance_publish_handle(&p, c, optarg, prog);
        if (taken <= 0) {
            if (taken == 0)
                fputs(rotate_usage, stderr);
            return DANCE_EXIT_USAGE;
        }
    }
    if (optind + 2 != argc || (strcmp(argv[optind], "begin") != 0 &&
                               strcmp(argv[optind], "finish") != 0)) {
        fprintf(stderr, "%s: begin or finish, and one CERT_OR_KEY\n%s", prog,
                rotate_usage);
        return DANCE_EXIT_USAGE;
    }
    begin = strcmp(argv[optind], "begin") == 0;
    if (name == NULL || dance_tlsa_check_owner(name, &why) != 0) {
        fprintf(stderr, "%s: --name NAME is required and must be valid%s%s\n",
                prog, why ? ": " : "", why ? why : "");
        return DANCE_EXIT_USAGE;
    }
    if (dance_publish_check(&p, prog) != 0)
        return DANCE_EXIT_USAGE;
    if (p.wait_s == 0) {
        fprintf(stderr, "%s: --wait 0: rotation needs to see the change\n",
                prog);
        return DANCE_EXIT_USAGE;
    }
    if (dance_tlsa_read_one(argv[optind + 1], &ids, prog) != 0 || ids.n != 1)
        goto out;
    res = dance_opts_res_new(&p.res, 0, prog);
    if (res == NULL)
        goto out;
    /* What caches may hold now: the answer from before the change. */
    before = dance_res_refresh(res, name, LDNS_RR_TYPE_TLSA, time(NULL));
    if (before == NULL ||
        !dance_res_status_is_secure(dance_res_result_status(before))) {
        fprintf(stderr,
                "%s: the current answer for %s is not DNSSEC-secure (%s: "
                "%s); nothing sent\n",
                prog, name,
                before ? dance_res_status_str(dance_res_result_status(before))
                       : "no result",
                before ? dance_res_result_get0_why(before) : "out of memory");
        goto out;
    }
    ttl_before =
        dance_check_cache_ttl(res, before, name, p.zone, time(NULL), &why);
    if (ttl_before == 0) {
        fprintf(stderr, "%s: %s; nothing sent\n", prog, why);
        goto out;
    }
    match = dance_check_match(before, &ids.v[0], NULL);
    if (!begin && match >= 0 && dance_res_result_rr_count(before) == 1) {
        fprintf(stderr,
                "%s: the old key's record is the only record of %s; removing "
                "it would lock the device out (to revoke, use 'dance publish "
                "remove'); nothing sent\n",
                prog, name);
        goto out;
    }
    if (!begin && match < 0) {
        fprintf(stderr,
                "%s: %s has no record of this key; nothing to remove, "
                "nothing sent\n",
                prog, name);
        rc = 2;
        goto out;
    }
    printf("before: %s, %zu record(s), caches may keep it %u s\n",
           dance_res_status_str(dance_res_result_status(before)),
           dance_res_result_rr_count(before), (unsigned)ttl_before);
    rr = dance_tlsa_rr(&ids.v[0], name, p.ttl, 3, 1, 1, &why);
    if (rr == NULL) {
        fprintf(stderr, "%s: %s: %s\n", prog, argv[optind + 1], why);
        goto out;
    }
    u = dance_upd_new(p.zone, begin ? DANCE_UPD_ADD : DANCE_UPD_REMOVE);
    if (u == NULL) {
        fprintf(stderr, "%s: --zone '%s' is not valid\n", prog, p.zone);
        goto out;
    }
    if (dance_upd_add_rr(u, rr, err, sizeof(err)) != 0) {
        rr = NULL;
        fprintf(stderr, "%s: %s\n", prog, err);
        goto out;
    }
    rr = NULL;
    dance_res_free(res);
    res = NULL;
    rc = dance_publish_run(&p, u, prog);
    if (rc != 0)
        goto out;
    visible = time(NULL);
    printf("visible: %s (%lld)\n", dance_check_utc(visible, when, sizeof(when)),
           (long long)visible);
    printf("formula: visible + ttl_before (%u s: %s) + skew (%u s)\n",
           (unsigned)ttl_before,
           dance_res_result_rr_count(before) > 0 ? "old RRset TTL"
                                                 : "negative TTL",
           (unsigned)skew);
    visible += (time_t)ttl_before + (time_t)skew;
    printf("%s: %s (%lld)\n", begin ? "switch-after" : "old-key-refused-after",
           dance_check_utc(visible, when, sizeof(when)), (long long)visible);
out:
    ldns_rr_free(rr);
    dance_upd_free(u);
    dance_res_result_free(before);
    dance_res_free(res);
    dance_tlsa_idents_free(&ids);
    return rc;
}
