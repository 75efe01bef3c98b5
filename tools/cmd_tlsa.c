/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_tlsa.c - `dance tlsa`: print the TLSA records of many certificates
 * and keys, as zone-file lines or as nsupdate(1) input.
 *
 * The record data is computed with OpenSSL (EVP digests over the DER of the
 * certificate or of its SubjectPublicKeyInfo), as RFC 6698 section 2.1
 * defines it; owner names are checked with ldns (dance_tlsa.c).  Nothing is
 * printed unless every input yields its record (all or nothing).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "dance_cmd.h"
#include "dance_tlsa.h"

static const char tlsa_usage[] =
    "usage: dance tlsa [-u USAGE] [-s SELECTOR] [-m MTYPE]\n"
    "                  [-n OWNER | --pattern PATTERN] [--ttl SECONDS]\n"
    "                  [--format zone|nsupdate] [--replace] [--zone ZONE]\n"
    "                  [--ns-server IP[@PORT]] [--batch N] [--bundle]\n"
    "                  FILE|DIR|- ...\n"
    "\n"
    "Print the TLSA record of every certificate or key given, one line each:\n"
    "  OWNER. [TTL] IN TLSA USAGE SELECTOR MTYPE HEX\n"
    "\n"
    "  -u, --usage USAGE    certificate usage (default 3):\n"
    "                         0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE\n"
    "  -s, --selector SEL   what is matched (default 1):\n"
    "                         0 Cert (the full certificate, DER)\n"
    "                         1 SPKI (the SubjectPublicKeyInfo, DER)\n"
    "  -m, --mtype MTYPE    matching type (default 1):\n"
    "                         0 Full (the data itself), 1 SHA2-256,\n"
    "                         2 SHA2-512\n"
    "  -n, --name OWNER     owner name of every record, e.g.\n"
    "                       _client.device1.example.com\n"
    "      --pattern P      owner name per input: P with {san} (first\n"
    "                       dNSName SAN), {cn} (subject CN) and {file} (file\n"
    "                       name without directory and last extension)\n"
    "                       replaced, e.g. '_mqtt-client.{cn}' or\n"
    "                       '{file}._device.example.com'\n"
    "                       Without -n and --pattern the owner is the\n"
    "                       certificate's first dNSName SAN (keys need -n\n"
    "                       or a {file} pattern).\n"
    "      --ttl SECONDS    print this TTL in every line (required with\n"
    "                       --format nsupdate)\n"
    "      --format F       zone (default): zone-file lines;\n"
    "                       nsupdate: nsupdate(1) input, 'update add' lines\n"
    "                       and a 'send' after every batch\n"
    "      --replace        nsupdate: delete each owner's TLSA RRset first\n"
    "                       (in the same update as its new records)\n"
    "      --zone ZONE      nsupdate: start with 'zone ZONE'\n"
    "      --ns-server S    nsupdate: start with 'server IP [PORT]'\n"
    "      --batch N        nsupdate: records per update message (default\n"
    "                       100; an owner's records are never split)\n"
    "      --bundle         every certificate and key in a file is its own\n"
    "                       identity (e.g. 'cat *.crt | dance tlsa --bundle\n"
    "                       -'); without it a file is ONE identity\n"
    "  -h, --help           this text\n"
    "\n"
    "FILE is a PEM file; '-' is stdin; a DIR stands for its regular files\n"
    "(not starting with '.', in name order, not recursive).  A file's\n"
    "identity is its first certificate, else its first public key, else its\n"
    "first private key (only its public half is used; encrypted keys are\n"
    "refused).  A key only works with selector 1.  Records are grouped by\n"
    "owner; identical records are printed once.  The numbers may also be\n"
    "given by the names above (e.g. -u DANE-EE).\n"
    "Exit status: 0 printed, 1 usage error or an input that yields no\n"
    "record (then nothing is printed).\n";

/* A named choice of a TLSA field: its number and its mnemonic. */
typedef struct {
    unsigned value;
    const char *name;
} tlsa_choice;

