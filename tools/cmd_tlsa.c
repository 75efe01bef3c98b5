/*
 * cmd_tlsa.c - `dance tlsa`: print the TLSA record for a certificate or key.
 *
 * The record data is computed with OpenSSL (EVP digests over the DER of the
 * certificate or of its SubjectPublicKeyInfo), as RFC 6698 section 2.1
 * defines it; the owner name is checked with ldns.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldns/ldns.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dance_cmd.h"

/* Longest owner name in presentation format, without the trailing dot. */
#define TLSA_MAX_OWNER 253
/* Longest label of an owner name. */
#define TLSA_MAX_LABEL 63

static const char tlsa_usage[] =
    "usage: dance tlsa [-u USAGE] [-s SELECTOR] [-m MTYPE] -n OWNER FILE\n"
    "\n"
    "Print the TLSA record that publishes the certificate or public key in\n"
    "FILE (PEM) at OWNER, as one zone-file line:\n"
    "  OWNER. IN TLSA USAGE SELECTOR MTYPE HEX\n"
    "\n"
    "  -u, --usage USAGE    certificate usage (default 3):\n"
    "                         0 PKIX-TA, 1 PKIX-EE, 2 DANE-TA, 3 DANE-EE\n"
    "  -s, --selector SEL   what is matched (default 1):\n"
    "                         0 Cert (the full certificate, DER)\n"
    "                         1 SPKI (the SubjectPublicKeyInfo, DER)\n"
    "  -m, --mtype MTYPE    matching type (default 1):\n"
    "                         0 Full (the data itself), 1 SHA2-256,\n"
    "                         2 SHA2-512\n"
    "  -n, --name OWNER     the record's owner name, e.g.\n"
    "                       _client.device1.example.com or\n"
    "                       _443._tcp.www.example.com (required)\n"
    "  -h, --help           this text\n"
    "\n"
    "FILE holds a PEM certificate (the first one is used) or a PEM public\n"
    "key (\"BEGIN PUBLIC KEY\"); a public key only works with selector 1.\n"
    "The numbers may also be given by the names above (e.g. -u DANE-EE).\n"
    "Exit status: 0 printed, 1 usage error or unreadable FILE.\n";

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

/* The input, as read from FILE: a certificate, or only a public key. */
typedef struct {
    X509 *cert;
    EVP_PKEY *pkey;
} tlsa_input;

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

/*
 * check_owner - 0 if name is a usable absolute owner name (one trailing dot
 * allowed, non-empty labels of at most 63 octets, at most 253 characters,
 * accepted by ldns); -1 otherwise, with the reason in why.
 */
static int check_owner(const char *name, const char **why)
{
    size_t len = strlen(name), label = 0;
    ldns_rdf *rdf = NULL;

    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0) {
        *why = "it is empty (the root cannot own a TLSA record)";
        return -1;
    }
    if (len > TLSA_MAX_OWNER) {
        *why = "it is longer than 253 characters";
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];

        if (c == '.') {
            if (label == 0) {
                *why = "it has an empty label";
                return -1;
            }
            label = 0;
            continue;
        }
        if (!isalnum(c) && c != '-' && c != '_') {
            *why = "only letters, digits, '-', '_' and '.' are allowed";
            return -1;
        }
        if (++label > TLSA_MAX_LABEL) {
            *why = "a label is longer than 63 characters";
            return -1;
        }
    }
    if (ldns_str2rdf_dname(&rdf, name) != LDNS_STATUS_OK) {
        *why = "ldns does not accept it as a domain name";
        return -1;
    }
    ldns_rdf_deep_free(rdf);
    return 0;
}

/*
 * read_input - read the first PEM certificate of path, or else a PEM public
 * key, into in (the caller frees both members). 0 on success; -1 with a
 * message on stderr.
 */
static int read_input(const char *path, tlsa_input *in)
{
    BIO *bio = NULL;
    int rc = -1;

    bio = BIO_new_file(path, "r");
    if (bio == NULL) {
        fprintf(stderr, "dance tlsa: cannot open %s\n", path);
        goto err;
    }
    in->cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
    if (in->cert != NULL) {
        rc = 0;
        goto err;
    }
    ERR_clear_error();
    if (BIO_seek(bio, 0) < 0) {
        fprintf(stderr, "dance tlsa: cannot re-read %s\n", path);
        goto err;
    }
    in->pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    if (in->pkey == NULL) {
        fprintf(stderr,
                "dance tlsa: %s holds neither a PEM certificate nor a PEM "
                "public key (BEGIN CERTIFICATE / BEGIN PUBLIC KEY)\n",
                path);
        goto err;
    }
    rc = 0;
err:
    ERR_clear_error();
    BIO_free(bio);
    return rc;
}

