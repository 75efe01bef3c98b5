/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dance_ext.h - DANE client authentication in every SSL_CTX of the process.
 *
 * dance_ext_install registers an SSL_CTX ex_data "new" callback, so every
 * SSL_CTX the application creates afterwards gets:
 *  - the dane_clientid custom extension (both wire profiles of DESIGN.md
 *    section 2, TLS 1.2 and 1.3),
 *  - a certificate-verify callback, the join point of both roles: the
 *    server authenticates clients by their TLSA records, the client
 *    authenticates servers by theirs (RFC 7671), both through OpenSSL's
 *    own DANE engine,
 *  - a session-ticket decryption callback that resumes a DANE session only
 *    under its ClientName and before its TLSA answer expires;
 * and an SSL ex_data "new" callback, so every SSL gets our per-connection
 * state and a per-SSL info callback (chained to the application's) from
 * which the server policy is enforced after the application's own
 * ClientHello, servername and certificate callbacks have run, and checked
 * again when the handshake is done (DESIGN.md section 3, "the promise").
 * TLSA lookups start as soon as the name is known and are joined in the
 * verify callback.
 */
#ifndef DANCE_EXT_H
#define DANCE_EXT_H

#include <stddef.h>

#include "dance_async.h"
#include "dance_name.h"
#include "dance_policy.h"
#include "dance_res.h"

/* What the hooks work with; lives until the process exits. */
typedef struct {
    /* Non-NULL: the configuration was refused for this reason, and every
     * TLS handshake in the process fails (fail closed) instead of running
     * without the security the configuration asked for. The other members
     * are then unused. */
    const char *fatal;
    dance_policy policy;
    dance_res *res;
    dance_async *async;
} dance_ext_runtime;

/*
 * dance_ext_type_usable - may type carry dane_clientid? Not if libssl
 * handles that extension itself (it would never reach our callbacks, or
 * would break handshakes). Returns 1, or 0.
 */
int dance_ext_type_usable(unsigned int type);

/* Room for a client's TLSA owner name: a ClientName, with client_service
 * prepended to a bare one. */
#define DANCE_EXT_OWNER_MAX (DANCE_NAME_MAX + 80)

/*
 * dance_ext_client_owner - what the server role does with a ClientName
 * name it receives, before any lookup: the same checks (not a server's
 * TLSA owner, a well-formed name, on pol's allow list) and the same
 * mapping to its TLSA owner (client_service). Used to check names the
 * operator lists (prewarm_file) exactly as received ones are. Returns 1
 * with the owner in owner (len bytes, at most DANCE_EXT_OWNER_MAX needed),
 * or 0 with *why (static text) saying why the name would be refused.
 */
int dance_ext_client_owner(const dance_policy *pol, const char *name,
                           char *owner, size_t len, const char **why);

/*
 * dance_ext_install - hook every SSL_CTX created from now on, per rt
 * (borrowed; it must stay valid for the life of the process, since
 * SSL_CTXs hold callbacks that use it). One runtime per process: calls
 * with the same rt are harmless, another rt is refused. Returns 1, or 0
 * with a message in err.
 */
int dance_ext_install(const dance_ext_runtime *rt, char *err, size_t errlen);

/*
 * dance_ext_uninstall - SSL_CTXs created from now on are left alone;
 * existing ones keep their hooks (and rt must still outlive them).
 */
void dance_ext_uninstall(void);

#endif /* DANCE_EXT_H */
