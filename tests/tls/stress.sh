#!/bin/bash
# stress.sh - a server keeps serving through a few hundred mixed good and
# bad handshakes, without crashes, and (with the ASan build of the module)
# without leaks or sanitizer reports.
#
#   stress.sh BUILD_DIR        (STRESS_N=300 handshakes by default)
#
# s_server (client_auth = require, -naccept N, the default profile) gets N
# connections: good DANE clients, wrong keys, unknown names, malformed
# ClientNames, clients without the extension, TLS 1.2 (every one refused:
# the default profile has no place for the name there) and 1.3, both by
# tests/tls/rawclient (no provider, fast) and, every tenth, by openssl
# s_client with the provider.
# Every verdict is checked; then s_server must exit by itself with status
# 0.  When the module is the ASan build, s_server runs with
# LD_PRELOAD=libasan and detect_leaks=1, so LeakSanitizer checks the
# module at exit (tests/tls/lib.sh).  Then nginx gets a third as many
# mixed handshakes and must still answer SUCCESS for a good client, with
# no worker lost.
set -euo pipefail
# shellcheck source=tests/tls/lib.sh
. "$(dirname "$0")/lib.sh"
tls_init "$@"
tls_world_start 2
N=${STRESS_N:-300}

tls_conf probe
tls_require_provider probe

tls_conf srv-stress client_auth=require
tls_server_start stress srv-stress -naccept "$N"
tls_conf cli-device1 client_name=_client.device1.example.test client_auth=off
tls_conf cli-norecord client_name=_client.norecord.example.test \
    client_auth=off

D1="-c $PKI/device1.crt -k $PKI/device1.key"
WR="-c $PKI/wrong.crt -k $PKI/wrong.key"
GOOD=name:_client.device1.example.test
bad_verdicts=0
bad_detail=""
t0=$(date +%s)
for ((i = 0; i < N; i++)); do
    ver=1.3
    ((i % 2)) && ver=1.2
    if ((i % 10 == 9)); then
        # s_client with the provider: good, or an unknown name.
        if ((i % 20 == 19)); then
            want=rejected
            conf=cli-norecord
        else
            want=authenticated
            conf=cli-device1
            ((i % 40 == 9)) && ver=1.3 # else a good client over TLS 1.2
        fi
        [ "$ver" = 1.2 ] && want=rejected
        # shellcheck disable=SC2046
        tls_run_client stress "$conf" "-tls${ver/./_}" $(tls_cert device1)
    else
        case $((i % 5)) in
        0) args="$D1 -H $GOOD -M $GOOD" want=authenticated ;;
        1) args="$WR -H $GOOD -M $GOOD" want=rejected ;;
        2) args="$D1 -H name:_client.norecord.example.test \
-M name:_client.norecord.example.test" want=rejected ;;
        3) args="$D1 -H repeat:255:x -M hex:" want=rejected ;;
        4) args="$D1 -H none -M none" want=rejected ;;
        esac
        # The default profile refuses TLS 1.2 under require, whatever the
        # ClientHello says.
        [ "$ver" = 1.2 ] && want=rejected
        CASE_OUT=$TMP/stress.out
        # shellcheck disable=SC2086
        OPENSSL_CONF=/dev/null timeout 20 "$RAWCLIENT" \
            -p "${TLS_SERVER_PORT[stress]}" -s www.example.test -v "$ver" \
            $args >"$CASE_OUT" 2>"$TMP/stress.err" || true
        tls_verdict "$CASE_OUT"
    fi
    if [ "$VERDICT" != "$want" ]; then
        bad_verdicts=$((bad_verdicts + 1))
        [ -z "$bad_detail" ] &&
            bad_detail="handshake $i (TLS $ver): expected $want, got \
$VERDICT ($VERDICT_DETAIL)"
    fi
done
t1=$(date +%s)
echo "# $N handshakes against s_server in $((t1 - t0)) s"
if [ "$bad_verdicts" -eq 0 ]; then
    tls_pass "s_server: $N mixed handshakes, every verdict as expected"
