"""The mailer against real SMTP servers (aiosmtpd on loopback ports): what arrives, what is
refused before anything is sent, and how failures surface."""

from __future__ import annotations

import asyncio
import datetime
import email
import ipaddress
import logging
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from broker.core.mail import Mailer, MailError, SmtpServer, parse_smtp_url
from broker.core.settings import ConfigurationError, Settings

SENDER = "Courtier de consentement <no-reply@courtier.example>"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Recorder:
    """An aiosmtpd handler keeping each envelope it accepts."""

    envelopes: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope: Envelope) -> str:  # noqa: N802
        self.envelopes.append(envelope)
        return "250 OK"

    def messages(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(e.original_content or b"", policy=policy.default)
            for e in self.envelopes
        ]


@pytest.fixture
def smtp() -> Iterator[tuple[Recorder, int]]:
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield recorder, controller.port
    controller.stop()


def send(mailer: Mailer, to: list[str], subject: str, body: str) -> None:
    asyncio.run(mailer.send(to, subject, body))


def test_message_arrives_with_its_headers_and_utf8_body(smtp):
    recorder, port = smtp
    mailer = Mailer(parse_smtp_url(f"smtp://127.0.0.1:{port}"), SENDER)
    body = "Votre habilitation « Cantine » expire le 3 juin 2027.\nÀ bientôt — l'équipe\n"
    send(mailer, ["responsable@mairie.example", "Tech@Mairie.example"], "Échéance : 30 jours", body)

    [envelope] = recorder.envelopes
    assert envelope.mail_from == "no-reply@courtier.example"
    assert envelope.rcpt_tos == ["responsable@mairie.example", "Tech@Mairie.example"]
    [message] = recorder.messages()
    assert message["From"] == SENDER
    assert message["To"] == "responsable@mairie.example, Tech@Mairie.example"
    assert message["Subject"] == "Échéance : 30 jours"
    assert message["Message-ID"].endswith("@courtier.example>")
    assert email.utils.parsedate_to_datetime(message["Date"]).tzinfo is not None
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert message.get_content().replace("\r\n", "\n") == body


def test_each_message_has_its_own_message_id(smtp):
    recorder, port = smtp
    mailer = Mailer(parse_smtp_url(f"smtp://127.0.0.1:{port}"), SENDER)
    send(mailer, ["a@example.org"], "Un", "1")
    send(mailer, ["a@example.org"], "Deux", "2")
    first, second = recorder.messages()
    assert first["Message-ID"] != second["Message-ID"]


@pytest.mark.parametrize(
    ("to", "subject"),
    [
        (["a@example.org"], "Rappel\r\nBcc: victime@example.org"),
        (["a@example.org"], "Rappel\nX-Injected: oui"),
        (["a@example.org\r\nBcc: victime@example.org"], "Rappel"),
        (["a@example.org\nCc: victime@example.org"], "Rappel"),
        (["a@example.org, victime@example.org"], "Rappel"),
        (["Nom <a@example.org>"], "Rappel"),
        (["pas-une-adresse"], "Rappel"),
        ([], "Rappel"),
        (["a@example.org"], ""),
    ],
)
def test_attack_header_injection_is_refused_before_anything_is_sent(smtp, to, subject):
    recorder, port = smtp
    mailer = Mailer(parse_smtp_url(f"smtp://127.0.0.1:{port}"), SENDER)
    with pytest.raises(MailError):
        send(mailer, to, subject, "corps")
    assert recorder.envelopes == []


def test_attack_header_injection_is_refused_even_when_disabled():
    mailer = Mailer(None, SENDER)
    with pytest.raises(MailError):
        send(mailer, ["a@example.org"], "x\r\nBcc: victime@example.org", "corps")


def test_server_down_is_a_mail_error():
    mailer = Mailer(parse_smtp_url(f"smtp://127.0.0.1:{free_port()}"), SENDER, timeout=2)
    with pytest.raises(MailError, match="not sent"):
        send(mailer, ["a@example.org"], "Rappel", "corps")


