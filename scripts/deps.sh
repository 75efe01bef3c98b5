#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# deps.sh - install the Debian packages dance-provider needs to build, run
# its demo and run its tests, on Debian 12 (bookworm) and Debian 13
# (trixie). Does nothing when they are all present.
#   scripts/deps.sh          install what is missing
#   scripts/deps.sh --list   print the package list, one a line, and exit
set -euo pipefail

# Every name here must exist in both releases (scripts/debian13.sh installs
# this list into its Debian 13 chroot, so a name missing there fails CI).
packages=(
  build-essential cmake pkg-config clang-format
  libssl-dev openssl libldns-dev ldnsutils libcunit1-dev
  nsd unbound dns-root-data
  curl nginx python3
  libcbor-dev python3-cbor2 python3-cryptography clang libclang-rt-dev
  valgrind
  # issue 8 application matrix (tests/tls/matrix_*.sh)
  haproxy apache2 lighttpd lighttpd-mod-openssl stunnel4
  mosquitto mosquitto-clients
  # issue 12 fleet enrolment: a signing primary that takes RFC 2136 updates
  knot knot-dnsutils
  # issue 13: test.sh lints every shell script
  shellcheck
  # issue 11 stats files, read by the textfile collector (tls.stats)
  prometheus-node-exporter
  # issue 11 packaging: cpack's dpkg-shlibdeps (and the file utility it
  # runs), man pages (unit.docs, deb.sh)
  dpkg-dev file groff-base man-db
)

if [ "${1:-}" = "--list" ]; then
  printf '%s\n' "${packages[@]}"
  exit 0
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps.sh: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
$SUDO apt-get update -qq
# Packaged daemons must not start on the standard ports: tests run their
# own instances on loopback high ports. A policy-rc.d that forbids every
# start is put in place only when the machine has none, and only the one
# written here is removed again, also when the run is interrupted; a
# machine's own policy-rc.d is left as it is.
policy=/usr/sbin/policy-rc.d
created_policy=
remove_policy() { # remove_policy - undo the policy-rc.d this run created
  if [ -n "$created_policy" ]; then
    $SUDO rm -f "$policy"
    created_policy=
  fi
}
trap remove_policy EXIT
trap 'remove_policy; trap - INT; kill -INT $$' INT
trap 'remove_policy; trap - TERM; kill -TERM $$' TERM
if [ ! -e "$policy" ] && [ ! -L "$policy" ]; then
  # noclobber: if another process created it meanwhile, do not overwrite.
  if $SUDO sh -c "set -C; printf '#!/bin/sh\nexit 101\n' >'$policy'" 2>/dev/null; then
    created_policy=1
    $SUDO chmod +x "$policy"
  fi
fi
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
