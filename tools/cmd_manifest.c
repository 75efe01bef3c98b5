/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cmd_manifest.c - `dance manifest`: SUIT manifests signed by the vendor,
 * checked by the update server against the DNSSEC key store (the second
 * paper's Figure 1), extended by the update server and checked by the device.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dance_cmd.h"
#include "dance_msg.h"
#include "dance_keystore.h"
#include "dance_opts.h"
#include "dance_suit.h"

#define PROG "dance manifest"

static const char manifest_usage[] =
    "usage: dance manifest create --firmware FILE --uri URI --seq N\n"
    "       dance manifest sign --key VENDOR.pem --kid KID MANIFEST.cbor\n"
    "       dance manifest verify --keystore ZONE [-s IP[@PORT]]... [-a FILE]\n"
    "                             [--time T] [--firmware FILE] ENVELOPE.cbor\n"
    "       dance manifest extend --key SERVER.pem [--kid KID] ENVELOPE.cbor\n"
    "       dance manifest device-check --trust VENDOR.pub --server-key\n"
    "                             SERVER.pub [--firmware FILE] ENVELOPE.cbor\n"
    "\n"
    "create: a SUIT manifest for one image (to stdout).  sign: a SUIT\n"
    "envelope with the vendor's COSE_Sign1 (to stdout).  verify (update\n"
    "server): the digest, that main.ZONE points to the signer's kid, and the\n"
    "signature with that DNSSEC-validated key.  extend: add the update\n"
    "server's signature.  device-check: vendor and update server signatures\n"
    "with the device's own keys.\n"
    "\n"
    "  --firmware FILE    the image (create: digest and size; verify and\n"
    "                     device-check: must match the manifest)\n"
    "  --uri URI          where the image is fetched from\n"
    "  --seq N            manifest sequence number\n"
    "  --key FILE.pem     signing key (private)\n"
    "  --kid KID          key id, one DNS label\n"
    "  --trust FILE       the device's vendor trust anchor (public key)\n"
    "  --server-key FILE  the update server's public key"
    "\n" DANCE_OPTS_USAGE DANCE_OPTS_KEYSTORE_USAGE "\n"
    "Exit status: 0 ok, 1 usage, 2 invalid (malformed, digest, signature),\n"
    "3 the DNS key store says no (not secure, kid not main), 4 internal.\n";

typedef struct {
    dance_opts o;
    const char *firmware, *uri, *key, *kid, *trust, *server_key;
    uint64_t seq;
    int has_seq;
} manifest_args;

/* fail - print why with the program name and map st to an exit status. */
static int fail(dance_fw_status st, const char *why)
{
    fprintf(stderr, PROG ": %s: %s\n", dance_fw_status_str(st), why);
    return dance_opts_exit_for(st);
}

/* cmd_create - `dance manifest create`. */
static int cmd_create(const manifest_args *a)
{
    uint8_t digest[32], *out = NULL;
    uint64_t size;
    size_t len;
    char err[512];
    dance_fw_status st;

    if (a->firmware == NULL || a->uri == NULL || !a->has_seq) {
        fprintf(stderr, PROG " create: --firmware, --uri and --seq are "
                             "required\n");
        return DANCE_EXIT_USAGE;
    }
    st = dance_suit_file_digest(a->firmware, digest, &size, err, sizeof(err));
    if (st == DANCE_FW_OK)
        st = dance_suit_manifest_create(a->seq, digest, size, a->uri, &out,
                                        &len, err, sizeof(err));
    if (st != DANCE_FW_OK)
        return fail(st, err);
    st =
        dance_opts_write(out, len, PROG) == 0 ? DANCE_FW_OK : DANCE_FW_INTERNAL;
    free(out);
    return dance_opts_exit_for(st);
}

/* cmd_sign - `dance manifest sign` and `dance manifest extend`. */
static int cmd_sign(const manifest_args *a, const char *path, int extend)
{
    uint8_t *in = NULL, *out = NULL;
    size_t in_len, out_len;
    EVP_PKEY *pkey = NULL;
    char err[512];
    dance_fw_status st;
    int rc;

    if (a->key == NULL || (!extend && a->kid == NULL)) {
        fprintf(stderr, PROG ": --key%s is required\n",
                extend ? "" : " and --kid are");
        return DANCE_EXIT_USAGE;
    }
    pkey = dance_opts_load_key(a->key, 1, PROG);
    if (pkey == NULL)
        return DANCE_EXIT_USAGE;
    st = dance_fw_read_file(path, DANCE_FW_MAX_CBOR, &in, &in_len, err,
                            sizeof(err));
    if (st == DANCE_FW_OK && extend)
        st = dance_suit_envelope_add_signature(in, in_len, pkey, a->kid, &out,
                                               &out_len, err, sizeof(err));
    else if (st == DANCE_FW_OK)
        st = dance_suit_envelope_sign(in, in_len, pkey, a->kid, &out, &out_len,
                                      err, sizeof(err));
    if (st != DANCE_FW_OK)
        rc = fail(st, err);
    else
        rc = dance_opts_write(out, out_len, PROG) == 0
                 ? 0
                 : DANCE_OPTS_EXIT_INTERNAL;
    free(in);
    free(out);
    EVP_PKEY_free(pkey);
    return rc;
}

/* print_info - what a verified manifest says. */
static void print_info(const dance_suit_info *info)
{
    printf("sequence: %llu\n", (unsigned long long)info->seq);
    if (info->has_size)
        printf("image-size: %llu\n", (unsigned long long)info->image_size);
    if (info->has_digest) {
        printf("image-digest: sha-256:");
        for (size_t i = 0; i < 32; i++)
            printf("%02x", info->image_digest[i]);
        printf("\n");
    }
    if (info->uri != NULL)
        printf("uri: %s\n", info->uri);
}

/* kid_string - the signature's kid as a C string in buf, or NULL if it
 * has none or it is not a key id. */
static const char *kid_string(const dance_cose_sign1 *sig, char *buf,
                              size_t len)
{
    size_t n;
    const uint8_t *kid = dance_cose_sign1_get0_kid(sig, &n);

    if (kid == NULL || !dance_fw_kid_valid(kid, n) || n >= len)
        return NULL;
    memcpy(buf, kid, n);
    buf[n] = '\0';
    return buf;
}

/* verify_envelope - the update server's checks of cmd_verify. */
static dance_fw_status verify_envelope(dance_res *res, const manifest_args *a,
                                       const dance_suit_envelope *env,
                                       char *err, size_t errlen)
{
    const dance_cose_sign1 *sig = dance_suit_envelope_get0_signature(env, 0);
    char kidbuf[64], *current = NULL, why[512];
    const char *kid = kid_string(sig, kidbuf, sizeof(kidbuf));
    EVP_PKEY *pkey = NULL;
    dance_fw_status st;

    if (kid == NULL)
        return DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                          "the vendor signature has no kid that is a DNS "
                          "label");
    st = dance_keystore_current(res, a->o.keystore, a->o.now, &current, &pkey,
                                err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    if (strcasecmp(current, kid) != 0) {
        st = DANCE_FAIL(DANCE_FW_KEY_MISMATCH, err, errlen,
                        "signed with key %s, but main.%s points to %s "
                        "(key %s is revoked or not yet current)",
                        kid, a->o.keystore, current, kid);
        goto done;
    }
    st = dance_suit_envelope_verify(env, 0, pkey, why, sizeof(why));
    if (st != DANCE_FW_OK) {
        dance_msg(err, errlen, "key %s from DNS: %s", kid, why);
        goto done;
    }
    if (a->firmware != NULL)
        st = dance_suit_check_image(dance_suit_envelope_get0_info(env),
                                    a->firmware, err, errlen);
    if (st == DANCE_FW_OK)
        printf("verified: key %s (%s) is main.%s\n", kid,
               dance_cose_alg_name(dance_cose_sign1_alg(sig)), a->o.keystore);
done:
    free(current);
    EVP_PKEY_free(pkey);
    return st;
}

/* device_check - the device's checks of cmd_verify (--trust). */
static dance_fw_status device_check(const manifest_args *a,
                                    const dance_suit_envelope *env, char *err,
                                    size_t errlen)
{
    EVP_PKEY *trust = NULL, *server = NULL;
    dance_fw_status st = DANCE_FW_INTERNAL;
    char why[512];

    if (dance_suit_envelope_num_signatures(env) != 2)
        return DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                          "the envelope has %zu signatures; the device "
                          "wants the vendor's and the update server's",
                          dance_suit_envelope_num_signatures(env));
    trust = dance_opts_load_key(a->trust, 0, PROG);
    server = dance_opts_load_key(a->server_key, 0, PROG);
    if (trust == NULL || server == NULL) {
        dance_msg(err, errlen, "cannot load the device's keys");
        goto done;
    }
    st = dance_suit_envelope_verify(env, 0, trust, why, sizeof(why));
    if (st != DANCE_FW_OK) {
        dance_msg(err, errlen, "vendor signature: %s", why);
        goto done;
    }
    st = dance_suit_envelope_verify(env, 1, server, why, sizeof(why));
    if (st != DANCE_FW_OK) {
        dance_msg(err, errlen, "update server signature: %s", why);
        goto done;
    }
    if (a->firmware != NULL)
        st = dance_suit_check_image(dance_suit_envelope_get0_info(env),
                                    a->firmware, err, errlen);
    if (st == DANCE_FW_OK)
        printf("verified: vendor and update server signatures\n");
done:
    EVP_PKEY_free(trust);
    EVP_PKEY_free(server);
    return st;
}

