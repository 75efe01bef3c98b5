/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_ident.c - the identity a DANE-authenticated peer may show, and
 * TLSA records handed to OpenSSL one by one (see dance_ident.h).
 */
#include "dance_ident.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "dance_name.h"

#define SHOW_MAX 64 /* octets of certificate text quoted in a reason */
#define SEEN_MAX 64 /* RRsets remembered by dance_ident_report_once */

/* dance_ident_status_str - see header. */
const char *dance_ident_status_str(dance_ident_status status)
{
    switch (status) {
    case DANCE_IDENT_OK:
        return "ok";
    case DANCE_IDENT_MISMATCH:
        return "name mismatch";
    case DANCE_IDENT_FORBIDDEN:
        return "forbidden name type";
    case DANCE_IDENT_MALFORMED:
        return "malformed certificate names";
    case DANCE_IDENT_BAD_NAME:
        return "not a client name";
    case DANCE_IDENT_NO_USABLE:
        return "no usable TLSA record";
    case DANCE_IDENT_INTERNAL:
        return "internal error";
    }
    return "unknown";
}

/* ---- names -------------------------------------------------------------- */

/* lower - ASCII lower case of c; other octets unchanged. */
static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* dance_ident_base - see header. */
const char *dance_ident_base(const char *name)
{
    while (name[0] == '_') {
        const char *dot = strchr(name, '.');

        if (dot == NULL)
            return name + strlen(name);
        name = dot + 1;
    }
    return name;
}

/* dance_ident_name_equal - see header. */
int dance_ident_name_equal(const char *a, const unsigned char *b, size_t blen)
{
    size_t alen = strlen(a);

    if (alen > 0 && a[alen - 1] == '.')
        alen--;
    if (blen > 0 && b[blen - 1] == '.')
        blen--;
    if (alen != blen || alen == 0)
        return 0;
    for (size_t i = 0; i < alen; i++)
        if (lower((unsigned char)a[i]) != lower(b[i]))
            return 0;
    return 1;
}

/* show - certificate text p[0..n) made safe for a log line into out:
 * printable ASCII kept, other octets as \xHH, cut after SHOW_MAX octets. */
static void show(const unsigned char *p, size_t n, char *out, size_t outlen)
{
    size_t o = 0;

    if (outlen == 0)
        return;
    for (size_t i = 0; i < n && i < SHOW_MAX && o + 5 < outlen; i++) {
        if (p[i] > 0x20 && p[i] < 0x7f && p[i] != '\\')
            out[o++] = (char)p[i];
        else
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", p[i]);
    }
    if (n > SHOW_MAX && o + 4 < outlen)
        o += (size_t)snprintf(out + o, outlen - o, "...");
    out[o < outlen ? o : outlen - 1] = '\0';
}

/* mismatch - the reason for a name of kind ("CN", "dNSName") that is not
 * the ClientName. */
static dance_ident_status mismatch(const char *kind, const unsigned char *p,
                                   size_t n, const char *name, char *why,
                                   size_t why_len)
{
    char shown[SHOW_MAX * 4 + 8];
    const char *base = dance_ident_base(name);

    show(p, n, shown, sizeof(shown));
    if (base != name && base[0] != '\0')
        snprintf(why, why_len,
                 "certificate %s=%s is not the ClientName %s nor %s", kind,
                 shown, name, base);
    else
        snprintf(why, why_len, "certificate %s=%s is not the ClientName %s",
                 kind, shown, name);
    return DANCE_IDENT_MISMATCH;
}

/* name_ok - is p[0..n) the ClientName or its base? */
static int name_ok(const char *name, const unsigned char *p, size_t n)
{
    const char *base = dance_ident_base(name);

    return dance_ident_name_equal(name, p, n) ||
           (base[0] != '\0' && dance_ident_name_equal(base, p, n));
}

