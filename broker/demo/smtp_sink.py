"""The development SMTP sink: a real SMTP server (aiosmtpd) that delivers nowhere and keeps
every message it is given as an ``.eml`` file, so that the portal can show what was "sent".

``serve_sink`` runs inside the demo's event loop (until cancelled); ``start_sink`` runs it in
a thread of its own (aiosmtpd's Controller), for tests and scripts. ``caught`` and ``read``
list and open the files; an id is checked against the names the sink gives, so that no id can
reach a file outside the directory.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger("broker.demo.smtp_sink")

MAIL_DIRECTORY = "mail"  # under the settings' var_dir
MAX_MESSAGE_BYTES = 1024 * 1024
MAX_LISTED = 200  # the newest ones; the sink is for looking at what was just sent
MAIL_ID = re.compile(r"\A[0-9]{19}-[0-9a-f]{8}\Z")  # <nanoseconds>-<random>, sorts by arrival
SUFFIX = ".eml"


def sink_directory(var_dir: Path) -> Path:
    """Where the demo's sink keeps its messages (the portal's /courriels reads them)."""
    return var_dir / MAIL_DIRECTORY


class UnknownMail(LookupError):
    """No caught message has this id (or it is not an id the sink could have given)."""


class EmlDirectory:
    """aiosmtpd handler: each accepted message becomes ``<id>.eml``, the envelope recipients
    in an ``X-Envelope-To`` header (Bcc recipients appear nowhere else)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        content = envelope.original_content or b""
        envelope_to = ", ".join(envelope.rcpt_tos).encode("utf-8", "replace")
        mail_id = f"{time.time_ns():019d}-{secrets.token_hex(4)}"
        data = b"X-Envelope-To: " + envelope_to + b"\r\n" + content
        await asyncio.to_thread(self.store, mail_id, data)
        log.info("email caught", extra={"mail_id": mail_id, "recipients": len(envelope.rcpt_tos)})
        return "250 Message accepted for delivery"

    def store(self, mail_id: str, data: bytes) -> None:
        # Written aside, then renamed: a reader never sees half a message.
        partial = self.directory / f".{mail_id}.part"
        partial.write_bytes(data)
        os.replace(partial, self.directory / f"{mail_id}{SUFFIX}")


def smtp_server(directory: Path, hostname: str = "smtp-sink.localhost") -> SMTP:
    return SMTP(
        EmlDirectory(directory),
        hostname=hostname,
        data_size_limit=MAX_MESSAGE_BYTES,
        enable_SMTPUTF8=True,
    )


async def serve_sink(host: str, port: int, directory: Path) -> None:
    """Listens on ``host:port`` in the running event loop until cancelled."""
    loop = asyncio.get_running_loop()
    EmlDirectory(directory)  # create the directory now, not at the first message
    server = await loop.create_server(lambda: smtp_server(directory), host, port)
    log.info("SMTP sink listening", extra={"address": f"{host}:{port}", "dir": str(directory)})
    async with server:
        await server.serve_forever()


class SinkController(Controller):
    """aiosmtpd's threaded controller with the sink's server settings."""

    def __init__(self, host: str, port: int, directory: Path) -> None:
        self.directory = directory
        super().__init__(EmlDirectory(directory), hostname=host, port=port)

    def factory(self) -> SMTP:
        return smtp_server(self.directory)


def start_sink(host: str, port: int, directory: Path) -> SinkController:
    """The sink in a thread of its own, already listening; ``.stop()`` it when done."""
    controller = SinkController(host, port, directory)
    controller.start()
    return controller


@dataclass(frozen=True)
class CaughtMail:
    id: str
    received_at: int  # epoch seconds (when the sink stored it)
    sent_at: int | None  # the Date header, when it has a readable one
    sender: str
    to: list[str]
    subject: str
    body: str  # the plain-text part ("" when there is none)
    headers: list[tuple[str, str]]


def parse(mail_id: str, data: bytes) -> CaughtMail:
    message: Any = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    envelope_to = [a for _, a in getaddresses([str(message.get("X-Envelope-To", ""))]) if a]
    header_to = [a for _, a in getaddresses([str(v) for v in message.get_all("To", [])]) if a]
    try:
        sent_at: int | None = int(parsedate_to_datetime(str(message["Date"])).timestamp())
    except (TypeError, ValueError):
        sent_at = None
    part = message.get_body(preferencelist=("plain",))
    try:
        body = part.get_content().replace("\r\n", "\n") if part is not None else ""
    except (LookupError, ValueError):  # an unknown charset or a broken encoding
        body = ""
    return CaughtMail(
        id=mail_id,
        received_at=int(mail_id.split("-")[0]) // 1_000_000_000,
        sent_at=sent_at,
        sender=str(message.get("From", "")),
        to=envelope_to or header_to,
        subject=str(message.get("Subject", "")),
        body=body,
        headers=[(k, str(v)) for k, v in message.items() if k != "X-Envelope-To"],
    )


def caught(directory: Path, limit: int = MAX_LISTED) -> list[CaughtMail]:
    """The messages caught, newest first."""
    if not directory.is_dir():
        return []
    ids = sorted(
        (p.stem for p in directory.iterdir() if p.suffix == SUFFIX and MAIL_ID.match(p.stem)),
        reverse=True,
    )
    return [
        parse(mail_id, (directory / f"{mail_id}{SUFFIX}").read_bytes()) for mail_id in ids[:limit]
    ]


def read(directory: Path, mail_id: str) -> CaughtMail:
    """One caught message; UnknownMail for an id the sink did not give (``../x``, ``a/b``…)."""
    if not MAIL_ID.match(mail_id):
        raise UnknownMail(mail_id)
    try:
        data = (directory / f"{mail_id}{SUFFIX}").read_bytes()
    except FileNotFoundError:
        raise UnknownMail(mail_id) from None
    return parse(mail_id, data)
