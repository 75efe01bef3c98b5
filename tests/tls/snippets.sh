#!/bin/bash
# snippets.sh - the ready configuration snippets in openssl.cnf.d/ parse
# and activate the provider when included, as their comments say, at the
# end of Debian's stock /etc/ssl/openssl.cnf; example-openssl.cnf works on
# its own.  Their "module = dance.so" is found through OPENSSL_MODULES (the
# build tree), as it would be in OpenSSL's MODULESDIR once installed.
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

for s in dance-server dance-client dance; do
    f=$SNIPPETS/$s.cnf
    if [ ! -f "$f" ]; then
        tls_fail "$s.cnf exists" "no $f"
        continue
    fi
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
tls_done
