/*
 * dance_prov.h - what the dance provider's operations may ask of it.
 *
 * The provider context is created by OSSL_provider_init (dance_prov.c) and
 * handed to every operation (the "dnssec:" store loader, ...) as provctx.
 */
#ifndef DANCE_PROV_H
#define DANCE_PROV_H

#include <openssl/core.h>
#include <openssl/types.h>

#include "dance_res.h"

typedef struct dance_prov_ctx dance_prov_ctx;

/*
 * dance_prov_get0_res - the process's DNSSEC resolver, configured from the
 * provider's openssl.cnf section; borrowed, lives as long as the process.
 */
dance_res *dance_prov_get0_res(const dance_prov_ctx *ctx);

/* dance_prov_get0_libctx - the library context the provider was loaded in. */
OSSL_LIB_CTX *dance_prov_get0_libctx(const dance_prov_ctx *ctx);

#endif /* DANCE_PROV_H */
