/*
 * dance_store.c - OSSL_STORE loader for "dnssec:" URIs: signing keys from
 * DNSSEC-validated IPSECKEY records (see dance_store.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <ldns/ldns.h>
#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/err.h>
#include <openssl/x509.h>

#include "dance_ipseckey.h"
#include "dance_log.h"
#include "dance_prov.h"
#include "dance_store.h"

#define SCHEME "dnssec:"

typedef struct {
    const dance_prov_ctx *prov;
    char *name;        /* owner name to look up */
    const char *curve; /* "P-256", "P-384" or NULL: a static string */
    int eof;
} store_ctx;

/* parse_query - take "curve=P-256" or "curve=P-384" from the query q. */
static int parse_query(store_ctx *s, const char *q)
{
    if (strcmp(q, "curve=P-256") == 0)
        s->curve = "P-256";
    else if (strcmp(q, "curve=P-384") == 0)
        s->curve = "P-384";
    else
        return 0;
    return 1;
}

/* store_open - parse dnssec:<name>[?curve=...] into a loader context. */
static void *store_open(void *provctx, const char *uri)
{
    store_ctx *s = NULL;
    ldns_rdf *check = NULL;
    const char *q;
    size_t n;

    if (uri == NULL || strncasecmp(uri, SCHEME, strlen(SCHEME)) != 0)
        return NULL; /* not ours: let another loader try */
    uri += strlen(SCHEME);
    q = strchr(uri, '?');
    n = q != NULL ? (size_t)(q - uri) : strlen(uri);
    s = calloc(1, sizeof(*s));
    if (s == NULL || (s->name = strndup(uri, n)) == NULL) {
        DANCE_RAISE(dance_prov_core(provctx), DANCE_R_INIT_FAILED,
                    "dnssec store: out of memory");
        goto err;
    }
    s->prov = provctx;
    if (n == 0 || n > 253 ||
        ldns_str2rdf_dname(&check, s->name) != LDNS_STATUS_OK) {
        DANCE_RAISE(dance_prov_core(provctx), DANCE_R_BAD_URI,
                    "dnssec store: '%s' is not a domain name (dnssec:NAME)",
                    s->name);
        goto err;
    }
    ldns_rdf_deep_free(check);
    if (q != NULL && !parse_query(s, q + 1)) {
        DANCE_RAISE(dance_prov_core(provctx), DANCE_R_BAD_URI,
                    "dnssec store: unknown query '%s' in a dnssec: URI (only "
                    "curve=P-256 "
                    "or curve=P-384)",
                    q + 1);
        goto err;
    }
    return s;

err:
    if (s != NULL)
        free(s->name);
    free(s);
    return NULL;
}

/* store_settable_ctx_params - the loader takes no parameters. */
static const OSSL_PARAM *store_settable_ctx_params(void *provctx)
{
    static const OSSL_PARAM none[] = {OSSL_PARAM_END};

    (void)provctx;
    return none;
}

/* store_set_ctx_params - expected type, properties, ...: ignored, the
 * only object a dnssec: URI names is a public key. */
static int store_set_ctx_params(void *loaderctx, const OSSL_PARAM params[])
{
    (void)loaderctx;
    (void)params;
    return 1;
}

/* store_load - fetch and validate the key, hand it to object_cb as DER. */
static int store_load(void *loaderctx, OSSL_CALLBACK *object_cb,
                      void *object_cbarg, OSSL_PASSPHRASE_CALLBACK *pw_cb,
                      void *pw_cbarg)
{
    store_ctx *s = loaderctx;
    EVP_PKEY *pkey = NULL;
    unsigned char *der = NULL;
    char err[600], *target = NULL;
    dance_ipseckey_status st;
    OSSL_PARAM params[5];
    int der_len, type = OSSL_OBJECT_PKEY, ok = 0;
    const char *data_type;
    dance_res *res;

    (void)pw_cb;
    (void)pw_cbarg;
    if (s->eof)
        return 0;
    s->eof = 1; /* one object per URI, found or not */
    res = dance_prov_get0_res(s->prov);
    if (res == NULL) {
        DANCE_RAISE(dance_prov_core(s->prov), DANCE_R_INIT_FAILED,
                    "dnssec store: the dance provider has no resolver");
        return 0;
    }
    st = dance_ipseckey_fetch(res, s->name, time(NULL),
                              dance_prov_get0_libctx(s->prov), s->curve, &pkey,
                              &target, err, sizeof(err));
    if (st != DANCE_IPSECKEY_OK) {
        DANCE_RAISE(dance_prov_core(s->prov), DANCE_R_NO_KEY,
                    "dnssec store: dnssec:%s: %s", s->name, err);
        goto done;
    }
    der_len = i2d_PUBKEY(pkey, &der);
    data_type = EVP_PKEY_get0_type_name(pkey);
    if (der_len <= 0 || data_type == NULL) {
        DANCE_RAISE(dance_prov_core(s->prov), DANCE_R_INIT_FAILED,
                    "dnssec store: dnssec:%s: cannot encode the key", s->name);
        goto done;
    }
    dance_log(DANCE_LOG_INFO, "dnssec store: %s -> %s: secure %s key", s->name,
              target, data_type);
    params[0] = OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &type);
    params[1] = OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DATA_TYPE,
                                                 (char *)data_type, 0);
    params[2] = OSSL_PARAM_construct_utf8_string(
        OSSL_OBJECT_PARAM_DATA_STRUCTURE, "SubjectPublicKeyInfo", 0);
    params[3] = OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_DATA, der,
                                                  (size_t)der_len);
    params[4] = OSSL_PARAM_construct_end();
    ok = object_cb(params, object_cbarg);
done:
    OPENSSL_free(der);
    OPENSSL_free(target);
    EVP_PKEY_free(pkey);
    return ok;
}

/* store_eof - 1 once the one key has been loaded (or failed to). */
static int store_eof(void *loaderctx)
{
    return ((store_ctx *)loaderctx)->eof;
}

/* store_close - free the loader context. */
static int store_close(void *loaderctx)
{
    store_ctx *s = loaderctx;

    if (s != NULL)
        free(s->name);
    free(s);
    return 1;
}

const OSSL_DISPATCH dance_store_functions[] = {
    {OSSL_FUNC_STORE_OPEN, (void (*)(void))store_open},
    {OSSL_FUNC_STORE_SETTABLE_CTX_PARAMS,
     (void (*)(void))store_settable_ctx_params},
    {OSSL_FUNC_STORE_SET_CTX_PARAMS, (void (*)(void))store_set_ctx_params},
    {OSSL_FUNC_STORE_LOAD, (void (*)(void))store_load},
    {OSSL_FUNC_STORE_EOF, (void (*)(void))store_eof},
    {OSSL_FUNC_STORE_CLOSE, (void (*)(void))store_close},
    {0, NULL}};
