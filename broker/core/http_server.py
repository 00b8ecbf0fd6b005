"""The HTTP server every process of ours runs: uvicorn, with limits on what one client may hold.

uvicorn's own options give the keep-alive idle timeout, the per-worker concurrency cap (503
beyond it) and the listen backlog. What it lacks with httptools, its fastest parser, is a limit
on the request head (llhttp has none: an 8 MB header is served) and a deadline for a client that
sends its request slowly (slowloris): ``LimitedHttpToolsProtocol`` adds those, and refuses a
declared body over the limit before reading it. Chunked bodies are left to the application
(Litestar's ``request_max_body_size``), which can still answer 413 for them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from http import HTTPStatus
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from broker.core.settings import Settings

log = logging.getLogger("broker.http")

# A header line's ": " and CRLF, which the parser callbacks do not show.
HEADER_LINE_OVERHEAD = 4
# After a refusal the rest of the request is read and dropped this long before closing: closing
# with unread data makes the kernel send a reset, and the client may lose the answer.
LINGER_SECONDS = 2.0


@dataclass(frozen=True)
class HttpLimits:
    max_head_bytes: int
    max_headers: int
    head_timeout: float
    body_timeout: float
    keep_alive_timeout: int
    max_body_bytes: int
    max_connections: int
    backlog: int

    @classmethod
    def from_settings(cls, settings: Settings) -> HttpLimits:
        return cls(
            max_head_bytes=settings.http_max_head_bytes,
            max_headers=settings.http_max_headers,
            head_timeout=settings.http_head_timeout,
            body_timeout=settings.http_body_timeout,
            keep_alive_timeout=settings.http_keep_alive_timeout,
            max_body_bytes=settings.http_max_body_bytes,
            max_connections=settings.http_max_connections,
            backlog=settings.http_backlog,
        )

    @classmethod
    def defaults(cls) -> HttpLimits:
        """The settings' defaults, whatever the environment says (test servers)."""
        return cls.from_settings(Settings.model_construct())


def server_options(limits: HttpLimits) -> dict[str, Any]:
    """uvicorn keyword arguments shared by every server we start (``uvicorn.run``/``Config``)."""
    return {
        # A partial of a module-level class, so that it pickles to uvicorn's worker processes.
        "http": partial(LimitedHttpToolsProtocol, limits=limits),
        "timeout_keep_alive": limits.keep_alive_timeout,
        "limit_concurrency": limits.max_connections,
        "backlog": limits.backlog,
        "log_config": None,
        "access_log": False,
        "server_header": False,
    }


