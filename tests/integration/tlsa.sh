#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# tlsa.sh - integration test of `dance tlsa` (no DNS world needed).
#
#   tlsa.sh DANCE_BINARY
#
# Generates an RSA and an EC certificate (and their public keys) at test
# time and checks that for every usage 3/2, selector 0/1 and matching type
# 0/1/2 `dance tlsa` prints the record data that `ldns-dane -c CERT create`
# prints; that a public-key file works with selector 1 and fails clearly
# with selector 0; and that bad arguments exit 1 naming the bad option.
# Many identities at once (issue 12): private keys, several files, a
# directory, stdin, --bundle, owner from the SAN or a --pattern, --ttl,
# the nsupdate format with batches, all-or-nothing output.
# One line per case: "ok - CASE" or "not ok - CASE: DETAILS", then
# "N passed, N failed".  Exit status 1 if any case failed.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 DANCE_BINARY" >&2
    exit 2
fi
DANCE=$1
[ -x "$DANCE" ] || { echo "tlsa.sh: no binary $DANCE" >&2; exit 2; }
for tool in openssl ldns-dane; do
    command -v "$tool" >/dev/null ||
        { echo "tlsa.sh: $tool is not installed" >&2; exit 2; }
done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

PASSED=0
FAILED=0
readonly OWNER=_client.device1.example.test

# pass NAME - record a passing case.
pass() {
    PASSED=$((PASSED + 1))
    echo "ok - $1"
}

# failcase NAME DETAILS - record a failing case, with the tool's output.
failcase() {
    FAILED=$((FAILED + 1))
    echo "not ok - $1: $2"
    [ -s "$TMP/out" ] && sed 's/^/#   stdout: /' "$TMP/out"
    [ -s "$TMP/err" ] && sed 's/^/#   stderr: /' "$TMP/err"
    return 0
}

# run_tlsa ARGS... - run `dance tlsa ARGS`; sets RC, output in $TMP/out|err.
run_tlsa() {
    RC=0
    "$DANCE" tlsa "$@" >"$TMP/out" 2>"$TMP/err" </dev/null || RC=$?
}

# ldns_rdata CERT U S M - "U S M HEX" as ldns-dane computes it (lower case).
ldns_rdata() {
    ldns-dane -n -c "$1" create dev.example.test 443 "$2" "$3" "$4" |
        awk '$4 == "TLSA" { r = $5 " " $6 " " $7 " "; for (i = 8; i <= NF; i++)
                 r = r $i; print tolower(r); exit }'
}

# --- material -----------------------------------------------------------
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/rsa.key" \
    -out "$TMP/rsa.crt" -days 2 -subj /CN=dev.example.test \
    -addext subjectAltName=DNS:dev.example.test 2>/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$TMP/ec.key" -out "$TMP/ec.crt" -days 2 \
    -subj /CN=dev.example.test -addext subjectAltName=DNS:dev.example.test \
    2>/dev/null
openssl pkey -in "$TMP/rsa.key" -pubout -out "$TMP/rsa.pub"
openssl pkey -in "$TMP/ec.key" -pubout -out "$TMP/ec.pub"

# --- every combination equals ldns-dane ---------------------------------
for kind in rsa ec; do
    for u in 3 2; do
        for s in 0 1; do
            for m in 0 1 2; do
                name="$kind $u $s $m equals ldns-dane"
                want=$(ldns_rdata "$TMP/$kind.crt" "$u" "$s" "$m")
                if [ -z "$want" ]; then
                    : >"$TMP/out"
                    : >"$TMP/err"
                    failcase "$name" "ldns-dane printed no record"
                    continue
                fi
                run_tlsa -u "$u" -s "$s" -m "$m" -n "$OWNER" "$TMP/$kind.crt"
                got=$(awk '{ print $1, $2, $3, $4, $5, $6, $7 }' "$TMP/out")
                if [ "$RC" -ne 0 ]; then
                    failcase "$name" "exit status $RC"
                elif [ "$got" != "$OWNER. IN TLSA $want" ]; then
                    failcase "$name" "expected '$OWNER. IN TLSA $want'"
                elif [ "$(wc -l <"$TMP/out")" -ne 1 ] || [ -s "$TMP/err" ]; then
                    failcase "$name" "expected exactly one line, no stderr"
                else
                    pass "$name"
                fi
            done
        done
    done
