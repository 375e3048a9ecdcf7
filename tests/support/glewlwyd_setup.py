#!/usr/bin/python3
"""Configures a freshly started glewlwyd (Debian's package: a real OpenID provider) through its
own administration API: an OpenID Connect plugin signing RS256 with a key made here, the
lockbox console as a confidential client (code flow, PKCE), an "email" scope, and users with
passwords who have granted the console their openid and email scopes.

usage: glewlwyd_setup.py BASE_URL CA_FILE REDIRECT_URI CLIENT_SECRET USER:PASSWORD:EMAIL...
"""
import base64
import http.cookiejar
import json
import ssl
import sys
import urllib.request

from cryptography.hazmat.primitives.asymmetric import rsa


def b64u(n):
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def private_jwks():
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    p = k.private_numbers()
    jwk = {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": "lbx-test-1",
           "n": b64u(p.public_numbers.n), "e": b64u(p.public_numbers.e), "d": b64u(p.d),
           "p": b64u(p.p), "q": b64u(p.q), "dp": b64u(p.dmp1), "dq": b64u(p.dmq1),
           "qi": b64u(p.iqmp)}
    return json.dumps({"keys": [jwk]})


class Session:
    def __init__(self, base, ca):
        self.base = base
        ctx = ssl.create_default_context(cafile=ca)
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=ctx),
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with self.opener.open(req, timeout=20) as r:
                text = r.read().decode()
        except urllib.error.HTTPError as e:
            sys.exit("glewlwyd %s %s: HTTP %d %s" % (method, path, e.code, e.read().decode()[:500]))
        return json.loads(text) if text.strip() else None


def oidc_plugin(base):
    return {
        "module": "oidc", "name": "oidc", "display_name": "OpenID Connect", "enabled": True,
        "parameters": {
            "iss": base + "/api/oidc", "jwt-type": "rsa", "jwt-key-size": "256",
            "jwks-private": private_jwks(), "default-kid": "lbx-test-1", "jwks-show": True,
            "access-token-duration": 3600, "refresh-token-duration": 1209600,
            "code-duration": 600, "refresh-token-rolling": True,
            "allow-non-oidc": False, "auth-type-code-enabled": True,
            "auth-type-token-enabled": False, "auth-type-id-token-enabled": True,
            "auth-type-none-enabled": False, "auth-type-password-enabled": False,
            "auth-type-client-enabled": False, "auth-type-device-enabled": False,
            "auth-type-refresh-enabled": True, "scope": [], "additional-parameters": [],
            "claims": [], "service-documentation": "", "op-policy-uri": "", "op-tos-uri": "",
            "request-parameter-allow": False, "secret-type": "pairwise",
            "address-claim": {"type": "no", "formatted": "", "street_address": "",
                              "locality": "", "region": "", "postal_code": "", "country": "",
                              "mandatory": False},
            "name-claim": "no", "name-claim-scope": [],
            "email-claim": "mandatory", "email-claim-scope": [],
            "scope-claim": "no", "scope-claim-scope": [],
            "allowed-scope": ["openid", "email"],
            "pkce-allowed": True, "pkce-method-plain-allowed": False,
            "introspection-revocation-allowed": False, "register-client-allowed": False,
            "session-management-allowed": False,
            "client-pubkey-parameter": "", "client-jwks-parameter": "jwks",
            "client-jwks_uri-parameter": "jwks_uri", "request-maximum-exp": 3600,
            "encrypt-out-token-allow": False,
            "oauth-dpop-allowed": False, "resource-allowed": False, "oauth-rar-allowed": False,
            "oauth-par-allowed": False, "oauth-ciba-allowed": False,
            "oauth-fapi-allow-restrict-alg": False,
        },
    }


def main():
    base, ca, redirect_uri, secret = sys.argv[1:5]
    users = [u.split(":", 2) for u in sys.argv[5:]]
    admin = Session(base, ca)
    admin.call("POST", "/api/auth/", {"username": "admin", "password": "password"})
    admin.call("POST", "/api/mod/plugin/", oidc_plugin(base))
    admin.call("POST", "/api/scope/", {"name": "email", "display_name": "e-mail address",
                                       "description": "e-mail address",
                                       "password_required": False, "scheme": {}})
    admin.call("POST", "/api/client/", {
        "client_id": "lockbox-console", "name": "lockbox console", "enabled": True,
        "confidential": True, "client_secret": secret, "redirect_uri": [redirect_uri],
        "authorization_type": ["code"], "token_endpoint_auth_method": ["client_secret_post"],
        "scope": ["openid", "email"]})
    for name, password, email in users:
        admin.call("POST", "/api/user/", {"username": name, "name": name, "email": email,
                                          "password": password, "enabled": True,
                                          "scope": ["openid", "email", "g_profile"]})
        # The user's own consent to the console, as on first sign-in.
        user = Session(base, ca)
        user.call("POST", "/api/auth/", {"username": name, "password": password})
        user.call("PUT", "/api/auth/grant/lockbox-console", {"scope": "openid email"})


if __name__ == "__main__":
    main()