static const tlsa_choice tlsa_usages[] = {
    {0, "PKIX-TA"}, {1, "PKIX-EE"}, {2, "DANE-TA"}, {3, "DANE-EE"}};
static const tlsa_choice tlsa_selectors[] = {{0, "Cert"}, {1, "SPKI"}};
static const tlsa_choice tlsa_mtypes[] = {
    {0, "Full"}, {1, "SHA2-256"}, {2, "SHA2-512"}};

/* One output record: owner (no trailing dot) and "U S M HEX". */
typedef struct {
    char *owner;
    char *rdata;
    size_t group; /* index of the first record with this owner */
} tlsa_rec;

/* getopt_long codes of the long-only options. */
enum {
    OPT_PATTERN = 300,
    OPT_TTL,
    OPT_FORMAT,
    OPT_REPLACE,
    OPT_ZONE,
    OPT_NS_SERVER,
    OPT_BATCH,
    OPT_BUNDLE
};

/*
 * parse_choice - the value of s among choices (a number or a mnemonic,
 * case-insensitive); -1 if it is neither.
 */
static int parse_choice(const char *s, const tlsa_choice *choices, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char num[4];

        snprintf(num, sizeof(num), "%u", choices[i].value);
        if (strcmp(s, num) == 0 || strcasecmp(s, choices[i].name) == 0)
            return (int)choices[i].value;
    }
    return -1;
}

