#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# lookup.sh - integration test of `dance lookup` against the DNS world.
#
#   LOOKUP_MODE=validate|trust-ad lookup.sh ENV_FILE DANCE_BINARY
#
# ENV_FILE is the env file written by tests/dnsworld/dnsworld.sh start.
# validate: the CLI validates itself, asking nsd (-s DW_NSD) with the test.
#           trust anchor; fault cases go through the proxy in front of nsd.
# trust-ad: the CLI trusts the AD bit of unbound on loopback (--trust-ad
#           -s DW_UNBOUND); fault cases go through the proxy in front of it.
#
# Every case checks the printed status line and the exit status (and, for
# secure answers, the record data, taken from the signed zone files).  One
# line per case: "ok - CASE" or "not ok - CASE: DETAILS", then "N passed,
# N failed".  Exit status 1 if any case failed.
set -euo pipefail

if [ $# -ne 2 ]; then
    echo "usage: LOOKUP_MODE=validate|trust-ad $0 ENV_FILE DANCE_BINARY" >&2
    exit 2
fi
ENV_FILE=$1
DANCE=$2
MODE=${LOOKUP_MODE:-validate}
case "$MODE" in
validate | trust-ad) ;;
*)
    echo "lookup.sh: LOOKUP_MODE must be validate or trust-ad" >&2
    exit 2
    ;;
esac
[ -r "$ENV_FILE" ] || { echo "lookup.sh: no env file $ENV_FILE" >&2; exit 2; }
[ -x "$DANCE" ] || { echo "lookup.sh: no binary $DANCE" >&2; exit 2; }
# shellcheck source=/dev/null
. "$ENV_FILE"

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

PASSED=0
FAILED=0
LEAKS=0 # non-secure cases that printed a secure status

# Servers and anchors per mode.
if [ "$MODE" = validate ]; then
    GOOD=(-s "$DW_NSD" -a "$DW_ANCHOR")
    FAULT=(-s "$DW_PROXY_NSD" -a "$DW_ANCHOR")
    FAULT_LOG=$DW_PROXY_NSD_LOG
else
    GOOD=(--trust-ad -s "$DW_UNBOUND")
    FAULT=(--trust-ad -s "$DW_PROXY_UNBOUND")
    FAULT_LOG=$DW_PROXY_UNBOUND_LOG
fi
# A short per-exchange timeout keeps the silent server case quick.
# A long one makes a query that should never be sent show in the elapsed
# time.  Without the option the CLI's default applies.
TIMEOUT=()
LONG_TIMEOUT=()
if "$DANCE" lookup --help 2>&1 | grep -q -- '--timeout'; then
    TIMEOUT=(--timeout 500)
    LONG_TIMEOUT=(--timeout 3000)
fi

