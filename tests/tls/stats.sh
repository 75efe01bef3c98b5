#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# stats.sh - issue 11, observable in production: the stats file
# (openssl.cnf stats_file) of real servers while real DANE clients
# connect, `dance stats`, and the provider's log file across rotation.
#
#   stats.sh BUILD_DIR
#
# nginx (a master and two forked workers; client_auth = require, the draft
# profile) and mosquitto (one process; client_auth = optional) load the
# provider through OPENSSL_CONF only. openssl s_client and mosquitto_pub
# connect as accepted and refused DANE clients of every kind the test
# world can make (published key, unpublished key, identity mismatch, no
# TLSA record, bogus and insecure zones, a name not on the allow list,
# TLS 1.2 under the draft profile, a TLSA lookup that times out); then:
#  - each process writes its own file, named and labelled with its pid
#    (nginx: master and workers, %p in the path; mosquitto: no %p, the
#    pid goes before the extension);
#  - the counters, summed over a server's files, are exactly the clients
#    sent, by decision and reason (a client without a certificate, which
#    libssl refuses under require, included);
#  - `dance stats` prints the same sums;
#  - at exit the workers write their final counts, and a process that
#    counted nothing (the master; a worker no client reached) removes its
#    file;
#  - mosquitto's log file, moved away, is made anew and gets the next
#    line; truncated in place (copytruncate), it gets it at its start;
#  - node_exporter's textfile collector serves the files of all these
#    processes from one directory without a scrape error or a duplicate series.
# shellcheck disable=SC2012 # ls output only shown in failure messages
set -euo pipefail
# shellcheck source=tests/tls/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/tls/matrix_lib.sh
. "$(dirname "$0")/matrix_lib.sh"
mx_init "$1" 4
STATS=$TMP/stats
mkdir -p "$STATS"
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
MOSQ=$(command -v mosquitto || echo /usr/sbin/mosquitto)
MOSQ_PUB=$(command -v mosquitto_pub || true)
[ -x "$NGINX" ] || tls_die "nginx is not installed (scripts/deps.sh)"
{ [ -x "$MOSQ" ] && [ -n "$MOSQ_PUB" ]; } ||
    tls_die "mosquitto and mosquitto_pub are not installed (scripts/deps.sh)"

ALLOW="_client.device1.example.test, _client.notlsa.example.test,"
ALLOW+=" _client.norecord.example.test, _client.dev.bogus.test,"
ALLOW+=" _client.dev.insecure.test, _client.dev.devices.example.test,"
ALLOW+=" silent.example.test"
tls_conf ng client_auth=require profile=client-auth "allow=$ALLOW" \
    "stats_file=$STATS/nginx-%p.prom"
tls_conf mq client_auth=optional "allow=$ALLOW" nameservers="$DW_PROXY_NSD" \
    "stats_file=$STATS/mosquitto.prom"
# Clients: NAME OWNER, in both profiles (cli-NAME: hello, cl13-NAME:
# client-auth).
for c in device1:_client.device1.example.test \
    notlsa:_client.notlsa.example.test norecord:_client.norecord.example.test \
    bogus:_client.dev.bogus.test insecure:_client.dev.insecure.test \
    devices:_client.dev.devices.example.test \
    notallowed:_client.device9.example.test silent:silent.example.test; do
    tls_conf "cli-${c%%:*}" "client_name=${c#*:}" client_auth=off
    tls_conf "cl13-${c%%:*}" "client_name=${c#*:}" client_auth=off \
        profile=client-auth
done

# stat FILES METRIC LABELS - the sum over FILES of the samples of METRIC
# whose labels include LABELS (e.g. 'decision="refused",reason="bogus"').
stat() {
    local metric=$2 labels=$3
    # shellcheck disable=SC2086 # FILES is a glob on purpose
    awk -v m="$metric" -v l="$labels" '
        index($0, m "{") == 1 && (l == "" || index($0, l) > 0) { s += $NF }
        END { print s + 0 }' $1 2>/dev/null || echo 0
}

# want_counts CASE FILES SPEC... - wait (~15 s: the files are written
# every 5 s) until every SPEC "METRIC|LABELS|N" holds summed over FILES;
# pass, or fail naming what differs.
want_counts() {
    local name=$1 files=$2 i spec got bad
    shift 2
    for ((i = 0; i < 30; i++)); do
        bad=
        for spec in "$@"; do
            IFS='|' read -r m l n <<<"$spec"
            got=$(stat "$files" "$m" "$l")
            [ "$got" = "$n" ] || bad+=" $m{$l}=$got (want $n)"
        done
        [ -z "$bad" ] && break
        sleep 0.5
    done
    if [ -z "$bad" ]; then
        tls_pass "$name"
    else
        tls_fail "$name" "$bad"
        # shellcheck disable=SC2086
        ls -l $files 2>&1 | sed 's/^/#   /' || true
    fi
}