/* cmd_verify - `dance manifest verify` and `dance manifest device-check`. */
static int cmd_verify(manifest_args *a, const char *path, int device)
{
    dance_suit_envelope *env = NULL;
    dance_res *res = NULL;
    uint8_t *in = NULL;
    size_t in_len;
    char err[768];
    dance_fw_status st;
    int rc;

    if (device && (a->trust == NULL || a->server_key == NULL)) {
        fprintf(stderr, PROG " device-check: --trust and --server-key are "
                             "required\n");
        return DANCE_EXIT_USAGE;
    }
    if (!device && (res = dance_opts_res_new(&a->o, 1, PROG)) == NULL)
        return DANCE_EXIT_USAGE;
    st = dance_fw_read_file(path, DANCE_FW_MAX_CBOR, &in, &in_len, err,
                            sizeof(err));
    if (st == DANCE_FW_OK)
        st = dance_suit_envelope_decode(in, in_len, &env, err, sizeof(err));
    if (st == DANCE_FW_OK)
        st = device ? device_check(a, env, err, sizeof(err))
                    : verify_envelope(res, a, env, err, sizeof(err));
    if (st == DANCE_FW_OK) {
        print_info(dance_suit_envelope_get0_info(env));
        rc = 0;
    } else {
        rc = fail(st, err);
    }
    dance_suit_envelope_free(env);
    dance_res_free(res);
    free(in);
    return rc;
}

