#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# server_dane.sh - the client role checking servers with DANE (RFC 7671,
# TLSA at _<port>._tcp.<SNI host>): unmodified openssl s_client loads the
# provider (server_dane = opportunistic | require) through OPENSSL_CONF
# and connects to a plain s_server whose certificate is self-signed.
#
#   server_dane.sh BUILD_DIR
#
# s_client prints "Verify return code: 0 (ok)" and a "DANE TLSA ..." line
# when OpenSSL's DANE engine authenticated the server; the SNI host picks
# the record: www (3 1 1 match), www2 (3 0 1 match), mismatch (a record
# of another key), nodane (no record), srv.insecure.test (unsigned zone),
# srv.bogus.test (bogus).
set -euo pipefail
# shellcheck source=tests/tls/lib.sh
. "$(dirname "$0")/lib.sh"
tls_init "$@"
tls_world_start 2

tls_conf probe
tls_require_provider probe

# The server: no dance provider at all (a stock configuration).
TLS_PORT=${SERVER_PORTS[0]}
tls_server_start plain -
TLS_PORT=

for mode in validate trust-ad; do
    extra=()
    [ "$mode" = trust-ad ] &&
        extra=(dnssec=trust-ad nameservers="$DW_UNBOUND" trust_anchor=)
    tls_conf "cli-opp-$mode" server_dane=opportunistic client_auth=off \
        "${extra[@]}"
    tls_conf "cli-req-$mode" server_dane=require client_auth=off \
        "${extra[@]}"
done
tls_conf cli-off server_dane=off client_auth=off
tls_conf cli-opp-down server_dane=opportunistic client_auth=off \
    nameservers="127.0.0.1@$CLOSED_PORT" timeout_ms=300

# sdane CASE WANT_CLIENT_VERIFY WANT_DANE CONF HOST [s_client options] -
# WANT_CLIENT_VERIFY: "ok" (handshake completes, code 0), "rejected" (no
# page), a number (the code s_client must print), or "not-ok" (handshake
# fails or code other than 0).  WANT_DANE: yes (a DANE TLSA line) or no.
sdane() {
    local name=$1 wantv=$2 wantd=$3 conf=$4 host=$5 problem="" san
    shift 5
    TLS_SNI=$host
    tls_run_client plain "$conf" "$@"
    TLS_SNI=www.example.test
    local code=${CLIENT_VERIFY%% *}
    case "$wantv" in
    ok)
        [ "$VERDICT" != rejected ] && [ "$code" = 0 ] ||
            problem="expected the handshake to complete with verify code 0,"
        ;;
    rejected)
        [ "$VERDICT" = rejected ] ||
            problem="expected the handshake to fail,"
        ;;
    not-ok)
        [ "$VERDICT" = rejected ] || [ "$code" != 0 ] ||
            problem="expected a failed handshake or a verify error,"
        ;;
    *)
        [ "$VERDICT" != rejected ] && [ "$code" = "$wantv" ] ||
            problem="expected the handshake to complete with code $wantv,"
        ;;
    esac
    if [ "$wantd" = yes ] && [ -z "$DANE_LINE" ]; then
        problem+=" expected a DANE TLSA line,"
    elif [ "$wantd" = no ] && [ -n "$DANE_LINE" ]; then
        problem+=" expected no DANE authentication,"
    fi
    san=$(tls_sanitizer_report "$CASE_OUT" "$CASE_ERR")
    [ -z "$san" ] || problem+=" a sanitizer report in the client,"
    if [ -z "$problem" ]; then
        tls_pass "$name"
    else
        tls_fail "$name" "$problem got: handshake $VERDICT, client verify \
'${CLIENT_VERIFY:-none}', DANE '${DANE_LINE:-none}'"
        tls_show client "$CASE_ERR"
        grep -a -E '^(Verify|DANE|Verified)' "$CASE_OUT" |
            sed 's/^/#   client: /' || true
    fi
}

for mode in validate trust-ad; do
    for ver in 1.2 1.3; do
        v="-tls${ver/./_}"
        sdane "$mode TLS $ver require, 3 1 1 match" ok yes \
            "cli-req-$mode" www.example.test "$v"
        sdane "$mode TLS $ver require, 3 0 1 match" ok yes \
            "cli-req-$mode" www2.example.test "$v"
        sdane "$mode TLS $ver require, mismatch: fails" rejected no \
            "cli-req-$mode" mismatch.example.test "$v"
        sdane "$mode TLS $ver require, no record: fails" rejected no \
            "cli-req-$mode" nodane.example.test "$v"
        sdane "$mode TLS $ver require, insecure zone: fails" rejected no \
            "cli-req-$mode" srv.insecure.test "$v"
        sdane "$mode TLS $ver require, bogus: fails" rejected no \
            "cli-req-$mode" srv.bogus.test "$v"
        sdane "$mode TLS $ver opportunistic, match" ok yes \
            "cli-opp-$mode" www.example.test "$v"
        sdane "$mode TLS $ver opportunistic, mismatch: not verified" \
            not-ok no "cli-opp-$mode" mismatch.example.test "$v"
        sdane "$mode TLS $ver opportunistic, mismatch, -verify_return_error" \
            rejected no "cli-opp-$mode" mismatch.example.test "$v" \
            -verify_return_error
        # No record: PKIX untouched (self-signed: 18; with the cert as
        # CAfile: 0).
        sdane "$mode TLS $ver opportunistic, no record: PKIX (18)" 18 no \
            "cli-opp-$mode" nodane.example.test "$v"
        sdane "$mode TLS $ver opportunistic, no record: PKIX with CAfile" \
            ok no "cli-opp-$mode" nodane.example.test "$v" \
            -CAfile "$PKI/www.crt" -verify_return_error
        sdane "$mode TLS $ver opportunistic, insecure zone: PKIX (18)" 18 no \
            "cli-opp-$mode" srv.insecure.test "$v"
        # RFC 7672: only a proven absence or a proven insecure zone lets
        # opportunistic DANE fall back; anyone on the DNS path can make an
        # answer bogus or indeterminate.
        sdane "$mode TLS $ver opportunistic, bogus: fails (no downgrade)" \
            rejected no "cli-opp-$mode" srv.bogus.test "$v"
        sdane "$mode TLS $ver opportunistic, resolver down: fails" \
            rejected no cli-opp-down www.example.test "$v"
    done
done
sdane "server_dane=off: PKIX only even with a record (18)" 18 no cli-off \
    www.example.test
sdane "server_dane=off, mismatching record ignored (18)" 18 no cli-off \
    mismatch.example.test

tls_server_stop plain
tls_done
