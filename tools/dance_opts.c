/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_opts.c - shared options and helpers of the subcommands (see
 * dance_opts.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "dance_cmd.h"
#include "dance_opts.h"

/* dance_opts_init - see dance_opts.h. */
void dance_opts_init(dance_opts *o)
{
    memset(o, 0, sizeof(*o));
    dance_res_config_init(&o->cfg);
    o->now = time(NULL);
}

/* dance_opts_parse_uint - see dance_opts.h. */
int dance_opts_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    unsigned long long v;
    char *end = NULL;

    if (s == NULL || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return -1;
    *out = v;
    return 0;
}

/* dance_opts_handle - see dance_opts.h. */
int dance_opts_handle(dance_opts *o, int c, const char *arg, const char *prog)
{
    uint64_t v;

    switch (c) {
    case 's':
        if (strlen(o->servers) + strlen(arg) + 2 > sizeof(o->servers)) {
            fprintf(stderr, "%s: too many servers\n", prog);
            return -1;
        }
        if (o->servers[0] != '\0')
            strcat(o->servers, ",");
        strcat(o->servers, arg);
        return 1;
    case 'a':
        o->cfg.trust_anchor = arg;
        return 1;
    case DANCE_OPTS_TIME:
        if (dance_opts_parse_uint(arg, 0xffffffffULL, &v) != 0) {
            fprintf(stderr, "%s: --time wants a unix time, got '%s'\n", prog,
                    arg);
            return -1;
        }
        o->now = (time_t)v;
        return 1;
    case DANCE_OPTS_TIMEOUT:
        if (dance_opts_parse_uint(arg, 600000, &v) != 0 || v == 0) {
            fprintf(stderr,
                    "%s: --timeout wants 1..600000 milliseconds, got '%s'\n",
                    prog, arg);
            return -1;
        }
        o->cfg.timeout_ms = (unsigned)v;
        o->cfg.deadline_ms = o->cfg.timeout_ms * 3;
        return 1;
    case DANCE_OPTS_CLOCK_SKEW:
        if (dance_opts_parse_uint(arg, DANCE_RES_MAX_CLOCK_SKEW, &v) != 0) {
            fprintf(stderr, "%s: --clock-skew wants 0..%d seconds, got '%s'\n",
                    prog, DANCE_RES_MAX_CLOCK_SKEW, arg);
            return -1;
        }
        o->cfg.clock_skew = (uint32_t)v;
        return 1;
    case DANCE_OPTS_KEYSTORE:
        o->keystore = arg;
        return 1;
    case DANCE_OPTS_TRUST_AD:
        o->cfg.mode = DANCE_RES_MODE_TRUST_AD;
        return 1;
    }
    return 0;
}

/* dance_opts_res_new - see dance_opts.h. */
dance_res *dance_opts_res_new(dance_opts *o, int need_keystore,
                              const char *prog)
{
    char err[512];
    dance_res *res;

    if (need_keystore && o->keystore == NULL) {
        fprintf(stderr, "%s: --keystore ZONE is required\n", prog);
        return NULL;
    }
    if (o->servers[0] != '\0')
        o->cfg.nameservers = o->servers;
    res = dance_res_new(&o->cfg, err, sizeof(err));
    if (res == NULL)
        fprintf(stderr, "%s: %s\n", prog, err);
    return res;
}

/* dance_opts_exit_for - see dance_opts.h. */
int dance_opts_exit_for(dance_fw_status st)
{
    switch (st) {
    case DANCE_FW_OK:
        return 0;
    case DANCE_FW_DNS:
    case DANCE_FW_KEY_MISMATCH:
        return DANCE_OPTS_EXIT_DNS;
    case DANCE_FW_INTERNAL:
        return DANCE_OPTS_EXIT_INTERNAL;
    case DANCE_FW_MALFORMED:
    case DANCE_FW_UNSUPPORTED:
    case DANCE_FW_BAD_SIGNATURE:
    case DANCE_FW_DIGEST_MISMATCH:
    case DANCE_FW_NONCE:
        break;
    }
    return DANCE_OPTS_EXIT_INVALID;
}

/* dance_opts_load_key - see dance_opts.h. */
EVP_PKEY *dance_opts_load_key(const char *path, int need_private,
                              const char *prog)
{
    BIO *bio = BIO_new_file(path, "r");
    EVP_PKEY *pkey = NULL;

    if (bio == NULL) {
        fprintf(stderr, "%s: cannot open key file %s: %s\n", prog, path,
                strerror(errno));
        return NULL;
    }
    pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
    if (pkey == NULL && !need_private) {
        (void)BIO_reset(bio);
        pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    }
    BIO_free(bio);
    if (pkey == NULL)
        fprintf(stderr, "%s: %s holds no PEM %s\n", prog, path,
                need_private ? "private key" : "private or public key");
    return pkey;
}

/* dance_opts_write - see dance_opts.h. */
int dance_opts_write(const uint8_t *buf, size_t len, const char *prog)
{
    if (fwrite(buf, 1, len, stdout) != len || fflush(stdout) != 0) {
        fprintf(stderr, "%s: cannot write the output: %s\n", prog,
                strerror(errno));
        return -1;
    }
    return 0;
}
