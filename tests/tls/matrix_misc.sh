#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# matrix_misc.sh - issue 8 with openssl s_server, Python's ssl module,
# mosquitto and stunnel4 as unmodified servers: each loads the provider
# only through OPENSSL_CONF and keeps its own TLS settings.
#
#   matrix_misc.sh BUILD_DIR
#
# For each application (cases named after issue 8's "Tests"):
#  (a) client_auth = require: the genuine DANE client is admitted with the
#      application setting docs/applications.md documents;
#  (b) client_auth = optional, the application requires a CA-verified
#      client: a self-signed key published nowhere that sends
#      dane_clientid is refused, a CA client is admitted;
#  (c) require: a client with no certificate is refused whatever the
#      application's own verify setting;
#  (d) the published key with CN=admin or another device's SAN is refused
#      (identity_check = strict, the default);
# and what the application shows after DANE authentication.
set -euo pipefail
# shellcheck source=tests/tls/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/tls/matrix_lib.sh
. "$(dirname "$0")/matrix_lib.sh"
mx_init "$1" 18
VERSIONS=(1.2 1.3)

# ---------------------------------------------------------------------------
# openssl s_server -www (the page shows the session's verify return code)

# ss_case CASE WANT SRV KIND [s_client options] - lib.sh's tls_case with a
# matrix client KIND (WANT: authenticated, unauthenticated, rejected,
# not-authenticated; see lib.sh).
ss_case() {
    local name=$1 want=$2 srv=$3 kind=$4
    shift 4
    mx_kind "$kind" cli-dane
    tls_case "$name" "$want" "$srv" "$MX_CONF" "${MX_CERT[@]}" "$@"
}

STRICT=(-Verify 1 -verify_return_error -CAfile "$PKI/ca.crt")
tls_server_start ss-req-default srv-require
tls_server_start ss-req-strict srv-require "${STRICT[@]}"
tls_server_start ss-opt-strict srv-optional "${STRICT[@]}"
tls_server_start ss-opt-default srv-optional
for v in "${VERSIONS[@]}"; do
    t="-tls${v/./_}"
    for srv in ss-req-default ss-req-strict; do
        ss_case "s_server $srv TLS $v: (a) DANE client admitted" \
            authenticated "$srv" dane "$t"
        ss_case "s_server $srv TLS $v: (c) no certificate refused" \
            rejected "$srv" nocert "$t"
        ss_case "s_server $srv TLS $v: (c) module client, no certificate refused" \
            rejected "$srv" danenocert "$t"
        ss_case "s_server $srv TLS $v: unpublished key refused" \
            rejected "$srv" rogue "$t"
        ss_case "s_server $srv TLS $v: CA client refused (require: DANE only)" \
            rejected "$srv" ca "$t"
        ss_case "s_server $srv TLS $v: (d) published key, CN=admin refused" \
            rejected "$srv" admin "$t"
        ss_case "s_server $srv TLS $v: (d) published key, other device's SAN refused" \
            rejected "$srv" othersan "$t"
    done
    srv=ss-opt-strict
    ss_case "s_server $srv TLS $v: (b) unpublished key with dane_clientid refused" \
        rejected "$srv" rogue "$t"
    ss_case "s_server $srv TLS $v: (b) CA client admitted" \
        authenticated "$srv" ca "$t"
    ss_case "s_server $srv TLS $v: DANE client admitted" \
        authenticated "$srv" dane "$t"
    ss_case "s_server $srv TLS $v: no certificate refused (application requires one)" \
        rejected "$srv" nocert "$t"
    ss_case "s_server $srv TLS $v: (d) CN=admin refused" \
        rejected "$srv" admin "$t"
    ss_case "s_server $srv TLS $v: (d) other device's SAN refused" \
        rejected "$srv" othersan "$t"
    srv=ss-opt-default
    ss_case "s_server $srv TLS $v: plain client admitted as without the module" \
        unauthenticated "$srv" nocert "$t"
    ss_case "s_server $srv TLS $v: DANE client verified" \
        authenticated "$srv" dane "$t"
    ss_case "s_server $srv TLS $v: unpublished key never verified" \
        not-authenticated "$srv" rogue "$t"
    ss_case "s_server $srv TLS $v: CN=admin never verified" \
        not-authenticated "$srv" admin "$t"
