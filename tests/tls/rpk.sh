#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# rpk.sh - raw public keys (RFC 7250, issue 10) switched on by
# configuration only (raw_public_keys = off | accept | prefer), with
# unmodified openssl s_client / s_server on OpenSSL >= 3.2, both ways:
#
#   server role: a client offers its raw key instead of its certificate and
#     the server authenticates it by the ClientName's DANE-EE SPKI record
#     (3 1 x) only; the wrong key, a selector-0 record, usage 1 or 2, a raw
#     key without a ClientName, a raw key where the server has
#     raw_public_keys = off (even when the application switched raw keys
#     on itself) and no key at all under client_auth = require must not
#     get in;
#   client role (server_dane): a server offers its raw key and the client
#     authenticates it by _<port>._tcp.<host> 3 1 x; a selector-0 record
#     or another key must fail.
#
#   rpk.sh BUILD_DIR
#
# Exits 77 (ctest: skipped) with "needs OpenSSL >= 3.2" where the openssl
# that runs the peers, or the module, cannot do raw keys.
#
# What the peers print: s_client says "Client-to-server raw public key
# negotiated" / "Server-to-client raw public key negotiated" when a raw key
# was negotiated; s_server -www shows the server's verify result of the
# client ("Verify return code: 0" for an authenticated raw key, 95 for one
# nobody vouched for) and "no client certificate available" (a raw key is
# no certificate: the application reads no certificate identity).
set -euo pipefail
# shellcheck source=tests/tls/lib.sh
. "$(dirname "$0")/lib.sh"
tls_init "$@"

ver=$(openssl version -v 2>/dev/null | awk '{ print $2 }')
case "$ver" in
3.[01].* | 1.* | 0.* | "")
    # The module must refuse the key at activation, saying why, and then
    # fail closed (every handshake refused), not run without raw keys.
    # (A refused configuration logs to stderr: its log_file is not used.)
    "$TLS_DIR/pki.sh" "$PKI" "$DANCE" >/dev/null || tls_die "pki.sh failed"
    tls_conf old raw_public_keys=accept
    TLS_PORT=$(tls_free_port) tls_server_start old old
    tls_run_client old old
    if [ "$VERDICT" = rejected ] &&
        grep -q 'raw_public_keys = accept: raw public keys need OpenSSL >= 3.2' \
            "${TLS_SERVER_LOG[old]}"; then
        echo "# the module refuses raw_public_keys = accept on OpenSSL $ver:"
        grep -m1 'raw_public_keys' "${TLS_SERVER_LOG[old]}" | sed 's/^/#   /'
    else
        tls_fail "OpenSSL $ver: raw_public_keys = accept refused" \
            "verdict $VERDICT, no refusal naming the version in the log"
        tls_show server "${TLS_SERVER_LOG[old]}"
        tls_done
    fi
    echo "# SKIP: needs OpenSSL >= 3.2 (raw public keys); this is OpenSSL" \
        "$ver (unit suite rpk covers the refusal)"
    exit 77
    ;;
esac

tls_world_start 8
NAME=_client.device1.example.test

tls_conf probe raw_public_keys=accept client_auth=require
out=$(env "OPENSSL_CONF=$TMP/probe.cnf" openssl list -providers 2>&1) || true
if ! grep -q '^  dance$' <<<"$out"; then
    if grep -q 'need OpenSSL >= 3.2' "$TMP/probe.log" 2>/dev/null; then
        echo "# SKIP: needs OpenSSL >= 3.2 (the module refuses raw keys):"
        sed 's/^/#   /' "$TMP/probe.log"
        exit 77
    fi
fi
tls_require_provider probe

# Servers (unmodified s_server -www; only the configuration differs).
for prof in hello client-auth; do
    tls_conf "srv-req-$prof" client_auth=require raw_public_keys=accept \
        profile="$prof"
    tls_server_start "req-$prof" "srv-req-$prof"
done
# identity_check = off: the control case below shows a certificate of
# device1 matching the selector-0 record under another name.
tls_conf srv-opt client_auth=optional raw_public_keys=accept \
    identity_check=off
