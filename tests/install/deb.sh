#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# deb.sh - the Debian package as an operator meets it: build it with
# `cpack -G DEB`, install it with apt-get, switch the module on by
# including an installed snippet from a copy of the stock openssl.cnf (the
# snippets' own `module = dance.so`, no path anywhere), run a mutual DANE
# handshake between unmodified openssl s_client and s_server against the
# locally served signed zone of tests/tls/lib.sh, then purge the package
# and check that nothing of it is left.
#
#   deb.sh BUILD_DIR
#
# BUILD_DIR is a configured, built, non-sanitizer build tree. This changes
# the system (apt-get install/purge, as root or through sudo), so test.sh
# runs it only with DANCE_TEST_INSTALL=1. /etc/ssl/openssl.cnf is only
# read (and checked unchanged at the end). The package is purged on every
# exit, also when a step fails.
set -euo pipefail
# shellcheck source=tests/tls/lib.sh
. "$(dirname "$0")/../tls/lib.sh"

[ $# -eq 1 ] || tls_die "usage: $0 BUILD_DIR"
PKG=dance-provider
MODDIR=$(openssl version -m | sed -E 's/^MODULESDIR: "(.*)"$/\1/')
SNIPPETS=/usr/share/dance-provider/openssl.cnf.d
STOCK=/etc/ssl/openssl.cnf
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
unset OPENSSL_MODULES # the module must be found where libcrypto looks

# Refuse to clobber a dance.so some other install put there.
if [ -e "$MODDIR/dance.so" ] && ! dpkg -S "$MODDIR/dance.so" >/dev/null 2>&1
then
    tls_die "$MODDIR/dance.so exists and no package owns it; not touching it"
fi

if readelf -d "$1/provider/dance.so" 2>/dev/null | grep -q 'NEEDED.*libasan'
then
    tls_die "$1 is a sanitizer build: package a normal build"
fi
# deb_apt ARGS... - apt-get, non-interactive, waiting for the dpkg lock
# (other jobs on the machine may hold it).
deb_apt() {
    $SUDO env DEBIAN_FRONTEND=noninteractive \
        apt-get -o DPkg::Lock::Timeout=300 -y -qq "$@"
}

DANCE_MODULE=$MODDIR/dance.so tls_init "$1"
STOCK_SUM=$(sha256sum "$STOCK")
INSTALLED=0

# deb_cleanup - the EXIT trap: purge the package if we installed it, then
# the harness's cleanup (servers, DNS world, temp dir), keeping the status.
# shellcheck disable=SC2317 # invoked by the EXIT trap
deb_cleanup() {
    local rc=$?
    if [ "$INSTALLED" = 1 ]; then
        deb_apt purge "$PKG" >/dev/null 2>&1 || true
    fi
    (exit "$rc")
    tls_cleanup
}
trap deb_cleanup EXIT

# check CASE COMMAND... - a case that passes when COMMAND succeeds.
check() {
    local name=$1
    shift
    if "$@" >"$TMP/check.out" 2>&1; then
        tls_pass "$name"
    else
        tls_fail "$name" "'$*' failed"
        sed 's/^/#   /' "$TMP/check.out" | tail -n 20
    fi
}

# --- build and install ------------------------------------------------------
echo "# cpack -G DEB in $BUILD"
(cd "$BUILD" && cpack -G DEB -B "$TMP/cpack") >"$TMP/cpack.log" 2>&1 ||
    { tail -n 30 "$TMP/cpack.log" >&2; tls_die "cpack -G DEB failed"; }
debs=("$TMP"/cpack/"$PKG"_*.deb)
[ -f "${debs[0]}" ] || tls_die "cpack made no ${PKG}_*.deb"
DEB=${debs[0]}
echo "# $(basename "$DEB"): $(dpkg-deb -f "$DEB" Depends)"
check "the package depends on libssl3 and libldns3 (dpkg-shlibdeps)" \
    bash -c "dpkg-deb -f '$DEB' Depends | grep -q 'libssl3' &&
             dpkg-deb -f '$DEB' Depends | grep -q 'libldns3'"
# Files (not directories) the package ships, for the removal check.
mapfile -t FILES < <(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { print $6 }' |
    sed 's|^\./|/|')
INSTALLED=1
# As the README says: apt-get install ./dance-provider_*.deb
if ! (cd "$(dirname "$DEB")" && deb_apt install ./"$(basename "$DEB")") \
    >"$TMP/apt-install.log" 2>&1; then
    tail -n 30 "$TMP/apt-install.log" >&2
    tls_die "apt-get install $DEB failed"
fi
check "apt-get installed $PKG" \
    bash -c "dpkg-query -W -f='\${Status}' $PKG | grep -q 'install ok installed'"
check "dance.so is in libcrypto's module directory ($MODDIR)" \
    test -f "$MODDIR/dance.so"
check "dance --version is the package version" \
    bash -c "[ \"\$(/usr/bin/dance --version)\" = \"dance (dance-provider) \$(dpkg-deb -f '$DEB' Version)\" ]"
check "man finds dance(1) and dance-provider(7)" \
    bash -c "man -w dance | grep -q '^/usr/share/man/man1/dance.1' &&
             man -w 7 dance-provider | grep -q '^/usr/share/man/man7/'"
check "the snippets name the module without a path" \
    grep -qx 'module = dance.so' "$SNIPPETS/dance-server.cnf" \
    "$SNIPPETS/dance-client.cnf"

# --- the DNS world; TLSA records made by the installed tool ----------------
DANCE=/usr/bin/dance
tls_world_start 1

# deb_conf NAME SNIPPET KEY=VALUE... - $TMP/NAME.cnf: a copy of the stock
# openssl.cnf that includes SNIPPET (installed) as its last line, then sets
# the keys in [dance_sect] (merged with the snippet's; no module line).
deb_conf() {
    local name=$1 snippet=$2 kv
    shift 2
    {
        cat "$STOCK"
        echo ".include $SNIPPETS/$snippet"
        echo "[dance_sect]"
        for kv in "$@"; do echo "${kv%%=*} = ${kv#*=}"; done
        echo "nameservers = $DW_NSD"
        echo "trust_anchor = $DW_ANCHOR"
        echo "timeout_ms = 1000"
        echo "log_level = info"
        echo "log_file = $TMP/$name.log"
    } >"$TMP/$name.cnf"
}

deb_conf server dance-server.cnf client_auth=require \
    allow='_client.*.example.test'
deb_conf client dance-client.cnf client_name=_client.device1.example.test \
    server_dane=require
check "no configuration names a module path" \
    bash -c "! grep -h '^ *module' '$TMP/server.cnf' '$TMP/client.cnf' \
        '$SNIPPETS/dance-server.cnf' '$SNIPPETS/dance-client.cnf' |
        grep -vx 'module = dance.so'"
tls_require_provider server
tls_require_provider client
check "the provider's version parameter is the package version" \
    bash -c "OPENSSL_CONF='$TMP/server.cnf' openssl list -providers -verbose |
        grep -A2 '^  dance\$' |
        grep -qx \"    version: \$(dpkg-deb -f '$DEB' Version)\""

tls_server_start srv server

# The mutual handshake: the server authenticates the client by DANE
# (verify code 0 on its page), the client the server (s_client's own
# verify code 0 and its "DANE TLSA" line).
# shellcheck disable=SC2046 # tls_cert prints several options
tls_run_client srv client $(tls_cert device1) -verify_return_error
if [ "$VERDICT" = authenticated ] && [ "${CLIENT_VERIFY%% *}" = 0 ] &&
    [ -n "$DANE_LINE" ]; then
    tls_pass "mutual DANE: server and client each authenticated by DANE"
    echo "#   client: $DANE_LINE"
else
    tls_fail "mutual DANE: server and client each authenticated by DANE" \
        "server: $VERDICT ($VERDICT_DETAIL); client verify '$CLIENT_VERIFY', DANE line '${DANE_LINE:-none}'"
    tls_show client "$CASE_ERR"
    tls_show server "${TLS_SERVER_LOG[srv]}"
    tls_show "server log" "$TMP/server.log"
    tls_show "client log" "$TMP/client.log"
fi
check "the server's log says the client was authenticated by DANE" \
    grep -q 'authenticated by DANE' "$TMP/server.log"
# Both decisions are the module's: another key under the same name is
# refused by the server, and the client refuses a server whose TLSA record
# names another key.
# shellcheck disable=SC2046
tls_case "a client with another key is refused" rejected srv client \
    $(tls_cert wrong)
TLS_SNI=mismatch.example.test
# shellcheck disable=SC2046
tls_run_client srv client $(tls_cert device1)
TLS_SNI=www.example.test
if [ "$VERDICT" = rejected ]; then
    tls_pass "the client refuses a server whose TLSA record does not match"
else
    tls_fail "the client refuses a server whose TLSA record does not match" \
        "got $VERDICT, client verify '$CLIENT_VERIFY'"
fi
tls_server_stop srv

# --- remove -----------------------------------------------------------------
if deb_apt purge "$PKG" >"$TMP/apt-purge.log" 2>&1; then
    INSTALLED=0
    tls_pass "apt-get purge $PKG"
else
    tls_fail "apt-get purge $PKG" "$(tail -n 5 "$TMP/apt-purge.log")"
fi
left=()
for f in "${FILES[@]}"; do
    [ -e "$f" ] && left+=("$f")
done
for d in /usr/share/dance-provider /usr/share/doc/dance-provider; do
    [ -e "$d" ] && left+=("$d")
done
status=$(dpkg-query -W -f='${Status}' "$PKG" 2>/dev/null || true)
if [ "${#left[@]}" -eq 0 ] && { [ -z "$status" ] ||
    [ "$status" = "unknown ok not-installed" ]; }; then
    tls_pass "nothing of the package is left (${#FILES[@]} files gone)"
else
    tls_fail "nothing of the package is left" \
        "still there: ${left[*]:-} (dpkg status '$status')"
fi
check "openssl no longer finds the dance provider" \
    bash -c "! OPENSSL_CONF='$TMP/server.cnf' openssl list -providers 2>&1 |
        grep -qx '  dance'"
check "/etc/ssl/openssl.cnf is unchanged" \
    bash -c "[ \"\$(sha256sum '$STOCK')\" = '$STOCK_SUM' ]"
tls_done
