# SPDX-License-Identifier: Apache-2.0
# lib.sh - the TLS interop test harness; sourced by tests/tls/*.sh.
#
# A test script does:
#
#   . "$(dirname "$0")/lib.sh"
#   tls_init BUILD_DIR            # paths, temp dir, EXIT trap, tool checks
#   tls_world_start N             # N server ports, PKI, DNS world with the
#                                 # PKI's TLSA records; sources its env
#   tls_conf NAME key=value...    # write $TMP/NAME.cnf (tests/cnf/cnf.sh)
#   tls_require_provider NAME     # stop unless the module loads from it
#   tls_server_start SRV CONF [s_server options...]
#   tls_case "what" WANT SRV CONF [s_client options...]
#   tls_raw_case "what" WANT SRV [rawclient options...]
#   tls_done                      # "N passed, N failed"; exit status
#
# Everything runs on 127.0.0.1; every server started here is stopped by the
# EXIT trap (and the DNS world with it); the temp dir is removed unless
# TLS_KEEP=1.
#
# Peers are unmodified: `openssl s_server -www` answers "GET /" with a page
# that shows the server's view of the connection (its SSL_SESSION_print
# "Verify return code" is the verdict on the client's certificate, and
# "Client certificate" / "no client certificate available" says whether
# one was received).  The client's own view (of the server) is what
# s_client prints before that page.  The outcomes (WANT):
#
#   authenticated     page received, a client certificate, verify code 0
#   unauthenticated   page received, but no client certificate or a
#                     verify code other than 0 (optional-mode failures)
#   rejected          no page: the handshake (or the first read) failed
#   not-authenticated unauthenticated or rejected (where the drafts leave
#                     the choice to the server)
#
# The module is $BUILD/provider/dance.so unless DANCE_MODULE names another.
# If the module was built with AddressSanitizer (-DDANCE_SANITIZE=ON),
# every process that loads it gets LD_PRELOAD=libasan (an uninstrumented
# openssl cannot dlopen an instrumented module otherwise) and its output is
# scanned for sanitizer reports; openssl s_server/s_client run with
# detect_leaks=1, other programs (curl, nginx, python) with detect_leaks=0.
# shellcheck shell=bash
# shellcheck disable=SC2034 # the scripts that source this read its variables
# shellcheck source=tests/cnf/cnf.sh
. "$(dirname "${BASH_SOURCE[0]}")/../cnf/cnf.sh"

TLS_PASSED=0
TLS_FAILED=0
TLS_SERVERS=()   # names of running servers
TLS_SNI=www.example.test
declare -A TLS_SERVER_PID TLS_SERVER_PORT TLS_SERVER_LOG TLS_SERVER_CONF

# tls_die MSG - abort the script (the EXIT trap cleans up).
tls_die() {
    echo "$(basename "$0"): error: $*" >&2
    exit 2
}

