#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# pki.sh - keys, certificates and TLSA records for the TLS tests.
#
#   pki.sh DIR DANCE_BINARY [SERVER_PORT...]
#
# Generates at test time (nothing here is ever committed), with the openssl
# CLI, into DIR:
#
#   device1.{key,crt}    client, EC P-256, self-signed, SAN device1.example.test
#   rsa.{key,crt}        client, RSA 2048, self-signed, SAN rsa-device.example.test
#   ca.{key,crt}         a private CA (EC P-256): the DANE-TA(2) trust anchor
#   ca-device.{key,crt}  client, EC P-256, issued by ca.crt, SAN (with an
#                        underscore label, which openssl 3.0 accepts)
#                        _client.ca-device.example.test, EKU clientAuth
#   ca-device.chain      ca-device.crt followed by ca.crt
#   www.{key,crt}        server, EC P-256, self-signed, SAN www.example.test
#   wrong.{key,crt}      another EC key, self-signed, SAN device1.example.test:
#                        the "wrong key" of the mismatch tests
#   device1.pub          the public key (SPKI PEM) of device1.key
#   admin-cn.crt         device1.key (the published key), self-signed,
#                        subject CN=admin, SAN device1.example.test
#   other-san.crt        device1.key, self-signed, CN=device1.example.test,
#                        SANs device1.example.test and rsa-device.example.test
#                        (another device's name)
#   (admin-cn and other-san: issue 8, the identity an application reads
#   must be the one DANE proved; they match _client.device1's 3 1 1.)
#
# and DIR/extra.rr, TLSA records computed with `dance tlsa`, one per line,
# for tests/dnsworld/dnsworld.sh start ... DIR/extra.rr:
#
#   _client.device1.example.test.        3 1 1  device1
#   _client.dev301.example.test.         3 0 1  device1
#   _client.dev312.example.test.         3 1 2  device1
#   _client.dev310.example.test.         3 1 0  device1
#   _client.dev211.example.test.         2 1 1  device1 (raw-key tests)
#   _client.dev111.example.test.         1 1 1  device1 (raw-key tests)
#   device1.example.test.                3 1 1  device1  (client_name = auto)
#   _client.rsa-device.example.test.     3 1 1  rsa
#   _client.ca-device.example.test.      2 0 1  ca (name in the EE's SAN)
#   _client.ca-other.example.test.       2 0 1  ca (name NOT in the SAN)
#   _client.dev.devices.example.test.    3 1 1  device1 (allow-list tests)
#   _client.notlsa.example.test.         TXT only (secure NODATA for TLSA)
#   _client.dev.insecure.test.           3 1 1  device1 (unsigned zone)
#   _client.dev.bogus.test.              3 1 1  device1 (wrong DS: bogus)
#   and for every SERVER_PORT P (server DANE, RFC 7671 _P._tcp.<SNI host>):
#   _P._tcp.www.example.test.            3 1 1  www
#   _P._tcp.www2.example.test.           3 0 1  www
#   _P._tcp.mismatch.example.test.       3 1 1  wrong
#   _P._tcp.srv.insecure.test.           3 1 1  www
#   _P._tcp.srv.bogus.test.              3 1 1  www
#   (no record at all for nodane.example.test.)
#
# Owner names that have no record: _client.norecord.example.test. (NXDOMAIN).
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 DIR DANCE_BINARY [SERVER_PORT...]" >&2
    exit 2
fi
DIR=$1
DANCE=$2
shift 2
[ -x "$DANCE" ] || { echo "pki.sh: no dance binary $DANCE" >&2; exit 2; }
mkdir -p "$DIR"
readonly DAYS=2

# fail - print an error and exit 1.
fail() {
    echo "pki.sh: error: $*" >&2
    exit 1
}

# selfsigned NAME KEYSPEC SAN - NAME.key + self-signed NAME.crt for SAN.
selfsigned() {
    local name=$1 keyspec=$2 san=$3
    # shellcheck disable=SC2086 # KEYSPEC is several words on purpose
    openssl req -x509 -new $keyspec -nodes -keyout "$DIR/$name.key" \
        -out "$DIR/$name.crt" -days "$DAYS" -subj "/CN=$san" \
        -addext "subjectAltName=DNS:$san" 2>"$DIR/$name.err" ||
        { cat "$DIR/$name.err" >&2; fail "cannot make $name.crt"; }
    rm -f "$DIR/$name.err"
}

readonly EC="-newkey ec -pkeyopt ec_paramgen_curve:P-256"
selfsigned device1 "$EC" device1.example.test
selfsigned rsa "-newkey rsa:2048" rsa-device.example.test
selfsigned www "$EC" www.example.test
selfsigned wrong "$EC" device1.example.test
openssl pkey -in "$DIR/device1.key" -pubout -out "$DIR/device1.pub"

