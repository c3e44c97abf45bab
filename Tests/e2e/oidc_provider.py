"""A tiny OpenID Connect provider for the end-to-end tests: discovery, a JWKS
holding a fresh RS256 key (made by the openssl CLI), an authorization
endpoint that signs in `next_user` at once, and a token endpoint that checks
the PKCE verifier (S256) and returns a signed ID token. RSA signing is
RSASSA-PKCS1-v1_5 with SHA-256, done here with Python integers."""
import base64
import hashlib
import json
import re
import subprocess
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SHA256_DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def int_bytes(value):
    return value.to_bytes((value.bit_length() + 7) // 8, "big")


class RSAKey:
    def __init__(self):
        pem = subprocess.run(["openssl", "genrsa", "2048"], capture_output=True, check=True).stdout
        text = subprocess.run(["openssl", "rsa", "-noout", "-text"], input=pem, capture_output=True, check=True).stdout.decode()

        def field(name):
            block = re.search(name + r":\s*\n((?:\s+[0-9a-f:]+\n)+)", text).group(1)
            return int(re.sub(r"[\s:]", "", block), 16)
        self.n = field("modulus")
        self.d = field("privateExponent")
        self.e = int(re.search(r"publicExponent: (\d+)", text).group(1))
        self.size = (self.n.bit_length() + 7) // 8

    def sign(self, message):
        digest = SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
        encoded = b"\x00\x01" + b"\xff" * (self.size - len(digest) - 3) + b"\x00" + digest
        return pow(int.from_bytes(encoded, "big"), self.d, self.n).to_bytes(self.size, "big")


class Provider:
    def __init__(self):
        self.key = RSAKey()
        self.kid = "e2e-key"
        self.next_user = {"sub": "nobody", "groups": []}
        self.grants = {}
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self, status, body=None, headers=None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                if body is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/.well-known/openid-configuration":
                    self.reply(200, {"issuer": provider.issuer, "authorization_endpoint": provider.issuer + "/authorize",
                                     "token_endpoint": provider.issuer + "/token", "jwks_uri": provider.issuer + "/jwks"})
                elif url.path == "/jwks":
                    self.reply(200, {"keys": [{"kty": "RSA", "use": "sig", "alg": "RS256", "kid": provider.kid,
                                               "n": b64url(int_bytes(provider.key.n)), "e": b64url(int_bytes(provider.key.e))}]})
                elif url.path == "/authorize" and query.get("code_challenge_method") == "S256":
                    code = uuid.uuid4().hex
                    provider.grants[code] = dict(query, user=dict(provider.next_user))
                    target = query["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": query["state"]})
                    self.reply(302, headers={"Location": target})
                else:
                    self.reply(400, {"error": "invalid_request"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                grant = provider.grants.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                if (self.path != "/token" or grant is None
                        or b64url(hashlib.sha256(verifier.encode()).digest()) != grant["code_challenge"]
                        or form.get("redirect_uri") != grant["redirect_uri"]):
                    return self.reply(400, {"error": "invalid_grant"})
                now = int(time.time())
                user = grant["user"]
                claims = {"iss": provider.issuer, "aud": grant["client_id"], "sub": user["sub"],
                          "preferred_username": user["sub"], "groups": user["groups"], "nonce": grant.get("nonce"),
                          "iat": now, "exp": now + 300}
                self.reply(200, {"token_type": "Bearer", "expires_in": 300, "id_token": provider.mint(claims),
                                 "access_token": provider.mint(dict(claims, aud="muster-api"))})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def mint(self, claims):
        header = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": self.kid}).encode())
        payload = b64url(json.dumps(claims).encode())
        signature = self.key.sign(f"{header}.{payload}".encode())
        return f"{header}.{payload}.{b64url(signature)}"

    def stop(self):
        self.server.shutdown()
