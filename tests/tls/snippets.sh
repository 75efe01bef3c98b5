#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# snippets.sh - the ready configuration snippets in openssl.cnf.d/ parse
# and activate the provider when included, as their comments say, at the
# end of Debian's stock /etc/ssl/openssl.cnf; example-openssl.cnf works on
# its own.  Their "module = dance.so" is found through OPENSSL_MODULES (the
# build tree), as it would be in OpenSSL's MODULESDIR once installed.
#
# Configuration never ends up weaker than written (issue 8): the server
# and client snippets included together give both roles (DANE handshakes
# against the DNS world); the module loaded twice from two sections with
# different settings refuses every handshake and logs both sections, with
# identical settings it works.
#
#   snippets.sh BUILD_DIR
set -euo pipefail
# shellcheck source=tests/tls/lib.sh
. "$(dirname "$0")/lib.sh"
tls_init "$@"
SNIPPETS=$SRC_DIR/openssl.cnf.d
MODDIR=$(dirname "$MODULE")
STOCK=/etc/ssl/openssl.cnf
openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 \
    -out "$TMP/k.pem" 2>/dev/null

# parses CASE CONF - `openssl req -config CONF` reads it (with includes)
# without a syntax error and still finds the stock [req] settings.
parses() {
    if openssl req -config "$2" -new -key "$TMP/k.pem" -subj /CN=x \
        -out /dev/null >"$TMP/req.out" 2>&1; then
        tls_pass "$1"
    else
        tls_fail "$1" "openssl req -config rejects it"
        sed 's/^/#   /' "$TMP/req.out"
    fi
}

# loads CASE CONF - `openssl list -providers` with CONF shows the default
# and the dance provider, both active.
loads() {
    local -a envs
    mapfile -t envs < <(tls_env "$2" 0)
    env "${envs[@]}" OPENSSL_MODULES="$MODDIR" openssl list -providers \
        >"$TMP/list.out" 2>&1 || true
    if grep -q '^  dance$' "$TMP/list.out" &&
        grep -q '^  default$' "$TMP/list.out" &&
        [ "$(grep -c 'status: active' "$TMP/list.out")" -ge 2 ]; then
        tls_pass "$1"
    else
        tls_fail "$1" "expected default and dance, both active"
        sed 's/^/#   /' "$TMP/list.out"
    fi
}

# ready NAME - $TMP/NAME.cnf: the snippet as an operator would use it, with
# allow set (client_auth on needs it; the shipped line is commented out).
ready() {
    sed 's/^#allow = .*/allow = *.example.test/' "$SNIPPETS/$1.cnf" \
        >"$TMP/$1.cnf"
}

for s in dance-server dance-client dance; do
    if [ ! -f "$SNIPPETS/$s.cnf" ]; then
        tls_fail "$s.cnf exists" "no $SNIPPETS/$s.cnf"
        continue
    fi
    ready "$s"
    f=$TMP/$s.cnf
    if [ -f "$STOCK" ]; then
        cp "$STOCK" "$TMP/$s-stock.cnf"
    else
        printf 'openssl_conf = openssl_init\n[openssl_init]\n' \
            >"$TMP/$s-stock.cnf"
    fi
    printf '\n.include %s\n' "$f" >>"$TMP/$s-stock.cnf"
    parses "$s.cnf included at the end of the stock openssl.cnf parses" \
        "$TMP/$s-stock.cnf"
    loads "$s.cnf included at the end of the stock openssl.cnf loads" \
        "$TMP/$s-stock.cnf"
    # A minimal including file: only the openssl_conf line.
    printf 'openssl_conf = openssl_init\n.include %s\n' "$f" \
        >"$TMP/$s-min.cnf"
    loads "$s.cnf included from a one-line openssl.cnf loads" \
        "$TMP/$s-min.cnf"
