#!/bin/bash
# policy.sh - the module never widens who gets in (issue 8).
#
#   policy.sh BUILD_DIR
#
# 1. client_auth = optional under an application that requires CA client
#    certificates (s_server -Verify 1 -verify_return_error -CAfile, and
#    policysrv -V require): an unpublished key that sends dane_clientid is
#    refused, a CA client and a genuine DANE client are admitted.
# 2. client_auth = require under a server that owns its ClientHello,
#    servername and certificate callbacks and resets the verify mode in
#    them, switches SSL_CTX on SNI, or replaces the certificate-verify
#    callback (tests/tls/policysrv): no certificate, a wrong key, a CA
#    client: refused; a genuine DANE client: admitted (refused where the
#    application replaced the verify callback: fail closed).
# 6. resumption: the same ClientName resumes, another one gets a full
#    handshake with a fresh DANE check.
# 9. TLS 1.2 renegotiation with a good client succeeds.
# 10. refusals are logged at the default level (warn) with the peer.
#
# Every case runs over TLS 1.2 and 1.3 alike (renegotiation is TLS 1.2's),
# which only the legacy profile spans: the configurations say
# profile = hello (TLS_PROFILE). The default profile is profile.sh's.
set -euo pipefail
# shellcheck source=tests/tls/lib.sh
. "$(dirname "$0")/lib.sh"
tls_init "$@"
TLS_PROFILE=hello
tls_world_start 20

tls_conf probe
tls_require_provider probe

# Clients (no client_auth of their own).
tls_conf cli-device1 client_name=_client.device1.example.test client_auth=off
tls_conf cli-other client_name=_client.dev.devices.example.test \
    client_auth=off
tls_conf cli-norecord client_name=_client.norecord.example.test \
    client_auth=off

# --- 1. optional never overrides the application's verification ---------
tls_conf srv-opt client_auth=optional log_level=warn
tls_server_start opt-strict srv-opt -Verify 1 -verify_return_error \
    -CAfile "$PKI/ca.crt"
for ver in 1.2 1.3; do
    v="-tls${ver/./_}"
    # shellcheck disable=SC2046
    tls_case "optional + app requires CA certs, TLS $ver: unpublished key \
with dane_clientid refused" rejected opt-strict cli-device1 "$v" \
        $(tls_cert wrong)
    # shellcheck disable=SC2046
    tls_case "optional + app requires CA certs, TLS $ver: name without TLSA \
refused" rejected opt-strict cli-norecord "$v" $(tls_cert device1)
    # shellcheck disable=SC2046
    tls_case "optional + app requires CA certs, TLS $ver: CA client admitted" \
        authenticated opt-strict - "$v" $(tls_cert ca-device)
    # shellcheck disable=SC2046
    tls_case "optional + app requires CA certs, TLS $ver: DANE client \
admitted" authenticated opt-strict cli-device1 "$v" $(tls_cert device1)
    # shellcheck disable=SC2046
    tls_case "optional + app requires CA certs, TLS $ver: no certificate \
refused" rejected opt-strict - "$v"
done
tls_policysrv_start opt-psrv srv-opt -V require -A "$PKI/ca.crt"
for ver in 1.2 1.3; do
    v="-tls${ver/./_}"
    # shellcheck disable=SC2046
    tls_case "optional + C server requiring CA certs, TLS $ver: unpublished \
key refused" rejected opt-psrv cli-device1 "$v" $(tls_cert wrong)
    # shellcheck disable=SC2046
    tls_case "optional + C server requiring CA certs, TLS $ver: CA client \
admitted" authenticated opt-psrv - "$v" $(tls_cert ca-device)
done

# --- 2. require holds whatever the application does ----------------------
tls_conf srv-req client_auth=require log_level=warn
for flags in -h -n -c -x "-h -n -c" -v; do
    label="policysrv $flags"
    srv="req${flags// /}"
    # shellcheck disable=SC2086
    tls_policysrv_start "$srv" srv-req $flags -A "$PKI/ca.crt"
    for ver in 1.2 1.3; do
        v="-tls${ver/./_}"
        tls_case "require + $label, TLS $ver: no certificate refused" \
            rejected "$srv" - "$v"
        tls_case "require + $label, TLS $ver: DANE client config without \
a certificate refused" rejected "$srv" cli-device1 "$v"
        # shellcheck disable=SC2046
        tls_case "require + $label, TLS $ver: unpublished key refused" \
            rejected "$srv" cli-device1 "$v" $(tls_cert wrong)
        # shellcheck disable=SC2046
        tls_case "require + $label, TLS $ver: CA client without DANE \
refused" rejected "$srv" - "$v" $(tls_cert ca-device)
        want=authenticated
        # The application replaced the certificate-verify callback: DANE
        # cannot run, so nobody gets in (fail closed).
        [ "$flags" = -v ] && want=rejected
        # shellcheck disable=SC2046
        tls_case "require + $label, TLS $ver: DANE client -> $want" "$want" \
            "$srv" cli-device1 "$v" $(tls_cert device1)
    done
done