class RequestRefused(Exception):
    """Raised in a parser callback to stop parsing a request that breaks a limit."""


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with limits on the request head and read deadlines.

    - head: at most ``max_head_bytes`` (request target and header lines) and ``max_headers``
      header fields, else 431; a declared ``Content-Length`` over ``max_body_bytes``, 413. Both
      answered with ``Connection: close`` before anything reaches the application.
    - deadlines: the head must arrive within ``head_timeout`` of the connection opening or of
      its first byte on a kept-alive connection; the body may pause at most ``body_timeout``
      between two reads. Past them the connection is closed, as nginx does. A deadline is set
      only when a read leaves a head or a body incomplete: most requests arrive in one read
      and cost no timer.
    """

    def __init__(self, *args: Any, limits: HttpLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self.head_size = 0  # header lines, counted in the parser callbacks
        self.header_count = 0
        # httptools buffers a header field until it ends, so an endless one never reaches the
        # callbacks: the reads that begin and end within one head are counted as well. (A read
        # that also ends the previous request is not: it could hold a body.)
        self.head_bytes_received = 0
        self.awaiting_head = True  # from the end of a request until the next head is complete
        self.head_begun = False  # the next head's first byte has arrived
        self.heads_completed = 0
        self.body_expected = False  # declared in the head, and not entirely received yet
        self.refusal: HTTPStatus | None = None
        self.deadline: asyncio.TimerHandle | None = None

    # Connection events

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.start_deadline(self.limits.head_timeout, self.head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self.cancel_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.refusal is not None:
            return  # lingering after a refusal: the rest of the request is dropped
        head = self.heads_completed if self.awaiting_head else None
        super().data_received(data)
        if self.refusal is not None or self.transport.is_closing():
            return
        if self.head_begun:
            if head == self.heads_completed:  # the whole read belongs to the head in progress
                self.head_bytes_received += len(data)
                if self.head_bytes_received > self.limits.max_head_bytes:
                    self.refuse(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
                    return
            if self.deadline is None:  # not re-armed: a trickling sender gains no time
                self.start_deadline(self.limits.head_timeout, self.head_timed_out)
        elif self.body_expected:
            self.start_deadline(self.limits.body_timeout, self.body_timed_out)

    def send_400_response(self, msg: str) -> None:
        # uvicorn answers every parser error here, the ones our callbacks raise included.
        if self.refusal is None:
            super().send_400_response(msg)
        else:
            self.refuse(self.refusal)

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.head_begun = True

    def on_header(self, name: bytes, value: bytes) -> None:
        self.head_size += len(name) + len(value) + HEADER_LINE_OVERHEAD
        self.header_count += 1
        if (
            self.head_size > self.limits.max_head_bytes
            or self.header_count > self.limits.max_headers
        ):
            self.refuse_in_parser(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
        lowered = name.lower()
        if lowered == b"content-length":
            length = int(value) if value.strip().isdigit() else 0  # llhttp rejects the others
            if length > self.limits.max_body_bytes:
                self.refuse_in_parser(HTTPStatus.REQUEST_ENTITY_TOO_LARGE)
            self.body_expected = length > 0
        elif lowered == b"transfer-encoding":
            self.body_expected = True
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        # The request target is checked once whole; until then the count of reads bounds it.
        if self.head_size + len(self.url) > self.limits.max_head_bytes:
            self.refuse_in_parser(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE)
        self.awaiting_head = self.head_begun = False
        self.heads_completed += 1
        self.head_size = self.header_count = self.head_bytes_received = 0
        self.cancel_deadline()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self.awaiting_head = True
        self.body_expected = False
        self.cancel_deadline()

    # Refusals and deadlines

    def refuse_in_parser(self, status: HTTPStatus) -> None:
        self.refusal = status
        raise RequestRefused(status.phrase)

    def refuse(self, status: HTTPStatus) -> None:
        """Answer ``status`` and close, without reading the rest of the request."""
        self.refusal = status
        self.cancel_deadline()
        log.info("request refused: %d %s", status.value, status.phrase, extra={"peer": self.client})
        if self.cycle is not None and not self.cycle.response_complete:
            # A pipelined request's answer is still being written: ours cannot go first.
            self.transport.close()
            return
        body = status.phrase.encode()
        lines = [STATUS_LINE[status.value]]
        for name, value in self.server_state.default_headers:
            lines += [name, b": ", value, b"\r\n"]
        lines += [
            b"content-type: text/plain; charset=utf-8\r\n",
            b"content-length: %d\r\n" % len(body),
            b"connection: close\r\n\r\n",
            body,
        ]
        self.transport.write(b"".join(lines))
        if self.transport.can_write_eof():
            self.transport.write_eof()
            self.start_deadline(LINGER_SECONDS, self.transport.close)
        else:
            self.transport.close()

    def head_timed_out(self) -> None:
        self.deadline = None
        log.debug("request head not received in time", extra={"peer": self.client})
        self.transport.close()

    def body_timed_out(self) -> None:
        self.deadline = None
        if self.flow.read_paused:  # the application is not reading: not the client's fault
            self.start_deadline(self.limits.body_timeout, self.body_timed_out)
            return
        log.debug("request body stalled", extra={"peer": self.client})
        self.transport.close()

    def start_deadline(self, seconds: float, expired: Callable[[], None]) -> None:
        self.cancel_deadline()
        self.deadline = self.loop.call_later(seconds, expired)

    def cancel_deadline(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
            self.deadline = None
