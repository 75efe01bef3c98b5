#!/bin/bash
# interop.sh - DANE client authentication between unmodified openssl
# s_client and s_server, both loading the provider through OPENSSL_CONF.
#
#   interop.sh BUILD_DIR
#
# Matrix: TLS 1.2 and 1.3 x profiles hello and client-auth-13 x TLSA
# 3 1 1, 3 0 1, 3 1 2, 3 1 0, 2 0 1 (private CA, name in SAN) and an RSA
# client x dnssec validate (against nsd, test. anchor) and trust-ad
# (against unbound).  Servers run client_auth = require; client-auth-13
# over TLS 1.2 must be refused (the profile is TLS 1.3 only).  Then the
# name options: client_name = auto with and without client_service,
# hello_name = off, request_cert = signalled/always, extension_type, in
# the legacy profile (profile = hello on both sides).
# One line per case, "ok - ..." or "not ok - ...: expected X, got Y", with
# the client's, server's and provider's output for failures.
set -euo pipefail
# shellcheck source=tests/tls/lib.sh
. "$(dirname "$0")/lib.sh"
tls_init "$@"
tls_world_start 8

tls_conf probe
tls_require_provider probe

# Servers: profile x dnssec mode, all client_auth = require. One key
# (device1) stands behind several ClientNames here (one per TLSA flavour),
# so the identity check is off: policy.sh and failures.sh run it strict.
for prof in hello client-auth-13; do
    tls_conf "srv-$prof-validate" client_auth=require profile="$prof" \
        identity_check=off
    tls_server_start "$prof-validate" "srv-$prof-validate"
    tls_conf "srv-$prof-trust-ad" client_auth=require profile="$prof" \
        identity_check=off \
        dnssec=trust-ad nameservers="$DW_UNBOUND" trust_anchor=
    tls_server_start "$prof-trust-ad" "srv-$prof-trust-ad"
done

# Clients: CERT NAME label for each TLSA flavour.
CLIENTS=(
    "device1 _client.device1.example.test 3-1-1"
    "device1 _client.dev301.example.test 3-0-1"
    "device1 _client.dev312.example.test 3-1-2"
    "device1 _client.dev310.example.test 3-1-0"
    "ca-device _client.ca-device.example.test 2-0-1"
    "rsa _client.rsa-device.example.test rsa-3-1-1"
)
for prof in hello client-auth-13; do
    for c in "${CLIENTS[@]}"; do
        read -r cert name label <<<"$c"
        tls_conf "cli-$prof-$label" client_name="$name" profile="$prof" \
            client_auth=off
    done
done

for prof in hello client-auth-13; do
    for mode in validate trust-ad; do
        for ver in 1.2 1.3; do
            for c in "${CLIENTS[@]}"; do
                read -r cert name label <<<"$c"
                want=authenticated
                [ "$prof" = client-auth-13 ] && [ "$ver" = 1.2 ] &&
                    want=rejected
                # shellcheck disable=SC2046
                tls_case "$prof TLS $ver $mode TLSA $label ($name)" "$want" \
                    "$prof-$mode" "cli-$prof-$label" "-tls${ver/./_}" \
                    $(tls_cert "$cert")
            done
        done
    done
done

# The provider logs one line per decision at info level, naming the client.
if grep -q '_client.dev312.example.test' "$TMP/srv-hello-validate.log" \
    2>/dev/null; then
    tls_pass "server log names the client (info level)"
else
    tls_fail "server log names the client (info level)" \
        "no line with _client.dev312.example.test in the log_file"
    tls_show "dance log" "$TMP/srv-hello-validate.log"
fi