# An SSL_CTX in a library context of its own: OpenSSL 3.0 keeps SSL_CTX
# and SSL ex_data in the default library context, so the module hooks it
# like any other, and require holds there too.
tls_policysrv_start req-libctx srv-req -L
for ver in 1.2 1.3; do
    v="-tls${ver/./_}"
    tls_case "require + SSL_CTX in another library context, TLS $ver: no \
certificate refused" rejected req-libctx - "$v"
    # shellcheck disable=SC2046
    tls_case "require + SSL_CTX in another library context, TLS $ver: CA \
client refused" rejected req-libctx - "$v" $(tls_cert ca-device)
    # shellcheck disable=SC2046
    tls_case "require + SSL_CTX in another library context, TLS $ver: \
DANE client admitted" authenticated req-libctx cli-device1 "$v" \
        $(tls_cert device1)
done

# An SSL_CTX made before the module was loaded has none of its hooks:
# under require every handshake on it is refused, and the log says why.
tls_policysrv_start req-early srv-req -E
for ver in 1.2 1.3; do
    v="-tls${ver/./_}"
    tls_case "require + SSL_CTX older than the module, TLS $ver: no \
certificate refused" rejected req-early - "$v"
    # shellcheck disable=SC2046
    tls_case "require + SSL_CTX older than the module, TLS $ver: CA client \
refused" rejected req-early - "$v" $(tls_cert ca-device)
    # shellcheck disable=SC2046
    tls_case "require + SSL_CTX older than the module, TLS $ver: refused \
even for a DANE client (fail closed)" rejected req-early cli-device1 "$v" \
        $(tls_cert device1)
done
if grep -q 'every handshake refused' "$TMP/srv-req.log"; then
    tls_pass "SSL_CTX older than the module: the log says why"
else
    tls_fail "SSL_CTX older than the module: the log says why" \
        "no 'every handshake refused' line in $TMP/srv-req.log"
fi

# --- identity (identity_check = strict, the default) ----------------------
# device1's key is also published at _client.dev.devices.example.test, but
# device1's certificate names device1.example.test: DANE matches, the
# identity an application would read is not the one DANE proved.
tls_conf srv-req-idoff client_auth=require identity_check=off
tls_server_start req-idoff srv-req-idoff
for ver in 1.2 1.3; do
    v="-tls${ver/./_}"
    # shellcheck disable=SC2046
    tls_case "strict identity, require, TLS $ver: certificate naming another \
device refused" rejected req-h cli-other "$v" $(tls_cert device1)
    # shellcheck disable=SC2046
    tls_case "strict identity, optional + app requires CA certs, TLS $ver: \
certificate naming another device refused" rejected opt-strict cli-other \
        "$v" $(tls_cert device1)
    # shellcheck disable=SC2046
    tls_case "identity_check = off, TLS $ver: the same client admitted \
(control)" authenticated req-idoff cli-other "$v" $(tls_cert device1)
done

# --- 10. refusals at the default level, with the peer --------------------
if grep -a -E 'warn.*peer 127\.0\.0\.1:[0-9]+ name _client\.device1\.example\.test.*refused' \
    "$TMP/srv-req.log" >/dev/null 2>&1; then
    tls_pass "require refusals logged at warn with peer and name"
else
    tls_fail "require refusals logged at warn with peer and name" \
        "no such line in $TMP/srv-req.log"
    tls_show "dance log" "$TMP/srv-req.log"
fi
# The same name refused again is answered from the cache, and the line
# says so (the first refusal looked it up).
if grep -a -E 'warn.*name _client\.device1\.example\.test.*refused.*answer looked up now, valid until' \
    "$TMP/srv-req.log" >/dev/null 2>&1 &&
    grep -a -E 'warn.*name _client\.device1\.example\.test.*refused.*answer from the cache, valid until' \
        "$TMP/srv-req.log" >/dev/null 2>&1; then
    tls_pass "refusals say whether the answer came from the cache"
else
    tls_fail "refusals say whether the answer came from the cache" \
        "no 'looked up now' and 'from the cache' lines in $TMP/srv-req.log"
    tls_show "dance log" "$TMP/srv-req.log"
fi
if grep -a -E 'warn.*peer 127\.0\.0\.1:[0-9]+ name _client\.norecord\.example\.test.*secure-nxdomain' \
    "$TMP/srv-opt.log" >/dev/null 2>&1; then
    tls_pass "optional DNS failures logged at warn with the outcome"
else
    tls_fail "optional DNS failures logged at warn with the outcome" \
        "no such line in $TMP/srv-opt.log"
    tls_show "dance log" "$TMP/srv-opt.log"
fi

