#!/bin/bash
# SPDX-License-Identifier: Apache-2.0
# run_fuzz.sh - run the fw_readers fuzz target for a bounded time from a
# seed corpus made now with the dance tool (nothing is committed).
#
#   run_fuzz.sh FUZZER DANCE SECONDS
#
# Seeds: a signed SUIT envelope, its manifest, an extended rollover
# manifest and the vendor rollover manifest, each behind the selector
# octet fuzz_fw.c expects.  Exit status: the fuzzer's (0 when it found
# nothing).
set -euo pipefail
if [ $# -ne 3 ]; then
    echo "usage: $0 FUZZER DANCE SECONDS" >&2
    exit 2
fi
FUZZER=$1
DANCE=$2
SECONDS_MAX=$3
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$TMP/old.pem" 2>/dev/null
openssl genpkey -algorithm ED25519 -out "$TMP/new.pem"
head -c 100 /dev/urandom >"$TMP/fw.bin"
"$DANCE" manifest create --firmware "$TMP/fw.bin" --uri https://x.test/fw \
    --seq 1 >"$TMP/m.cbor"
"$DANCE" manifest sign --key "$TMP/old.pem" --kid k1 "$TMP/m.cbor" \
    >"$TMP/env.cbor"
"$DANCE" rollover create --app-id app --version 1 --new-key "$TMP/new.pem" \
    --new-kid k2 --old-key "$TMP/old.pem" --old-kid k1 >"$TMP/ro.cbor"
mkdir "$TMP/corpus"
# seed SELECTOR FILE - one corpus entry: the selector octet, then FILE.
seed() {
    { printf '%b' "\\x$1"; cat "$2"; } >"$TMP/corpus/seed-$1-$(basename "$2")"
}
seed 00 "$TMP/env.cbor"
seed 01 "$TMP/m.cbor"
seed 02 "$TMP/ro.cbor"
seed 03 "$TMP/ro.cbor"
"$DANCE" keystore record --kid k1 "$TMP/old.pem" |
    awk '{ print $NF }' | base64 -d >"$TMP/key.bin"
{ printf '\x04\x0a\x00\x03'; cat "$TMP/key.bin"; } >"$TMP/corpus/seed-04"

"$FUZZER" -max_total_time="$SECONDS_MAX" -rss_limit_mb=2048 \
    -max_len=4096 -print_final_stats=1 "$TMP/corpus" 2>"$TMP/log" ||
    { tail -n 40 "$TMP/log" >&2; exit 1; }
grep -E '^stat::number_of_executed_units|^Done' "$TMP/log" || true
