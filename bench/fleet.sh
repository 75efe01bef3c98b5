#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# fleet.sh - how long generating and publishing N TLSA records takes
# (issue 12).
#
#   bench/fleet.sh BUILD_DIR [N] [ROUNDS]     (defaults: 1000, 3)
#
# Starts a Knot DNS primary on loopback (tests/integration/primary.sh:
# RFC 2136 + TSIG, automatic DNSSEC signing), makes ROUNDS x N device
# identities (a fresh EC P-256 key each: tests/integration/mkfleet.py), then
# per round, for N new names:
#   records  `dance tlsa --ttl 300 DIR > FILE`           (N certificates)
#   publish  `dance publish add --wait 0 FILE`           (batches of 200)
#   secure   `dance publish add --wait 60` of the same   (already applied:
#            what is left is looking every name up, validated)
#   total    `dance tlsa DIR | dance publish add --wait 60` of N new names,
#            the enrolment command as the operator guide gives it
# and prints one line per round and the median of each column.  Key
# generation is timed separately (it is the devices' job, not the tool's).
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR [N] [ROUNDS]" >&2; exit 2; }
BUILD=$(cd "$1" && pwd)
N=${2:-1000}
ROUNDS=${3:-3}
SRC=$(cd "$(dirname "$0")/.." && pwd)
DANCE=$BUILD/tools/dance
TMP=$(mktemp -d "${TMPDIR:-/tmp}/dance-bench-fleet.XXXXXX")
trap '"$SRC/tests/integration/primary.sh" stop "$TMP/primary"; rm -rf "$TMP"' EXIT

"$SRC/tests/integration/primary.sh" start "$TMP/primary" 2 >/dev/null
# shellcheck source=/dev/null
. "$TMP/primary/env"
PUB=(--zone "$PRIMARY_ZONE" --primary "$PRIMARY_ADDR" -k "$PRIMARY_KEY"
    -s "$PRIMARY_ADDR" -a "$PRIMARY_ANCHOR")

# elapsed T0 T1 - seconds from T0 to T1 (date +%s.%N), 2 decimals.
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
# secs CMD... - run CMD, print its wall-clock seconds.
secs() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null
    t1=$(date +%s.%N)
    elapsed "$t0" "$t1"
}
# median - the median of the numbers on stdin.
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

t0=$(date +%s.%N)
for ((r = 0; r < ROUNDS; r++)); do
    # Round r: identities [2rN+1, 2rN+N] (a) and [2rN+N+1, 2rN+2N] (b).
    python3 "$SRC/tests/integration/mkfleet.py" "$TMP/r${r}a" "$N" \
        fleet.test $((2 * r * N + 1))
    python3 "$SRC/tests/integration/mkfleet.py" "$TMP/r${r}b" "$N" \
        fleet.test $((2 * r * N + N + 1))
done
t1=$(date +%s.%N)
echo "key generation (python3-cryptography, EC P-256): $((2 * N * ROUNDS))" \
    "identities in $(elapsed "$t0" "$t1") s"
printf '%-6s %8s %8s %8s %8s\n' round records publish secure total
for ((r = 0; r < ROUNDS; r++)); do
    rec=$(secs sh -c "'$DANCE' tlsa --ttl 300 '$TMP/r${r}a/certs' >'$TMP/r$r.rr'")
    pub=$(secs "$DANCE" publish add "${PUB[@]}" --wait 0 "$TMP/r$r.rr")
    sec=$(secs "$DANCE" publish add "${PUB[@]}" --wait 60 "$TMP/r$r.rr")
    tot=$(secs sh -c "'$DANCE' tlsa --ttl 300 '$TMP/r${r}b/certs' |
        '$DANCE' publish add $(printf "'%s' " "${PUB[@]}") --wait 60")
    printf '%-6s %8s %8s %8s %8s\n' "$r" "$rec" "$pub" "$sec" "$tot" |
        tee -a "$TMP/rows"
done
printf '%-6s %8s %8s %8s %8s\n' median \
    "$(awk '{ print $2 }' "$TMP/rows" | median)" \
    "$(awk '{ print $3 }' "$TMP/rows" | median)" \
    "$(awk '{ print $4 }' "$TMP/rows" | median)" \
    "$(awk '{ print $5 }' "$TMP/rows" | median)"
echo "($N records per column; seconds, wall clock; $(nproc) cores," \
    "load $(cut -d' ' -f1-3 /proc/loadavg))"