# tls_init BUILD_DIR - set paths, make $TMP, install the cleanup trap.
tls_init() {
    [ $# -eq 1 ] || tls_die "usage: $0 BUILD_DIR"
    BUILD=$(cd "$1" && pwd) || tls_die "no build dir $1"
    TLS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    SRC_DIR=$(cd "$TLS_DIR/../.." && pwd)
    DANCE=$BUILD/tools/dance
    FAULTPROXY=$BUILD/tests/faultproxy
    RAWCLIENT=$BUILD/tests/tls_rawclient
    DNSWORLD=$SRC_DIR/tests/dnsworld/dnsworld.sh
    MODULE=${DANCE_MODULE:-$BUILD/provider/dance.so}
    for f in "$DANCE" "$FAULTPROXY" "$RAWCLIENT"; do
        [ -x "$f" ] || tls_die "$f is not built"
    done
    command -v openssl >/dev/null || tls_die "openssl is not installed"
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/dance-tls.XXXXXX")
    WORLD=$TMP/world
    PKI=$TMP/pki
    trap tls_cleanup EXIT
    trap 'exit 130' INT TERM
    TLS_ASAN=0
    TLS_ASAN_LIB=
    if [ -f "$MODULE" ] && readelf -d "$MODULE" 2>/dev/null |
        grep -q 'NEEDED.*libasan'; then
        TLS_ASAN=1
        TLS_ASAN_LIB=$(gcc -print-file-name=libasan.so)
        [ -f "$TLS_ASAN_LIB" ] || tls_die "cannot find libasan.so for $MODULE"
        echo "# $MODULE is instrumented: LD_PRELOAD=$TLS_ASAN_LIB"
    fi
}

# tls_cleanup - the EXIT trap: stop servers and the world, remove $TMP.
tls_cleanup() {
    local rc=$? s
    for s in "${TLS_SERVERS[@]}"; do
        tls_server_stop "$s" quiet || true
    done
    if [ -n "${WORLD:-}" ] && [ -d "$WORLD" ]; then
        "$DNSWORLD" stop "$WORLD" >/dev/null 2>&1 || true
    fi
    if [ "${TLS_KEEP:-0}" = 1 ]; then
        echo "# kept $TMP" >&2
    elif [ -n "${TMP:-}" ]; then
        rm -rf "$TMP"
    fi
    exit "$rc"
}

# tls_port_slice - this script's slice of the port range (0..27 of 32;
# tests/integration/fleet.sh and primary.sh use the last four, 28..31,
# as slices 14 and 15 of 16). A new script adds its own line here.
tls_port_slice() {
    case "$(basename "$0" .sh)" in
    rpk) echo 18 ;; rpk_size) echo 19 ;; # issue 10, raw public keys
    interop) echo 0 ;; failures) echo 1 ;; server_dane) echo 2 ;;
    apps) echo 3 ;; stress) echo 4 ;; snippets) echo 5 ;; policy) echo 6 ;;
    appsrv) echo 7 ;; matrix_nginx) echo 8 ;; matrix_apache) echo 9 ;;
    matrix_web) echo 10 ;; matrix_misc) echo 11 ;; check_config) echo 15 ;;
    stats) echo 14 ;; profile) echo 16 ;; formats) echo 17 ;;
    deb) echo 20 ;; # tests/install/deb.sh
    prewarm) echo 22 ;; # issue 14, prewarm_file
    *) echo 12 ;;
    esac
}

# tls_free_port - a loopback port nobody listens on, below the kernel's
# ephemeral range: server ports are chosen before the servers start (the
# server-DANE TLSA records name them), and no connection's source port and
# no other test's kernel-chosen port can take one of them meanwhile.
# Each script draws from a slice of its own (tls_port_slice), so scripts
# that ctest runs side by side never pick the same port.
tls_free_port() {
    local low _ p i base width
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range
    width=$(((low - 10000) / 32))
    base=$((10000 + $(tls_port_slice) * width))
    for ((i = 0; i < 50; i++)); do
        p=$((base + RANDOM % width))
        if ! timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" 2>/dev/null
        then
            echo "$p"
            return 0
        fi
    done
    tls_die "no free port below $low"
}