/* check_subject - the subject's CNs, and no emailAddress or UID. */
static dance_ident_status check_subject(X509 *x, const char *name, char *why,
                                        size_t why_len)
{
    const X509_NAME *subj = X509_get_subject_name(x);
    static const int forbidden[] = {NID_pkcs9_emailAddress, NID_userId};

    for (int i = 0; subj != NULL && i < X509_NAME_entry_count(subj); i++) {
        const X509_NAME_ENTRY *e = X509_NAME_get_entry(subj, i);
        int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(e));
        unsigned char *utf8 = NULL;
        int n, ok;

        for (size_t k = 0; k < sizeof(forbidden) / sizeof(forbidden[0]); k++) {
            if (nid != forbidden[k])
                continue;
            snprintf(why, why_len,
                     "certificate subject has %s, which DANE does not vouch "
                     "for",
                     OBJ_nid2sn(nid));
            return DANCE_IDENT_FORBIDDEN;
        }
        if (nid != NID_commonName)
            continue;
        n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(e));
        if (n < 0) {
            snprintf(why, why_len, "certificate CN cannot be read");
            return DANCE_IDENT_MALFORMED;
        }
        ok = name_ok(name, utf8, (size_t)n);
        if (!ok)
            mismatch("CN", utf8, (size_t)n, name, why, why_len);
        OPENSSL_free(utf8);
        if (!ok)
            return DANCE_IDENT_MISMATCH;
    }
    return DANCE_IDENT_OK;
}

/* gen_kind - a presentation name for a GENERAL_NAME type. */
static const char *gen_kind(int type)
{
    switch (type) {
    case GEN_EMAIL:
        return "rfc822Name";
    case GEN_URI:
        return "URI";
    case GEN_IPADD:
        return "IP address";
    case GEN_OTHERNAME:
        return "otherName";
    case GEN_DIRNAME:
        return "directoryName";
    case GEN_RID:
        return "registeredID";
    case GEN_X400:
        return "x400Address";
    case GEN_EDIPARTY:
        return "ediPartyName";
    default:
        return "unknown name type";
    }
}

/* check_sans - every SAN a dNSName that is the ClientName or its base. */
static dance_ident_status check_sans(X509 *x, const char *name, char *why,
                                     size_t why_len)
{
    int crit = -1;
    GENERAL_NAMES *sans =
        X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
    dance_ident_status st = DANCE_IDENT_OK;

    if (sans == NULL) {
        if (crit == -1)
            return DANCE_IDENT_OK; /* no SAN extension */
        snprintf(why, why_len, "%s",
                 crit == -2 ? "certificate has more than one subjectAltName "
                              "extension"
                            : "certificate subjectAltName does not decode");
        return DANCE_IDENT_MALFORMED;
    }
    for (int i = 0; i < sk_GENERAL_NAME_num(sans) && st == DANCE_IDENT_OK;
         i++) {
        const GENERAL_NAME *gn = sk_GENERAL_NAME_value(sans, i);
        const unsigned char *p;
        size_t n;

        if (gn->type != GEN_DNS) {
            snprintf(why, why_len,
                     "certificate subjectAltName has an %s, which DANE does "
                     "not vouch for",
                     gen_kind(gn->type));
            st = DANCE_IDENT_FORBIDDEN;
            break;
        }
        p = ASN1_STRING_get0_data(gn->d.dNSName);
        n = (size_t)ASN1_STRING_length(gn->d.dNSName);
        if (!name_ok(name, p, n))
            st = mismatch("dNSName", p, n, name, why, why_len);
    }
    GENERAL_NAMES_free(sans);
    return st;
}

/* dance_ident_check - see header. */
dance_ident_status dance_ident_check(X509 *x, const char *name, char *why,
                                     size_t why_len)
{
    dance_ident_status st;

    if (why_len > 0)
        why[0] = '\0';
    if (x == NULL)
        return DANCE_IDENT_OK; /* a raw public key: no names */
    if (name == NULL || name[0] == '\0') {
        snprintf(why, why_len, "no ClientName to check the certificate by");
        return DANCE_IDENT_MISMATCH;
    }
    st = check_subject(x, name, why, why_len);
    if (st == DANCE_IDENT_OK)
        st = check_sans(x, name, why, why_len);
    return st;
}

