#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# matrix_web.sh - issue 8 with haproxy, apache2 (mod_ssl) and lighttpd
# as unmodified servers (nginx: matrix_nginx.sh): each loads the provider only through
# OPENSSL_CONF and keeps its own TLS settings; one process per provider
# configuration (client_auth = require / optional), one listener per
# application verify setting.  Every answer that reaches the client is a
# page with the marker ADMITTED and what the server shows of the client.
#
#   matrix_web.sh BUILD_DIR
#
# Cases, named after issue 8's "Tests": (a) require admits the DANE
# client; (b) optional + the application's strict CA setting refuses an
# unpublished key that sends dane_clientid and admits a CA client; (c)
# require refuses a client without a certificate whatever the
# application's verify setting; (d) the published
# key with CN=admin or another device's SAN is refused.
set -euo pipefail
# shellcheck source=tests/tls/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/tls/matrix_lib.sh
. "$(dirname "$0")/matrix_lib.sh"
mx_init "$1" 16
VERSIONS=(1.2 1.3)
cat "$PKI/www.crt" "$PKI/www.key" >"$TMP/www.pem"
mkdir -p "$TMP/htdocs"
echo "ADMITTED" >"$TMP/htdocs/index.html"

# ---------------------------------------------------------------------------
# haproxy: one frontend per verify setting (none; optional and required
# with ca-file ca.crt), answering with its ssl_c_* sample fetches.
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
declare -A HAPORT
ha_start() {
    local name=$1 conf=$2 c=$TMP/$1.cfg l
    cat >"$c" <<HAEOF
global
    log stdout format raw local0 info
defaults
    mode http
    log global
    option httplog
    timeout connect 5s
    timeout client 10s
    timeout server 10s
HAEOF
    for l in none optional required; do
        mx_port
        HAPORT[$name-$l]=$MX_PORT
        {
            echo "frontend fe-$l"
            if [ "$l" = none ]; then
                echo "    bind 127.0.0.1:$MX_PORT ssl crt $TMP/www.pem verify none"
            else
                echo "    bind 127.0.0.1:$MX_PORT ssl crt $TMP/www.pem ca-file $PKI/ca.crt verify $l"
            fi
            printf '%s\n' '    http-request return status 200 content-type text/plain lf-string "ADMITTED verify=%[ssl_c_verify] used=%[ssl_c_used] dn=%[ssl_c_s_dn]\n"'
        } >>"$c"
    done
    mx_start "$name" "$conf" "$HAPROXY" -db -f "$c"
    mx_wait_port "$MX_PORT" "$name" || tls_die "haproxy $name did not start"
}
if [ ! -x "$HAPROXY" ]; then
    tls_fail "haproxy cases" "haproxy is not installed (scripts/deps.sh)"
else
    ha_start ha-req srv-require
    ha_start ha-opt srv-optional
    WEB_SHOW_DANE='verify=0 used=1 dn=/CN=device1.example.test'
    MX_VERIFIED_RE='verify=0 used=1'
    MX_LOGS=("$TMP/ha-req.out" "$TMP/srv-require.log")
    web_matrix haproxy "verify none" require "${HAPORT[ha-req-none]}" \
        www.example.test none
    web_matrix haproxy "verify optional" require \
        "${HAPORT[ha-req-optional]}" www.example.test peer
    web_matrix haproxy "verify required" require \
        "${HAPORT[ha-req-required]}" www.example.test strict
    MX_LOGS=("$TMP/ha-opt.out" "$TMP/srv-optional.log")
    web_matrix haproxy "verify required" optional \
        "${HAPORT[ha-opt-required]}" www.example.test strict
    web_matrix haproxy "verify optional" optional \
        "${HAPORT[ha-opt-optional]}" www.example.test peer
    web_matrix haproxy "verify none" optional "${HAPORT[ha-opt-none]}" \
        www.example.test none
fi

# ---------------------------------------------------------------------------
# lighttpd (mod_openssl): the default socket asks no certificate; a
# second socket has ssl.verifyclient.activate + enforce with ca.crt and
# ssl.verifyclient.username (REMOTE_USER, written to its access log).
LIGHTTPD=$(command -v lighttpd || echo /usr/sbin/lighttpd)
declare -A LTPORT
lt_start() {
    local name=$1 conf=$2 d=$TMP/$1
    mkdir -p "$d"
    mx_port
    LTPORT[$name-none]=$MX_PORT
    cat >"$d/lighttpd.conf" <<LTEOF
server.modules = ("mod_openssl", "mod_accesslog")
server.document-root = "$TMP/htdocs"
server.bind = "127.0.0.1"
server.port = $MX_PORT
server.errorlog = "$d/error.log"
index-file.names = ("index.html")
accesslog.filename = "$d/access.log"
accesslog.format = "%h user=%u %s"
ssl.engine = "enable"
ssl.pemfile = "$TMP/www.pem"
# lighttpd 1.4.77 and later (Debian 13) accept only TLS 1.3 by default; the
# matrix runs TLS 1.2 as well.
ssl.openssl.ssl-conf-cmd = ("MinProtocol" => "TLSv1.2")
LTEOF
    mx_port
    LTPORT[$name-enforce]=$MX_PORT
    cat >>"$d/lighttpd.conf" <<LTEOF
\$SERVER["socket"] == "127.0.0.1:$MX_PORT" {
    ssl.engine = "enable"
    ssl.pemfile = "$TMP/www.pem"
    ssl.ca-file = "$PKI/ca.crt"
    ssl.verifyclient.activate = "enable"
    ssl.verifyclient.enforce = "enable"
    ssl.verifyclient.depth = 2
    ssl.verifyclient.username = "SSL_CLIENT_S_DN_CN"
    ssl.openssl.ssl-conf-cmd = ("MinProtocol" => "TLSv1.2")
}
LTEOF
    mx_start "$name" "$conf" "$LIGHTTPD" -D -f "$d/lighttpd.conf"
    mx_wait_port "$MX_PORT" "$name" || {
        tls_show "$name error.log" "$d/error.log" >&2
        tls_die "lighttpd $name did not start"
    }
}
if [ ! -x "$LIGHTTPD" ]; then
    tls_fail "lighttpd cases" "lighttpd is not installed (scripts/deps.sh)"
else
    lt_start lt-req srv-require
    lt_start lt-opt srv-optional
    WEB_SHOW_DANE=
    MX_DETAIL=
    MX_LOGS=("$TMP/lt-req/error.log" "$TMP/srv-require.log")
    web_matrix lighttpd default require "${LTPORT[lt-req-none]}" \
        www.example.test none
    web_matrix lighttpd verifyclient.enforce require \
        "${LTPORT[lt-req-enforce]}" www.example.test strict
    MX_LOGS=("$TMP/lt-opt/error.log" "$TMP/srv-optional.log")
    web_matrix lighttpd verifyclient.enforce optional \
        "${LTPORT[lt-opt-enforce]}" www.example.test strict
    # What lighttpd shows: the user name (ssl.verifyclient.username) in its
    # access log for the DANE client.
    if grep -q 'user=device1.example.test 200' "$TMP/lt-req/access.log" \
        2>/dev/null; then
        tls_pass "lighttpd: REMOTE_USER of the DANE client is device1.example.test"
    else
        tls_fail "lighttpd: REMOTE_USER of the DANE client is device1.example.test" \
            "not in the access log"
        tls_show access "$TMP/lt-req/access.log"
    fi
fi

mx_stop_all
tls_done