tls_server_start opt srv-opt
tls_conf srv-off client_auth=require raw_public_keys=off
tls_server_start off srv-off
# The application switches raw client keys on itself; the module's
# configuration says off: the module must not authenticate them.
tls_server_start off-app srv-off -enable_client_rpk
# Applications that demand a client certificate themselves (-Verify:
# SSL_VERIFY_FAIL_IF_NO_PEER_CERT) read one after the handshake; a raw
# key would pass libssl's check and leave them none. They get none.
tls_server_start req-verify srv-req-client-auth -Verify 1
tls_server_start opt-verify srv-opt -Verify 1
# A server that offers its own raw key (prefer) to a client that accepts
# one (no client_name: its client role would keep its certificate).
tls_conf srv-prefer client_auth=off raw_public_keys=prefer
tls_server_start prefer srv-prefer

# Clients.
tls_conf cli-rpk raw_public_keys=prefer client_name="$NAME"
tls_conf cli-rpk-hello raw_public_keys=prefer client_name="$NAME" \
    profile=hello
# prefer without client_name: the name is the certificate's (auto), so the
# certificate is sent (device1.example.test 3 1 1).
tls_conf cli-rpk-noname raw_public_keys=prefer
tls_conf cli-cert-dev301 raw_public_keys=off \
    client_name=_client.dev301.example.test
for rec in dev301 dev310 dev312 dev211 dev111 ca-device; do
    tls_conf "cli-rpk-$rec" raw_public_keys=prefer \
        client_name="_client.$rec.example.test"
done
tls_conf cli-sdane-accept server_dane=require raw_public_keys=accept
tls_conf cli-sdane-prefer server_dane=require raw_public_keys=prefer \
    client_name="$NAME"
tls_conf cli-sdane-off server_dane=require raw_public_keys=off
tls_conf cli-sdane-opp server_dane=opportunistic raw_public_keys=prefer \
    client_name="$NAME"

# rpk_case CASE WANT SRV CONF [s_client options] - run s_client (CONF "-":
# no provider) and judge, WANT one of:
#   rpk-authenticated  a raw client key was negotiated, the page came, the
#                      server's verify result is 0 and the module logged
#                      "authenticated by DANE (raw public key)"
#   rpk-unverified     a raw client key was negotiated, the page came, but
#                      the server's verify result is not 0 (not admitted
#                      as authenticated)
#   cert-authenticated no raw key negotiated; a client certificate with
#                      verify result 0
#   rejected           no page (the handshake failed)
# RPK_LOG_WANT (a regex), when set, must appear in the server's module log
# for this case.
rpk_case() {
    local name=$1 want=$2 srv=$3 problem="" c2s=no page code san
    shift 3
    tls_run_client "$srv" "$@"
    grep -a -q '^Client-to-server raw public key negotiated' "$CASE_OUT" &&
        c2s=yes
    page=$(awk 'p { print } /HTTP\/1\.0 200 ok/ { p = 1 }' "$CASE_OUT")
    code=$(sed -n 's/^ *Verify return code: \([0-9]*\).*/\1/p' <<<"$page" |
        head -n 1)
    case "$want" in
    rpk-authenticated)
        [ "$VERDICT" != rejected ] && [ "$c2s" = yes ] && [ "$code" = 0 ] &&
            tail -n +"$CASE_LLINE" "${TLS_SERVER_CONF[$srv]}.log" |
            grep -q 'authenticated by DANE (raw public key)' ||
            problem="expected a raw key authenticated by DANE"
        ;;
    rpk-unverified)
        [ "$VERDICT" != rejected ] && [ "$c2s" = yes ] &&
            [ -n "$code" ] && [ "$code" != 0 ] ||
            problem="expected a raw key with a verify result other than 0"
        ;;
    cert-authenticated)
        [ "$VERDICT" = authenticated ] && [ "$c2s" = no ] ||
            problem="expected a certificate authenticated, no raw key"
        ;;
    rejected)
        [ "$VERDICT" = rejected ] || problem="expected the handshake to fail"
        ;;
    *) tls_die "rpk_case: unknown WANT $want" ;;
    esac
    if [ -n "${RPK_LOG_WANT:-}" ] &&
        ! tail -n +"$CASE_LLINE" "${TLS_SERVER_CONF[$srv]}.log" |
        grep -q -E "$RPK_LOG_WANT"; then
        problem+=" the module log lacks /$RPK_LOG_WANT/"
    fi
    san=$(tls_sanitizer_report "$CASE_OUT" "$CASE_ERR")
    [ -z "$san" ] || problem+=" a sanitizer report in the client"
    if [ -z "$problem" ]; then
        tls_pass "$name"
        return 0
    fi
    tls_fail "$name" "$problem; got $VERDICT, raw key negotiated: $c2s, \
server verify code: ${code:-none}"
    tls_show client "$CASE_ERR"
    tls_show server "${TLS_SERVER_LOG[$srv]}" "$CASE_SLINE"
    tls_show "dance log" "${TLS_SERVER_CONF[$srv]}.log" "$CASE_LLINE"
}

