#!/usr/bin/env python3
"""Trivial stand-in for the broker, to measure the load driver's own ceiling.

It speaks the broker's flow contract (see benchmarks/README.md) with canned
answers and no cryptography, as cheaply as a Python server can:

    GET  /.well-known/openid-configuration
    GET  /authorize?...               303 -> /interaction/{uid}/login (+ session cookie)
    GET  /interaction/{uid}/login     HTML form: csrf_token, login, password
    POST /interaction/{uid}/login     303 -> /interaction/{uid}/consent
    GET  /interaction/{uid}/consent   HTML form: csrf_token, decision=approve
    POST /interaction/{uid}/consent   303 -> redirect_uri?code&state&iss
    POST /token                       JSON with a fake (unsigned) id_token
    GET  /userinfo                    JSON
    GET  /ping                        "ok"

It checks the cookie, the CSRF token, the credentials (plain compare), PKCE
S256 and the client's Basic credentials, so that driving it exercises the
driver's whole `ours` code path, and nothing else. Not a real server: used by
`run_flows.py --ceiling` only, on 127.0.0.1.

    python benchmarks/mock_server.py --port 4100 [--client-id bench --client-secret s]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import os
import secrets
import signal
import sys
from urllib.parse import parse_qsl, urlencode, urlsplit

PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;max-width:30em;margin:2em auto}}input{{display:block;margin:.5em 0}}</style>
</head><body><main><h1>{title}</h1>
<form method="post" action="{action}">
<input type="hidden" name="csrf_token" value="{csrf}">
{fields}
</form></main></body></html>"""

LOGIN_FIELDS = """<label for="login">Identifiant</label>
<input type="text" id="login" name="login" autocomplete="username" required>
<label for="password">Mot de passe</label>
<input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Se connecter</button>"""

CONSENT_FIELDS = """<p>Bench demande l'accès à : openid, profile</p>
<button type="submit" name="decision" value="deny">Refuser</button>
<button type="submit" name="decision" value="approve">Autoriser</button>"""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class State:
    def __init__(self, issuer: str, client_id: str, client_secret: str) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.basic = "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        self.interactions: dict[str, dict] = {}
        self.codes: dict[str, dict] = {}
        self.tokens: dict[str, str] = {}
        self.discovery = json.dumps(
            {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "userinfo_endpoint": f"{issuer}/userinfo",
                "jwks_uri": f"{issuer}/jwks",
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
                "authorization_response_iss_parameter_supported": True,
            }
        ).encode()


