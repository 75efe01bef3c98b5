#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# primary.sh - a real DNS primary for the fleet tests: Knot DNS on a
# loopback high port, accepting RFC 2136 updates signed with a TSIG key and
# signing its zone itself (automatic DNSSEC signing, ECDSA P-256, NSEC).
#
#   primary.sh start DIR [TTL [NEGTTL]]  start it; writes DIR/env (below)
#   primary.sh stop DIR          stop it (and wait)
#
# Zones: fleet.test (signed; updates allowed with the key fleet-key),
# locked.test (signed; no update ACL: every update is refused).  TTL
# (default 2) is the NS and DNSKEY TTL; NEGTTL (default TTL) is the SOA's
# TTL and MINIMUM, so negative answers may be cached NEGTTL seconds
# (RFC 2308: min(SOA TTL, MINIMUM)).  The trust anchor
# is fleet.test's own KSK (DNSKEY 257), read back from the server once it
# has signed the zone: the test controls it, no parent is needed.
#
# DIR/env defines PRIMARY_PID, PRIMARY_ADDR (127.0.0.1@PORT), PRIMARY_ZONE,
# PRIMARY_LOCKED_ZONE, PRIMARY_KEY (the TSIG key, BIND format),
# PRIMARY_KEY_KNOT (the same key, Knot format), PRIMARY_KEY_NAME,
# PRIMARY_SECRET, PRIMARY_ANCHOR (DNSKEY file for `dance -a` and the
# provider's trust_anchor), PRIMARY_TTL.  Nothing generated is kept outside
# DIR.
set -euo pipefail

die() {
    echo "primary.sh: $*" >&2
    exit 2
}

# free_port - a loopback port nobody listens on, below the ephemeral range.
free_port() {
    local low _ p i
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range
    for ((i = 0; i < 50; i++)); do
        # slice 15 of 16 of the range (tests/tls/lib.sh tls_port_slice)
        p=$((10000 + 15 * ((low - 10000) / 16) + RANDOM % ((low - 10000) / 16)))
        if ! timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$p" 2>/dev/null &&
            ! ss -Hlun "sport = :$p" 2>/dev/null | grep -q .; then
            echo "$p"
            return 0
        fi
    done
    die "no free port below $low"
}

# write_zone FILE ORIGIN TTL NEGTTL - a minimal zone (SOA, NS, glue) with
# an unsigned delegation, sub.ORIGIN (a primary accepts updates below it,
# but no validator sees them: an operator's mistake the tools must report).
write_zone() {
    cat >"$1" <<ZONE
\$ORIGIN $2.
\$TTL $3
@ $4 SOA ns.$2. hostmaster.$2. 1 60 60 3600 $4
@ NS ns
ns A 127.0.0.1
sub NS ns.elsewhere.test.
ZONE
}

# start DIR TTL NEGTTL - start knotd; 0 once both zones are signed and
# served.
start() {
    local dir=$1 ttl=$2 neg=$3 port secret i pid
    mkdir -p "$dir/run" "$dir/db" "$dir/zones"
    dir=$(cd "$dir" && pwd)
    secret=$(openssl rand -base64 32)
    port=$(free_port)
    write_zone "$dir/zones/fleet.test.zone" fleet.test "$ttl" "$neg"
    write_zone "$dir/zones/locked.test.zone" locked.test "$ttl" "$neg"
    cat >"$dir/knot.conf" <<CONF
server:
    rundir: "$dir/run"
    listen: 127.0.0.1@$port
    udp-workers: 1
    tcp-workers: 2
    background-workers: 1
database:
    storage: "$dir/db"
control:
    listen: "$dir/run/knot.sock"
log:
  - target: "$dir/knot.log"
    any: info
key:
  - id: fleet-key
    algorithm: hmac-sha256
    secret: $secret
acl:
  - id: fleet_update
    key: fleet-key
    action: update
policy:
  - id: fast
    algorithm: ecdsap256sha256
    nsec3: off
    dnskey-ttl: $ttl
    zone-max-ttl: 3600
template:
  - id: default
    storage: "$dir/zones"
    zonefile-sync: -1
    dnssec-signing: on
    dnssec-policy: fast
zone:
  - domain: fleet.test
    file: fleet.test.zone
    acl: fleet_update
  - domain: locked.test
    file: locked.test.zone
CONF
    printf 'key "fleet-key" {\n\talgorithm hmac-sha256;\n\tsecret "%s";\n};\n' \
        "$secret" >"$dir/fleet-key.conf"
    printf 'key:\n  - id: fleet-key\n    algorithm: hmac-sha256\n    secret: %s\n' \
        "$secret" >"$dir/fleet-key.knot"
    knotc -c "$dir/knot.conf" conf-check >/dev/null ||
        die "knot.conf is not valid"
    knotd -c "$dir/knot.conf" </dev/null >"$dir/knotd.out" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/knotd.pid"
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null ||
            { cat "$dir/knotd.out" "$dir/knot.log" >&2 2>/dev/null || true
              die "knotd exited at start-up"; }
        if kdig +short +time=1 +retry=0 @127.0.0.1 -p "$port" fleet.test \
            DNSKEY 2>/dev/null | awk '$1 == 257' |
            sed 's/^/fleet.test. '"$ttl"' IN DNSKEY /' >"$dir/anchor.key" &&
            [ -s "$dir/anchor.key" ] &&
            kdig +short +time=1 +retry=0 @127.0.0.1 -p "$port" locked.test \
                DNSKEY 2>/dev/null | grep -q .; then
            break
        fi
        sleep 0.1
    done
    [ -s "$dir/anchor.key" ] || die "knotd serves no signed fleet.test"
    cat >"$dir/env" <<ENV
PRIMARY_PID=$pid
PRIMARY_ADDR=127.0.0.1@$port
PRIMARY_PORT=$port
PRIMARY_ZONE=fleet.test
PRIMARY_LOCKED_ZONE=locked.test
PRIMARY_KEY=$dir/fleet-key.conf
PRIMARY_KEY_KNOT=$dir/fleet-key.knot
PRIMARY_KEY_NAME=fleet-key
PRIMARY_SECRET=$secret
PRIMARY_ANCHOR=$dir/anchor.key
PRIMARY_TTL=$ttl
PRIMARY_NEGTTL=$neg
ENV
}

# stop DIR - stop the knotd of DIR and wait for it.
stop() {
    local pid i
    [ -f "$1/knotd.pid" ] || return 0
    pid=$(cat "$1/knotd.pid")
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$1/knotd.pid"
}

command -v knotd >/dev/null || die "knotd is not installed (apt-get install knot)"
command -v kdig >/dev/null ||
    die "kdig is not installed (apt-get install knot-dnsutils)"
case "${1:-}" in
start) [ $# -ge 2 ] || die "usage: $0 start DIR [TTL [NEGTTL]]"
    start "$2" "${3:-2}" "${4:-${3:-2}}" ;;
stop) [ $# -eq 2 ] || die "usage: $0 stop DIR"
    stop "$2" ;;
*) die "usage: $0 start DIR [TTL [NEGTTL]] | stop DIR" ;;
esac
