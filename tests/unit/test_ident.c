/* SPDX-License-Identifier: Apache-2.0 */
/*
 * test_ident.c - suite "ident": the identity a DANE client may show,
 * which names may be ClientNames, the peer name rule of usages 0-2 and
 * record-by-record TLSA loading (ext/dance_ident.c).
 *
 * Keys and certificates are made at run time (testcert.c); the DANE
 * checks run OpenSSL's own DANE engine through X509_verify_cert.
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "dance_ident.h"
#include "dance_test.h"
#include "testcert.h"

#define NAME "dev1.example.com"
#define SVC_NAME "_mqtt-client.dev1.example.com"

static EVP_PKEY *key; /* one key for every certificate of a case */

/* ident_init - the suite's key. */
static int ident_init(void)
{
    key = dance_tc_key();
    return key == NULL;
}

/* ident_cleanup - free the suite's key. */
static int ident_cleanup(void)
{
    EVP_PKEY_free(key);
    key = NULL;
    return 0;
}

/* check - dance_ident_check on a fresh self-signed certificate. */
static dance_ident_status check(const char *subject, const char *sans,
                                const char *name, char *why, size_t len)
{
    X509 *x = dance_tc_cert(key, subject, sans, 0, NULL, NULL);
    dance_ident_status st;

    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    st = dance_ident_check(x, name, why, len);
    X509_free(x);
    return st;
}

/* ok - does a certificate with subject and sans pass under name? */
static int ok(const char *subject, const char *sans, const char *name)
{
    char why[256];

    return check(subject, sans, name, why, sizeof(why)) == DANCE_IDENT_OK;
}

/* test_base - leading underscore labels go, nothing else. */
static void test_base(void)
{
    CU_ASSERT_STRING_EQUAL(dance_ident_base(SVC_NAME), NAME);
    CU_ASSERT_STRING_EQUAL(dance_ident_base("_a._b.host.example"),
                           "host.example");
    CU_ASSERT_STRING_EQUAL(dance_ident_base(NAME), NAME);
    CU_ASSERT_STRING_EQUAL(dance_ident_base("a._b.example"), "a._b.example");
    CU_ASSERT_STRING_EQUAL(dance_ident_base("_a._b"), "");
}

/* test_name_equal - DNS comparison: case, one trailing dot, NUL octets. */
static void test_name_equal(void)
{
    CU_ASSERT_TRUE(dance_ident_name_equal(
        NAME, (const unsigned char *)"DEV1.Example.COM.", 17));
    CU_ASSERT_TRUE(
        dance_ident_name_equal(NAME ".", (const unsigned char *)NAME, 16));
    CU_ASSERT_FALSE(dance_ident_name_equal(
        NAME, (const unsigned char *)"dev1.example.com..", 18));
    CU_ASSERT_FALSE(dance_ident_name_equal(
        NAME, (const unsigned char *)"dev1.example.co", 15));
    CU_ASSERT_FALSE(dance_ident_name_equal(
        NAME, (const unsigned char *)"dev1.example.com\0x", 18));
    CU_ASSERT_FALSE(dance_ident_name_equal(
        NAME, (const unsigned char *)"*.example.com", 13));
    CU_ASSERT_FALSE(dance_ident_name_equal("", (const unsigned char *)".", 1));
}

/* test_consistent - names equal to the ClientName or its base pass. */
static void test_consistent(void)
{
    CU_ASSERT_TRUE(ok("CN=" NAME, "DNS:" NAME, NAME));
    CU_ASSERT_TRUE(ok("CN=" NAME, NULL, SVC_NAME));
    CU_ASSERT_TRUE(ok("CN=" SVC_NAME, "DNS:" SVC_NAME ",DNS:" NAME, SVC_NAME));
    CU_ASSERT_TRUE(ok("CN=DEV1.example.com.", "DNS:Dev1.Example.Com", NAME));
    CU_ASSERT_TRUE(ok(NULL, NULL, NAME));              /* no names at all */
    CU_ASSERT_TRUE(ok("O=Acme,C=DE", NULL, NAME));     /* no CN */
    CU_ASSERT_TRUE(ok("O=Acme,CN=" NAME, NULL, NAME)); /* others unchecked */
    /* A raw public key carries no names. */
    CU_ASSERT_EQUAL(dance_ident_check(NULL, NAME, NULL, 0), DANCE_IDENT_OK);
}