def response(status: int, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    reason = {
        200: "OK",
        303: "See Other",
        400: "Bad Request",
        401: "Unauthorized",
        404: "Not Found",
    }[status]
    head = [f"HTTP/1.1 {status} {reason}"]
    head += [f"{k}: {v}" for k, v in headers]
    head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def bad(status: int, msg: str) -> bytes:
    return response(status, [("Content-Type", "text/plain")], msg.encode())


def cookies_of(headers: dict[str, str]) -> dict[str, str]:
    out = {}
    for part in headers.get("cookie", "").split(";"):
        k, _, v = part.strip().partition("=")
        if k:
            out[k] = v
    return out


def handle(st: State, method: str, target: str, headers: dict[str, str], body: bytes) -> bytes:
    u = urlsplit(target)
    path = u.path
    if path == "/ping":
        return response(200, [("Content-Type", "text/plain")], b"ok")
    if path == "/.well-known/openid-configuration":
        return response(200, [("Content-Type", "application/json")], st.discovery)
    if path == "/authorize" and method == "GET":
        q = dict(parse_qsl(u.query))
        if q.get("client_id") != st.client_id or q.get("code_challenge_method") != "S256":
            return bad(400, "bad authorization request")
        uid = secrets.token_urlsafe(16)
        sid = secrets.token_urlsafe(16)
        st.interactions[uid] = {"q": q, "sid": sid, "csrf": secrets.token_urlsafe(16), "user": None}
        return response(
            303,
            [
                ("Location", f"/interaction/{uid}/login"),
                ("Set-Cookie", f"bsid={sid}; Path=/; HttpOnly; SameSite=Lax"),
            ],
        )
    if path.startswith("/interaction/"):
        parts = path.split("/")
        if len(parts) != 4:
            return bad(404, "no such page")
        uid, step = parts[2], parts[3]
        it = st.interactions.get(uid)
        if it is None or cookies_of(headers).get("bsid") != it["sid"]:
            return bad(400, "unknown interaction or missing session cookie")
        if method == "GET":
            if step == "login":
                page = PAGE.format(
                    title="Connexion", action=path, csrf=it["csrf"], fields=LOGIN_FIELDS
                )
            elif step == "consent" and it["user"]:
                page = PAGE.format(
                    title="Autorisation", action=path, csrf=it["csrf"], fields=CONSENT_FIELDS
                )
            else:
                return bad(404, "no such page")
            return response(
                200,
                [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")],
                page.encode(),
            )
        form = dict(parse_qsl(body.decode()))
        if form.get("csrf_token") != it["csrf"]:
            return bad(400, "csrf")
        if step == "login":
            if form.get("login") != "test" or form.get("password") != "123":
                return bad(401, "bad credentials")
            it["user"] = "test"
            return response(303, [("Location", f"/interaction/{uid}/consent")])
        if step == "consent" and it["user"] and form.get("decision") == "approve":
            del st.interactions[uid]
            q = it["q"]
            code = secrets.token_urlsafe(24)
            st.codes[code] = {"q": q, "user": it["user"]}
            loc = (
                q["redirect_uri"]
                + "?"
                + urlencode({"code": code, "state": q.get("state", ""), "iss": st.issuer})
            )
            return response(303, [("Location", loc)])
        return bad(400, "bad interaction step")
    if path == "/token" and method == "POST":
        if headers.get("authorization") != st.basic:
            return bad(401, "client authentication failed")
        form = dict(parse_qsl(body.decode()))
        c = st.codes.pop(form.get("code", ""), None)
        if c is None or form.get("redirect_uri") != c["q"]["redirect_uri"]:
            return bad(400, "invalid_grant")
        verifier = form.get("code_verifier", "")
        if b64url(hashlib.sha256(verifier.encode()).digest()) != c["q"]["code_challenge"]:
            return bad(400, "invalid_grant (pkce)")
        access = secrets.token_urlsafe(24)
        st.tokens[access] = c["user"]
        hdr = b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        payload = b64url(
            json.dumps(
                {
                    "iss": st.issuer,
                    "aud": st.client_id,
                    "sub": c["user"],
                    "nonce": c["q"].get("nonce"),
                }
            ).encode()
        )
        tok = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": f"{hdr}.{payload}.",
        }
        return response(
            200,
            [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
            json.dumps(tok).encode(),
        )
    if path == "/userinfo" and method == "GET":
        auth = headers.get("authorization", "")
        user = st.tokens.pop(auth[7:], None) if auth.startswith("Bearer ") else None
        if user is None:
            return bad(401, "invalid_token")
        return response(
            200,
            [("Content-Type", "application/json")],
            json.dumps({"sub": user, "name": "Camille Dupont"}).encode(),
        )
    return bad(404, "not found")


class ServerProtocol(asyncio.Protocol):
    def __init__(self, st: State) -> None:
        self.st = st
        self.buf = bytearray()
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i < 0:
                return
            lines = bytes(self.buf[:i]).decode("latin-1").split("\r\n")
            headers = {}
            for line in lines[1:]:
                k, _, v = line.partition(":")
                headers[k.strip().lower()] = v.strip()
            n = int(headers.get("content-length", "0"))
            if len(self.buf) < i + 4 + n:
                return
            body = bytes(self.buf[i + 4 : i + 4 + n])
            del self.buf[: i + 4 + n]
            method, target, _ = lines[0].split(" ", 2)
            self.transport.write(handle(self.st, method, target, headers, body))


async def serve(host: str, port: int, st: State) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: ServerProtocol(st), host, port, reuse_address=True)
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    print(json.dumps({"ready": True, "issuer": st.issuer, "pid": os.getpid()}), flush=True)
    await stop
    server.close()


def main() -> int:
    ap = argparse.ArgumentParser(description="trivial flow server for the driver's ceiling")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--client-id", default="bench")
    ap.add_argument("--client-secret", default="bench-secret")
    args = ap.parse_args()
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        ap.error("loopback only")
    st = State(f"http://{args.host}:{args.port}", args.client_id, args.client_secret)
    try:
        import uvloop

        uvloop.run(serve(args.host, args.port, st))
    except ImportError:
        asyncio.run(serve(args.host, args.port, st))
    return 0


if __name__ == "__main__":
    sys.exit(main())
