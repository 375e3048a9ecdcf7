#!/usr/bin/python3
"""Forges grant tokens the way an attacker (or a broken broker) would, for the hostile-broker
tests. lockboxctl refuses to mint most of these, which is why this exists.

  forge_token.py es256 KEY.pem KID HEADER-EXTRA-JSON CLAIMS-JSON   properly signed ES256
  forge_token.py hs256 SECRET-FILE KID CLAIMS-JSON                 HMAC over e.g. the public PEM
  forge_token.py none KID CLAIMS-JSON                              alg:none, empty signature

The ES256 signature is made by `openssl dgst` (DER) and converted to JWS r||s here.
"""
import base64
import hashlib
import hmac
import json
import subprocess
import sys


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def seg(obj):
    return b64(json.dumps(obj, separators=(",", ":")).encode())


def der_to_raw(der):
    # SEQUENCE { INTEGER r, INTEGER s }, short lengths only (P-256 fits)
    assert der[0] == 0x30
    i = 2
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        v = der[i + 2:i + 2 + n].lstrip(b"\x00")
        out += v.rjust(32, b"\x00")
        i += 2 + n
    return out


def main():
    mode = sys.argv[1]
    if mode == "es256":
        key, kid, extra, claims = sys.argv[2:6]
        header = {"alg": "ES256", "typ": "JWT", "kid": kid}
        header.update(json.loads(extra))
        signing = (seg(header) + "." + seg(json.loads(claims))).encode()
        der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing,
                             capture_output=True, check=True).stdout
        print(signing.decode() + "." + b64(der_to_raw(der)))
    elif mode == "hs256":
        secret_file, kid, claims = sys.argv[2:5]
        header = {"alg": "HS256", "typ": "JWT", "kid": kid}
        signing = (seg(header) + "." + seg(json.loads(claims))).encode()
        with open(secret_file, "rb") as f:
            mac = hmac.new(f.read(), signing, hashlib.sha256).digest()
        print(signing.decode() + "." + b64(mac))
    elif mode == "none":
        kid, claims = sys.argv[2:4]
        print(seg({"alg": "none", "typ": "JWT", "kid": kid}) + "." + seg(json.loads(claims)) + ".")
    else:
        sys.exit("unknown mode")


if __name__ == "__main__":
    main()