/* test_impostor_names - what a client with a genuinely published key
 * may not claim (issue 8 item 3). Every one passes without the check. */
static void test_impostor_names(void)
{
    char why[256];

    CU_ASSERT_EQUAL(check("CN=admin", NULL, NAME, why, sizeof(why)),
                    DANCE_IDENT_MISMATCH);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "CN=admin"));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, NAME));
    CU_ASSERT_EQUAL(check("CN=admin", "DNS:" NAME, NAME, why, sizeof(why)),
                    DANCE_IDENT_MISMATCH);
    /* Every CN counts, not only the last one applications may read. */
    CU_ASSERT_FALSE(ok("CN=" NAME ",CN=admin", NULL, NAME));
    CU_ASSERT_FALSE(ok("CN=admin,CN=" NAME, NULL, NAME));
    /* Another device's SAN, a wildcard, a sibling of the base. */
    CU_ASSERT_EQUAL(check("CN=" NAME, "DNS:" NAME ",DNS:dev2.example.com", NAME,
                          why, sizeof(why)),
                    DANCE_IDENT_MISMATCH);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "dNSName=dev2.example.com"));
    CU_ASSERT_FALSE(ok(NULL, "DNS:*.example.com", NAME));
    CU_ASSERT_FALSE(ok(NULL, "DNS:example.com", NAME));
    CU_ASSERT_FALSE(ok(NULL, "DNS:_other-client." NAME, SVC_NAME));
    /* Underscore labels are dropped from the ClientName, never added:
     * a bare ClientName does not vouch for a service-labelled name. */
    CU_ASSERT_FALSE(ok("CN=" SVC_NAME, NULL, NAME));
    /* Name types applications read as the user, none proved by DANE. */
    CU_ASSERT_EQUAL(check("CN=" NAME, "DNS:" NAME ",email:admin@example.com",
                          NAME, why, sizeof(why)),
                    DANCE_IDENT_FORBIDDEN);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "rfc822Name"));
    CU_ASSERT_FALSE(ok(NULL, "URI:https://admin.example.com/", NAME));
    CU_ASSERT_FALSE(ok(NULL, "IP:192.0.2.1", NAME));
    CU_ASSERT_FALSE(ok(NULL, "IP:::1", NAME));
    CU_ASSERT_FALSE(ok(
        NULL, "otherName:1.3.6.1.4.1.311.20.2.3;UTF8:admin@example.com", NAME));
    CU_ASSERT_EQUAL(check("CN=" NAME ",emailAddress=admin@example.com", NULL,
                          NAME, why, sizeof(why)),
                    DANCE_IDENT_FORBIDDEN);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "emailAddress"));
    CU_ASSERT_FALSE(ok("CN=" NAME ",UID=admin", NULL, NAME));
    /* No ClientName to compare with. */
    CU_ASSERT_FALSE(ok("CN=" NAME, NULL, ""));
}

/* test_hostile_encodings - NUL octets, control characters, a second SAN
 * extension. */
static void test_hostile_encodings(void)
{
    X509 *x = dance_tc_cert(key, NULL, NULL, 0, NULL, NULL);
    X509 *y = dance_tc_cert(key, NULL, "DNS:" NAME, 0, NULL, NULL);
    static const unsigned char nul_cn[] = "dev1.example.com\0.evil";
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    char why[256];

    CU_ASSERT_PTR_NOT_NULL_FATAL(x);
    CU_ASSERT_PTR_NOT_NULL_FATAL(y);
    /* CN "dev1.example.com\0.evil" must not pass as dev1.example.com. */
    CU_ASSERT_FATAL(X509_NAME_add_entry_by_NID(
        X509_get_subject_name(x), NID_commonName, V_ASN1_UTF8STRING, nul_cn,
        (int)sizeof(nul_cn) - 1, -1, 0));
    CU_ASSERT_EQUAL(dance_ident_check(x, NAME, why, sizeof(why)),
                    DANCE_IDENT_MISMATCH);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "\\x00"));
    X509_free(x);
    /* A control character is escaped in the reason, not logged raw. */
    CU_ASSERT_EQUAL(check("CN=admin\nroot", NULL, NAME, why, sizeof(why)),
                    DANCE_IDENT_MISMATCH);
    CU_ASSERT_PTR_NULL(strchr(why, '\n'));
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "admin\\x0aroot"));
    /* A second subjectAltName extension: OpenSSL's d2i gives up on it, so
     * the names in it would go unchecked; refuse. */
    X509V3_set_ctx(&v3, y, y, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
                              "DNS:admin.example.com");
    CU_ASSERT_PTR_NOT_NULL_FATAL(ext);
    CU_ASSERT(X509_add_ext(y, ext, -1) == 1);
    X509_EXTENSION_free(ext);
    CU_ASSERT_EQUAL(dance_ident_check(y, NAME, why, sizeof(why)),
                    DANCE_IDENT_MALFORMED);
    X509_free(y);
}