/* digits - is s[0..n) one or more decimal digits? */
static int digits(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

/* proto_label - is s[0..n) "_tcp", "_udp" or "_sctp" (any case)? */
static int proto_label(const char *s, size_t n)
{
    static const char *const protos[] = {"_tcp", "_udp", "_sctp"};

    for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
        size_t k = strlen(protos[i]), j;

        if (n != k)
            continue;
        for (j = 0; j < k && lower((unsigned char)s[j]) == protos[i][j]; j++)
            ;
        if (j == k)
            return 1;
    }
    return 0;
}

/* dance_ident_client_name_check - see header. */
int dance_ident_client_name_check(const char *name, const char **why)
{
    const char *label = name, *next;

    if (name == NULL) {
        *why = "no name";
        return 0;
    }
    if (!dance_name_check(name, strlen(name), why))
        return 0;
    /* Walk label pairs: "_<digits>" followed by a protocol label. */
    for (; (next = strchr(label, '.')) != NULL; label = next + 1) {
        const char *end = strchr(next + 1, '.');
        size_t n2 = end != NULL ? (size_t)(end - next - 1) : strlen(next + 1);

        if (label[0] == '_' && digits(label + 1, (size_t)(next - label - 1)) &&
            proto_label(next + 1, n2)) {
            *why = "a _<port>._<protocol> name is a server's TLSA owner, "
                   "never a client name";
            return 0;
        }
    }
    return 1;
}

/* ---- peer name for usages 0-2 ------------------------------------------- */

/* dance_ident_hostflags - see header. */
unsigned int dance_ident_hostflags(void)
{
    return X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_WILDCARDS;
}

/* dance_ident_set_peer_name - see header. */
int dance_ident_set_peer_name(X509_VERIFY_PARAM *param, const char *name)
{
    X509_VERIFY_PARAM_set_hostflags(param, dance_ident_hostflags());
    return X509_VERIFY_PARAM_set1_host(param, name, 0) == 1;
}

/* ---- TLSA records ------------------------------------------------------- */

/* last_reason - OpenSSL's reason for the newest error on the queue. */
static const char *last_reason(void)
{
    const char *r = ERR_reason_error_string(ERR_peek_last_error());

    return r != NULL ? r : "no reason given";
}

/* note_skip - add "TLSA u s m: reason" to the report. */
static void note_skip(dance_ident_tlsa_report *rep, const uint8_t *rd,
                      size_t len, const char *reason)
{
    size_t used = strlen(rep->skipped_why), room = sizeof(rep->skipped_why);
    char item[160];
    int n;

    rep->skipped++;
    if (len >= 3)
        snprintf(item, sizeof(item), "TLSA %u %u %u: %s", rd[0], rd[1], rd[2],
                 reason);
    else
        snprintf(item, sizeof(item), "TLSA record of %zu octets: %s", len,
                 reason);
    if (used + 4 >= room)
        return; /* already cut short */
    n = snprintf(rep->skipped_why + used, room - used, "%s%s",
                 used > 0 ? "; " : "", item);
    if (n < 0 || (size_t)n >= room - used)
        memcpy(rep->skipped_why + room - 4, "...", 4);
}

/* dance_ident_tlsa_load - see header. */
dance_ident_status dance_ident_tlsa_load(SSL *s, const dance_res_result *r,
                                         dance_ident_tlsa_report *rep)
{
    memset(rep, 0, sizeof(*rep));
    for (size_t i = 0; i < dance_res_result_rr_count(r); i++) {
        size_t len = 0;
        const uint8_t *rd = dance_res_result_get0_rdata(r, i, &len);
        int ret;

        if (dance_res_result_rr_type(r, i) != LDNS_RR_TYPE_TLSA)
            continue; /* not part of the RRset */
        if (rd == NULL || len < 3) {
            note_skip(rep, rd, len,
                      "shorter than usage, selector and "
                      "matching type");
            continue;
        }
        /* RDATA: usage, selector, matching type, association data. */
        ERR_set_mark();
        ret = SSL_dane_tlsa_add(s, rd[0], rd[1], rd[2], rd + 3, len - 3);
        if (ret > 0) {
            rep->usable++;
        } else if (ret == 0) {
            note_skip(rep, rd, len, last_reason());
        } else {
            snprintf(rep->skipped_why, sizeof(rep->skipped_why),
                     "OpenSSL failed adding TLSA %u %u %u: %s", rd[0], rd[1],
                     rd[2], last_reason());
            ERR_pop_to_mark();
            return DANCE_IDENT_INTERNAL;
        }
        ERR_pop_to_mark();
    }
    return rep->usable > 0 ? DANCE_IDENT_OK : DANCE_IDENT_NO_USABLE;
}

