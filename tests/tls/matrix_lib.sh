# SPDX-License-Identifier: Apache-2.0
# matrix_lib.sh - helpers for the issue 8 application matrix
# (tests/tls/matrix_web.sh, matrix_misc.sh, appsrv.sh); sourced after
# lib.sh.  Every server is an unmodified application that loads the
# provider only through OPENSSL_CONF, judged by what a client gets from it.
#
#   mx_init BUILD_DIR NPORTS      tls_init, the DNS world, the client and
#                                 server provider configurations
#   mx_port                       the next server port (MX_PORT)
#   mx_start NAME CONF|- CMD...   run CMD in the background with that
#                                 provider configuration; stopped by the
#                                 EXIT trap (lib.sh's server list)
#   mx_wait_port PORT NAME        wait until PORT listens (or NAME died)
#   mx_case CASE WANT KIND PORT SNI INPUT [s_client options...]
#   mx_kind KIND CONF             a client KIND's s_client certificate
#                                 options (MX_CERT) and configuration
#
# Server configurations: $TMP/srv-require.cnf and srv-optional.cnf
# (client_auth = require / optional, allow = the device's ClientName,
# identity_check left at its default: strict).
#
# Client KINDs (openssl s_client; "module" = the provider loaded with
# client_name = _client.device1.example.test, client_auth = off, from
# $TMP/cli-dane.cnf, or $TMP/$MX_CLIENT_CONF.cnf if that is set):
#   dane        module, device1.crt: the genuine device (published key)
#   rogue       module, wrong.crt: a self-signed key published nowhere,
#               sending dane_clientid with the device's name
#   admin       module, admin-cn.crt: the published key, subject CN=admin
#   othersan    module, other-san.crt: the published key, SANs include
#               another device's name
#   danenocert  module, no certificate
#   ca          no module, ca-device.crt issued by ca.crt (the CA the
#               strict applications trust), with its chain
#   nocert      no module, no certificate
#
# WANT: admitted (the application answered with its ADMITTED marker),
# refused (no marker: handshake failed, connection dropped or the
# application's error page), notverified (refused, or admitted without a
# successfully verified certificate: MX_VERIFIED_RE must not match).
# MX_MARK is the marker regex (default ADMITTED); MX_SHOWS, if set, is a
# regex the admitted answer must also match (what the application shows).
# MX_DETAIL, if set, is a regex of further answer lines (e.g. headers)
# shown with the marker line.  MX_LOGS lists files shown when a case
# fails.
# shellcheck shell=bash

# shellcheck disable=SC2034 # the scripts that source this read its variables

# The matrix checks each application over TLS 1.2 and 1.3 alike, which
# only the legacy profile spans: every configuration here says
# profile = hello (lib.sh's TLS_PROFILE). The default profile
# (client-auth, TLS 1.3 only) is checked by profile.sh, formats.sh,
# failures.sh, apps.sh and stress.sh.
TLS_PROFILE=${TLS_PROFILE:-hello}
MX_ALLOW=_client.device1.example.test
MX_MARK=ADMITTED
MX_VERIFIED_RE='verify=0 subject=/'
MX_SHOWS=
MX_DETAIL=
MX_LOGS=()

# mx_init BUILD_DIR NPORTS - the common set-up of the matrix scripts.
mx_init() {
    tls_init "$1"
    tls_world_start "$2"
    tls_conf probe
    tls_require_provider probe
    tls_conf cli-dane client_name=$MX_ALLOW client_auth=off
    tls_conf srv-require client_auth=require allow=$MX_ALLOW
    tls_conf srv-optional client_auth=optional allow=$MX_ALLOW
}

# mx_port - pop the next server port into MX_PORT.
mx_port() {
    [ "${#SERVER_PORTS[@]}" -gt 0 ] || tls_die "no server port left"
    MX_PORT=${SERVER_PORTS[0]}
    SERVER_PORTS=("${SERVER_PORTS[@]:1}")
}

# mx_start NAME CONF|- CMD... - start CMD (stdout+stderr to
# $TMP/NAME.out) with $TMP/CONF.cnf ("-": OPENSSL_CONF=/dev/null);
# registered with lib.sh so that the EXIT trap stops it.
mx_start() {
    local name=$1 conf=$2
    local -a envs=(OPENSSL_CONF=/dev/null)
    shift 2
    [ "$conf" != - ] && mapfile -t envs < <(tls_env "$TMP/$conf.cnf" 0)
    # Its own session and process group: apache's prefork MPM signals its
    # whole process group when it stops.
    env "${envs[@]}" setsid "$@" </dev/null >"$TMP/$name.out" 2>&1 &
    TLS_SERVERS+=("$name")
    TLS_SERVER_PID[$name]=$!
    TLS_SERVER_LOG[$name]=$TMP/$name.out
    TLS_SERVER_CONF[$name]=$TMP/$conf
}

