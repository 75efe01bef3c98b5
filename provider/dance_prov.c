/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_prov.c - the dance provider: OSSL_provider_init, its dispatch table,
 * and the process-wide runtime it sets up from its openssl.cnf section.
 *
 *   [provider_sect]
 *   dance = dance_sect
 *   [dance_sect]
 *   module = dance.so
 *   activate = 1
 *   client_auth = require
 *   ...
 *
 * Activation reads every key (dance_config.c) strictly; a bad value fails
 * activation with an error naming the key. It then builds the resolver and
 * installs the SSL_CTX hook (ext/dance_ext.c). Those live for the rest of
 * the process, and so does this module (RTLD_NODELETE): SSL_CTXs created
 * meanwhile hold callbacks into it.
 */
#define _GNU_SOURCE /* dladdr, RTLD_NODELETE */
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_dispatch.h>
#include <openssl/conf.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>

#include "dance_activate.h"
#include "dance_async.h"
#include "dance_config.h"
#include "dance_ext.h"
#include "dance_log.h"
#include "dance_msg.h"
#include "dance_prov.h"
#include "dance_stats.h"
#include "dance_store.h"
#include "dance_version.h"

#define DANCE_PROV_NAME "dance: DANE client authentication (DANCE)"

struct dance_core {
    const OSSL_CORE_HANDLE *handle;
    OSSL_FUNC_core_new_error_fn *new_error;
    OSSL_FUNC_core_set_error_debug_fn *set_error_debug;
    OSSL_FUNC_core_vset_error_fn *vset_error;
    OSSL_FUNC_core_get_params_fn *get_params;
};

/* The process's settings as written (compared with later activations) and
 * what the SSL hooks run with, derived from them. */
typedef struct {
    dance_ext_runtime ext;
    dance_config cfg;
} prov_runtime;

struct dance_prov_ctx {
    const OSSL_CORE_HANDLE *handle;
    OSSL_LIB_CTX *libctx;
    prov_runtime *rt; /* process-wide, borrowed */
    dance_core core;  /* to raise errors with (dance_prov_core) */
};

/* The runtime is one per process: every SSL_CTX of the process is hooked
 * with the same settings. It is never freed (see the file comment). */
static pthread_mutex_t runtime_lock = PTHREAD_MUTEX_INITIALIZER;
static prov_runtime *runtime;

/* ---- errors ------------------------------------------------------------- */

/* core_vset - core_vset_error with a format (the message below). */
static void core_vset(const dance_core *core, int reason, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    core->vset_error(core->handle, reason, fmt, ap);
    va_end(ap);
}

