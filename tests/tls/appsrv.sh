#!/bin/bash
# appsrv.sh - issue 8 with the strongest application we could write:
# tests/tls/appsrv.c owns the ClientHello, servername and certificate
# callbacks and sets its own verify mode in each, switches SSL_CTX in its
# SNI callback, forgives every verify error, renegotiates (TLS 1.2) and
# reuses one SSL object with SSL_clear.  The provider comes in through
# OPENSSL_CONF only.
#
#   appsrv.sh BUILD_DIR
#
# The promise (docs/design.md section 3) checked here:
#  - client_auth = require: only the genuine DANE client completes a
#    handshake, whatever the application's callbacks do; no certificate,
#    a key published nowhere, a CA client, or the published key under
#    another identity (CN=admin, another device's SAN) are refused;
#  - client_auth = optional with an application that requires a
#    CA-verified client: the module never turns the application's failed
#    verification into success (the rogue key is refused), the CA client
#    and the DANE client are admitted;
#  - renegotiation and SSL_clear reuse behave like fresh handshakes.
set -euo pipefail
# shellcheck source=tests/tls/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/tls/matrix_lib.sh
. "$(dirname "$0")/matrix_lib.sh"
mx_init "$1" 19
APPSRV=$BUILD/tests/tls_appsrv
[ -x "$APPSRV" ] || tls_die "$APPSRV is not built"
IN='GET\n'

# app NAME CONF [appsrv options...] - start appsrv on a new port (APP_PORT).
declare -A APP_PORT
app() {
    local name=$1 conf=$2
    shift 2
    mx_port
    APP_PORT[$name]=$MX_PORT
    mx_start "$name" "$conf" "$APPSRV" -p "$MX_PORT" -c "$PKI/www.crt" \
        -k "$PKI/www.key" "$@"
    mx_wait_port "$MX_PORT" "$name" || tls_die "appsrv $name did not start"
}

# on NAME - MX_LOGS for failures of cases against NAME.
on() {
    MX_LOGS=("$TMP/$1.out" "${TLS_SERVER_CONF[$1]}.log")
}

