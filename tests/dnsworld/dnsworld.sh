#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# dnsworld.sh - a small DNSSEC world on loopback for the integration tests.
#
#   [DW_SCENARIOS=1] dnsworld.sh start DIR FAULTPROXY_BINARY [EXTRA_RR_FILE]
#   dnsworld.sh stop DIR
#
# DW_SCENARIOS=1 adds the differential test's zones (scenarios.sh, which
# documents them) and a second nsd; without it the world is unchanged.
#
# EXTRA_RR_FILE holds more records, one per line with absolute owner names;
# each goes into the zone below whose apex it is closest (before signing).
#
# start (re)creates DIR, generates keys, writes and signs this hierarchy:
#
#   test.           signed, RSASHA256 (8)   the trust anchor
#   example.test.   signed, ECDSAP256 (13)  NSEC; TLSA, A/AAAA, IPSECKEY,
#                                           CNAMEs, wildcard, a tampered
#                                           record, names the proxy breaks
#   insecure.test.  unsigned                provable no-DS delegation
#   bogus.test.     signed, ECDSAP256 (13)  the DS in test. is of another key
#   expired.test.   signed, ECDSAP256 (13)  correct DS, signatures expired
#   nsec3.test.     signed, ED25519 (15)    NSEC3, 0 iterations, no salt
#
# then serves them with nsd, runs unbound as a validating resolver for
# test. (stub to nsd), and puts a fault proxy (faultproxy.c) in front of
# each.  unbound reaches strip.example.test. through the proxy in front of
# nsd, so it sees that name's answers without signatures (bogus) just as a
# validating client of that proxy does.  Good zones are signed from an hour
# before start for 30 days (DW_SIG_INCEPTION/DW_SIG_EXPIRATION in env).
# Everything is bound to 127.0.0.1 on ports the proxy binary picks
# (--free-port).  DIR/env is a sourceable description of the world (see
# write_env below).  Every generated file lives under DIR.
#
# stop kills what start started (recorded in DIR/run/*.pid) and waits for
# it to exit.  It never fails and may be called any number of times.
set -euo pipefail

readonly WAIT_STEPS=50 # readiness polls, 0.2 s apart: about 10 s
readonly GOOD_VALIDITY=$((30 * 24 * 3600))
# The expired zone's signatures: valid only in January 2020.
readonly EXPIRED_INCEPTION=20200101000000
readonly EXPIRED_EXPIRATION=20200201000000
# The zones of this world (nsd serves them all); scenario mode adds more.
readonly BASE_ZONES="test example.test insecure.test bogus.test expired.test nsec3.test"
ZONES=$BASE_ZONES
SCENARIOS=${DW_SCENARIOS:-0}
case "$SCENARIOS" in
0) ;;
1)
    # shellcheck source=tests/dnsworld/scenarios.sh
    . "$(dirname "${BASH_SOURCE[0]}")/scenarios.sh"
    ZONES="$BASE_ZONES $SCEN_ZONES"
    ;;
*)
    echo "dnsworld: DW_SCENARIOS must be 0 or 1" >&2
    exit 1
    ;;
esac

# msg - print a progress line to stderr.
msg() {
    echo "dnsworld: $*" >&2
}

# fail - print an error and exit non-zero (start's EXIT trap cleans up).
fail() {
    echo "dnsworld: error: $*" >&2
    exit 1
}

# usage - print the synopsis and exit 1.
usage() {
    echo "usage: $0 start DIR FAULTPROXY_BINARY [EXTRA_RR_FILE]" >&2
    echo "       $0 stop DIR" >&2
    exit 1
}

# tlsa_rdata TEXT - a distinct DANE-EE SPKI SHA-256 RDATA derived from TEXT.
tlsa_rdata() {
    local hash
    hash=$(printf '%s' "$1" | sha256sum | cut -c1-64)
    printf '3 1 1 %s' "$hash"
}

