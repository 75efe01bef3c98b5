#!/bin/bash
# failures.sh - DANE client authentication failures, each against a server
# in require mode (the handshake must fail) and in optional mode (the
# handshake completes, the verify result is not OK): in TLS 1.3 with the
# default profile (client-auth) on both sides, in TLS 1.2 with the legacy
# profile (profile = hello, said on both sides: the default has no TLS 1.2
# extension).
#
#   failures.sh BUILD_DIR
#
# Cases: wrong key, no TLSA record (NXDOMAIN and NODATA), insecure zone,
# bogus record, resolver down (nameservers at a closed port, small
# timeout_ms), name not in the allow list, DANE-TA with the ClientName
# missing from the certificate's SAN, and malformed ClientNames sent by
# tests/tls/rawclient (too long, bad characters, bad length byte, zero
# length in client-auth; the ClientHello cases against hello servers).
# Plain openssl s_client is the client wherever the provider can send the
# case itself.
set -euo pipefail
# shellcheck source=tests/tls/lib.sh
. "$(dirname "$0")/lib.sh"
tls_init "$@"
tls_world_start 14

tls_conf probe
tls_require_provider probe

# Servers per policy, in require and optional mode; suffix "" is the
# default profile (said explicitly), "-hello" the legacy one.
for mode in require optional; do
    for p in "" -hello; do
        prof=profile=client-auth
        [ -z "$p" ] || prof=profile=hello
        tls_conf "srv-$mode$p" client_auth="$mode" "$prof"
        tls_server_start "$mode$p" "srv-$mode$p"
        tls_conf "srv-$mode-down$p" client_auth="$mode" "$prof" \
            nameservers="127.0.0.1@$CLOSED_PORT" timeout_ms=300
        tls_server_start "$mode-down$p" "srv-$mode-down$p"
        # device1's key is published for _client.dev.devices too: identity
        # off for that name's certificate (device1.example.test).
        tls_conf "srv-$mode-allow$p" client_auth="$mode" "$prof" \
            identity_check=off allow='*.devices.example.test' \
            nameservers="$DW_PROXY_NSD"
        tls_server_start "$mode-allow$p" "srv-$mode-allow$p"
    done
done

# client NAME OWNER - client configs sending OWNER: cli-NAME (default
# profile) and cli-NAME-hello (legacy).
client() {
    tls_conf "cli-$1" client_name="$2" client_auth=off
    tls_conf "cli-$1-hello" client_name="$2" client_auth=off profile=hello
}
client device1 _client.device1.example.test
client norecord _client.norecord.example.test
client notlsa _client.notlsa.example.test
client insecure _client.dev.insecure.test
client bogus _client.dev.bogus.test
client allowed _client.dev.devices.example.test
client ca-other _client.ca-other.example.test

# fails NAME SRV_SUFFIX CLIENT_CONF CERT [optional-want] - the case against
# the require server (rejected) and the optional one (unauthenticated,
# unless optional-want says otherwise): TLS 1.3 with the default profile,
# TLS 1.2 with the legacy one.
fails() {
    local name=$1 suffix=$2 conf=$3 cert=$4 optwant=${5:-unauthenticated}
    local ver p
    for ver in 1.2 1.3; do
        p=
        [ "$ver" = 1.2 ] && p=-hello
        # shellcheck disable=SC2046
        tls_case "require, TLS $ver${p:+ (hello)}, $name: handshake fails" \
            rejected "require$suffix$p" "$conf$p" "-tls${ver/./_}" \
            $(tls_cert "$cert")
        # shellcheck disable=SC2046
        tls_case "optional, TLS $ver${p:+ (hello)}, $name: completes, not verified" \
            "$optwant" "optional$suffix$p" "$conf$p" "-tls${ver/./_}" \
            $(tls_cert "$cert")
    done
}

# Positive controls first: the same servers accept a good client.
for mode in require optional; do
    for p in "" -hello; do
        ver=-tls1_3
        [ -z "$p" ] || ver=-tls1_2
        # shellcheck disable=SC2046
        tls_case "$mode$p: good client accepted (control)" authenticated \
            "$mode$p" "cli-device1$p" "$ver" $(tls_cert device1)
        # shellcheck disable=SC2046
        tls_case "$mode$p: allowed name accepted (allow-list control)" \
            authenticated "$mode-allow$p" "cli-allowed$p" "$ver" \
            $(tls_cert device1)
    done
done

fails "wrong key" "" cli-device1 wrong
fails "no TLSA record (NXDOMAIN)" "" cli-norecord device1
fails "no TLSA record (NODATA)" "" cli-notlsa device1
fails "insecure zone" "" cli-insecure device1
fails "bogus record" "" cli-bogus device1
fails "resolver down" "-down" cli-device1 device1
fails "name not allowed" "-allow" cli-device1 device1
# draft-ietf-dance-client-auth-13: a DANE-TA name missing from the SAN
# "MUST abort"; optional servers may either abort or go on unverified.
fails "DANE-TA, ClientName not in the SAN" "" cli-ca-other ca-device \
    not-authenticated

