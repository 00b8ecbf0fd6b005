"""On an https issuer, the broker's cookies travel under the ``__Host-`` prefix (RFC 6265bis
§4.1.3.2): a browser accepts such a cookie only if it is Secure, has ``Path=/`` and no
``Domain``, so a sibling host (``evil.example`` next to ``broker.example``, or an http page of
the same host) cannot plant a session or browser cookie that passes for ours.

The code reads and writes the plain names (``broker_session``…); this middleware renames them
on the wire: ``__Host-<name>`` in ``Cookie`` becomes ``<name>``, a plain ``<name>`` sent by
the browser is dropped (it can only come from somewhere else), and ``Set-Cookie: <name>=``
goes out as ``__Host-<name>=``."""

from __future__ import annotations

from collections.abc import Iterable

PREFIX = "__Host-"


class HostPrefixedCookies:
    def __init__(self, app, names: Iterable[str]) -> None:
        self.app = app
        self.names = frozenset(names)
        self.outgoing = tuple(
            (f"{name}=".encode(), f"{PREFIX}{name}=".encode()) for name in self.names
        )

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # In place: the routing below records the route template on this very scope, where
        # the request-context middleware above reads it.
        scope["headers"] = [self.incoming(item) for item in scope["headers"]]

        async def renaming(message) -> None:
            if message["type"] == "http.response.start":
                message = {
                    **message,
                    "headers": [self.renamed(name, value) for name, value in message["headers"]],
                }
            await send(message)

        await self.app(scope, receive, renaming)

    def incoming(self, header: tuple[bytes, bytes]) -> tuple[bytes, bytes]:
        name, value = header
        if name.lower() != b"cookie":
            return header
        kept = []
        for pair in value.decode("latin-1").split(";"):
            cookie_name, _, cookie_value = pair.strip().partition("=")
            if cookie_name in self.names:
                continue  # not set by us: ours all carry the prefix
            if cookie_name.startswith(PREFIX) and cookie_name[len(PREFIX) :] in self.names:
                cookie_name = cookie_name[len(PREFIX) :]
            if cookie_name:
                kept.append(f"{cookie_name}={cookie_value}")
        return name, "; ".join(kept).encode("latin-1")

    def renamed(self, name: bytes, value: bytes) -> tuple[bytes, bytes]:
        if name.lower() != b"set-cookie":
            return name, value
        for plain, prefixed in self.outgoing:
            if value.startswith(plain):
                return name, prefixed + value[len(plain) :]
        return name, value
