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
    "                    [--trust-ad] [--time UNIXTIME] [--timeout MS] NAME\n"
    "\n"
    "Look NAME up and say whether DNSSEC proves the answer.\n"
    "\n"
    "  -t, --type TYPE      record type (default TLSA)\n"
    "  -s, --server IP[@PORT]\n"
    "                       nameserver to ask; repeatable (default: the\n"
    "                       nameserver lines of /etc/resolv.conf)\n"
    "  -a, --anchor FILE    trust anchor file, DS or DNSKEY lines\n"
    "                       (default /usr/share/dns/root.key)\n"
    "      --trust-ad       believe the AD bit of a validating resolver\n"
    "                       (it must be on loopback) instead of validating\n"
    "      --time UNIXTIME  validate signatures as of this time\n"
    "      --timeout MS     wait per query exchange (default 2000)\n"
    "\n"
    "Prints 'status: S', 'why: REASON', then the records. Exit status:\n"
    "0 secure, 2 secure-nodata or secure-nxdomain, 3 insecure, 4 bogus,\n"
    "5 indeterminate, 1 usage or configuration error.\n";

/* parse_ulong - a whole decimal number in [min, max], or -1 on error. */
static int parse_ulong(const char *s, unsigned long min, unsigned long max,
                       unsigned long *out)
{
    char *end = NULL;

    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    *out = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || *out < min || *out > max)
        return -1;
    return 0;
}

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
    static const struct option opts[] = {
        {"type", required_argument, NULL, 't'},
        {"server", required_argument, NULL, 's'},
        {"anchor", required_argument, NULL, 'a'},
        {"trust-ad", no_argument, NULL, 'T'},
        {"time", required_argument, NULL, 'N'},
        {"timeout", required_argument, NULL, 'W'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    dance_res_config cfg;
    ldns_rr_type type = LDNS_RR_TYPE_TLSA;
    char servers[1024] = "", err[512];
    time_t now = time(NULL);
    unsigned long num;
    dance_res *res = NULL;
    dance_res_result *r = NULL;
    const ldns_rr_list *rrset;
    ldns_rdf *check = NULL;
    int c, rc = DANCE_EXIT_USAGE;

    dance_res_config_init(&cfg);
    optind = 1;
    while ((c = getopt_long(argc, argv, "t:s:a:h", opts, NULL)) != -1) {
        switch (c) {
        case 't':
            type = ldns_get_rr_type_by_name(optarg);
            if (type == 0) {
                fprintf(stderr, "dance lookup: unknown record type '%s'\n",
                        optarg);
                return DANCE_EXIT_USAGE;
            }
            break;
        case 's':
            if (strlen(servers) + strlen(optarg) + 2 > sizeof(servers)) {
                fprintf(stderr, "dance lookup: too many servers\n");
                return DANCE_EXIT_USAGE;
            }
            if (servers[0] != '\0')
                strcat(servers, ",");
            strcat(servers, optarg);
            break;
        case 'a':
            cfg.trust_anchor = optarg;
            break;
        case 'T':
            cfg.mode = DANCE_RES_MODE_TRUST_AD;
            break;
        case 'N':
            if (parse_ulong(optarg, 0, 0xffffffffUL, &num) != 0) {
                fprintf(stderr,
                        "dance lookup: --time wants a unix time, "
                        "got '%s'\n",
                        optarg);
                return DANCE_EXIT_USAGE;
            }
            now = (time_t)num;
            break;
        case 'W':
            if (parse_ulong(optarg, 1, 600000, &num) != 0) {
                fprintf(stderr,
                        "dance lookup: --timeout wants 1..600000 "
                        "milliseconds, got '%s'\n",
                        optarg);
                return DANCE_EXIT_USAGE;
            }
            cfg.timeout_ms = (unsigned)num;
            cfg.deadline_ms = cfg.timeout_ms * 3;
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
    if (ldns_str2rdf_dname(&check, argv[optind]) != LDNS_STATUS_OK) {
        fprintf(stderr, "dance lookup: '%s' is not a valid domain name\n",
                argv[optind]);
        return DANCE_EXIT_USAGE;
    }
    ldns_rdf_deep_free(check);
    if (servers[0] != '\0')
        cfg.nameservers = servers;
    res = dance_res_new(&cfg, err, sizeof(err));
    if (res == NULL) {
        fprintf(stderr, "dance lookup: %s\n", err);
        return DANCE_EXIT_USAGE;
    }
    r = dance_res_lookup(res, argv[optind], type, now);
    if (r == NULL) {
        fprintf(stderr, "dance lookup: out of memory\n");
        rc = EXIT_INDETERMINATE;
        goto done;
    }
    printf("status: %s\n", dance_res_status_str(dance_res_result_status(r)));
    printf("why: %s\n", dance_res_result_get0_why(r));
    rrset = dance_res_result_get0_rrset(r);
    for (size_t i = 0; rrset != NULL && i < ldns_rr_list_rr_count(rrset); i++)
        ldns_rr_print(stdout, ldns_rr_list_rr(rrset, i));
    rc = exit_for(dance_res_result_status(r));
done:
    dance_res_result_free(r);
    dance_res_free(res);
    return rc;
}