/*
 * selected_der - the DER of what selector picks from in, in a buffer the
 * caller frees with OPENSSL_free; its length in *len. NULL on error.
 */
static unsigned char *selected_der(const tlsa_input *in, int selector, int *len)
{
    unsigned char *der = NULL;

    if (selector == 0)
        *len = i2d_X509(in->cert, &der);
    else if (in->cert != NULL)
        *len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(in->cert), &der);
    else
        *len = i2d_PUBKEY(in->pkey, &der);
    if (*len <= 0) {
        OPENSSL_free(der);
        return NULL;
    }
    return der;
}

/*
 * print_record - print "owner. IN TLSA u s m hex" for data to stdout,
 * hashing it as mtype says. 0 on success, -1 on error (message printed).
 */
static int print_record(const char *owner, int usage, int selector, int mtype,
                        const unsigned char *data, size_t len)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    const unsigned char *out = data;
    size_t outlen = len;
    size_t olen = strlen(owner);

    if (mtype != 0) {
        const EVP_MD *type = mtype == 1 ? EVP_sha256() : EVP_sha512();

        if (!EVP_Digest(data, len, md, &mdlen, type, NULL)) {
            fprintf(stderr, "dance tlsa: digest failed\n");
            return -1;
        }
        out = md;
        outlen = mdlen;
    }
    if (olen > 0 && owner[olen - 1] == '.')
        olen--;
    printf("%.*s. IN TLSA %d %d %d ", (int)olen, owner, usage, selector, mtype);
    for (size_t i = 0; i < outlen; i++)
        printf("%02x", out[i]);
    printf("\n");
    return fflush(stdout) == 0 ? 0 : -1;
}

/* dance_cmd_tlsa - the `dance tlsa` subcommand. */
int dance_cmd_tlsa(int argc, char **argv)
{
    static const struct option opts[] = {
        {"usage", required_argument, NULL, 'u'},
        {"selector", required_argument, NULL, 's'},
        {"mtype", required_argument, NULL, 'm'},
        {"name", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int usage = 3, selector = 1, mtype = 1, c, len = 0;
    int rc = DANCE_EXIT_USAGE;
    const char *owner = NULL, *why = NULL;
    tlsa_input in = {NULL, NULL};
    unsigned char *der = NULL;

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
        case 'h':
            fputs(tlsa_usage, stdout);
            return 0;
        default:
            fputs(tlsa_usage, stderr);
            return DANCE_EXIT_USAGE;
        }
    }
    if (owner == NULL) {
        fprintf(stderr, "dance tlsa: -n/--name OWNER is required\n%s",
                tlsa_usage);
        return DANCE_EXIT_USAGE;
    }
    if (check_owner(owner, &why) != 0) {
        fprintf(stderr,
                "dance tlsa: -n/--name '%s' is not a valid owner "
                "name: %s\n",
                owner, why);
        return DANCE_EXIT_USAGE;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "dance tlsa: %s\n%s",
                optind == argc ? "a FILE is required" : "only one FILE, please",
                tlsa_usage);
        return DANCE_EXIT_USAGE;
    }
    if (read_input(argv[optind], &in) != 0)
        goto err;
    if (in.cert == NULL && selector == 0) {
        fprintf(stderr,
                "dance tlsa: %s holds a public key, not a certificate; "
                "selector 0 (Cert) needs a certificate, use -s 1 (SPKI)\n",
                argv[optind]);
        goto err;
    }
    der = selected_der(&in, selector, &len);
    if (der == NULL) {
        fprintf(stderr, "dance tlsa: cannot encode the %s of %s\n",
                selector == 0 ? "certificate" : "public key", argv[optind]);
        goto err;
    }
    if (print_record(owner, usage, selector, mtype, der, (size_t)len) != 0)
        goto err;
    rc = 0;
err:
    OPENSSL_free(der);
    X509_free(in.cert);
    EVP_PKEY_free(in.pkey);
    return rc;
}
