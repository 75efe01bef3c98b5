/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_rollover.c - `dance rollover`: the vendor key rollover of the second
 * paper (Table I, Figure 2): the vendor signs the new key with the old one,
 * the update server checks it against the DNSSEC key store and adds the
 * device's nonce and its own signature, the device checks both with its
 * local trust anchor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/pem.h>

#include "dance_cmd.h"
#include "dance_msg.h"
#include "dance_cose.h"
#include "dance_keystore.h"
#include "dance_opts.h"
#include "dance_rollover.h"

#define PROG "dance rollover"

static const char rollover_usage[] =
    "usage: dance rollover create --app-id ID --version N --new-key NEW.pem\n"
    "                             --new-kid KID --old-key OLD.pem --old-kid "
    "KID\n"
    "       dance rollover verify --keystore ZONE [-s IP[@PORT]]... [-a FILE]\n"
    "                             [--time T] FILE\n"
    "       dance rollover extend --nonce HEX --key SERVER.pem FILE\n"
    "       dance rollover device-check --trust OLD.pub --server-key "
    "SERVER.pub\n"
    "                             --nonce HEX [--out NEW.pub] FILE\n"
    "\n"
    "create (vendor): the rollover manifest, signed with the old key (to\n"
    "stdout).  verify (update server): main.ZONE points to the new kid, the\n"
    "new key in DNS is the manifest's, and the vendor signature verifies\n"
    "with the old key from DNS.  extend (update server): add the device's\n"
    "nonce and sign (to stdout).  device-check (device): the update server\n"
    "signature, the nonce this device issued for the session, and the\n"
    "vendor signature with the device's current trust anchor; --out writes\n"
    "the new key to install.\n"
    "\n"
    "  --nonce HEX        8..64 octets, hex"
    "\n" DANCE_OPTS_USAGE DANCE_OPTS_KEYSTORE_USAGE "\n"
    "Exit status: 0 ok, 1 usage, 2 invalid (malformed, signature, nonce),\n"
    "3 the DNS key store says no, 4 internal.\n";

typedef struct {
    dance_opts o;
    const char *app_id, *new_key, *new_kid, *old_key, *old_kid, *key, *nonce;
    const char *trust, *server_key, *out;
    uint64_t version;
    int has_version;
} rollover_args;

/* fail - print why with the program name and map st to an exit status. */
static int fail(dance_fw_status st, const char *why)
{
    fprintf(stderr, PROG ": %s: %s\n", dance_fw_status_str(st), why);
    return dance_opts_exit_for(st);
}

/* cmd_create - `dance rollover create`. */
static int cmd_create(const rollover_args *a)
{
    EVP_PKEY *new_pub = NULL, *old_priv = NULL;
    uint8_t *out = NULL;
    size_t out_len;
    char err[512];
    dance_fw_status st;
    int rc = DANCE_EXIT_USAGE;

    if (a->app_id == NULL || !a->has_version || a->new_key == NULL ||
        a->new_kid == NULL || a->old_key == NULL || a->old_kid == NULL) {
        fprintf(stderr, PROG " create: --app-id, --version, --new-key, "
                             "--new-kid, --old-key and --old-kid are "
                             "required\n");
        return rc;
    }
    new_pub = dance_opts_load_key(a->new_key, 0, PROG);
    old_priv = dance_opts_load_key(a->old_key, 1, PROG);
    if (new_pub == NULL || old_priv == NULL)
        goto done;
    st = dance_rollover_create(a->app_id, a->version, a->new_kid, new_pub,
                               a->old_kid, old_priv, &out, &out_len, err,
                               sizeof(err));
    if (st != DANCE_FW_OK)
        rc = fail(st, err);
    else
        rc = dance_opts_write(out, out_len, PROG) == 0
                 ? 0
                 : DANCE_OPTS_EXIT_INTERNAL;
done:
    free(out);
    EVP_PKEY_free(new_pub);
    EVP_PKEY_free(old_priv);
    return rc;
}

/* print_info - the fields of a checked rollover manifest. */
static void print_info(const dance_rollover_info *info)
{
    printf("app-id: %s\nversion: %llu\n", info->app_id,
           (unsigned long long)info->version);
    printf("old-key: %s (%s)\nnew-key: %s (%s)\n", info->old_kid,
           dance_cose_alg_name(info->old_alg), info->new_kid,
           dance_cose_alg_name(info->new_alg));
}

/* verify_dns - steps 5-9 of Figure 2: the new key is main's and the one in
 * DNS, the old key from DNS verifies the vendor signature. */