/* test_client_names - server TLSA owners are never client names. */
static void test_client_names(void)
{
    const char *why = NULL;

    CU_ASSERT_TRUE(dance_ident_client_name_check(NAME, &why));
    CU_ASSERT_TRUE(dance_ident_client_name_check(SVC_NAME, &why));
    CU_ASSERT_TRUE(dance_ident_client_name_check("dev1._tcp.example", &why));
    CU_ASSERT_TRUE(dance_ident_client_name_check("_443.dev1.example", &why));
    CU_ASSERT_TRUE(
        dance_ident_client_name_check("_443x._tcp.dev1.example", &why));
    CU_ASSERT_TRUE(dance_ident_client_name_check("_._tcp.example", &why));
    CU_ASSERT_TRUE(dance_ident_client_name_check("_443._tcpx.example", &why));
    why = NULL;
    CU_ASSERT_FALSE(dance_ident_client_name_check("_443._tcp.x", &why));
    CU_ASSERT_PTR_NOT_NULL(why);
    CU_ASSERT_FALSE(
        dance_ident_client_name_check("_443._tcp.host.example", &why));
    CU_ASSERT_FALSE(dance_ident_client_name_check("_25._TCP.mx.example", &why));
    CU_ASSERT_FALSE(dance_ident_client_name_check("_53._udp.ns.example", &why));
    CU_ASSERT_FALSE(
        dance_ident_client_name_check("_5061._sctp.sip.example", &why));
    /* Anywhere in the name, and at its end. */
    CU_ASSERT_FALSE(
        dance_ident_client_name_check("a._8883._tcp.broker.example", &why));
    CU_ASSERT_FALSE(dance_ident_client_name_check("broker._8883._tcp", &why));
    /* Not a ClientName at all. */
    CU_ASSERT_FALSE(dance_ident_client_name_check("a..b", &why));
    CU_ASSERT_FALSE(dance_ident_client_name_check("", &why));
    CU_ASSERT_FALSE(dance_ident_client_name_check(NULL, &why));
}

/* ---- TLSA loading -------------------------------------------------------- */

/* new_dane_ssl - an SSL with DANE enabled for NAME (ctx returned too). */
static SSL *new_dane_ssl(SSL_CTX **ctx)
{
    SSL *s;

    *ctx = SSL_CTX_new(TLS_method());
    CU_ASSERT_PTR_NOT_NULL_FATAL(*ctx);
    CU_ASSERT_FATAL(SSL_CTX_dane_enable(*ctx) > 0);
    s = SSL_new(*ctx);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_FATAL(SSL_dane_enable(s, NAME) > 0);
    return s;
}

/* load - dance_ident_tlsa_load of rdata on a fresh DANE SSL. */
static dance_ident_status load(const char *const *rdata,
                               dance_ident_tlsa_report *rep)
{
    SSL_CTX *ctx;
    SSL *s = new_dane_ssl(&ctx);
    dance_res_result *r =
        dance_tc_result(NAME, DANCE_RES_SECURE, rdata, time(NULL), 300);
    dance_ident_status st;

    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    st = dance_ident_tlsa_load(s, r, rep);
    dance_res_result_free(r);
    SSL_free(s);
    SSL_CTX_free(ctx);
    return st;
}

#define GOOD_311 "3 1 1 " /* followed by the key's hash */
#define BAD_USAGE                                                              \
    "4 1 1 0102030405060708091011121314151617181920212223242526272829303132"