done

# --- defaults, owner formatting ----------------------------------------
run_tlsa -n "$OWNER" "$TMP/ec.crt"
want="$OWNER. IN TLSA $(ldns_rdata "$TMP/ec.crt" 3 1 1)"
if [ "$RC" -eq 0 ] && [ "$(cat "$TMP/out")" = "$want" ]; then
    pass "defaults are 3 1 1"
else
    failcase "defaults are 3 1 1" "rc $RC, expected '$want'"
fi
run_tlsa -n "$OWNER." "$TMP/ec.crt"
if [ "$RC" -eq 0 ] && [ "$(cat "$TMP/out")" = "$want" ]; then
    pass "owner with a trailing dot is printed with one dot"
else
    failcase "owner with a trailing dot is printed with one dot" \
        "rc $RC, expected '$want'"
fi
run_tlsa --usage DANE-EE --selector SPKI --mtype SHA2-256 --name "$OWNER" \
    "$TMP/ec.crt"
if [ "$RC" -eq 0 ] && [ "$(cat "$TMP/out")" = "$want" ]; then
    pass "long options and mnemonics"
else
    failcase "long options and mnemonics" "rc $RC, expected '$want'"
fi

# --- public-key files ----------------------------------------------------
for kind in rsa ec; do
    for m in 0 1 2; do
        name="$kind public key, selector 1, mtype $m matches the certificate"
        run_tlsa -s 1 -m "$m" -n "$OWNER" "$TMP/$kind.crt"
        cp "$TMP/out" "$TMP/want"
        run_tlsa -s 1 -m "$m" -n "$OWNER" "$TMP/$kind.pub"
        if [ "$RC" -eq 0 ] && [ -s "$TMP/out" ] &&
            cmp -s "$TMP/out" "$TMP/want"; then
            pass "$name"
        else
            failcase "$name" "rc $RC, expected '$(cat "$TMP/want")'"
        fi
    done
    name="$kind public key with selector 0 fails clearly"
    run_tlsa -s 0 -n "$OWNER" "$TMP/$kind.pub"
    if [ "$RC" -eq 1 ] && [ ! -s "$TMP/out" ] &&
        grep -qi 'public key' "$TMP/err" && grep -qi 'selector' "$TMP/err"
    then
        pass "$name"
    else
        failcase "$name" "expected exit 1 and a message about the public key \
and the selector, got rc $RC"
    fi
done

# --- bad arguments --------------------------------------------------------
printf 'not a certificate\n' >"$TMP/junk.pem"
# bad NAME WORD ARGS... - `dance tlsa ARGS` must exit 1, print nothing on
# stdout and mention WORD (the bad option or input) on stderr.
bad() {
    local name=$1 word=$2
    shift 2
    run_tlsa "$@"
    if [ "$RC" -eq 1 ] && [ ! -s "$TMP/out" ] &&
        grep -qi -- "$word" "$TMP/err"; then
        pass "$name"
    else
        failcase "$name" "expected exit 1 and '$word' on stderr, got rc $RC"
    fi
}
bad "usage 4 rejected" "usage" -u 4 -n "$OWNER" "$TMP/ec.crt"
bad "usage -1 rejected" "usage" -u -1 -n "$OWNER" "$TMP/ec.crt"
bad "usage 03x rejected" "usage" -u 03x -n "$OWNER" "$TMP/ec.crt"
bad "selector 2 rejected" "selector" -s 2 -n "$OWNER" "$TMP/ec.crt"
bad "selector empty rejected" "selector" -s '' -n "$OWNER" "$TMP/ec.crt"
bad "mtype 3 rejected" "mtype" -m 3 -n "$OWNER" "$TMP/ec.crt"
bad "mtype 255 rejected" "mtype" -m 255 -n "$OWNER" "$TMP/ec.crt"
bad "key without an owner rejected" "name" "$TMP/ec.pub"
bad "empty owner rejected" "name" -n '' "$TMP/ec.crt"
bad "root owner rejected" "name" -n . "$TMP/ec.crt"
bad "owner with empty label rejected" "name" -n 'a..example.test' \
    "$TMP/ec.crt"
