/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_check.c - `dance check`: would a server authenticate this
 * certificate or key at NAME right now?  (And the helpers of
 * dance_check.h.)
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "dance_check.h"
#include "dance_cmd.h"
#include "dance_opts.h"

static const char check_usage[] =
    "usage: dance check --name NAME [-s IP[@PORT]]... [-a ANCHOR_FILE]\n"
    "                   [--trust-ad] [--timeout MS] CERT_OR_KEY\n"
    "\n"
    "Look the TLSA RRset of NAME up now (not from a cache) and say whether a\n"
    "server with client_auth would authenticate the certificate or key in\n"
    "CERT_OR_KEY (PEM: certificate, public or private key): the RRset must\n"
    "be DNSSEC-secure and a DANE-EE (usage 3) record must match.  Prints the\n"
    "status, every record with its verdict, and until when caches may still\n"
    "hold an earlier answer (now + the RRset TTL, or + the negative TTL\n"
    "when there is no record).\n"
    "\n"
    "  -n, --name NAME         the TLSA owner name (the "
    "ClientName)\n" DANCE_OPTS_USAGE "\n"
    "Exit status: 0 authenticated, 2 secure but no DANE-EE record matches\n"
    "(or no record), 3 not secure (insecure, bogus, indeterminate), 1 usage\n"
    "error.\n";

/* dance_check_utc - see dance_check.h. */
const char *dance_check_utc(time_t t, char *buf, size_t len)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

/* dance_check_match - see dance_check.h. */
int dance_check_match(const dance_res_result *r, const dance_tlsa_ident *id,
                      FILE *out)
{
    int found = -1;

    for (size_t i = 0; i < dance_res_result_rr_count(r); i++) {
        size_t len = 0, dlen = 0;
        const uint8_t *rd = dance_res_result_get0_rdata(r, i, &len);
        const char *verdict = "does not match", *why = NULL;
        unsigned char *data = NULL;

        if (dance_res_result_rr_type(r, i) != LDNS_RR_TYPE_TLSA || rd == NULL ||
            len < 4)
            continue;
        if (rd[0] != 3)
            verdict = "not DANE-EE: needs a chain, not judged here";
        else if (rd[1] > 1 || rd[2] > 2)
            verdict = "unknown selector or matching type";
        else if ((data = dance_tlsa_data(id, rd[1], rd[2], &dlen, &why)) ==
                 NULL)
            verdict = why;
        else if (dlen == len - 3 && memcmp(data, rd + 3, dlen) == 0) {
            verdict = "MATCHES";
            if (found < 0)
                found = (int)i;
        }
        OPENSSL_free(data);
        if (out != NULL) {
            fprintf(out, "record %zu: %u %u %u ", i + 1, rd[0], rd[1], rd[2]);
            for (size_t j = 3; j < len && j < 3 + 32; j++)
                fprintf(out, "%02x", rd[j]);
            fprintf(out, "%s: %s\n", len > 35 ? "..." : "", verdict);
        }
    }
    return found;
}

/* soa_negative_ttl - min(SOA TTL, MINIMUM) of zone if secure; 0 if not. */
static uint32_t soa_negative_ttl(dance_res *res, const char *zone, time_t now)
{
    dance_res_result *r = dance_res_lookup(res, zone, LDNS_RR_TYPE_SOA, now);
    ldns_rr_list *l = r ? dance_res_result_get1_rrset(r) : NULL;
    uint32_t ttl = 0;

    if (r != NULL && dance_res_result_status(r) == DANCE_RES_SECURE &&
        l != NULL && ldns_rr_list_rr_count(l) > 0) {
        ldns_rr *soa = ldns_rr_list_rr(l, 0);

        if (ldns_rr_get_type(soa) == LDNS_RR_TYPE_SOA &&
            ldns_rr_rd_count(soa) == 7) {
            uint32_t min = ldns_rdf2native_int32(ldns_rr_rdf(soa, 6));

            ttl = ldns_rr_ttl(soa) < min ? ldns_rr_ttl(soa) : min;
            if (ttl == 0)
                ttl = 1; /* found, even if zero */
        }
    }
    ldns_rr_list_deep_free(l);
    dance_res_result_free(r);
    return ttl;
}