/* dance_ident_dane_enable - see header. */
dance_ident_status dance_ident_dane_enable(SSL *s, X509_STORE_CTX *xs,
                                           const char *name,
                                           const dance_res_result *r,
                                           dance_ident_tlsa_report *rep,
                                           char *why, size_t why_len)
{
    dance_ident_status st;

    memset(rep, 0, sizeof(*rep));
    ERR_set_mark();
    if (SSL_dane_enable(s, name) <= 0) {
        snprintf(why, why_len, "OpenSSL refused to enable DANE: %s",
                 last_reason());
        ERR_pop_to_mark();
        return DANCE_IDENT_INTERNAL;
    }
    ERR_pop_to_mark();
    SSL_dane_set_flags(s, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
    st = dance_ident_tlsa_load(s, r, rep);
    if (st == DANCE_IDENT_INTERNAL) {
        snprintf(why, why_len, "%s", rep->skipped_why);
        return st;
    }
    if (st == DANCE_IDENT_NO_USABLE) {
        snprintf(why, why_len, "no usable TLSA record (%s)",
                 rep->skipped_why[0] != '\0' ? rep->skipped_why
                                             : "empty RRset");
        return st;
    }
    /* The store context was set up before DANE was enabled: point it at
     * the connection's DANE state and the name usages 0-2 must carry. */
    X509_STORE_CTX_set0_dane(xs, SSL_get0_dane(s));
    ERR_set_mark();
    if (!dance_ident_set_peer_name(X509_STORE_CTX_get0_param(xs), name) ||
        !dance_ident_set_peer_name(SSL_get0_param(s), name)) {
        snprintf(why, why_len, "OpenSSL refused the peer name: %s",
                 last_reason());
        ERR_pop_to_mark();
        return DANCE_IDENT_INTERNAL;
    }
    ERR_pop_to_mark();
    if (why_len > 0)
        why[0] = '\0';
    return DANCE_IDENT_OK;
}

/* ---- logging once per RRset --------------------------------------------- */

typedef struct {
    char name[DANCE_NAME_MAX + 2];
    uint16_t type;
    time_t expires;
} seen_rrset;

static pthread_mutex_t seen_lock = PTHREAD_MUTEX_INITIALIZER;
static seen_rrset seen[SEEN_MAX]; /* under seen_lock */
static size_t seen_next;          /* under seen_lock */

/* dance_ident_report_once - see header. */
int dance_ident_report_once(const dance_res_result *r)
{
    const char *name = dance_res_result_get0_name(r);
    uint16_t type = dance_res_result_type(r);
    time_t expires = dance_res_result_expires(r);
    int first = 1;

    pthread_mutex_lock(&seen_lock);
    for (size_t i = 0; i < SEEN_MAX && first; i++)
        if (seen[i].expires == expires && seen[i].type == type &&
            strncmp(seen[i].name, name, sizeof(seen[i].name) - 1) == 0)
            first = 0;
    if (first) {
        snprintf(seen[seen_next].name, sizeof(seen[seen_next].name), "%s",
                 name);
        seen[seen_next].type = type;
        seen[seen_next].expires = expires;
        seen_next = (seen_next + 1) % SEEN_MAX;
    }
    pthread_mutex_unlock(&seen_lock);
    return first;
}
