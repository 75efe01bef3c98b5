#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# deps.sh - install the Debian 12 packages dance-provider needs to build,
# run its demo and run its tests. Does nothing when they are all present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang-format
  libssl-dev openssl libldns-dev ldnsutils libcunit1-dev
  nsd unbound dns-root-data
  curl nginx python3
  libcbor-dev python3-cbor2 python3-cryptography clang libclang-rt-14-dev
  valgrind
  # issue 8 application matrix (tests/tls/matrix_*.sh)
  haproxy apache2 lighttpd lighttpd-mod-openssl stunnel4
  mosquitto mosquitto-clients
  # issue 12 fleet enrolment: a signing primary that takes RFC 2136 updates
  knot knot-dnsutils
  # issue 11 stats files, read by the textfile collector (tls.stats)
  prometheus-node-exporter
  # issue 11 packaging: cpack's dpkg-shlibdeps, man pages (unit.docs, deb.sh)
  dpkg-dev groff-base man-db
)

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
# own instances on loopback high ports.
printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
$SUDO chmod +x /usr/sbin/policy-rc.d
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
  "${missing[@]}" >/dev/null
$SUDO rm -f /usr/sbin/policy-rc.d
