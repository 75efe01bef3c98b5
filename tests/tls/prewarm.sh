#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# prewarm.sh - issue 14, a known population warmed (openssl.cnf
# prewarm_file): an unmodified `openssl s_server` with client_auth =
# require and a file of three client names, against the real DNS world:
#
#   _client.device1.example.test     TLSA 3 1 1 (device1's key)
#   _client.rsa-device.example.test  TLSA 3 1 1 (rsa's key)
#   _client.norecord.example.test    no record at all (NXDOMAIN)
#
# and device1.example.test (TLSA 3 1 1, device1's key) NOT in the file.
# Proved with the counters of the server's stats file (rewritten every
# 5 s), not with the log:
#  - nothing is looked up before the first handshake (warming starts
#    with the process's first server handshake);
#  - after a first client (device1), the other listed names are looked up
#    by the warmer (dance_prewarm_lookups_total) without any client
#    asking for them;
#  - the other listed client (rsa-device) then connects and is
#    authenticated from the cache: no DNS query at all for its handshake;
#  - a listed name without a TLSA record is refused (listing admits
#    nobody), from the cached proof of absence: no query either;
#  - a listed name presenting a key its record does not match is refused;
#  - a name not in the file is looked up when its client connects, and
#    authenticated as without the file.
# Fails on the code before prewarm_file (the key is unknown: the provider
# refuses to activate and every handshake fails).
#
#   prewarm.sh BUILD_DIR
set -uo pipefail
# shellcheck source=tests/tls/lib.sh
. "$(dirname "$0")/lib.sh"
tls_init "$@"
tls_world_start 1

STATS=$TMP/stats
mkdir -p "$STATS"
cat >"$TMP/clients.txt" <<'EOF'
# the fleet this server expects
_client.device1.example.test
  _client.rsa-device.example.test   # blanks around a name are trimmed

_client.norecord.example.test
_client.device1.example.test
EOF
# cache_negative_ttl = 300 (the zone's negative TTL): no renewal of the
# proof of absence while the test runs, so any new query is a handshake's.
tls_conf srv client_auth=require 'allow=*.example.test' \
    prewarm_file="$TMP/clients.txt" stats_file="$STATS/srv.prom" \
    cache_negative_ttl=300
tls_require_provider srv
for c in device1:_client.device1.example.test \
    rsa:_client.rsa-device.example.test \
    norecord:_client.norecord.example.test \
    unlisted:device1.example.test; do
    tls_conf "cli-${c%%:*}" "client_name=${c#*:}" client_auth=off
done

tls_server_start srv srv
SRV_PID=${TLS_SERVER_PID[srv]}
PROM=$STATS/srv.$SRV_PID.prom

# stat METRIC [LABELS] - the sum of METRIC's samples (with LABELS, e.g.
# 'served="cache"') in the server's stats file as it is now.
stat() {
    awk -v m="$1" -v l="${2:-}" '
        index($0, m "{") == 1 && (l == "" || index($0, l) > 0) { s += $NF }
        END { print s + 0 }' "$PROM" 2>/dev/null || echo 0
}

# queries - DNS queries the server has sent (UDP and TCP).
queries() {
    stat dance_dns_queries_total
}

# next_write - wait (at most ~12 s) until the stats file is written again
# (its timestamp changes); 1 if it was not.
next_write() {
    local before now i
    before=$(stat dance_stats_timestamp_seconds)
    for ((i = 0; i < 120; i++)); do
        now=$(stat dance_stats_timestamp_seconds)
        [ -f "$PROM" ] && [ "$now" != "$before" ] && return 0
        sleep 0.1
    done
    return 1
}

# check WHAT OK - pass WHAT if OK is 1 (an arithmetic test's result);
# else fail, showing the counters.
check() {
    if [ "$2" = 1 ]; then
        tls_pass "$1"
    else
        tls_fail "$1" "$(grep -E '^dance_(prewarm|dns_queries|lookup_starts)' \
            "$PROM" 2>/dev/null | tr '\n' ' ')"
    fi
}

# 1. Before any handshake: nothing asked.
next_write || tls_die "the stats file $PROM is not written"
P0=$(stat dance_prewarm_lookups_total)
Q0=$(queries)
check "no lookup before the first handshake (prewarmed $P0, queries $Q0)" \
    $((P0 == 0 && Q0 == 0))

# 2. The first client: warming starts.
# shellcheck disable=SC2046
tls_case "a listed client (device1) is authenticated" authenticated srv \
    cli-device1 $(tls_cert device1)
# The warmer looks up the other two listed names (device1's own lookup
# may be the warmer's or the handshake's): wait until the stats file
# shows them, then for one more write, so that every query of those
# lookups is in it.
for ((i = 0; i < 4; i++)); do
    next_write || break
    [ "$(stat dance_prewarm_lookups_total)" -ge 2 ] && break
done
next_write
WARMED=$(stat dance_prewarm_lookups_total)
Q1=$(queries)
CACHE1=$(stat dance_lookup_starts_total 'served="cache"')
check "the listed names are warmed after the first handshake (prewarmed $WARMED, queries $Q1)" \
    $((WARMED >= 2 && Q1 > 0))
check "no listed name was handed over (the batch was answered)" \
    $(($(stat dance_prewarm_handed_over_total) == 0))

# 3. The other listed client, which nothing asked for before: from the
# cache, no query.
# shellcheck disable=SC2046
tls_case "the other listed client (rsa-device) is authenticated" \
    authenticated srv cli-rsa $(tls_cert rsa)
next_write
Q2=$(queries)
CACHE2=$(stat dance_lookup_starts_total 'served="cache"')
check "its handshake sent no DNS query (queries $Q1 -> $Q2)" $((Q2 == Q1))
check "its lookup was answered from the cache (cache starts $CACHE1 -> $CACHE2)" \
    $((CACHE2 > CACHE1))

# 4. Listing a name admits nobody.
# shellcheck disable=SC2046
tls_case "a listed name without a TLSA record is refused" rejected srv \
    cli-norecord $(tls_cert device1)
# shellcheck disable=SC2046
tls_case "a listed name with a key its record does not match is refused" \
    rejected srv cli-rsa $(tls_cert wrong)
next_write
Q3=$(queries)
check "the refusals came from the warmed answers (queries $Q2 -> $Q3)" \
    $((Q3 == Q2))
NOTLSA=$(stat dance_clients_total 'decision="refused",reason="no_tlsa"')
MISMATCH=$(stat dance_clients_total 'decision="refused",reason="key_mismatch"')
check "refused for no TLSA ($NOTLSA) and a key mismatch ($MISMATCH)" \
    $((NOTLSA == 1 && MISMATCH == 1))

# 5. A name not in the file: looked up on demand, as without the file.
# shellcheck disable=SC2046
tls_case "a client not in the file is authenticated" authenticated srv \
    cli-unlisted $(tls_cert device1)
next_write
Q4=$(queries)
check "its lookup went to DNS when it connected (queries $Q3 -> $Q4)" \
    $((Q4 > Q3))
check "the warmer did not look it up (prewarmed still $WARMED)" \
    $(($(stat dance_prewarm_lookups_total) == WARMED))

tls_server_stop srv
tls_server_clean srv
tls_done