bad "owner with a space rejected" "name" -n 'a b.example.test' "$TMP/ec.crt"
bad "owner with a 64-octet label rejected" "name" \
    -n "$(printf 'a%.0s' {1..64}).example.test" "$TMP/ec.crt"
bad "owner over 253 characters rejected" "name" \
    -n "$(printf 'abcdefghi.%.0s' {1..26})test" "$TMP/ec.crt"
bad "missing FILE rejected" "FILE" -n "$OWNER"
bad "unreadable FILE rejected" "nonexistent" -n "$OWNER" "$TMP/nonexistent"
bad "non-PEM FILE rejected" "certificate" -n "$OWNER" "$TMP/junk.pem"
bad "unknown option rejected" "usage" -x -n "$OWNER" "$TMP/ec.crt"

# --- many identities at once (issue 12) ----------------------------------
# check NAME EXPECTED_FILE - the last run exited 0 and printed EXPECTED_FILE.
check() {
    if [ "$RC" -eq 0 ] && cmp -s "$TMP/out" "$2"; then
        pass "$1"
    else
        failcase "$1" "rc $RC, expected: $(tr '\n' '|' <"$2")"
    fi
}
# spki NAME FILE - "NAME. IN TLSA 3 1 1 HEX" computed by openssl itself.
spki() {
    local hex
    hex=$(openssl x509 -in "$2" -noout -pubkey 2>/dev/null |
        openssl pkey -pubin -outform DER | openssl dgst -sha256 -r |
        cut -d' ' -f1)
    echo "$1. IN TLSA 3 1 1 $hex"
}
mkdir -p "$TMP/fleet" "$TMP/keys"
for d in a b c; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$TMP/keys/dev-$d.key" -out "$TMP/fleet/dev-$d.crt" -days 2 \
        -subj "/CN=dev-$d.fleet.test" \
        -addext "subjectAltName=DNS:dev-$d.fleet.test,DNS:other.test" \
        2>/dev/null