done
# Shipped as is, the server snippets turn client_auth on without allow:
# the module refuses that, naming allow, and never runs with every name.
for s in dance-server dance; do
    printf 'openssl_conf = openssl_init\n.include %s\n' "$SNIPPETS/$s.cnf" \
        >"$TMP/$s-asis.cnf"
    mapfile -t envs < <(tls_env "$TMP/$s-asis.cnf" 0)
    env "${envs[@]}" OPENSSL_MODULES="$MODDIR" openssl list -providers \
        >"$TMP/$s-asis.out" 2>&1 || true
    if grep -q 'allow is not set' "$TMP/$s-asis.out" &&
        ! grep -q '^  dance$' "$TMP/$s-asis.out"; then
        tls_pass "$s.cnf without allow is refused, naming allow"
    else
        tls_fail "$s.cnf without allow is refused, naming allow" \
            "the provider activated, or no message naming allow"
        sed 's/^/#   /' "$TMP/$s-asis.out"
    fi
done
parses "example-openssl.cnf parses" "$SNIPPETS/example-openssl.cnf" || true
loads "example-openssl.cnf loads" "$SNIPPETS/example-openssl.cnf"

# A bad value must not be ignored silently: the message names the key.
sed 's/^client_auth = optional$/client_auth = sometimes/' \
    "$SNIPPETS/dance-server.cnf" >"$TMP/bad.cnf"
printf 'openssl_conf = openssl_init\n.include %s\n' "$TMP/bad.cnf" \
    >"$TMP/bad-main.cnf"
mapfile -t envs < <(tls_env "$TMP/bad-main.cnf" 0)
env "${envs[@]}" OPENSSL_MODULES="$MODDIR" openssl list -providers \
    >"$TMP/bad.out" 2>&1 || true
if grep -q 'client_auth' "$TMP/bad.out"; then
    tls_pass "a bad client_auth value is reported, naming the key"
else
    tls_fail "a bad client_auth value is reported, naming the key" \
        "'openssl list -providers' printed no message naming client_auth"
    sed 's/^/#   /' "$TMP/bad.out"
fi

# extension_type 65000 (0xfde8) is OpenSSL's own built-in extension
# "cryptopro_bug" (TLS 1.2 only): as a custom extension it breaks every
# TLS 1.3 CertificateRequest ("bad extension" in the client), so the
# provider should refuse it like any other bad value.
tls_conf bad-type extension_type=65000
mapfile -t envs < <(tls_env "$TMP/bad-type.cnf" 0)
env "${envs[@]}" openssl list -providers >"$TMP/bad-type.out" 2>&1 || true
# The refusal comes before log_file is opened: the message is on stderr.
if grep -v 'active:' "$TMP/bad-type.out" | grep -q 'extension_type'; then
    tls_pass "extension_type 65000 (OpenSSL's cryptopro_bug) is refused"
else
    tls_fail "extension_type 65000 (OpenSSL's cryptopro_bug) is refused" \
        "no message naming extension_type (the provider activated)"
    cat "$TMP/bad-type.out" "$TMP/bad-type.log" 2>/dev/null |
        sed 's/^/#   /' || true
fi
# A misspelt key must not silently drop a setting: "clientauth" is
# refused by name (the provider re-reads its own section).
tls_conf typo clientauth=require
mapfile -t envs < <(tls_env "$TMP/typo.cnf" 0)
env "${envs[@]}" openssl list -providers >"$TMP/typo.out" 2>&1 || true
if grep -q "unknown key 'clientauth'" "$TMP/typo.out"; then
    tls_pass "a misspelt key (clientauth) is refused by name"
else
    tls_fail "a misspelt key (clientauth) is refused by name" \
        "no message naming clientauth"
    sed 's/^/#   /' "$TMP/typo.out"
fi