done

# ---------------------------------------------------------------------------
# Python's ssl module: one process per provider configuration, one
# listener per verify_mode (CERT_NONE, CERT_OPTIONAL, CERT_REQUIRED; the
# last two trust ca.crt).  Answers "ADMITTED mode=M cert=yes|no subject=S"
# (getpeercert(): Python shows a subject only in CERT_OPTIONAL/REQUIRED).
PY=/usr/bin/python3
cat >"$TMP/server.py" <<'PYEOF'
import selectors, socket, ssl, sys
crt, key, ca = sys.argv[1:4]
modes = {"none": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL,
         "required": ssl.CERT_REQUIRED}
sel = selectors.DefaultSelector()
for spec in sys.argv[4:]:
    port, mode = spec.split(":")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    if mode != "none":
        ctx.load_verify_locations(ca)
    ctx.verify_mode = modes[mode]
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", int(port)))
    ls.listen(16)
    sel.register(ls, selectors.EVENT_READ, (ctx, mode))
print("LISTEN", flush=True)
while True:
    for k, _ in sel.select():
        ctx, mode = k.data
        conn, addr = k.fileobj.accept()
        conn.settimeout(10)
        try:
            with ctx.wrap_socket(conn, server_side=True) as s:
                s.recv(1024)
                der = s.getpeercert(True)
                subj = ",".join("%s=%s" % rdn[0]
                                for rdn in (s.getpeercert() or {}).get(
                                    "subject", ()))
                line = "ADMITTED mode=%s cert=%s subject=%s\n" % (
                    mode, "yes" if der else "no", subj or "-")
                s.sendall(line.encode())
                print(line, end="", flush=True)
        except Exception as e:
            print("REFUSED", mode, e, flush=True)
            conn.close()
PYEOF
declare -A PYPORT
py_start() {
    local name=$1 conf=$2 m
    local -a specs=()
    shift 2
    for m in "$@"; do
        mx_port
        PYPORT[$name-$m]=$MX_PORT
        specs+=("$MX_PORT:$m")
    done
    mx_start "$name" "$conf" "$PY" "$TMP/server.py" "$PKI/www.crt" \
        "$PKI/www.key" "$PKI/ca.crt" "${specs[@]}"
    mx_wait_port "${PYPORT[$name-$m]}" "$name" ||
        tls_die "python server $name did not start"
}
py_start py-req srv-require none optional required
py_start py-opt srv-optional optional required
IN='GET\n'
for v in "${VERSIONS[@]}"; do
    t="-tls${v/./_}"
    MX_LOGS=("$TMP/py-req.out" "$TMP/srv-require.log")
    for m in none optional required; do
        p=${PYPORT[py-req-$m]}
        MX_SHOWS='cert=yes'
        mx_case "python CERT_${m^^} require TLS $v: (a) DANE client admitted" \
            admitted dane "$p" www.example.test "$IN" "$t"
        MX_SHOWS=
        mx_case "python CERT_${m^^} require TLS $v: (c) no certificate refused" \
            refused nocert "$p" www.example.test "$IN" "$t"
        mx_case "python CERT_${m^^} require TLS $v: unpublished key refused" \
            refused rogue "$p" www.example.test "$IN" "$t"
        mx_case "python CERT_${m^^} require TLS $v: CA client refused" \
            refused ca "$p" www.example.test "$IN" "$t"
        mx_case "python CERT_${m^^} require TLS $v: (d) CN=admin refused" \
            refused admin "$p" www.example.test "$IN" "$t"
        mx_case "python CERT_${m^^} require TLS $v: (d) other device's SAN refused" \
            refused othersan "$p" www.example.test "$IN" "$t"
    done
    MX_LOGS=("$TMP/py-opt.out" "$TMP/srv-optional.log")
    for m in optional required; do
        p=${PYPORT[py-opt-$m]}
        mx_case "python CERT_${m^^} optional TLS $v: (b) unpublished key with dane_clientid refused" \
            refused rogue "$p" www.example.test "$IN" "$t"
        MX_SHOWS='subject=commonName=ca-device'
        mx_case "python CERT_${m^^} optional TLS $v: (b) CA client admitted" \
            admitted ca "$p" www.example.test "$IN" "$t"
        MX_SHOWS='subject=commonName=device1.example.test'
        mx_case "python CERT_${m^^} optional TLS $v: DANE client admitted" \
            admitted dane "$p" www.example.test "$IN" "$t"
        MX_SHOWS=
        mx_case "python CERT_${m^^} optional TLS $v: (d) CN=admin refused" \
            refused admin "$p" www.example.test "$IN" "$t"
        mx_case "python CERT_${m^^} optional TLS $v: (d) other device's SAN refused" \
            refused othersan "$p" www.example.test "$IN" "$t"
    done
    p=${PYPORT[py-opt-required]}
    mx_case "python CERT_REQUIRED optional TLS $v: no certificate refused" \
        refused nocert "$p" www.example.test "$IN" "$t"
    p=${PYPORT[py-opt-optional]}
    mx_case "python CERT_OPTIONAL optional TLS $v: no certificate admitted (as without the module)" \
        admitted nocert "$p" www.example.test "$IN" "$t"