# tls_world_start N - pick N distinct free ports (SERVER_PORTS), make the
# PKI with TLSA records for them (and, if the script defines a function
# tls_world_extra, run it: it may add files to $PKI and lines to
# $PKI/extra.rr), start the DNS world, source its env.
tls_world_start() {
    local n=$1 p i
    SERVER_PORTS=()
    for ((i = 0; ${#SERVER_PORTS[@]} < n && i < 10 * n + 10; i++)); do
        p=$(tls_free_port)
        case " ${SERVER_PORTS[*]} " in
        *" $p "*) ;;
        *) SERVER_PORTS+=("$p") ;;
        esac
    done
    [ "${#SERVER_PORTS[@]}" -eq "$n" ] || tls_die "cannot find $n free ports"
    "$TLS_DIR/pki.sh" "$PKI" "$DANCE" "${SERVER_PORTS[@]}" ||
        tls_die "pki.sh failed"
    # A script may add keys, certificates and records of its own.
    if declare -F tls_world_extra >/dev/null; then
        tls_world_extra || tls_die "tls_world_extra failed"
    fi
    "$DNSWORLD" start "$WORLD" "$FAULTPROXY" "$PKI/extra.rr" \
        >"$TMP/dnsworld.log" 2>&1 ||
        { cat "$TMP/dnsworld.log" >&2; tls_die "the DNS world did not start"; }
    # shellcheck source=/dev/null
    . "$WORLD/env"
    # A loopback port nothing listens on (for "resolver down").
    CLOSED_PORT=$(tls_free_port)
}

# tls_conf NAME [key=value...] - write $TMP/NAME.cnf with dance_cnf
# (tests/cnf/cnf.sh): the module, then the defaults below, each replaced
# by a key=value argument with the same key ("key=" drops the key).
# Defaults: log_level = info, log_file = $TMP/NAME.log, dnssec = validate,
# nameservers = $DW_NSD, trust_anchor = $DW_ANCHOR, timeout_ms = 1000;
# with client_auth = optional or require and no allow given, allow = *.test
# (the module requires an allow list whenever client authentication is on;
# the test world's names all end in .test); with TLS_PROFILE set (a script
# that tests the legacy profile says TLS_PROFILE=hello once) and no profile
# given, profile = $TLS_PROFILE.  Prints nothing.
tls_conf() {
    local name=$1 kv key k
    local -a settings=()
    shift
    local -A set=(
        [log_level]=info [log_file]=$TMP/$name.log [dnssec]=validate
        [nameservers]=${DW_NSD:-} [trust_anchor]=${DW_ANCHOR:-}
        [timeout_ms]=1000)
    local -a order=(log_level log_file dnssec nameservers trust_anchor
        timeout_ms)
    for kv in "$@"; do
        key=${kv%%=*}
        [ "$key" != "$kv" ] || tls_die "tls_conf: '$kv' is not key=value"
        case " ${order[*]} " in
        *" $key "*) ;;
        *) order+=("$key") ;;
        esac
        set[$key]=${kv#*=}
    done
    if [ -n "${TLS_PROFILE:-}" ] && [ -z "${set[profile]+x}" ]; then
        order+=(profile)
        set[profile]=$TLS_PROFILE
    fi
    case "${set[client_auth]:-}" in
    optional | require)
        if [ -z "${set[allow]+x}" ]; then
            order+=(allow)
            set[allow]='*.test'
        fi
        ;;
    esac
    for k in "${order[@]}"; do
        [ -n "${set[$k]}" ] && settings+=("$k=${set[$k]}")
    done
    dance_cnf "$TMP/$name.cnf" "$MODULE" "${settings[@]}" ||
        tls_die "tls_conf: cannot write $name.cnf"
}

# tls_env CONF [leaks] - the environment (as NAME=VALUE words for env) for
# a process that loads CONF; leaks=1 turns on leak detection under ASan.
tls_env() {
    local conf=$1 leaks=${2:-0}
    printf '%s\n' "OPENSSL_CONF=$conf"
    if [ "$TLS_ASAN" = 1 ]; then
        printf '%s\n' "LD_PRELOAD=$TLS_ASAN_LIB"
        printf '%s\n' "ASAN_OPTIONS=detect_leaks=$leaks:abort_on_error=0:exitcode=66"
        printf '%s\n' "UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1"
    fi
}

# tls_sanitizer_report FILE... - print sanitizer reports found in FILEs.
tls_sanitizer_report() {
    grep -a -h -E -A12 \
        'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$@" \
        2>/dev/null | head -40 || true
}

# tls_require_provider CONF_NAME - the dance provider must be active when
# $TMP/CONF_NAME.cnf is loaded (OpenSSL 3.0 silently skips a provider whose
# module or init fails), else report and stop: without it every "must
# fail" case could pass for the wrong reason.
tls_require_provider() {
    local conf=$TMP/$1.cnf out
    local -a envs
    mapfile -t envs < <(tls_env "$conf" 0)
    out=$(env "${envs[@]}" openssl list -providers 2>&1) || true
    if grep -q '^  dance$' <<<"$out"; then
        tls_pass "the dance provider loads from $1.cnf"
        return 0
    fi
    tls_fail "the dance provider loads from $1.cnf" \
        "'openssl list -providers' does not list it (module $MODULE)"
    sed 's/^/#   /' <<<"$out"
    [ -f "$TMP/$1.log" ] && sed 's/^/#   log: /' "$TMP/$1.log"
    tls_done
}

