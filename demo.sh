#!/usr/bin/env bash
# demo.sh - the main job: a mutual DANE handshake between unmodified
# `openssl s_client` and `openssl s_server`, with no CA anywhere.
#
#  1. build dance-provider (the provider dance.so and the `dance` tool);
#  2. make a key and self-signed certificate for the client (and one for
#     the server), and publish the client's TLSA record
#     (_client.device1.example.test. 3 1 1 <SHA-256 of its public key>);
#  3. sign a test DNS hierarchy (trust anchor "test.") with that record in
#     it and serve it with nsd on 127.0.0.1;
#  4. start `openssl s_server` with openssl.cnf loading dance.so and
#     client_auth = require, and connect `openssl s_client` whose openssl.cnf
#     names the client (client_name = _client.device1.example.test);
#  5. show that the server authenticated the client by DANE, then that a
#     client with another key is refused.
# Everything stays on 127.0.0.1 and is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD

scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

work=$(mktemp -d /tmp/dance-demo.XXXXXX)
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    "$top/tests/dnsworld/dnsworld.sh" stop "$work/dns" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

step() { printf '\n== %s\n' "$*"; }

step "keys and self-signed certificates (no CA)"
# The client's certificate names the identity DANE proves
# (identity_check = strict); "other" is an impostor claiming the same
# name with a key that is published nowhere.
for who in client:device1.example.test server:www.example.test \
    other:device1.example.test; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -days 7 -subj "/CN=${who#*:}" -addext "subjectAltName=DNS:${who#*:}" \
        -keyout "${who%%:*}.key" -out "${who%%:*}.crt" 2>/dev/null
done
"$top/build/tools/dance" tlsa -n _client.device1.example.test client.crt \
    | tee client.tlsa

step "a signed DNS zone with that TLSA record, served by nsd on loopback"
"$top/tests/dnsworld/dnsworld.sh" start "$work/dns" \
    "$top/build/tests/faultproxy" client.tlsa >/dev/null 2>&1
# shellcheck source=/dev/null
. "$work/dns/env"
"$top/build/tools/dance" lookup -s "$DW_NSD" -a "$DW_ANCHOR" \
    _client.device1.example.test

# openssl.cnf for one role: the provider from the build tree, the local
# validating setup, and the given settings.
write_cnf() { # write_cnf FILE SETTING...
    local file=$1
    shift
    {
        echo "openssl_conf = openssl_init"
        echo "[openssl_init]"
        echo "providers = provider_sect"
        echo "[provider_sect]"
        echo "default = default_sect"
        echo "dance = dance_sect"
        echo "[default_sect]"
        echo "activate = 1"
        echo "[dance_sect]"
        echo "module = $top/build/provider/dance.so"
        echo "activate = 1"
        echo "nameservers = $DW_NSD"
        echo "trust_anchor = $DW_ANCHOR"
        echo "log_level = info"
        printf '%s\n' "$@"
    } >"$file"
}
write_cnf server.cnf "client_auth = require" "allow = *.example.test"
write_cnf client.cnf "client_name = _client.device1.example.test"

step "server.cnf (for openssl s_server)"
sed -n '/^\[dance_sect\]/,$p' server.cnf
step "client.cnf (for openssl s_client)"
sed -n '/^\[dance_sect\]/,$p' client.cnf

port=$("$top/build/tests/faultproxy" --free-port)
OPENSSL_CONF=server.cnf openssl s_server -accept "127.0.0.1:$port" \
    -cert server.crt -key server.key -www </dev/null >server.log 2>&1 &
server_pid=$!
for _ in $(seq 50); do
    grep -q ACCEPT server.log 2>/dev/null && break
    sleep 0.1
done

connect() { # connect CERT_BASE: one HTTPS request through s_client
    printf 'GET / HTTP/1.0\r\n\r\n' |
        OPENSSL_CONF=client.cnf openssl s_client -quiet -ign_eof \
            -connect "127.0.0.1:$port" -cert "$1.crt" -key "$1.key" 2>&1 |
        grep -aE "dance\[|^Client certificate|^Verify return code|alert" ||
        true
}

step "s_client with the published key: the server authenticates it by DANE"
out=$(connect client)
echo "$out"
sleep 0.2
grep -a "dance.*server:" server.log | tail -1

step "s_client with another key: refused (handshake_failure)"
out2=$(connect other)
echo "$out2"
sleep 0.2
grep -a "dance.*server:" server.log | tail -1

if grep -q "authenticated by DANE" server.log &&
    grep -q "refused (client_auth = require)" server.log; then
    step "result: mutual DANE authentication works, and only for the key in DNS"
else
    step "result: FAILED (see above)"
    exit 1
fi
