#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# firmware.sh - the second paper's update flow (Figure 1) and key rollover
# (Figure 2, Table I) end to end against nsd, plus the dnssec: store loader
# through unmodified `openssl pkeyutl` / `openssl dgst`.
#
#   firmware.sh FAULTPROXY_BINARY DANCE_BINARY [PROVIDER_MODULE]
#
# Starts its own DNS world (tests/dnsworld/dnsworld.sh) in a temporary
# directory with key stores generated here, and always stops it.  Without
# PROVIDER_MODULE (or when it does not offer the dnssec: loader) the
# openssl cases are skipped with a "# skip" line.  Needs /usr/bin/python3
# with cbor2 and cryptography (Debian packages) for the interop cases.
# One line per case: "ok - CASE" / "not ok - CASE: DETAILS", then
# "N passed, N failed"; exit status 1 if any case failed.
set -euo pipefail

if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 FAULTPROXY_BINARY DANCE_BINARY [PROVIDER_MODULE]" >&2
    exit 2
fi
FAULTPROXY=$1
DANCE=$2
PROVIDER=${3:-}
HERE=$(cd "$(dirname "$0")" && pwd)
DNSWORLD=$HERE/../dnsworld/dnsworld.sh
PY=/usr/bin/python3
INTEROP=$HERE/cose_interop.py
# shellcheck source=tests/cnf/cnf.sh
. "$HERE/../cnf/cnf.sh"

TMP=$(mktemp -d)
WORLD=$TMP/world
# cleanup - stop the world and remove every file this test made.
cleanup() {
    "$DNSWORLD" stop "$WORLD" >/dev/null 2>&1 || true
    rm -rf "$TMP"
}
trap cleanup EXIT

PASSED=0
FAILED=0

# pass NAME - record a passing case.
pass() {
    PASSED=$((PASSED + 1))
    echo "ok - $1"
}

# failcase NAME DETAILS - record a failing case, with the last output.
failcase() {
    FAILED=$((FAILED + 1))
    echo "not ok - $1: $2"
    [ -s "$TMP/out" ] && sed 's/^/#   stdout: /' "$TMP/out" | head -20
    [ -s "$TMP/err" ] && sed 's/^/#   stderr: /' "$TMP/err" | head -20
    return 0
}

# run CMD... - run a command, output to $TMP/out and $TMP/err; sets RC.
run() {
    RC=0
    "$@" >"$TMP/out" 2>"$TMP/err" </dev/null || RC=$?
}

# expect NAME WANT_RC [STDERR_PATTERN] -- CMD... - run CMD, check its exit
# status and (if given) that stderr matches the pattern (grep -E).
expect() {
    local name=$1 want=$2 pattern=
    shift 2
    if [ "$1" != -- ]; then
        pattern=$1
        shift
    fi
    shift
    run "$@"
    if [ "$RC" != "$want" ]; then
        failcase "$name" "exit $RC, want $want"
    elif [ -n "$pattern" ] && ! grep -Eq -- "$pattern" "$TMP/err"; then
        failcase "$name" "stderr does not match '$pattern'"
    else
        pass "$name"
    fi
}

# dance_to OUT ARGS... - run dance ARGS with stdout to OUT; fail the
# whole test (setup error) if it does not succeed.
dance_to() {
    local out=$1
    shift
    if ! "$DANCE" "$@" >"$out" 2>"$TMP/err"; then
        echo "firmware.sh: setup step 'dance $*' failed:" >&2
        cat "$TMP/err" >&2
        exit 2
    fi
}

# --- keys and key stores ----------------------------------------------------
K=$TMP/keys
mkdir -p "$K"
# genkey NAME ALGORITHM [OPTIONS...] - a private key K/NAME.pem, public .pub
genkey() {
    local name=$1
    shift
    openssl genpkey -algorithm "$@" -out "$K/$name.pem" 2>/dev/null
    openssl pkey -in "$K/$name.pem" -pubout -out "$K/$name.pub"
}
genkey es256 EC -pkeyopt ec_paramgen_curve:P-256
genkey es384 EC -pkeyopt ec_paramgen_curve:P-384
genkey eddsa ED25519
genkey ps256 RSA -pkeyopt rsa_keygen_bits:2048
genkey revoked EC -pkeyopt ec_paramgen_curve:P-256
genkey attacker EC -pkeyopt ec_paramgen_curve:P-256
genkey old1 EC -pkeyopt ec_paramgen_curve:P-256
genkey new1 ED25519
genkey impostor ED25519
genkey server ED25519
genkey server2 ED25519