def test_silent_server_times_out_as_a_mail_error():
    """A server that accepts the connection but never greets: the timeout ends the wait."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        mailer = Mailer(parse_smtp_url(f"smtp://127.0.0.1:{port}"), SENDER, timeout=0.3)
        with pytest.raises(MailError):
            send(mailer, ["a@example.org"], "Rappel", "corps")


def test_recipient_refused_by_the_server_is_a_mail_error():
    class Refusing(Recorder):
        async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
            return "550 no such user"

    recorder = Refusing()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        mailer = Mailer(parse_smtp_url(f"smtp://127.0.0.1:{controller.port}"), SENDER)
        with pytest.raises(MailError):
            send(mailer, ["a@example.org"], "Rappel", "corps")
    finally:
        controller.stop()
    assert recorder.envelopes == []


def test_disabled_mailer_logs_a_count_never_the_addresses(caplog):
    mailer = Mailer(None, SENDER)
    assert not mailer.enabled
    with caplog.at_level(logging.INFO, logger="broker.mail"):
        send(mailer, ["a@example.org", "b@example.org"], "Rappel d'échéance", "corps")
    [record] = [r for r in caplog.records if r.name == "broker.mail"]
    assert record.levelno == logging.INFO
    assert record.recipients == 2
    logged = repr(record.__dict__)
    assert "a@example.org" not in logged and "b@example.org" not in logged


def settings(tmp_path: Path, **values) -> Settings:
    return Settings(var_dir=tmp_path, log_format="text", **values)


def test_from_settings_reads_url_and_sender(tmp_path):
    mailer = Mailer.from_settings(
        settings(
            tmp_path,
            smtp_url="smtps://robot%40mairie:p%3Ass@mail.example:2465",
            mail_from="Portail <portail@operateur.example>",
        )
    )
    assert mailer.enabled
    assert mailer.server == SmtpServer("tls", "mail.example", 2465, "robot@mairie", "p:ss")
    assert "p:ss" not in repr(mailer.server)
    assert mailer.mail_from == "Portail <portail@operateur.example>"
    assert not Mailer.from_settings(settings(tmp_path)).enabled


@pytest.mark.parametrize(
    ("url", "port", "security"),
    [
        ("smtp://mail.example", 25, "plain"),
        ("smtps://mail.example", 465, "tls"),
        ("smtp+starttls://mail.example", 587, "starttls"),
        ("smtp+starttls://mail.example:2587", 2587, "starttls"),
    ],
)
def test_schemes_and_default_ports(url, port, security):
    server = parse_smtp_url(url)
    assert (server.security, server.port) == (security, port)


@pytest.mark.parametrize(
    "url",
    [
        "http://mail.example",
        "mail.example:25",
        "smtp://",
        "smtp://mail.example:99999",
        "smtp://mail.example:port",
        "smtp://mail.example/inbox",
        "smtp://mail.example?tls=1",
        "smtp://:secret@mail.example",
    ],
)
def test_bad_smtp_url_stops_the_start(tmp_path, url):
    with pytest.raises(ConfigurationError, match="BROKER_SMTP_URL"):
        Mailer.from_settings(settings(tmp_path, smtp_url=url))


@pytest.mark.parametrize(
    "sender", ["", "pas une adresse", "Nom <a@example.org>\r\nBcc: x@example.org"]
)
def test_bad_sender_stops_the_start(tmp_path, sender):
    with pytest.raises(ConfigurationError, match="BROKER_MAIL_FROM"):
        Mailer.from_settings(settings(tmp_path, mail_from=sender))


def test_production_without_smtp_warns_at_start(tmp_path, caplog):
    production = settings(
        tmp_path,
        env="production",
        database_url="sqlite:///" + str(tmp_path / "db.sqlite"),
        issuer="https://courtier.example",
        key_encryption_secret="k" * 40,
        data_api_url="https://api.courtier.example",
    )
    with caplog.at_level(logging.WARNING, logger="broker.mail"):
        assert not Mailer.from_settings(production).enabled
    assert any("BROKER_SMTP_URL" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="broker.mail"):
        Mailer.from_settings(settings(tmp_path))  # development: nothing to warn about
    assert not caplog.records


# -- STARTTLS and authentication ----------------------------------------------------------


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_smtp(tmp_path) -> Iterator[tuple[Recorder, int, Path]]:
    cert, key = self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (
            auth_data.login,
            auth_data.password,
        ) == (b"robot", b"s3cret")
        return AuthResult(success=ok)

    recorder = Recorder()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=free_port(),
        tls_context=server_context,
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    )
    controller.start()
    yield recorder, controller.port, cert
    controller.stop()


def test_starttls_with_login_delivers(tls_smtp):
    recorder, port, cert = tls_smtp
    client_context = ssl.create_default_context(cafile=str(cert))
    mailer = Mailer(
        parse_smtp_url(f"smtp+starttls://robot:s3cret@127.0.0.1:{port}"),
        SENDER,
        tls_context=client_context,
    )
    send(mailer, ["a@example.org"], "Chiffré", "corps")
    assert len(recorder.envelopes) == 1


def test_wrong_password_is_a_mail_error(tls_smtp):
    recorder, port, cert = tls_smtp
    mailer = Mailer(
        parse_smtp_url(f"smtp+starttls://robot:wrong@127.0.0.1:{port}"),
        SENDER,
        timeout=1,  # aiosmtpd 1.4 leaves a refused AUTH PLAIN unanswered: the timeout ends it
        tls_context=ssl.create_default_context(cafile=str(cert)),
    )
    with pytest.raises(MailError):
        send(mailer, ["a@example.org"], "Chiffré", "corps")
    assert recorder.envelopes == []


def test_attack_untrusted_certificate_is_refused(tls_smtp):
    """The default context verifies the server's certificate: a self-signed one is refused
    before the password is sent."""
    recorder, port, _ = tls_smtp
    mailer = Mailer(parse_smtp_url(f"smtp+starttls://robot:s3cret@127.0.0.1:{port}"), SENDER)
    with pytest.raises(MailError):
        send(mailer, ["a@example.org"], "Chiffré", "corps")
    assert recorder.envelopes == []
