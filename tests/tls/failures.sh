#!/bin/bash
# failures.sh - DANE client authentication failures, each against a server
# in require mode (the handshake must fail) and in optional mode (the
# handshake completes, the verify result is not OK).
#
#   failures.sh BUILD_DIR
#
# Cases: wrong key, no TLSA record (NXDOMAIN and NODATA), insecure zone,
# bogus record, resolver down (nameservers at a closed port, small
# timeout_ms), name not in the allow list, DANE-TA with the ClientName
# missing from the certificate's SAN, and malformed ClientNames sent by
# tests/tls/rawclient (too long, bad characters, bad length byte, zero
# length in client-auth-13).  Plain openssl s_client is the client
# wherever the provider can send the case itself.
set -euo pipefail
# shellcheck source=tests/tls/lib.sh
. "$(dirname "$0")/lib.sh"
tls_init "$@"
tls_world_start 10

tls_conf probe
tls_require_provider probe

# Servers per policy, in require and optional mode.
for mode in require optional; do
    tls_conf "srv-$mode" client_auth="$mode"
    tls_server_start "$mode" "srv-$mode"
    tls_conf "srv-$mode-down" client_auth="$mode" \
        nameservers="127.0.0.1@$CLOSED_PORT" timeout_ms=300
    tls_server_start "$mode-down" "srv-$mode-down"
    # device1's key is published for _client.dev.devices too: identity
    # off for that name's certificate (device1.example.test).
    tls_conf "srv-$mode-allow" client_auth="$mode" identity_check=off \
        allow='*.devices.example.test' nameservers="$DW_PROXY_NSD"
    tls_server_start "$mode-allow" "srv-$mode-allow"
    tls_conf "srv-$mode-13" client_auth="$mode" profile=client-auth-13
    tls_server_start "$mode-13" "srv-$mode-13"
done

# client NAME OWNER - a client config sending OWNER.
client() {
    tls_conf "cli-$1" client_name="$2" client_auth=off
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
# unless optional-want says otherwise), in TLS 1.2 and 1.3.
fails() {
    local name=$1 suffix=$2 conf=$3 cert=$4 optwant=${5:-unauthenticated}
    local ver
    for ver in 1.2 1.3; do
        # shellcheck disable=SC2046
        tls_case "require, TLS $ver, $name: handshake fails" rejected \
            "require$suffix" "$conf" "-tls${ver/./_}" $(tls_cert "$cert")
        # shellcheck disable=SC2046
        tls_case "optional, TLS $ver, $name: completes, not verified" \
            "$optwant" "optional$suffix" "$conf" "-tls${ver/./_}" \
            $(tls_cert "$cert")
    done
}

# Positive controls first: the same servers accept a good client.
for mode in require optional; do
    # shellcheck disable=SC2046
    tls_case "$mode: good client accepted (control)" authenticated "$mode" \
        cli-device1 $(tls_cert device1)
    # shellcheck disable=SC2046
    tls_case "$mode: allowed name accepted (allow-list control)" \
        authenticated "$mode-allow" cli-allowed $(tls_cert device1)
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
    if [ -s "$TMP/srv-$mode-down.log" ]; then
        tls_pass "$mode-down: the provider logged the failure"
    else
        tls_fail "$mode-down: the provider logged the failure" \
            "empty log_file $TMP/srv-$mode-down.log"
    fi
done

# --- malformed ClientNames (raw bytes) ------------------------------------
D1="-c $PKI/device1.crt -k $PKI/device1.key"
# raw NAME SPEC_H SPEC_M [versions] - hello-profile servers, ClientHello
# SPEC_H (and TLS 1.3 Certificate SPEC_M).
raw() {
    local name=$1 h=$2 m=$3 vers=${4:-"1.2 1.3"} ver
    for ver in $vers; do
        # shellcheck disable=SC2086
        tls_raw_case "require, TLS $ver, malformed ClientName ($name)" \
            rejected require -v "$ver" $D1 -H "$h" -M "$m"
        # shellcheck disable=SC2086
        tls_raw_case "optional, TLS $ver, malformed ClientName ($name)" \
            unauthenticated optional -v "$ver" $D1 -H "$h" -M "$m"
    done
}
# Control: the raw client is understood when it sends a good name.
for ver in 1.2 1.3; do
    # shellcheck disable=SC2086
    tls_raw_case "require, TLS $ver, raw client with a good name (control)" \
        authenticated require -v "$ver" $D1 \
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
    tls_raw_case "require, TLS $ver, empty extension: name from the SAN" \
        authenticated require -v "$ver" $D1 -H hex: -M hex:
done

# client-auth-13: the server's CertificateRequest carries the extension;
# a zero-length ClientName in the Certificate is a protocol violation that
# the draft says MUST abort with handshake_failure (in any mode).
for mode in require optional; do
    # shellcheck disable=SC2086
    tls_raw_case "$mode, client-auth-13, good name (control)" \
        authenticated "$mode-13" -v 1.3 $D1 -H none \
        -M name:_client.device1.example.test
    # shellcheck disable=SC2086
    tls_raw_case "$mode, client-auth-13, zero-length ClientName: abort" \
        rejected "$mode-13" -v 1.3 $D1 -H none -M hex:00
    if [ "$mode" = require ]; then
        want=rejected
    else
        want=unauthenticated
    fi
    # shellcheck disable=SC2086
    tls_raw_case "$mode, client-auth-13, 254-character ClientName" \
        "$want" "$mode-13" -v 1.3 $D1 -H none -M repeat:254:a
    # shellcheck disable=SC2086
    tls_raw_case "$mode, client-auth-13, bad characters" "$want" \
        "$mode-13" -v 1.3 $D1 -H none -M 'name:_client.dev!ce1.example.test'
    # shellcheck disable=SC2086
    tls_raw_case "$mode, client-auth-13, no extension in Certificate" \
        "$want" "$mode-13" -v 1.3 $D1 -H none -M none
done

for s in "${TLS_SERVERS[@]}"; do
    tls_server_stop "$s"
    [ "$TLS_ASAN" = 1 ] && tls_server_clean "$s"
done
tls_done
