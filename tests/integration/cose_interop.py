#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""cose_interop.py - an independent COSE_Sign1 / SUIT envelope implementation
(Python cbor2 + cryptography, Debian packages) to cross-check `dance`.

  cose_interop.py sign KEY.pem KID MANIFEST.cbor OUT.cbor
      wrap MANIFEST.cbor in a SUIT envelope signed with KEY.pem
  cose_interop.py verify PUB.pem ENVELOPE.cbor
      check the envelope's digest and its first COSE_Sign1 with PUB.pem
  cose_interop.py rollover-verify OLD_PUB.pem FILE.cbor
      check a vendor rollover manifest (Table I) signed with the old key

Written from RFC 9052/9053, RFC 8230 and draft-ietf-suit-manifest only;
exit status 0 when the check passes, 1 when it fails.
"""
import hashlib
import sys

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

ES256, EDDSA, ES384, PS256 = -7, -8, -35, -37
SHA256_ID = -16


def alg_for(key):
    """The COSE algorithm for a (private or public) key."""
    pub = key.public_key() if hasattr(key, "public_key") else key
    if isinstance(pub, ec.EllipticCurvePublicKey):
        return {"secp256r1": ES256, "secp384r1": ES384}[pub.curve.name]
    if isinstance(pub, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        return EDDSA
    if isinstance(pub, rsa.RSAPublicKey):
        return PS256
    raise ValueError("unsupported key")


def pss():
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)


def sig_structure(protected, payload):
    return cbor2.dumps(["Signature1", protected, b"", payload])


def raw_sign(key, alg, tbs):
    if alg in (ES256, ES384):
        h, n = (hashes.SHA256(), 32) if alg == ES256 else (hashes.SHA384(), 48)
        r, s = decode_dss_signature(key.sign(tbs, ec.ECDSA(h)))
        return r.to_bytes(n, "big") + s.to_bytes(n, "big")
    if alg == EDDSA:
        return key.sign(tbs)
    return key.sign(tbs, pss(), hashes.SHA256())


def raw_verify(pub, alg, tbs, sig):
    try:
        if alg in (ES256, ES384):
            h, n = (hashes.SHA256(), 32) if alg == ES256 else (hashes.SHA384(), 48)
            if len(sig) != 2 * n:
                return False
            der = encode_dss_signature(int.from_bytes(sig[:n], "big"),
                                       int.from_bytes(sig[n:], "big"))
            pub.verify(der, tbs, ec.ECDSA(h))
        elif alg == EDDSA:
            pub.verify(sig, tbs)
        else:
            pub.verify(sig, tbs, pss(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True


def untag(item, tag):
    if isinstance(item, cbor2.CBORTag):
        if item.tag != tag:
            raise ValueError("unexpected tag %d" % item.tag)
        return item.value
    return item


def verify_sign1(pub, msg, detached=None):
    """Verify a COSE_Sign1 (bytes); return its decoded protected header."""
    protected, unprotected, payload, sig = untag(cbor2.loads(msg), 18)
    hdr = cbor2.loads(protected)
    if not isinstance(unprotected, dict):
        raise ValueError("unprotected header is not a map")
    alg = hdr[1]
    if alg != alg_for(pub):
        raise ValueError("alg %d does not fit the key" % alg)
    if payload is None:
        payload = detached
    if not raw_verify(pub, alg, sig_structure(protected, payload), sig):
        raise ValueError("bad signature")
    return hdr, payload


def cmd_sign(key_path, kid, manifest_path, out_path):
    key = serialization.load_pem_private_key(open(key_path, "rb").read(), None)
    manifest = open(manifest_path, "rb").read()
    digest = cbor2.dumps([SHA256_ID, hashlib.sha256(manifest).digest()])
    alg = alg_for(key)
    protected = cbor2.dumps({1: alg, 4: kid.encode()})
    sig = raw_sign(key, alg, sig_structure(protected, digest))
    sign1 = cbor2.dumps(cbor2.CBORTag(18, [protected, {}, None, sig]))
    auth = cbor2.dumps([digest, sign1])
    env = cbor2.CBORTag(107, {2: auth, 3: manifest})
    open(out_path, "wb").write(cbor2.dumps(env))
    return 0


def cmd_verify(pub_path, env_path):
    pub = serialization.load_pem_public_key(open(pub_path, "rb").read())
    env = untag(cbor2.loads(open(env_path, "rb").read()), 107)
    auth = cbor2.loads(env[2])
    manifest = env[3]
    alg_id, digest = cbor2.loads(auth[0])
    if alg_id != SHA256_ID or digest != hashlib.sha256(manifest).digest():
        raise ValueError("digest mismatch")
    hdr, _ = verify_sign1(pub, auth[1], detached=auth[0])
    man = cbor2.loads(manifest)
    print("python: verified, kid %s, sequence %d" % (hdr[4].decode(), man[2]))
    return 0


def cmd_rollover_verify(pub_path, path):
    pub = serialization.load_pem_public_key(open(pub_path, "rb").read())
    hdr, payload = verify_sign1(pub, open(path, "rb").read())
    ro = cbor2.loads(payload)
    if hdr[4].decode() != ro[6] or hdr[1] != ro[7]:
        raise ValueError("kid/alg are not the old key's")
    new = serialization.load_der_public_key(ro[5])
    if alg_for(new) != ro[4]:
        raise ValueError("new alg does not fit the new key")
    print("python: rollover verified, %s -> %s" % (ro[6], ro[3]))
    return 0


def main(argv):
    try:
        if len(argv) == 5 and argv[0] == "sign":
            return cmd_sign(*argv[1:])
        if len(argv) == 3 and argv[0] == "verify":
            return cmd_verify(*argv[1:])
        if len(argv) == 3 and argv[0] == "rollover-verify":
            return cmd_rollover_verify(*argv[1:])
    except (ValueError, KeyError, IndexError, TypeError,
            cbor2.CBORDecodeError) as e:
        print("python: FAILED: %s" % e, file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