# zone_rdata OWNER TYPE - the last RDATA field of OWNER's TYPE record in the
# world's signed (or, for insecure.test., plain) zone files.
zone_rdata() {
    local v
    v=$(cat "$DW_DIR"/zones/*.signed "$DW_DIR"/zones/insecure.test.zone |
        awk -v o="$1" -v t="$2" '$1 == o && $4 == t { print $NF; exit }')
    if [ -z "$v" ]; then
        echo "lookup.sh: no $2 record for $1 in the world's zones" >&2
        exit 2
    fi
    echo "$v"
}

# pass NAME - record a passing case.
pass() {
    PASSED=$((PASSED + 1))
    echo "ok - $1"
}

# failcase NAME DETAILS - record a failing case, with the CLI's output.
failcase() {
    FAILED=$((FAILED + 1))
    echo "not ok - $1: $2"
    if [ -s "$TMP/out" ]; then
        sed 's/^/#   stdout: /' "$TMP/out"
    fi
    if [ -s "$TMP/err" ]; then
        sed 's/^/#   stderr: /' "$TMP/err"
    fi
}

# run_dance ARGS... - run `dance lookup ARGS`; sets RC, STATUS, ELAPSED_MS.
run_dance() {
    local t0 t1
    t0=$(date +%s%N)
    RC=0
    "$DANCE" lookup "$@" >"$TMP/out" 2>"$TMP/err" </dev/null || RC=$?
    t1=$(date +%s%N)
    ELAPSED_MS=$(((t1 - t0) / 1000000))
    STATUS=$(sed -n '1s/^status: //p' "$TMP/out")
}

# check CASE WANT_STATUS WANT_RC [+ TYPE VALUE]... -- ARGS...
# Run the CLI with ARGS and compare. WANT_STATUS "-" means no status line
# is expected (usage errors).  Each "+ TYPE VALUE" requires a record line
# of TYPE containing VALUE (case-insensitive).
check() {
    local name=$1 want_status=$2 want_rc=$3 type value problems=""
    local -a want_data=()
    shift 3
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        if [ "$1" != + ] || [ $# -lt 3 ]; then
            echo "lookup.sh: bad check() arguments for $name" >&2
            exit 2
        fi
        want_data+=("$2" "$3")
        shift 3
    done
    shift
    run_dance "$@"

    if [ "$want_status" = - ]; then
        if grep -q '^status:' "$TMP/out"; then
            problems+=" printed a status line;"
        fi
    else
        [ "$STATUS" = "$want_status" ] ||
            problems+=" status '${STATUS:-<none>}', want '$want_status';"
        if ! sed -n '2p' "$TMP/out" | grep -q '^why: '; then
            problems+=" no 'why:' line;"
        fi
    fi
    [ "$RC" = "$want_rc" ] || problems+=" exit $RC, want $want_rc;"
    while [ ${#want_data[@]} -gt 0 ]; do
        type=${want_data[0]}
        value=${want_data[1]}
        want_data=("${want_data[@]:2}")
        if ! tail -n +3 "$TMP/out" | grep -iF -- "$value" |
            grep -qw -- "$type"; then
            problems+=" no $type record with '$value';"
        fi
    done
    # Security property: a case that must not be secure never says so.
    case "$want_status" in
    secure | secure-nodata | secure-nxdomain) ;;
    *)
        if grep -q '^status: secure' "$TMP/out"; then
            LEAKS=$((LEAKS + 1))
            problems+=" SECURE STATUS PRINTED FOR A NON-SECURE CASE;"
        fi
        ;;
    esac
    if [ -z "$problems" ]; then
        pass "$name"
    else
        problems=${problems# }
        failcase "$name" "${problems%;}"
    fi
}

# log_count PATTERN - how many lines of the fault proxy's log match.
log_count() {
    grep -c -- "$1" "$FAULT_LOG" 2>/dev/null || true
}

echo "# dance lookup, mode $MODE"

# --- secure answers ---------------------------------------------------------
check "TLSA _443._tcp.www.example.test secure" secure 0 \
    + TLSA "$(zone_rdata _443._tcp.www.example.test. TLSA)" \
    -- "${GOOD[@]}" _443._tcp.www.example.test
check "A www.example.test secure" secure 0 + A 127.0.0.1 \
    -- "${GOOD[@]}" -t A www.example.test
check "AAAA www.example.test secure" secure 0 + AAAA ::1 \
    -- "${GOOD[@]}" -t AAAA www.example.test
check "IPSECKEY k2026a.keystore.example.test secure" secure 0 \
    + IPSECKEY "$(zone_rdata k2026a.keystore.example.test. IPSECKEY)" \
    -- "${GOOD[@]}" -t IPSECKEY k2026a.keystore.example.test
check "CNAME main.keystore.example.test secure" secure 0 \
    + CNAME k2026a.keystore.example.test \
    -- "${GOOD[@]}" -t CNAME main.keystore.example.test
check "IPSECKEY via CNAME main.keystore.example.test secure" secure 0 \
    + IPSECKEY "$(zone_rdata k2026a.keystore.example.test. IPSECKEY)" \
    -- "${GOOD[@]}" -t IPSECKEY main.keystore.example.test
check "TLSA alias.example.test (CNAME into secure) secure" secure 0 \
    + TLSA "$(zone_rdata _443._tcp.www.example.test. TLSA)" \
    -- "${GOOD[@]}" alias.example.test
check "TLSA _mqtt-client.device1.example.test secure" secure 0 \
    + TLSA "$(zone_rdata _mqtt-client.device1.example.test. TLSA)" \
    -- "${GOOD[@]}" _mqtt-client.device1.example.test
check "TLSA foo.wild.example.test (wildcard) secure" secure 0 \
    + TLSA "$(zone_rdata '*.wild.example.test.' TLSA)" \
    -- "${GOOD[@]}" foo.wild.example.test
check "TLSA _443._tcp.www.nsec3.test secure" secure 0 \
    + TLSA "$(zone_rdata _443._tcp.www.nsec3.test. TLSA)" \
    -- "${GOOD[@]}" _443._tcp.www.nsec3.test

# --- proven absence ---------------------------------------------------------
check "nonexistent name in example.test secure-nxdomain" secure-nxdomain 2 \
    -- "${GOOD[@]}" nosuchname.example.test
check "www.example.test TLSA secure-nodata" secure-nodata 2 \
    -- "${GOOD[@]}" www.example.test
check "nonexistent name in nsec3.test secure-nxdomain" secure-nxdomain 2 \
    -- "${GOOD[@]}" nosuchname.nsec3.test
check "www.nsec3.test TLSA secure-nodata" secure-nodata 2 \
    -- "${GOOD[@]}" www.nsec3.test

# --- insecure and bogus -----------------------------------------------------
check "TLSA _443._tcp.www.insecure.test insecure" insecure 3 \
    -- "${GOOD[@]}" _443._tcp.www.insecure.test
check "TLSA toinsecure.example.test (CNAME into insecure) insecure" \
    insecure 3 -- "${GOOD[@]}" toinsecure.example.test
check "TLSA _443._tcp.www.bogus.test (wrong DS) bogus" bogus 4 \
    -- "${GOOD[@]}" _443._tcp.www.bogus.test
check "TLSA tobogus.example.test (CNAME into bogus) bogus" bogus 4 \
    -- "${GOOD[@]}" tobogus.example.test
check "TLSA _443._tcp.www.expired.test (expired signatures) bogus" bogus 4 \
    -- "${GOOD[@]}" _443._tcp.www.expired.test
check "TLSA tampered.example.test (altered RDATA) bogus" bogus 4 \
    -- "${GOOD[@]}" tampered.example.test

# --- faults injected by the proxy -------------------------------------------
check "TLSA strip.example.test (RRSIGs stripped) bogus" bogus 4 \
    -- "${FAULT[@]}" strip.example.test
check "TLSA servfail.example.test indeterminate" indeterminate 5 \
    -- "${FAULT[@]}" servfail.example.test
check "TLSA silent.example.test indeterminate" indeterminate 5 \
    -- "${FAULT[@]}" "${TIMEOUT[@]}" silent.example.test
check "TLSA garbage.example.test indeterminate" indeterminate 5 \
    -- "${FAULT[@]}" garbage.example.test
tcp_before=$(log_count '^tcp tc\.example\.test\. TLSA ')
check "TLSA tc.example.test (truncated over UDP) secure" secure 0 \
    + TLSA "$(zone_rdata tc.example.test. TLSA)" \
    -- "${FAULT[@]}" tc.example.test
tcp_after=$(log_count '^tcp tc\.example\.test\. TLSA ')
if [ "$tcp_after" -gt "$tcp_before" ]; then
    pass "tc.example.test retried over TCP"
else
    : >"$TMP/out"
    : >"$TMP/err"
    failcase "tc.example.test retried over TCP" \
        "no tcp query for tc.example.test in $FAULT_LOG"
fi

# --- mode-specific ----------------------------------------------------------
if [ "$MODE" = validate ]; then
    check "DNSKEY-format trust anchor secure" secure 0 \
        + TLSA "$(zone_rdata _443._tcp.www.example.test. TLSA)" \
        -- -s "$DW_NSD" -a "$DW_ANCHOR_DNSKEY" _443._tcp.www.example.test
    check "--time before signature inception bogus" bogus 4 \
        -- "${GOOD[@]}" --time $((DW_SIG_INCEPTION - 86400)) \
        _443._tcp.www.example.test
    check "--time after signature expiration bogus" bogus 4 \
        -- "${GOOD[@]}" --time $((DW_SIG_EXPIRATION + 86400)) \
        _443._tcp.www.example.test
    check "--time inside the validity window secure" secure 0 \
        + TLSA "$(zone_rdata _443._tcp.www.example.test. TLSA)" \
        -- "${GOOD[@]}" --time $((DW_SIG_INCEPTION + 3600)) \
        _443._tcp.www.example.test
else
    # 192.0.2.1 (TEST-NET-1) is not loopback: the AD bit of a resolver
    # reached over a network proves nothing, so this must be refused as a
    # configuration error before any query is sent.  Nothing listens there,
    # so a query would only end after a timeout: a quick exit shows none was
    # waited for.
    check "--trust-ad with a non-loopback server refused" - 1 \
        -- --trust-ad -s 192.0.2.1 "${LONG_TIMEOUT[@]}" \
        _443._tcp.www.example.test
    if [ "$RC" = 1 ] && [ "$ELAPSED_MS" -lt 1500 ]; then
        pass "--trust-ad refusal sent no query (${ELAPSED_MS} ms)"
    else
        failcase "--trust-ad refusal sent no query" \
            "exit $RC after ${ELAPSED_MS} ms (a query was probably sent)"
    fi
fi

# --- usage errors -----------------------------------------------------------
check "unknown record type is a usage error" - 1 \
    -- "${GOOD[@]}" -t NOSUCHTYPE _443._tcp.www.example.test
check "missing name is a usage error" - 1 -- "${GOOD[@]}"

# --- global -----------------------------------------------------------------
if [ "$LEAKS" -eq 0 ]; then
    pass "no non-secure case printed a secure status"
else
    : >"$TMP/out"
    : >"$TMP/err"
    failcase "no non-secure case printed a secure status" \
        "$LEAKS case(s) did"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
