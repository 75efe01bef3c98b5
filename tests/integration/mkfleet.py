#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""mkfleet.py - make N device identities for the fleet tests and bench.

    mkfleet.py OUTDIR N DOMAIN [FIRST]

Writes OUTDIR/certs/devNNNN.crt and OUTDIR/keys/devNNNN.key for NNNN =
FIRST .. FIRST+N-1 (default FIRST 1): a fresh EC P-256 key per device (no
key is shared) and a self-signed certificate, valid for two days, whose
subject CN and only dNSName SAN are devNNNN.DOMAIN (what the provider's
identity_check = strict wants when the ClientName is devNNNN.DOMAIN).
python3-cryptography does this in a second or two for 1,000 devices, where
1,000 `openssl req` runs take minutes on a loaded machine.
"""
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def main():
    """main - parse the arguments and write the identities."""
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    out, n, domain = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    first = int(sys.argv[4]) if len(sys.argv) == 5 else 1
    os.makedirs(os.path.join(out, "certs"), exist_ok=True)
    os.makedirs(os.path.join(out, "keys"), exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    for i in range(first, first + n):
        name = "dev%04d" % i
        fqdn = "%s.%s" % (name, domain)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, fqdn)])
        cert = (x509.CertificateBuilder()
                .subject_name(subject).issuer_name(subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - datetime.timedelta(hours=1))
                .not_valid_after(now + datetime.timedelta(days=2))
                .add_extension(x509.SubjectAlternativeName(
                    [x509.DNSName(fqdn)]), critical=False)
                .sign(key, hashes.SHA256()))
        with open(os.path.join(out, "keys", name + ".key"), "wb") as f:
            f.write(key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()))
        with open(os.path.join(out, "certs", name + ".crt"), "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))


if __name__ == "__main__":
    main()