# --- 6. resumption is bound to the ClientName ----------------------------
# One key behind two names here: identity off (see above).
tls_conf srv-res client_auth=require identity_check=off
tls_server_start res srv-res
# resumed FILE - "Reused" or "New", as s_client printed it.
resumed() {
    sed -n 's/^\(Reused\|New\), .*/\1/p' "$1" | head -n 1
}
for ver in 1.2 1.3; do
    v="-tls${ver/./_}"
    sess=$TMP/sess-$ver.pem
    # shellcheck disable=SC2046
    tls_run_client res cli-device1 "$v" $(tls_cert device1) -sess_out "$sess"
    if [ "$VERDICT" = authenticated ] && [ -s "$sess" ]; then
        tls_pass "resumption TLS $ver: first handshake authenticated"
    else
        tls_fail "resumption TLS $ver: first handshake authenticated" \
            "$VERDICT, session file ${sess}"
    fi
    # shellcheck disable=SC2046
    tls_run_client res cli-device1 "$v" $(tls_cert device1) -sess_in "$sess"
    if [ "$VERDICT" = authenticated ] && [ "$(resumed "$CASE_OUT")" = Reused ]
    then
        tls_pass "resumption TLS $ver: same ClientName resumes (control)"
    else
        tls_fail "resumption TLS $ver: same ClientName resumes (control)" \
            "$VERDICT, $(resumed "$CASE_OUT")"
    fi
    # shellcheck disable=SC2046
    tls_run_client res cli-other "$v" $(tls_cert device1) -sess_in "$sess"
    if [ "$(resumed "$CASE_OUT")" = New ] && [ "$VERDICT" = authenticated ]
    then
        tls_pass "resumption TLS $ver: another ClientName gets a full \
handshake and a fresh DANE check"
    else
        tls_fail "resumption TLS $ver: another ClientName gets a full \
handshake and a fresh DANE check" "$VERDICT, $(resumed "$CASE_OUT")"
        tls_show client "$CASE_ERR"
    fi
    # shellcheck disable=SC2046
    tls_run_client res - "$v" $(tls_cert device1) -sess_in "$sess"
    if [ "$(resumed "$CASE_OUT")" != Reused ] || [ "$VERDICT" = rejected ]
    then
        tls_pass "resumption TLS $ver: a client announcing no ClientName \
does not resume the DANE session"
    else
        tls_fail "resumption TLS $ver: a client announcing no ClientName \
does not resume the DANE session" "$VERDICT, $(resumed "$CASE_OUT")"
    fi
done

# --- 9. TLS 1.2 renegotiation starts fresh --------------------------------
tls_conf srv-reneg client_auth=require
tls_server_start reneg srv-reneg -client_renegotiation
for i in 1 2; do
    id=reneg$i
    lline=$(tls_lines "$TMP/srv-reneg.log")
    mapfile -t envs < <(tls_env "$TMP/cli-device1.cnf" 1)
    # shellcheck disable=SC2046
    { sleep 1; printf 'R\n'; sleep 2; printf 'GET / HTTP/1.0\r\n\r\n'; sleep 2; } |
        env "${envs[@]}" timeout 20 openssl s_client -tls1_2 \
            -connect "127.0.0.1:${TLS_SERVER_PORT[reneg]}" \
            -servername "$TLS_SNI" $(tls_cert device1) \
            >"$TMP/$id.out" 2>"$TMP/$id.err" || true
    tls_verdict "$TMP/$id.out"
    n=$(tail -n +"$lline" "$TMP/srv-reneg.log" | grep -c 'authenticated by DANE' || true)
    if cat "$TMP/$id.out" "$TMP/$id.err" | grep -q RENEGOTIATING &&
        [ "$VERDICT" = authenticated ] &&
        [ "$n" -ge 2 ] && ! grep -q 'already enabled' "$TMP/srv-reneg.log"; then
        tls_pass "TLS 1.2 renegotiation $i: good client authenticated twice"
    else
        tls_fail "TLS 1.2 renegotiation $i: good client authenticated twice" \
            "$VERDICT, $n DANE authentications"
        tls_show client "$TMP/$id.err"
        tls_show "dance log" "$TMP/srv-reneg.log" "$lline"
    fi
done

# --- 9. SSL_clear reuse of one SSL object starts fresh -------------------
tls_conf srv-reuse client_auth=require identity_check=off
tls_policysrv_start reuse srv-reuse -r
for ver in 1.2 1.3 1.2; do
    # shellcheck disable=SC2046
    tls_case "SSL_clear reuse, TLS $ver: good client authenticated" \
        authenticated reuse cli-device1 "-tls${ver/./_}" $(tls_cert device1)
    lline=$(tls_lines "$TMP/srv-reuse.log")
    # shellcheck disable=SC2046
    tls_case "SSL_clear reuse, TLS $ver: next client (another name) \
authenticated" authenticated reuse cli-other "-tls${ver/./_}" \
        $(tls_cert device1)
    if tail -n +"$lline" "$TMP/srv-reuse.log" |
        grep -q 'name _client\.device1\.example\.test'; then
        tls_fail "SSL_clear reuse, TLS $ver: no trace of the previous \
connection's ClientName" "the log names _client.device1.example.test"
    else
        tls_pass "SSL_clear reuse, TLS $ver: no trace of the previous \
connection's ClientName"
    fi
    tls_case "SSL_clear reuse, TLS $ver: then no certificate refused" \
        rejected reuse - "-tls${ver/./_}"
done

for s in opt-strict res reneg reuse req-h req-x req-v; do
    tls_server_stop "$s"
    tls_server_clean "$s"
done
tls_done
