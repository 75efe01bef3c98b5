/*
 * dance_ext_stats.c - counters of the SSL hooks' decisions.
 */
#include "dance_ext_stats.h"

#include <stdatomic.h>

#include "dance_result.h"

/* Process-wide by nature (one set of hooks per process); atomics, so no
 * lock on the handshake path. */
static atomic_uint_fast64_t counts[DANCE_STATS_ROLES][DANCE_DECISIONS]
                                  [DANCE_REASONS];

static const char *const decision_names[] = {"accepted", "refused", "fallback"};

static const char *const reason_names[] = {
    "dane",     "resumed",    "no_extension",  "no_certificate", "tls12",
    "no_name",  "bad_name",   "not_allowed",   "no_sni",         "no_tlsa",
    "insecure", "bogus",      "indeterminate", "timeout",        "key_mismatch",
    "identity", "resumption", "internal"};
_Static_assert(sizeof(reason_names) / sizeof(reason_names[0]) == DANCE_REASONS,
               "a name for every reason");

/* dance_ext_stats_count - see header. */
void dance_ext_stats_count(dance_stats_role role, dance_decision d,
                           dance_reason r)
{
    if ((unsigned)role >= DANCE_STATS_ROLES || d < 0 || d >= DANCE_DECISIONS ||
        (unsigned)r >= DANCE_REASONS)
        return;
    atomic_fetch_add_explicit(&counts[role][d][r], 1, memory_order_relaxed);
}

/* dance_ext_stats_get - see header. */
void dance_ext_stats_get(dance_ext_stats *out)
{
    for (int i = 0; i < DANCE_STATS_ROLES; i++)
        for (int d = 0; d < DANCE_DECISIONS; d++)
            for (int r = 0; r < DANCE_REASONS; r++)
                out->count[i][d][r] = atomic_load_explicit(
                    &counts[i][d][r], memory_order_relaxed);
}

/* dance_ext_decision_str - see header. */
const char *dance_ext_decision_str(dance_decision d)
{
    return d >= 0 && d < DANCE_DECISIONS ? decision_names[d] : "none";
}

/* dance_ext_reason_str - see header. */
const char *dance_ext_reason_str(dance_reason r)
{
    return (unsigned)r < DANCE_REASONS ? reason_names[r] : "unknown";
}

/* dance_ext_reason_of_status - see header. */
dance_reason dance_ext_reason_of_status(int status, int timed_out)
{
    switch (status) {
    case DANCE_RES_SECURE:
        return DANCE_REASON_KEY_MISMATCH;
    case DANCE_RES_SECURE_NODATA:
    case DANCE_RES_SECURE_NXDOMAIN:
        return DANCE_REASON_NO_TLSA;
    case DANCE_RES_INSECURE:
        return DANCE_REASON_INSECURE;
    case DANCE_RES_BOGUS:
        return DANCE_REASON_BOGUS;
    case DANCE_RES_INDETERMINATE:
        return timed_out ? DANCE_REASON_TIMEOUT : DANCE_REASON_INDETERMINATE;
    default:
        return DANCE_REASON_INTERNAL; /* no lookup (out of memory) */
    }
}