/* parse_count - a decimal in [lo, hi] into *out; 0 or -1. */
static int parse_count(const char *s, unsigned long lo, unsigned long hi,
                       unsigned long *out)
{
    char *end = NULL;
    unsigned long v;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoul(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* hex_rdata - "U S M HEX" of data in a new string (caller frees). */
static char *hex_rdata(int usage, int selector, int mtype,
                       const unsigned char *data, size_t len)
{
    char *s = malloc(16 + 2 * len);
    size_t o;

    if (s == NULL)
        return NULL;
    o = (size_t)sprintf(s, "%d %d %d ", usage, selector, mtype);
    for (size_t i = 0; i < len; i++)
        o += (size_t)sprintf(s + o, "%02x", data[i]);
    return s;
}

/* Output settings. */
typedef struct {
    int nsupdate, replace;
    long ttl; /* -1: none */
    const char *zone, *server;
    unsigned long batch;
} tlsa_out;

/* print_server - the nsupdate 'server IP [PORT]' line for IP[@PORT]. */
static void print_server(const char *s)
{
    const char *at = strchr(s, '@');

    if (at != NULL)
        printf("server %.*s %s\n", (int)(at - s), s, at + 1);
    else
        printf("server %s\n", s);
}

/*
 * print_records - print recs (grouped by owner, in order of first
 * appearance) as o says.  0, or -1 if stdout fails.
 */
static int print_records(const tlsa_rec *recs, size_t n, const tlsa_out *o)
{
    char ttl[24] = "";
    size_t in_batch = 0;

    if (o->ttl >= 0)
        snprintf(ttl, sizeof(ttl), "%ld ", o->ttl);
    if (o->nsupdate) {
        if (o->server != NULL)
            print_server(o->server);
        if (o->zone != NULL)
            printf("zone %s\n", o->zone);
    }
    for (size_t g = 0; g < n; g++) {
        size_t count = 0;

        if (recs[g].group != g)
            continue;
        for (size_t i = g; i < n; i++)
            count += recs[i].group == g;
        if (o->nsupdate && in_batch > 0 && in_batch + count > o->batch) {
            printf("send\n");
            in_batch = 0;
        }
        if (o->nsupdate && o->replace)
            printf("update delete %s. IN TLSA\n", recs[g].owner);
        for (size_t i = g; i < n; i++) {
            if (recs[i].group != g)
                continue;
            printf("%s%s. %sIN TLSA %s\n", o->nsupdate ? "update add " : "",
                   recs[i].owner, ttl, recs[i].rdata);
        }
        in_batch += count;
    }
    if (o->nsupdate && in_batch > 0)
        printf("send\n");
    return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -1;
}

/* recs_free - free n records and the array. */
static void recs_free(tlsa_rec *recs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(recs[i].owner);
        free(recs[i].rdata);
    }
    free(recs);
}

/* dance_cmd_tlsa - the `dance tlsa` subcommand. */
int dance_cmd_tlsa(int argc, char **argv)
{
    static const struct option opts[] = {
        {"usage", required_argument, NULL, 'u'},
        {"selector", required_argument, NULL, 's'},
        {"mtype", required_argument, NULL, 'm'},
        {"name", required_argument, NULL, 'n'},
        {"pattern", required_argument, NULL, OPT_PATTERN},
        {"ttl", required_argument, NULL, OPT_TTL},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"replace", no_argument, NULL, OPT_REPLACE},
        {"zone", required_argument, NULL, OPT_ZONE},
        {"ns-server", required_argument, NULL, OPT_NS_SERVER},
        {"batch", required_argument, NULL, OPT_BATCH},
        {"bundle", no_argument, NULL, OPT_BUNDLE},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int usage = 3, selector = 1, mtype = 1, c, bundle = 0;
    int rc = DANCE_EXIT_USAGE;
    const char *owner = NULL, *pattern = NULL, *why = NULL;
    tlsa_out o = {0, 0, -1, NULL, NULL, 100};
    dance_tlsa_idents ids = {NULL, 0, 0};
    tlsa_rec *recs = NULL;
    size_t nrec = 0;
    unsigned long v;

    optind = 1;
    while ((c = getopt_long(argc, argv, "u:s:m:n:h", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            usage = parse_choice(optarg, tlsa_usages, 4);
            if (usage < 0) {
                fprintf(stderr,
                        "dance tlsa: -u/--usage wants 0-3 (PKIX-TA, "
                        "PKIX-EE, DANE-TA, DANE-EE), got '%s'\n",
                        optarg);
                return DANCE_EXIT_USAGE;
            }
            break;
        case 's':
            selector = parse_choice(optarg, tlsa_selectors, 2);
            if (selector < 0) {
                fprintf(stderr,
                        "dance tlsa: -s/--selector wants 0 (Cert) or 1 "
                        "(SPKI), got '%s'\n",
                        optarg);
                return DANCE_EXIT_USAGE;
            }
            break;
        case 'm':
            mtype = parse_choice(optarg, tlsa_mtypes, 3);
            if (mtype < 0) {
                fprintf(stderr,
                        "dance tlsa: -m/--mtype wants 0 (Full), 1 "
                        "(SHA2-256) or 2 (SHA2-512), got '%s'\n",
                        optarg);
                return DANCE_EXIT_USAGE;
            }
            break;
        case 'n':
            owner = optarg;
            break;
        case OPT_PATTERN:
            pattern = optarg;
            break;
        case OPT_TTL:
            if (parse_count(optarg, 0, 2147483647UL, &v) != 0) {
                fprintf(stderr,
                        "dance tlsa: --ttl wants 0..2147483647 seconds, got "
                        "'%s'\n",
                        optarg);
                return DANCE_EXIT_USAGE;
            }
            o.ttl = (long)v;
            break;
        case OPT_FORMAT:
            if (strcmp(optarg, "zone") == 0)
                o.nsupdate = 0;
            else if (strcmp(optarg, "nsupdate") == 0)
                o.nsupdate = 1;
            else {
                fprintf(stderr,
                        "dance tlsa: --format wants zone or nsupdate, got "
                        "'%s'\n",
                        optarg);
                return DANCE_EXIT_USAGE;
            }
            break;
        case OPT_REPLACE:
            o.replace = 1;
            break;
        case OPT_ZONE:
            if (dance_tlsa_check_owner(optarg, &why) != 0) {
                fprintf(stderr, "dance tlsa: --zone '%s' is not valid: %s\n",
                        optarg, why);
                return DANCE_EXIT_USAGE;
            }
            o.zone = optarg;
            break;
        case OPT_NS_SERVER:
            o.server = optarg;
            break;
        case OPT_BATCH:
            if (parse_count(optarg, 1, 100000, &v) != 0) {
                fprintf(stderr,
                        "dance tlsa: --batch wants 1..100000 records, got "
                        "'%s'\n",
                        optarg);
                return DANCE_EXIT_USAGE;
            }
            o.batch = v;
            break;
        case OPT_BUNDLE:
            bundle = 1;
            break;
        case 'h':
            fputs(tlsa_usage, stdout);
            return 0;
        default:
            fputs(tlsa_usage, stderr);
            return DANCE_EXIT_USAGE;
        }
    }
    if (owner != NULL && pattern != NULL) {
        fprintf(stderr, "dance tlsa: give -n/--name or --pattern, not both\n");
        return DANCE_EXIT_USAGE;
    }
    if (owner != NULL && dance_tlsa_check_owner(owner, &why) != 0) {
        fprintf(stderr,
                "dance tlsa: -n/--name '%s' is not a valid owner "
                "name: %s\n",
                owner, why);
        return DANCE_EXIT_USAGE;
    }
    if (!o.nsupdate && (o.replace || o.zone || o.server)) {
        fprintf(stderr, "dance tlsa: --replace, --zone and --ns-server go "
                        "with --format nsupdate\n");
        return DANCE_EXIT_USAGE;
    }
    if (o.nsupdate && o.ttl < 0) {
        fprintf(stderr, "dance tlsa: --format nsupdate needs --ttl (an "
                        "update adds records with an explicit TTL)\n");
        return DANCE_EXIT_USAGE;
    }
    if (optind == argc) {
        fprintf(stderr,
                "dance tlsa: a FILE is required (or '-' for "
                "stdin)\n%s",
                tlsa_usage);
        return DANCE_EXIT_USAGE;
    }
    for (int i = optind; i < argc; i++)
        if (dance_tlsa_read(argv[i], bundle, &ids, "dance tlsa") != 0)
            goto err;
    recs = calloc(ids.n ? ids.n : 1, sizeof(*recs));
    if (recs == NULL)
        goto nomem;
    for (size_t i = 0; i < ids.n; i++) {
        char name[DANCE_TLSA_MAX_OWNER + 2], reason[600];
        unsigned char *data;
        size_t len = 0, g;
        char *rd;

        if (dance_tlsa_owner(&ids.v[i], owner, pattern, name, sizeof(name),
                             reason, sizeof(reason)) != 0) {
            fprintf(stderr, "dance tlsa: %s\n", reason);
            goto err;
        }
        data = dance_tlsa_data(&ids.v[i], selector, mtype, &len, &why);
        if (data == NULL) {
            fprintf(stderr, "dance tlsa: %s holds a %s: %s\n", ids.v[i].source,
                    ids.v[i].kind, why);
            goto err;
        }
        rd = hex_rdata(usage, selector, mtype, data, len);
        OPENSSL_free(data);
        if (rd == NULL)
            goto nomem;
        for (g = 0; g < nrec; g++)
            if (strcasecmp(recs[g].owner, name) == 0)
                break;
        if (g < nrec) {
            size_t j;

            g = recs[g].group;
            for (j = g; j < nrec; j++)
                if (recs[j].group == g && strcmp(recs[j].rdata, rd) == 0)
                    break;
            if (j < nrec) { /* the same record twice: print it once */
                free(rd);
                continue;
            }
        }
        recs[nrec].owner = strdup(name);
        recs[nrec].rdata = rd;
        recs[nrec].group = g < nrec ? g : nrec;
        if (recs[nrec].owner == NULL) {
            free(rd);
            goto nomem;
        }
        nrec++;
    }
    if (print_records(recs, nrec, &o) != 0) {
        fprintf(stderr, "dance tlsa: cannot write the output: %s\n",
                strerror(errno));
        goto err;
    }
    rc = 0;
    goto err;
nomem:
    fprintf(stderr, "dance tlsa: out of memory\n");
err:
    recs_free(recs, nrec);
    dance_tlsa_idents_free(&ids);
    return rc;
}