# log_file = syslog:<socket>: the module sends its own RFC 3164 datagrams,
# tagged dance[pid] (not the host program's name), to a socket bound here
# as a syslog daemon binds /dev/log.
python3 - "$TMP/syslog.sock" "$TMP/syslog.out" <<'PYEOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
with open(sys.argv[2], "wb") as out:
    try:
        out.write(s.recv(4096) + b"\n")
    except OSError:
        pass
PYEOF
syslog_pid=$!
for _ in $(seq 50); do
    [ -S "$TMP/syslog.sock" ] && break
    sleep 0.1
done
tls_conf syslog log_file="syslog:$TMP/syslog.sock" log_level=info
mapfile -t envs < <(tls_env "$TMP/syslog.cnf" 0)
env "${envs[@]}" openssl list -providers >"$TMP/syslog.list" 2>&1 || true
wait "$syslog_pid" || true
if grep -E -q '^<30>[A-Z][a-z]{2} [ 1-3][0-9] [0-9:]{8} dance\[[0-9]+\]: info: active: ' \
    "$TMP/syslog.out" 2>/dev/null; then
    tls_pass "log_file = syslog:<socket>: an RFC 3164 line tagged dance[pid]"
else
    tls_fail "log_file = syslog:<socket>: an RFC 3164 line tagged dance[pid]" \
        "the socket received: $(cat "$TMP/syslog.out" 2>/dev/null)"
    sed 's/^/#   /' "$TMP/syslog.list"
fi

# --- one configuration, both roles; the module loaded twice -----------------
tls_world_start 6
export OPENSSL_MODULES=$MODDIR

# The two snippets share no key but module and activate (a key written in
# both would silently keep the later value in the one merged section).
keys() {
    sed -n 's/^\([a-z_]*\) *=.*/\1/p' "$1" | sort -u
}
shared=$(comm -12 <(sed -n '/^\[dance_sect\]/,$p' \
    "$SNIPPETS/dance-server.cnf" | keys /dev/stdin) \
    <(sed -n '/^\[dance_sect\]/,$p' "$SNIPPETS/dance-client.cnf" |
        keys /dev/stdin) | grep -v -x -e module -e activate || true)
if [ -z "$shared" ]; then
    tls_pass "dance-server.cnf and dance-client.cnf set no key in common"
else
    tls_fail "dance-server.cnf and dance-client.cnf set no key in common" \
        "both set: $(tr '\n' ' ' <<<"$shared")"
fi

# The server snippet as an operator edits it for require, with the keys
# of both roles (DNS world, log) set there; the client snippet as shipped
# (client_name = auto: device1.example.test has a TLSA record).
sed -e 's/^client_auth = .*/client_auth = require/' \
    -e 's/^#allow = .*/allow = *.example.test/' \
    -e "s|^#\\?nameservers = .*|nameservers = $DW_NSD|" \
    -e "s|^#\\?trust_anchor = .*|trust_anchor = $DW_ANCHOR|" \
    -e 's/^#\?log_level = .*/log_level = info/' \
    "$SNIPPETS/dance-server.cnf" >"$TMP/srv-edited.cnf"
for order in server-client client-server; do
    if [ -f "$STOCK" ]; then
        cp "$STOCK" "$TMP/both-$order.cnf"
    else
        printf 'openssl_conf = openssl_init\n[openssl_init]\n' \
            >"$TMP/both-$order.cnf"
    fi
    # log_file, after the includes, lands in [dance_sect]: the section
    # open at their end.
    if [ "$order" = server-client ]; then
        printf '\n.include %s\n.include %s\n' "$TMP/srv-edited.cnf" \
            "$SNIPPETS/dance-client.cnf" >>"$TMP/both-$order.cnf"
    else
        printf '\n.include %s\n.include %s\n' "$SNIPPETS/dance-client.cnf" \
            "$TMP/srv-edited.cnf" >>"$TMP/both-$order.cnf"
    fi
    printf 'log_file = %s\n' "$TMP/both-$order.log" >>"$TMP/both-$order.cnf"
    loads "both snippets ($order) load" "$TMP/both-$order.cnf"
    tls_server_start "both-$order" "both-$order"
    # shellcheck disable=SC2046
    tls_case "both snippets ($order): the server requires DANE, the client \
sends its name: authenticated" authenticated "both-$order" "both-$order" \
        $(tls_cert device1)
    tls_case "both snippets ($order): a client without a certificate is \
refused (require)" rejected "both-$order" "both-$order"
    # shellcheck disable=SC2046
    tls_case "both snippets ($order): a client without the module (no \
dane_clientid) is refused" rejected "both-$order" - $(tls_cert device1)
    tls_server_stop "both-$order"