# ---------------------------------------------------------------------------
# processes

# proc_running PID - true if PID exists and is not a zombie.
proc_running() {
    local stat
    stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

# proc_alive PID NAME - true if PID runs the program NAME (by executable,
# since nsd renames its processes), so a stale pid is never signalled.
proc_alive() {
    local exe
    proc_running "$1" || return 1
    exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
    [ "$(basename "$exe")" = "$2" ]
}

# stop_one PIDFILE - terminate the process recorded in PIDFILE ("PID NAME").
stop_one() {
    local pidfile=$1 pid name pgid i
    [ -f "$pidfile" ] || return 0
    read -r pid name <"$pidfile" || true
    if [ -n "${pid:-}" ] && [ -n "${name:-}" ] &&
        proc_alive "$pid" "$name"; then
        # Daemons were started with setsid, so each leads its own process
        # group; signal the group to take helpers (nsd's children) along.
        pgid=$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ') || pgid=
        if [ "$pgid" = "$pid" ]; then
            kill -TERM -- "-$pid" 2>/dev/null || true
        else
            kill -TERM "$pid" 2>/dev/null || true
        fi
        for ((i = 0; i < 50; i++)); do
            proc_alive "$pid" "$name" || break
            sleep 0.2
        done
        if proc_alive "$pid" "$name"; then
            msg "$name ($pid) ignored SIGTERM; killing it"
            if [ "$pgid" = "$pid" ]; then
                kill -KILL -- "-$pid" 2>/dev/null || true
            else
                kill -KILL "$pid" 2>/dev/null || true
            fi
            sleep 0.2
        fi
    fi
    rm -f "$pidfile"
}

# stop_world DIR - stop every process of the world in DIR, newest first.
stop_world() {
    local dir=$1 n
    [ -d "$dir/run" ] || return 0
    for n in proxy-unbound unbound proxy-nsd nsd2 nsd; do
        stop_one "$dir/run/$n.pid" || true
    done
    return 0
}

# launch NAME PROG LOG CMD... - start CMD (running the executable PROG)
# detached in its own session; record "PID PROG" for stop.
launch() {
    local name=$1 prog=$2 log=$3
    shift 3
    setsid "$@" </dev/null >>"$log" 2>&1 &
    echo "$! $prog" >"$DIR/run/$name.pid"
}

# recorded_pid NAME - the pid recorded for NAME.
recorded_pid() {
    local pid _
    read -r pid _ <"$DIR/run/$1.pid"
    echo "$pid"
}

# wait_ready NAME PROG PORT LOG [ZONE] - poll PORT until a ZONE (default
# test.) SOA query gets NOERROR. Returns 1 (LOG's tail shown) if the process
# dies, e.g. because another process took its port; fails after ~10 s.
wait_ready() {
    local name=$1 prog=$2 port=$3 log=$4 zone=${5:-test.} pid i out
    pid=$(recorded_pid "$name")
    for ((i = 0; i < WAIT_STEPS; i++)); do
        if ! proc_running "$pid"; then
            tail -n 20 "$log" >&2 || true
            msg "$name exited during start-up (log: $log)"
            return 1
        fi
        out=$(timeout 2 drill -p "$port" @127.0.0.1 "$zone" SOA 2>&1) || true
        if grep -q 'rcode: NOERROR' <<<"$out"; then
            proc_alive "$pid" "$prog" ||
                fail "process $pid recorded for $name is not $prog"
            return 0
        fi
        sleep 0.2
    done
    tail -n 20 "$log" >&2 || true
    fail "$name does not answer on 127.0.0.1 port $port after ~10 s"
}

# pick_port - a port free for UDP and TCP, distinct from those in $PORTS
# (it runs in a subshell: the caller adds the result to $PORTS).
pick_port() {
    local p i
    for ((i = 0; i < 20; i++)); do
        p=$("$FAULTPROXY" --free-port) || fail "$FAULTPROXY --free-port failed"
        case " $PORTS " in
        *" $p "*) continue ;;
        esac
        echo "$p"
        return 0
    done
    fail "cannot find a free port"
}