#define SHORT_DIGEST                                                           \
    "3 1 1 01020304050607080910111213141516171819202122232425262728293031"
#define BAD_MTYPE "3 1 3 0102"
#define BAD_SELECTOR                                                           \
    "3 2 1 0102030405060708091011121314151617181920212223242526272829303132"
#define BAD_SPKI "3 1 0 0102030405"

/* test_load_mixed - one usable record beside unusable ones: loaded,
 * the others listed, and nothing left on the error queue (issue 8 item 7:
 * the old loop left OpenSSL's DANE_TLSA_BAD_* errors there). */
static void test_load_mixed(void)
{
    X509 *x = dance_tc_cert(key, "CN=" NAME, NULL, 0, NULL, NULL);
    char hex[65], good[80];
    const char *rdata[] = {BAD_USAGE,    good,     SHORT_DIGEST, BAD_MTYPE,
                           BAD_SELECTOR, BAD_SPKI, NULL};
    dance_ident_tlsa_report rep;

    CU_ASSERT_FATAL(x != NULL && dance_tc_tlsa_hex(x, 1, hex));
    snprintf(good, sizeof(good), GOOD_311 "%s", hex);
    ERR_clear_error();
    CU_ASSERT_EQUAL(load(rdata, &rep), DANCE_IDENT_OK);
    CU_ASSERT_EQUAL(rep.usable, 1);
    CU_ASSERT_EQUAL(rep.skipped, 5);
    CU_ASSERT_EQUAL(ERR_peek_error(), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(rep.skipped_why, "TLSA 4 1 1: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(rep.skipped_why, "TLSA 3 1 3: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(rep.skipped_why, "TLSA 3 2 1: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(rep.skipped_why, "TLSA 3 1 0: "));
    CU_ASSERT_PTR_NOT_NULL(strstr(rep.skipped_why, "digest length"));
    X509_free(x);
}

/* test_load_none_usable - only unusable records: "no usable records",
 * queue clean; an empty RRset likewise. */
static void test_load_none_usable(void)
{
    const char *bad[] = {BAD_USAGE, SHORT_DIGEST, NULL};
    const char *none[] = {NULL};
    dance_ident_tlsa_report rep;

    ERR_clear_error();
    CU_ASSERT_EQUAL(load(bad, &rep), DANCE_IDENT_NO_USABLE);
    CU_ASSERT_EQUAL(rep.usable, 0);
    CU_ASSERT_EQUAL(rep.skipped, 2);
    CU_ASSERT_EQUAL(ERR_peek_error(), 0);
    CU_ASSERT_EQUAL(load(none, &rep), DANCE_IDENT_NO_USABLE);
    CU_ASSERT_EQUAL(rep.skipped, 0);
}

/* test_load_keeps_queue - errors already queued before the load are the
 * application's: they stay, and nothing is added. */
static void test_load_keeps_queue(void)
{
    const char *bad[] = {BAD_USAGE, NULL};
    dance_ident_tlsa_report rep;
    unsigned long e;

    ERR_clear_error();
    ERR_raise_data(ERR_LIB_USER, 42, "the application's own");
    e = ERR_peek_error();
    CU_ASSERT_EQUAL(load(bad, &rep), DANCE_IDENT_NO_USABLE);
    CU_ASSERT_EQUAL(ERR_get_error(), e);
    CU_ASSERT_EQUAL(ERR_get_error(), 0);
}

/* test_load_internal - a negative return (here: DANE not enabled on the
 * SSL) is an internal failure, not "no usable records". */
static void test_load_internal(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    SSL *s = ctx != NULL ? SSL_new(ctx) : NULL;
    const char *rdata[] = {SHORT_DIGEST, NULL};
    dance_res_result *r =
        dance_tc_result(NAME, DANCE_RES_SECURE, rdata, time(NULL), 300);
    dance_ident_tlsa_report rep;

    CU_ASSERT_FATAL(s != NULL && r != NULL);
    ERR_clear_error();
    CU_ASSERT_EQUAL(dance_ident_tlsa_load(s, r, &rep), DANCE_IDENT_INTERNAL);
    CU_ASSERT_PTR_NOT_NULL(strstr(rep.skipped_why, "OpenSSL failed"));
    CU_ASSERT_EQUAL(ERR_peek_error(), 0);
    dance_res_result_free(r);
    SSL_free(s);
    SSL_CTX_free(ctx);
}

/* test_openssl_leaves_errors - what the old loop relied on: OpenSSL's
 * SSL_dane_tlsa_add returns 0 for an unusable record AND queues an error.
 * If this ever stops holding, test_load_mixed proves nothing new. */
static void test_openssl_leaves_errors(void)
{
    SSL_CTX *ctx;
    SSL *s = new_dane_ssl(&ctx);
    static const unsigned char d[32] = {1};

    ERR_clear_error();
    CU_ASSERT_EQUAL(SSL_dane_tlsa_add(s, 4, 1, 1, d, sizeof(d)), 0);
    CU_ASSERT_NOT_EQUAL(ERR_peek_error(), 0);
    ERR_clear_error();
    CU_ASSERT_EQUAL(SSL_dane_tlsa_add(s, 3, 1, 1, d, 31), 0);
    CU_ASSERT_NOT_EQUAL(ERR_peek_error(), 0);
    ERR_clear_error();
    SSL_free(s);
    SSL_CTX_free(ctx);
}

/* test_report_once - a cached RRset's bad records are reported once. */
static void test_report_once(void)
{
    const char *rdata[] = {BAD_USAGE, NULL};
    time_t now = time(NULL);
    dance_res_result *a =
        dance_tc_result("once.example.com", DANCE_RES_SECURE, rdata, now, 300);
    dance_res_result *b =
        dance_tc_result("once.example.com", DANCE_RES_SECURE, rdata, now, 600);

    CU_ASSERT_FATAL(a != NULL && b != NULL);
    CU_ASSERT_EQUAL(dance_ident_report_once(a), 1);
    CU_ASSERT_EQUAL(dance_ident_report_once(a), 0);
    CU_ASSERT_EQUAL(dance_ident_report_once(b), 1); /* a renewed RRset */
    CU_ASSERT_EQUAL(dance_ident_report_once(a), 0);
    dance_res_result_free(a);
    dance_res_result_free(b);
}

/* ---- usages 0-2: the peer name ------------------------------------------ */

/* dane_verify - run OpenSSL's DANE verification of leaf (with chain)
 * against `tlsa` under NAME through dance_ident_dane_enable. With
 * old_flags, the host flags the old enable_dane used replace ours, to
 * show the defect this rule closes. Returns the X509_V_* result. */
static int dane_verify_in(X509 *leaf, X509 *ta, X509 *trusted, const char *tlsa,
                          int old_flags)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    SSL *s;
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *xs = X509_STORE_CTX_new();
    STACK_OF(X509) *chain = sk_X509_new_null();
    const char *rdata[] = {tlsa, NULL};
    dance_res_result *r =
        dance_tc_result(NAME, DANCE_RES_SECURE, rdata, time(NULL), 300);
    dance_ident_tlsa_report rep;
    char why[256];
    int err;

    CU_ASSERT_FATAL(ctx != NULL && store != NULL && xs != NULL &&
                    chain != NULL && r != NULL);
    CU_ASSERT_FATAL(SSL_CTX_dane_enable(ctx) > 0);
    s = SSL_new(ctx);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    if (ta != NULL)
        sk_X509_push(chain, ta);
    if (trusted != NULL)
        CU_ASSERT_FATAL(X509_STORE_add_cert(store, trusted) == 1);
    CU_ASSERT_FATAL(X509_STORE_CTX_init(xs, store, leaf, chain) == 1);
    CU_ASSERT_EQUAL_FATAL(
        dance_ident_dane_enable(s, xs, NAME, r, &rep, why, sizeof(why)),
        DANCE_IDENT_OK);
    if (old_flags)
        X509_VERIFY_PARAM_set_hostflags(X509_STORE_CTX_get0_param(xs),
                                        X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    X509_verify_cert(xs);
    err = X509_STORE_CTX_get_error(xs);
    ERR_clear_error();
    dance_res_result_free(r);
    sk_X509_free(chain);
    X509_STORE_CTX_free(xs);
    X509_STORE_free(store);
    SSL_free(s);
    SSL_CTX_free(ctx);
    return err;
}

/* dane_verify - dane_verify_in with an empty trust store. */
static int dane_verify(X509 *leaf, X509 *ta, const char *tlsa, int old_flags)
{
    return dane_verify_in(leaf, ta, NULL, tlsa, old_flags);
}

/* test_dane_ta_names - TLSA 2 0 1: the ClientName must be a dNSName SAN,
 * exactly (issue 8 item 8). The old flags accepted the CN-only and the
 * wildcard certificate; each such case is shown with them too. */
static void test_dane_ta_names(void)
{
    EVP_PKEY *ca_key = dance_tc_key();
    X509 *ta = dance_tc_cert(ca_key, "CN=Device TA", NULL, 1, NULL, NULL);
    X509 *exact = dance_tc_cert(key, "CN=" NAME, "DNS:" NAME, 0, ta, ca_key);
    X509 *cn_only = dance_tc_cert(key, "CN=" NAME, NULL, 0, ta, ca_key);
    X509 *wild = dance_tc_cert(key, NULL, "DNS:*.example.com", 0, ta, ca_key);
    X509 *other =
        dance_tc_cert(key, NULL, "DNS:dev2.example.com", 0, ta, ca_key);
    X509 *self = dance_tc_cert(key, NULL, "DNS:" NAME, 0, NULL, NULL);
    char hex[65], ta_rr[80], ee_rr[80];

    CU_ASSERT_FATAL(ta != NULL && exact != NULL && cn_only != NULL &&
                    wild != NULL && other != NULL && self != NULL);
    CU_ASSERT_FATAL(dance_tc_tlsa_hex(ta, 0, hex));
    snprintf(ta_rr, sizeof(ta_rr), "2 0 1 %s", hex);
    CU_ASSERT_FATAL(dance_tc_tlsa_hex(exact, 1, hex));
    snprintf(ee_rr, sizeof(ee_rr), "3 1 1 %s", hex);

    CU_ASSERT_EQUAL(dane_verify(exact, ta, ta_rr, 0), X509_V_OK);
    CU_ASSERT_EQUAL(dane_verify(cn_only, ta, ta_rr, 0),
                    X509_V_ERR_HOSTNAME_MISMATCH);
    CU_ASSERT_EQUAL(dane_verify(cn_only, ta, ta_rr, 1), X509_V_OK);
    CU_ASSERT_EQUAL(dane_verify(wild, ta, ta_rr, 0),
                    X509_V_ERR_HOSTNAME_MISMATCH);
    CU_ASSERT_EQUAL(dane_verify(wild, ta, ta_rr, 1), X509_V_OK);
    CU_ASSERT_EQUAL(dane_verify(other, ta, ta_rr, 0),
                    X509_V_ERR_HOSTNAME_MISMATCH);
    /* Not issued by the TA: no match at all. */
    CU_ASSERT_NOT_EQUAL(dane_verify(self, ta, ta_rr, 0), X509_V_OK);
    /* DANE-EE: the key is the identity, no name check here (the identity
     * check is dance_ident_check's). */
    CU_ASSERT_EQUAL(dane_verify(exact, NULL, ee_rr, 0), X509_V_OK);
    CU_ASSERT_EQUAL(dane_verify(cn_only, NULL, ee_rr, 0), X509_V_OK);
    CU_ASSERT_EQUAL(
        dance_ident_hostflags() & (X509_CHECK_FLAG_NEVER_CHECK_SUBJECT |
                                   X509_CHECK_FLAG_NO_WILDCARDS),
        X509_CHECK_FLAG_NEVER_CHECK_SUBJECT | X509_CHECK_FLAG_NO_WILDCARDS);
    X509_free(self);
    X509_free(other);
    X509_free(wild);
    X509_free(cn_only);
    X509_free(exact);
    X509_free(ta);
    EVP_PKEY_free(ca_key);
}

/* test_dane_enable_none_usable - dance_ident_dane_enable reports the
 * skipped records and leaves the queue clean. */
static void test_dane_enable_none_usable(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_method());
    SSL *s;
    X509 *x = dance_tc_cert(key, "CN=" NAME, NULL, 0, NULL, NULL);
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *xs = X509_STORE_CTX_new();
    const char *rdata[] = {BAD_USAGE, NULL};
    dance_res_result *r =
        dance_tc_result(NAME, DANCE_RES_SECURE, rdata, time(NULL), 300);
    dance_ident_tlsa_report rep;
    char why[600];

    CU_ASSERT_FATAL(ctx != NULL && x != NULL && store != NULL && xs != NULL &&
                    r != NULL && SSL_CTX_dane_enable(ctx) > 0);
    s = SSL_new(ctx);
    CU_ASSERT_FATAL(s != NULL && X509_STORE_CTX_init(xs, store, x, NULL) == 1);
    ERR_clear_error();
    CU_ASSERT_EQUAL(
        dance_ident_dane_enable(s, xs, NAME, r, &rep, why, sizeof(why)),
        DANCE_IDENT_NO_USABLE);
    CU_ASSERT_PTR_NOT_NULL(strstr(why, "TLSA 4 1 1"));
    CU_ASSERT_EQUAL(ERR_peek_error(), 0);
    dance_res_result_free(r);
    X509_STORE_CTX_free(xs);
    X509_STORE_free(store);
    X509_free(x);
    SSL_free(s);
    SSL_CTX_free(ctx);
}

/* test_pkix_usages - PKIX-TA (0) and PKIX-EE (1): OpenSSL's DANE engine
 * also requires PKIX validation against the trust store (the
 * application's, in a handshake), and the same exact-SAN name rule. */
static void test_pkix_usages(void)
{
    EVP_PKEY *ca_key = dance_tc_key();
    X509 *ca = dance_tc_cert(ca_key, "CN=Client CA", NULL, 1, NULL, NULL);
    X509 *leaf = dance_tc_cert(key, "CN=" NAME, "DNS:" NAME, 0, ca, ca_key);
    X509 *cn_only = dance_tc_cert(key, "CN=" NAME, NULL, 0, ca, ca_key);
    char hex[65], ee[80], ta[80];

    CU_ASSERT_FATAL(ca != NULL && leaf != NULL && cn_only != NULL);
    CU_ASSERT_FATAL(dance_tc_tlsa_hex(leaf, 1, hex));
    snprintf(ee, sizeof(ee), "1 1 1 %s", hex);
    CU_ASSERT_FATAL(dance_tc_tlsa_hex(ca, 0, hex));
    snprintf(ta, sizeof(ta), "0 0 1 %s", hex);
    /* Trusted CA: both usages pass; without it, PKIX fails first. */
    CU_ASSERT_EQUAL(dane_verify_in(leaf, ca, ca, ee, 0), X509_V_OK);
    CU_ASSERT_EQUAL(dane_verify_in(leaf, ca, ca, ta, 0), X509_V_OK);
    CU_ASSERT_NOT_EQUAL(dane_verify_in(leaf, ca, NULL, ee, 0), X509_V_OK);
    CU_ASSERT_NOT_EQUAL(dane_verify_in(leaf, ca, NULL, ta, 0), X509_V_OK);
    /* No CN fallback for the PKIX usages either. */
    CU_ASSERT_EQUAL(dane_verify_in(cn_only, ca, ca, ta, 0),
                    X509_V_ERR_HOSTNAME_MISMATCH);
    CU_ASSERT_EQUAL(dane_verify_in(cn_only, ca, ca, ta, 1), X509_V_OK);
    X509_free(cn_only);
    X509_free(leaf);
    X509_free(ca);
    EVP_PKEY_free(ca_key);
}

static const CU_TestInfo cases[] = {
    {"base", test_base},
    {"name_equal", test_name_equal},
    {"consistent", test_consistent},
    {"impostor_names", test_impostor_names},
    {"hostile_encodings", test_hostile_encodings},
    {"client_names", test_client_names},
    {"load_mixed", test_load_mixed},
    {"load_none_usable", test_load_none_usable},
    {"load_keeps_queue", test_load_keeps_queue},
    {"load_internal", test_load_internal},
    {"openssl_leaves_errors", test_openssl_leaves_errors},
    {"report_once", test_report_once},
    {"dane_ta_names", test_dane_ta_names},
    {"pkix_usages", test_pkix_usages},
    {"dane_enable_none_usable", test_dane_enable_none_usable},
    CU_TEST_INFO_NULL};

/* dance_test_suite_ident - see dance_test.h. */
int dance_test_suite_ident(void)
{
    return dance_test_add_suite("ident", ident_init, ident_cleanup, cases);
}