RR=$TMP/extra.rr
: >"$RR"
# publish OWNER KEYNAME - an IPSECKEY record for a key (via dance keystore).
publish() {
    "$DANCE" keystore record --kid "${1%%.*}" --keystore "${1#*.}" \
        "$K/$2.pem" >>"$RR"
}
# cname OWNER TARGET - a CNAME.
cname() {
    printf '%s.\tIN\tCNAME\t%s.\n' "$1" "$2" >>"$RR"
}
# One key store per algorithm: main points to v1, old0 is revoked.
for alg in es256 es384 eddsa ps256; do
    publish "v1.ks$alg.example.test" "$alg"
    cname "main.ks$alg.example.test" "v1.ks$alg.example.test"
done
publish old0.kses256.example.test revoked
# Rollover: old1 (P-256) was current, main now points to new1 (Ed25519).
publish old1.fw.example.test old1
publish new1.fw.example.test new1
cname main.fw.example.test new1.fw.example.test
# Bad DNS: a bogus zone, an unsigned zone, a secure CNAME into bogus.
publish v1.kb.bogus.test es256
cname main.kb.bogus.test v1.kb.bogus.test
publish v1.ki.insecure.test es256
cname main.ki.insecure.test v1.ki.insecure.test
cname main.kcb.example.test v1.kb.bogus.test

"$DNSWORLD" start "$WORLD" "$FAULTPROXY" "$RR" >"$TMP/world.log" 2>&1 || {
    cat "$TMP/world.log" >&2
    echo "firmware.sh: cannot start the DNS world" >&2
    exit 2
}
# shellcheck source=/dev/null
. "$WORLD/env"
DNS=(-s "$DW_NSD" -a "$DW_ANCHOR")

# --- Figure 1: vendor signs, update server checks DNS, device checks -------
head -c 4096 /dev/urandom >"$TMP/fw.bin"
head -c 4096 /dev/urandom >"$TMP/other.bin"
dance_to "$TMP/m.cbor" manifest create --firmware "$TMP/fw.bin" \
    --uri https://fw.vendor.example/fw.bin --seq 42
for alg in es256 es384 eddsa ps256; do
    env=$TMP/env-$alg.cbor
    dance_to "$env" manifest sign --key "$K/$alg.pem" --kid v1 "$TMP/m.cbor"
    expect "Figure 1 $alg: update server verifies against main.ks$alg" 0 -- \
        "$DANCE" manifest verify "${DNS[@]}" --keystore "ks$alg.example.test" \
        --firmware "$TMP/fw.bin" "$env"
    if grep -q '^sequence: 42$' "$TMP/out" &&
        grep -q '^uri: https://fw' "$TMP/out"; then
        pass "Figure 1 $alg: manifest contents printed"
    else
        failcase "Figure 1 $alg: manifest contents printed" "no sequence/uri"
    fi
    dance_to "$TMP/ext-$alg.cbor" manifest extend --key "$K/server.pem" "$env"
    expect "Figure 1 $alg: device checks vendor and server signatures" 0 -- \
        "$DANCE" manifest device-check --trust "$K/$alg.pub" \
        --server-key "$K/server.pub" --firmware "$TMP/fw.bin" \
        "$TMP/ext-$alg.cbor"
    expect "interop $alg: python verifies dance's envelope" 0 -- \
        "$PY" "$INTEROP" verify "$K/$alg.pub" "$env"
    run "$PY" "$INTEROP" sign "$K/$alg.pem" v1 "$TMP/m.cbor" \
        "$TMP/py-$alg.cbor"
    expect "interop $alg: dance verifies python's envelope against DNS" 0 -- \
        "$DANCE" manifest verify "${DNS[@]}" --keystore "ks$alg.example.test" \
        "$TMP/py-$alg.cbor"
done

E=$TMP/env-es256.cbor
V=(manifest verify "${DNS[@]}" --keystore kses256.example.test)
dance_to "$TMP/bad-sig.cbor" manifest sign --key "$K/attacker.pem" --kid v1 \
    "$TMP/m.cbor"
