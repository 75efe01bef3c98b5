/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_opts.h - what the subcommands share: the resolver options (-s, -a,
 * --trust-ad, --time, --timeout) of `dance lookup` and the firmware-key
 * subcommands (keystore, manifest, rollover), plus, for the latter,
 * --keystore, key loading, binary output and exit statuses.
 */
#ifndef DANCE_OPTS_H
#define DANCE_OPTS_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>

#include "dance_fw.h"
#include "dance_res.h"

/* Exit statuses of the firmware-key subcommands (1 is DANCE_EXIT_USAGE). */
enum {
    DANCE_OPTS_EXIT_INVALID = 2, /* malformed, digest, signature, nonce */
    DANCE_OPTS_EXIT_DNS = 3,     /* DNS says no: not secure, not current */
    DANCE_OPTS_EXIT_INTERNAL = 4 /* I/O, memory, OpenSSL */
};

/* getopt_long codes of the shared long-only options. */
enum {
    DANCE_OPTS_TIME = 256,
    DANCE_OPTS_TIMEOUT,
    DANCE_OPTS_KEYSTORE,
    DANCE_OPTS_TRUST_AD,
    DANCE_OPTS_CLOCK_SKEW
};

/* The shared options, to put in a subcommand's struct option table. */
#define DANCE_OPTS_LONG                                                        \
    {"server", required_argument, NULL, 's'},                                  \
        {"anchor", required_argument, NULL, 'a'},                              \
        {"time", required_argument, NULL, DANCE_OPTS_TIME},                    \
        {"timeout", required_argument, NULL, DANCE_OPTS_TIMEOUT},              \
        {"trust-ad", no_argument, NULL, DANCE_OPTS_TRUST_AD},                  \
        {"clock-skew", required_argument, NULL, DANCE_OPTS_CLOCK_SKEW},        \
    {                                                                          \
        "keystore", required_argument, NULL, DANCE_OPTS_KEYSTORE               \
    }

/* The usage text of the shared options. */
#define DANCE_OPTS_USAGE                                                       \
    "  -s, --server IP[@PORT]  nameserver to ask; repeatable (default:\n"      \
    "                          /etc/resolv.conf)\n"                            \
    "  -a, --anchor FILE       trust anchor, DS or DNSKEY lines (default\n"    \
    "                          /usr/share/dns/root.key)\n"                     \
    "      --trust-ad          believe the AD bit of a validating resolver\n"  \
    "                          (it must be on loopback) instead of\n"          \
    "                          validating\n"                                   \
    "      --time UNIXTIME     validate signatures as of this time\n"          \
    "      --timeout MS        wait per query exchange (default 2000)\n"       \
    "      --clock-skew S      accept RRSIG inception up to S seconds ahead\n" \
    "                          of our clock, 0..86400 (default 300)\n"

/* The usage text of --keystore (firmware-key subcommands only). */
#define DANCE_OPTS_KEYSTORE_USAGE                                              \
    "      --keystore ZONE     the vendor's key store zone\n"

typedef struct {
    dance_res_config cfg;
    char servers[1024];
    time_t now;
    const char *keystore;
} dance_opts;

/* dance_opts_init - defaults: resolver defaults, now = time(NULL). */
void dance_opts_init(dance_opts *o);

/*
 * dance_opts_handle - take option c (argument arg) if it is a shared one.
 * Returns 1 if taken, 0 if not a shared option, -1 if its argument is bad
 * (message printed, prefixed with prog).
 */
int dance_opts_handle(dance_opts *o, int c, const char *arg, const char *prog);

/*
 * dance_opts_res_new - the resolver the options describe, or NULL with a
 * message printed.  --keystore is required when need_keystore.  The caller
 * frees the resolver (dance_res_free).
 */
dance_res *dance_opts_res_new(dance_opts *o, int need_keystore,
                              const char *prog);

/* dance_opts_exit_for - the exit status for a failed status. */
int dance_opts_exit_for(dance_fw_status st);

/*
 * dance_opts_load_key - a PEM private or public key from path; with
 * need_private a public key is refused.  NULL with a message printed.
 * The caller frees the key (EVP_PKEY_free).
 */
EVP_PKEY *dance_opts_load_key(const char *path, int need_private,
                              const char *prog);

/* dance_opts_write - write len octets to stdout; 0, or -1 with a message. */
int dance_opts_write(const uint8_t *buf, size_t len, const char *prog);

/* dance_opts_parse_uint - a decimal in [0, max]; 0, or -1 on bad input. */
int dance_opts_parse_uint(const char *s, uint64_t max, uint64_t *out);

#endif /* DANCE_OPTS_H */
