/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_ident.h - who a DANE-authenticated client is: the names its
 * certificate may carry, which names may be ClientNames at all, the peer
 * name rule of the PKIX and DANE-TA usages, and loading a TLSA RRset into
 * OpenSSL's DANE engine record by record.
 *
 * Pure functions over OpenSSL objects; no global state except the small
 * locked table behind dance_ident_report_once. Nothing here logs: each
 * function returns a status and a reason the caller logs.
 *
 * Where each piece belongs in a handshake (server role, dance_ext.c):
 *  1. ClientName received: dance_ident_client_name_check (refuse before any
 *     DNS query).
 *  2. TLSA answer secure: dance_ident_dane_enable (SSL_dane_enable, the
 *     records one by one, the peer name with dance_ident_hostflags).
 *  3. With identity_check = strict, dance_ident_check on the leaf
 *     certificate. It needs no DANE result, so it may run before DANE: do
 *     so when a successful DANE verification hands its chain to the
 *     application's X509_STORE_CTX, or a refused identity under optional
 *     leaves the application a context it can no longer verify with.
 */
#ifndef DANCE_IDENT_H
#define DANCE_IDENT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "dance_result.h"

typedef enum {
    DANCE_IDENT_OK = 0,
    DANCE_IDENT_MISMATCH,  /* a CN or dNSName is not the ClientName */
    DANCE_IDENT_FORBIDDEN, /* a name type applications read, not vouched */
    DANCE_IDENT_MALFORMED, /* names in the certificate cannot be read */
    DANCE_IDENT_BAD_NAME,  /* not acceptable as a ClientName */
    DANCE_IDENT_NO_USABLE, /* no TLSA record OpenSSL can use */
    DANCE_IDENT_INTERNAL   /* OpenSSL internal error, out of memory */
} dance_ident_status;

/* dance_ident_status_str - "ok", "name mismatch", ... (static text). */
const char *dance_ident_status_str(dance_ident_status status);

/*
 * dance_ident_base - the ClientName without its leading underscore labels
 * ("_mqtt-client.dev1.example.com" gives "dev1.example.com"): a pointer
 * into name (borrowed), "" when every label starts with '_'.
 */
const char *dance_ident_base(const char *name);

/*
 * dance_ident_name_equal - are a and b[0..blen) the same DNS name? ASCII
 * letters compare without regard to case, one trailing dot on either is
 * ignored, anything else (a '*', a NUL octet) compares as itself.
 */
int dance_ident_name_equal(const char *a, const unsigned char *b, size_t blen);

/*
 * dance_ident_check - identity_check = strict, on the client's end-entity
 * certificate x (borrowed) after DANE authenticated it under ClientName
 * name:
 *  - every commonName in the subject, and every dNSName SAN, equals name
 *    or dance_ident_base(name) (dance_ident_name_equal);
 *  - the subject has no emailAddress and no userId (UID) attribute, and the
 *    subjectAltName holds dNSNames only: rfc822Name, URI, IP address,
 *    otherName (UPN, ...), directoryName and the rest are refused, since
 *    applications read them as the user's identity and DANE proved none
 *    of them;
 *  - at most one subjectAltName extension, and it must decode.
 * Other subject attributes (O, OU, C, ...) are not checked: DANE vouches
 * for them no more than the client does.
 * x NULL (a raw public key) has no names: DANCE_IDENT_OK.
 * Returns DANCE_IDENT_OK, or MISMATCH / FORBIDDEN / MALFORMED with the
 * reason in why (why_len bytes; certificate text is escaped and cut short).
 */
dance_ident_status dance_ident_check(X509 *x, const char *name, char *why,
                                     size_t why_len);

/*
 * dance_ident_client_name_check - may name be a ClientName a server looks
 * up? It must pass dance_name_check, and it must not contain a
 * "_<port>._<tcp|udp|sctp>" label pair anywhere (that is a server's TLSA
 * owner, RFC 6698 section 3, never a client's). Returns 1, or 0 with *why
 * (static text).
 */
int dance_ident_client_name_check(const char *name, const char **why);

/*
 * dance_ident_hostflags - the X509_CHECK_FLAG_* for the name check of a
 * CLIENT certificate under usages PKIX-TA (0), PKIX-EE (1) and DANE-TA
 * (2): the ClientName must equal a dNSName SAN exactly; never the subject
 * CN, never a wildcard. (A server's certificate, checked by a client under
 * server_dane, keeps the RFC 6125 / RFC 7671 rules: not these flags.)
 */
unsigned int dance_ident_hostflags(void);

/*
 * dance_ident_set_peer_name - make param (borrowed) check name the way
 * dance_ident_hostflags says (replacing any names set before). Returns 1,
 * or 0 when OpenSSL refuses (out of memory).
 */
int dance_ident_set_peer_name(X509_VERIFY_PARAM *param, const char *name);

/* What happened to an RRset's records (dance_ident_tlsa_load). */
typedef struct {
    size_t usable;  /* records OpenSSL took */
    size_t skipped; /* records OpenSSL cannot use, or not TLSA RDATA */
    /* "TLSA 4 1 1: <OpenSSL's reason>; ..." for the skipped records,
     * cut short with "..." when long; "" when none. */
    char skipped_why[512];
} dance_ident_tlsa_report;

/*
 * dance_ident_tlsa_load - add the TLSA records of r (borrowed) to s, on
 * which SSL_dane_enable has succeeded, one by one with SSL_dane_tlsa_add.
 * A record OpenSSL cannot use (return 0: unknown usage, selector or
 * matching type, a digest of the wrong length, undecodable certificate or
 * key) or too short to be TLSA RDATA is skipped and listed in rep; an
 * internal error (negative return) stops the load. Whatever OpenSSL puts
 * on the error queue while adding is removed (ERR_set_mark /
 * ERR_pop_to_mark), so a successful load leaves the queue as it found it.
 * Returns DANCE_IDENT_OK (rep->usable > 0), DANCE_IDENT_NO_USABLE, or
 * DANCE_IDENT_INTERNAL; rep (required) is filled in every case.
 */
dance_ident_status dance_ident_tlsa_load(SSL *s, const dance_res_result *r,
                                         dance_ident_tlsa_report *rep);

/*
 * dance_ident_dane_enable - everything a server's certificate-verify
 * callback needs before X509_verify_cert to have the client of s checked
 * by DANE against r under ClientName name: SSL_dane_enable, DANE-EE without
 * name checks (RFC 7671 section 5.1), the records (dance_ident_tlsa_load), the
 * store context xs pointed at the connection's DANE state, and the peer name of
 * usages 0-2 set with dance_ident_set_peer_name. Leaves nothing on the
 * error queue. Returns DANCE_IDENT_OK, or NO_USABLE / INTERNAL with the
 * reason in why (why_len bytes); rep is filled as by tlsa_load.
 */
dance_ident_status dance_ident_dane_enable(SSL *s, X509_STORE_CTX *xs,
                                           const char *name,
                                           const dance_res_result *r,
                                           dance_ident_tlsa_report *rep,
                                           char *why, size_t why_len);

/*
 * dance_ident_report_once - should the skipped records of r be logged now?
 * Returns 1 the first time it is asked about an RRset (owner name, type
 * and expiry time) among the last few dozen asked about, else 0, so a
 * cached RRset with a bad record is logged once, not once per handshake.
 * Thread-safe.
 */
int dance_ident_report_once(const dance_res_result *r);

#endif /* DANCE_IDENT_H */