# --- require: whatever the application does, only DANE clients --------------
REQ_LAYOUTS=(
    "plain|-v none"
    "hello-cb|-v none -H"
    "sni-cb|-v none -S"
    "cert-cb|-v none -C"
    "ctx-switch|-v none -X -S"
    "all-forgiving|-v peer -F -H -S -C -X"
    "strict-ca-cbs|-v require -A $PKI/ca.crt -H -S -C"
)
for l in "${REQ_LAYOUTS[@]}"; do
    name=req-${l%%|*}
    # shellcheck disable=SC2086 # the options are words
    app "$name" srv-require ${l#*|}
done
for l in "${REQ_LAYOUTS[@]}"; do
    name=req-${l%%|*}
    port=${APP_PORT[$name]}
    on "$name"
    for v in 1.2 1.3; do
        t="-tls${v/./_}"
        MX_SHOWS='verify=0 subject=/CN=device1.example.test'
        mx_case "appsrv $name require TLS $v: (a) DANE client admitted" \
            admitted dane "$port" www.example.test "$IN" "$t"
        MX_SHOWS=
        mx_case "appsrv $name require TLS $v: (c) no certificate refused" \
            refused nocert "$port" www.example.test "$IN" "$t"
        # The plain layout also runs the rarer clients; the callback
        # layouts the ones the issue reproduced (time under ASan).
        if [ "$name" = req-plain ]; then
            mx_case "appsrv $name require TLS $v: (c) module client without a certificate refused" \
                refused danenocert "$port" www.example.test "$IN" "$t"
        fi
        mx_case "appsrv $name require TLS $v: unpublished key refused" \
            refused rogue "$port" www.example.test "$IN" "$t"
        mx_case "appsrv $name require TLS $v: CA client (no DANE) refused" \
            refused ca "$port" www.example.test "$IN" "$t"
        mx_case "appsrv $name require TLS $v: (d) published key, CN=admin refused" \
            refused admin "$port" www.example.test "$IN" "$t"
        if [ "$name" = req-plain ]; then
            mx_case "appsrv $name require TLS $v: (d) published key, other device's SAN refused" \
                refused othersan "$port" www.example.test "$IN" "$t"
        fi
    done
done

# --- optional, application requires a CA-verified client ---------------------
OPT_LAYOUTS=(
    "strict-ca|-v require -A $PKI/ca.crt"
    "strict-ca-cbs|-v require -A $PKI/ca.crt -H -S -C -X"
)
for l in "${OPT_LAYOUTS[@]}"; do
    name=opt-${l%%|*}
    # shellcheck disable=SC2086
    app "$name" srv-optional ${l#*|}
done
for l in "${OPT_LAYOUTS[@]}"; do
    name=opt-${l%%|*}
    port=${APP_PORT[$name]}
    on "$name"
    for v in 1.2 1.3; do
        t="-tls${v/./_}"
        mx_case "appsrv $name optional TLS $v: (b) unpublished key with dane_clientid refused" \
            refused rogue "$port" www.example.test "$IN" "$t"
        MX_SHOWS='verify=0 subject=/CN=ca-device'
        mx_case "appsrv $name optional TLS $v: (b) CA client admitted" \
            admitted ca "$port" www.example.test "$IN" "$t"
        MX_SHOWS='verify=0 subject=/CN=device1.example.test'
        mx_case "appsrv $name optional TLS $v: DANE client admitted" \
            admitted dane "$port" www.example.test "$IN" "$t"
        MX_SHOWS=
        mx_case "appsrv $name optional TLS $v: no certificate refused (application requires one)" \
            refused nocert "$port" www.example.test "$IN" "$t"
        mx_case "appsrv $name optional TLS $v: (d) CN=admin refused (not DANE-authenticated, not CA)" \
            refused admin "$port" www.example.test "$IN" "$t"
        mx_case "appsrv $name optional TLS $v: (d) other device's SAN refused" \
            refused othersan "$port" www.example.test "$IN" "$t"
    done
done

# --- optional, an application that asks for nothing --------------------------
app opt-none srv-optional -v none
on opt-none
port=${APP_PORT[opt-none]}
for v in 1.2 1.3; do
    t="-tls${v/./_}"
    mx_case "appsrv opt-none optional TLS $v: plain client admitted (as without the module)" \
        admitted nocert "$port" www.example.test "$IN" "$t"
    MX_SHOWS='verify=0 subject=/CN=device1.example.test'
    mx_case "appsrv opt-none optional TLS $v: DANE client admitted, verified" \
        admitted dane "$port" www.example.test "$IN" "$t"
    MX_SHOWS=
    mx_case "appsrv opt-none optional TLS $v: unpublished key never shows as verified" \
        notverified rogue "$port" www.example.test "$IN" "$t"
    mx_case "appsrv opt-none optional TLS $v: CN=admin never shows as verified" \
        notverified admin "$port" www.example.test "$IN" "$t"
done

# --- renegotiation (TLS 1.2, server-initiated) --------------------------------
app req-reneg srv-require -v none -R
on req-reneg
port=${APP_PORT[req-reneg]}
MX_SHOWS='reneg=ok verify=0 subject=/CN=device1.example.test'
mx_case "appsrv require: DANE client renegotiates and is verified again" \
    admitted dane "$port" www.example.test "$IN" -tls1_2
MX_SHOWS=
mx_case "appsrv require, renegotiating server: no certificate refused" \
    refused nocert "$port" www.example.test "$IN" -tls1_2
mx_case "appsrv require, renegotiating server: unpublished key refused" \
    refused rogue "$port" www.example.test "$IN" -tls1_2
app opt-reneg srv-optional -v require -A "$PKI/ca.crt" -R
on opt-reneg
port=${APP_PORT[opt-reneg]}
MX_SHOWS='reneg=ok verify=0 subject=/CN=device1.example.test'
mx_case "appsrv optional (strict CA): DANE client renegotiates" \
    admitted dane "$port" www.example.test "$IN" -tls1_2
MX_SHOWS='reneg=ok verify=0 subject=/CN=ca-device'
mx_case "appsrv optional (strict CA): CA client renegotiates" \
    admitted ca "$port" www.example.test "$IN" -tls1_2
MX_SHOWS=

# --- one SSL object reused with SSL_clear -------------------------------------
app req-reuse srv-require -v none -Z
on req-reuse
port=${APP_PORT[req-reuse]}
for v in 1.2 1.3; do
    t="-tls${v/./_}"
    MX_SHOWS='verify=0 subject=/CN=device1.example.test'
    mx_case "appsrv require, SSL_clear reuse TLS $v: DANE client (1st)" \
        admitted dane "$port" www.example.test "$IN" "$t"
    mx_case "appsrv require, SSL_clear reuse TLS $v: DANE client again (2nd)" \
        admitted dane "$port" www.example.test "$IN" "$t"
    MX_SHOWS=
    mx_case "appsrv require, SSL_clear reuse TLS $v: then no certificate refused" \
        refused nocert "$port" www.example.test "$IN" "$t"
    mx_case "appsrv require, SSL_clear reuse TLS $v: then module client without certificate refused" \
        refused danenocert "$port" www.example.test "$IN" "$t"
    mx_case "appsrv require, SSL_clear reuse TLS $v: then unpublished key refused" \
        refused rogue "$port" www.example.test "$IN" "$t"
    MX_SHOWS='verify=0 subject=/CN=device1.example.test'
    mx_case "appsrv require, SSL_clear reuse TLS $v: DANE client after refusals" \
        admitted dane "$port" www.example.test "$IN" "$t"
    MX_SHOWS=
done
app opt-reuse srv-optional -v require -A "$PKI/ca.crt" -Z
on opt-reuse
port=${APP_PORT[opt-reuse]}
for v in 1.2 1.3; do
    t="-tls${v/./_}"
    MX_SHOWS='verify=0 subject=/CN=device1.example.test'
    mx_case "appsrv optional (strict CA), SSL_clear reuse TLS $v: DANE client" \
        admitted dane "$port" www.example.test "$IN" "$t"
    MX_SHOWS=
    mx_case "appsrv optional (strict CA), SSL_clear reuse TLS $v: then unpublished key refused" \
        refused rogue "$port" www.example.test "$IN" "$t"
    MX_SHOWS='verify=0 subject=/CN=ca-device'
    mx_case "appsrv optional (strict CA), SSL_clear reuse TLS $v: then CA client admitted" \
        admitted ca "$port" www.example.test "$IN" "$t"
    MX_SHOWS=
done

# --- the client-auth profile (TLS 1.3 CertificateRequest/Certificate) --------
# No signal in the ClientHello: the server asks every client in its
# CertificateRequest, so the application's callbacks run before the
# module knows anything about the client.
tls_conf srv-require-ca13 client_auth=require allow=$MX_ALLOW \
    profile=client-auth-13
tls_conf cli-dane-ca13 client_name=$MX_ALLOW client_auth=off \
    profile=client-auth-13
for l in "plain|-v none" "callbacks|-v none -H -S -C" \
    "forgiving|-v peer -F -H -S -C -X"; do
    name=ca13-${l%%|*}
    # shellcheck disable=SC2086
    app "$name" srv-require-ca13 ${l#*|}
    on "$name"
    port=${APP_PORT[$name]}
    n="appsrv $name require, profile client-auth, TLS 1.3"
    MX_SHOWS='verify=0 subject=/CN=device1.example.test'
    MX_CLIENT_CONF=cli-dane-ca13 mx_case "$n: (a) DANE client admitted" \
        admitted dane "$port" www.example.test "$IN" -tls1_3
    MX_SHOWS=
    mx_case "$n: (c) no certificate refused" refused nocert "$port" \
        www.example.test "$IN" -tls1_3
    mx_case "$n: CA client refused" refused ca "$port" www.example.test \
        "$IN" -tls1_3
    MX_CLIENT_CONF=cli-dane-ca13 mx_case "$n: unpublished key refused" \
        refused rogue "$port" www.example.test "$IN" -tls1_3
    MX_CLIENT_CONF=cli-dane-ca13 mx_case "$n: (d) CN=admin refused" \
        refused admin "$port" www.example.test "$IN" -tls1_3
done

mx_stop_all
tls_done
