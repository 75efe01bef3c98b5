#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# demo.sh - the main job: a mutual DANE handshake between unmodified
# `openssl s_client` and `openssl s_server`, with no CA anywhere: each side
# authenticates the other by the TLSA record its owner published in
# DNSSEC-signed DNS.
#
#  1. build dance-provider (the provider dance.so and the `dance` tool);
#  2. make a key and self-signed certificate for the client and one for
#     the server, and their TLSA records (`dance tlsa`):
#       _client.device1.example.test. 3 1 1 <SHA-256 of the client's key>
#       _<port>._tcp.www.example.test. 3 1 1 <SHA-256 of the server's key>
#  3. sign a test DNS hierarchy (trust anchor "test.") with both records in
#     it and serve it with nsd on 127.0.0.1;
#  4. start `openssl s_server` with openssl.cnf loading dance.so and
#     client_auth = require, and connect `openssl s_client` whose openssl.cnf
#     names the client (client_name = _client.device1.example.test) and
#     checks the server (server_dane = require, SNI www.example.test);
#  5. show both decisions: the server's log line authenticating the client
#     by DANE and the client's log line authenticating the server by DANE;
#     then that a client with another key is refused.
# The last line is "result: mutual DANE authentication works ..." only when
# both decisions were seen; otherwise the demo exits 1.
#
# DEMO_BREAK=client or DEMO_BREAK=server publishes the TLSA record of
# another key for that side instead, to see the demo fail.
# Everything stays on 127.0.0.1 and is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")"
top=$PWD
# shellcheck source=tests/cnf/cnf.sh
. "$top/tests/cnf/cnf.sh"
case "${DEMO_BREAK:-}" in
"" | client | server) ;;
*)
    echo "demo.sh: DEMO_BREAK must be client or server" >&2
    exit 2
    ;;
esac

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

# The server's port is part of its TLSA owner name, so it is chosen first.
port=$("$top/build/tests/faultproxy" --free-port)

step "keys and self-signed certificates (no CA)"
# Each certificate names the identity DANE proves (identity_check =
# strict); "other" is an impostor claiming the client's name with a key
# that is published nowhere.
for who in client:device1.example.test server:www.example.test \
    other:device1.example.test; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -days 7 -subj "/CN=${who#*:}" -addext "subjectAltName=DNS:${who#*:}" \
        -keyout "${who%%:*}.key" -out "${who%%:*}.crt" 2>/dev/null
done
client_pub=client.crt server_pub=server.crt
[ "${DEMO_BREAK:-}" = client ] && client_pub=other.crt
[ "${DEMO_BREAK:-}" = server ] && server_pub=other.crt
{
    "$top/build/tools/dance" tlsa -n _client.device1.example.test "$client_pub"
    "$top/build/tools/dance" tlsa -n "_$port._tcp.www.example.test" "$server_pub"
} | tee dane.tlsa

step "a signed DNS zone with both TLSA records, served by nsd on loopback"
"$top/tests/dnsworld/dnsworld.sh" start "$work/dns" \
    "$top/build/tests/faultproxy" dane.tlsa >/dev/null 2>&1
# shellcheck source=/dev/null
. "$work/dns/env"
for owner in _client.device1.example.test "_$port._tcp.www.example.test"; do
    "$top/build/tools/dance" lookup -s "$DW_NSD" -a "$DW_ANCHOR" "$owner"
done

# One openssl.cnf per role: the provider from the build tree, the test
# zone's nameserver and trust anchor, one log file per role.
dance_cnf server.cnf "$top/build/provider/dance.so" "nameservers=$DW_NSD" \
    "trust_anchor=$DW_ANCHOR" log_level=info "log_file=$work/server-dance.log" \
    client_auth=require "allow=*.example.test"
dance_cnf client.cnf "$top/build/provider/dance.so" "nameservers=$DW_NSD" \
    "trust_anchor=$DW_ANCHOR" log_level=info "log_file=$work/client-dance.log" \
    client_name=_client.device1.example.test server_dane=require
touch server-dance.log client-dance.log

step "server.cnf (for openssl s_server)"
sed -n '/^\[dance_sect\]/,$p' server.cnf
step "client.cnf (for openssl s_client)"
sed -n '/^\[dance_sect\]/,$p' client.cnf

OPENSSL_CONF=server.cnf openssl s_server -accept "127.0.0.1:$port" \
    -cert server.crt -key server.key -www </dev/null >server.log 2>&1 &
server_pid=$!
for _ in $(seq 50); do
    grep -q ACCEPT server.log 2>/dev/null && break
    sleep 0.1
done

# connect CERT_BASE - one HTTPS request through s_client to www.example.test
# (the SNI name picks the server's TLSA record); prints what s_client says
# about the server's certificate and what s_server's page says about the
# client's, and the log lines both modules wrote meanwhile.
connect() {
    local s0 c0
    s0=$(wc -l <server-dance.log)
    c0=$(wc -l <client-dance.log)
    printf 'GET / HTTP/1.0\r\n\r\n' |
        OPENSSL_CONF=client.cnf openssl s_client -ign_eof \
            -connect "127.0.0.1:$port" -servername www.example.test \
            -cert "$1.crt" -key "$1.key" 2>&1 |
        grep -aE "^DANE TLSA|^Verify return code|alert" |
        sed 's/^/s_client: /' || true
    sleep 0.2
    tail -n +"$((s0 + 1))" server-dance.log | grep -a ": server: peer " |
        tee "$1.server-decision" || true
    tail -n +"$((c0 + 1))" client-dance.log | grep -a ": client: peer " |
        tee "$1.client-decision" || true
}

step "s_client with the published key: each side authenticates the other by DANE"
connect client
step "s_client with another key: refused (handshake_failure)"
connect other

# Both decisions of the first handshake, and the refusal of the second.
ok=1
if ! grep -q "server: .*tlsa _client.device1.example.test: authenticated by DANE" \
    client.server-decision; then
    echo "missing: the server authenticating the client by DANE" >&2
    ok=0
fi
if ! grep -q "client: .*tlsa _$port._tcp.www.example.test: server authenticated by DANE" \
    client.client-decision; then
    echo "missing: the client authenticating the server by DANE" >&2
    ok=0
fi
if ! grep -q "refused (client_auth = require)" other.server-decision; then
    echo "missing: the server refusing the impostor" >&2
    ok=0
fi
if [ $ok = 1 ]; then
    step "result: mutual DANE authentication works, and only for the keys in DNS"
else
    step "result: FAILED (see above)"
    exit 1
fi