# ---------------------------------------------------------------------------
# nginx: the master loads the provider, its two workers (forked) serve.
# (lib.sh: worker_processes 2, ssl_verify_client optional_no_ca, answers
# with $ssl_client_verify: SUCCESS for a client DANE authenticated.)
mx_port
NGX_PORT=$MX_PORT
NG_PORT=$MX_PORT
d=$TMP/nginx
tls_nginx_start "$TMP/ng.cnf" || {
    tls_show "nginx error.log" "$d/logs/error.log" >&2
    tls_die "nginx did not start"
}
TLS_SERVERS+=(nginx)
TLS_SERVER_PID[nginx]=$NGX_PID
MX_MARK=SUCCESS
NG_MASTER=${TLS_SERVER_PID[nginx]}
MX_LOGS=("$d/logs/error.log" "$TMP/ng.log")
IN=$(req www.example.test)
# ng_case CASE WANT CLIENT_CONF CERT [s_client options] - one client.
ng_case() {
    local name=$1 want=$2
    MX_CLIENT_CONF=$3
    mx_case "nginx: $name" "$want" "$4" "$NG_PORT" www.example.test "$IN" \
        "${@:5}"
    MX_CLIENT_CONF=
}
for i in 1 2 3; do
    ng_case "DANE client $i admitted" admitted cl13-device1 dane
done
ng_case "unpublished key refused" refused cl13-device1 rogue
ng_case "unpublished key refused again" refused cl13-device1 rogue
ng_case "CN=admin refused (identity)" refused cl13-device1 admin
ng_case "a name whose TLSA is device1's refused (identity)" refused \
    cl13-devices dane
ng_case "no TLSA record (NODATA) refused" refused cl13-notlsa dane
ng_case "no TLSA record (NXDOMAIN) refused" refused cl13-norecord dane
ng_case "bogus zone refused" refused cl13-bogus dane
ng_case "insecure zone refused" refused cl13-insecure dane
ng_case "name not on the allow list refused" refused cl13-notallowed dane
ng_case "TLS 1.2 under the draft profile refused" refused cl13-device1 dane \
    -tls1_2
ng_case "no certificate refused (libssl refuses; the module logs it)" \
    refused cl13-device1 nocert
# Under the draft profile a TLS 1.2 client is refused for TLS 1.2 first
# (counted as tls12), with or without a certificate.
ng_case "no certificate refused, TLS 1.2" refused cl13-device1 nocert -tls1_2

mapfile -t NG_WORKERS < <(pgrep -P "$NG_MASTER" || true)
if [ "${#NG_WORKERS[@]}" -eq 2 ]; then
    tls_pass "nginx runs a master ($NG_MASTER) and 2 workers (${NG_WORKERS[*]})"
else
    tls_fail "nginx runs a master and 2 workers" \
        "children of $NG_MASTER: ${NG_WORKERS[*]:-none}"
fi
C=dance_clients_total
want_counts "nginx: the workers' files sum to the clients sent" \
    "$STATS/nginx-*.prom" \
    "$C|decision=\"accepted\",reason=\"dane\"|3" \
    "$C|decision=\"refused\",reason=\"key_mismatch\"|2" \
    "$C|decision=\"refused\",reason=\"identity\"|2" \
    "$C|decision=\"refused\",reason=\"no_tlsa\"|2" \
    "$C|decision=\"refused\",reason=\"bogus\"|1" \
    "$C|decision=\"refused\",reason=\"insecure\"|1" \
    "$C|decision=\"refused\",reason=\"not_allowed\"|1" \
    "$C|decision=\"refused\",reason=\"tls12\"|2" \
    "$C|decision=\"refused\",reason=\"no_certificate\"|1" \
    "$C|decision=\"refused\"|12" \
    "$C|decision=\"fallback\"|0" \
    "$C|decision=\"accepted\"|3" \
    "dance_servers_total||0"
