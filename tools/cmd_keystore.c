/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_keystore.c - `dance keystore`: IPSECKEY records for signing keys and
 * a look at what a key store publishes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "dance_cmd.h"
#include "dance_cose.h"
#include "dance_ipseckey.h"
#include "dance_keystore.h"
#include "dance_opts.h"

static const char keystore_usage[] =
    "usage: dance keystore record --kid KID [--keystore ZONE]\n"
    "                             [--precedence N] KEY.pem\n"
    "       dance keystore show --keystore ZONE [-s IP[@PORT]]... [-a FILE]\n"
    "                           [--time UNIXTIME] [KID]\n"
    "\n"
    "record: print the IPSECKEY record publishing the public half of\n"
    "KEY.pem (Ed25519, Ed448, ECDSA P-256/P-384, RSA >= 2048) under KID\n"
    "(KID.ZONE. with --keystore).  show: validate and print the key that\n"
    "main.ZONE points to, or the key KID.ZONE.\n"
    "\n"
    "  --kid KID          key id, one DNS label\n"
    "  --precedence N     IPSECKEY precedence (default 10)"
    "\n" DANCE_OPTS_USAGE DANCE_OPTS_KEYSTORE_USAGE "\n"
    "Exit status: 0 ok, 1 usage, 2 bad key, 3 DNS says no, 4 internal.\n";

/* cmd_record - `dance keystore record`. */
static int cmd_record(const char *kid, const char *zone, uint64_t precedence,
                      const char *path)
{
    char owner[330], *line = NULL, err[256];
    EVP_PKEY *pkey;
    dance_ipseckey_status st;

    if (kid == NULL || !dance_fw_kid_valid((const uint8_t *)kid, strlen(kid))) {
        fprintf(stderr, "dance keystore: --kid wants one DNS label (1..63 "
                        "of a-z A-Z 0-9 - _)\n");
        return DANCE_EXIT_USAGE;
    }
    if (zone != NULL)
        snprintf(owner, sizeof(owner), "%s.%s%s", kid, zone,
                 zone[0] != '\0' && zone[strlen(zone) - 1] == '.' ? "" : ".");
    else
        snprintf(owner, sizeof(owner), "%s", kid);
    pkey = dance_opts_load_key(path, 0, "dance keystore");
    if (pkey == NULL)
        return DANCE_EXIT_USAGE;
    st = dance_ipseckey_record(owner, (unsigned)precedence, pkey, &line, err,
                               sizeof(err));
    EVP_PKEY_free(pkey);
    if (st != DANCE_IPSECKEY_OK) {
        fprintf(stderr, "dance keystore: %s: %s\n", path, err);
        return DANCE_OPTS_EXIT_INVALID;
    }
    printf("%s\n", line);
    OPENSSL_free(line);
    return 0;
}

/* print_key - one line describing a key: type and COSE algorithm. */
static void print_key(const char *label, const char *kid, EVP_PKEY *pkey)
{
    int64_t alg = 0;
    char err[128];

    dance_cose_alg_for_key(pkey, &alg, err, sizeof(err));
    printf("%s: %s (%s, %d bits, COSE %s)\n", label, kid,
           EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "?",
           EVP_PKEY_get_bits(pkey),
           dance_cose_alg_name(alg) ? dance_cose_alg_name(alg) : "none");
}

/* cmd_show - `dance keystore show`. */
static int cmd_show(dance_opts *o, const char *kid)
{
    dance_res *res = dance_opts_res_new(o, 1, "dance keystore");
    EVP_PKEY *pkey = NULL;
    char *current = NULL, err[512];
    dance_fw_status st;

    if (res == NULL)
        return DANCE_EXIT_USAGE;
    if (kid == NULL)
        st = dance_keystore_current(res, o->keystore, o->now, &current, &pkey,
                                    err, sizeof(err));
    else
        st = dance_keystore_key(res, o->keystore, kid, o->now, &pkey, err,
                                sizeof(err));
    if (st == DANCE_FW_OK) {
        print_key(kid == NULL ? "main" : "key", kid == NULL ? current : kid,
                  pkey);
        if (PEM_write_PUBKEY(stdout, pkey) != 1)
            st = DANCE_FW_INTERNAL;
    } else {
        fprintf(stderr, "dance keystore: %s\n", err);
    }
    EVP_PKEY_free(pkey);
    free(current);
    dance_res_free(res);
    return dance_opts_exit_for(st);
}

/* dance_cmd_keystore - the `dance keystore` subcommand. */
int dance_cmd_keystore(int argc, char **argv)
{
    static const struct option opts[] = {
        {"kid", required_argument, NULL, 'k'},
        {"precedence", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        DANCE_OPTS_LONG,
        {NULL, 0, NULL, 0}};
    const char *kid = NULL, *action;
    uint64_t precedence = 10;
    dance_opts o;
    int c, r;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        fputs(keystore_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? DANCE_EXIT_USAGE : 0;
    }
    action = argv[1];
    dance_opts_init(&o);
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "s:a:h", opts, NULL)) != -1) {
        r = dance_opts_handle(&o, c, optarg, "dance keystore");
        if (r < 0)
            return DANCE_EXIT_USAGE;
        if (r > 0)
            continue;
        switch (c) {
        case 'k':
            kid = optarg;
            break;
        case 'p':
            if (dance_opts_parse_uint(optarg, 255, &precedence) != 0) {
                fprintf(stderr, "dance keystore: --precedence wants 0..255\n");
                return DANCE_EXIT_USAGE;
            }
            break;
        case 'h':
            fputs(keystore_usage, stdout);
            return 0;
        default:
            fputs(keystore_usage, stderr);
            return DANCE_EXIT_USAGE;
        }
    }
    argc--;
    argv++;
    if (strcmp(action, "record") == 0 && optind == argc - 1)
        return cmd_record(kid, o.keystore, precedence, argv[optind]);
    if (strcmp(action, "show") == 0 && optind >= argc - 1)
        return cmd_show(&o, optind == argc - 1 ? argv[optind] : NULL);
    fprintf(stderr, "dance keystore: bad arguments for '%s'\n%s", action,
            keystore_usage);
    return DANCE_EXIT_USAGE;
}
