/*
 * dance_fw.h - what the firmware-key modules (dance_cbor, dance_cose,
 * dance_suit, dance_rollover, dance_keystore) share: one status enum with
 * reason strings, key-id rules, and bounded file reading.
 */
#ifndef DANCE_FW_H
#define DANCE_FW_H

#include <stddef.h>
#include <stdint.h>

/* Outcomes of parsing and verifying manifests; each failure comes with a
 * "why" string from the function that returned it. */
typedef enum {
    DANCE_FW_OK = 0,
    DANCE_FW_MALFORMED,       /* not the CBOR structure expected */
    DANCE_FW_UNSUPPORTED,     /* algorithm, key type or version */
    DANCE_FW_BAD_SIGNATURE,   /* a signature does not verify */
    DANCE_FW_DIGEST_MISMATCH, /* a digest does not match its data */
    DANCE_FW_KEY_MISMATCH,    /* alg vs key, new key vs DNS, kid vs main */
    DANCE_FW_DNS,             /* key lookup not DNSSEC-secure or absent */
    DANCE_FW_NONCE,           /* nonce is not the one the device issued */
    DANCE_FW_INTERNAL         /* out of memory, OpenSSL failure, I/O */
} dance_fw_status;

/* dance_fw_status_str - a constant name for st ("ok", "malformed", ...). */
const char *dance_fw_status_str(dance_fw_status st);

/*
 * dance_fw_kid_valid - 1 if kid (len octets) is usable as a key id: one DNS
 * label of 1..63 letters, digits, '-' or '_'; 0 otherwise.
 */
int dance_fw_kid_valid(const uint8_t *kid, size_t len);

/* Largest CBOR file the tools read (manifests are small). */
#define DANCE_FW_MAX_CBOR (1024 * 1024)

/*
 * dance_fw_read_file - read all of path ("-" for stdin) into *data (caller
 * frees with free()), at most max octets.  Returns DANCE_FW_OK, or
 * DANCE_FW_INTERNAL with err naming the file and the problem.
 */
dance_fw_status dance_fw_read_file(const char *path, size_t max, uint8_t **data,
                                   size_t *len, char *err, size_t errlen);

/*
 * dance_fw_hex_decode - decode hex (even length, no separators) into a new
 * buffer *out (caller frees with free()).  Returns 0 or -1 on bad input.
 */
int dance_fw_hex_decode(const char *hex, uint8_t **out, size_t *len);

#endif /* DANCE_FW_H */