expect "wrong signature (kid v1, another key) refused" 2 'bad-signature' -- \
    "$DANCE" "${V[@]}" "$TMP/bad-sig.cbor"
dance_to "$TMP/revoked.cbor" manifest sign --key "$K/revoked.pem" --kid old0 \
    "$TMP/m.cbor"
expect "kid not the main target (revoked key) refused" 3 \
    'main.kses256.example.test points to v1.*revoked' -- \
    "$DANCE" "${V[@]}" "$TMP/revoked.cbor"
dance_to "$TMP/subst.cbor" manifest sign --key "$K/es256.pem" --kid v1 \
    "$TMP/m.cbor"
expect "curve substitution (ES256 against the P-384 key) refused" 3 \
    'ES256 does not fit the ECDSA P-384 key' -- \
    "$DANCE" manifest verify "${DNS[@]}" --keystore kses384.example.test \
    "$TMP/subst.cbor"
"$PY" - "$E" "$TMP/digest.cbor" <<'EOF'
import sys, cbor2
env = cbor2.loads(open(sys.argv[1], "rb").read())
man = cbor2.loads(env.value[3])
man[2] = 43  # a later sequence number under the old signature
env.value[3] = cbor2.dumps(man)
open(sys.argv[2], "wb").write(cbor2.dumps(env))
EOF
expect "manifest altered after signing: digest mismatch" 2 \
    'digest-mismatch' -- "$DANCE" "${V[@]}" "$TMP/digest.cbor"
expect "firmware image not the manifest's: digest mismatch" 2 \
    'does not match the manifest' -- "$DANCE" "${V[@]}" \
    --firmware "$TMP/other.bin" "$E"
for ks in kb.bogus.test:bogus ki.insecure.test:insecure \
    kcb.example.test:'IPSECKEY lookup of v1.kb.bogus.test: bogus'; do
    expect "key store ${ks%%:*}: ${ks#*:} refused" 3 "${ks#*:}" -- \
        "$DANCE" manifest verify "${DNS[@]}" --keystore "${ks%%:*}" "$E"
done
head -c 60 "$E" >"$TMP/trunc.cbor"
expect "truncated envelope: clear error" 2 'truncated' -- \
    "$DANCE" "${V[@]}" "$TMP/trunc.cbor"
head -c 300 /dev/urandom >"$TMP/garbage.cbor"
expect "garbage envelope: clear error" 2 'malformed' -- \
    "$DANCE" "${V[@]}" "$TMP/garbage.cbor"
expect "device refuses a manifest without the server signature" 2 \
    'signatures' -- "$DANCE" manifest device-check --trust "$K/es256.pub" \
    --server-key "$K/server.pub" "$E"
expect "device refuses another update server" 2 'update server signature' -- \
    "$DANCE" manifest device-check --trust "$K/es256.pub" \
    --server-key "$K/server2.pub" "$TMP/ext-es256.cbor"

# --- Figure 2: key rollover old1 -> new1 ------------------------------------
NONCE=$(openssl rand -hex 16)
dance_to "$TMP/ro.cbor" rollover create --app-id com.vendor.app --version 7 \
    --new-key "$K/new1.pub" --new-kid new1 --old-key "$K/old1.pem" \
    --old-kid old1
expect "Figure 2: update server verifies the rollover against DNS" 0 -- \
    "$DANCE" rollover verify "${DNS[@]}" --keystore fw.example.test \
    "$TMP/ro.cbor"
expect "interop: python verifies dance's rollover manifest" 0 -- \
    "$PY" "$INTEROP" rollover-verify "$K/old1.pub" "$TMP/ro.cbor"
dance_to "$TMP/ro-ext.cbor" rollover extend --nonce "$NONCE" \
    --key "$K/server.pem" "$TMP/ro.cbor"
expect "Figure 2: device checks nonce and both signatures" 0 -- \
    "$DANCE" rollover device-check --trust "$K/old1.pub" \
    --server-key "$K/server.pub" --nonce "$NONCE" --out "$TMP/anchor.pub" \
    "$TMP/ro-ext.cbor"
if cmp -s "$TMP/anchor.pub" "$K/new1.pub"; then
    pass "Figure 2: the device's new trust anchor is new1"
else
    failcase "Figure 2: the device's new trust anchor is new1" "differs"
