/* SPDX-License-Identifier: Apache-2.0 */
/*
 * testcert.c - keys, certificates and TLSA results for the tests (see
 * testcert.h).
 */
#include "testcert.h"

#include <stdio.h>
#include <string.h>

#include <ldns/ldns.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/x509v3.h>

/* dance_tc_key - see header. */
EVP_PKEY *dance_tc_key(void)
{
    return EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
}

/* add_subject - fill name from "K=V,K=V". */
static int add_subject(X509_NAME *name, const char *spec)
{
    char buf[512], *save = NULL, *item;

    if (spec == NULL || spec[0] == '\0')
        return 1;
    snprintf(buf, sizeof(buf), "%s", spec);
    for (item = strtok_r(buf, ",", &save); item != NULL;
         item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');

        if (eq == NULL)
            return 0;
        *eq = '\0';
        if (!X509_NAME_add_entry_by_txt(name, item, MBSTRING_UTF8,
                                        (unsigned char *)eq + 1, -1, -1, 0))
            return 0;
    }
    return 1;
}

/* add_ext - one extension from its OpenSSL config value. */
static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509_EXTENSION *ext;
    int ok;

    X509V3_set_ctx(&v3, issuer != NULL ? issuer : x, x, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    if (ext == NULL)
        return 0;
    ok = X509_add_ext(x, ext, -1);
    X509_EXTENSION_free(ext);
    return ok;
}

/* dance_tc_cert - see header. */
X509 *dance_tc_cert(EVP_PKEY *key, const char *subject, const char *sans,
                    int ca, X509 *issuer, EVP_PKEY *issuer_key)
{
    X509 *x = X509_new();
    unsigned char serial[8];
    BIGNUM *bn = NULL;

    if (x == NULL || !X509_set_version(x, 2) ||
        RAND_bytes(serial, sizeof(serial)) != 1)
        goto err;
    serial[0] &= 0x7f;
    bn = BN_bin2bn(serial, sizeof(serial), NULL);
    if (bn == NULL || BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) == NULL)
        goto err;
    if (!X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(x), 86400) ||
        !X509_set_pubkey(x, key) ||
        !add_subject(X509_get_subject_name(x), subject) ||
        !X509_set_issuer_name(x, issuer != NULL ? X509_get_subject_name(issuer)
                                                : X509_get_subject_name(x)))
        goto err;
    if (ca && (!add_ext(x, issuer, NID_basic_constraints, "critical,CA:TRUE") ||
               !add_ext(x, issuer, NID_key_usage, "critical,keyCertSign")))
        goto err;
    if (!add_ext(x, issuer, NID_subject_key_identifier, "hash") ||
        (issuer != NULL &&
         !add_ext(x, issuer, NID_authority_key_identifier, "keyid")))
        goto err;
    if (sans != NULL && !add_ext(x, issuer, NID_subject_alt_name, sans))
        goto err;
    if (!X509_sign(x, issuer_key != NULL ? issuer_key : key, EVP_sha256()))
        goto err;
    BN_free(bn);
    return x;
err:
    BN_free(bn);
    X509_free(x);
    return NULL;
}

/* dance_tc_tlsa_hex - see header. */
int dance_tc_tlsa_hex(X509 *x, int selector, char *out)
{
    unsigned char *der = NULL, md[32];
    int len = selector == 0 ? i2d_X509(x, &der)
                            : i2d_PUBKEY(X509_get0_pubkey(x), &der);

    if (len <= 0)
        return 0;
    SHA256(der, (size_t)len, md);
    OPENSSL_free(der);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 1;
}

/* dance_tc_result - see header. */
dance_res_result *dance_tc_result(const char *owner, int status,
                                  const char *const *rdata, time_t now,
                                  unsigned ttl)
{
    ldns_rr_list *list = ldns_rr_list_new();
    dance_res_result *r = NULL;

    if (list == NULL)
        return NULL;
    for (size_t i = 0; rdata != NULL && rdata[i] != NULL; i++) {
        char text[1024];
        ldns_rr *rr = NULL;

        snprintf(text, sizeof(text), "%s. %u IN TLSA %s", owner, ttl, rdata[i]);
        if (ldns_rr_new_frm_str(&rr, text, ttl, NULL, NULL) != LDNS_STATUS_OK) {
            fprintf(stderr, "testcert: cannot parse %s\n", text);
            goto done;
        }
        ldns_rr_list_push_rr(list, rr);
    }
    r = dance_res_result_new(owner, LDNS_RR_TYPE_TLSA, (dance_res_status)status,
                             list, ttl, now, "injected by the test");
done:
    ldns_rr_list_deep_free(list);
    return r;
}
