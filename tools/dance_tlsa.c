/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_tlsa.c - identities from PEM input, TLSA data and owner names (see
 * dance_tlsa.h).  Record data follows RFC 6698 section 2.1: the DER of the
 * certificate or of its SubjectPublicKeyInfo, as is or digested.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ldns/ldns.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "dance_tlsa.h"

/* Longest label of an owner name. */
#define TLSA_MAX_LABEL 63

/* dance_tlsa_check_owner - see dance_tlsa.h. */
int dance_tlsa_check_owner(const char *name, const char **why)
{
    size_t len = strlen(name), label = 0;
    ldns_rdf *rdf = NULL;

    if (len > 0 && name[len - 1] == '.')
        len--;
    if (len == 0) {
        *why = "it is empty (the root cannot own a TLSA record)";
        return -1;
    }
    if (len > DANCE_TLSA_MAX_OWNER) {
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

/* no_password - PEM password callback: never prompt, never decrypt. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* ident_add - append an identity (takes cert and pkey); 0 or -1. */
static int ident_add(dance_tlsa_idents *ids, X509 *cert, EVP_PKEY *pkey,
                     const char *source, const char *kind)
{
    dance_tlsa_ident *id;

    if (ids->n == ids->cap) {
        size_t cap = ids->cap ? ids->cap * 2 : 64;
        dance_tlsa_ident *v = realloc(ids->v, cap * sizeof(*v));

        if (v == NULL)
            goto err;
        ids->v = v;
        ids->cap = cap;
    }
    id = &ids->v[ids->n];
    id->source = strdup(source);
    if (id->source == NULL)
        goto err;
    id->cert = cert;
    id->pkey = pkey;
    id->kind = kind;
    ids->n++;
    return 0;
err:
    X509_free(cert);
    EVP_PKEY_free(pkey);
    return -1;
}

/* Block kinds, in the order a file's single identity is chosen. */
enum { BLK_CERT = 0, BLK_PUB, BLK_PRIV, BLK_KINDS };

/* block_kind - the kind of a PEM block name, or -1 (ignored block). */
static int block_kind(const char *name)
{
    if (strcmp(name, "CERTIFICATE") == 0 ||
        strcmp(name, "X509 CERTIFICATE") == 0 ||
        strcmp(name, "TRUSTED CERTIFICATE") == 0)
        return BLK_CERT;
    if (strcmp(name, "PUBLIC KEY") == 0)
        return BLK_PUB;
    if (strcmp(name, "PRIVATE KEY") == 0 ||
        strcmp(name, "RSA PRIVATE KEY") == 0 ||
        strcmp(name, "EC PRIVATE KEY") == 0 ||
        strcmp(name, "ENCRYPTED PRIVATE KEY") == 0)
        return BLK_PRIV;
    return -1;
}

/*
 * decode_block - the certificate or public key of one PEM block (re-read
 * from its PEM text so OpenSSL's own readers apply).  0, or -1 with a
 * message.
 */
static int decode_block(const char *name, const char *header,
                        const unsigned char *data, long len, int kind,
                        X509 **cert, EVP_PKEY **pkey, const char *path,
                        const char *prog)
{
    BIO *mem = BIO_new(BIO_s_mem());
    int rc = -1;

    *cert = NULL;
    *pkey = NULL;
    if (mem == NULL || PEM_write_bio(mem, name, header, data, len) <= 0)
        goto err;
    if (kind == BLK_CERT) {
        *cert = strcmp(name, "TRUSTED CERTIFICATE") == 0
                    ? PEM_read_bio_X509_AUX(mem, NULL, no_password, NULL)
                    : PEM_read_bio_X509(mem, NULL, no_password, NULL);
        if (*cert != NULL)
            *pkey = X509_get_pubkey(*cert);
    } else if (kind == BLK_PUB) {
        *pkey = PEM_read_bio_PUBKEY(mem, NULL, no_password, NULL);
    } else {
        if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0 ||
            strstr(header, "ENCRYPTED") != NULL) {
            fprintf(stderr,
                    "%s: %s: the private key is encrypted; give its "
                    "certificate or public key instead (openssl pkey "
                    "-pubout)\n",
                    prog, path);
            goto err;
        }
        *pkey = PEM_read_bio_PrivateKey(mem, NULL, no_password, NULL);
    }
    if (*pkey == NULL) {
        fprintf(stderr, "%s: %s: cannot decode its %s block\n", prog, path,
                name);
        goto err;
    }
    rc = 0;
err:
    if (rc != 0) {
        X509_free(*cert);
        *cert = NULL;
    }
    ERR_clear_error();
    BIO_free(mem);
    return rc;
}

/* kind_name - the identity kind string of a block kind. */
static const char *kind_name(int kind)
{
    return kind == BLK_CERT  ? "certificate"
           : kind == BLK_PUB ? "public key"
                             : "private key";
}

/*
 * read_bio - the identities of one PEM stream (see dance_tlsa_read).
 */
static int read_bio(BIO *bio, const char *path, int bundle,
                    dance_tlsa_idents *ids, const char *prog)
{
    X509 *first_cert[BLK_KINDS] = {NULL};
    EVP_PKEY *first_key[BLK_KINDS] = {NULL};
    int rc = -1, found = 0;

    for (;;) {
        char *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long len = 0;
        int kind;
        X509 *cert = NULL;
        EVP_PKEY *pkey = NULL;

        if (PEM_read_bio(bio, &name, &header, &data, &len) <= 0) {
            ERR_clear_error();
            break;
        }
        kind = block_kind(name);
        if (kind >= 0 && (bundle || first_key[kind] == NULL)) {
            if (decode_block(name, header, data, len, kind, &cert, &pkey, path,
                             prog) != 0) {
                OPENSSL_free(name);
                OPENSSL_free(header);
                OPENSSL_free(data);
                goto err;
            }
            found = 1;
            if (bundle) {
                if (ident_add(ids, cert, pkey, path, kind_name(kind)) != 0) {
                    fprintf(stderr, "%s: out of memory\n", prog);
                    OPENSSL_free(name);
                    OPENSSL_free(header);
                    OPENSSL_free(data);
                    goto err;
                }
            } else {
                first_cert[kind] = cert;
                first_key[kind] = pkey;
            }
        }
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
    }
    if (!found) {
        fprintf(stderr,
                "%s: %s holds neither a PEM certificate nor a PEM public or "
                "private key (BEGIN CERTIFICATE / PUBLIC KEY / PRIVATE "
                "KEY)\n",
                prog, path);
        goto err;
    }
    for (int k = 0; !bundle && k < BLK_KINDS; k++) {
        if (first_key[k] == NULL)
            continue;
        if (ident_add(ids, first_cert[k], first_key[k], path, kind_name(k)) !=
            0) {
            fprintf(stderr, "%s: out of memory\n", prog);
            first_cert[k] = NULL;
            first_key[k] = NULL;
            goto err;
        }
        first_cert[k] = NULL;
        first_key[k] = NULL;
        break;
    }
    rc = 0;
err:
    for (int k = 0; k < BLK_KINDS; k++) {
        X509_free(first_cert[k]);
        EVP_PKEY_free(first_key[k]);
    }
    return rc;
}

/* read_file - the identities of one file or of stdin ("-"). */
static int read_file(const char *path, int bundle, dance_tlsa_idents *ids,
                     const char *prog)
{
    BIO *bio;
    int rc;

    if (strcmp(path, "-") == 0)
        bio = BIO_new_fp(stdin, BIO_NOCLOSE);
    else
        bio = BIO_new_file(path, "r");
    if (bio == NULL) {
        fprintf(stderr, "%s: cannot open %s: %s\n", prog, path,
                strerror(errno));
        ERR_clear_error();
        return -1;
    }
    rc = read_bio(bio, path, bundle, ids, prog);
    BIO_free(bio);
    return rc;
}

/* cmp_str - qsort comparison of two char * in byte order. */
static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* dance_tlsa_read - see dance_tlsa.h. */
int dance_tlsa_read(const char *path, int bundle, dance_tlsa_idents *ids,
                    const char *prog)
{
    struct stat st;
    DIR *dir;
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;

    if (strcmp(path, "-") == 0 || stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return read_file(path, bundle, ids, prog);
    dir = opendir(path);
    if (dir == NULL) {
        fprintf(stderr, "%s: cannot open directory %s: %s\n", prog, path,
                strerror(errno));
        return -1;
    }
    while ((de = readdir(dir)) != NULL) {
        char full[4096];

        if (de->d_name[0] == '.')
            continue;
        if ((size_t)snprintf(full, sizeof(full), "%s/%s", path, de->d_name) >=
            sizeof(full))
            continue;
        if (stat(full, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            size_t c2 = cap ? cap * 2 : 256;
            char **v = realloc(names, c2 * sizeof(*v));

            if (v == NULL)
                goto nomem;
            names = v;
            cap = c2;
        }
        names[n] = strdup(full);
        if (names[n] == NULL)
            goto nomem;
        n++;
    }
    if (n == 0) {
        fprintf(stderr, "%s: directory %s holds no file\n", prog, path);
        goto err;
    }
    qsort(names, n, sizeof(*names), cmp_str);
    for (size_t i = 0; i < n; i++)
        if (read_file(names[i], bundle, ids, prog) != 0)
            goto err;
    rc = 0;
    goto err;
nomem:
    fprintf(stderr, "%s: out of memory\n", prog);
err:
    closedir(dir);
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* dance_tlsa_idents_free - see dance_tlsa.h. */
void dance_tlsa_idents_free(dance_tlsa_idents *ids)
{
    for (size_t i = 0; i < ids->n; i++) {
        X509_free(ids->v[i].cert);
        EVP_PKEY_free(ids->v[i].pkey);
        free(ids->v[i].source);
    }
    free(ids->v);
    ids->v = NULL;
    ids->n = ids->cap = 0;
}

/* first_san - the first dNSName SAN of cert into out; 0 or -1. */
static int first_san(X509 *cert, char *out, size_t outlen)
{
    GENERAL_NAMES *gens =
        X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
    int rc = -1;

    for (int i = 0; gens != NULL && i < sk_GENERAL_NAME_num(gens); i++) {
        GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        const unsigned char *s;
        int len;

        if (g->type != GEN_DNS)
            continue;
        s = ASN1_STRING_get0_data(g->d.dNSName);
        len = ASN1_STRING_length(g->d.dNSName);
        if (len <= 0 || (size_t)len >= outlen || memchr(s, 0, len) != NULL)
            break;
        memcpy(out, s, (size_t)len);
        out[len] = '\0';
        rc = 0;
        break;
    }
    GENERAL_NAMES_free(gens);
    return rc;
}

/* subject_cn - the (last) subject CN of cert into out; 0 or -1. */
static int subject_cn(X509 *cert, char *out, size_t outlen)
{
    int len = X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
                                        NID_commonName, out, (int)outlen);

    return len > 0 && (size_t)len < outlen && strlen(out) == (size_t)len ? 0
                                                                         : -1;
}

/* file_stem - the base name of path without its last extension. */
static void file_stem(const char *path, char *out, size_t outlen)
{
    const char *base = strrchr(path, '/');
    const char *dot;
    size_t len;

    base = base ? base + 1 : path;
    dot = strrchr(base, '.');
    len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    if (len >= outlen)
        len = outlen - 1;
    memcpy(out, base, len);
    out[len] = '\0';
}

/* dance_tlsa_owner - see dance_tlsa.h. */
int dance_tlsa_owner(const dance_tlsa_ident *id, const char *name,
                     const char *pattern, char *out, size_t outlen, char *why,
                     size_t whylen)
{
    const char *bad = NULL;
    size_t o = 0, len;

    if (name != NULL) {
        snprintf(out, outlen, "%s", name);
    } else if (pattern != NULL) {
        for (const char *p = pattern; *p != '\0';) {
            char val[512];

            if (*p != '{') {
                if (o + 1 >= outlen)
                    goto toolong;
                out[o++] = *p++;
                continue;
            }
            if (strncmp(p, "{san}", 5) == 0 || strncmp(p, "{cn}", 4) == 0) {
                int san = p[1] == 's';

                if (id->cert == NULL) {
                    snprintf(why, whylen,
                             "%s: %s is a %s, it has no %s (use -n or a "
                             "pattern with {file})",
                             id->source, san ? "{san}" : "{cn}", id->kind,
                             san ? "SAN" : "CN");
                    return -1;
                }
                if ((san ? first_san(id->cert, val, sizeof(val))
                         : subject_cn(id->cert, val, sizeof(val))) != 0) {
                    snprintf(why, whylen, "%s: the certificate has no %s",
                             id->source, san ? "dNSName SAN" : "subject CN");
                    return -1;
                }
                p += san ? 5 : 4;
            } else if (strncmp(p, "{file}", 6) == 0) {
                file_stem(id->source, val, sizeof(val));
                p += 6;
            } else {
                snprintf(why, whylen,
                         "--pattern: unknown placeholder at '%.20s' (known: "
                         "{san}, {cn}, {file})",
                         p);
                return -1;
            }
            len = strlen(val);
            if (o + len >= outlen)
                goto toolong;
            memcpy(out + o, val, len);
            o += len;
        }
        out[o] = '\0';
    } else {
        if (id->cert == NULL) {
            snprintf(why, whylen,
                     "%s: a %s names no owner; give -n NAME or --pattern",
                     id->source, id->kind);
            return -1;
        }
        if (first_san(id->cert, out, outlen) != 0) {
            snprintf(why, whylen,
                     "%s: the certificate has no dNSName SAN to take the "
                     "owner name from; give -n NAME or --pattern",
                     id->source);
            return -1;
        }
    }
    len = strlen(out);
    if (len > 1 && out[len - 1] == '.')
        out[len - 1] = '\0';
    if (dance_tlsa_check_owner(out, &bad) != 0) {
        snprintf(why, whylen, "%s: owner name '%s' is not valid: %s",
                 id->source, out, bad);
        return -1;
    }
    return 0;
toolong:
    snprintf(why, whylen, "%s: the owner name is too long", id->source);
    return -1;
}

/* dance_tlsa_data - see dance_tlsa.h. */
unsigned char *dance_tlsa_data(const dance_tlsa_ident *id, int selector,
                               int mtype, size_t *len, const char **why)
{
    unsigned char *der = NULL, *out;
    unsigned int mdlen = 0;
    int dlen;

    if (selector == 0 && id->cert == NULL) {
        *why = "selector 0 (Cert) needs a certificate, use -s 1 (SPKI)";
        return NULL;
    }
    dlen =
        selector == 0 ? i2d_X509(id->cert, &der) : i2d_PUBKEY(id->pkey, &der);
    if (dlen <= 0) {
        OPENSSL_free(der);
        ERR_clear_error();
        *why = "cannot encode it in DER";
        return NULL;
    }
    if (mtype == 0) {
        *len = (size_t)dlen;
        return der;
    }
    out = OPENSSL_malloc(EVP_MAX_MD_SIZE);
    if (out == NULL ||
        !EVP_Digest(der, (size_t)dlen, out, &mdlen,
                    mtype == 1 ? EVP_sha256() : EVP_sha512(), NULL)) {
        OPENSSL_free(out);
        OPENSSL_free(der);
        *why = "digest failed";
        return NULL;
    }
    OPENSSL_free(der);
    *len = mdlen;
    return out;
}

/* dance_tlsa_rr - see dance_tlsa.h. */
ldns_rr *dance_tlsa_rr(const dance_tlsa_ident *id, const char *owner,
                       uint32_t ttl, int usage, int selector, int mtype,
                       const char **why)
{
    size_t len = 0, olen = strlen(owner);
    unsigned char *data = dance_tlsa_data(id, selector, mtype, &len, why);
    char *line;
    ldns_rr *rr = NULL;

    if (data == NULL)
        return NULL;
    if (olen > 0 && owner[olen - 1] == '.')
        olen--;
    line = malloc(olen + 64 + 2 * len);
    if (line != NULL) {
        size_t o =
            (size_t)sprintf(line, "%.*s. %u IN TLSA %d %d %d ", (int)olen,
                            owner, (unsigned)ttl, usage, selector, mtype);

        for (size_t i = 0; i < len; i++)
            o += (size_t)sprintf(line + o, "%02x", data[i]);
        if (ldns_rr_new_frm_str(&rr, line, ttl, NULL, NULL) != LDNS_STATUS_OK)
            rr = NULL;
    }
    free(line);
    OPENSSL_free(data);
    if (rr == NULL)
        *why = "cannot build the record";
    return rr;
}

/* dance_tlsa_read_one - see dance_tlsa.h. */
int dance_tlsa_read_one(const char *path, dance_tlsa_idents *ids,
                        const char *prog)
{
    struct stat st;

    if (strcmp(path, "-") != 0 && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        fprintf(stderr, "%s: %s is a directory; give one certificate or key\n",
                prog, path);
        return -1;
    }
    return dance_tlsa_read(path, 0, ids, prog);
}
