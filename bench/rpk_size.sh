#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# rpk_size.sh - handshake size with a raw public key vs a certificate
# (RFC 7250, issue 10): bytes on the wire in each direction of one full
# TLS 1.3 handshake with mutual DANE authentication, the module loaded in
# unmodified openssl s_client and s_server through OPENSSL_CONF.
#
#   bench/rpk_size.sh BUILD_DIR [ROUNDS]
#
# Needs OpenSSL >= 3.2 (exits 77 otherwise). Starts the test DNS world
# (tests/dnsworld) and its servers on loopback, and stops them on exit.
# The numbers are s_client's "SSL handshake has read R bytes and written W
# bytes" (TLS records, headers included, up to the end of the handshake;
# no application data), checked against the module's verdict in its log
# and against the certificate type s_client says was negotiated. The
# sizes of one configuration do not vary between rounds except for
# signature lengths (ECDSA DER: +-2 bytes); ROUNDS (default 3) prints
# each, then the median.
#
# Cases (client key and certificate of tests/tls/pki.sh; the server's is
# www, EC P-256, self-signed):
#   ec-cert    client EC P-256 certificate, server certificate
#   ec-rpk     client EC P-256 raw key,     server certificate
#   ec-rpk2    client EC P-256 raw key,     server raw key (server_dane)
#   rsa-cert   client RSA 2048 certificate, server certificate
#   rsa-rpk    client RSA 2048 raw key,     server certificate
set -euo pipefail
SELF_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/tls/lib.sh
. "$SELF_DIR/../tests/tls/lib.sh"
ROUNDS=${2:-3}
tls_init "$1"

ver=$(openssl version -v 2>/dev/null | awk '{ print $2 }')
case "$ver" in
3.[01].* | 1.* | 0.* | "")
    echo "# SKIP: needs OpenSSL >= 3.2 (raw public keys); this is OpenSSL" \
        "${ver:-unknown}"
    exit 77
    ;;
esac

tls_world_start 1
tls_conf srv client_auth=require raw_public_keys=prefer \
    client_name=_client.www.example.test profile=client-auth log_level=info
tls_require_provider srv
tls_server_start srv srv -tls1_3
tls_conf cert raw_public_keys=off client_name=_client.device1.example.test \
    profile=client-auth
tls_conf rsa-cert raw_public_keys=off \
    client_name=_client.rsa-device.example.test profile=client-auth
tls_conf rpk raw_public_keys=prefer client_name=_client.device1.example.test \
    profile=client-auth
tls_conf rsa-rpk raw_public_keys=prefer \
    client_name=_client.rsa-device.example.test profile=client-auth
tls_conf rpk2 raw_public_keys=prefer server_dane=require \
    client_name=_client.device1.example.test profile=client-auth

# measure CASE CONF KEY WANT_C2S WANT_S2C - one handshake; prints
# "CASE read written" or fails when the handshake or the negotiated types
# are not what the case says.
measure() {
    local name=$1 conf=$2 key=$3 c2s=$4 s2c=$5 line r w got
    # shellcheck disable=SC2046 # tls_cert gives several words
    tls_run_client srv "$conf" $(tls_cert "$key") -tls1_3 -groups "$KX"
    line=$(grep -a -m1 '^SSL handshake has read' "$CASE_OUT" || true)
    r=$(sed -n 's/^SSL handshake has read \([0-9]*\) bytes.*/\1/p' <<<"$line")
    w=$(sed -n 's/.* and written \([0-9]*\) bytes.*/\1/p' <<<"$line")
    got="$(grep -a -c '^Client-to-server raw public key negotiated' \
        "$CASE_OUT" || true)/$(grep -a -c \
        '^Server-to-client raw public key negotiated' "$CASE_OUT" || true)"
    if [ "$VERDICT" = rejected ] || [ -z "$r" ] || [ -z "$w" ] ||
        [ "$got" != "$c2s/$s2c" ] ||
        ! tail -n +"$CASE_LLINE" "$TMP/srv.log" |
        grep -q 'authenticated by DANE'; then
        echo "rpk_size: case $name did not authenticate as expected" \
            "(verdict $VERDICT, raw keys c2s/s2c $got, want $c2s/$s2c)" >&2
        tls_show client "$CASE_ERR" >&2
        tls_show "dance log" "$TMP/srv.log" "$CASE_LLINE" >&2
        exit 1
    fi
    echo "$name $r $w"
}

# median - the middle of the numbers on stdin.
median() {
    sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# The key exchange is the same in every case; it is shown both with
# OpenSSL 3.5's default hybrid group (its key shares alone are over 2 KB)
# and with plain X25519, where the authentication part dominates.
for KX in X25519MLKEM768 X25519; do
    results=$TMP/results.$KX
    : >"$results"
    for ((i = 0; i < ROUNDS; i++)); do
        {
            measure ec-cert cert device1 0 0
            measure ec-rpk rpk device1 1 0
            measure ec-rpk2 rpk2 device1 1 1
            measure rsa-cert rsa-cert rsa 0 0
            measure rsa-rpk rsa-rpk rsa 1 0
        } >>"$results"
    done
    echo
    echo "OpenSSL $ver, TLS 1.3, group $KX; bytes per handshake"
    echo "(median of $ROUNDS), s_client's view:"
    echo
    echo "| case     | client -> server | server -> client | total |"
    echo "|----------|------------------|------------------|-------|"
    for c in ec-cert ec-rpk ec-rpk2 rsa-cert rsa-rpk; do
        w=$(awk -v c="$c" '$1 == c { print $3 }' "$results" | median)
        r=$(awk -v c="$c" '$1 == c { print $2 }' "$results" | median)
        printf '| %-8s | %16s | %16s | %5s |\n' "$c" "$w" "$r" $((w + r))
    done
done
tls_server_stop srv