# mx_wait_port PORT NAME - wait (~15 s) until 127.0.0.1:PORT accepts;
# returns 1 (and shows NAME's output) if it does not or NAME exited.
mx_wait_port() {
    local port=$1 name=$2 i
    for ((i = 0; i < 150; i++)); do
        if timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null
        then
            return 0
        fi
        if ! kill -0 "${TLS_SERVER_PID[$name]}" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    tls_show "$name" "$TMP/$name.out" >&2
    return 1
}

# mx_kind KIND CONF - the s_client options of matrix client KIND in
# MX_CERT (array) and the provider configuration it runs with in MX_CONF:
# CONF, or "-" (no provider) for the clients that do not use it.
mx_kind() {
    MX_CONF=$2
    MX_CERT=()
    case "$1" in
    dane) MX_CERT=(-cert "$PKI/device1.crt" -key "$PKI/device1.key") ;;
    rogue) MX_CERT=(-cert "$PKI/wrong.crt" -key "$PKI/wrong.key") ;;
    admin) MX_CERT=(-cert "$PKI/admin-cn.crt" -key "$PKI/admin-cn.key") ;;
    othersan) MX_CERT=(-cert "$PKI/other-san.crt" -key "$PKI/other-san.key") ;;
    danenocert) ;;
    ca)
        MX_CONF=-
        MX_CERT=(-cert "$PKI/ca-device.crt" -key "$PKI/ca-device.key"
            -cert_chain "$PKI/ca.crt")
        ;;
    nocert) MX_CONF=- ;;
    *) tls_die "mx_kind: unknown kind $1" ;;
    esac
}

# mx_client KIND PORT SNI INPUT [s_client options...] - run s_client as
# KIND, send INPUT (printf format), keep the answer in MX_OUT/MX_ERR.
mx_client() {
    local kind=$1 port=$2 sni=$3 input=$4 conf id
    local -a cert=() envs=(OPENSSL_CONF=/dev/null)
    shift 4
    mx_kind "$kind" "${MX_CLIENT_CONF:-cli-dane}"
    conf=$MX_CONF
    cert=("${MX_CERT[@]}")
    [ "$conf" != - ] && mapfile -t envs < <(tls_env "$TMP/$conf.cnf" 1)
    id=$((TLS_PASSED + TLS_FAILED + 1))
    MX_OUT=$TMP/mx$id.out
    MX_ERR=$TMP/mx$id.err
    # shellcheck disable=SC2059 # INPUT is a format on purpose
    printf "$input" | env "${envs[@]}" timeout 15 openssl s_client -ign_eof \
        -connect "127.0.0.1:$port" -servername "$sni" "${cert[@]}" "$@" \
        >"$MX_OUT" 2>"$MX_ERR" || true
}

# mx_judge WANT - from MX_OUT: MX_GOT (admitted|refused), MX_LINE (the
# answer line with the marker); returns 0 if WANT is met.
mx_judge() {
    local want=$1 text=$MX_OUT.txt
    # One file, no pipes into grep -q: with pipefail, grep -q's early exit
    # makes the writer die of SIGPIPE and the pipeline "fail".
    tr -d '\r' <"$MX_OUT" >"$text"
    MX_LINE=$(grep -a -o -E -m1 "($MX_MARK).*" "$text" || true)
    if [ -n "$MX_LINE" ]; then MX_GOT=admitted; else MX_GOT=refused; fi
    if [ -n "$MX_LINE" ] && [ -n "$MX_DETAIL" ]; then
        MX_LINE+=" $(grep -a -E "$MX_DETAIL" "$text" | tr '\n' ' ' || true)"
        MX_LINE=${MX_LINE% }
    fi
    case "$want" in
    admitted)
        [ "$MX_GOT" = admitted ] || return 1
        [ -z "$MX_SHOWS" ] || grep -a -q -E "$MX_SHOWS" "$text"
        ;;
    refused) [ "$MX_GOT" = refused ] ;;
    notverified)
        [ "$MX_GOT" = refused ] || ! grep -a -q -E "$MX_VERIFIED_RE" "$text"
        ;;
    *) tls_die "mx_judge: unknown WANT $want" ;;
    esac
}