# The allow list is a DoS guard: no query for a name outside it.  The
# allow servers ask through the fault proxy, whose log shows each query.
if grep -qi '_client\.device1\.example\.test' "$DW_PROXY_NSD_LOG"; then
    tls_fail "no DNS query for a name outside the allow list" \
        "the proxy log shows a query for _client.device1.example.test"
else
    tls_pass "no DNS query for a name outside the allow list"
fi
# The resolver-down cases must fail within the timeout, not hang: the
# whole series above finished, so only the log line is checked here.
for mode in require optional; do
    for p in "" -hello; do
        if grep -q 'server: peer' "$TMP/srv-$mode-down$p.log" 2>/dev/null; then
            tls_pass "$mode-down$p: the provider logged the failure"
        else
            tls_fail "$mode-down$p: the provider logged the failure" \
                "no verdict in log_file $TMP/srv-$mode-down$p.log"
        fi
    done
done

# --- malformed ClientNames (raw bytes) ------------------------------------
D1="-c $PKI/device1.crt -k $PKI/device1.key"
# raw NAME SPEC_H SPEC_M [versions] - hello-profile servers, ClientHello
# SPEC_H (and TLS 1.3 Certificate SPEC_M).
raw() {
    local name=$1 h=$2 m=$3 vers=${4:-"1.2 1.3"} ver
    for ver in $vers; do
        # shellcheck disable=SC2086
        tls_raw_case "require-hello, TLS $ver, malformed ClientName ($name)" \
            rejected require-hello -v "$ver" $D1 -H "$h" -M "$m"
        # shellcheck disable=SC2086
        tls_raw_case "optional-hello, TLS $ver, malformed ClientName ($name)" \
            unauthenticated optional-hello -v "$ver" $D1 -H "$h" -M "$m"
    done
}
# Control: the raw client is understood when it sends a good name.
for ver in 1.2 1.3; do
    # shellcheck disable=SC2086
    tls_raw_case "require-hello, TLS $ver, raw client with a good name (control)" \
        authenticated require-hello -v "$ver" $D1 \
        -H name:_client.device1.example.test \
        -M name:_client.device1.example.test
done
raw "254 characters" "repeat:254:a" "repeat:254:a"
raw "255 characters" "repeat:255:b" "repeat:255:b"
raw "space" "name:_client.dev ice1.example.test" \
    "name:_client.dev ice1.example.test"
raw "'!'" "name:_client.dev!ce1.example.test" \
    "name:_client.dev!ce1.example.test"
raw "backslash escape" 'name:_client.device\0491.example.test' \
    'name:_client.device\0491.example.test'
raw "NUL byte inside" "hex:0861620063642e746573" "hex:0861620063642e746573"
raw "UTF-8 label" "hex:0c5f636c69656e742ec3a92e7474" \
    "hex:0c5f636c69656e742ec3a92e7474"
raw "empty label" "name:_client..example.test" "name:_client..example.test"
raw "label of 64" "name:$(printf 'c%.0s' {1..64}).example.test" \
    "name:$(printf 'c%.0s' {1..64}).example.test"
raw "length byte beyond the data" "hex:1e5f636c69656e74" "hex:1e5f636c69656e74"
raw "bytes after the name" "hex:03616263ff" "hex:03616263ff"
# An empty extension body is not malformed: in the hello profile it says
# "take my name from my certificate's dNSName SAN" (hello_name = off).
for ver in 1.2 1.3; do
    # shellcheck disable=SC2086
    tls_raw_case "require-hello, TLS $ver, empty extension: name from the SAN" \
        authenticated require-hello -v "$ver" $D1 -H hex: -M hex:
done

# client-auth (the default): the server's CertificateRequest carries the
# extension;
# a zero-length ClientName in the Certificate is a protocol violation that
# the draft says MUST abort with handshake_failure (in any mode).
for mode in require optional; do
    # shellcheck disable=SC2086
    tls_raw_case "$mode, client-auth, good name (control)" \
        authenticated "$mode" -v 1.3 $D1 -H none \
        -M name:_client.device1.example.test
    # shellcheck disable=SC2086
    tls_raw_case "$mode, client-auth, zero-length ClientName: abort" \
        rejected "$mode" -v 1.3 $D1 -H none -M hex:00
    if [ "$mode" = require ]; then
        want=rejected
    else
        want=unauthenticated
    fi
    # shellcheck disable=SC2086
    tls_raw_case "$mode, client-auth, 254-character ClientName" \
        "$want" "$mode" -v 1.3 $D1 -H none -M repeat:254:a
    # shellcheck disable=SC2086
    tls_raw_case "$mode, client-auth, bad characters" "$want" \
        "$mode" -v 1.3 $D1 -H none -M 'name:_client.dev!ce1.example.test'
    # shellcheck disable=SC2086
    tls_raw_case "$mode, client-auth, no extension in Certificate" \
        "$want" "$mode" -v 1.3 $D1 -H none -M none
done

for s in "${TLS_SERVERS[@]}"; do
    tls_server_stop "$s"
    [ "$TLS_ASAN" = 1 ] && tls_server_clean "$s"
done
tls_done
