#!/bin/bash
# formats.sh - the client name formats of draft-ietf-dance-client-auth-13
# end to end, under the default profile (client-auth): zones signed at test
# time and served by nsd (tests/dnsworld), the module's own DNSSEC
# validation, unmodified openssl s_server and s_client, TLS 1.3. The client
# sends the full TLSA owner name; the server constructs nothing (unless
# client_service is set: then a bare name gets that label in front).
#
#   formats.sh BUILD_DIR
#
# Format 1, service-specific (_service.client-domain):
#   _mqtt-client.m1.example.test   TLSA 3 1 1  m1's key
#   _smtp-client.m1.example.test   TLSA 3 1 1  another key (m1-smtp)
# Format 2, device identity (device._device.org-domain):
#   sensor9._device.example.test   TLSA 3 1 1  sensor9's key
#   *._device.example.test         TLSA 2 0 1  the organisation's CA (org-a)
#   device certificates issued by org-a (sensor7, sensor8, and stray, which
#   names sensor7._device.other.example.test), and by another
#   organisation's CA (org-b, also for sensor7);
# Format 3, freeform (a plain name), PKIX-EE with a CA the server's
# application trusts (pub-ca, standing in for a public CA):
#   device73.example.test          TLSA 1 1 1  device73's key
#   device73 and device74 issued by pub-ca; device73-self: device73's key
#   in a self-signed certificate.
# Each format has its good case and hostile ones: another service's or
# device's key, a device certificate from another organisation's CA, a
# device certificate naming another device, a name the wildcard does not
# cover, the right key without the CA's signature, a CA the server does
# not trust.
set -euo pipefail
# shellcheck source=tests/tls/lib.sh
. "$(dirname "$0")/lib.sh"
tls_init "$@"

# selfsigned NAME DNSNAME - $PKI/NAME.{key,crt}, EC P-256, self-signed.
selfsigned() {
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
        -nodes -keyout "$PKI/$1.key" -out "$PKI/$1.crt" -days 2 \
        -subj "/CN=$2" -addext "subjectAltName=DNS:$2" 2>>"$PKI/formats.err"
}

# ca NAME - $PKI/NAME.{key,crt}: a CA certificate.
ca() {
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
        -nodes -keyout "$PKI/$1.key" -out "$PKI/$1.crt" -days 2 \
        -subj "/CN=dance test $1" \
        -addext "basicConstraints=critical,CA:TRUE" \
        -addext "keyUsage=critical,keyCertSign,cRLSign" 2>>"$PKI/formats.err"
}

# issue NAME CA DNSNAME [KEYFILE] - $PKI/NAME.{key,crt} issued by CA for
# DNSNAME (a new key, or KEYFILE's), and $PKI/NAME.chain (NAME, then CA).
issue() {
    local name=$1 ca=$2 dns=$3 key=${4:-}
    if [ -n "$key" ]; then
        cp "$key" "$PKI/$name.key"
    else
        openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
            -out "$PKI/$name.key" 2>>"$PKI/formats.err"
    fi
    openssl req -new -key "$PKI/$name.key" -subj "/CN=$dns" \
        -out "$PKI/$name.csr" 2>>"$PKI/formats.err"
    printf '%s\n' "basicConstraints=critical,CA:FALSE" \
        "keyUsage=critical,digitalSignature" "extendedKeyUsage=clientAuth" \
        "subjectAltName=DNS:$dns" >"$PKI/$name.ext"
    openssl x509 -req -in "$PKI/$name.csr" -CA "$PKI/$ca.crt" \
        -CAkey "$PKI/$ca.key" -CAcreateserial -days 2 \
        -extfile "$PKI/$name.ext" -out "$PKI/$name.crt" 2>>"$PKI/formats.err"
    cat "$PKI/$name.crt" "$PKI/$ca.crt" >"$PKI/$name.chain"
}

# tlsa OWNER FILE USAGE SELECTOR - a record for extra.rr (dance tlsa; a
# wildcard owner is written with the label "wildcard", then replaced).
tlsa() {
    "$DANCE" tlsa -u "$3" -s "$4" -m 1 -n "${1/#\*/wildcard}" "$PKI/$2" |
        sed 's/^wildcard\./*./' >>"$PKI/extra.rr"
}