done

# ---------------------------------------------------------------------------
# mosquitto: listeners with require_certificate and
# use_identity_as_username (the user name is the certificate's CN; the
# broker logs it in its "New client connected ... u'NAME'" line).
# Clients: mosquitto_pub (its own OpenSSL use), the provider through
# OPENSSL_CONF for the DANE kinds.
MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
MOSQ_PUB=$(command -v mosquitto_pub || true)
declare -A MQPORT
# mq_start NAME CONF SPEC... - a broker with one listener per SPEC:
# "open" (TLS, no client certificate asked) or "certuser"
# (require_certificate true, use_identity_as_username true, cafile ca.crt).
mq_start() {
    local name=$1 conf=$2 spec c=$TMP/$1.conf
    shift 2
    cat >"$c" <<MQEOF
user root
per_listener_settings false
allow_anonymous true
persistence false
log_dest file $TMP/$name.log
log_type all
connection_messages true
MQEOF
    for spec in "$@"; do
        mx_port
        MQPORT[$name-$spec]=$MX_PORT
        {
            echo "listener $MX_PORT 127.0.0.1"
            echo "certfile $PKI/www.crt"
            echo "keyfile $PKI/www.key"
            if [ "$spec" = certuser ]; then
                echo "cafile $PKI/ca.crt"
                echo "require_certificate true"
                echo "use_identity_as_username true"
            fi
        } >>"$c"
    done
    mx_start "$name" "$conf" "$MOSQ" -c "$c"
    mx_wait_port "$MX_PORT" "$name" || {
        tls_show "$name log" "$TMP/$name.log" >&2
        tls_die "mosquitto $name did not start"
    }
}

