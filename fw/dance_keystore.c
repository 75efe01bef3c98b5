/*
 * dance_keystore.c - the vendor's DNS key store (see dance_keystore.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dance_ipseckey.h"
#include "dance_msg.h"
#include "dance_keystore.h"

/* zone_name - zone lower-cased without a trailing dot, in buf. */
static int zone_name(const char *zone, char *buf, size_t len)
{
    size_t n = strlen(zone), i;

    if (n > 0 && zone[n - 1] == '.')
        n--;
    if (n == 0 || n >= len)
        return -1;
    for (i = 0; i < n; i++)
        buf[i] =
            (char)((zone[i] >= 'A' && zone[i] <= 'Z') ? zone[i] + 32 : zone[i]);
    buf[n] = '\0';
    return 0;
}

/* fetch - dance_ipseckey_fetch with the statuses mapped. */
static dance_fw_status fetch(dance_res *res, const char *name, time_t now,
                             EVP_PKEY **pkey, char **target, char *err,
                             size_t errlen)
{
    switch (dance_ipseckey_fetch(res, name, now, NULL, NULL, pkey, target, err,
                                 errlen)) {
    case DANCE_IPSECKEY_OK:
        return DANCE_FW_OK;
    case DANCE_IPSECKEY_DNS:
        return DANCE_FW_DNS;
    case DANCE_IPSECKEY_MALFORMED:
        return DANCE_FW_MALFORMED;
    case DANCE_IPSECKEY_UNSUPPORTED:
        return DANCE_FW_UNSUPPORTED;
    case DANCE_IPSECKEY_INTERNAL:
        break;
    }
    return DANCE_FW_INTERNAL;
}

/* dance_keystore_current - see dance_keystore.h. */
dance_fw_status dance_keystore_current(dance_res *res, const char *zone,
                                       time_t now, char **kid, EVP_PKEY **pkey,
                                       char *err, size_t errlen)
{
    char z[256], name[300], *target = NULL;
    size_t tl, zl;
    dance_fw_status st;

    *kid = NULL;
    *pkey = NULL;
    if (zone_name(zone, z, sizeof(z)) != 0)
        return DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                          "bad key store zone '%s'", zone);
    snprintf(name, sizeof(name), "main.%s", z);
    st = fetch(res, name, now, pkey, &target, err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    tl = strlen(target);
    zl = strlen(z);
    if (tl <= zl + 1 || target[tl - zl - 1] != '.' ||
        strcmp(target + tl - zl, z) != 0 ||
        memchr(target, '.', tl - zl - 1) != NULL ||
        !dance_fw_kid_valid((const uint8_t *)target, tl - zl - 1)) {
        st = DANCE_FAIL(DANCE_FW_DNS, err, errlen,
                        "%s points to %s, which is not <kid>.%s", name, target,
                        z);
        goto err;
    }
    *kid = strndup(target, tl - zl - 1);
    if (*kid == NULL) {
        st = DANCE_FAIL(DANCE_FW_INTERNAL, err, errlen, "out of memory");
        goto err;
    }
    OPENSSL_free(target);
    return DANCE_FW_OK;

err:
    OPENSSL_free(target);
    EVP_PKEY_free(*pkey);
    *pkey = NULL;
    return st;
}

/* dance_keystore_key - see dance_keystore.h. */
dance_fw_status dance_keystore_key(dance_res *res, const char *zone,
                                   const char *kid, time_t now, EVP_PKEY **pkey,
                                   char *err, size_t errlen)
{
    char z[256], name[330], *target = NULL;
    dance_fw_status st;

    *pkey = NULL;
    if (zone_name(zone, z, sizeof(z)) != 0)
        return DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                          "bad key store zone '%s'", zone);
    if (!dance_fw_kid_valid((const uint8_t *)kid, strlen(kid)))
        return DANCE_FAIL(DANCE_FW_MALFORMED, err, errlen,
                          "key id '%s' is not one DNS label", kid);
    snprintf(name, sizeof(name), "%s.%s", kid, z);
    st = fetch(res, name, now, pkey, &target, err, errlen);
    if (st != DANCE_FW_OK)
        return st;
    if (strcasecmp(target, name) != 0) {
        st = DANCE_FAIL(DANCE_FW_DNS, err, errlen,
                        "%s is an alias of %s; a key id must name its "
                        "key directly",
                        name, target);
        EVP_PKEY_free(*pkey);
        *pkey = NULL;
    }
    OPENSSL_free(target);
    return st;
}