/* dance_check_cache_ttl - see dance_check.h. */
uint32_t dance_check_cache_ttl(dance_res *res, const dance_res_result *r,
                               const char *name, const char *zone, time_t now,
                               const char **why)
{
    ldns_rr_list *l = dance_res_result_get1_rrset(r);
    uint32_t ttl = 0;

    if (l != NULL && ldns_rr_list_rr_count(l) > 0) {
        ttl = ldns_rr_ttl(ldns_rr_list_rr(l, 0));
        ldns_rr_list_deep_free(l);
        return ttl;
    }
    ldns_rr_list_deep_free(l);
    if (zone != NULL)
        ttl = soa_negative_ttl(res, zone, now);
    for (const char *p = strchr(name, '.');
         zone == NULL && p != NULL && p[1] != '\0' && ttl == 0;
         p = strchr(p + 1, '.'))
        ttl = soa_negative_ttl(res, p + 1, now);
    if (ttl == 0)
        *why = "no secure SOA found for the negative TTL";
    return ttl;
}

/* dance_cmd_check - the `dance check` subcommand. */
int dance_cmd_check(int argc, char **argv)
{
    static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                         {"help", no_argument, NULL, 'h'},
                                         DANCE_OPTS_LONG,
                                         {NULL, 0, NULL, 0}};
    const char *prog = "dance check", *name = NULL, *why = NULL;
    dance_opts o;
    dance_tlsa_idents ids = {NULL, 0, 0};
    dance_res *res = NULL;
    dance_res_result *r = NULL;
    dance_res_status st;
    int c, taken, rc = DANCE_EXIT_USAGE, match;
    uint32_t ttl;
    char when[32];

    dance_opts_init(&o);
    optind = 1;
    while ((c = getopt_long(argc, argv, "n:s:a:h", opts, NULL)) != -1) {
        taken = dance_opts_handle(&o, c, optarg, prog);
        if (taken < 0)
            return DANCE_EXIT_USAGE;
        if (taken > 0)
            continue;
        switch (c) {
        case 'n':
            name = optarg;
            break;
        case 'h':
            fputs(check_usage, stdout);
            return 0;
        default:
            fputs(check_usage, stderr);
            return DANCE_EXIT_USAGE;
        }
    }
    if (name == NULL || optind != argc - 1) {
        fprintf(stderr, "%s: --name NAME and one CERT_OR_KEY are required\n%s",
                prog, check_usage);
        return DANCE_EXIT_USAGE;
    }
    if (dance_tlsa_check_owner(name, &why) != 0) {
        fprintf(stderr, "%s: --name '%s' is not valid: %s\n", prog, name, why);
        return DANCE_EXIT_USAGE;
    }
    if (dance_tlsa_read_one(argv[optind], &ids, prog) != 0 || ids.n != 1)
        goto out;
    res = dance_opts_res_new(&o, 0, prog);
    if (res == NULL)
        goto out;
    r = dance_res_refresh(res, name, LDNS_RR_TYPE_TLSA, o.now);
    if (r == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        goto out;
    }
    st = dance_res_result_status(r);
    printf("name: %s\nstatus: %s\nwhy: %s\n", name, dance_res_status_str(st),
           dance_res_result_get0_why(r));
    match = dance_check_match(r, &ids.v[0], stdout);
    if (st == DANCE_RES_SECURE && match >= 0) {
        printf("authenticated: yes (record %d, DANE-EE)\n", match + 1);
        rc = 0;
    } else if (dance_res_status_is_secure(st)) {
        printf("authenticated: no (%s)\n",
               st == DANCE_RES_SECURE ? "no DANE-EE record matches this key"
                                      : "no TLSA record");
        rc = 2;
    } else {
        printf("authenticated: no (the answer is not DNSSEC-secure)\n");
        rc = 3;
    }
    if (dance_res_status_is_secure(st)) {
        why = NULL;
        ttl = dance_check_cache_ttl(res, r, name, NULL, o.now, &why);
        if (ttl > 0)
            printf("ttl: %u\ncaches may hold an earlier answer until: %s "
                   "(%lld)\n",
                   (unsigned)ttl,
                   dance_check_utc(o.now + ttl, when, sizeof(when)),
                   (long long)(o.now + ttl));
        else
            printf("ttl: unknown (%s)\n", why);
    }
out:
    dance_res_result_free(r);
    dance_res_free(res);
    dance_tlsa_idents_free(&ids);
    return rc;
}