# mq_case CASE WANT KIND PORT VERSION [USER] - mosquitto_pub as KIND;
# admitted if it published (exit 0); USER: the user name the broker must
# log for the connection.
MQ_N=0
mq_case() {
    local name=$1 want=$2 kind=$3 port=$4 v=$5 user=${6:-} conf=cli-dane
    local got=refused id log
    local -a cert=() envs=(OPENSSL_CONF=/dev/null)
    MQ_N=$((MQ_N + 1))
    id=mx-$MQ_N
    case "$kind" in
    dane) cert=(--cert "$PKI/device1.crt" --key "$PKI/device1.key") ;;
    rogue) cert=(--cert "$PKI/wrong.crt" --key "$PKI/wrong.key") ;;
    admin) cert=(--cert "$PKI/admin-cn.crt" --key "$PKI/admin-cn.key") ;;
    othersan) cert=(--cert "$PKI/other-san.crt" --key "$PKI/other-san.key") ;;
    ca) conf=- cert=(--cert "$PKI/ca-device.chain" --key "$PKI/ca-device.key") ;;
    nocert) conf=- ;;
    esac
    [ "$conf" != - ] && mapfile -t envs < <(tls_env "$TMP/$conf.cnf" 0)
    if env "${envs[@]}" timeout 15 "$MOSQ_PUB" -h 127.0.0.1 -p "$port" \
        -i "$id" -t matrix -m hello --cafile "$PKI/www.crt" --insecure \
        --tls-version "tlsv$v" "${cert[@]}" >"$TMP/$id.out" 2>&1; then
        got=admitted
    fi
    log=$(grep -h -a "as $id " "$TMP"/mq-*.log 2>/dev/null | head -n 1 || true)
    if [ "$got" = "$want" ] && { [ -z "$user" ] ||
        grep -q -F "u'$user'" <<<"$log"; }; then
        tls_pass "$name${log:+ [${log#*: }]}"
    else
        tls_fail "$name" "expected $want${user:+ as user $user}, got $got${log:+ [${log#*: }]}"
        tls_show client "$TMP/$id.out"
        tls_show "broker log" "$TMP/mq-req.log"
        tls_show "broker log" "$TMP/mq-opt.log"
    fi
}
# The CA client's CN (its user name).
CA_CN=$(openssl x509 -in "$PKI/ca-device.crt" -noout -subject -nameopt sep_multiline |
    sed -n 's/^ *CN=//p')
if [ -z "$MOSQ_PUB" ] || [ ! -x "$MOSQ" ]; then
    tls_fail "mosquitto cases" "mosquitto or mosquitto_pub is not installed (scripts/deps.sh)"
else
    mq_start mq-req srv-require open certuser
    mq_start mq-opt srv-optional certuser
    for v in "${VERSIONS[@]}"; do
        for l in open certuser; do
            p=${MQPORT[mq-req-$l]}
            u=
            [ "$l" = certuser ] && u=device1.example.test
            mq_case "mosquitto $l require TLS $v: (a) DANE client admitted${u:+ as $u}" \
                admitted dane "$p" "$v" "$u"
            mq_case "mosquitto $l require TLS $v: (c) no certificate refused" \
                refused nocert "$p" "$v"
            mq_case "mosquitto $l require TLS $v: unpublished key refused" \
                refused rogue "$p" "$v"
            mq_case "mosquitto $l require TLS $v: (d) CN=admin refused" \
                refused admin "$p" "$v"
            mq_case "mosquitto $l require TLS $v: (d) other device's SAN refused" \
                refused othersan "$p" "$v"
        done
        mq_case "mosquitto certuser require TLS $v: CA client refused" \
            refused ca "${MQPORT[mq-req-certuser]}" "$v"
        p=${MQPORT[mq-opt-certuser]}
        mq_case "mosquitto certuser optional TLS $v: (b) unpublished key with dane_clientid refused" \
            refused rogue "$p" "$v"
        mq_case "mosquitto certuser optional TLS $v: (b) CA client admitted as $CA_CN" \
            admitted ca "$p" "$v" "$CA_CN"
        mq_case "mosquitto certuser optional TLS $v: DANE client admitted as device1.example.test" \
            admitted dane "$p" "$v" device1.example.test
        mq_case "mosquitto certuser optional TLS $v: no certificate refused" \
            refused nocert "$p" "$v"
        mq_case "mosquitto certuser optional TLS $v: (d) CN=admin refused" \
            refused admin "$p" "$v"
    done
fi

