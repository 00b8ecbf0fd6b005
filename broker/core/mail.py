"""Outgoing email: plain-text UTF-8 messages sent through an SMTP server named by
``BROKER_SMTP_URL`` (smtp://, smtps:// for implicit TLS, smtp+starttls://).

smtplib is blocking, so each message is sent in a worker thread with a socket timeout. Without
an SMTP URL the mailer is disabled: it logs that an email was not sent (how many recipients,
never their addresses: logs are kept longer and read by more people than mail) and returns,
which is what tests and a bare development checkout want; production says so once at start.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid, parseaddr
from typing import TYPE_CHECKING, Literal
from urllib.parse import unquote, urlsplit

from broker.core.settings import ConfigurationError

if TYPE_CHECKING:
    from broker.core.settings import Settings

log = logging.getLogger("broker.mail")

Security = Literal["plain", "tls", "starttls"]
SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("plain", 25),
    "smtps": ("tls", 465),
    "smtp+starttls": ("starttls", 587),
}
DEFAULT_TIMEOUT = 10.0
MAX_SUBJECT = 998  # RFC 5322 line length limit


class MailError(RuntimeError):
    """An email could not be sent (refused input, server down, rejected, timed out)."""


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to submit mail, parsed from an SMTP URL."""

    security: Security
    host: str
    port: int
    username: str = ""
    password: str = ""

    def __repr__(self) -> str:  # never print the password
        return f"SmtpServer({self.security}, {self.host}:{self.port}, user={self.username!r})"


def parse_smtp_url(url: str) -> SmtpServer:
    """smtp://[user:password@]host[:port] (smtps://, smtp+starttls://) -> SmtpServer."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise ConfigurationError(f"BROKER_SMTP_URL is not a valid URL: {error}") from None
    if parts.scheme not in SCHEMES:
        raise ConfigurationError(
            "BROKER_SMTP_URL must start with smtp://, smtps:// or smtp+starttls://"
        )
    if not parts.hostname:
        raise ConfigurationError("BROKER_SMTP_URL names no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigurationError("BROKER_SMTP_URL takes no path, query or fragment")
    if parts.password is not None and not parts.username:
        raise ConfigurationError("BROKER_SMTP_URL has a password without a user name")
    security, default_port = SCHEMES[parts.scheme]
    if security == "plain" and parts.username:
        log.warning("BROKER_SMTP_URL sends a password over a plain connection (use smtps://)")
    return SmtpServer(
        security=security,
        host=parts.hostname,
        port=port or default_port,
        username=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
    )


def check_header_value(value: str, what: str) -> str:
    """Refuse CR, LF and other control characters: they would let a value add headers."""
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise MailError(f"{what} contains a line break or a control character")
    return value


def check_address(address: str) -> str:
    """One bare address (local@domain), nothing that could smuggle a header or a second one."""
    check_header_value(address, "email address")
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(c in address for c in ' ,;<>()[]"\\'):
        raise MailError(f"not a single email address: {address!r}")
    return address


def check_sender(mail_from: str) -> str:
    """BROKER_MAIL_FROM: "Name <address>" or a bare address, checked at start."""
    try:
        check_header_value(mail_from, "BROKER_MAIL_FROM")
        _, address = parseaddr(mail_from)
        check_address(address)
    except MailError as error:
        raise ConfigurationError(f"BROKER_MAIL_FROM is not a valid sender: {error}") from None
    return mail_from


class Mailer:
    """Sends plain-text emails; ``enabled`` is False without an SMTP server (emails are logged)."""

    def __init__(
        self,
        server: SmtpServer | None,
        mail_from: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.server = server
        self.mail_from = check_sender(mail_from)
        self.timeout = timeout
        self.tls_context = tls_context

    @classmethod
    def from_settings(cls, settings: Settings) -> Mailer:
        server = parse_smtp_url(settings.smtp_url) if settings.smtp_url else None
        if server is None and settings.env == "production":
            log.warning(
                "BROKER_SMTP_URL is not set: expiry reminders and request emails are not sent"
            )
        return cls(server, settings.mail_from)

    @property
    def enabled(self) -> bool:
        return self.server is not None

    def build(self, to: list[str], subject: str, body: str) -> EmailMessage:
        """The message as it will be sent (validated: no header injection)."""
        if not to:
            raise MailError("an email needs at least one recipient")
        recipients = [check_address(address) for address in to]
        check_header_value(subject, "subject")
        if not subject.strip() or len(subject) > MAX_SUBJECT:
            raise MailError("an email subject must be between 1 and 998 characters")
        message = EmailMessage(policy=SMTP_POLICY)
        message["From"] = self.mail_from
        message["To"] = ", ".join(recipients)
        message["Subject"] = subject
        message["Date"] = formatdate(usegmt=True)
        message["Message-ID"] = make_msgid(domain=self.sender_domain)
        message.set_content(body, charset="utf-8", cte="quoted-printable")
        return message

    @property
    def sender_domain(self) -> str:
        return Address(addr_spec=parseaddr(self.mail_from)[1]).domain or "localhost"

    async def send(self, to: list[str], subject: str, body: str) -> None:
        message = self.build(to, subject, body)
        if self.server is None:
            log.info("email not sent (no SMTP server)", extra={"recipients": len(to)})
            return
        try:
            await asyncio.to_thread(self.deliver, self.server, message)
        except (smtplib.SMTPException, OSError) as error:
            # OSError covers refused connections, timeouts and TLS failures.
            raise MailError(f"email to {len(to)} recipient(s) not sent: {error}") from error
        log.info("email sent", extra={"recipients": len(to), "message_id": message["Message-ID"]})

    def deliver(self, server: SmtpServer, message: EmailMessage) -> None:
        """Blocking SMTP submission (run in a worker thread)."""
        context = self.tls_context or ssl.create_default_context()
        connection: smtplib.SMTP
        if server.security == "tls":
            connection = smtplib.SMTP_SSL(
                server.host, server.port, timeout=self.timeout, context=context
            )
        else:
            connection = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
        with connection:
            if server.security == "starttls":
                connection.starttls(context=context)
            if server.username:
                connection.login(server.username, server.password)
            refused = connection.send_message(message)
        if refused:
            raise MailError(f"the SMTP server refused {len(refused)} recipient(s)")