done
{ for d in a b c; do spki "dev-$d.fleet.test" "$TMP/fleet/dev-$d.crt"; done
} >"$TMP/want.san"
run_tlsa "$TMP/fleet"
check "a directory, owners from the first dNSName SAN" "$TMP/want.san"
run_tlsa "$TMP/fleet/dev-a.crt" "$TMP/fleet/dev-b.crt" "$TMP/fleet/dev-c.crt"
check "several FILEs, one record each" "$TMP/want.san"
cat "$TMP/fleet"/*.crt >"$TMP/bundle.pem"
RC=0
"$DANCE" tlsa --bundle - <"$TMP/bundle.pem" >"$TMP/out" 2>"$TMP/err" || RC=$?
check "--bundle on stdin: every certificate" "$TMP/want.san"
RC=0
"$DANCE" tlsa - <"$TMP/bundle.pem" >"$TMP/out" 2>"$TMP/err" || RC=$?
head -1 "$TMP/want.san" >"$TMP/want.one"
check "stdin without --bundle: the first certificate (one identity)" \
    "$TMP/want.one"
sed 's/^dev-\([abc]\)\.fleet\.test\./_mqtt-client.dev-\1.fleet.test./' \
    "$TMP/want.san" >"$TMP/want.cn"
run_tlsa --pattern '_mqtt-client.{cn}' "$TMP/fleet"
check "--pattern with {cn}" "$TMP/want.cn"
sed 's/^dev-\([abc]\)\.fleet\.test\./dev-\1._device.fleet.test./' \
    "$TMP/want.san" >"$TMP/want.file"
run_tlsa --pattern '{file}._device.fleet.test' "$TMP/keys"
check "private keys in a directory, --pattern with {file}" "$TMP/want.file"
run_tlsa -n dev-a.fleet.test "$TMP/keys/dev-a.key" "$TMP/fleet/dev-a.crt"
check "a certificate and its private key give one record" "$TMP/want.one"
sed 's/ IN TLSA / 5 IN TLSA /' "$TMP/want.san" >"$TMP/want.ttl"
run_tlsa --ttl 5 "$TMP/fleet"
check "--ttl is printed" "$TMP/want.ttl"
{
    echo "server 127.0.0.1 5300"
    echo "zone fleet.test"
    sed -n 1,2p "$TMP/want.ttl" | sed 's/^/update add /'
    echo send
    sed -n 3p "$TMP/want.ttl" | sed 's/^/update add /'
    echo send
} >"$TMP/want.nsu"
run_tlsa --ttl 5 --format nsupdate --zone fleet.test \
    --ns-server 127.0.0.1@5300 --batch 2 "$TMP/fleet"
check "--format nsupdate, batches of 2" "$TMP/want.nsu"
{
    echo "update delete dev-a.fleet.test. IN TLSA"
    sed -n 1p "$TMP/want.ttl" | sed 's/^/update add /'
    echo send
} >"$TMP/want.rep"
run_tlsa --ttl 5 --format nsupdate --replace "$TMP/fleet/dev-a.crt"
check "--format nsupdate --replace deletes the RRset first" "$TMP/want.rep"
{
    spki x.fleet.test "$TMP/fleet/dev-a.crt"
    spki x.fleet.test "$TMP/fleet/dev-b.crt"
    echo send
} | sed '1,2s/^x/update add x/; 1,2s/ IN TLSA / 5 IN TLSA /' >"$TMP/want.grp"
run_tlsa --ttl 5 --format nsupdate --batch 1 -n x.fleet.test \
    "$TMP/fleet/dev-a.crt" "$TMP/fleet/dev-b.crt"
check "an owner's records are never split across updates" "$TMP/want.grp"
openssl pkey -in "$TMP/keys/dev-a.key" -aes128 -passout pass:x \
    -out "$TMP/enc.key" 2>/dev/null
bad "an encrypted private key is refused" "encrypted" -n x.fleet.test \
    "$TMP/enc.key"
bad "one bad input among good ones: nothing printed" "junk.pem" \
    "$TMP/fleet/dev-a.crt" "$TMP/junk.pem" "$TMP/fleet/dev-b.crt"
bad "a key among certificates without an owner: nothing printed" "name" \
    "$TMP/fleet/dev-a.crt" "$TMP/keys/dev-b.key"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$TMP/nosan.key" -out "$TMP/nosan.crt" -days 2 \
    -subj "/CN=nosan.fleet.test" 2>/dev/null
bad "a certificate without a SAN needs a name" "SAN" "$TMP/nosan.crt"
bad "an unknown placeholder is refused" "placeholder" --pattern '{id}.x' \
    "$TMP/fleet/dev-a.crt"
bad "a pattern that makes a bad name is refused" "not valid" \
    --pattern '{file} x' "$TMP/fleet/dev-a.crt"
bad "-n and --pattern together are refused" "pattern" -n a.test \
    --pattern '{cn}' "$TMP/fleet/dev-a.crt"
bad "nsupdate without --ttl is refused" "ttl" --format nsupdate \
    "$TMP/fleet/dev-a.crt"
bad "an unknown format is refused" "format" --format json \
    "$TMP/fleet/dev-a.crt"
bad "--ttl -1 is refused" "ttl" --ttl -1 "$TMP/fleet/dev-a.crt"
bad "--batch 0 is refused" "batch" --ttl 5 --format nsupdate --batch 0 \
    "$TMP/fleet/dev-a.crt"

run_tlsa --help
if [ "$RC" -eq 0 ] && grep -q -- '--selector' "$TMP/out" &&
    grep -q 'SHA2-512' "$TMP/out"; then
    pass "--help documents the options"
else
    failcase "--help documents the options" "rc $RC"
fi
"$DANCE" --help >"$TMP/out" 2>&1 || true
if grep -q '^  tlsa ' "$TMP/out"; then
    pass "dance --help lists tlsa"
else
    : >"$TMP/err"
    failcase "dance --help lists tlsa" "no 'tlsa' line"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
