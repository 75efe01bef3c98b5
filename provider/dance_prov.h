/*
 * dance_prov.h - what the dance provider's operations may ask of it.
 *
 * The provider context is created by OSSL_provider_init (dance_prov.c) and
 * handed to every operation (the "dnssec:" store loader, ...) as provctx.
 */
#ifndef DANCE_PROV_H
#define DANCE_PROV_H

#include <openssl/core.h>
#include <openssl/e_os2.h>
#include <openssl/types.h>

#include "dance_res.h"

typedef struct dance_prov_ctx dance_prov_ctx;

/* Reason codes of the errors the provider raises (the text of each is in
 * dance_prov.c's reason strings). */
enum {
    DANCE_R_BAD_CONFIG = 1, /* a setting was refused: module not active */
    DANCE_R_INIT_FAILED,    /* activation failed (memory, resolver, hooks) */
    DANCE_R_BAD_URI,        /* a dnssec: store URI that cannot be used */
    DANCE_R_NO_KEY          /* no DNSSEC-validated key for a dnssec: URI */
};

/* What libcrypto's core gave the provider to raise errors with. */
typedef struct dance_core dance_core;

/* dance_prov_core - the core functions of ctx's provider; borrowed. */
const dance_core *dance_prov_core(const dance_prov_ctx *ctx);

/*
 * dance_core_raise - log fmt at error level and put it on the calling
 * thread's OpenSSL error queue under the provider's name with reason (one
 * of DANCE_R_*), recorded at file:line in func. Use DANCE_RAISE.
 */
void dance_core_raise(const dance_core *core, int reason, const char *file,
                      int line, const char *func, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* DANCE_RAISE - dance_core_raise at the caller's own location. */
#define DANCE_RAISE(core, reason, ...)                                         \
    dance_core_raise((core), (reason), OPENSSL_FILE, OPENSSL_LINE,             \
                     OPENSSL_FUNC, __VA_ARGS__)

/*
 * dance_prov_get0_res - the process's DNSSEC resolver, configured from the
 * provider's openssl.cnf section; borrowed, lives as long as the process.
 */
dance_res *dance_prov_get0_res(const dance_prov_ctx *ctx);

/* dance_prov_get0_libctx - the library context the provider was loaded in. */
OSSL_LIB_CTX *dance_prov_get0_libctx(const dance_prov_ctx *ctx);

#endif /* DANCE_PROV_H */