# One file per process, named and labelled with its pid.
for p in "$NG_MASTER" "${NG_WORKERS[@]}"; do
    f=$STATS/nginx-$p.prom
    if [ -f "$f" ] && ! grep -v '^#' "$f" | grep -q -v "{pid=\"$p\""; then
        tls_pass "nginx process $p writes $(basename "$f"), every sample pid=\"$p\""
    else
        tls_fail "nginx process $p writes its own file" \
            "$(ls "$STATS" | tr '\n' ' ')"
    fi
done
n=$(find "$STATS" -name 'nginx-*.prom' | wc -l)
if [ "$n" = 3 ]; then
    tls_pass "nginx: 3 files, no other"
else
    tls_fail "nginx: 3 files, no other" "$(ls "$STATS" | tr '\n' ' ')"
fi
got=$(stat "$STATS/nginx-$NG_MASTER.prom" "$C" "pid=")
if [ "$got" = 0 ]; then
    tls_pass "nginx master: counted no client (workers serve)"
else
    tls_fail "nginx master: counted no client" "$got"
fi
# The DNS outcomes of the lookups the workers ran: device1's TLSA once
# in each worker that served it (then from that worker's cache), every
# other name once.
sec=$(stat "$STATS/nginx-*.prom" dance_dns_lookups_total 'outcome="secure"')
want_counts "nginx: DNS outcomes, one lookup per name and worker" \
    "$STATS/nginx-*.prom" \
    "dance_dns_lookups_total|outcome=\"bogus\"|1" \
    "dance_dns_lookups_total|outcome=\"insecure\"|1" \
    "dance_dns_lookups_total|outcome=\"secure-nodata\"|1" \
    "dance_dns_lookups_total|outcome=\"secure-nxdomain\"|1" \
    "dance_dns_lookups_total|outcome=\"indeterminate\"|0" \
    "dance_dns_lookups_total|outcome=\"secure\"|$((sec >= 2 && sec <= 3 ? sec : -1))"
# dance stats: the same sums, for humans.
"$DANCE" stats "$STATS"/nginx-*.prom >"$TMP/dstats.out" 2>&1 || true
if grep -q -E '^dance_clients_total +15$' "$TMP/dstats.out" &&
    grep -q -E '^ +accepted dane +3$' "$TMP/dstats.out" &&
    grep -q -E '^ +refused key_mismatch +2$' "$TMP/dstats.out" &&
    grep -q -E "^3 files, processes .*$NG_MASTER" "$TMP/dstats.out"; then
    tls_pass "dance stats sums the nginx files"
else
    tls_fail "dance stats sums the nginx files" "see below"
    sed 's/^/#   /' "$TMP/dstats.out"
fi
# Exit: the workers write their final counts, the master leaves no file.
stopped_at=$(date +%s)
tls_server_stop nginx
if [ ! -e "$STATS/nginx-$NG_MASTER.prom" ]; then
    tls_pass "nginx stopped: the master's file (nothing counted) is removed"
else
    tls_fail "nginx stopped: the master's file is removed" "it is still there"
fi
want_counts "nginx stopped: the workers' files keep their final counts" \
    "$STATS/nginx-*.prom" "$C|decision=\"accepted\"|3" \
    "$C|decision=\"refused\"|12"
# Written at exit, not up to 5 s before.
for f in "$STATS"/nginx-*.prom; do
    ts=$(awk '/^dance_stats_timestamp_seconds/ { print $NF }' "$f" 2>/dev/null || true)
    if [ "${ts:-0}" -ge "$stopped_at" ]; then
        tls_pass "nginx stopped: $(basename "$f") written at exit"
    else
        tls_fail "nginx stopped: $(basename "$f") written at exit" \
            "written at $ts, stopped at $stopped_at"
    fi
done
# (A worker that served no client counted nothing: it leaves no file.)
"$DANCE" stats "$STATS"/nginx-*.prom >"$TMP/dstats.out" 2>&1 || true
head=$(head -n 1 "$TMP/dstats.out")
n=$(find "$STATS" -name 'nginx-*.prom' | wc -l)
if [[ $head =~ ^$n\ files?,\ process ]] &&
    [ "$(grep -o '(gone)' <<<"$head" | wc -l)" = "$n" ]; then
    tls_pass "dance stats: the workers are shown as gone [$head]"
else
    tls_fail "dance stats: the workers are shown as gone" "see below"
    sed 's/^/#   /' "$TMP/dstats.out"
fi

