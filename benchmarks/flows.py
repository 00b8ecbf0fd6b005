#!/usr/bin/env python3
"""Load driver: complete OpenID Connect authorization-code flows, concurrently.

Each virtual user (VU) loops over whole flows, one after the other:

    new cookie jar, PKCE S256 verifier/challenge, state, nonce
    GET authorization_endpoint?...            (redirects followed by hand)
    GET/POST the login form (login/password)  (forms parsed generically)
    GET/POST the consent form (approve)
    303 to redirect_uri?code=…&state=…&iss=…  (state and iss checked, not followed)
    POST token_endpoint (client_secret_basic + code_verifier)
    GET userinfo_endpoint (Authorization: Bearer)

``--flow par-dpop`` runs the same flow as a FAPI 2.0 client would: the
authorization request is pushed first (RFC 9126: ``POST
pushed_authorization_request_endpoint``, client_secret_basic, answer 201 with a
``request_uri``), the browser goes to the authorization endpoint with only
``client_id`` and ``request_uri``, and the token and userinfo requests carry
DPoP proofs (RFC 9449: one ES256 key per virtual user, a fresh proof per
request, ``ath`` at userinfo; ``token_type`` must be DPoP, userinfo is called
with ``Authorization: DPoP``). A ``use_dpop_nonce`` refusal is retried once
with the server's nonce, and counted (``dpop_nonce_retries``).

A flow counts only if every step succeeded; anything else is an error, counted
by kind. The run is bounded: ``--warmup`` seconds that are not measured, then
``--duration`` seconds that are, then every VU stops after its current request
(each request is bounded by ``--timeout``).

``--mode token`` measures ``POST token_endpoint`` alone instead. Phase 1 (not
measured) runs the front channel above, up to the code, until ``--codes`` codes
are minted or ``--mint-limit`` seconds have passed, keeping each code with its
PKCE verifier. Phase 2 redeems every code, oldest first, at the same
concurrency, as fast as possible (client_secret_basic + code_verifier), and
reports requests/s, p50/p99 and errors: a redemption counts only if it gets a
200 with an ``access_token``. Phase 2 stops after ``--redeem-limit`` seconds
(codes live 60 s); codes not sent by then are reported as ``unredeemed``.

Profiles only differ in defaults (credentials) and in what is documented: both
discover endpoints from ``{issuer}/.well-known/openid-configuration`` and parse
whatever HTML forms they are served.

    peer   node oidc-provider with its dev interactions (any login/password)
    ours   the broker (demo identity provider: login ``test``, password ``123``)
    ping   not a flow: GET --url in a loop, to measure the driver's own ceiling

The HTTP client is a minimal HTTP/1.1 keep-alive client on asyncio (uvloop when
installed): one persistent connection per VU, reused across that VU's flows.
``--client aiohttp`` uses aiohttp instead (same logic, same cookie jar), to
cross-check it.

Only loopback targets are accepted unless --allow-non-loopback is given.

Examples::

    python benchmarks/flows.py --profile peer --issuer http://127.0.0.1:4000 \\
        --client-id bench --client-secret s3cret \\
        --redirect-uri http://127.0.0.1:9/cb --concurrency 16 --duration 15
    python benchmarks/flows.py --profile ping --url http://127.0.0.1:4000/ping
    python benchmarks/flows.py --mode token --profile peer --issuer http://127.0.0.1:4000 \\
        --client-id bench --client-secret s3cret \\
        --redirect-uri http://127.0.0.1:9/cb --concurrency 16 --codes 5000
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import functools
import hashlib
import html
import ipaddress
import json
import math
import os
import re
import secrets
import socket
import sys
import time
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urljoin, urlsplit

from dpop_proofs import DPoPClient, asks_for_nonce

PROFILES = {
    # login/password typed into the login form
    "peer": {"login": "test", "password": "test"},
    "ours": {"login": "test", "password": "123"},
    "ping": {},
}

FLOWS = ("code", "par-dpop")  # --flow: the plain code flow, or PAR + DPoP (FAPI 2.0's shape)

USER_AGENT = "broker-bench-flows/1"
MAX_STEPS = 16  # front-channel requests allowed before giving up on a flow


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------


class TransportError(Exception):
    """The connection failed, closed, or a response did not come in time."""


class Response:
    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes):
        self.status = status
        self.headers = headers  # names lower-cased, in order received
        self.body = body

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k == name:
                return v
        return None

    def header_all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]


def _parse_chunked(buf: bytearray) -> tuple[bytes, int] | None:
    """Return (body, bytes consumed) if the whole chunked body is in buf."""
    pos = 0
    out = bytearray()
    n = len(buf)
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            return None
        size_field = bytes(buf[pos:eol]).split(b";", 1)[0].strip()
        try:
            size = int(size_field, 16)
        except ValueError as exc:
            raise TransportError(f"bad chunk size {size_field!r}") from exc
        pos = eol + 2
        if size == 0:
            # trailers, then an empty line
            while True:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    return None
                if eol == pos:
                    return bytes(out), eol + 2
                pos = eol + 2
        if n < pos + size + 2:
            return None
        out += buf[pos : pos + size]
        pos += size + 2


class _ClientProtocol(asyncio.Protocol):
    """One HTTP/1.1 connection, one request in flight at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future | None = None
        self.head: tuple | None = None
        self.no_body = False
        self.closed = False
        self.keep_alive = True
        self.received_any = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        self.received_any = True
        w = self.waiter
        if w is not None and not w.done():
            try:
                self._try_complete()
            except Exception as exc:  # malformed response
                self.waiter = None
                w.set_exception(exc)
                self.abort()

    def eof_received(self) -> bool:
        return False  # close the transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        w = self.waiter
        if w is not None and not w.done():
            head = self.head
            if head is not None and head[2] is None and not head[3]:
                # body delimited by the end of the connection
                self.waiter = None
                self.head = None
                w.set_result(Response(head[0], head[1], bytes(self.buf)))
                return
            self.waiter = None
            w.set_exception(TransportError(f"connection closed: {exc or 'by peer'}"))

    def abort(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _try_complete(self) -> None:
        buf = self.buf
        if self.head is None:
            i = buf.find(b"\r\n\r\n")
            if i < 0:
                if len(buf) > 65536:
                    raise TransportError("response head too large")
                return
            lines = bytes(buf[:i]).decode("latin-1").split("\r\n")
            del buf[: i + 4]
            status_line = lines[0]
            try:
                status = int(status_line[9:12])
            except ValueError as exc:
                raise TransportError(f"bad status line {status_line!r}") from exc
            headers = []
            length = None
            chunked = False
            keep = not status_line.startswith("HTTP/1.0")
            for line in lines[1:]:
                k, _, v = line.partition(":")
                k = k.strip().lower()
                v = v.strip()
                headers.append((k, v))
                if k == "content-length":
                    length = int(v)
                elif k == "transfer-encoding":
                    chunked = "chunked" in v.lower()
                elif k == "connection":
                    lv = v.lower()
                    if "close" in lv:
                        keep = False
                    elif "keep-alive" in lv:
                        keep = True
            if 100 <= status < 200:
                return self._try_complete()  # skip interim responses
            self.head = (status, headers, length, chunked)
            self.keep_alive = keep
        status, headers, length, chunked = self.head
        if self.no_body or status in (204, 304):
            body = b""
        elif chunked:
            res = _parse_chunked(buf)
            if res is None:
                return
            body, used = res
            del buf[:used]
        elif length is not None:
            if len(buf) < length:
                return
            body = bytes(buf[:length])
            del buf[:length]
        else:
            self.keep_alive = False
            return  # read until close: completed in connection_lost
        self.head = None
        w = self.waiter
        self.waiter = None
        w.set_result(Response(status, headers, body))  # type: ignore[union-attr]


class RawClient:
    """Keep-alive HTTP/1.1 client bound to one origin (one connection)."""

    name = "raw"

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.host = host
        self.port = port
        self.host_header = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
        self.timeout = timeout
        self.proto: _ClientProtocol | None = None
        self.loop = asyncio.get_running_loop()
        self.connects = 0

    async def _connect(self) -> _ClientProtocol:
        try:
            _, proto = await asyncio.wait_for(
                self.loop.create_connection(_ClientProtocol, self.host, self.port),
                self.timeout,
            )
        except (TimeoutError, OSError) as exc:
            raise TransportError(f"connect failed: {exc!r}") from exc
        sock = proto.transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connects += 1
        return proto

    async def request(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes | None = None
    ) -> Response:
        parts = [
            f"{method} {target} HTTP/1.1\r\nHost: {self.host_header}\r\nUser-Agent: {USER_AGENT}\r\n"
        ]
        for k, v in headers:
            parts.append(f"{k}: {v}\r\n")
        if body is not None:
            parts.append(f"Content-Length: {len(body)}\r\n")
        parts.append("\r\n")
        raw = "".join(parts).encode("latin-1")
        if body:
            raw += body
        for attempt in (0, 1):
            proto = self.proto
            reused = proto is not None and not proto.closed
            if not reused:
                proto = self.proto = await self._connect()
            assert proto is not None
            proto.no_body = method == "HEAD"
            proto.received_any = False
            fut = self.loop.create_future()
            proto.waiter = fut
            proto.transport.write(raw)  # type: ignore[union-attr]
            timer = self.loop.call_later(self.timeout, _expire, fut, proto)
            try:
                resp = await fut
            except TransportError:
                # A kept-alive connection closed by the server before it read
                # anything: retry once on a new connection, as browsers do.
                if attempt == 0 and reused and not proto.received_any and proto.closed:
                    self.proto = None
                    continue
                self.proto = None
                proto.abort()
                raise
            finally:
                timer.cancel()
            if not proto.keep_alive:
                proto.abort()
                self.proto = None
            return resp
        raise TransportError("unreachable")

    async def close(self) -> None:
        if self.proto is not None:
            self.proto.abort()
            self.proto = None


def _expire(fut: asyncio.Future, proto: _ClientProtocol) -> None:
    if not fut.done():
        proto.waiter = None
        fut.set_exception(TransportError("timeout"))
        proto.abort()


class AiohttpClient:
    """Same interface as RawClient, on aiohttp (cookies handled by our jar)."""

    name = "aiohttp"

    def __init__(self, host: str, port: int, timeout: float) -> None:
        import aiohttp

        self.base = f"http://{host}:{port}"
        self.connects = 0
        self.session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=1, use_dns_cache=False),
            cookie_jar=aiohttp.DummyCookieJar(),
            timeout=aiohttp.ClientTimeout(total=timeout),
            auto_decompress=False,
            skip_auto_headers=("Accept-Encoding",),
            headers={"User-Agent": USER_AGENT},
        )
        self._errors = (aiohttp.ClientError, asyncio.TimeoutError)

    async def request(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes | None = None
    ) -> Response:
        try:
            async with self.session.request(
                method, self.base + target, headers=headers, data=body, allow_redirects=False
            ) as r:
                data = await r.read()
                hdrs = [
                    (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in r.raw_headers
                ]
                return Response(r.status, hdrs, data)
        except self._errors as exc:
            raise TransportError(repr(exc)) from exc

    async def close(self) -> None:
        await self.session.close()


# --------------------------------------------------------------------------
# Cookies (one jar per flow; a single origin, so Domain is not modelled)
# --------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _expires_ts(value: str) -> float | None:
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


class CookieJar:
    """Minimal RFC 6265 jar: name+path keyed, Path matching, Max-Age/Expires
    deletion. ``Secure`` is ignored (plain-HTTP loopback benchmark)."""

    __slots__ = ("cookies",)

    def __init__(self) -> None:
        self.cookies: dict[tuple[str, str], str] = {}

    def store(self, request_path: str, set_cookies: list[str]) -> None:
        for sc in set_cookies:
            parts = sc.split(";")
            name, sep, value = parts[0].partition("=")
            if not sep:
                continue
            name = name.strip()
            value = value.strip()
            path = None
            max_age = None
            expires = None
            for attr in parts[1:]:
                k, _, v = attr.partition("=")
                k = k.strip().lower()
                if k == "path":
                    v = v.strip()
                    if v.startswith("/"):
                        path = v
                elif k == "max-age":
                    with contextlib.suppress(ValueError):
                        max_age = int(v.strip())
                elif k == "expires":
                    expires = v.strip()
            if path is None:  # default-path
                cut = request_path.rfind("/")
                path = request_path[:cut] if cut > 0 else "/"
            expired = False
            if max_age is not None:
                expired = max_age <= 0
            elif expires is not None:
                ts = _expires_ts(expires)
                expired = ts is not None and ts <= time.time()
            if expired:
                self.cookies.pop((name, path), None)
            else:
                self.cookies[(name, path)] = value

    def header(self, request_path: str) -> str | None:
        hits = []
        for (name, path), value in self.cookies.items():
            if request_path == path or (
                request_path.startswith(path)
                and (path.endswith("/") or request_path[len(path)] == "/")
            ):
                hits.append((len(path), name, value))
        if not hits:
            return None
        hits.sort(key=lambda h: -h[0])
        return "; ".join(f"{n}={v}" for _, n, v in hits)


# --------------------------------------------------------------------------
# HTML forms (regex based: tolerant to template changes, cheap)
# --------------------------------------------------------------------------

_TAG_ATTRS = r"((?:[^>\"']|\"[^\"]*\"|'[^']*')*)"
FORM_RE = re.compile(r"<form\b" + _TAG_ATTRS + r">(.*?)</form\s*>", re.I | re.S)
FIELD_RE = re.compile(r"<(input|button|select|textarea)\b" + _TAG_ATTRS + r">", re.I)
ATTR_RE = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")
BUTTON_TEXT_RE = re.compile(r"<button\b" + _TAG_ATTRS + r">(.*?)</button\s*>", re.I | re.S)
APPROVE_RE = re.compile(
    r"approve|accept|allow|authori[sz]e|consent|continue|confirm|grant|yes|ok\b|oui|autoriser|accepter|valider",
    re.I,
)
DENY_RE = re.compile(
    r"deny|reject|refuse|cancel|abort|decline|\bno\b|non\b|annuler|refuser|logout", re.I
)
LOGIN_NAMES = {"login", "username", "user", "email", "identifiant", "user_id", "userid"}
PASSWORD_NAMES = {"password", "passwd", "pass", "mot_de_passe", "motdepasse"}


def _attrs(s: str) -> dict[str, str]:
    out = {}
    for m in ATTR_RE.finditer(s):
        v = m.group(2)
        if v is None:
            v = m.group(3)
        if v is None:
            v = m.group(4)
        out[m.group(1).lower()] = html.unescape(v) if v else ""
    return out


@dataclass
class Form:
    action: str | None
    method: str
    fields: list[tuple[str, str]]  # hidden / pre-filled / login / password
    submits: list[tuple[str, str]]  # named submit controls (name, value)
    submit_labels: list[str]  # value/text of every submit control
    has_password: bool
    login_field: str | None
    password_field: str | None


def parse_forms(page: str) -> list[Form]:
    forms = []
    for fm in FORM_RE.finditer(page):
        fa = _attrs(fm.group(1))
        inner = fm.group(2)
        fields: list[tuple[str, str]] = []
        submits: list[tuple[str, str]] = []
        labels: list[str] = []
        login_field = password_field = None
        button_texts = [
            re.sub(r"<[^>]*>", "", b.group(2)).strip() for b in BUTTON_TEXT_RE.finditer(inner)
        ]
        bi = 0
        for m in FIELD_RE.finditer(inner):
            tag = m.group(1).lower()
            a = _attrs(m.group(2))
            name = a.get("name")
            if tag == "button":
                text = button_texts[bi] if bi < len(button_texts) else ""
                bi += 1
                if a.get("type", "submit").lower() != "submit":
                    continue
                labels.append(a.get("value") or text)
                if name:
                    submits.append((name, a.get("value", "")))
                continue
            if tag != "input":
                continue  # select/textarea: not used by the pages benchmarked
            typ = a.get("type", "text").lower()
            if typ in ("submit", "image"):
                labels.append(a.get("value", ""))
                if name:
                    submits.append((name, a.get("value", "")))
                continue
            if not name or "disabled" in a:
                continue
            if typ == "hidden":
                fields.append((name, a.get("value", "")))
            elif typ == "password" or (password_field is None and name.lower() in PASSWORD_NAMES):
                password_field = name
                fields.append((name, ""))
            elif typ in ("checkbox", "radio"):
                if "checked" in a:
                    fields.append((name, a.get("value", "on")))
            elif (
                typ in ("text", "email", "tel", "search", "")
                and login_field is None
                and (name.lower() in LOGIN_NAMES or "autofocus" in a)
            ):
                login_field = name
                fields.append((name, a.get("value", "")))
            else:
                fields.append((name, a.get("value", "")))
        forms.append(
            Form(
                action=fa.get("action"),
                method=fa.get("method", "get").lower(),
                fields=fields,
                submits=submits,
                submit_labels=labels,
                has_password=password_field is not None,
                login_field=login_field,
                password_field=password_field,
            )
        )
    return forms


def choose_form(forms: list[Form]) -> Form | None:
    best, best_score = None, None
    for f in forms:
        if f.method != "post":
            continue
        score = 0
        if f.has_password:
            score += 10
        if any(APPROVE_RE.search(lbl or "") for lbl in f.submit_labels):
            score += 5
        if f.submit_labels and all(DENY_RE.search(lbl or "") for lbl in f.submit_labels):
            score -= 20
        if f.action and DENY_RE.search(_ID_SEGMENT.sub("/:id", f.action)):
            score -= 20
        if best_score is None or score > best_score:
            best, best_score = f, score
    return best


def fill_form(form: Form, login: str, password: str) -> list[tuple[str, str]]:
    data = []
    for name, value in form.fields:
        if name == form.password_field:
            value = password
        elif name == form.login_field:
            value = login
        data.append((name, value))
    if form.submits:
        pick = None
        for name, value in form.submits:
            if APPROVE_RE.search(value) and not DENY_RE.search(value):
                pick = (name, value)
                break
        if pick is None:
            for name, value in form.submits:
                if not DENY_RE.search(value):
                    pick = (name, value)
                    break
        if pick is not None:
            data.append(pick)
    return data


# --------------------------------------------------------------------------
# The flow
# --------------------------------------------------------------------------


class FlowError(Exception):
    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(f"{kind}: {detail}" if detail else kind)
        self.kind = kind
        self.detail = detail


@dataclass
class Target:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scope: str
    prompt: str
    login: str
    password: str
    host: str
    port: int
    flow: str = "code"
    par_endpoint: str = ""  # --flow par-dpop: where authorization requests are pushed
    basic_auth: str = ""
    redirect_key: tuple[str, str, str] = ("", "", "")
    origin: str = ""

    def __post_init__(self) -> None:
        cred = f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
        self.basic_auth = "Basic " + base64.b64encode(cred.encode()).decode()
        r = urlsplit(self.redirect_uri)
        self.redirect_key = (r.scheme, r.netloc, r.path)
        self.origin = f"http://{self.host}:{self.port}"


_ID_SEGMENT = re.compile(r"/[A-Za-z0-9_\-]{16,}")


def _join(t: Target, base: str, ref: str) -> str:
    """urljoin, with fast paths for the usual absolute and /path forms."""
    if ref.startswith(("http://", "https://")):
        return ref
    if ref.startswith("/") and not ref.startswith("//") and base.startswith(t.origin + "/"):
        return t.origin + ref
    return urljoin(base, ref)


def step_label(method: str, path: str) -> str:
    """'POST /interaction/3kH…/login' -> 'POST /interaction/:id/login'."""
    return f"{method} {_ID_SEGMENT.sub('/:id', path)}"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _target_of(t: Target, url: str) -> tuple[str, str, tuple[str, int] | None]:
    """Check url is on the target origin, or on the same loopback host (an upstream identity
    provider the broker federates); return (request-target, path, other origin or None)."""
    o = t.origin
    if url.startswith(o) and url[len(o) : len(o) + 1] == "/":  # fast path
        target = url[len(o) :]
        return target, target.split("?", 1)[0].split("#", 1)[0], None
    u = urlsplit(url)
    if u.scheme != "http" or u.hostname != t.host:
        raise FlowError("cross_origin", url[:120])
    path = u.path or "/"
    other = None if (u.port or 80) == t.port else (t.host, u.port or 80)
    return (path + "?" + u.query if u.query else path), path, other


class OriginClients:
    """The connections of one virtual user: to the server, and to the identity provider its
    flow goes through (same host, another port), each kept alive like a browser would; and,
    with ``--flow par-dpop``, the DPoP key of the client instance it plays."""

    def __init__(self, kind: str, host: str, port: int, timeout: float, flow: str = "code") -> None:
        self.kind, self.timeout = kind, timeout
        self.main = make_client(kind, host, port, timeout)
        self.others: dict[tuple[str, int], Any] = {}
        self.dpop = DPoPClient() if flow == "par-dpop" else None
        self.nonce_retries = 0

    def for_origin(self, origin: tuple[str, int] | None):  # type: ignore[no-untyped-def]
        if origin is None:
            return self.main
        if origin not in self.others:
            self.others[origin] = make_client(self.kind, origin[0], origin[1], self.timeout)
        return self.others[origin]

    async def request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return await self.main.request(*args, **kwargs)

    async def close(self) -> None:
        await self.main.close()
        for other in self.others.values():
            await other.close()


async def http_call(
    client,
    jar: CookieJar | None,
    method: str,
    url: str,
    t: Target,
    headers: list[tuple[str, str]],
    body: bytes | None,
    steps: list,
) -> Response:
    target, path, other = _target_of(t, url)
    if isinstance(client, OriginClients):
        client = client.for_origin(other)
    elif other is not None:
        raise FlowError("cross_origin", url[:120])
    hdrs = list(headers)
    if jar is not None:
        ch = jar.header(path)
        if ch:
            hdrs.append(("Cookie", ch))
    t0 = time.perf_counter()
    try:
        resp = await client.request(method, target, hdrs, body)
    except TransportError as exc:
        raise FlowError("transport", f"{step_label(method, path)}: {exc}") from exc
    steps.append((step_label(method, path), time.perf_counter() - t0))
    if jar is not None:
        sc = resp.header_all("set-cookie")
        if sc:
            jar.store(path, sc)
    return resp


FORM_CT = ("Content-Type", "application/x-www-form-urlencoded")
HTML_ACCEPT = ("Accept", "text/html,application/xhtml+xml")


def token_headers(t: Target) -> list[tuple[str, str]]:
    return [("Authorization", t.basic_auth), FORM_CT, ("Accept", "application/json")]


def vu_clients(args, t: Target) -> OriginClients:
    return OriginClients(args.client, t.host, t.port, args.timeout, t.flow)


async def dpop_call(
    client: OriginClients,
    t: Target,
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: bytes | None,
    steps: list,
    access_token: str | None = None,
) -> Response:
    """A request with a fresh DPoP proof; retried once with the server's nonce if it asks."""
    proofs = client.dpop
    assert proofs is not None
    for attempt in (0, 1):
        proof = proofs.proof(method, url, access_token)
        resp = await http_call(
            client, None, method, url, t, [*headers, ("DPoP", proof)], body, steps
        )
        proofs.note_nonce(url, resp.header("dpop-nonce"))
        if attempt == 0 and asks_for_nonce(resp.status, resp.body, resp.header("www-authenticate")):
            client.nonce_retries += 1
            continue
        return resp
    raise AssertionError("unreachable")


async def push_authorization_request(client, t: Target, params: dict[str, str], steps: list) -> str:
    """RFC 9126: push the request with the client's authentication; return the URL the browser
    is sent to (client_id and request_uri only)."""
    resp = await http_call(
        client, None, "POST", t.par_endpoint, t, token_headers(t), urlencode(params).encode(), steps
    )
    if resp.status != 201:
        raise FlowError(f"par_http_{resp.status}", resp.body[:200].decode("utf-8", "replace"))
    try:
        pushed = json.loads(resp.body)
        request_uri = pushed["request_uri"]
        if not isinstance(request_uri, str) or not isinstance(pushed["expires_in"], int):
            raise TypeError("request_uri must be a string, expires_in an integer")
    except (ValueError, KeyError, TypeError) as exc:
        raise FlowError("par_bad_json", repr(exc)) from exc
    query = urlencode({"client_id": t.client_id, "request_uri": request_uri}, quote_via=quote)
    sep = "&" if "?" in t.authorization_endpoint else "?"
    return t.authorization_endpoint + sep + query


async def one_flow(client, t: Target, steps: list) -> dict:
    """Run one complete flow; raise FlowError on any failure."""
    code, verifier, nonce = await front_channel(client, t, steps)
    return await back_channel(client, t, steps, code, verifier, nonce)


async def front_channel(client, t: Target, steps: list) -> tuple[str, str, str]:
    """authorize -> login -> consent -> code: return (code, PKCE verifier, nonce)."""
    jar = CookieJar()
    verifier = b64url(secrets.token_bytes(32))
    challenge = b64url(hashlib.sha256(verifier.encode()).digest())
    state = secrets.token_urlsafe(16)
    nonce = secrets.token_urlsafe(16)
    params = {
        "response_type": "code",
        "client_id": t.client_id,
        "redirect_uri": t.redirect_uri,
        "scope": t.scope,
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    if t.prompt:
        params["prompt"] = t.prompt
    if t.par_endpoint:
        url = await push_authorization_request(client, t, params, steps)
    else:
        query = urlencode(params, quote_via=quote)
        sep = "&" if "?" in t.authorization_endpoint else "?"
        url = t.authorization_endpoint + sep + query
    method, body = "GET", None
    headers = [HTML_ACCEPT]
    code = None
    for _ in range(MAX_STEPS):
        resp = await http_call(client, jar, method, url, t, headers, body, steps)
        st = resp.status
        if st in (301, 302, 303, 307, 308):
            loc = resp.header("location")
            if not loc:
                raise FlowError("redirect_without_location", step_label(method, urlsplit(url).path))
            loc = _join(t, url, loc)
            if (
                loc.startswith(t.redirect_uri)
                and (lu := urlsplit(loc))
                and (lu.scheme, lu.netloc, lu.path) == t.redirect_key
            ):
                params = dict(parse_qsl(lu.query, keep_blank_values=True))
                if "error" in params:
                    raise FlowError(
                        "authorization_error",
                        f"{params.get('error')}: {params.get('error_description', '')}"[:200],
                    )
                if params.get("state") != state:
                    raise FlowError("state_mismatch")
                if params.get("iss") != t.issuer:
                    raise FlowError("iss_mismatch", repr(params.get("iss")))
                code = params.get("code")
                if not code:
                    raise FlowError("no_code")
                break
            url = loc
            if st in (301, 302, 303) or method == "GET":
                method, body, headers = "GET", None, [HTML_ACCEPT]
            # 307/308 after a POST: same method and body again
            continue
        if st != 200:
            raise FlowError(
                f"http_{st}", f"{step_label(method, urlsplit(url).path)}: {resp.body[:160]!r}"
            )
        ctype = resp.header("content-type") or ""
        if "html" not in ctype:
            raise FlowError("not_html", f"{step_label(method, urlsplit(url).path)}: {ctype}")
        form = choose_form(parse_forms(resp.body.decode("utf-8", "replace")))
        if form is None:
            raise FlowError("no_form", step_label(method, urlsplit(url).path))
        data = fill_form(form, t.login, t.password)
        url = _join(t, url, form.action) if form.action else url
        method = "POST"
        body = urlencode(data).encode()
        headers = [HTML_ACCEPT, FORM_CT]
    else:
        raise FlowError("too_many_steps")
    return code, verifier, nonce


def token_request_body(t: Target, code: str, verifier: str) -> bytes:
    return urlencode(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": t.redirect_uri,
            "code_verifier": verifier,
        }
    ).encode()


async def back_channel(
    client, t: Target, steps: list, code: str, verifier: str, nonce: str
) -> dict:
    """POST token_endpoint, check the ID token, GET userinfo (with DPoP proofs if the VU has a
    DPoP key: ``--flow par-dpop``)."""
    body = token_request_body(t, code, verifier)
    dpop = isinstance(client, OriginClients) and client.dpop is not None
    t0 = time.perf_counter()
    if dpop:
        resp = await dpop_call(client, t, "POST", t.token_endpoint, token_headers(t), body, steps)
    else:
        resp = await http_call(
            client, None, "POST", t.token_endpoint, t, token_headers(t), body, steps
        )
    token_latency = time.perf_counter() - t0
    if resp.status != 200:
        raise FlowError(f"token_http_{resp.status}", resp.body[:200].decode("utf-8", "replace"))
    try:
        tok = json.loads(resp.body)
        access_token = tok["access_token"]
        id_token = tok["id_token"]
    except (ValueError, KeyError, TypeError) as exc:
        raise FlowError("token_bad_json", repr(exc)) from exc
    scheme = "DPoP" if dpop else "Bearer"
    if str(tok.get("token_type", "")).lower() != scheme.lower():
        raise FlowError("token_type", repr(tok.get("token_type")))
    try:
        h, p, _ = id_token.split(".")
        id_header = json.loads(b64url_decode(h))
        claims = json.loads(b64url_decode(p))
    except (ValueError, binascii.Error) as exc:
        raise FlowError("id_token_malformed", repr(exc)) from exc
    aud = claims.get("aud")
    if claims.get("nonce") != nonce:
        raise FlowError("id_token_nonce")
    if claims.get("iss") != t.issuer:
        raise FlowError("id_token_iss", repr(claims.get("iss")))
    if aud != t.client_id and not (isinstance(aud, list) and t.client_id in aud):
        raise FlowError("id_token_aud", repr(aud))

    # Userinfo
    headers = [("Authorization", f"{scheme} {access_token}"), ("Accept", "application/json")]
    if dpop:
        resp = await dpop_call(
            client, t, "GET", t.userinfo_endpoint, headers, None, steps, access_token
        )
    else:
        resp = await http_call(client, None, "GET", t.userinfo_endpoint, t, headers, None, steps)
    if resp.status != 200:
        raise FlowError(f"userinfo_http_{resp.status}", resp.body[:200].decode("utf-8", "replace"))
    ctype = resp.header("content-type") or ""
    try:
        if "jwt" in ctype:
            info = json.loads(b64url_decode(resp.body.decode().split(".")[1]))
        else:
            info = json.loads(resp.body)
    except (ValueError, IndexError, binascii.Error) as exc:
        raise FlowError("userinfo_bad_body", repr(exc)) from exc
    if not isinstance(info, dict) or info.get("sub") != claims.get("sub"):
        raise FlowError("userinfo_sub_mismatch")
    return {"token_latency": token_latency, "alg": id_header.get("alg"), "claims": len(info)}


# --------------------------------------------------------------------------
# Load loop and statistics
# --------------------------------------------------------------------------


@dataclass
class Stats:
    window_start: float = 0.0
    window_end: float = 0.0
    flows: list[float] = field(default_factory=list)
    token: list[float] = field(default_factory=list)
    steps: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    requests: int = 0
    errors: Counter = field(default_factory=Counter)
    error_samples: dict[str, str] = field(default_factory=dict)
    warmup_flows: int = 0
    warmup_errors: int = 0
    late_flows: int = 0
    algs: Counter = field(default_factory=Counter)
    nonce_retries: int = 0  # DPoP requests refused with use_dpop_nonce, then retried

    def in_window(self, t: float) -> bool:
        return self.window_start <= t < self.window_end


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    k = max(0, math.ceil(p / 100 * len(s)) - 1)
    return s[k]


def make_client(kind: str, host: str, port: int, timeout: float):
    return (
        AiohttpClient(host, port, timeout) if kind == "aiohttp" else RawClient(host, port, timeout)
    )


class Pacer:
    """Hands out the start times of an open-loop run: one flow every 1/rate seconds."""

    def __init__(self, rate: float, start: float) -> None:
        self.interval = 1.0 / rate
        self.next_at = start

    def take(self) -> float:
        slot = self.next_at
        self.next_at += self.interval
        return slot


async def vu_flows(t: Target, stats: Stats, stop_at: float, args) -> None:
    client = vu_clients(args, t)
    try:
        while True:
            start = time.perf_counter()
            if args.pacer:
                # Open loop: the flow starts at its slot, and its latency counts from the slot
                # (a late start is the server's delay too: no coordinated omission).
                start = args.pacer.take()
                await asyncio.sleep(max(0.0, start - time.perf_counter()))
            if start >= stop_at:
                return
            steps: list = []
            retries_before = client.nonce_retries
            try:
                info = await one_flow(client, t, steps)
            except FlowError as exc:
                end = time.perf_counter()
                if stats.in_window(end):
                    stats.errors[exc.kind] += 1
                    stats.error_samples.setdefault(exc.kind, exc.detail[:300])
                elif end < stats.window_start:
                    stats.warmup_errors += 1
                await asyncio.sleep(0.01)  # do not spin on a failing server
                continue
            end = time.perf_counter()
            if stats.in_window(end):
                stats.flows.append(end - start)
                stats.token.append(info["token_latency"])
                stats.requests += len(steps)
                stats.algs[info["alg"]] += 1
                stats.nonce_retries += client.nonce_retries - retries_before
                for label, dt in steps:
                    stats.steps[label].append(dt)
            elif end < stats.window_start:
                stats.warmup_flows += 1
            else:
                stats.late_flows += 1
    finally:
        await client.close()


async def vu_ping(host: str, port: int, target: str, stats: Stats, stop_at: float, args) -> None:
    client = make_client(args.client, host, port, args.timeout)
    try:
        while True:
            start = time.perf_counter()
            if start >= stop_at:
                return
            try:
                resp = await client.request("GET", target, [("Accept", "*/*")])
                ok = resp.status == 200
            except TransportError as exc:
                ok = False
                stats.error_samples.setdefault("transport", str(exc)[:300])
            end = time.perf_counter()
            if stats.in_window(end):
                if ok:
                    stats.flows.append(end - start)
                else:
                    stats.errors["ping_failed"] += 1
            if not ok:
                await asyncio.sleep(0.01)
    finally:
        await client.close()


def _proc_tree_cpu(pid: int) -> float | None:
    """CPU seconds (user+system) of pid and all its descendants, those that have exited too
    (a process's reaped children are in its cutime and cstime: PostgreSQL's backends end when
    their connection closes, and their CPU would otherwise leave the count)."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[int]] = defaultdict(list)
    cpu: dict[int, float] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    for e in entries:
        if not e.isdigit():
            continue
        try:
            with open(f"/proc/{e}/stat", "rb") as fh:
                raw = fh.read().decode("latin-1")
        except OSError:
            continue
        rest = raw[raw.rfind(")") + 2 :].split()
        p = int(e)
        children[int(rest[1])].append(p)
        cpu[p] = (int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])) / tick
    if pid not in cpu:
        return None
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += cpu.get(p, 0.0)
        todo.extend(children.get(p, ()))
    return total


def stores_cpu(pids: list[int] | None) -> float | None:
    """CPU seconds of the stores' process trees (Redis, PostgreSQL), if any were named."""
    if not pids:
        return None
    found = [_proc_tree_cpu(pid) for pid in pids]
    return None if any(v is None for v in found) else sum(v for v in found if v is not None)


def cpu_per_unit(
    srv0: float | None,
    srv1: float | None,
    store0: float | None,
    store1: float | None,
    window: float,
    done: int,
) -> dict:
    """The stores' share of a core, and the CPU milliseconds one completed flow (or request)
    cost the server and its stores together: the steadier figure on a shared machine."""
    store = (store1 - store0) if store0 is not None and store1 is not None else 0.0
    out: dict = {"store_cpu": round(store / window, 3) if store0 is not None else None}
    if srv0 is not None and srv1 is not None and done:
        out["cpu_ms_per_unit"] = round((srv1 - srv0 + store) * 1000 / done, 3)
    else:
        out["cpu_ms_per_unit"] = None
    return out


def check_loopback(url: str, allow: bool) -> tuple[str, int]:
    u = urlsplit(url)
    if u.scheme != "http":
        raise SystemExit(f"only http:// targets are supported: {url}")
    host = u.hostname or ""
    port = u.port or 80
    if not allow:
        try:
            ok = ipaddress.ip_address(host).is_loopback
        except ValueError:
            ok = host == "localhost"
        if not ok:
            raise SystemExit(f"refusing non-loopback target {host} (use --allow-non-loopback)")
    return host, port


async def discover(issuer: str, timeout: float) -> dict:
    host, port = check_loopback(issuer, True)
    client = RawClient(host, port, timeout)
    try:
        url = issuer.rstrip("/") + "/.well-known/openid-configuration"
        target = urlsplit(url).path
        resp = await client.request("GET", target, [("Accept", "application/json")])
        if resp.status != 200:
            raise SystemExit(f"discovery {url} -> HTTP {resp.status}")
        return json.loads(resp.body)
    finally:
        await client.close()


# --------------------------------------------------------------------------
# Token mode: POST /token alone
# --------------------------------------------------------------------------


async def run_token(args, t: Target) -> dict:
    """Phase 1 mints up to ``--codes`` codes through the front channel (not
    measured, at most ``--mint-limit`` s); phase 2 redeems all of them, oldest
    first, as fast as the VUs can, and measures only that.

    Phase 2 is bounded by ``--redeem-limit`` s (codes live 60 s on both sides);
    codes not sent by then are reported as ``unredeemed``."""
    loop = asyncio.get_running_loop()
    n_target = args.codes
    clients = [vu_clients(args, t) for _ in range(args.concurrency)]
    minted: list[tuple[str, str, float]] = []  # (code, verifier, perf_counter when minted)
    mint_errors: Counter = Counter()
    mint_samples: dict[str, str] = {}
    reserved = 0  # flows started or done that may still yield a code

    # ---- phase 1: mint (not measured)
    m0 = time.perf_counter()
    mint_deadline = m0 + args.mint_limit

    async def minter(client) -> None:
        nonlocal reserved
        while reserved < n_target and time.perf_counter() < mint_deadline:
            reserved += 1
            try:
                code, verifier, _ = await front_channel(client, t, [])
            except FlowError as exc:
                reserved -= 1
                mint_errors[exc.kind] += 1
                mint_samples.setdefault(exc.kind, exc.detail[:300])
                await asyncio.sleep(0.01)  # do not spin on a failing server
                continue
            minted.append((code, verifier, time.perf_counter()))

    tasks = [loop.create_task(minter(c)) for c in clients]
    # in-flight flows may end after the deadline, each request bounded by --timeout
    done, pending = await asyncio.wait(tasks, timeout=args.mint_limit + 2 * args.timeout + 2)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.wait(pending, timeout=2)
    for i, task in enumerate(tasks):
        failed = task in done and task.exception() is not None
        if failed:
            mint_errors["driver_exception"] += 1
            mint_samples.setdefault("driver_exception", repr(task.exception())[:300])
        if failed or task in pending:
            # a request cut short leaves its connection in an unknown state: use a new one
            await clients[i].close()
            clients[i] = vu_clients(args, t)
    m1 = time.perf_counter()

    # ---- phase 2: redeem (measured)
    queue = deque(minted)  # oldest first
    lat: list[float] = []
    errors: Counter = Counter()
    samples: dict[str, str] = {}
    algs: Counter = Counter()
    max_age = 0.0
    target, _, _ = _target_of(t, t.token_endpoint)
    headers = token_headers(t)

    def error(kind: str, detail: str) -> None:
        errors[kind] += 1
        samples.setdefault(kind, detail[:300])

    async def redeem(client, body: bytes) -> Response:
        if client.dpop is None:
            return await client.request("POST", target, headers, body)
        # --flow par-dpop: a fresh proof per request, one retry if the server wants a nonce
        for attempt in (0, 1):
            proof = client.dpop.proof("POST", t.token_endpoint)
            resp = await client.request("POST", target, [*headers, ("DPoP", proof)], body)
            client.dpop.note_nonce(t.token_endpoint, resp.header("dpop-nonce"))
            if attempt or not asks_for_nonce(resp.status, resp.body, None):
                break
            client.nonce_retries += 1
        return resp

    async def redeemer(client) -> None:
        nonlocal max_age
        while queue and time.perf_counter() < redeem_deadline:
            code, verifier, born = queue.popleft()
            body = token_request_body(t, code, verifier)
            start = time.perf_counter()
            try:
                resp = await redeem(client, body)
            except TransportError as exc:
                error("transport", str(exc))
                continue
            end = time.perf_counter()
            max_age = max(max_age, end - born)
            if resp.status != 200:
                error(f"token_http_{resp.status}", resp.body[:200].decode("utf-8", "replace"))
                continue
            try:
                tok = json.loads(resp.body)
                access_token = tok.get("access_token") if isinstance(tok, dict) else None
            except ValueError as exc:
                error("token_bad_json", repr(exc))
                continue
            if not isinstance(access_token, str) or not access_token:
                error("token_no_access_token", resp.body[:200].decode("utf-8", "replace"))
                continue
            lat.append(end - start)
            id_token = tok.get("id_token")
            if isinstance(id_token, str):
                try:
                    algs[json.loads(b64url_decode(id_token.split(".", 1)[0])).get("alg")] += 1
                except (ValueError, binascii.Error, AttributeError):
                    algs["malformed"] += 1
            else:
                algs["none"] += 1

    retries_before = sum(c.nonce_retries for c in clients)
    r0 = time.perf_counter()
    redeem_deadline = r0 + args.redeem_limit
    drv0 = time.process_time()
    srv0 = _proc_tree_cpu(args.server_pid) if args.server_pid else None
    store0 = stores_cpu(args.store_pid)
    tasks = [loop.create_task(redeemer(c)) for c in clients]
    done, pending = await asyncio.wait(tasks, timeout=args.redeem_limit + args.timeout + 2)
    r1 = time.perf_counter()
    drv1 = time.process_time()
    srv1 = _proc_tree_cpu(args.server_pid) if args.server_pid else None
    store1 = stores_cpu(args.store_pid)
    for p in pending:
        p.cancel()
    if pending:
        await asyncio.wait(pending, timeout=2)
        errors["driver_timeout"] += len(pending)
    for d in done:
        if d.exception() is not None:
            error("driver_exception", repr(d.exception()))
    nonce_retries = sum(c.nonce_retries for c in clients) - retries_before
    for c in clients:
        await c.close()

    elapsed = max(r1 - r0, 1e-9)
    mint_s = m1 - m0
    ms = lambda v: None if v is None else round(v * 1000, 2)  # noqa: E731
    n = len(lat)
    return {
        "mode": "token",
        "profile": args.profile,
        "flow": args.flow,
        "client": args.client,
        "loop": type(loop).__module__.split(".")[0],
        "concurrency": args.concurrency,
        "prompt": args.prompt,
        "codes_target": n_target,
        "codes": len(minted),
        "mint_s": round(mint_s, 3),
        "mint_per_s": round(len(minted) / mint_s, 2) if mint_s > 0 else None,
        "mint_errors": sum(mint_errors.values()),
        "mint_errors_by_kind": dict(mint_errors),
        "mint_error_samples": mint_samples,
        "duration_s": round(elapsed, 3),
        "redeemed": n,
        "requests": len(minted) - len(queue),
        "unredeemed": len(queue),
        "requests_per_s": round(n / elapsed, 1),
        "p50_ms": ms(percentile(lat, 50)),
        "p99_ms": ms(percentile(lat, 99)),
        "mean_ms": ms(sum(lat) / n) if n else None,
        "errors": sum(errors.values()),
        "errors_by_kind": dict(errors),
        "error_samples": samples,
        "max_code_age_s": round(max_age, 2),
        "dpop_nonce_retries": nonce_retries,
        "id_token_alg": dict(algs),
        "driver_cpu": round((drv1 - drv0) / elapsed, 3),
        "driver_cpu_ms_per_unit": round((drv1 - drv0) * 1000 / n, 3) if n else None,
        "server_cpu": round((srv1 - srv0) / elapsed, 3)
        if srv0 is not None and srv1 is not None
        else None,
        **cpu_per_unit(srv0, srv1, store0, store1, elapsed, n),
    }


def print_token_human(r: dict, out=sys.stdout) -> None:
    print(
        f"mode=token profile={r['profile']} flow={r.get('flow', 'code')} "
        f"client={r['client']}/{r['loop']} concurrency={r['concurrency']}",
        file=out,
    )
    print(
        f"  phase 1 (not measured): {r['codes']}/{r['codes_target']} codes minted in {r['mint_s']}s "
        f"({r['mint_per_s']} flows/s), front-channel errors: {r['mint_errors']}",
        file=out,
    )
    print(
        f"  phase 2: {r['redeemed']} codes redeemed in {r['duration_s']}s  =>  {r['requests_per_s']} req/s   "
        f"errors: {r['errors']}   unredeemed: {r['unredeemed']}",
        file=out,
    )
    print(f"  POST /token ms: p50 {r['p50_ms']}  p99 {r['p99_ms']}  mean {r['mean_ms']}", file=out)
    print(
        f"  oldest code when redeemed: {r['max_code_age_s']}s   id_token alg {r['id_token_alg']}",
        file=out,
    )
    srv = r["server_cpu"]
    print(
        f"  cpu during phase 2 (fraction of one core): driver {r['driver_cpu']}"
        + (f"  server {srv}" if srv is not None else "")
        + (f"  stores {r['store_cpu']}" if r.get("store_cpu") is not None else "")
        + (f"  => {r['cpu_ms_per_unit']} CPU-ms per flow" if r.get("cpu_ms_per_unit") else ""),
        file=out,
    )
    if r["driver_cpu"] > 0.85:
        print(
            "  WARNING: the driver is near one full core: the result may be driver-bound", file=out
        )
    if r.get("dpop_nonce_retries"):
        print(f"  DPoP requests retried with a server nonce: {r['dpop_nonce_retries']}", file=out)
    if r["unredeemed"]:
        print(
            f"  WARNING: {r['unredeemed']} codes were not redeemed within --redeem-limit", file=out
        )
    for kind, count in r["mint_errors_by_kind"].items():
        print(f"  phase 1 error {kind} x{count}: {r['mint_error_samples'].get(kind, '')}", file=out)
    for kind, count in r["errors_by_kind"].items():
        print(f"  error {kind} x{count}: {r['error_samples'].get(kind, '')}", file=out)


async def run(args) -> dict:
    loop = asyncio.get_running_loop()
    stats = Stats()
    if args.profile == "ping":
        host, port = check_loopback(args.url, args.allow_non_loopback)
        u = urlsplit(args.url)
        target = (u.path or "/") + ("?" + u.query if u.query else "")
        meta: dict[str, Any] = {"url": args.url}
    else:
        check_loopback(args.issuer, args.allow_non_loopback)
        conf = await discover(args.issuer, args.timeout)
        issuer = conf.get("issuer")
        if issuer is None:
            raise SystemExit("discovery document has no issuer")
        host, port = check_loopback(conf["authorization_endpoint"], args.allow_non_loopback)
        same_origin = ["token_endpoint", "userinfo_endpoint"]
        if args.flow == "par-dpop":
            same_origin.append("pushed_authorization_request_endpoint")
            if args.par_endpoint:
                conf["pushed_authorization_request_endpoint"] = args.par_endpoint
            if not conf.get("pushed_authorization_request_endpoint"):
                raise SystemExit(
                    "--flow par-dpop: the discovery document has no "
                    "pushed_authorization_request_endpoint (--par-endpoint names it)"
                )
            algs = conf.get("dpop_signing_alg_values_supported")
            if algs is not None and "ES256" not in algs:
                raise SystemExit(f"--flow par-dpop: the server takes no ES256 DPoP proofs: {algs}")
        for k in same_origin:
            if check_loopback(conf[k], args.allow_non_loopback) != (host, port):
                raise SystemExit(
                    f"{k} is on another origin than authorization_endpoint: not supported"
                )
        prof = PROFILES[args.profile]
        t = Target(
            issuer=issuer,
            authorization_endpoint=conf["authorization_endpoint"],
            token_endpoint=conf["token_endpoint"],
            userinfo_endpoint=conf["userinfo_endpoint"],
            client_id=args.client_id,
            client_secret=args.client_secret,
            redirect_uri=args.redirect_uri,
            scope=args.scope,
            prompt=args.prompt,
            login=args.login or prof["login"],
            password=args.password or prof["password"],
            host=host,
            port=port,
            flow=args.flow,
            par_endpoint=conf.get("pushed_authorization_request_endpoint", "")
            if args.flow == "par-dpop"
            else "",
        )
        meta = {
            "issuer": issuer,
            "authorization_endpoint": t.authorization_endpoint,
            "token_endpoint": t.token_endpoint,
            "userinfo_endpoint": t.userinfo_endpoint,
        }
        if args.check:
            steps: list = []
            client = vu_clients(args, t)
            try:
                info = await one_flow(client, t, steps)
            finally:
                await client.close()
            meta["check"] = {"steps": [s for s, _ in steps], **info}
            if args.verbose:
                print("check flow ok:", " -> ".join(s for s, _ in steps), file=sys.stderr)
        if args.mode == "token":
            return {**(await run_token(args, t)), **meta}

    t0 = time.perf_counter()
    stats.window_start = t0 + args.warmup
    stats.window_end = stats.window_start + args.duration
    stop_at = stats.window_end
    args.pacer = Pacer(args.rate, t0) if args.rate else None
    if args.profile == "ping":
        tasks = [
            loop.create_task(vu_ping(host, port, target, stats, stop_at, args))
            for _ in range(args.concurrency)
        ]
    else:
        tasks = [
            loop.create_task(vu_flows(t, stats, stop_at, args)) for _ in range(args.concurrency)
        ]

    # CPU accounting over the measured window only.
    await asyncio.sleep(max(0.0, stats.window_start - time.perf_counter()))
    drv0 = time.process_time()
    srv0 = _proc_tree_cpu(args.server_pid) if args.server_pid else None
    store0 = stores_cpu(args.store_pid)
    await asyncio.sleep(max(0.0, stats.window_end - time.perf_counter()))
    drv1 = time.process_time()
    srv1 = _proc_tree_cpu(args.server_pid) if args.server_pid else None
    store1 = stores_cpu(args.store_pid)
    done, pending = await asyncio.wait(tasks, timeout=args.timeout + 2)
    for p in pending:
        p.cancel()
    if pending:
        await asyncio.wait(pending, timeout=2)
    for d in done:
        if d.exception() is not None:
            stats.errors["driver_exception"] += 1
            stats.error_samples.setdefault("driver_exception", repr(d.exception())[:300])

    window = stats.window_end - stats.window_start
    ms = lambda v: None if v is None else round(v * 1000, 2)  # noqa: E731
    n = len(stats.flows)
    result = {
        "profile": args.profile,
        "flow": args.flow if args.profile != "ping" else None,
        "client": args.client,
        "loop": type(loop).__module__.split(".")[0],
        "concurrency": args.concurrency,
        "prompt": args.prompt if args.profile != "ping" else None,
        "duration_s": round(window, 3),
        "warmup_s": args.warmup,
        "flows": n,
        "flows_per_s": round(n / window, 2),
        "p50_ms": ms(percentile(stats.flows, 50)),
        "p99_ms": ms(percentile(stats.flows, 99)),
        "mean_ms": ms(sum(stats.flows) / n) if n else None,
        "token_p50_ms": ms(percentile(stats.token, 50)),
        "token_p99_ms": ms(percentile(stats.token, 99)),
        "errors": sum(stats.errors.values()),
        "errors_by_kind": dict(stats.errors),
        "error_samples": stats.error_samples,
        "warmup_flows": stats.warmup_flows,
        "warmup_errors": stats.warmup_errors,
        "requests_per_flow": round(stats.requests / n, 2) if n else None,
        "requests_per_s": round(stats.requests / window, 1),
        "id_token_alg": dict(stats.algs),
        "dpop_nonce_retries": stats.nonce_retries,
        "driver_cpu": round((drv1 - drv0) / window, 3),
        "driver_cpu_ms_per_unit": round((drv1 - drv0) * 1000 / n, 3) if n else None,
        "server_cpu": round((srv1 - srv0) / window, 3)
        if srv0 is not None and srv1 is not None
        else None,
        **cpu_per_unit(srv0, srv1, store0, store1, window, n),
        "steps": {
            k: {
                "n_per_flow": round(len(v) / n, 2) if n else None,
                "p50_ms": ms(percentile(v, 50)),
                "p99_ms": ms(percentile(v, 99)),
            }
            for k, v in stats.steps.items()
        },
        **meta,
    }
    if args.profile == "ping":
        result["requests_per_s"] = result["flows_per_s"]
        result["requests_per_flow"] = 1
    return result


def print_human(r: dict, out=sys.stdout) -> None:
    if r.get("mode") == "token":
        return print_token_human(r, out)
    unit = "req" if r["profile"] == "ping" else "flows"
    print(
        f"profile={r['profile']} client={r['client']}/{r['loop']} concurrency={r['concurrency']} "
        f"window={r['duration_s']}s warmup={r['warmup_s']}s",
        file=out,
    )
    print(
        f"  {unit}: {r['flows']}  =>  {r['flows_per_s']} {unit}/s   errors: {r['errors']}"
        + (f"   flow: {r['flow']}" if r.get("flow") else ""),
        file=out,
    )
    print(f"  latency ms: p50 {r['p50_ms']}  p99 {r['p99_ms']}  mean {r['mean_ms']}", file=out)
    if r["profile"] != "ping":
        print(f"  token ms:   p50 {r['token_p50_ms']}  p99 {r['token_p99_ms']}", file=out)
        print(
            f"  requests/flow {r['requests_per_flow']}  ({r['requests_per_s']} req/s)  id_token alg {r['id_token_alg']}",
            file=out,
        )
        for k, v in sorted(r["steps"].items(), key=lambda kv: -(kv[1]["p50_ms"] or 0)):
            print(f"    {k:<40} x{v['n_per_flow']}  p50 {v['p50_ms']}  p99 {v['p99_ms']}", file=out)
    srv = r["server_cpu"]
    print(
        f"  cpu (fraction of one core): driver {r['driver_cpu']}"
        + (f"  server {srv}" if srv is not None else "")
        + (f"  stores {r['store_cpu']}" if r.get("store_cpu") is not None else "")
        + (f"  => {r['cpu_ms_per_unit']} CPU-ms per flow" if r.get("cpu_ms_per_unit") else ""),
        file=out,
    )
    if r.get("driver_cpu_ms_per_unit") is not None:
        print(f"  driver: {r['driver_cpu_ms_per_unit']} CPU-ms per {unit[:-1] or unit}", file=out)
    if r.get("dpop_nonce_retries"):
        print(f"  DPoP requests retried with a server nonce: {r['dpop_nonce_retries']}", file=out)
    if r["driver_cpu"] > 0.85:
        print(
            "  WARNING: the driver is near one full core: the result may be driver-bound", file=out
        )
    for kind, count in r["errors_by_kind"].items():
        print(f"  error {kind} x{count}: {r['error_samples'].get(kind, '')}", file=out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", choices=sorted(PROFILES), required=True)
    ap.add_argument(
        "--mode",
        choices=("flows", "token"),
        default="flows",
        help="flows: whole flows (default); token: POST /token alone (mint --codes codes first, unmeasured, "
        "then redeem them all and measure; --duration/--warmup are not used)",
    )
    ap.add_argument(
        "--codes",
        type=int,
        default=5000,
        help="token mode: codes to mint, then redeem (default 5000)",
    )
    ap.add_argument(
        "--mint-limit",
        type=float,
        default=40.0,
        help="token mode: stop minting after this many seconds (default 40)",
    )
    ap.add_argument(
        "--redeem-limit",
        type=float,
        default=15.0,
        help="token mode: stop redeeming after this many seconds; codes live 60 s (default 15)",
    )
    ap.add_argument(
        "--flow",
        choices=FLOWS,
        default="code",
        help="code: the authorization request in the URL, Bearer tokens (default); par-dpop: "
        "the request pushed first (RFC 9126), DPoP proofs at the token endpoint and userinfo "
        "(RFC 9449)",
    )
    ap.add_argument(
        "--par-endpoint",
        help="--flow par-dpop: where requests are pushed, when the discovery document does not "
        "say (default: its pushed_authorization_request_endpoint)",
    )
    ap.add_argument(
        "--issuer", help="issuer URL; discovery at {issuer}/.well-known/openid-configuration"
    )
    ap.add_argument("--url", help="profile ping: URL to GET")
    ap.add_argument("--client-id")
    ap.add_argument("--client-secret")
    ap.add_argument("--redirect-uri")
    ap.add_argument("--scope", default="openid profile")
    ap.add_argument(
        "--prompt",
        default="consent",
        help="OIDC prompt parameter (default 'consent': the consent page on every flow, on both sides; "
        "'' to omit it, letting a server skip consent it remembers)",
    )
    ap.add_argument("--login", help="login typed into the login form (profile default otherwise)")
    ap.add_argument(
        "--password", help="password typed into the login form (profile default otherwise)"
    )
    ap.add_argument("--concurrency", "-c", type=int, default=16, help="virtual users (default 16)")
    ap.add_argument(
        "--rate",
        type=float,
        help="open loop: start this many flows per second (the virtual users are the most in "
        "flight at once); default: closed loop, each user starts its next flow at once",
    )
    ap.add_argument(
        "--duration", "-d", type=float, default=15.0, help="measured seconds (default 15)"
    )
    ap.add_argument(
        "--warmup", type=float, default=3.0, help="unmeasured seconds first (default 3)"
    )
    ap.add_argument(
        "--timeout", type=float, default=10.0, help="per-request timeout, s (default 10)"
    )
    ap.add_argument("--client", choices=("raw", "aiohttp"), default="raw")
    ap.add_argument("--loop", choices=("auto", "uvloop", "asyncio"), default="auto")
    ap.add_argument("--cpu", type=int, help="pin this process to that CPU (sched_setaffinity)")
    ap.add_argument("--server-pid", type=int, help="report that process tree's CPU use")
    ap.add_argument(
        "--store-pid",
        type=int,
        action="append",
        help="a store's process tree (Redis, PostgreSQL) whose CPU counts per flow (repeatable)",
    )
    ap.add_argument(
        "--no-check",
        dest="check",
        action="store_false",
        help="skip the single checked flow before load",
    )
    ap.add_argument("--json-out", help="write the result as JSON to that file")
    ap.add_argument("--json", action="store_true", help="print JSON instead of the human summary")
    ap.add_argument("--allow-non-loopback", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--verbose", "-v", action="store_true")
    args = ap.parse_args(argv)

    if args.profile == "ping":
        if not args.url:
            ap.error("--profile ping needs --url")
    else:
        missing = [
            o
            for o in ("issuer", "client_id", "client_secret", "redirect_uri")
            if not getattr(args, o)
        ]
        if missing:
            ap.error("missing " + ", ".join("--" + m.replace("_", "-") for m in missing))
    if args.concurrency < 1 or args.duration <= 0 or args.warmup < 0:
        ap.error("bad --concurrency/--duration/--warmup")
    if args.mode == "token":
        if args.profile == "ping":
            ap.error("--mode token needs a flow profile (peer or ours)")
        if args.codes < 1 or args.mint_limit <= 0 or args.redeem_limit <= 0:
            ap.error("bad --codes/--mint-limit/--redeem-limit")

    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})

    use_uvloop = False
    if args.loop in ("auto", "uvloop"):
        try:
            import uvloop

            use_uvloop = True
        except ImportError:
            if args.loop == "uvloop":
                ap.error("uvloop is not installed")
    if use_uvloop:
        import uvloop

        result = uvloop.run(run(args))
    else:
        result = asyncio.run(run(args))

    if args.json_out:
        with open(args.json_out, "w") as fh:
            json.dump(result, fh, indent=2)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_human(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