# samekey NAME SUBJECT SANS - self-signed NAME.crt with device1.key.
samekey() {
    openssl req -x509 -new -key "$DIR/device1.key" -out "$DIR/$1.crt" \
        -days "$DAYS" -subj "$2" -addext "subjectAltName=$3" \
        2>"$DIR/$1.err" || { cat "$DIR/$1.err" >&2; fail "cannot make $1.crt"; }
    rm -f "$DIR/$1.err"
    cp "$DIR/device1.key" "$DIR/$1.key"
}
samekey admin-cn /CN=admin DNS:device1.example.test
samekey other-san /CN=device1.example.test \
    DNS:device1.example.test,DNS:rsa-device.example.test

# The private CA and a client certificate it issued.
# shellcheck disable=SC2086 # $EC is a list of options, split on purpose
openssl req -x509 -new $EC -nodes -keyout "$DIR/ca.key" -out "$DIR/ca.crt" \
    -days "$DAYS" -subj "/CN=dance test private CA" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>"$DIR/ca.err" ||
    { cat "$DIR/ca.err" >&2; fail "cannot make ca.crt"; }
# shellcheck disable=SC2086 # $EC is a list of options, split on purpose
openssl req -new $EC -nodes -keyout "$DIR/ca-device.key" \
    -out "$DIR/ca-device.csr" -subj "/CN=ca-device.example.test" 2>"$DIR/ca.err" ||
    { cat "$DIR/ca.err" >&2; fail "cannot make ca-device.csr"; }
cat >"$DIR/ca-device.ext" <<'EXT'
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth
subjectAltName=DNS:_client.ca-device.example.test
EXT
openssl x509 -req -in "$DIR/ca-device.csr" -CA "$DIR/ca.crt" \
    -CAkey "$DIR/ca.key" -CAcreateserial -days "$DAYS" \
    -extfile "$DIR/ca-device.ext" -out "$DIR/ca-device.crt" 2>"$DIR/ca.err" ||
    { cat "$DIR/ca.err" >&2; fail "cannot issue ca-device.crt"; }
rm -f "$DIR/ca.err" "$DIR/ca-device.csr" "$DIR/ca-device.ext" "$DIR/ca.srl"
openssl x509 -in "$DIR/ca-device.crt" -noout -ext subjectAltName |
    grep -q 'DNS:_client.ca-device.example.test' ||
    fail "openssl dropped the underscore SAN of ca-device.crt"
cat "$DIR/ca-device.crt" "$DIR/ca.crt" >"$DIR/ca-device.chain"
openssl verify -CAfile "$DIR/ca.crt" "$DIR/ca-device.crt" >/dev/null ||
    fail "ca-device.crt does not verify against ca.crt"

# tlsa OWNER FILE [dance tlsa options] - append a record to extra.rr.
tlsa() {
    local owner=$1 file=$2
    shift 2
    "$DANCE" tlsa "$@" -n "$owner" "$DIR/$file" >>"$DIR/extra.rr.tmp" ||
        fail "dance tlsa failed for $owner"
}

: >"$DIR/extra.rr.tmp"
tlsa _client.device1.example.test. device1.crt -u 3 -s 1 -m 1
tlsa _client.dev301.example.test. device1.crt -u 3 -s 0 -m 1
tlsa _client.dev312.example.test. device1.crt -u 3 -s 1 -m 2
tlsa _client.dev310.example.test. device1.crt -u 3 -s 1 -m 0
# issue 10: device1's own key under usages a raw key must not match
tlsa _client.dev211.example.test. device1.crt -u 2 -s 1 -m 1
tlsa _client.dev111.example.test. device1.crt -u 1 -s 1 -m 1
tlsa device1.example.test. device1.crt -u 3 -s 1 -m 1
tlsa _client.rsa-device.example.test. rsa.crt -u 3 -s 1 -m 1
tlsa _client.ca-device.example.test. ca.crt -u 2 -s 0 -m 1
tlsa _client.ca-other.example.test. ca.crt -u 2 -s 0 -m 1
tlsa _client.dev.devices.example.test. device1.crt
echo '_client.notlsa.example.test. IN TXT "no TLSA here"' >>"$DIR/extra.rr.tmp"
tlsa _client.dev.insecure.test. device1.crt
tlsa _client.dev.bogus.test. device1.crt
for port in "$@"; do
    case "$port" in
    '' | *[!0-9]*) fail "bad server port '$port'" ;;
    esac
    tlsa "_$port._tcp.www.example.test." www.crt -u 3 -s 1 -m 1
    tlsa "_$port._tcp.www2.example.test." www.crt -u 3 -s 0 -m 1
    tlsa "_$port._tcp.mismatch.example.test." wrong.crt -u 3 -s 1 -m 1
    tlsa "_$port._tcp.srv.insecure.test." www.crt
    tlsa "_$port._tcp.srv.bogus.test." www.crt
done
mv "$DIR/extra.rr.tmp" "$DIR/extra.rr"
