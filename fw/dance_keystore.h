/*
 * dance_keystore.h - the vendor's key store in DNS, as the update server
 * sees it: `<kid>.<zone>` holds one IPSECKEY record per key id, and
 * `main.<zone>` is a CNAME to the current key's name.  Every answer must be
 * DNSSEC-secure (dance_ipseckey_fetch); a failure names the step.
 */
#ifndef DANCE_KEYSTORE_H
#define DANCE_KEYSTORE_H

#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>

#include "dance_fw.h"
#include "dance_res.h"

/*
 * dance_keystore_current - the key id that main.<zone> points to (*kid,
 * caller frees with free()) and its key (*pkey, caller frees with
 * EVP_PKEY_free).  The target must be a direct child of zone.
 */
dance_fw_status dance_keystore_current(dance_res *res, const char *zone,
                                       time_t now, char **kid, EVP_PKEY **pkey,
                                       char *err, size_t errlen);

/*
 * dance_keystore_key - the key published at <kid>.<zone> (*pkey, caller
 * frees with EVP_PKEY_free).  The name must hold the key itself.
 */
dance_fw_status dance_keystore_key(dance_res *res, const char *zone,
                                   const char *kid, time_t now, EVP_PKEY **pkey,
                                   char *err, size_t errlen);

#endif /* DANCE_KEYSTORE_H */