# tls_pass CASE - record a passing case.
tls_pass() {
    TLS_PASSED=$((TLS_PASSED + 1))
    echo "ok - $1"
}

# tls_fail CASE DETAILS - record a failing case.
tls_fail() {
    TLS_FAILED=$((TLS_FAILED + 1))
    echo "not ok - $1: $2"
}

# tls_show LABEL FILE [FROM_LINE] - FILE (from line FROM_LINE on), indented.
tls_show() {
    local label=$1 file=$2 from=${3:-1}
    [ -s "$file" ] || return 0
    tail -n +"$from" "$file" | grep -a -v '^    [0-9a-f]\{4\} - ' |
        tail -n 25 | sed "s/^/#   $label: /" || true
}

# tls_nginx_start CNF: nginx (a master and 2 workers) in $TMP/nginx on
# 127.0.0.1:$NGX_PORT with the www certificate, asking every client for a
# certificate (ssl_verify_client optional_no_ca: the chain is judged by
# OpenSSL and the provider) and answering every request with
# $ssl_client_verify. OPENSSL_CONF=CNF loads the provider. Sets NGX and
# NGX_PID; returns 0 once it listens, 1 if it did not within 10 s.
tls_nginx_start() {
    local cnf=$1 i envs
    NGX=$TMP/nginx
    mkdir -p "$NGX/logs" "$NGX/tmp"
    cat >"$NGX/nginx.conf" <<NGXEOF
daemon off;
master_process on;
worker_processes 2;
user root;
pid $NGX/nginx.pid;
error_log $NGX/logs/error.log info;
env OPENSSL_CONF;
events { worker_connections 64; }
http {
    access_log $NGX/logs/access.log;
    client_body_temp_path $NGX/tmp/body;
    proxy_temp_path $NGX/tmp/proxy;
    fastcgi_temp_path $NGX/tmp/fastcgi;
    uwsgi_temp_path $NGX/tmp/uwsgi;
    scgi_temp_path $NGX/tmp/scgi;
    server {
        listen 127.0.0.1:$NGX_PORT ssl;
        server_name www.example.test;
        ssl_certificate $PKI/www.crt;
        ssl_certificate_key $PKI/www.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_verify_client optional_no_ca;
        location / {
            default_type text/plain;
            return 200 "\$ssl_client_verify\n";
        }
    }
}
NGXEOF
    mapfile -t envs < <(tls_env "$cnf" 0)
    env "${envs[@]}" "$NGINX" -p "$NGX" -c "$NGX/nginx.conf" \
        </dev/null >"$NGX/stdout" 2>&1 &
    NGX_PID=$!
    for ((i = 0; i < 100; i++)); do
        kill -0 "$NGX_PID" 2>/dev/null || return 1
        if timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$NGX_PORT" \
            2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# tls_nginx_stop: stop the nginx tls_nginx_start started, and wait for it.
tls_nginx_stop() {
    local i
    kill -TERM "$NGX_PID" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$NGX_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$NGX_PID" 2>/dev/null || true
    wait "$NGX_PID" 2>/dev/null || true
}

# tls_done - print the summary; exit 1 if any case failed.
tls_done() {
    echo "$TLS_PASSED passed, $TLS_FAILED failed"
    [ "$TLS_FAILED" -eq 0 ] && exit 0
    exit 1
}

# ---------------------------------------------------------------------------
# s_server

# tls_server_start SRV CONF_NAME|- [s_server options...] - start
# `openssl s_server -www` on the next free port of SERVER_PORTS (or the
# port given with TLS_PORT=...) with $TMP/CONF_NAME.cnf, cert www.crt; wait
# (at most ~10 s) until it prints ACCEPT.  The default options may be
# overridden by later ones of the same meaning (s_server takes the last).
tls_server_start() {
    local srv=$1 conf=$TMP/$2.cnf port pid i log=$TMP/$1.server.log
    local -a envs=()
    if [ "$2" = - ]; then
        conf=$TMP/no-provider.cnf
        envs=(OPENSSL_CONF=/dev/null)
    else
        mapfile -t envs < <(tls_env "$conf" 1)
    fi
    shift 2
    port=${TLS_PORT:-}
    if [ -z "$port" ]; then
        [ "${#SERVER_PORTS[@]}" -gt 0 ] || tls_die "no server port left"
        port=${SERVER_PORTS[0]}
        SERVER_PORTS=("${SERVER_PORTS[@]:1}")
    fi
    : >"$log"
    env "${envs[@]}" openssl s_server -www -accept "127.0.0.1:$port" \
        -cert "$PKI/www.crt" -key "$PKI/www.key" "$@" \
        </dev/null >>"$log" 2>&1 &
    pid=$!
    TLS_SERVERS+=("$srv")
    TLS_SERVER_PID[$srv]=$pid
    TLS_SERVER_PORT[$srv]=$port
    TLS_SERVER_LOG[$srv]=$log
    TLS_SERVER_CONF[$srv]=${conf%.cnf}
    for ((i = 0; i < 100; i++)); do
        if grep -q '^ACCEPT' "$log"; then
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            tls_show server "$log" >&2
            tls_die "s_server $srv exited during start-up"
        fi
        sleep 0.1
    done
    tls_show server "$log" >&2
    tls_die "s_server $srv does not listen on $port after ~10 s"
}

# tls_policysrv_start SRV CONF_NAME|- [policysrv options...] - like
# tls_server_start, with tests/tls/policysrv (a server that owns its
# ClientHello, servername and certificate callbacks) instead of s_server.
tls_policysrv_start() {
    local srv=$1 conf=$TMP/$2.cnf port pid i log=$TMP/$1.server.log
    local -a envs=()
    if [ "$2" = - ]; then
        conf=$TMP/no-provider.cnf
        envs=(OPENSSL_CONF=/dev/null)
    else
        mapfile -t envs < <(tls_env "$conf" 1)
    fi
    shift 2
    [ -x "$BUILD/tests/tls_policysrv" ] || tls_die "tls_policysrv is not built"
    [ "${#SERVER_PORTS[@]}" -gt 0 ] || tls_die "no server port left"
    port=${SERVER_PORTS[0]}
    SERVER_PORTS=("${SERVER_PORTS[@]:1}")
    : >"$log"
    env "${envs[@]}" "$BUILD/tests/tls_policysrv" -p "$port" \
        -C "$PKI/www.crt" -K "$PKI/www.key" "$@" </dev/null >>"$log" 2>&1 &
    pid=$!
    TLS_SERVERS+=("$srv")
    TLS_SERVER_PID[$srv]=$pid
    TLS_SERVER_PORT[$srv]=$port
    TLS_SERVER_LOG[$srv]=$log
    TLS_SERVER_CONF[$srv]=${conf%.cnf}
    for ((i = 0; i < 100; i++)); do
        grep -q '^ACCEPT' "$log" && return 0
        if ! kill -0 "$pid" 2>/dev/null; then
            tls_show server "$log" >&2
            tls_die "policysrv $srv exited during start-up"
        fi
        sleep 0.1
    done
    tls_die "policysrv $srv does not listen on $port after ~10 s"
}

# tls_server_stop SRV [quiet] - stop server SRV (TERM, then KILL) and wait.
tls_server_stop() {
    local srv=$1 pid i
    pid=${TLS_SERVER_PID[$srv]:-}
    [ -n "$pid" ] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    TLS_SERVER_PID[$srv]=
}

# tls_server_wait SRV SECONDS - wait for SRV to exit by itself (-naccept);
# sets SERVER_RC (124 if it did not exit in time; it is then killed).
tls_server_wait() {
    local srv=$1 secs=$2 pid i
    pid=${TLS_SERVER_PID[$srv]}
    SERVER_RC=124
    for ((i = 0; i < secs * 10; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            SERVER_RC=0
            wait "$pid" 2>/dev/null || SERVER_RC=$?
            TLS_SERVER_PID[$srv]=
            return 0
        fi
        sleep 0.1
    done
    tls_server_stop "$srv"
}

# ---------------------------------------------------------------------------
# clients and verdicts

# tls_cert NAME - s_client options presenting PKI certificate NAME.
tls_cert() {
    if [ "$1" = ca-device ]; then
        echo "-cert $PKI/ca-device.crt -key $PKI/ca-device.key" \
            "-cert_chain $PKI/ca.crt"
    else
        echo "-cert $PKI/$1.crt -key $PKI/$1.key"
    fi
}

# tls_verdict FILE - set VERDICT (authenticated, unauthenticated or
# rejected) and VERDICT_DETAIL from the output of a client that sent
# "GET /" to s_server -www; CLIENT_VERIFY is the client's own verify code
# for the server (what s_client printed before the page), DANE_LINE its
# "DANE TLSA ..." line if any.
tls_verdict() {
    local file=$1 page code
    CLIENT_VERIFY=$(awk '/HTTP\/1\.0 200 ok/ { exit }
        /^ *Verify return code: / { sub(/^ *Verify return code: /, "");
                                    print; exit }' "$file")
    DANE_LINE=$(awk '/HTTP\/1\.0 200 ok/ { exit }
        /^DANE TLSA / { print; exit }' "$file")
    if ! grep -a -q 'HTTP/1\.0 200 ok' "$file"; then
        VERDICT=rejected
        VERDICT_DETAIL="no page from the server (handshake or read failed)"
        return 0
    fi
    page=$(awk 'p { print } /HTTP\/1\.0 200 ok/ { p = 1 }' "$file")
    code=$(sed -n 's/^ *Verify return code: \([0-9]*\).*/\1/p' <<<"$page" |
        head -n 1)
    if grep -a -q '^no client certificate available' <<<"$page"; then
        VERDICT=unauthenticated
        VERDICT_DETAIL="the server got no client certificate"
    elif ! grep -a -q '^Client certificate' <<<"$page"; then
        VERDICT=unauthenticated
        VERDICT_DETAIL="the page shows no client certificate"
    elif [ "$code" = 0 ]; then
        VERDICT=authenticated
        VERDICT_DETAIL="client certificate, verify return code 0 (ok)"
    else
        VERDICT=unauthenticated
        VERDICT_DETAIL="client certificate, server verify result:"
        VERDICT_DETAIL+=" $(sed -n 's/^ *Verify return code: //p' \
            <<<"$page" | head -n 1)"
    fi
}

# tls_want_ok WANT - true if VERDICT satisfies WANT.
tls_want_ok() {
    case "$1" in
    not-authenticated)
        [ "$VERDICT" = rejected ] || [ "$VERDICT" = unauthenticated ]
        ;;
    *) [ "$VERDICT" = "$1" ] ;;
    esac
}

# tls_report CASE WANT SRV OUT ERR SRV_LINE LOG_LINE [extra check text] -
# pass or fail CASE from VERDICT (set by tls_verdict); on failure show the
# client's stderr, and what the server and provider logged for the case.
tls_report() {
    local name=$1 want=$2 srv=$3 out=$4 err=$5 sline=$6 lline=$7
    local extra=${8:-} san
    san=$(tls_sanitizer_report "$err" "$out")
    if [ -n "$san" ]; then
        tls_fail "$name" "sanitizer report in the client"
        sed 's/^/#   /' <<<"$san"
    elif tls_want_ok "$want" && [ -z "$extra" ]; then
        tls_pass "$name"
        return 0
    elif [ -n "$extra" ] && tls_want_ok "$want"; then
        tls_fail "$name" "$extra"
    else
        tls_fail "$name" "expected $want, got $VERDICT ($VERDICT_DETAIL)"
    fi
    tls_show client "$err"
    tls_show server "${TLS_SERVER_LOG[$srv]}" "$sline"
    tls_show "dance log" "${TLS_SERVER_CONF[$srv]}.log" "$lline"
    return 0
}

# tls_lines FILE - the number of the line after FILE's last (1 if none).
tls_lines() {
    local n=0
    [ -f "$1" ] && n=$(wc -l <"$1")
    echo $((n + 1))
}

# tls_run_client SRV CONF_NAME [s_client options...] - run openssl
# s_client with $TMP/CONF_NAME.cnf ("-": no provider, OPENSSL_CONF=
# /dev/null) against server SRV (SNI $TLS_SNI), send "GET /" and set the
# verdict (tls_verdict).  Sets CASE_OUT/CASE_ERR (the client's output),
# CASE_SLINE/CASE_LLINE (where the server's and provider's logs stood).
tls_run_client() {
    local srv=$1 conf=$2 id
    shift 2
    id=$((TLS_PASSED + TLS_FAILED + 1))
    CASE_OUT=$TMP/case$id.out
    CASE_ERR=$TMP/case$id.err
    CASE_SLINE=$(tls_lines "${TLS_SERVER_LOG[$srv]}")
    CASE_LLINE=$(tls_lines "${TLS_SERVER_CONF[$srv]}.log")
    local -a envs=()
    if [ "$conf" = - ]; then
        envs=(OPENSSL_CONF=/dev/null)
    else
        mapfile -t envs < <(tls_env "$TMP/$conf.cnf" 1)
    fi
    printf 'GET / HTTP/1.0\r\n\r\n' |
        env "${envs[@]}" timeout 20 openssl s_client -ign_eof \
            -connect "127.0.0.1:${TLS_SERVER_PORT[$srv]}" \
            -servername "$TLS_SNI" "$@" >"$CASE_OUT" 2>"$CASE_ERR" || true
    tls_verdict "$CASE_OUT"
}

# tls_case CASE WANT SRV CONF_NAME [s_client options...] - tls_run_client,
# then check the verdict against WANT and record the case.
tls_case() {
    local name=$1 want=$2 srv=$3
    shift 3
    tls_run_client "$srv" "$@"
    tls_report "$name" "$want" "$srv" "$CASE_OUT" "$CASE_ERR" \
        "$CASE_SLINE" "$CASE_LLINE" "${TLS_EXTRA_CHECK:-}"
}

# tls_run_raw SRV [rawclient options...] - like tls_run_client, with
# tests/tls/rawclient (no provider) as the client.
tls_run_raw() {
    local srv=$1 id
    shift
    id=$((TLS_PASSED + TLS_FAILED + 1))
    CASE_OUT=$TMP/case$id.out
    CASE_ERR=$TMP/case$id.err
    CASE_SLINE=$(tls_lines "${TLS_SERVER_LOG[$srv]}")
    CASE_LLINE=$(tls_lines "${TLS_SERVER_CONF[$srv]}.log")
    OPENSSL_CONF=/dev/null timeout 20 "$RAWCLIENT" \
        -p "${TLS_SERVER_PORT[$srv]}" -s "$TLS_SNI" "$@" \
        >"$CASE_OUT" 2>"$CASE_ERR" || true
    tls_verdict "$CASE_OUT"
}

# tls_raw_case CASE WANT SRV [rawclient options...] - like tls_case, with
# tests/tls/rawclient (no provider) as the client.
tls_raw_case() {
    local name=$1 want=$2 srv=$3
    shift 3
    tls_run_raw "$srv" "$@"
    tls_report "$name" "$want" "$srv" "$CASE_OUT" "$CASE_ERR" \
        "$CASE_SLINE" "$CASE_LLINE"
}

# tls_server_clean SRV - the server SRV must have logged no sanitizer
# report (call after it stopped); records a case.
tls_server_clean() {
    local srv=$1 san
    san=$(tls_sanitizer_report "${TLS_SERVER_LOG[$srv]}")
    if [ -z "$san" ]; then
        tls_pass "server $srv: no sanitizer or leak report"
    else
        tls_fail "server $srv: no sanitizer or leak report" "found one"
        sed 's/^/#   /' <<<"$san"
    fi
}