fi
dance_to "$TMP/m2.cbor" manifest create --firmware "$TMP/fw.bin" \
    --uri https://fw.vendor.example/fw.bin --seq 43
dance_to "$TMP/env2.cbor" manifest sign --key "$K/new1.pem" --kid new1 \
    "$TMP/m2.cbor"
dance_to "$TMP/ext2.cbor" manifest extend --key "$K/server.pem" \
    "$TMP/env2.cbor"
expect "after rollover: update server accepts new1 manifests" 0 -- \
    "$DANCE" manifest verify "${DNS[@]}" --keystore fw.example.test \
    "$TMP/env2.cbor"
expect "after rollover: device accepts them with its new anchor" 0 -- \
    "$DANCE" manifest device-check --trust "$TMP/anchor.pub" \
    --server-key "$K/server.pub" "$TMP/ext2.cbor"
dance_to "$TMP/old-env.cbor" manifest sign --key "$K/old1.pem" --kid old1 \
    "$TMP/m2.cbor"
expect "after rollover: old1 manifests are refused (revoked)" 3 \
    'points to new1' -- "$DANCE" manifest verify "${DNS[@]}" \
    --keystore fw.example.test "$TMP/old-env.cbor"

expect "replayed nonce refused by the device" 2 'nonce' -- \
    "$DANCE" rollover device-check --trust "$K/old1.pub" \
    --server-key "$K/server.pub" --nonce "$(openssl rand -hex 16)" \
    "$TMP/ro-ext.cbor"
dance_to "$TMP/ro-forged.cbor" rollover create --app-id com.vendor.app \
    --version 7 --new-key "$K/new1.pub" --new-kid new1 \
    --old-key "$K/attacker.pem" --old-kid old1
expect "rollover signed by a key other than the old one refused" 2 \
    'bad-signature' -- "$DANCE" rollover verify "${DNS[@]}" \
    --keystore fw.example.test "$TMP/ro-forged.cbor"
dance_to "$TMP/ro-forged-ext.cbor" rollover extend --nonce "$NONCE" \
    --key "$K/server.pem" "$TMP/ro-forged.cbor"
expect "device refuses a rollover not signed by its trust anchor" 2 \
    'vendor signature' -- "$DANCE" rollover device-check \
    --trust "$K/old1.pub" --server-key "$K/server.pub" --nonce "$NONCE" \
    "$TMP/ro-forged-ext.cbor"
dance_to "$TMP/ro-impostor.cbor" rollover create --app-id com.vendor.app \
    --version 7 --new-key "$K/impostor.pub" --new-kid new1 \
    --old-key "$K/old1.pem" --old-kid old1
expect "rollover whose new key is not the one in DNS refused" 3 \
    'not the key published at new1.fw.example.test' -- \
    "$DANCE" rollover verify "${DNS[@]}" --keystore fw.example.test \
    "$TMP/ro-impostor.cbor"
dance_to "$TMP/ro-notmain.cbor" rollover create --app-id com.vendor.app \
    --version 7 --new-key "$K/es256.pub" --new-kid v1 \
    --old-key "$K/revoked.pem" --old-kid old0
expect "rollover to a key main does not point to refused" 3 \
    'not to the new key' -- "$DANCE" rollover verify "${DNS[@]}" \
    --keystore fw.example.test "$TMP/ro-notmain.cbor"
head -c 40 "$TMP/ro-ext.cbor" >"$TMP/ro-trunc.cbor"
expect "truncated rollover: clear error" 2 'truncated' -- \
    "$DANCE" rollover device-check --trust "$K/old1.pub" \
    --server-key "$K/server.pub" --nonce "$NONCE" "$TMP/ro-trunc.cbor"

# --- the dnssec: store loader through unmodified openssl --------------------
CNF=$TMP/openssl.cnf
OSSL=(env OPENSSL_CONF="$CNF")
HAVE_LOADER=0
if [ -n "$PROVIDER" ] && [ -f "$PROVIDER" ]; then
    dance_cnf "$CNF" "$(realpath "$PROVIDER")" "nameservers=$DW_NSD" \
        "trust_anchor=$DW_ANCHOR"
    # An instrumented module (-DDANCE_SANITIZE=ON) needs libasan preloaded
    # into the uninstrumented openssl.
    if readelf -d "$PROVIDER" 2>/dev/null | grep -q 'NEEDED.*libasan'; then
        OSSL+=(LD_PRELOAD="$(gcc -print-file-name=libasan.so)"
            ASAN_OPTIONS=detect_leaks=0)
    fi
    if "${OSSL[@]}" openssl list -store-loaders 2>/dev/null |
        grep -q 'dnssec @ dance'; then
        HAVE_LOADER=1
    fi
