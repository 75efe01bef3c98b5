/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_lookup.c - `dance lookup`: print the DNSSEC status of a name.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <ldns/ldns.h>

#include "dance_cmd.h"
#include "dance_opts.h"
#include "dance_res.h"

/* Exit statuses, one per outcome, so scripts need not parse the output. */
enum {
    EXIT_SECURE = 0,
    EXIT_ABSENT = 2,
    EXIT_INSECURE = 3,
    EXIT_BOGUS = 4,
    EXIT_INDETERMINATE = 5
};

static const char lookup_usage[] =
    "usage: dance lookup [-t TYPE] [-s IP[@PORT]]... [-a ANCHOR_FILE]\n"
    "                    [--trust-ad] [--time UNIXTIME] [--timeout MS]\n"
    "                    [--clock-skew S] NAME\n"
    "\n"
    "Look NAME up and say whether DNSSEC proves the answer.\n"
    "\n"
    "  -t, --type TYPE         record type (default TLSA)\n" DANCE_OPTS_USAGE
    "\n"
    "Prints 'status: S', 'why: REASON', then the records. Exit status:\n"
    "0 secure, 2 secure-nodata or secure-nxdomain, 3 insecure, 4 bogus,\n"
    "5 indeterminate, 1 usage or configuration error.\n";

/* exit_for - the exit status for an outcome. */
static int exit_for(dance_res_status st)
{
    switch (st) {
    case DANCE_RES_SECURE:
        return EXIT_SECURE;
    case DANCE_RES_SECURE_NODATA:
    case DANCE_RES_SECURE_NXDOMAIN:
        return EXIT_ABSENT;
    case DANCE_RES_INSECURE:
        return EXIT_INSECURE;
    case DANCE_RES_BOGUS:
        return EXIT_BOGUS;
    case DANCE_RES_INDETERMINATE:
        return EXIT_INDETERMINATE;
    }
    return EXIT_INDETERMINATE;
}

/* dance_cmd_lookup - the `dance lookup` subcommand. */
int dance_cmd_lookup(int argc, char **argv)
{
    static const struct option opts[] = {{"type", required_argument, NULL, 't'},
                                         {"help", no_argument, NULL, 'h'},
                                         DANCE_OPTS_LONG,
                                         {NULL, 0, NULL, 0}};
    dance_opts o;
    ldns_rr_type type = LDNS_RR_TYPE_TLSA;
    dance_res *res = NULL;
    dance_res_result *r = NULL;
    ldns_rr_list *rrset;
    ldns_rdf *check = NULL;
    int c, taken, rc;

    dance_opts_init(&o);
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:s:a:h", opts, NULL)) != -1) {
        taken = dance_opts_handle(&o, c, optarg, "dance lookup");
        if (taken < 0)
            return DANCE_EXIT_USAGE;
        if (taken > 0)
            continue;
        switch (c) {
        case 't':
            type = ldns_get_rr_type_by_name(optarg);
            if (type == 0) {
                fprintf(stderr, "dance lookup: unknown record type '%s'\n",
                        optarg);
                return DANCE_EXIT_USAGE;
            }
            break;
        case 'h':
            fputs(lookup_usage, stdout);
            return 0;
        default:
            fputs(lookup_usage, stderr);
            return DANCE_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "dance lookup: %s\n%s",
                optind == argc ? "a NAME is required" : "only one NAME, please",
                lookup_usage);
        return DANCE_EXIT_USAGE;
    }
    if (o.keystore != NULL) {
        fprintf(stderr, "dance lookup: --keystore is not a lookup option\n");
        return DANCE_EXIT_USAGE;
    }
    if (ldns_str2rdf_dname(&check, argv[optind]) != LDNS_STATUS_OK) {
        fprintf(stderr, "dance lookup: '%s' is not a valid domain name\n",
                argv[optind]);
        return DANCE_EXIT_USAGE;
    }
    ldns_rdf_deep_free(check);
    res = dance_opts_res_new(&o, 0, "dance lookup");
    if (res == NULL)
        return DANCE_EXIT_USAGE;
    r = dance_res_lookup(res, argv[optind], type, o.now);
    if (r == NULL) {
        fprintf(stderr, "dance lookup: out of memory\n");
        dance_res_free(res);
        return EXIT_INDETERMINATE;
    }
    printf("status: %s\n", dance_res_status_str(dance_res_result_status(r)));
    printf("why: %s\n", dance_res_result_get0_why(r));
    rrset = dance_res_result_get1_rrset(r);
    for (size_t i = 0; rrset != NULL && i < ldns_rr_list_rr_count(rrset); i++)
        ldns_rr_print(stdout, ldns_rr_list_rr(rrset, i));
    ldns_rr_list_deep_free(rrset);
    rc = exit_for(dance_res_result_status(r));
    dance_res_result_free(r);
    dance_res_free(res);
    return rc;
}