# ---------------------------------------------------------------------------
# keys and zones

# keygen ALG ZONE [BITS] - make a key pair (SEP flag set) under keys/ and
# print its base name (absolute path, without .key/.private).
keygen() {
    local alg=$1 zone=$2 bits=${3:-} base
    if [ -n "$bits" ]; then
        base=$(cd "$DIR/keys" && ldns-keygen -r /dev/urandom -k -a "$alg" \
            -b "$bits" "$zone")
    else
        base=$(cd "$DIR/keys" && ldns-keygen -r /dev/urandom -k -a "$alg" \
            "$zone")
    fi
    [ -f "$DIR/keys/$base.key" ] || fail "ldns-keygen made no key for $zone"
    echo "$DIR/keys/$base"
}

# ds_of KEYBASE - the SHA-256 DS RR of a key, as "owner IN DS rdata".
ds_of() {
    ldns-key2ds -n -2 "$1.key" |
        awk '$0 !~ /^;/ && NF { for (i = 1; i <= NF; i++) if ($i == "DS") {
                 r = $1 " IN DS"; for (j = i + 1; j <= NF; j++) r = r " " $j;
                 print r; exit } }'
}

# dnskey_of KEYBASE - the key's DNSKEY RR as "owner IN DNSKEY rdata".
dnskey_of() {
    awk '$0 !~ /^;/ && NF { for (i = 1; i <= NF; i++) if ($i == "DNSKEY") {
             r = $1 " IN DNSKEY"; for (j = i + 1; j <= NF; j++) {
                 if ($j ~ /^;/) break; r = r " " $j }
             print r; exit } }' "$1.key"
}