fi
printf 'firmware image digest input\n' >"$TMP/data"
openssl dgst -sha256 -binary "$TMP/data" >"$TMP/data.sha256"
openssl pkeyutl -sign -inkey "$K/es256.pem" -in "$TMP/data.sha256" \
    -out "$TMP/data.sig" 2>/dev/null
if [ "$HAVE_LOADER" = 1 ]; then
    expect "openssl pkeyutl -verify -inkey dnssec:main.kses256 (CNAME)" 0 \
        -- "${OSSL[@]}" openssl pkeyutl -verify -pubin \
        -inkey dnssec:main.kses256.example.test -in "$TMP/data.sha256" \
        -sigfile "$TMP/data.sig"
    if grep -q 'Signature Verified Successfully' "$TMP/out"; then
        pass "openssl pkeyutl says Signature Verified Successfully"
    else
        failcase "openssl pkeyutl says Signature Verified Successfully" \
            "no such line"
    fi
    for alg in es384 ps256; do
        if [ "$alg" = ps256 ]; then
            sigopt=(-sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32)
        else
            sigopt=()
        fi
        openssl dgst -sha256 -sign "$K/$alg.pem" "${sigopt[@]}" \
            -out "$TMP/$alg.sig" "$TMP/data"
        expect "openssl dgst -verify dnssec:main.ks$alg.example.test" 0 -- \
            "${OSSL[@]}" openssl dgst -sha256 "${sigopt[@]}" \
            -verify "dnssec:main.ks$alg.example.test" \
            -signature "$TMP/$alg.sig" "$TMP/data"
    done
    expect "openssl pkey -in dnssec:v1.kseddsa (Ed25519, no CNAME)" 0 -- \
        "${OSSL[@]}" openssl pkey -pubin \
        -in dnssec:v1.kseddsa.example.test -noout -text
    expect "dnssec:...?curve=P-384 on a P-256 record refused" 1 \
        'curve P-384 was asked for' -- "${OSSL[@]}" openssl \
        pkeyutl -verify -pubin \
        -inkey 'dnssec:main.kses256.example.test?curve=P-384' \
        -in "$TMP/data.sha256" -sigfile "$TMP/data.sig"
    expect "dnssec:main.kses384...?curve=P-384 accepted" 0 -- \
        "${OSSL[@]}" openssl pkey -pubin -noout \
        -in 'dnssec:main.kses384.example.test?curve=P-384'
    expect "dnssec:main.kb.bogus.test refused, naming the step" 1 \
        'CNAME lookup of main.kb.bogus.test: bogus' -- \
        "${OSSL[@]}" openssl pkeyutl -verify -pubin \
        -inkey dnssec:main.kb.bogus.test -in "$TMP/data.sha256" \
        -sigfile "$TMP/data.sig"
    expect "dnssec:main.kcb (secure CNAME, bogus target) refused" 1 \
        'IPSECKEY lookup of v1.kb.bogus.test: bogus' -- \
        "${OSSL[@]}" openssl pkey -pubin -noout \
        -in dnssec:main.kcb.example.test
    expect "dnssec:main.ki.insecure.test refused" 1 'insecure' -- \
        "${OSSL[@]}" openssl pkey -pubin -noout \
        -in dnssec:main.ki.insecure.test
    # The loader's errors carry the provider's own reason codes.
    expect "refused key: the provider's reason 'no DNSSEC-validated key'" 1 \
        'no DNSSEC-validated key for a dnssec: URI' -- \
        "${OSSL[@]}" openssl pkey -pubin -noout \
        -in dnssec:main.ki.insecure.test
    expect "dnssec:bad..name: the provider's reason 'unusable dnssec: URI'" 1 \
        "unusable dnssec: URI.*'bad\.\.name' is not a domain name" -- \
        "${OSSL[@]}" openssl pkey -pubin -noout -in 'dnssec:bad..name'
else
    echo "# skip - openssl with dnssec: keys: the provider module" \
        "'${PROVIDER:-none}' offers no dnssec: store loader"
fi

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
