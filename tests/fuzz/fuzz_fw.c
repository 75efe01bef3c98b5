/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fuzz_fw.c - libFuzzer target for every reader of hostile firmware-key
 * input: SUIT envelopes and manifests, COSE_Sign1, rollover manifests and
 * their extension, IPSECKEY RDATA.  The first input octet picks the reader
 * so one corpus covers them all; nothing may crash, leak or read out of
 * bounds (built with ASan and UBSan).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "dance_cose.h"
#include "dance_ipseckey.h"
#include "dance_rollover.h"
#include "dance_suit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* fuzz_ipseckey - RDATA parse and key construction. */
static void fuzz_ipseckey(const uint8_t *data, size_t size)
{
    dance_ipseckey k;
    EVP_PKEY *pkey = NULL;
    char err[256];

    if (dance_ipseckey_parse(data, size, &k, err, sizeof(err)) ==
        DANCE_IPSECKEY_OK) {
        dance_ipseckey_to_pkey(NULL, &k, NULL, &pkey, err, sizeof(err));
        EVP_PKEY_free(pkey);
    }
}

/* LLVMFuzzerTestOneInput - run the reader the first octet selects. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dance_suit_envelope *env = NULL;
    dance_cose_sign1 *msg = NULL;
    dance_rollover_info info;
    dance_suit_info sinfo;
    EVP_PKEY *nk = NULL;
    char err[512];

    if (size < 1)
        return 0;
    switch (data[0] % 5) {
    case 0:
        dance_suit_envelope_decode(data + 1, size - 1, &env, err, sizeof(err));
        dance_suit_envelope_free(env);
        break;
    case 1:
        dance_suit_manifest_parse(data + 1, size - 1, &sinfo, err, sizeof(err));
        dance_suit_info_clear(&sinfo);
        break;
    case 2:
        dance_cose_sign1_decode(data + 1, size - 1, &msg, err, sizeof(err));
        dance_cose_sign1_free(msg);
        break;
    case 3:
        dance_rollover_decode(data + 1, size - 1, &info, &nk, err, sizeof(err));
        dance_rollover_info_clear(&info);
        EVP_PKEY_free(nk);
        break;
    default:
        fuzz_ipseckey(data + 1, size - 1);
        break;
    }
    return 0;
}