# tls_world_extra - (called by tls_world_start) this script's PKI and
# records, next to pki.sh's.
tls_world_extra() {
    selfsigned m1 m1.example.test
    selfsigned m1-smtp m1.example.test
    selfsigned sensor9 sensor9._device.example.test
    ca org-a
    ca org-b
    ca pub-ca
    issue sensor7 org-a sensor7._device.example.test
    issue sensor8 org-a sensor8._device.example.test
    issue stray org-a sensor7._device.other.example.test
    issue sensor7-b org-b sensor7._device.example.test
    issue device73 pub-ca device73.example.test
    issue device74 pub-ca device74.example.test
    openssl req -x509 -new -key "$PKI/device73.key" -days 2 \
        -subj /CN=device73.example.test \
        -addext subjectAltName=DNS:device73.example.test \
        -out "$PKI/device73-self.crt" 2>>"$PKI/formats.err"
    cp "$PKI/device73.key" "$PKI/device73-self.key"
    openssl x509 -in "$PKI/sensor7.crt" -noout -ext subjectAltName |
        grep -q 'DNS:sensor7._device.example.test' ||
        { cat "$PKI/formats.err" >&2; return 1; }
    tlsa _mqtt-client.m1.example.test. m1.crt 3 1
    tlsa _smtp-client.m1.example.test. m1-smtp.crt 3 1
    tlsa sensor9._device.example.test. sensor9.crt 3 1
    tlsa '*._device.example.test.' org-a.crt 2 0
    tlsa device73.example.test. device73.crt 1 1
}

tls_world_start 4

tls_conf probe
tls_require_provider probe

# Servers: the default profile (no profile key), client_auth = require,
# allow = *.test (tls_conf's default).
tls_conf srv client_auth=require
tls_server_start plain srv
# The same, its application trusting pub-ca for client certificates.
tls_server_start pki srv -CAfile "$PKI/pub-ca.crt"
# client_service: a bare name gets _mqtt-client. in front.
tls_conf srv-svc client_auth=require client_service=_mqtt-client
tls_server_start svc srv-svc

# case CASE WANT SRV NAME CERT [CHAIN] - a module client sending NAME,
# with PKI certificate CERT (and CHAIN as its chain).
n=0
case_() {
    local name=$1 want=$2 srv=$3 cname=$4 cert=$5 chain=${6:-}
    local -a opts=(-tls1_3 -cert "$PKI/$cert.crt" -key "$PKI/$cert.key")
    n=$((n + 1))
    tls_conf "cli$n" client_name="$cname"
    [ -z "$chain" ] || opts+=(-cert_chain "$PKI/$chain.crt")
    tls_case "$name" "$want" "$srv" "cli$n" "${opts[@]}"
}

# --- Format 1 ------------------------------------------------------------------
case_ "format 1: _mqtt-client.m1 (3 1 1), the full name sent: authenticated" \
    authenticated plain _mqtt-client.m1.example.test m1
case_ "format 1: m1's key under _smtp-client.m1 (another service's key): refused" \
    rejected plain _smtp-client.m1.example.test m1
case_ "format 1: the smtp key under _mqtt-client.m1: refused" \
    rejected plain _mqtt-client.m1.example.test m1-smtp
case_ "format 1: the bare name m1 (no record there): refused" \
    rejected plain m1.example.test m1
case_ "format 1, client_service = _mqtt-client: the bare name m1: authenticated" \
    authenticated svc m1.example.test m1
case_ "format 1, client_service = _mqtt-client: the bare name, smtp key: refused" \
    rejected svc m1.example.test m1-smtp

# --- Format 2 ------------------------------------------------------------------
case_ "format 2: sensor9._device (3 1 1): authenticated" \
    authenticated plain sensor9._device.example.test sensor9
case_ "format 2: sensor7._device, org-a's device certificate (*._device 2 0 1): authenticated" \
    authenticated plain sensor7._device.example.test sensor7 org-a
case_ "format 2: sensor8._device under the same wildcard: authenticated" \
    authenticated plain sensor8._device.example.test sensor8 org-a
case_ "format 2: sensor7, a device certificate from another organisation's CA: refused" \
    rejected plain sensor7._device.example.test sensor7-b org-b
case_ "format 2: sensor8's certificate (org-a) claiming sensor7: refused" \
    rejected plain sensor7._device.example.test sensor8 org-a
case_ "format 2: a name the wildcard does not cover (org-a's certificate for it): refused" \
    rejected plain sensor7._device.other.example.test stray org-a
case_ "format 2: org-a's device certificate without org-a in the chain: refused" \
    rejected plain sensor7._device.example.test sensor7
case_ "format 2: sensor9's own key under sensor8's name (wildcard is 2 0 1): refused" \
    rejected plain sensor8._device.example.test sensor9

# --- Format 3 ------------------------------------------------------------------
case_ "format 3: device73 (1 1 1), issued by a CA the server trusts: authenticated" \
    authenticated pki device73.example.test device73
case_ "format 3: device73's key, self-signed (PKIX fails): refused" \
    rejected pki device73.example.test device73-self
case_ "format 3: device73, a CA the server does not trust: refused" \
    rejected plain device73.example.test device73
case_ "format 3: device74 (same CA) claiming device73: refused" \
    rejected pki device73.example.test device74

for s in plain pki svc; do
    tls_server_stop "$s"
    tls_server_clean "$s"
done
tls_done
