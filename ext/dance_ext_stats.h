/*
 * dance_ext_stats.h - counters of the SSL hooks' decisions: how many peers
 * were accepted, refused, or left to the application, and why.
 *
 * A decision is counted where it is logged (log_verdict in dance_ext.c),
 * once per handshake that reaches one. The counters are process-wide
 * atomics: counting costs one relaxed atomic add, no lock; a snapshot is
 * a set of relaxed loads (each counter exact, the set not one instant).
 */
#ifndef DANCE_EXT_STATS_H
#define DANCE_EXT_STATS_H

#include <stdint.h>

/* Whose verdict: the server judging a client, or the client a server. */
typedef enum {
    DANCE_STATS_CLIENTS = 0, /* server role: client_auth */
    DANCE_STATS_SERVERS,     /* client role: server_dane */
    DANCE_STATS_ROLES
} dance_stats_role;

typedef enum {
    DANCE_DECISION_NONE = -1,    /* a line that is not a final decision */
    DANCE_DECISION_ACCEPTED = 0, /* authenticated by DANE */
    DANCE_DECISION_REFUSED,      /* the handshake fails (or is closed) */
    DANCE_DECISION_FALLBACK,     /* not by DANE; the application's own
                                    verification decides (optional,
                                    opportunistic) */
    DANCE_DECISIONS
} dance_decision;

typedef enum {
    DANCE_REASON_DANE = 0,       /* accepted: DANE in this handshake */
    DANCE_REASON_RESUMED,        /* accepted: a session DANE authenticated */
    DANCE_REASON_NO_EXTENSION,   /* the client sent no dane_clientid */
    DANCE_REASON_NO_CERTIFICATE, /* require: the client sent no
                                    certificate (libssl refused it) */
    DANCE_REASON_TLS12,          /* no dane_clientid, in TLS 1.2 under the
                                    draft (client-auth) profile, which has
                                    no place for it there */
    DANCE_REASON_NO_NAME,        /* no ClientName and no usable dNSName */
    DANCE_REASON_BAD_NAME,       /* malformed, inconsistent or a server's
                                    TLSA owner name */
    DANCE_REASON_NOT_ALLOWED,    /* name not on the allow list */
    DANCE_REASON_NO_SNI,         /* client role: no SNI name or no socket */
    DANCE_REASON_NO_TLSA,        /* secure-nodata or secure-nxdomain */
    DANCE_REASON_INSECURE,       /* the zone is proven unsigned */
    DANCE_REASON_BOGUS,          /* DNSSEC validation failed */
    DANCE_REASON_INDETERMINATE,  /* no usable answer (SERVFAIL, queue full,
                                    failing zone, ...) */
    DANCE_REASON_TIMEOUT,        /* no answer within timeout_ms */
    DANCE_REASON_KEY_MISMATCH,   /* secure TLSA RRset, but no record
                                    authenticates the certificate */
    DANCE_REASON_IDENTITY,       /* identity_check = strict failed */
    DANCE_REASON_RESUMPTION,     /* a session that may not resume */
    DANCE_REASON_INTERNAL,       /* cannot enforce (out of memory, an SSL
                                    without the module's hooks, bypassed
                                    verification) */
    DANCE_REASONS
} dance_reason;

typedef struct {
    uint64_t count[DANCE_STATS_ROLES][DANCE_DECISIONS][DANCE_REASONS];
} dance_ext_stats;

/* dance_ext_stats_count - one decision (d NONE, or out of range: nothing). */
void dance_ext_stats_count(dance_stats_role role, dance_decision d,
                           dance_reason r);

/* dance_ext_stats_get - a snapshot of every counter into out. */
void dance_ext_stats_get(dance_ext_stats *out);

/* dance_ext_decision_str - "accepted", "refused" or "fallback". */
const char *dance_ext_decision_str(dance_decision d);

/* dance_ext_reason_str - "dane", "no_name", "key_mismatch", ... (Prometheus
 * label values: lower case, digits and underscores). */
const char *dance_ext_reason_str(dance_reason r);

/* dance_ext_reason_of_status - the reason for a lookup that did not give a
 * secure TLSA RRset: status is a dance_res_status, timed_out whether the
 * answer came too late (dance_res_job_timed_out). */
dance_reason dance_ext_reason_of_status(int status, int timed_out);

#endif /* DANCE_EXT_STATS_H */