/* dance_core_raise - see dance_prov.h. */
void dance_core_raise(const dance_core *core, int reason, const char *file,
                      int line, const char *func, const char *fmt, ...)
{
    char msg[600];
    va_list ap;

    va_start(ap, fmt);
    dance_vmsg(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    dance_log(DANCE_LOG_ERROR, "%s", msg);
    if (core == NULL || core->new_error == NULL || core->vset_error == NULL)
        return;
    core->new_error(core->handle);
    if (core->set_error_debug != NULL)
        core->set_error_debug(core->handle, file, line, func);
    core_vset(core, reason, "%s", msg);
}

/* ---- provider context and operations ------------------------------------ */

/* dance_prov_get0_res - see dance_prov.h. */
dance_res *dance_prov_get0_res(const dance_prov_ctx *ctx)
{
    return ctx->rt->ext.res;
}

/* dance_prov_core - see dance_prov.h. */
const dance_core *dance_prov_core(const dance_prov_ctx *ctx)
{
    return &ctx->core;
}

/* dance_prov_get0_libctx - see dance_prov.h. */
OSSL_LIB_CTX *dance_prov_get0_libctx(const dance_prov_ctx *ctx)
{
    return ctx->libctx;
}

/* Counters an application may read with OSSL_PROVIDER_get_params. */
#define STAT(name) OSSL_PARAM_DEFN(name, OSSL_PARAM_UNSIGNED_INTEGER, NULL, 0)

static const OSSL_PARAM *prov_gettable_params(void *provctx)
{
    static const OSSL_PARAM params[] = {
        OSSL_PARAM_DEFN(OSSL_PROV_PARAM_NAME, OSSL_PARAM_UTF8_PTR, NULL, 0),
        OSSL_PARAM_DEFN(OSSL_PROV_PARAM_VERSION, OSSL_PARAM_UTF8_PTR, NULL, 0),
        OSSL_PARAM_DEFN(OSSL_PROV_PARAM_BUILDINFO, OSSL_PARAM_UTF8_PTR, NULL,
                        0),
        OSSL_PARAM_DEFN(OSSL_PROV_PARAM_STATUS, OSSL_PARAM_INTEGER, NULL, 0),
        STAT("dance-lookups"),
        STAT("dance-cache-hits"),
        STAT("dance-cache-misses"),
        STAT("dance-cache-entries"),
        STAT("dance-queries-udp"),
        STAT("dance-queries-tcp"),
        STAT("dance-jobs-immediate"),
        STAT("dance-jobs-queued"),
        STAT("dance-jobs-shared"),
        STAT("dance-refreshes"),
        STAT("dance-joiner-runs"),
        STAT("dance-prewarmed"),
        STAT("dance-prewarm-handed-over"),
        OSSL_PARAM_END};

    (void)provctx;
    return params;
}

/* set_stats - the resolver's and the lookup pool's counters. */
static int set_stats(const dance_prov_ctx *ctx, OSSL_PARAM params[])
{
    static const char *const names[] = {"dance-lookups",
                                        "dance-cache-hits",
                                        "dance-cache-misses",
                                        "dance-cache-entries",
                                        "dance-queries-udp",
                                        "dance-queries-tcp",
                                        "dance-jobs-immediate",
                                        "dance-jobs-queued",
                                        "dance-jobs-shared",
                                        "dance-refreshes",
                                        "dance-joiner-runs",
                                        "dance-prewarmed",
                                        "dance-prewarm-handed-over"};
    dance_res_stats rs;
    dance_async_stats as;
    uint64_t got[13];

    _Static_assert(sizeof(names) / sizeof(names[0]) ==
                       sizeof(got) / sizeof(got[0]),
                   "a value for every name");

    if (ctx == NULL || ctx->rt == NULL || ctx->rt->ext.res == NULL)
        return 1;
    dance_res_get_stats(ctx->rt->ext.res, &rs);
    dance_async_get_stats(ctx->rt->ext.async, &as);
    got[0] = rs.lookups;
    got[1] = rs.cache.hits;
    got[2] = rs.cache.misses;
    got[3] = rs.cache.entries;
    got[4] = rs.udp_queries;
    got[5] = rs.tcp_queries;
    got[6] = as.immediate;
    got[7] = as.queued;
    got[8] = as.shared;
    got[9] = as.refreshes;
    got[10] = as.joiner_runs;
    got[11] = as.prewarmed;
    got[12] = as.prewarm_handed_over;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        OSSL_PARAM *p = OSSL_PARAM_locate(params, names[i]);

        if (p != NULL && !OSSL_PARAM_set_uint64(p, got[i]))
            return 0;
    }
    return 1;
}

/* prov_get_params - name, version, build info, status and counters. */
static int prov_get_params(void *provctx, OSSL_PARAM params[])
{
    OSSL_PARAM *p;

    if (!set_stats(provctx, params))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME);
    if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, DANCE_PROV_NAME))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION);
    if (p != NULL && !OSSL_PARAM_set_utf8_ptr(p, DANCE_VERSION))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_BUILDINFO);
    if (p != NULL &&
        !OSSL_PARAM_set_utf8_ptr(p, "dance-provider " DANCE_VERSION
                                    ", built against " OPENSSL_VERSION_TEXT))
        return 0;
    p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS);
    if (p != NULL && !OSSL_PARAM_set_int(p, 1))
        return 0;
    return 1;
}

/* prov_query - the operations this provider implements. */
static const OSSL_ALGORITHM *prov_query(void *provctx, int operation_id,
                                        int *no_cache)
{
    static const OSSL_ALGORITHM stores[] = {
        {"dnssec", "provider=dance", dance_store_functions,
         "keys published in DNSSEC-signed IPSECKEY records (dnssec:<name>)"},
        {NULL, NULL, NULL, NULL}};

    (void)provctx;
    *no_cache = 0;
    return operation_id == OSSL_OP_STORE ? stores : NULL;
}