# mx_case CASE WANT KIND PORT SNI INPUT [s_client options...] - one case.
mx_case() {
    local name=$1 want=$2 f
    shift 2
    mx_client "$@"
    if [ -n "$(tls_sanitizer_report "$MX_OUT" "$MX_ERR")" ]; then
        tls_fail "$name" "sanitizer report in the client"
        tls_sanitizer_report "$MX_OUT" "$MX_ERR" | sed 's/^/#   /'
    elif mx_judge "$want"; then
        tls_pass "$name${MX_LINE:+ [$MX_LINE]}"
        return 0
    else
        if [ "$want" = admitted ] && [ "$MX_GOT" = admitted ]; then
            tls_fail "$name" \
                "admitted, but the answer does not show '$MX_SHOWS' [$MX_LINE]"
        else
            tls_fail "$name" \
                "expected $want, got $MX_GOT${MX_LINE:+ [$MX_LINE]}"
        fi
        tls_show client "$MX_ERR"
        for f in "${MX_LOGS[@]}"; do
            tls_show "$(basename "$f")" "$f"
        done
    fi
    return 0
}

# mx_stop_all - stop every server (for the ASan report check) and check
# that none logged a sanitizer report.
mx_stop_all() {
    local s san
    for s in "${TLS_SERVERS[@]}"; do
        tls_server_stop "$s"
        [ "$TLS_ASAN" = 1 ] || continue
        # The output, and the logs in its directory (apache's and
        # nginx's children write their stderr there).
        san=$(tls_sanitizer_report "$TMP/$s.out" "$TMP/$s"/*.log \
            "$TMP/$s"/logs/*.log)
        if [ -z "$san" ]; then
            tls_pass "server $s: no sanitizer report"
        else
            tls_fail "server $s: no sanitizer report" "found one"
            sed 's/^/#   /' <<<"$san"
        fi
    done
    return 0
}

# ---------------------------------------------------------------------------
# web servers (matrix_web.sh, matrix_nginx.sh)

# req HOST - an HTTP/1.0 request for / (printf format).
req() { printf '%s\n' "GET / HTTP/1.0\r\nHost: $1\r\n\r\n"; }

# web_matrix APP LABEL MODE PORT SNI STRICTNESS - the cases for one
# listener.  MODE: require|optional (the provider's client_auth);
# STRICTNESS, the application's own setting: strict (a CA-verified
# certificate required), peer (a certificate asked; if one is sent it
# must verify; none is fine), ask (a certificate asked, any accepted, the
# result shown), none (nothing asked).  WEB_SHOW_DANE: regex the answer to
# the DANE client must match (what the application shows).
web_matrix() {
    local app=$1 label=$2 mode=$3 port=$4 sni=$5 st=$6 v t in n a
    in=$(req "$sni")
    for v in "${VERSIONS[@]}"; do
        t="-tls${v/./_}"
        n="$app $label $mode TLS $v"
        MX_SHOWS=$WEB_SHOW_DANE
        a=
        [ "$mode" = require ] && a="(a) "
        mx_case "$n: ${a}DANE client admitted" admitted dane "$port" "$sni" \
            "$in" "$t"
        MX_SHOWS=
        if [ "$mode" = require ]; then
            mx_case "$n: (c) no certificate refused" refused nocert \
                "$port" "$sni" "$in" "$t"
            mx_case "$n: unpublished key refused" refused rogue "$port" \
                "$sni" "$in" "$t"
            mx_case "$n: CA client refused (require: DANE only)" refused \
                ca "$port" "$sni" "$in" "$t"
        else
            case "$st" in
            strict | peer)
                mx_case "$n: (b) unpublished key with dane_clientid refused" \
                    refused rogue "$port" "$sni" "$in" "$t"
                mx_case "$n: (b) CA client admitted" admitted ca "$port" \
                    "$sni" "$in" "$t"
                ;;
            *)
                mx_case "$n: unpublished key never shows as verified" \
                    notverified rogue "$port" "$sni" "$in" "$t"
                ;;
            esac
            if [ "$st" = strict ]; then
                mx_case "$n: no certificate refused (application requires one)" \
                    refused nocert "$port" "$sni" "$in" "$t"
            else
                mx_case "$n: no certificate admitted (as without the module)" \
                    admitted nocert "$port" "$sni" "$in" "$t"
            fi
        fi
        if [ "$mode" = require ] || [ "$st" = strict ] || [ "$st" = peer ]
        then
            mx_case "$n: (d) published key, CN=admin refused" refused admin \
                "$port" "$sni" "$in" "$t"
            mx_case "$n: (d) published key, other device's SAN refused" \
                refused othersan "$port" "$sni" "$in" "$t"
        else
            mx_case "$n: (d) CN=admin never shows as verified" notverified \
                admin "$port" "$sni" "$in" "$t"
        fi
    done
    MX_SHOWS=
}