# --- names ---------------------------------------------------------------
# From here on the legacy profile's options (hello_name, request_cert =
# signalled, names in the ClientHello over TLS 1.2): every configuration
# says profile = hello (lib.sh TLS_PROFILE); the default profile's are in
# profile.sh and formats.sh.
TLS_PROFILE=hello
tls_conf cli-auto client_name=auto client_auth=off
tls_conf srv-service client_auth=require client_service=_client
tls_server_start service srv-service
for ver in 1.2 1.3; do
    # shellcheck disable=SC2046
    tls_case "TLS $ver client_name=auto: owner is the SAN device1.example.test" \
        authenticated hello-validate cli-auto "-tls${ver/./_}" \
        $(tls_cert device1)
    # shellcheck disable=SC2046
    tls_case "TLS $ver client_name=auto + server client_service=_client" \
        authenticated service cli-auto "-tls${ver/./_}" $(tls_cert device1)
    # shellcheck disable=SC2046
    tls_case "TLS $ver client_service leaves _client.device1... as is" \
        authenticated service cli-hello-3-1-1 "-tls${ver/./_}" \
        $(tls_cert device1)
done
tls_conf cli-noname client_name=auto hello_name=off client_auth=off
for ver in 1.2 1.3; do
    # shellcheck disable=SC2046
    tls_case "TLS $ver hello_name=off: empty ClientName, name from SAN" \
        authenticated hello-validate cli-noname "-tls${ver/./_}" \
        $(tls_cert device1)
done

# --- request_cert, optional mode, clients without the provider ------------
tls_conf srv-opt-signalled client_auth=optional request_cert=signalled
tls_server_start opt-signalled srv-opt-signalled
tls_conf srv-opt-always client_auth=optional request_cert=always
tls_server_start opt-always srv-opt-always
for ver in 1.2 1.3; do
    # shellcheck disable=SC2046
    tls_case "TLS $ver optional: DANE client authenticated" authenticated \
        opt-signalled cli-hello-3-1-1 "-tls${ver/./_}" $(tls_cert device1)
    # shellcheck disable=SC2046
    tls_case "TLS $ver optional+signalled: plain client, no cert requested" \
        unauthenticated opt-signalled - "-tls${ver/./_}" $(tls_cert device1)
    if [ "$VERDICT_DETAIL" != "the server got no client certificate" ] &&
        [ "$VERDICT" = unauthenticated ]; then
        tls_fail "TLS $ver request_cert=signalled asks no plain client" \
            "$VERDICT_DETAIL"
    fi
    # shellcheck disable=SC2046
    tls_case "TLS $ver optional+always: plain client's cert not accepted" \
        unauthenticated opt-always - "-tls${ver/./_}" $(tls_cert device1)
    if grep -a -q '^Client certificate' "$CASE_OUT"; then
        tls_pass "TLS $ver request_cert=always asks a plain client"
    else
        tls_fail "TLS $ver request_cert=always asks a plain client" \
            "the page shows no client certificate"
    fi
    # shellcheck disable=SC2046
    tls_case "TLS $ver require: plain client refused" rejected \
        hello-validate - "-tls${ver/./_}" $(tls_cert device1)
    tls_case "TLS $ver require: DANE client without a certificate refused" \
        rejected hello-validate cli-hello-3-1-1 "-tls${ver/./_}"
done

# --- extension_type --------------------------------------------------------
tls_conf srv-type client_auth=require extension_type=65100
tls_server_start type srv-type
tls_conf cli-type client_name=_client.device1.example.test \
    extension_type=65100 client_auth=off
for ver in 1.2 1.3; do
    # shellcheck disable=SC2046
    tls_case "TLS $ver extension_type 65100 on both sides" authenticated \
        type cli-type "-tls${ver/./_}" $(tls_cert device1)
    # shellcheck disable=SC2046
    tls_case "TLS $ver extension_type 65100 vs default 65293: refused" \
        rejected type cli-hello-3-1-1 "-tls${ver/./_}" $(tls_cert device1)
done

for s in "${TLS_SERVERS[@]}"; do
    tls_server_stop "$s"
    [ "$TLS_ASAN" = 1 ] && tls_server_clean "$s"
done
tls_done