static const OSSL_ITEM *prov_reason_strings(void *provctx)
{
    static const OSSL_ITEM reasons[] = {
        {DANCE_R_BAD_CONFIG, "bad dance provider configuration"},
        {DANCE_R_INIT_FAILED, "dance provider initialisation failed"},
        {DANCE_R_BAD_URI, "unusable dnssec: URI"},
        {DANCE_R_NO_KEY, "no DNSSEC-validated key for a dnssec: URI"},
        {0, NULL}};

    (void)provctx;
    return reasons;
}

/* prov_teardown - the provider is unloaded: stop hooking new SSL_CTXs. The
 * runtime stays, since SSL_CTXs made meanwhile may still use it. */
static void prov_teardown(void *provctx)
{
    dance_prov_ctx *ctx = provctx;

    dance_ext_uninstall();
    OSSL_LIB_CTX_free(ctx->libctx);
    free(ctx);
}

static const OSSL_DISPATCH prov_dispatch[] = {
    {OSSL_FUNC_PROVIDER_TEARDOWN, (void (*)(void))prov_teardown},
    {OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*)(void))prov_gettable_params},
    {OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void))prov_get_params},
    {OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void))prov_query},
    {OSSL_FUNC_PROVIDER_GET_REASON_STRINGS,
     (void (*)(void))prov_reason_strings},
    {0, NULL}};

/* ---- activation --------------------------------------------------------- */

/* check_section_keys - refuse keys of our section that nobody reads: a
 * misspelt "clientauth = require" must not leave require mode off. The
 * core only hands a provider the keys it asks for, so the section is read
 * again from the file the process loaded (OPENSSL_CONF, or the default
 * one). When that file or our section cannot be found (an application
 * that loads another file itself), there is nothing to check. Names the
 * settings' source in source: "[section] (provider NAME)", or "provider
 * NAME" when the section cannot be found. */