# key_tag KEYBASE - the key tag, from the file name K<zone>+<alg>+<tag>.
key_tag() {
    local b
    b=$(basename "$1")
    echo $((10#${b##*+}))
}

# soa ZONE - the SOA and NS lines every zone starts with.
soa() {
    cat <<EOF
\$ORIGIN $1
\$TTL 300
@	IN	SOA	ns.test. hostmaster.test. 1 3600 900 604800 300
@	IN	NS	ns.test.
EOF
}

# sign IN OUT ORIGIN INCEPTION EXPIRATION KEY [ldns-signzone options...] -
# sign a zone file with one key.
sign() {
    local in=$1 out=$2 origin=$3 inc=$4 exp=$5 key=$6
    shift 6
    ldns-signzone "$@" -o "$origin" -i "$inc" -e "$exp" -f "$out" "$in" \
        "$key" >/dev/null || fail "ldns-signzone failed for $origin"
}

# verify_zone FILE - ldns-verify-zone must accept FILE.
verify_zone() {
    ldns-verify-zone "$1" >"$1.verify" 2>&1 ||
        { cat "$1.verify" >&2; fail "ldns-verify-zone rejects $1"; }
}

# refute_zone FILE - ldns-verify-zone must reject FILE (sanity check).
refute_zone() {
    if ldns-verify-zone "$1" >"$1.verify" 2>&1; then
        fail "ldns-verify-zone accepts $1, which should not validate"
    fi
}

# extra_for ZONE - the records of EXTRA_RR_FILE that belong in ZONE: those
# whose (absolute) owner name is ZONE or below it, and not in a zone of
# this world that is closer to them. One record per line.
extra_for() {
    [ -n "$EXTRA_RR_FILE" ] || return 0
    echo "; extra records from $EXTRA_RR_FILE"
    awk -v zone="$1." -v zones="$ZONES" '
        BEGIN { n = split(zones, all, " ") }
        /^[ \t]*(;|$)/ { next }
        {
            owner = tolower($1)
            if (owner !~ /\.$/) {
                print "dnsworld: extra record owner must be absolute: " $0 \
                    > "/dev/stderr"
                exit 1
            }
            best = ""
            for (i = 1; i <= n; i++) {
                z = all[i] "."
                if ((owner == z || substr(owner, length(owner) - length(z)) \
                     == "." z) && length(z) > length(best))
                    best = z
            }
            if (best == zone)
                print
        }' "$EXTRA_RR_FILE" || fail "bad record in $EXTRA_RR_FILE"
    echo
}

# make_zones - generate every key and zone, sign them, write the anchors.
make_zones() {
    local z="$DIR/zones" k_test k_example k_bogus k_bogus_other k_expired
    local k_nsec3 k_ipsec ipsec_b64 signed_inc signed_exp

    mkdir -p "$DIR/keys" "$z"
    if [ "$SCENARIOS" = 1 ]; then scen_keys; fi
    k_test=$(keygen RSASHA256 test. 2048)
    k_example=$(keygen ECDSAP256SHA256 example.test.)
    k_bogus=$(keygen ECDSAP256SHA256 bogus.test.)
    k_bogus_other=$(keygen ECDSAP256SHA256 bogus.test.) # never published
    k_expired=$(keygen ECDSAP256SHA256 expired.test.)
    k_nsec3=$(keygen ED25519 nsec3.test.)
    # An RSA public key in RFC 3110 form (the DNSKEY field) for IPSECKEY.
    k_ipsec=$(keygen RSASHA256 k2026a.keystore.example.test. 2048)
    ipsec_b64=$(dnskey_of "$k_ipsec" | awk '{ print $NF }')

    # --- test. ---
    {
        soa test.
        echo "ns	IN	A	127.0.0.1"
        for c in example insecure bogus expired nsec3; do
            echo "$c	IN	NS	ns.test."
        done
        ds_of "$k_example"
        ds_of "$k_bogus_other" # the wrong key on purpose
        ds_of "$k_expired"
        ds_of "$k_nsec3"
        if [ "$SCENARIOS" = 1 ]; then scen_parent_records; fi
        extra_for test
    } >"$z/test.zone"

    # --- example.test. ---
    {
        soa example.test.
        echo "www	IN	A	127.0.0.1"
        echo "www	IN	AAAA	::1"
        echo "_443._tcp.www	IN	TLSA	$(tlsa_rdata www.example.test)"
        echo "_mqtt-client.device1	IN	TLSA	$(tlsa_rdata device1.example.test)"
        echo "k2026a.keystore	IN	IPSECKEY	10 0 2 . $ipsec_b64"
        echo "main.keystore	IN	CNAME	k2026a.keystore.example.test."
        echo "alias	IN	CNAME	_443._tcp.www.example.test."
        echo "toinsecure	IN	CNAME	_443._tcp.www.insecure.test."
        echo "tobogus	IN	CNAME	_443._tcp.www.bogus.test."
        echo "tampered	IN	TLSA	$(tlsa_rdata tampered.example.test)"
        echo "*.wild	IN	TLSA	$(tlsa_rdata wild.example.test)"
        for i in 1 2 3 4 5 6; do
            echo "tc	IN	TLSA	$(tlsa_rdata "tc.example.test $i")"
        done
        for n in strip servfail silent garbage; do
            echo "$n	IN	TLSA	$(tlsa_rdata "$n.example.test")"
        done
        extra_for example.test
    } >"$z/example.test.zone"

    # --- insecure.test. (never signed) ---
    {
        soa insecure.test.
        echo "www	IN	A	127.0.0.1"
        echo "_443._tcp.www	IN	TLSA	$(tlsa_rdata www.insecure.test)"
        extra_for insecure.test
    } >"$z/insecure.test.zone"

    # --- bogus.test. ---
    {
        soa bogus.test.
        echo "www	IN	A	127.0.0.1"
        echo "_443._tcp.www	IN	TLSA	$(tlsa_rdata www.bogus.test)"
        extra_for bogus.test
    } >"$z/bogus.test.zone"

    # --- expired.test. ---
    {
        soa expired.test.
        echo "www	IN	A	127.0.0.1"
        echo "_443._tcp.www	IN	TLSA	$(tlsa_rdata www.expired.test)"
        extra_for expired.test
    } >"$z/expired.test.zone"

    # --- nsec3.test. ---
    {
        soa nsec3.test.
        echo "www	IN	A	127.0.0.1"
        echo "_443._tcp.www	IN	TLSA	$(tlsa_rdata www.nsec3.test)"
        extra_for nsec3.test
    } >"$z/nsec3.test.zone"

    # Good zones: valid from an hour ago for 30 days (unix times accepted
    # by ldns-signzone -i/-e); tests pinning the clock use DW_SIG_*.
    SIG_INCEPTION=$(($(date +%s) - 3600))
    SIG_EXPIRATION=$((SIG_INCEPTION + 3600 + GOOD_VALIDITY))
    sign "$z/test.zone" "$z/test.signed" test. \
        "$SIG_INCEPTION" "$SIG_EXPIRATION" "$k_test"
    sign "$z/example.test.zone" "$z/example.test.signed" example.test. \
        "$SIG_INCEPTION" "$SIG_EXPIRATION" "$k_example"
    sign "$z/bogus.test.zone" "$z/bogus.test.signed" bogus.test. \
        "$SIG_INCEPTION" "$SIG_EXPIRATION" "$k_bogus"
    sign "$z/nsec3.test.zone" "$z/nsec3.test.signed" nsec3.test. \
        "$SIG_INCEPTION" "$SIG_EXPIRATION" "$k_nsec3" -n -a 1 -t 0 -s ''
    sign "$z/expired.test.zone" "$z/expired.test.signed" expired.test. \
        "$EXPIRED_INCEPTION" "$EXPIRED_EXPIRATION" "$k_expired"

    # The RRSIG times ldns-signzone wrote must be the ones we asked for.
    read -r signed_inc signed_exp < <(awk '$4 == "RRSIG" {
        print $10, $9; exit }' "$z/test.signed")
    if [ "$signed_inc" != "$(date -u -d "@$SIG_INCEPTION" +%Y%m%d%H%M%S)" ] ||
        [ "$signed_exp" != "$(date -u -d "@$SIG_EXPIRATION" +%Y%m%d%H%M%S)" ]
    then
        fail "RRSIG validity $signed_inc-$signed_exp is not the one requested"
    fi

    for f in test example.test bogus.test nsec3.test; do
        verify_zone "$z/$f.signed"
    done
    # bogus.test. verifies on its own: only the parent's DS is wrong.
    refute_zone "$z/expired.test.signed"

    # Alter tampered.example.test's RDATA after signing, so the RRSIG over
    # it no longer matches.
    awk -v new="$(tlsa_rdata tampered-after-signing)" '
        $1 == "tampered.example.test." && $4 == "TLSA" {
            $0 = $1 "\t" $2 "\t" $3 "\t" $4 "\t" new; done = 1 }
        { print }
        END { if (!done) exit 1 }' "$z/example.test.signed" \
        >"$z/example.test.signed.tmp" ||
        fail "no tampered.example.test. TLSA in the signed zone"
    mv "$z/example.test.signed.tmp" "$z/example.test.signed"
    refute_zone "$z/example.test.signed"

    if [ "$SCENARIOS" = 1 ]; then scen_zones; fi

    # Trust anchors for test.: DS and DNSKEY, one RR per line, in the
    # style of /usr/share/dns/root.key.
    ds_of "$k_test" >"$DIR/test.anchor"
    echo "$(dnskey_of "$k_test") ; keytag $(key_tag "$k_test")" \
        >"$DIR/test.anchor.dnskey"
    [ -s "$DIR/test.anchor" ] || fail "no DS for the test. anchor"
}

# ---------------------------------------------------------------------------
# servers

# write_nsd_conf PORT [NAME ZONES] - nsd (config in DIR/NAME, default nsd)
# serving ZONES (default: every zone of $ZONES) on 127.0.0.1@PORT.
write_nsd_conf() {
    local d="$DIR/${2:-nsd}" zones=${3:-$ZONES} f
    mkdir -p "$d"
    {
        cat <<EOF
server:
	ip-address: 127.0.0.1
	port: $1
	do-ip4: yes
	do-ip6: no
	server-count: 1
	username: ""
	chroot: ""
	database: ""
	zonelistfile: "$d/zone.list"
	xfrdfile: "$d/xfrd.state"
	xfrdir: "$d"
	pidfile: "$d/nsd.pid"
	logfile: "$d/nsd.log"
	verbosity: 1
	hide-version: yes
	hide-identity: yes
	# Debian's nsd rate-limits per /24 by default; every query here comes
	# from 127.0.0.1, and benchmarks without a cache send hundreds a second.
	rrl-ratelimit: 0
remote-control:
	control-enable: no
EOF
        for f in $zones; do
            local file="$DIR/zones/$f.signed"
            # The unsigned zones (insecure.test., scenario mode's
            # unsigned.optout.test.) are served as written.
            [ -e "$file" ] || file="$DIR/zones/$f.zone"
            printf 'zone:\n\tname: "%s."\n\tzonefile: "%s"\n' "$f" "$file"
        done
    } >"$d/nsd.conf"
    nsd-checkconf "$d/nsd.conf" || fail "nsd-checkconf rejects $d/nsd.conf"
}

# write_unbound_conf PORT NSD_PORT PROXY_NSD_PORT - a validating resolver
# for test. on 127.0.0.1@PORT.
write_unbound_conf() {
    local d="$DIR/unbound"
    mkdir -p "$d"
    cat >"$d/unbound.conf" <<EOF
server:
	interface: 127.0.0.1
	port: $1
	do-ip4: yes
	do-ip6: no
	do-udp: yes
	do-tcp: yes
	num-threads: 1
	username: ""
	chroot: ""
	directory: "$d"
	pidfile: "$d/unbound.pid"
	logfile: "$d/unbound.log"
	use-syslog: no
	log-time-ascii: yes
	do-daemonize: no
	verbosity: 1
	val-log-level: 2
	log-servfail: yes
	ede: yes
	do-not-query-localhost: no
	access-control: 127.0.0.0/8 allow
	module-config: "validator iterator"
	trust-anchor-file: "$DIR/test.anchor"
	prefetch: no
	# unbound answers test. itself by default (RFC 6761 special-use name).
	local-zone: "test." nodefault
remote-control:
	control-enable: no
# A stub for every zone: their NS, ns.test., resolves to 127.0.0.1 port 53,
# so a delegation unbound learns from an answer must never be used instead.
stub-zone:
	name: "test."
	stub-addr: 127.0.0.1@$2
	stub-prime: no
$(for c in example insecure bogus expired nsec3; do
        printf 'stub-zone:\n\tname: "%s.test."\n' "$c"
        printf '\tstub-addr: 127.0.0.1@%s\n\tstub-prime: no\n' "$2"
    done)
$(if [ "$SCENARIOS" = 1 ]; then scen_unbound_conf "$2" "$3" "$NSD2_PORT"; fi)
# Answers for strip.example.test. come through the fault proxy, which
# removes their signatures: unbound must find them bogus.  That makes the
# stripping attack visible in trust-ad mode too (a client relying on the AD
# bit only sees the resolver's verdict).
stub-zone:
	name: "strip.example.test."
	stub-addr: 127.0.0.1@$3
	stub-prime: no
EOF
    unbound-checkconf "$d/unbound.conf" >/dev/null ||
        fail "unbound-checkconf rejects $d/unbound.conf"
}

# write_env - the sourceable description of the world.
write_env() {
    {
        echo "# The DNS world started by dnsworld.sh; source this file."
        printf 'DW_DIR=%q\n' "$DIR"
        printf 'DW_NSD=127.0.0.1@%s\n' "$NSD_PORT"
        printf 'DW_UNBOUND=127.0.0.1@%s\n' "$UNBOUND_PORT"
        printf 'DW_PROXY_NSD=127.0.0.1@%s\n' "$PROXY_NSD_PORT"
        printf 'DW_PROXY_UNBOUND=127.0.0.1@%s\n' "$PROXY_UNBOUND_PORT"
        printf 'DW_ANCHOR=%q\n' "$DIR/test.anchor"
        printf 'DW_ANCHOR_DNSKEY=%q\n' "$DIR/test.anchor.dnskey"
        printf 'DW_PROXY_NSD_LOG=%q\n' "$DIR/proxy-nsd.log"
        printf 'DW_PROXY_UNBOUND_LOG=%q\n' "$DIR/proxy-unbound.log"
        printf 'DW_UNBOUND_LOG=%q\n' "$DIR/unbound/unbound.log"
        echo "# Validity of every signature in the good zones (unix time);"
        echo "# expired.test. was signed for January 2020 only."
        printf 'DW_SIG_INCEPTION=%s\n' "$SIG_INCEPTION"
        printf 'DW_SIG_EXPIRATION=%s\n' "$SIG_EXPIRATION"
        printf 'DW_SCENARIOS=%s\n' "$SCENARIOS"
        if [ "$SCENARIOS" = 1 ]; then
            echo "# Scenario mode: a second nsd serving split.test. only."
            printf 'DW_NSD2=127.0.0.1@%s\n' "$NSD2_PORT"
        fi
    } >"$DIR/env.tmp"
    mv "$DIR/env.tmp" "$DIR/env"
}

# start_world - the "start" command.
# start_servers - pick ports, write the configurations, start nsd, unbound
# and the two proxies and wait for each; 1 if one of them died.
start_servers() {
    PORTS=""
    NSD_PORT=$(pick_port)
    PORTS="$PORTS $NSD_PORT"
    UNBOUND_PORT=$(pick_port)
    PORTS="$PORTS $UNBOUND_PORT"
    PROXY_NSD_PORT=$(pick_port)
    PORTS="$PORTS $PROXY_NSD_PORT"
    PROXY_UNBOUND_PORT=$(pick_port)
    PORTS="$PORTS $PROXY_UNBOUND_PORT"
    NSD2_PORT=
    if [ "$SCENARIOS" = 1 ]; then
        NSD2_PORT=$(pick_port)
        write_nsd_conf "$NSD2_PORT" nsd2 "$SCEN_SPLIT_ZONE"
    fi
    write_nsd_conf "$NSD_PORT"
    write_unbound_conf "$UNBOUND_PORT" "$NSD_PORT" "$PROXY_NSD_PORT"

    launch nsd nsd "$DIR/nsd/nsd.stderr" nsd -d -c "$DIR/nsd/nsd.conf"
    wait_ready nsd nsd "$NSD_PORT" "$DIR/nsd/nsd.log" || return 1
    if [ "$SCENARIOS" = 1 ]; then
        launch nsd2 nsd "$DIR/nsd2/nsd.stderr" nsd -d -c "$DIR/nsd2/nsd.conf"
        wait_ready nsd2 nsd "$NSD2_PORT" "$DIR/nsd2/nsd.log" \
            "$SCEN_SPLIT_ZONE." || return 1
    fi

    launch proxy-nsd faultproxy "$DIR/proxy-nsd.stderr" "$FAULTPROXY" \
        -l 127.0.0.1 -p "$PROXY_NSD_PORT" -u "127.0.0.1@$NSD_PORT" \
        --log "$DIR/proxy-nsd.log" --pidfile "$DIR/proxy-nsd.pid"
    wait_ready proxy-nsd faultproxy "$PROXY_NSD_PORT" \
        "$DIR/proxy-nsd.stderr" || return 1

    launch unbound unbound "$DIR/unbound/unbound.stderr" \
        unbound -c "$DIR/unbound/unbound.conf"
    wait_ready unbound unbound "$UNBOUND_PORT" "$DIR/unbound/unbound.log" ||
        return 1

    launch proxy-unbound faultproxy "$DIR/proxy-unbound.stderr" \
        "$FAULTPROXY" -l 127.0.0.1 -p "$PROXY_UNBOUND_PORT" \
        -u "127.0.0.1@$UNBOUND_PORT" --log "$DIR/proxy-unbound.log" \
        --pidfile "$DIR/proxy-unbound.pid"
    wait_ready proxy-unbound faultproxy "$PROXY_UNBOUND_PORT" \
        "$DIR/proxy-unbound.stderr"
}

start_world() {
    # Only ever wipe a directory this script made (the marker, or the
    # layout of a world made before the marker existed).
    if [ -d "$DIR" ] && [ ! -e "$DIR/.dnsworld" ] &&
        ! { [ -d "$DIR/run" ] && [ -d "$DIR/zones" ]; } &&
        [ -n "$(ls -A "$DIR")" ]; then
        fail "$DIR is not empty and not a DNS world; not touching it"
    fi
    stop_world "$DIR"
    rm -rf "$DIR"
    mkdir -p "$DIR/run"
    : >"$DIR/.dnsworld"
    DIR=$(cd "$DIR" && pwd)
    # On any failure from here on, take down whatever was started.
    STARTED=0
    trap 'if [ "$STARTED" != 1 ]; then stop_world "$DIR"; fi' EXIT

    msg "generating and signing zones in $DIR"
    make_zones
    # A port found free can be taken by someone else before a daemon binds
    # it (tests run in parallel): start again on new ports, a few times.
    for attempt in 1 2 3; do
        start_servers && break
        [ "$attempt" = 3 ] && fail "the servers did not start (3 attempts)"
        msg "starting again on other ports"
        stop_world "$DIR"
    done

    # The readiness probes are not test traffic: start with empty logs.
    : >"$DIR/proxy-nsd.log"
    : >"$DIR/proxy-unbound.log"
    write_env
    STARTED=1
    msg "ready: nsd $NSD_PORT, unbound $UNBOUND_PORT," \
        "proxies $PROXY_NSD_PORT (nsd), $PROXY_UNBOUND_PORT (unbound)"
}

# ---------------------------------------------------------------------------

[ $# -ge 2 ] || usage
case "$1" in
start)
    if [ $# -lt 3 ] || [ $# -gt 4 ]; then usage; fi
    DIR=$2
    FAULTPROXY=$3
    EXTRA_RR_FILE=${4:-}
    [ -x "$FAULTPROXY" ] || fail "fault proxy binary $FAULTPROXY not found"
    if [ -n "$EXTRA_RR_FILE" ]; then
        [ -r "$EXTRA_RR_FILE" ] || fail "cannot read $EXTRA_RR_FILE"
        EXTRA_RR_FILE=$(cd "$(dirname "$EXTRA_RR_FILE")" &&
            pwd)/$(basename "$EXTRA_RR_FILE")
    fi
    for tool in ldns-keygen ldns-signzone ldns-key2ds ldns-verify-zone drill \
        nsd nsd-checkconf unbound unbound-checkconf setsid; do
        command -v "$tool" >/dev/null || fail "$tool is not installed"
    done
    start_world
    ;;
stop)
    [ $# -eq 2 ] || usage
    stop_world "$2" || true
    ;;
*)
    usage
    ;;
esac