# ---------------------------------------------------------------------------
# mosquitto: one process, client_auth = optional; a listener that requires
# a certificate of the test CA (so only DANE clients get in with a
# certificate the CA did not issue). The stats_file has no %p.
mx_port
MQ_PORT=$MX_PORT
cat >"$TMP/mq.conf" <<MQEOF
user root
per_listener_settings false
allow_anonymous true
persistence false
log_dest file $TMP/mq.broker.log
connection_messages true
listener $MQ_PORT 127.0.0.1
certfile $PKI/www.crt
keyfile $PKI/www.key
cafile $PKI/ca.crt
require_certificate true
MQEOF
mx_start mosquitto mq "$MOSQ" -c "$TMP/mq.conf"
mx_wait_port "$MQ_PORT" mosquitto || tls_die "mosquitto did not start"
MQ_PID=${TLS_SERVER_PID[mosquitto]}
MQ_N=0
# mq_case CASE WANT CLIENT_CONF KIND - mosquitto_pub as KIND (TLS 1.3).
mq_case() {
    local name=$1 want=$2 conf=$3 kind=$4 got=refused
    local -a cert=() envs=(OPENSSL_CONF=/dev/null)
    MQ_N=$((MQ_N + 1))
    case "$kind" in
    dane) cert=(--cert "$PKI/device1.crt" --key "$PKI/device1.key") ;;
    rogue) cert=(--cert "$PKI/wrong.crt" --key "$PKI/wrong.key") ;;
    admin) cert=(--cert "$PKI/admin-cn.crt" --key "$PKI/admin-cn.key") ;;
    ca) conf=- cert=(--cert "$PKI/ca-device.chain" --key "$PKI/ca-device.key") ;;
    esac
    [ "$conf" != - ] && mapfile -t envs < <(tls_env "$TMP/$conf.cnf" 0)
    if env "${envs[@]}" timeout 15 "$MOSQ_PUB" -h 127.0.0.1 -p "$MQ_PORT" \
        -i "st-$MQ_N" -t stats -m hello --cafile "$PKI/www.crt" --insecure \
        "${cert[@]}" >"$TMP/mq-$MQ_N.out" 2>&1; then
        got=admitted
    fi
    if [ "$got" = "$want" ]; then
        tls_pass "mosquitto: $name"
    else
        tls_fail "mosquitto: $name" "expected $want, got $got"
        tls_show client "$TMP/mq-$MQ_N.out"
        tls_show "dance log" "$TMP/mq.log"
    fi
}
mq_case "DANE client admitted" admitted cli-device1 dane
mq_case "DANE client admitted again" admitted cli-device1 dane
mq_case "unpublished key refused (the broker's CA check)" refused \
    cli-device1 rogue
mq_case "CN=admin refused (the broker's CA check)" refused cli-device1 admin
mq_case "bogus zone refused" refused cli-bogus dane
mq_case "CA client admitted (no DANE: not counted)" admitted - ca
# Last: a lookup that times out marks example.test as failing for 5 s.
mq_case "TLSA lookup that times out refused" refused cli-silent dane
MQ_FILE=$STATS/mosquitto.$MQ_PID.prom
want_counts "mosquitto: its file ($(basename "$MQ_FILE")) counts the clients sent" \
    "$MQ_FILE" \
    "$C|decision=\"accepted\",reason=\"dane\"|2" \
    "$C|decision=\"fallback\",reason=\"key_mismatch\"|1" \
    "$C|decision=\"fallback\",reason=\"identity\"|1" \
    "$C|decision=\"fallback\",reason=\"bogus\"|1" \
    "$C|decision=\"fallback\"|4" \
    "$C|decision=\"refused\"|0" \
    "dance_dns_lookups_total|outcome=\"secure\"|1" \
    "dance_dns_lookups_total|outcome=\"bogus\"|1" \
    "dance_lookup_starts_total|served=\"cache\"|3" \
    "dance_lookup_starts_total|served=\"queued\"|3" \
    "dance_lookup_queue_depth||0"
# The silent name: no answer within timeout_ms. Usually the handshake's
# wait ends first (timeout); on a loaded machine the lookup's own last
# query may (indeterminate, after its queries timed out).
t=$(stat "$MQ_FILE" "$C" 'decision="fallback",reason="timeout"')
i=$(stat "$MQ_FILE" "$C" 'decision="fallback",reason="indeterminate"')
if [ $((t + i)) = 1 ]; then
    tls_pass "mosquitto: the silent name counted (timeout $t, indeterminate $i)"
else
    tls_fail "mosquitto: the silent name counted once" "timeout $t, indeterminate $i"
fi