/* dance_cmd_manifest - the `dance manifest` subcommand. */
int dance_cmd_manifest(int argc, char **argv)
{
    static const struct option opts[] = {
        {"firmware", required_argument, NULL, 'f'},
        {"uri", required_argument, NULL, 'u'},
        {"seq", required_argument, NULL, 'q'},
        {"key", required_argument, NULL, 'k'},
        {"kid", required_argument, NULL, 'i'},
        {"trust", required_argument, NULL, 't'},
        {"server-key", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        DANCE_OPTS_LONG,
        {NULL, 0, NULL, 0}};
    manifest_args a;
    const char *action;
    int c, r;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        fputs(manifest_usage, argc < 2 ? stderr : stdout);
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
        case 'f':
            a.firmware = optarg;
            break;
        case 'u':
            a.uri = optarg;
            break;
        case 'q':
            if (dance_opts_parse_uint(optarg, UINT64_MAX, &a.seq) != 0) {
                fprintf(stderr, PROG ": --seq wants a whole number\n");
                return DANCE_EXIT_USAGE;
            }
            a.has_seq = 1;
            break;
        case 'k':
            a.key = optarg;
            break;
        case 'i':
            a.kid = optarg;
            break;
        case 't':
            a.trust = optarg;
            break;
        case 'S':
            a.server_key = optarg;
            break;
        case 'h':
            fputs(manifest_usage, stdout);
            return 0;
        default:
            fputs(manifest_usage, stderr);
            return DANCE_EXIT_USAGE;
        }
    }
    argc--;
    argv++;
    if (strcmp(action, "create") == 0 && optind == argc)
        return cmd_create(&a);
    if (optind == argc - 1) {
        if (strcmp(action, "sign") == 0)
            return cmd_sign(&a, argv[optind], 0);
        if (strcmp(action, "extend") == 0)
            return cmd_sign(&a, argv[optind], 1);
        if (strcmp(action, "verify") == 0)
            return cmd_verify(&a, argv[optind], 0);
        if (strcmp(action, "device-check") == 0)
            return cmd_verify(&a, argv[optind], 1);
    }
    fprintf(stderr, PROG ": bad arguments for '%s'\n%s", action,
            manifest_usage);
    return DANCE_EXIT_USAGE;
}