done

# twice NAME "k=v;..." "k=v;..." - $TMP/NAME.cnf loading the module twice,
# from sections [dance_a] (provider dance) and then [dance_b] (provider
# dance_b), each with the DNS world's keys and log_file $TMP/NAME.log plus
# its own keys.
twice() {
    local name=$1 a=$2 b=$3 sect keys kv
    {
        printf 'openssl_conf = openssl_init\n[openssl_init]\n'
        printf 'providers = provider_sect\n[provider_sect]\n'
        printf 'default = default_sect\ndance = dance_a\n'
        printf 'dance_b = dance_b\n[default_sect]\nactivate = 1\n'
        for sect in a b; do
            keys=$a
            [ "$sect" = b ] && keys=$b
            printf '[dance_%s]\nmodule = %s\nactivate = 1\n' "$sect" \
                "$MODULE"
            printf 'nameservers = %s\ntrust_anchor = %s\n' "$DW_NSD" \
                "$DW_ANCHOR"
            printf 'log_level = info\nlog_file = %s\n' "$TMP/$name.log"
            IFS=';' read -r -a kvs <<<"$keys"
            for kv in "${kvs[@]}"; do
                printf '%s = %s\n' "${kv%%=*}" "${kv#*=}"
            done
        done
    } >"$TMP/$name.cnf"
}
tls_conf cli-device1 client_name=_client.device1.example.test
REQ='client_auth=require;allow=*.example.test'

# An "off" section first and a "require" one second, then the other way
# round: either way every handshake is refused, and the log names both
# sections and the key (never: client authentication silently off).
twice twice-off-req 'client_auth=off' "$REQ"
twice twice-req-off "$REQ" 'client_auth=off'
# The client snippet's keys in one section, the server's in another.
twice twice-cli-srv 'client_name=auto' "$REQ"
for t in twice-off-req twice-req-off twice-cli-srv; do
    tls_server_start "$t" "$t"
    # shellcheck disable=SC2046
    tls_case "module loaded twice ($t): a genuine DANE client is refused" \
        rejected "$t" cli-device1 $(tls_cert device1)
    tls_case "module loaded twice ($t): a client without the module is \
refused" rejected "$t" -
    tls_server_stop "$t"
    if grep -q 'dance_a' "$TMP/$t.log" && grep -q 'dance_b' "$TMP/$t.log" &&
        grep -E -q '(client_auth|client_name) = ' "$TMP/$t.log"; then
        tls_pass "module loaded twice ($t): the log names both sections \
and the key"
    else
        tls_fail "module loaded twice ($t): the log names both sections \
and the key" "no line naming [dance_a], [dance_b] and the key"
        tls_show "dance log" "$TMP/$t.log"
    fi
done

# Identical settings in both sections (order apart): one configuration.
twice twice-same "$REQ" 'allow=*.example.test;client_auth=require'
tls_server_start twice-same twice-same
# shellcheck disable=SC2046
tls_case "module loaded twice, identical settings: a DANE client is \
authenticated" authenticated twice-same cli-device1 $(tls_cert device1)
tls_case "module loaded twice, identical settings: no certificate, refused" \
    rejected twice-same cli-device1
tls_server_stop twice-same
tls_done
