#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# matrix_nginx.sh - issue 8 with nginx as an unmodified server: it loads
# the provider only through OPENSSL_CONF and keeps its own TLS settings;
# one nginx per provider configuration (client_auth = require /
# optional), one port per ssl_verify_client setting, and one port with
# several server blocks.  Every answer that reaches the client is a
# page with the marker ADMITTED and what the server shows of the client.
#
#   matrix_nginx.sh BUILD_DIR
#
# Cases, named after issue 8's "Tests": (a) require admits the DANE
# client; (b) optional + the application's strict CA setting refuses an
# unpublished key that sends dane_clientid and admits a CA client; (c)
# require refuses a client without a certificate whatever the
# application's verify setting (also with several server blocks on one
# port: nginx's SNI callback resets the verify mode); (d) the published
# key with CN=admin or another device's SAN is refused.
set -euo pipefail
# shellcheck source=tests/tls/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/tls/matrix_lib.sh
. "$(dirname "$0")/matrix_lib.sh"
mx_init "$1" 10
VERSIONS=(1.2 1.3)

# ---------------------------------------------------------------------------
# nginx: one server block per port (off, optional_no_ca, on + CA), and one
# port with three server blocks chosen by SNI (default www: on + CA;
# off.example.test: off; ask.example.test: optional_no_ca).
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
declare -A NGPORT
# ng_start NAME CONF - nginx with the layouts above.
ng_start() {
    local name=$1 conf=$2 d=$TMP/$1 l
    mkdir -p "$d/logs" "$d/tmp"
    # shellcheck disable=SC2016 # nginx's variables, not the shell's
    local body='return 200 "ADMITTED verify=$ssl_client_verify dn=$ssl_client_s_dn\n";'
    {
        cat <<NGEOF
daemon off;
master_process on;
worker_processes 1;
user root;
pid $d/nginx.pid;
error_log $d/logs/error.log info;
env OPENSSL_CONF;
env LD_PRELOAD;
env ASAN_OPTIONS;
events { worker_connections 64; }
http {
    access_log $d/logs/access.log;
    client_body_temp_path $d/tmp/body;
    proxy_temp_path $d/tmp/proxy;
    fastcgi_temp_path $d/tmp/fastcgi;
    uwsgi_temp_path $d/tmp/uwsgi;
    scgi_temp_path $d/tmp/scgi;
    ssl_certificate $PKI/www.crt;
    ssl_certificate_key $PKI/www.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    default_type text/plain;
NGEOF
        for l in off optional_no_ca on; do
            mx_port
            NGPORT[$name-$l]=$MX_PORT
            echo "    server {"
            echo "        listen 127.0.0.1:$MX_PORT ssl;"
            echo "        ssl_verify_client $l;"
            [ "$l" = on ] && echo "        ssl_client_certificate $PKI/ca.crt;"
            echo "        location / { $body }"
            echo "    }"
        done
        mx_port
        NGPORT[$name-multi]=$MX_PORT
        cat <<NGEOF
    server {
        listen 127.0.0.1:$MX_PORT ssl default_server;
        server_name www.example.test;
        ssl_verify_client on;
        ssl_client_certificate $PKI/ca.crt;
        location / { $body }
    }
    server {
        listen 127.0.0.1:$MX_PORT ssl;
        server_name off.example.test;
        ssl_verify_client off;
        location / { $body }
    }
    server {
        listen 127.0.0.1:$MX_PORT ssl;
        server_name ask.example.test;
        ssl_verify_client optional_no_ca;
        location / { $body }
    }
}
NGEOF
    } >"$d/nginx.conf"
    mx_start "$name" "$conf" "$NGINX" -p "$d" -c "$d/nginx.conf"
    mx_wait_port "$MX_PORT" "$name" || {
        tls_show "$name error.log" "$d/logs/error.log" >&2
        tls_die "nginx $name did not start"
    }
}
if [ ! -x "$NGINX" ]; then
    tls_fail "nginx cases" "nginx is not installed (scripts/deps.sh)"
else
    ng_start ng-req srv-require
    ng_start ng-opt srv-optional
    WEB_SHOW_DANE='verify=SUCCESS dn=CN=device1.example.test'
    MX_VERIFIED_RE='verify=SUCCESS'
    MX_LOGS=("$TMP/ng-req/logs/error.log" "$TMP/srv-require.log")
    web_matrix nginx off require "${NGPORT[ng-req-off]}" www.example.test none
    web_matrix nginx optional_no_ca require "${NGPORT[ng-req-optional_no_ca]}" \
        www.example.test ask
    web_matrix nginx on+CA require "${NGPORT[ng-req-on]}" www.example.test strict
    web_matrix nginx "3 blocks, SNI www (on+CA)" require \
        "${NGPORT[ng-req-multi]}" www.example.test strict
    web_matrix nginx "3 blocks, SNI off" require "${NGPORT[ng-req-multi]}" \
        off.example.test none
    web_matrix nginx "3 blocks, SNI optional_no_ca" require \
        "${NGPORT[ng-req-multi]}" ask.example.test ask
    MX_LOGS=("$TMP/ng-opt/logs/error.log" "$TMP/srv-optional.log")
    web_matrix nginx on+CA optional "${NGPORT[ng-opt-on]}" www.example.test strict
    web_matrix nginx optional_no_ca optional \
        "${NGPORT[ng-opt-optional_no_ca]}" www.example.test ask
    web_matrix nginx "3 blocks, SNI www (on+CA)" optional \
        "${NGPORT[ng-opt-multi]}" www.example.test strict
    web_matrix nginx "3 blocks, SNI optional_no_ca" optional \
        "${NGPORT[ng-opt-multi]}" ask.example.test ask
fi

mx_stop_all
tls_done