else
    tls_fail "s_server: $N mixed handshakes, every verdict as expected" \
        "$bad_verdicts wrong; first: $bad_detail"
fi
tls_server_wait stress 30
if [ "$SERVER_RC" = 0 ]; then
    tls_pass "s_server exits by itself after $N connections (status 0)"
else
    tls_fail "s_server exits by itself after $N connections (status 0)" \
        "status $SERVER_RC (124: still running, 66: sanitizer report)"
    tls_show server "${TLS_SERVER_LOG[stress]}"
fi
# With the ASan module, s_server ran with detect_leaks=1: LeakSanitizer
# reported any leak at its exit (and made the exit status 66).
if [ "$TLS_ASAN" = 1 ]; then
    tls_server_clean stress
fi

# --- nginx -----------------------------------------------------------------
NGINX=$(command -v nginx || true)
[ -z "$NGINX" ] && [ -x /usr/sbin/nginx ] && NGINX=/usr/sbin/nginx
if [ -z "$NGINX" ]; then
    tls_fail "nginx stress" "nginx is not installed (scripts/deps.sh)"
    tls_done
fi
NGX_PORT=${SERVER_PORTS[0]}
tls_conf srv-nginx client_auth=optional
tls_nginx_start "$TMP/srv-nginx.cnf" || true
workers_before=$(pgrep -P "$NGX_PID" | sort | tr '\n' ' ')
M=$((N / 3))
bad=0
first=""
for ((i = 0; i < M; i++)); do
    case $((i % 4)) in
    0) args="$D1 -H $GOOD -M $GOOD" want=SUCCESS ;;
    1) args="$WR -H $GOOD -M $GOOD" want=NOTSUCCESS ;;
    2) args="$D1 -H repeat:254:q -M repeat:254:q" want=NOTSUCCESS ;;
    3) args="$D1 -H hex:ff -M hex:" want=NOTSUCCESS ;;
    esac
    # shellcheck disable=SC2086
    OPENSSL_CONF=/dev/null timeout 20 "$RAWCLIENT" -p "$NGX_PORT" \
        -s www.example.test $args >"$TMP/ngx.out" 2>"$TMP/ngx.err" || true
    got=$(tr -d '\r' <"$TMP/ngx.out" |
        grep -a -o -E '^(SUCCESS|FAILED:.*|NONE)$' | head -n 1 || true)
    if { [ "$want" = SUCCESS ] && [ "$got" != SUCCESS ]; } ||
        { [ "$want" = NOTSUCCESS ] && [ "$got" = SUCCESS ]; }; then
        bad=$((bad + 1))
        [ -z "$first" ] && first="handshake $i: expected $want, got '${got:-no answer}'"
    fi
done
if [ "$bad" -eq 0 ]; then
    tls_pass "nginx: $M mixed handshakes, SUCCESS exactly for good clients"
else
    tls_fail "nginx: $M mixed handshakes, SUCCESS exactly for good clients" \
        "$bad wrong; first: $first"
    tls_show nginx "$NGX/logs/error.log"
fi
workers_after=$(pgrep -P "$NGX_PID" | sort | tr '\n' ' ')
if [ -n "$workers_before" ] && [ "$workers_before" = "$workers_after" ] &&
    ! grep -q 'exited on signal' "$NGX/logs/error.log"; then
    tls_pass "nginx: no worker lost ($workers_before)"
else
    tls_fail "nginx: no worker lost" \
        "workers before '$workers_before', after '$workers_after'"
    grep 'exited on signal' "$NGX/logs/error.log" | sed 's/^/#   /' || true
fi
tls_nginx_stop
san=$(tls_sanitizer_report "$NGX/stdout" "$NGX/logs/error.log")
if [ -n "$san" ]; then
    tls_fail "nginx: no sanitizer report" "found one"
    sed 's/^/#   /' <<<"$san"
fi
tls_done