# The provider's log file across rotation (mosquitto keeps running).
LOG=$TMP/mq.log
mv "$LOG" "$LOG.1"
sleep 1.2
mq_case "DANE client admitted after the log was moved away" admitted \
    cli-device1 dane
for ((i = 0; i < 20; i++)); do
    [ -s "$LOG" ] && break
    sleep 0.1
done
if grep -q ': authenticated by DANE: ' "$LOG" 2>/dev/null; then
    tls_pass "log moved away: the next line goes to a new file at the path"
else
    tls_fail "log moved away: the next line goes to a new file at the path" \
        "$(ls -l "$TMP"/mq.log* | tr '\n' ' ')"
fi
n1=$(grep -c ': authenticated by DANE: ' "$LOG.1" || true)
if [ "$n1" = 2 ]; then
    tls_pass "the moved file got no line after the move"
else
    tls_fail "the moved file got no line after the move" "$n1 DANE lines (want 2)"
fi
# copytruncate: copied, then emptied in place.
cp "$LOG" "$LOG.2"
: >"$LOG"
mq_case "DANE client admitted after the log was truncated" admitted \
    cli-device1 dane
if [ "$(head -c 4 "$LOG" | tr -d '\0')" = "$(date -u +%Y)" ] &&
    grep -q ': authenticated by DANE: ' "$LOG"; then
    tls_pass "log truncated: the next line lands at its start"
else
    tls_fail "log truncated: the next line lands at its start" \
        "$(od -c "$LOG" | head -n 2 | tr '\n' ' ')"
fi

# ---------------------------------------------------------------------------
# node_exporter's textfile collector reads the directory as it is (the
# nginx workers' final files and mosquitto's): no scrape error and no
# duplicate series (files without the pid label would collide), and the
# sums it serves are those of the files.
NODE_EXPORTER=$(command -v prometheus-node-exporter || command -v node_exporter ||
    true)
if [ -z "$NODE_EXPORTER" ]; then
    tls_fail "node_exporter reads the stats files" \
        "prometheus-node-exporter is not installed (scripts/deps.sh)"
else
    NE_PORT=$(tls_free_port)
    mx_start node_exporter - "$NODE_EXPORTER" --collector.disable-defaults \
        --collector.textfile --collector.textfile.directory="$STATS" \
        --web.listen-address="127.0.0.1:$NE_PORT"
    mx_wait_port "$NE_PORT" node_exporter || tls_die "node_exporter did not start"
    curl -s "http://127.0.0.1:$NE_PORT/metrics" >"$TMP/scrape.txt" || true
    # ne_sum NAME LABEL... - the sum of NAME's series with every LABEL.
    ne_sum() {
        local name=$1
        shift
        awk -v m="$name" -v ls="$*" '
            BEGIN { n = split(ls, want, " ") }
            index($0, m "{") == 1 {
                for (i = 1; i <= n; i++) if (index($0, want[i]) == 0) next
                s += $NF
            }
            END { print s + 0 }' "$TMP/scrape.txt"
    }
    files=$(find "$STATS" -name '*.prom' | wc -l)
    acc=$(ne_sum dance_clients_total 'decision="accepted"')
    ref=$(ne_sum dance_clients_total 'decision="refused"')
    fb=$(ne_sum dance_clients_total 'decision="fallback"' 'reason="bogus"')
    want_acc=$(stat "$STATS/*.prom" dance_clients_total 'decision="accepted"')
    want_ref=$(stat "$STATS/*.prom" dance_clients_total 'decision="refused"')
    # (It serves one of two duplicate series and logs the other.)
    if grep -q '^node_textfile_scrape_error 0$' "$TMP/scrape.txt" &&
        ! grep -q 'collected before' "$TMP/node_exporter.out" &&
        [ "$acc" = "$want_acc" ] && [ "$acc" -gt 0 ] &&
        [ "$ref" = "$want_ref" ] && [ "$ref" = 12 ] && [ "$fb" = 1 ]; then
        tls_pass "node_exporter reads the $files stats files: accepted $acc, refused $ref, no scrape error"
    else
        tls_fail "node_exporter reads the $files stats files" \
            "accepted $acc (files: $want_acc), refused $ref (files: $want_ref), fallback bogus $fb"
        grep -a -E '^node_textfile|^# HELP dance_clients' "$TMP/scrape.txt" |
            sed 's/^/#   /' || true
        tls_show node_exporter "$TMP/node_exporter.out"
    fi
fi

mx_stop_all
tls_done