static int check_section_keys(const dance_core *core, char *source,
                              size_t srclen, char *err, size_t errlen)
{
    const char *prov_name = NULL, *sect = NULL, *unknown;
    OSSL_PARAM params[2];
    char *path = NULL;
    CONF *conf = NULL;
    int ok = 1;

    snprintf(source, srclen, "provider dance");
    params[0] = OSSL_PARAM_construct_utf8_ptr(OSSL_PROV_PARAM_CORE_PROV_NAME,
                                              (char **)&prov_name, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (!core->get_params(core->handle, params) || prov_name == NULL)
        return 1;
    snprintf(source, srclen, "provider %s", prov_name);
    path = getenv("OPENSSL_CONF") != NULL
               ? OPENSSL_strdup(getenv("OPENSSL_CONF"))
               : CONF_get1_default_config_file();
    ERR_set_mark();
    conf = NCONF_new(NULL);
    if (path == NULL || conf == NULL || NCONF_load(conf, path, NULL) <= 0 ||
        (sect = dance_activate_find_section(conf, prov_name)) == NULL)
        goto done;
    snprintf(source, srclen, "[%s] (provider %s)", sect, prov_name);
    if ((unknown = dance_activate_unknown_key(conf, sect)) != NULL) {
        dance_activate_unknown_key_error(unknown, sect, path, err, errlen);
        ok = 0;
    }
done:
    ERR_pop_to_mark();
    NCONF_free(conf);
    OPENSSL_free(path);
    return ok;
}

/* Values of our keys as the core returned them (borrowed, init only),
 * indexed like dance_config_table. */
typedef struct {
    const char *values[DANCE_CONFIG_MAX_KEYS];
} config_values;

/* value_of - dance_config_get_fn over config_values. */
static const char *value_of(const char *key, void *arg)
{
    const config_values *v = arg;
    const dance_config_key *k = dance_config_key_find(key);

    return k != NULL ? v->values[k - dance_config_table] : NULL;
}

/* read_config - every key of our openssl.cnf section, through the core;
 * source names the section (also when the configuration is refused). */
static int read_config(const dance_core *core, dance_config *cfg, char *source,
                       size_t srclen, char *err, size_t errlen)
{
    OSSL_PARAM params[DANCE_CONFIG_MAX_KEYS];
    config_values v;
    size_t n = 0;

    snprintf(source, srclen, "provider dance");
    memset(&v, 0, sizeof(v));
    for (; dance_config_table[n].name != NULL && n + 1 < DANCE_CONFIG_MAX_KEYS;
         n++)
        params[n] = OSSL_PARAM_construct_utf8_ptr(
            (char *)dance_config_table[n].name, (char **)&v.values[n], 0);
    params[n] = OSSL_PARAM_construct_end();
    if (core->get_params == NULL || !core->get_params(core->handle, params)) {
        snprintf(err, errlen, "cannot read the provider's configuration");
        return 0;
    }
    if (!check_section_keys(core, source, srclen, err, errlen))
        return 0;
    if (!dance_config_load(cfg, value_of, &v, err, errlen))
        return 0;
    if (!dance_activate_check_settings(cfg, err, errlen)) {
        dance_config_clear(cfg);
        return 0;
    }
    cfg->source = strdup(source);
    if (cfg->source == NULL) {
        snprintf(err, errlen, "out of memory");
        dance_config_clear(cfg);
        return 0;
    }
    return 1;
}

/* keep_resident - never unload this module: SSL_CTXs point into it. */
static void keep_resident(void)
{
    Dl_info info;

    if (dladdr((void *)keep_resident, &info) != 0 && info.dli_fname != NULL)
        (void)dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
}

/* start_stats - the stats file, if the configuration asks for one. The
 * counters are not a security setting: a failure is logged, and the
 * module runs on. */
static void start_stats(const prov_runtime *rt)
{
    char err[300];

    if (rt->cfg.stats_file != NULL &&
        !dance_stats_start(rt->cfg.stats_file, rt->ext.res, rt->ext.async, err,
                           sizeof(err)))
        dance_log(DANCE_LOG_WARN, "no stats file: %s", err);
}

/* set_population - the ClientNames of prewarm_file (if set), read and
 * checked as `dance check-config` does, warmed by the lookup pool from the
 * process's first server handshake on. Returns 1, or 0 with the refusal
 * in err. */
static int set_population(prov_runtime *rt, char *err, size_t errlen)
{
    dance_activate_population pop;
    int ok;

    if (!dance_activate_prewarm(&rt->cfg, &pop, err, errlen))
        return 0;
    if (rt->cfg.prewarm_file == NULL)
        return 1;
    ok = dance_async_set_prewarm(rt->ext.async, (const char *const *)pop.owners,
                                 pop.n, LDNS_RR_TYPE_TLSA);
    if (!ok)
        snprintf(err, errlen, "out of memory");
    else
        dance_log(DANCE_LOG_INFO,
                  "prewarm_file %s: %zu ClientNames, warmed from the first "
                  "server handshake of each process on",
                  rt->cfg.prewarm_file, pop.n);
    dance_activate_population_clear(&pop);
    return ok;
}

/* runtime_get - the process's runtime, built from cfg on first use (cfg
 * is then owned by it; otherwise the caller keeps and clears it). */
static prov_runtime *runtime_get(dance_config *cfg, int *took_cfg, char *err,
                                 size_t errlen)
{
    prov_runtime *rt = NULL;

    *took_cfg = 0;
    pthread_mutex_lock(&runtime_lock);
    if (runtime != NULL && runtime->ext.fatal != NULL) {
        snprintf(err, errlen, "%s", runtime->ext.fatal);
        goto done;
    }
    if (runtime != NULL) {
        /* A later activation (the module in two sections, another library
         * context, or after an unload). */
        if (!dance_activate_second(&runtime->cfg, cfg, err, errlen))
            goto done;
        rt = runtime;
        if (!dance_ext_install(&rt->ext, err, errlen))
            rt = NULL;
        goto done;
    }
    if (!dance_log_configure(cfg->log_level, cfg->log_file, err, errlen))
        goto done;
    rt = calloc(1, sizeof(*rt));
    if (rt == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    rt->cfg = *cfg;
    dance_config_policy(&rt->cfg, &rt->ext.policy);
    rt->ext.res = dance_activate_resolver(&rt->cfg, err, errlen);
    rt->ext.async =
        rt->ext.res != NULL
            ? dance_async_new(rt->ext.res, DANCE_ASYNC_DEFAULT_THREADS)
            : NULL;
    if (rt->ext.async == NULL) {
        if (rt->ext.res != NULL)
            snprintf(err, errlen, "out of memory");
        dance_res_free(rt->ext.res);
        free(rt);
        rt = NULL;
        goto done;
    }
    if (!set_population(rt, err, errlen) ||
        !dance_ext_install(&rt->ext, err, errlen)) {
        dance_async_free(rt->ext.async);
        dance_res_free(rt->ext.res);
        free(rt);
        rt = NULL;
        goto done;
    }
    *took_cfg = 1;
    runtime = rt;
    keep_resident();
    start_stats(rt);
    {
        char summary[300];

        dance_log(DANCE_LOG_INFO, "active: %s (from %s)",
                  dance_config_summary(&rt->cfg, summary, sizeof(summary)),
                  rt->cfg.source != NULL ? rt->cfg.source : "?");
    }
done:
    pthread_mutex_unlock(&runtime_lock);
    return rt;
}

/* fail_closed - the configuration was refused: make every TLS handshake
 * in the process fail, naming the reason, rather than let the application
 * run without the security it configured (OpenSSL 3.0 carries on when a
 * provider from openssl.cnf fails to activate). */
static void fail_closed(const char *why)
{
    static prov_runtime refused; /* under runtime_lock, set once */
    static char reason[900];
    char err[200];

    pthread_mutex_lock(&runtime_lock);
    if (runtime == NULL || runtime->ext.fatal == NULL)
        snprintf(reason, sizeof(reason), "dance provider configuration: %s",
                 why);
    if (runtime == NULL) {
        refused.ext.fatal = reason;
        runtime = &refused;
        keep_resident(); /* before returning failure: libcrypto unloads us */
    } else if (runtime->ext.fatal == NULL) {
        /* A later activation was refused (a bad value, or settings that
         * differ from the first): running on with the first settings
         * would ignore what it asked for. SSL_CTXs made from now on
         * refuse every handshake. */
        __atomic_store_n(&runtime->ext.fatal, reason, __ATOMIC_RELEASE);
    }
    if (runtime->ext.fatal != NULL &&
        !dance_ext_install(&runtime->ext, err, sizeof(err)))
        dance_log(DANCE_LOG_ERROR, "cannot fail closed: %s", err);
    pthread_mutex_unlock(&runtime_lock);
}

/* OSSL_provider_init - the module's only exported symbol. */
__attribute__((visibility("default"))) int
OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                   const OSSL_DISPATCH **out, void **provctx);

int OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in,
                       const OSSL_DISPATCH **out, void **provctx)
{
    dance_core core = {.handle = handle};
    const OSSL_DISPATCH *fn;
    dance_prov_ctx *ctx = NULL;
    dance_config cfg;
    char err[600], source[300];
    int took_cfg = 0;

    for (fn = in; fn != NULL && fn->function_id != 0; fn++) {
        switch (fn->function_id) {
        case OSSL_FUNC_CORE_GET_PARAMS:
            core.get_params = OSSL_FUNC_core_get_params(fn);
            break;
        case OSSL_FUNC_CORE_NEW_ERROR:
            core.new_error = OSSL_FUNC_core_new_error(fn);
            break;
        case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
            core.set_error_debug = OSSL_FUNC_core_set_error_debug(fn);
            break;
        case OSSL_FUNC_CORE_VSET_ERROR:
            core.vset_error = OSSL_FUNC_core_vset_error(fn);
            break;
        default:
            break;
        }
    }
    if (!read_config(&core, &cfg, source, sizeof(source), err, sizeof(err))) {
        char why[820];

        snprintf(why, sizeof(why), "%.200s: %.600s", source, err);
        DANCE_RAISE(&core, DANCE_R_BAD_CONFIG,
                    "dance provider not activated, TLS disabled: %s", why);
        fail_closed(why);
        return 0;
    }
    ctx = calloc(1, sizeof(*ctx));
    if (ctx == NULL) {
        dance_config_clear(&cfg);
        DANCE_RAISE(&core, DANCE_R_INIT_FAILED, "out of memory");
        return 0;
    }
    ctx->handle = handle;
    ctx->core = core;
    ctx->rt = runtime_get(&cfg, &took_cfg, err, sizeof(err));
    if (!took_cfg)
        dance_config_clear(&cfg);
    if (ctx->rt == NULL) {
        free(ctx);
        DANCE_RAISE(&core, DANCE_R_INIT_FAILED,
                    "dance provider not activated, TLS disabled: %s", err);
        fail_closed(err);
        return 0;
    }
    ctx->libctx = OSSL_LIB_CTX_new_child(handle, in);
    *out = prov_dispatch;
    *provctx = ctx;
    return 1;
}
