/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_publish.c - `dance publish`: add, replace or remove TLSA records with
 * RFC 2136 dynamic updates signed with TSIG, then wait until each change
 * is visible and DNSSEC-secure through the resolver (dance_update.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldns/ldns.h>

#include "dance_cmd.h"
#include "dance_opts.h"
#include "dance_publish.h"
#include "dance_update.h"

static const char publish_usage[] =
    "usage: dance publish add|replace|remove --zone ZONE --primary IP[@PORT]\n"
    "                     (-k KEYFILE | -y [ALG:]NAME:SECRET) [--batch N]\n"
    "                     [--ttl SECONDS] [--wait SECONDS] [-s IP[@PORT]]...\n"
    "                     [-a ANCHOR] [--trust-ad] [--timeout MS] [FILE|-]...\n"
    "\n"
    "Change TLSA records in ZONE with RFC 2136 dynamic updates sent to its\n"
    "primary over TCP, signed with a TSIG key, then look every changed name\n"
    "up through the resolver (-s, -a: as for 'dance lookup') until the\n"
    "change is visible and DNSSEC-secure, and print each name's state.\n"
    "\n"
    "  add        add the records to the names' TLSA RRsets\n"
    "  replace    each name's TLSA RRset becomes exactly the records given\n"
    "  remove     remove the records given; a line with only a NAME removes\n"
    "             that name's whole TLSA RRset\n"
    "\n"
    "Input (FILEs, or stdin when none or '-'): zone-file lines as 'dance\n"
    "tlsa' prints them ('NAME. [TTL] IN TLSA U S M HEX'); blank lines and\n"
    "lines starting with ';' or '#' are skipped.  Every line is read and\n"
    "checked (TLSA only, every NAME inside ZONE) before anything is sent.\n"
    "\n"
    "      --zone ZONE         the zone to update (required)\n"
    "      --primary IP[@PORT] its primary server (required; port 53)\n"
    "  -k, --key FILE          TSIG key file (BIND or Knot format)\n"
    "  -y, --key-arg K         TSIG key [ALG:]NAME:SECRET (ALG default\n"
    "                          hmac-sha256); visible in ps: prefer -k\n"
    "      --batch N           records per update message (default 200; a\n"
    "                          message also stays under 16 KiB; a name's\n"
    "                          records are never split)\n"
    "      --ttl SECONDS       TTL of records whose line has none (3600)\n"
    "      --wait SECONDS      how long to wait for the changes to be seen\n"
    "                          secure (default 60; 0: do not "
    "look)\n" DANCE_OPTS_USAGE "\n"
    "One update message is atomic (RFC 2136 3.7): all of its names change or\n"
    "none.  Messages go in order and sending stops at the first one not\n"
    "applied; the report says for every name whether it changed.\n"
    "Exit status: 0 every change applied and seen secure, 1 usage error,\n"
    "2 some name NOT changed (update rejected: key, policy, zone), 3 applied\n"
    "but not seen secure within --wait, 4 outcome unknown (no answer).\n";

/*
 * read_records - parse the zone-file lines of f into u (op REMOVE: a line
 * with a bare name is the whole RRset).  0, or -1 with a message.
 */
static int read_records(FILE *f, const char *path, dance_upd *u,
                        dance_upd_op op, uint32_t ttl, const char *prog)
{
    char line[8192], err[400];
    unsigned lineno = 0;

    while (fgets(line, sizeof(line), f) != NULL) {
        char *p = line, *end;
        ldns_rr *rr = NULL;
        ldns_status s;

        lineno++;
        if (strchr(line, '\n') == NULL && !feof(f)) {
            fprintf(stderr, "%s: %s:%u: line too long\n", prog, path, lineno);
            return -1;
        }
        while (*p == ' ' || *p == '\t')
            p++;
        end = p + strcspn(p, "\r\n");
        *end = '\0';
        if (*p == '\0' || *p == ';' || *p == '#')
            continue;
        if (op == DANCE_UPD_REMOVE && strpbrk(p, " \t") == NULL) {
            ldns_rdf *owner = ldns_dname_new_frm_str(p);

            rr = ldns_rr_new();
            if (owner == NULL || rr == NULL) {
                ldns_rdf_deep_free(owner);
                ldns_rr_free(rr);
                fprintf(stderr, "%s: %s:%u: '%s' is not a domain name\n", prog,
                        path, lineno, p);
                return -1;
            }
            ldns_rr_set_owner(rr, owner);
            ldns_rr_set_type(rr, LDNS_RR_TYPE_TLSA);
        } else {
            s = ldns_rr_new_frm_str(&rr, p, ttl, NULL, NULL);
            if (s != LDNS_STATUS_OK) {
                fprintf(stderr, "%s: %s:%u: not a record: %s\n", prog, path,
                        lineno, ldns_get_errorstr_by_id(s));
                return -1;
            }
        }
        if (dance_upd_add_rr(u, rr, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: %s:%u: %s\n", prog, path, lineno, err);
            return -1;
        }
    }
    if (ferror(f)) {
        fprintf(stderr, "%s: cannot read %s\n", prog, path);
        return -1;
    }
    return 0;
}

/* dance_publish_opts_init - see dance_publish.h. */
void dance_publish_opts_init(dance_publish_opts *p)
{
    memset(p, 0, sizeof(*p));
    dance_opts_init(&p->res);
    p->batch = 200;
    p->ttl = 3600;
    p->wait_s = 60;
}

/* dance_publish_handle - see dance_publish.h. */
int dance_publish_handle(dance_publish_opts *p, int c, const char *arg,
                         const char *prog)
{
    char err[300];
    uint64_t v;
    int taken = dance_opts_handle(&p->res, c, arg, prog);

    if (taken != 0)
        return taken;
    switch (c) {
    case DANCE_PUBLISH_ZONE:
        p->zone = arg;
        return 1;
    case DANCE_PUBLISH_PRIMARY:
        p->primary = arg;
        return 1;
    case 'k':
        if (dance_tsig_load(arg, &p->key, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: %s\n", prog, err);
            return -1;
        }
        p->have_key = 1;
        return 1;
    case 'y':
        if (dance_tsig_parse_arg(arg, &p->key, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s: %s\n", prog, err);
            return -1;
        }
        p->have_key = 1;
        return 1;
    case DANCE_PUBLISH_BATCH:
        if (dance_opts_parse_uint(arg, 10000, &v) != 0 || v == 0) {
            fprintf(stderr, "%s: --batch wants 1..10000, got '%s'\n", prog,
                    arg);
            return -1;
        }
        p->batch = (unsigned)v;
        return 1;
    case DANCE_PUBLISH_TTL:
        if (dance_opts_parse_uint(arg, 2147483647, &v) != 0) {
            fprintf(stderr, "%s: --ttl wants 0..2147483647, got '%s'\n", prog,
                    arg);
            return -1;
        }
        p->ttl = (uint32_t)v;
        return 1;
    case DANCE_PUBLISH_WAIT:
        if (dance_opts_parse_uint(arg, 86400, &v) != 0) {
            fprintf(stderr, "%s: --wait wants 0..86400 seconds, got '%s'\n",
                    prog, arg);
            return -1;
        }
        p->wait_s = (unsigned)v;
        return 1;
    }
    return 0;
}

/* dance_publish_check - see dance_publish.h. */
int dance_publish_check(const dance_publish_opts *p, const char *prog)
{
    if (p->zone == NULL || p->primary == NULL || !p->have_key) {
        fprintf(stderr,
                "%s: --zone, --primary and a TSIG key (-k or -y) are "
                "required\n",
                prog);
        return -1;
    }
    if (p->res.keystore != NULL) {
        fprintf(stderr, "%s: --keystore is not an option here\n", prog);
        return -1;
    }
    return 0;
}

/* dance_publish_run - see dance_publish.h. */
int dance_publish_run(dance_publish_opts *p, dance_upd *u, const char *prog)
{
    dance_res *res = NULL;
    unsigned timeout = p->res.cfg.timeout_ms ? p->res.cfg.timeout_ms : 2000;

    if (dance_upd_name_count(u) == 0) {
        fprintf(stderr, "%s: no record to publish\n", prog);
        return DANCE_EXIT_USAGE;
    }
    if (p->wait_s > 0) {
        res = dance_opts_res_new(&p->res, 0, prog);
        if (res == NULL)
            return DANCE_EXIT_USAGE;
    }
    dance_upd_send(u, p->primary, &p->key, p->batch, timeout * 5, stdout);
    if (res != NULL)
        dance_upd_wait(u, res, p->wait_s);
    dance_res_free(res);
    return dance_upd_report(u, stdout, p->wait_s > 0);
}

/* dance_cmd_publish - the `dance publish` subcommand. */
int dance_cmd_publish(int argc, char **argv)
{
    static const struct option opts[] = {
        {"zone", required_argument, NULL, DANCE_PUBLISH_ZONE},
        {"primary", required_argument, NULL, DANCE_PUBLISH_PRIMARY},
        {"key", required_argument, NULL, 'k'},
        {"key-arg", required_argument, NULL, 'y'},
        {"batch", required_argument, NULL, DANCE_PUBLISH_BATCH},
        {"ttl", required_argument, NULL, DANCE_PUBLISH_TTL},
        {"wait", required_argument, NULL, DANCE_PUBLISH_WAIT},
        {"help", no_argument, NULL, 'h'},
        DANCE_OPTS_LONG,
        {NULL, 0, NULL, 0}};
    const char *prog = "dance publish";
    dance_publish_opts p;
    dance_upd_op op;
    dance_upd *u = NULL;
    int c, taken, rc = DANCE_EXIT_USAGE;

    dance_publish_opts_init(&p);
    optind = 1;
    while ((c = getopt_long(argc, argv, "s:a:k:y:h", opts, NULL)) != -1) {
        if (c == 'h') {
            fputs(publish_usage, stdout);
            return 0;
        }
        taken = dance_publish_handle(&p, c, optarg, prog);
        if (taken < 0)
            return DANCE_EXIT_USAGE;
        if (taken == 0) {
            fputs(publish_usage, stderr);
            return DANCE_EXIT_USAGE;
        }
    }
    if (optind == argc) {
        fprintf(stderr, "%s: add, replace or remove?\n%s", prog, publish_usage);
        return DANCE_EXIT_USAGE;
    }
    if (strcmp(argv[optind], "add") == 0)
        op = DANCE_UPD_ADD;
    else if (strcmp(argv[optind], "replace") == 0)
        op = DANCE_UPD_REPLACE;
    else if (strcmp(argv[optind], "remove") == 0)
        op = DANCE_UPD_REMOVE;
    else {
        fprintf(stderr, "%s: unknown action '%s' (add, replace, remove)\n",
                prog, argv[optind]);
        return DANCE_EXIT_USAGE;
    }
    optind++;
    if (dance_publish_check(&p, prog) != 0)
        return DANCE_EXIT_USAGE;
    u = dance_upd_new(p.zone, op);
    if (u == NULL) {
        fprintf(stderr, "%s: --zone '%s' is not a domain name\n", prog, p.zone);
        return DANCE_EXIT_USAGE;
    }
    if (optind == argc) {
        if (read_records(stdin, "-", u, op, p.ttl, prog) != 0)
            goto out;
    }
    for (int i = optind; i < argc; i++) {
        FILE *f = strcmp(argv[i], "-") == 0 ? stdin : fopen(argv[i], "r");
        int r;

        if (f == NULL) {
            fprintf(stderr, "%s: cannot open %s: %s\n", prog, argv[i],
                    strerror(errno));
            goto out;
        }
        r = read_records(f, argv[i], u, op, p.ttl, prog);
        if (f != stdin)
            fclose(f);
        if (r != 0)
            goto out;
    }
    rc = dance_publish_run(&p, u, prog);
out:
    dance_upd_free(u);
    return rc;
}