static dance_fw_status verify_dns(dance_res *res, const rollover_args *a,
                                  const uint8_t *buf, size_t len,
                                  dance_rollover_info *info, char *err,
                                  size_t errlen)
{
    EVP_PKEY *new_key = NULL, *dns_new = NULL, *dns_old = NULL;
    char *current = NULL, why[512];
    dance_fw_status st;

    st = dance_rollover_decode(buf, len, info, &new_key, err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    st = dance_keystore_current(res, a->o.keystore, a->o.now, &current,
                                &dns_new, err, errlen);
    if (st != DANCE_FW_OK)
        goto done;
    if (strcasecmp(current, info->new_kid) != 0) {
        st = DANCE_FAIL(DANCE_FW_KEY_MISMATCH, err, errlen,
                        "main.%s points to %s, not to the new key %s",
                        a->o.keystore, current, info->new_kid);
        goto done;
    }
    if (EVP_PKEY_eq(new_key, dns_new) != 1) {
        st = DANCE_FAIL(DANCE_FW_KEY_MISMATCH, err, errlen,
                        "the new key in the manifest is not the key "
                        "published at %s.%s",
                        info->new_kid, a->o.keystore);
        goto done;
    }
    st = dance_keystore_key(res, a->o.keystore, info->old_kid, a->o.now,
                            &dns_old, err, errlen);
    if (st != DANCE_FW_OK)
        goto done;
    dance_rollover_info_clear(info);
    st = dance_rollover_verify_vendor(buf, len, dns_old, info, NULL, why,
                                      sizeof(why));
    if (st != DANCE_FW_OK)
        dance_msg(err, errlen, "%s (old key from DNS)", why);
done:
    free(current);
    EVP_PKEY_free(new_key);
    EVP_PKEY_free(dns_new);
    EVP_PKEY_free(dns_old);
    return st;
}

/* cmd_verify - `dance rollover verify`. */
static int cmd_verify(rollover_args *a, const char *path)
{
    dance_rollover_info info;
    dance_res *res;
    uint8_t *in = NULL;
    size_t in_len;
    char err[768];
    dance_fw_status st;
    int rc;

    memset(&info, 0, sizeof(info));
    res = dance_opts_res_new(&a->o, 1, PROG);
    if (res == NULL)
        return DANCE_EXIT_USAGE;
    st = dance_fw_read_file(path, DANCE_FW_MAX_CBOR, &in, &in_len, err,
                            sizeof(err));
    if (st == DANCE_FW_OK)
        st = verify_dns(res, a, in, in_len, &info, err, sizeof(err));
    if (st == DANCE_FW_OK) {
        printf("verified: main.%s is the new key, signed by the old key\n",
               a->o.keystore);
        print_info(&info);
        rc = 0;
    } else {
        rc = fail(st, err);
    }
    dance_rollover_info_clear(&info);
    dance_res_free(res);
    free(in);
    return rc;
}

/* get_nonce - decode --nonce; NULL with a message on bad input. */
static uint8_t *get_nonce(const char *hex, size_t *len)
{
    uint8_t *nonce = NULL;

    if (hex == NULL || dance_fw_hex_decode(hex, &nonce, len) != 0 ||
        *len < DANCE_ROLLOVER_NONCE_MIN || *len > DANCE_ROLLOVER_NONCE_MAX) {
        fprintf(stderr, PROG ": --nonce wants %d..%d octets in hex\n",
                DANCE_ROLLOVER_NONCE_MIN, DANCE_ROLLOVER_NONCE_MAX);
        free(nonce);
        return NULL;
    }
    return nonce;
}

/* cmd_extend - `dance rollover extend`. */
static int cmd_extend(const rollover_args *a, const char *path)
{
    uint8_t *nonce = NULL, *in = NULL, *out = NULL;
    size_t nonce_len, in_len, out_len;
    EVP_PKEY *pkey = NULL;
    char err[512];
    dance_fw_status st;
    int rc = DANCE_EXIT_USAGE;

    if (a->key == NULL) {
        fprintf(stderr, PROG " extend: --key is required\n");
        return rc;
    }
    nonce = get_nonce(a->nonce, &nonce_len);
    if (nonce == NULL || (pkey = dance_opts_load_key(a->key, 1, PROG)) == NULL)
        goto done;
    st = dance_fw_read_file(path, DANCE_FW_MAX_CBOR, &in, &in_len, err,
                            sizeof(err));
    if (st == DANCE_FW_OK)
        st = dance_rollover_extend(in, in_len, nonce, nonce_len, pkey, &out,
                                   &out_len, err, sizeof(err));
    if (st != DANCE_FW_OK)
        rc = fail(st, err);
    else
        rc = dance_opts_write(out, out_len, PROG) == 0
                 ? 0
                 : DANCE_OPTS_EXIT_INTERNAL;
done:
    free(nonce);
    free(in);
    free(out);
    EVP_PKEY_free(pkey);
    return rc;
}

/* write_key - the new trust anchor to path, PEM. */
static dance_fw_status write_key(const char *path, EVP_PKEY *pkey, char *err,
                                 size_t errlen)
{
    FILE *f = fopen(path, "w");
    int ok;

    if (f == NULL)
        return DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "cannot create %s",
                          path);
    ok = PEM_write_PUBKEY(f, pkey) == 1;
    ok = fclose(f) == 0 && ok;
    return ok ? DANCE_FW_OK
              : DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "cannot write %s",
                           path);
}

