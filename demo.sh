#!/usr/bin/env bash
# demo.sh - the main job: build dance-provider, sign a test DNS hierarchy,
# serve it with nsd on loopback, and show DNSSEC-validated lookups of TLSA
# records: one secure, one from an unsigned zone, one whose signature was
# tampered with. Everything runs on 127.0.0.1 and is removed afterwards.
set -euo pipefail
cd "$(dirname "$0")"

scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

world=$(mktemp -d /tmp/dance-demo.XXXXXX)
cleanup() { tests/dnsworld/dnsworld.sh stop "$world" >/dev/null 2>&1 || true; rm -rf "$world"; }
trap cleanup EXIT
tests/dnsworld/dnsworld.sh start "$world" build/tests/faultproxy >/dev/null
# shellcheck source=/dev/null
. "$world/env"

show() { # show NAME: one validated lookup, printed as the tool prints it
  echo "\$ dance lookup -s $DW_NSD -a test.anchor $1"
  local rc=0
  build/tools/dance lookup -s "$DW_NSD" -a "$DW_ANCHOR" "$1" || rc=$?
  echo "(exit status $rc)"
  echo
}
show _443._tcp.www.example.test
show _mqtt-client.device1.example.test
show _443._tcp.www.insecure.test
show tampered.example.test