# ---------------------------------------------------------------------------
# stunnel4: services that exec a script answering
# "ADMITTED dn=$SSL_CLIENT_DN" (stunnel's environment for exec).
STUNNEL=$(command -v stunnel4 || command -v stunnel || true)
declare -A STPORT
cat >"$TMP/st-answer.sh" <<'STEOF'
#!/bin/sh
read -r line
echo "ADMITTED dn=${SSL_CLIENT_DN:-none}"
STEOF
chmod +x "$TMP/st-answer.sh"
# st_start NAME CONF SPEC... - stunnel with one service per SPEC: "none"
# (no verification options) or "chain" (verifyChain = yes, CAfile ca.crt).
st_start() {
    local name=$1 conf=$2 spec c=$TMP/$1.conf
    shift 2
    cat >"$c" <<STEOF
foreground = yes
pid =
debug = info
output = $TMP/$name.log
STEOF
    for spec in "$@"; do
        mx_port
        STPORT[$name-$spec]=$MX_PORT
        {
            echo "[$spec]"
            echo "accept = 127.0.0.1:$MX_PORT"
            echo "cert = $PKI/www.crt"
            echo "key = $PKI/www.key"
            echo "exec = $TMP/st-answer.sh"
            if [ "$spec" = chain ]; then
                echo "CAfile = $PKI/ca.crt"
                echo "verifyChain = yes"
            fi
        } >>"$c"
    done
    mx_start "$name" "$conf" "$STUNNEL" "$c"
    mx_wait_port "$MX_PORT" "$name" || {
        tls_show "$name log" "$TMP/$name.log" >&2
        tls_die "stunnel $name did not start"
    }
}
if [ -z "$STUNNEL" ]; then
    tls_fail "stunnel cases" "stunnel4 is not installed (scripts/deps.sh)"
else
    st_start st-req srv-require none chain
    st_start st-opt srv-optional chain
    for v in "${VERSIONS[@]}"; do
        t="-tls${v/./_}"
        MX_LOGS=("$TMP/st-req.log" "$TMP/srv-require.log")
        for l in none chain; do
            p=${STPORT[st-req-$l]}
            MX_SHOWS='dn=CN=device1.example.test'
            mx_case "stunnel $l require TLS $v: (a) DANE client admitted" \
                admitted dane "$p" www.example.test "$IN" "$t"
            MX_SHOWS=
            mx_case "stunnel $l require TLS $v: (c) no certificate refused" \
                refused nocert "$p" www.example.test "$IN" "$t"
            mx_case "stunnel $l require TLS $v: unpublished key refused" \
                refused rogue "$p" www.example.test "$IN" "$t"
            mx_case "stunnel $l require TLS $v: CA client refused" \
                refused ca "$p" www.example.test "$IN" "$t"
            mx_case "stunnel $l require TLS $v: (d) CN=admin refused" \
                refused admin "$p" www.example.test "$IN" "$t"
            mx_case "stunnel $l require TLS $v: (d) other device's SAN refused" \
                refused othersan "$p" www.example.test "$IN" "$t"
        done
        MX_LOGS=("$TMP/st-opt.log" "$TMP/srv-optional.log")
        p=${STPORT[st-opt-chain]}
        mx_case "stunnel chain optional TLS $v: (b) unpublished key with dane_clientid refused" \
            refused rogue "$p" www.example.test "$IN" "$t"
        MX_SHOWS='dn=CN=ca-device'
        mx_case "stunnel chain optional TLS $v: (b) CA client admitted" \
            admitted ca "$p" www.example.test "$IN" "$t"
        MX_SHOWS='dn=CN=device1.example.test'
        mx_case "stunnel chain optional TLS $v: DANE client admitted" \
            admitted dane "$p" www.example.test "$IN" "$t"
        MX_SHOWS=
        mx_case "stunnel chain optional TLS $v: no certificate refused" \
            refused nocert "$p" www.example.test "$IN" "$t"
        mx_case "stunnel chain optional TLS $v: (d) CN=admin refused" \
            refused admin "$p" www.example.test "$IN" "$t"
    done
fi

mx_stop_all
tls_done
