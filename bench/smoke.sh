#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# smoke.sh - correctness-only smoke run of dance-bench (ctest bench.smoke).
#
#   smoke.sh DANCE_BENCH DANCE_SO FAULTPROXY DNSWORLD_SH RELAY
#
# Builds a small PKI and a DNS world, then checks that a baseline run and
# DANE runs (validate and trust-ad, TLS 1.2 and 1.3) complete every
# handshake and that the provider's counters say what happened: a warm run
# answers every handshake from the cache, a cold run queues one lookup per
# new name, a storm of 200 new names is authenticated in full, also beside
# a flood of unknown names, every one of which is refused; bench/run's
# delaying relay relays, holds answers back and drops "silent" names.
# Nothing here measures the handshakes' time.
# The checks are eval'd strings that read $out: single quotes on purpose.
# shellcheck disable=SC2016,SC2034
set -euo pipefail
if [ $# -ne 5 ]; then
    echo "usage: $0 DANCE_BENCH DANCE_SO FAULTPROXY DNSWORLD_SH RELAY" >&2
    exit 2
fi
BENCH=$1 FAULTPROXY=$3 DNSWORLD=$4 RELAY=$5
MODULE=$(realpath "$2") # openssl.cnf resolves relative modules elsewhere
TMP=$(mktemp -d /tmp/dance-bench-smoke.XXXXXX)
RELAY_PID=
trap '[ -z "$RELAY_PID" ] || kill "$RELAY_PID" 2>/dev/null; "$DNSWORLD" stop "$TMP/world" >/dev/null 2>&1 || true; rm -rf "$TMP"' EXIT
fails=0

# check NAME COND - report one assertion (COND is eval'd, so callers quote
# it in single quotes on purpose).
check() {
    if eval "$2"; then
        echo "ok - $1"
    else
        echo "not ok - $1"
        fails=$((fails + 1))
    fi
}

# field LINE KEY - the value of KEY in a result line.
field() {
    tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"
}

# shellcheck source=tests/cnf/cnf.sh
. "$(dirname "$0")/../tests/cnf/cnf.sh"

"$BENCH" pki "$TMP" 440 # 40, then two restart storms of 200 new names
"$DNSWORLD" start "$TMP/world" "$FAULTPROXY" "$TMP/tlsa.rr" >/dev/null 2>&1
# shellcheck disable=SC1091
. "$TMP/world/env"

dance_cnf "$TMP/base.cnf" -
out=$(OPENSSL_CONF=$TMP/base.cnf "$BENCH" run --pki "$TMP" --label base \
    --n 20 --ids 0:4 --expect-dance no)
check "baseline: 20 of 20 handshakes" '[ "$(field "$out" ok)" = 20 ]'

for mode in validate trust-ad; do
    ns=$DW_NSD
    [ $mode = trust-ad ] && ns=$DW_UNBOUND
    dance_cnf "$TMP/$mode.cnf" "$MODULE" client_auth=require \
        "allow=*.example.test" dnssec=$mode "nameservers=$ns" \
        trust_anchor="$DW_ANCHOR" log_level=warn
    # TLS 1.2 has no place for the name in the default (draft) profile: the
    # TLS 1.2 runs speak the legacy hello profile.
    dance_cnf "$TMP/$mode-1.2.cnf" "$MODULE" client_auth=require \
        "allow=*.example.test" dnssec=$mode "nameservers=$ns" \
        trust_anchor="$DW_ANCHOR" log_level=warn profile=hello
    cp "$TMP/$mode.cnf" "$TMP/$mode-1.3.cnf"
    for tls in 1.2 1.3; do
        out=$(OPENSSL_CONF=$TMP/$mode-$tls.cnf "$BENCH" run --pki "$TMP" \
            --label warm --tls $tls --n 20 --ids 0:4 --prewarm \
            --expect-dance yes)
        check "$mode TLS $tls warm: 20 ok, all from the cache" \
            '[ "$(field "$out" ok)" = 20 ] && [ "$(field "$out" immediate)" = 20 ] && [ "$(field "$out" queued)" = 0 ]'
        first=10
        [ $tls = 1.3 ] && first=20
        out=$(OPENSSL_CONF=$TMP/$mode-$tls.cnf "$BENCH" run --pki "$TMP" \
            --label cold --tls $tls --n 10 --ids $first:10 --fresh \
            --chain-warm 0 --expect-dance yes)
        check "$mode TLS $tls cold: 10 ok, one queued lookup each" \
            '[ "$(field "$out" ok)" = 10 ] && [ "$(field "$out" queued)" = 10 ]'
    done
done
# A restart storm (issue 14), functional only: 200 names nobody asked for,
# 64 clients at once; every handshake is authenticated, each with a lookup
# of its own (none refused by the queue, none failed).
first=40
for mode in validate trust-ad; do
    out=$(OPENSSL_CONF=$TMP/$mode.cnf "$BENCH" run --pki "$TMP" \
        --label storm --tls 1.3 --n 200 --conc 64 --ids $first:200 --fresh \
        --chain-warm 0 --expect-dance yes)
    check "$mode storm: 200 new names, 64 clients: all authenticated" \
        '[ "$(field "$out" ok)" = 200 ] && [ "$(field "$out" queued)" = 200 ]'
    first=$((first + 200))
done
# Beside a flood of unknown names (dance-bench --flood): NXDOMAIN names
# under the clients' own site, and names the world's fault proxy never
# answers (leftmost label "silent"; each held until timeout_ms). Every
# legitimate client is authenticated, every flood handshake refused.
# validate mode asks nsd, which keeps no cache: names 40.. can be reused.
dance_cnf "$TMP/flood.cnf" "$MODULE" client_auth=require \
    "allow=*.example.test, *.silent.test" dnssec=validate \
    "nameservers=$DW_PROXY_NSD" trust_anchor="$DW_ANCHOR" log_level=error
for flood in "example.test _flood" "silent.test silent"; do
    out=$(OPENSSL_CONF=$TMP/flood.cnf "$BENCH" run --pki "$TMP" \
        --label flood --tls 1.3 --n 100 --conc 16 --ids 40:100 --fresh \
        --chain-warm 0 --flood 4 --flood-zone "${flood% *}" \
        --flood-label "${flood#* }" --expect-dance yes) || true
    check "storm beside a flood of ${flood#* } names under ${flood% *}: 100 authenticated, every flood handshake refused" \
        '[ "$(field "$out" ok)" = 100 ] && [ "$(field "$out" flood_n)" -gt 0 ] && [ "$(field "$out" flood_refused)" = "$(field "$out" flood_n)" ] && [ "$(field "$out" flood_accepted)" = 0 ]'
done
# Flood clients holding certificates from the server's own CA: the CA
# baseline accepts them and dance-bench must fail (its check can fail);
# client_auth = optional leaves them to that CA (accepted); require
# refuses every one (DANE decides, not the CA).
dance_cnf "$TMP/optional.cnf" "$MODULE" client_auth=optional \
    "allow=*.example.test" dnssec=validate "nameservers=$DW_NSD" \
    trust_anchor="$DW_ANCHOR" log_level=error
for c in base:accepted optional:accepted flood:refused; do
    rc=0
    out=$(OPENSSL_CONF=$TMP/${c%:*}.cnf "$BENCH" run --pki "$TMP" \
        --label flood-ca --n 20 --conc 4 --ids 0:4 --flood 2 \
        --flood-zone example.test --flood-ca-signed 2>/dev/null) || rc=$?
    if [ "${c#*:}" = accepted ]; then
        check "${c%:*}: CA-signed flood accepted, and dance-bench fails" \
            '[ $rc = 1 ] && [ "$(field "$out" flood_accepted)" -gt 0 ]'
    else
        check "require: CA-signed flood of unknown names refused" \
            '[ $rc = 0 ] && [ "$(field "$out" ok)" = 20 ] && [ "$(field "$out" flood_n)" -gt 0 ] && [ "$(field "$out" flood_accepted)" = 0 ]'
    fi
done
# DANE decides: with `allow` naming someone else, the same clients are
# refused (no lookup is made for them).
dance_cnf "$TMP/deny.cnf" "$MODULE" client_auth=require dnssec=validate \
    "nameservers=$DW_NSD" trust_anchor="$DW_ANCHOR" allow=nobody.example.test \
    log_level=error
if OPENSSL_CONF=$TMP/deny.cnf "$BENCH" run --pki "$TMP" --label deny \
    --n 3 --ids 0:1 --expect-dance yes >"$TMP/deny.out" 2>/dev/null; then
    check "name outside allow is refused" false
else
    check "name outside allow is refused" \
        '[ "$(field "$(cat "$TMP/deny.out")" fail)" = 3 ]'
fi
# The delaying relay (bench/delayrelay.c): an answer comes, at least its
# delay late, with the query logged; a "silent" name gets none.
rport=$("$FAULTPROXY" --free-port)
"$RELAY" -l 127.0.0.1 -p "$rport" -u "$DW_NSD" --delay-ms 300 \
    --log "$TMP/relay.log" </dev/null >"$TMP/relay.err" 2>&1 &
RELAY_PID=$!
sleep 0.3
t0=$(date +%s%N)
out=$(drill -p "$rport" @127.0.0.1 _client.b00001.example.test TLSA 2>&1 || true)
ms=$((($(date +%s%N) - t0) / 1000000))
check "relay: the answer, 300 ms late (took $ms ms)" \
    'grep -q "rcode: NOERROR" <<<"$out" && grep -q "IN.TLSA.3 1 1" <<<"$out" && [ $ms -ge 300 ]'
check "relay: the query logged" \
    'grep -qi "^udp _client.b00001.example.test. TLSA$" "$TMP/relay.log"'
out=$(timeout 5 drill -p "$rport" @127.0.0.1 silent.b1.example.test TLSA 2>&1 || true)
check "relay: a silent name gets no answer" '! grep -q "rcode:" <<<"$out"'
[ $fails -eq 0 ] || { echo "$fails check(s) failed"; exit 1; }
echo "all checks passed"