good=$(tls_cert device1)
wrong=$(tls_cert wrong)

# ---- server role: clients' raw keys ---------------------------------------
for prof in hello client-auth; do
    RPK_LOG_WANT='TLSA 3 1 1 matched'
    # shellcheck disable=SC2086 # tls_cert gives several words
    rpk_case "$prof: good raw key, 3 1 1" rpk-authenticated "req-$prof" \
        cli-rpk $good
    RPK_LOG_WANT='raw public key does not match'
    # shellcheck disable=SC2086
    rpk_case "$prof: wrong raw key (another key, same name)" rejected \
        "req-$prof" cli-rpk $wrong
    RPK_LOG_WANT=
done
# shellcheck disable=SC2086
rpk_case "TLS 1.2 (hello profile): good raw key" rpk-authenticated \
    req-hello cli-rpk-hello $good -tls1_2
for rec in dev310 dev312; do
    # shellcheck disable=SC2086
    rpk_case "good raw key, record $rec (3 1 x)" rpk-authenticated \
        req-client-auth "cli-rpk-$rec" $good
done
# A raw key carries no certificate: only DANE-EE SPKI can match it. Each
# of these records matches device1's key or certificate under another
# usage or selector, so any looser matching would let it in.
RPK_LOG_WANT='no DANE-EE SPKI \(3 1 x\) record'
for rec in dev301 dev211 dev111 ca-device; do
    # shellcheck disable=SC2086
    rpk_case "raw key vs $rec (not 3 1 x): refused" rejected \
        req-client-auth "cli-rpk-$rec" $good
done
RPK_LOG_WANT=
# Control: the same key's certificate does match 3 0 1 (so the refusal
# above is the raw key's, not a broken record); the raw key does not.
# shellcheck disable=SC2086
rpk_case "optional: certificate vs dev301 (3 0 1): authenticated" \
    cert-authenticated opt cli-cert-dev301 $good
# shellcheck disable=SC2086
rpk_case "optional: raw key vs dev301 (3 0 1): verify result not OK" \
    rpk-unverified opt cli-rpk-dev301 $good
# An attacker with the right key but no ClientName (no module; the
# application switches raw keys on itself).
RPK_LOG_WANT='did not send dane_clientid|without a ClientName'
# shellcheck disable=SC2086
rpk_case "raw key without a ClientName (no module): refused" rejected \
    req-client-auth - $good -enable_client_rpk
RPK_LOG_WANT=
# shellcheck disable=SC2086
rpk_case "prefer without client_name: the certificate is sent" \
    cert-authenticated req-client-auth cli-rpk-noname $good
# A session authenticated with a raw key resumes under its ClientName
# (the resumption carries no key: the session's binding stands for it).
# shellcheck disable=SC2086
rpk_case "raw key session saved" rpk-authenticated req-client-auth cli-rpk \
    $good -sess_out "$TMP/rpk.sess"
# shellcheck disable=SC2086
tls_run_client req-client-auth cli-rpk $good -sess_in "$TMP/rpk.sess"
if grep -a -q '^Reused, TLSv1.3' "$CASE_OUT" &&
    tail -n +"$CASE_LLINE" "$TMP/srv-req-client-auth.log" |
    grep -q 'authenticated by DANE (resumed session)'; then
    tls_pass "raw key session resumed under its ClientName"
else
    tls_fail "raw key session resumed under its ClientName" \
        "verdict $VERDICT, no resumption authenticated by DANE"
    tls_show "dance log" "$TMP/srv-req-client-auth.log" "$CASE_LLINE"
fi
# client_auth = require: a raw key is a key; no key is nothing.
rpk_case "require: no key at all: refused" rejected req-client-auth cli-rpk
# optional: a wrong raw key is not admitted as authenticated.
# shellcheck disable=SC2086
rpk_case "optional: wrong raw key: verify result not OK" rpk-unverified \
    opt cli-rpk $wrong
