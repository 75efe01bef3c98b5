/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_tlsa.h - identities (certificates and keys) read from PEM files,
 * their TLSA record data and owner names; shared by `dance tlsa`,
 * `dance check` and `dance rotate`.
 *
 * An identity is one certificate, or one bare public key (from a PUBLIC
 * KEY block or derived from a private key: only its public half is kept).
 */
#ifndef DANCE_TLSA_H
#define DANCE_TLSA_H

#include <stddef.h>
#include <stdint.h>

#include <ldns/ldns.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* Longest owner name in presentation format, without the trailing dot. */
#define DANCE_TLSA_MAX_OWNER 253

typedef struct {
    X509 *cert;       /* owned; NULL for a bare key */
    EVP_PKEY *pkey;   /* owned; the public key (of cert, or the bare key) */
    char *source;     /* owned; the file it came from ("-" for stdin) */
    const char *kind; /* static: "certificate", "public key", "private key" */
} dance_tlsa_ident;

typedef struct {
    dance_tlsa_ident *v; /* owned array */
    size_t n, cap;
} dance_tlsa_idents;

/*
 * dance_tlsa_read - add the identities of path to ids.  path is a PEM
 * file, "-" (stdin) or a directory (its regular files not starting with a
 * dot, in name order, not recursive).  Without bundle a file yields ONE
 * identity: its first certificate, else its first public key, else its
 * first private key; with bundle every certificate and key block is one.
 * Returns 0, or -1 with a message (prefixed with prog) on stderr.
 */
int dance_tlsa_read(const char *path, int bundle, dance_tlsa_idents *ids,
                    const char *prog);

/* dance_tlsa_idents_free - free every identity and the array. */
void dance_tlsa_idents_free(dance_tlsa_idents *ids);

/*
 * dance_tlsa_check_owner - 0 if name is a usable owner name (one trailing
 * dot allowed, letters, digits, '-', '_', non-empty labels of at most 63
 * octets, at most 253 characters); -1 with the reason in *why.
 */
int dance_tlsa_check_owner(const char *name, const char **why);

/*
 * dance_tlsa_owner - the owner name of id into out (no trailing dot):
 * name if given, else pattern with {san} {cn} {file} replaced, else the
 * certificate's first dNSName SAN.  0, or -1 with the reason in why.
 */
int dance_tlsa_owner(const dance_tlsa_ident *id, const char *name,
                     const char *pattern, char *out, size_t outlen, char *why,
                     size_t whylen);

/*
 * dance_tlsa_data - the certificate association data of id for selector
 * (0 Cert, 1 SPKI) and matching type (0 Full, 1 SHA2-256, 2 SHA2-512), in
 * a buffer the caller frees with OPENSSL_free; its length in *len.
 * NULL with the reason in *why (selector 0 on a bare key, encoding).
 */
unsigned char *dance_tlsa_data(const dance_tlsa_ident *id, int selector,
                               int mtype, size_t *len, const char **why);

/*
 * dance_tlsa_rr - the TLSA record "owner. ttl IN TLSA usage selector mtype
 * DATA" of id, as a new ldns record (caller frees with ldns_rr_free).
 * NULL with the reason in *why.
 */
ldns_rr *dance_tlsa_rr(const dance_tlsa_ident *id, const char *owner,
                       uint32_t ttl, int usage, int selector, int mtype,
                       const char **why);

/*
 * dance_tlsa_read_one - the single identity of path (a file or "-") into
 * *id (free with dance_tlsa_idents_free on ids).  0, or -1 with a message.
 */
int dance_tlsa_read_one(const char *path, dance_tlsa_idents *ids,
                        const char *prog);

#endif /* DANCE_TLSA_H */
