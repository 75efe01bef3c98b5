#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# matrix_apache.sh - issue 8 with apache2 (mod_ssl) as an unmodified
# server: each loads the provider only through
# OPENSSL_CONF and keeps its own TLS settings; one process per provider
# configuration (client_auth = require / optional), one listener per
# application verify setting.  Every answer that reaches the client is a
# page with the marker ADMITTED and what the server shows of the client.
#
#   matrix_apache.sh BUILD_DIR
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
mx_init "$1" 8
VERSIONS=(1.2 1.3)

# ---------------------------------------------------------------------------
# apache2 with mod_ssl, run in the foreground with its own configuration
# (no system service): one virtual host per SSLVerifyClient setting (none;
# optional_no_ca; require with SSLCACertificateFile ca.crt), SSLUserName
# SSL_CLIENT_S_DN_CN.  The page is a static file "ADMITTED"; mod_headers
# adds what mod_ssl shows: X-Verify (SSL_CLIENT_VERIFY), X-DN
# (SSL_CLIENT_S_DN) and X-User (REMOTE_USER).
APACHE=$(command -v apache2 || echo /usr/sbin/apache2)
MODS=/usr/lib/apache2/modules
declare -A APPORT
ap_start() {
    local name=$1 conf=$2 d=$TMP/$1 l
    shift 2
    mkdir -p "$d/run" "$d/htdocs"
    echo "ADMITTED" >"$d/htdocs/index.html"
    # The children run as www-data: they must reach the document root.
    chmod 711 "$TMP" "$d"
    chmod 755 "$d/htdocs"
    chmod 644 "$d/htdocs/index.html"
    {
        cat <<APEOF
ServerRoot $d
ServerName www.example.test
PidFile $d/run/httpd.pid
DefaultRuntimeDir $d/run
Mutex file:$d/run default
ErrorLog $d/error.log
LogLevel info ssl:info
User www-data
Group www-data
LoadModule mpm_prefork_module $MODS/mod_mpm_prefork.so
LoadModule authz_core_module $MODS/mod_authz_core.so
LoadModule headers_module $MODS/mod_headers.so
LoadModule dir_module $MODS/mod_dir.so
DirectoryIndex index.html
LoadModule ssl_module $MODS/mod_ssl.so
StartServers 1
MinSpareServers 1
MaxSpareServers 2
DocumentRoot $d/htdocs
<Directory $d/htdocs>
    Require all granted
</Directory>
SSLSessionCache none
APEOF
        for l in "$@"; do
            mx_port
            APPORT[$name-$l]=$MX_PORT
            cat <<APEOF
Listen 127.0.0.1:$MX_PORT
<VirtualHost 127.0.0.1:$MX_PORT>
    SSLEngine on
    SSLCertificateFile $PKI/www.crt
    SSLCertificateKeyFile $PKI/www.key
    SSLCACertificateFile $PKI/ca.crt
    SSLVerifyClient $l
    SSLVerifyDepth 2
    SSLUserName SSL_CLIENT_S_DN_CN
    Header always set X-Verify "%{SSL_CLIENT_VERIFY}s"
    Header always set X-DN "%{SSL_CLIENT_S_DN}s"
    Header always set X-User "expr=%{REMOTE_USER}"
</VirtualHost>
APEOF
        done
    } >"$d/httpd.conf"
    mx_start "$name" "$conf" "$APACHE" -f "$d/httpd.conf" -DFOREGROUND
    mx_wait_port "$MX_PORT" "$name" || {
        tls_show "$name error.log" "$d/error.log" >&2
        tls_die "apache2 $name did not start"
    }
}
if [ ! -x "$APACHE" ]; then
    tls_fail "apache2 cases" "apache2 is not installed (scripts/deps.sh)"
else
    ap_start ap-req srv-require none optional_no_ca require
    ap_start ap-opt srv-optional optional_no_ca require
    WEB_SHOW_DANE='X-Verify: SUCCESS'
    MX_VERIFIED_RE='X-Verify: SUCCESS'
    MX_DETAIL='^X-(Verify|DN|User):'
    MX_LOGS=("$TMP/ap-req/error.log" "$TMP/srv-require.log")
    web_matrix apache "SSLVerifyClient none" require \
        "${APPORT[ap-req-none]}" www.example.test none
    web_matrix apache "SSLVerifyClient optional_no_ca" require \
        "${APPORT[ap-req-optional_no_ca]}" www.example.test ask
    web_matrix apache "SSLVerifyClient require" require \
        "${APPORT[ap-req-require]}" www.example.test strict
    MX_LOGS=("$TMP/ap-opt/error.log" "$TMP/srv-optional.log")
    web_matrix apache "SSLVerifyClient require" optional \
        "${APPORT[ap-opt-require]}" www.example.test strict
    web_matrix apache "SSLVerifyClient optional_no_ca" optional \
        "${APPORT[ap-opt-optional_no_ca]}" www.example.test ask
fi

mx_stop_all
tls_done