# shellcheck disable=SC2086
rpk_case "optional: good raw key" rpk-authenticated opt cli-rpk $good
# raw_public_keys = off on the server: the raw key is never negotiated (the
# client falls back to its certificate), and where the application
# switches raw keys on itself, the module refuses the raw key.
# shellcheck disable=SC2086
rpk_case "server off: no raw key negotiated (certificate)" \
    cert-authenticated off cli-rpk $good
RPK_LOG_WANT='raw_public_keys = off'
# shellcheck disable=SC2086
rpk_case "server off, application enables raw keys: refused" rejected \
    off-app cli-rpk $good
RPK_LOG_WANT=

# An application that demands a certificate is never given a raw key: the
# client falls back to its certificate (or, without one, gets nothing).
for s in req-verify opt-verify; do
    RPK_LOG_WANT='raw public keys not negotiated on this connection'
    # shellcheck disable=SC2086
    rpk_case "$s (application demands a certificate): no raw key" \
        cert-authenticated "$s" cli-rpk $good
    RPK_LOG_WANT=
done
rpk_case "req-verify: no key at all: refused" rejected req-verify cli-rpk
rpk_case "opt-verify: no key at all: refused" rejected opt-verify cli-rpk

# ---- client role: a server's raw key (server_dane) ------------------------
# sdane_rpk CASE WANT SRV HOST CONF [s_client options] - WANT: rpk (the
# server's raw key negotiated, verify 0), cert (a certificate, verify 0),
# rejected (no page). HOST picks the TLSA record (pki.sh): www 3 1 1,
# www2 3 0 1, mismatch 3 1 1 of another key.
sdane_rpk() {
    local name=$1 want=$2 srv=$3 host=$4 s2c=no problem="" vcode
    shift 4
    TLS_SNI=$host
    tls_run_client "$srv" "$@"
    TLS_SNI=www.example.test
    grep -a -q '^Server-to-client raw public key negotiated' "$CASE_OUT" &&
        s2c=yes
    vcode=${CLIENT_VERIFY%% *}
    case "$want" in
    rpk) [ "$VERDICT" != rejected ] && [ "$s2c" = yes ] &&
        [ "$vcode" = 0 ] || problem="expected the server's raw key, verify 0" ;;
    cert) [ "$VERDICT" != rejected ] && [ "$s2c" = no ] &&
        [ "$vcode" = 0 ] || problem="expected a certificate, verify 0" ;;
    rejected) [ "$VERDICT" = rejected ] ||
        problem="expected the handshake to fail" ;;
    esac
    if [ -z "$problem" ]; then
        tls_pass "$name"
        return 0
    fi
    tls_fail "$name" "$problem; got $VERDICT, server raw key: $s2c, \
client verify: ${CLIENT_VERIFY:-none}"
    tls_show client "$CASE_ERR"
    grep -a -E '^(Verify|DANE|Server-to|Client-to)' "$CASE_OUT" |
        sed 's/^/#   client: /' || true
}

# The sender of a key picks its type (RFC 7250; OpenSSL honours the
# sender's order): a server under prefer sends its raw key to any client
# that accepts one.
for c in accept prefer; do
    sdane_rpk "server_dane, $c: server's raw key, 3 1 1" rpk prefer \
        www.example.test "cli-sdane-$c"
    sdane_rpk "server_dane, $c: server's raw key vs 3 0 1: fails" rejected \
        prefer www2.example.test "cli-sdane-$c"
    sdane_rpk "server_dane, $c: server's raw key, another key: fails" \
        rejected prefer mismatch.example.test "cli-sdane-$c"
    sdane_rpk "server_dane, $c: a server without raw keys: certificate" \
        cert opt www.example.test "cli-sdane-$c"
done
sdane_rpk "server_dane, off, application enables raw keys: fails" rejected \
    prefer www.example.test cli-sdane-off -enable_server_rpk
# Opportunistic DANE falls back to PKIX, which a raw key cannot satisfy:
# the client does not ask for one.
sdane_rpk "server_dane opportunistic, prefer: certificate (PKIX fallback)" \
    cert prefer www.example.test cli-sdane-opp
sdane_rpk "no server_dane, prefer: the server's raw key is not asked for" \
    cert prefer www.example.test cli-rpk -CAfile "$PKI/www.crt"

for s in req-hello req-client-auth opt off off-app req-verify opt-verify \
    prefer; do
    tls_server_stop "$s"
    tls_server_clean "$s"
done
tls_done