/* cmd_device_check - `dance rollover device-check`. */
static int cmd_device_check(const rollover_args *a, const char *path)
{
    EVP_PKEY *trust = NULL, *server = NULL, *new_key = NULL;
    uint8_t *nonce = NULL, *in = NULL;
    size_t nonce_len, in_len;
    dance_rollover_info info;
    char err[768];
    dance_fw_status st;
    int rc = DANCE_EXIT_USAGE;

    memset(&info, 0, sizeof(info));
    if (a->trust == NULL || a->server_key == NULL) {
        fprintf(stderr, PROG " device-check: --trust, --server-key and "
                             "--nonce are required\n");
        return rc;
    }
    nonce = get_nonce(a->nonce, &nonce_len);
    if (nonce == NULL ||
        (trust = dance_opts_load_key(a->trust, 0, PROG)) == NULL ||
        (server = dance_opts_load_key(a->server_key, 0, PROG)) == NULL)
        goto done;
    st = dance_fw_read_file(path, DANCE_FW_MAX_CBOR, &in, &in_len, err,
                            sizeof(err));
    if (st == DANCE_FW_OK)
        st = dance_rollover_device_check(in, in_len, trust, server, nonce,
                                         nonce_len, &info, &new_key, err,
                                         sizeof(err));
    if (st == DANCE_FW_OK && a->out != NULL)
        st = write_key(a->out, new_key, err, sizeof(err));
    if (st == DANCE_FW_OK) {
        printf("verified: update server signature, nonce, vendor signature "
               "with the trust anchor\n");
        print_info(&info);
        rc = 0;
    } else {
        rc = fail(st, err);
    }
done:
    dance_rollover_info_clear(&info);
    EVP_PKEY_free(new_key);
    EVP_PKEY_free(trust);
    EVP_PKEY_free(server);
    free(nonce);
    free(in);
    return rc;
}

/* dance_cmd_rollover - the `dance rollover` subcommand. */
int dance_cmd_rollover(int argc, char **argv)
{
    static const struct option opts[] = {
        {"app-id", required_argument, NULL, 'A'},
        {"version", required_argument, NULL, 'V'},
        {"new-key", required_argument, NULL, 'n'},
        {"new-kid", required_argument, NULL, 'N'},
        {"old-key", required_argument, NULL, 'o'},
        {"old-kid", required_argument, NULL, 'O'},
        {"key", required_argument, NULL, 'k'},
        {"nonce", required_argument, NULL, 'c'},
        {"trust", required_argument, NULL, 't'},
        {"server-key", required_argument, NULL, 'S'},
        {"out", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        DANCE_OPTS_LONG,
        {NULL, 0, NULL, 0}};
    rollover_args a;
    const char *action;
    int c, r;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        fputs(rollover_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? DANCE_EXIT_USAGE : 0;
    }
    action = argv[1];
    memset(&a, 0, sizeof(a));
    dance_opts_init(&a.o);
    optind = 1;
    while ((c = getopt_long(argc - 1, argv + 1, "s:a:h", opts, NULL)) != -1) {
        r = dance_opts_handle(&a.o, c, optarg, PROG);
        if (r < 0)
            return DANCE_EXIT_USAGE;
        if (r > 0)
            continue;
        switch (c) {
        case 'A':
            a.app_id = optarg;
            break;
        case 'V':
            if (dance_opts_parse_uint(optarg, UINT64_MAX, &a.version) != 0) {
                fprintf(stderr, PROG ": --version wants a whole number\n");
                return DANCE_EXIT_USAGE;
            }
            a.has_version = 1;
            break;
        case 'n':
            a.new_key = optarg;
            break;
        case 'N':
            a.new_kid = optarg;
            break;
        case 'o':
            a.old_key = optarg;
            break;
        case 'O':
            a.old_kid = optarg;
            break;
        case 'k':
            a.key = optarg;
            break;
        case 'c':
            a.nonce = optarg;
            break;
        case 't':
            a.trust = optarg;
            break;
        case 'S':
            a.server_key = optarg;
            break;
        case 'w':
            a.out = optarg;
            break;
        case 'h':
            fputs(rollover_usage, stdout);
            return 0;
        default:
            fputs(rollover_usage, stderr);
            return DANCE_EXIT_USAGE;
        }
    }
    argc--;
    argv++;
    if (strcmp(action, "create") == 0 && optind == argc)
        return cmd_create(&a);
    if (optind == argc - 1) {
        if (strcmp(action, "verify") == 0)
            return cmd_verify(&a, argv[optind]);
        if (strcmp(action, "extend") == 0)
            return cmd_extend(&a, argv[optind]);
        if (strcmp(action, "device-check") == 0)
            return cmd_device_check(&a, argv[optind]);
    }
    fprintf(stderr, PROG ": bad arguments for '%s'\n%s", action,
            rollover_usage);
    return DANCE_EXIT_USAGE;
}
