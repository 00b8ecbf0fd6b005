"""The development SMTP sink over real sockets: what it is sent is kept as .eml files, listed
newest first and read back; ids that could reach another file are refused."""

from __future__ import annotations

import asyncio
import smtplib
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from broker.core.mail import Mailer, parse_smtp_url
from broker.demo.smtp_sink import (
    MAX_MESSAGE_BYTES,
    UnknownMail,
    caught,
    read,
    serve_sink,
    sink_directory,
    start_sink,
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def sink(tmp_path) -> Iterator[tuple[Path, int]]:
    directory = sink_directory(tmp_path)
    controller = start_sink("127.0.0.1", free_port(), directory)
    yield directory, controller.port
    controller.stop()


def message(subject: str, body: str, to: str = "agent@villebourg.example") -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Portail <portail@operateur.example>"
    mail["To"] = to
    mail["Subject"] = subject
    mail["Date"] = "Mon, 07 Dec 2026 10:00:00 +0000"
    mail.set_content(body)
    return mail


def test_message_sent_over_smtp_is_caught_and_read_back(sink):
    directory, port = sink
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
        client.send_message(
            message("Échéance de l'habilitation", "Bonjour,\nÀ renouveler avant le 3 juin.\n"),
            to_addrs=["agent@villebourg.example", "cache@operateur.example"],  # one as Bcc
        )
    [mail] = caught(directory)
    assert mail.subject == "Échéance de l'habilitation"
    assert mail.sender == "Portail <portail@operateur.example>"
    assert mail.to == ["agent@villebourg.example", "cache@operateur.example"]
    assert mail.body == "Bonjour,\nÀ renouveler avant le 3 juin.\n"
    assert mail.sent_at == 1796637600
    assert ("Subject", "Échéance de l'habilitation") in mail.headers
    assert read(directory, mail.id) == mail
    assert [p.name for p in directory.iterdir()] == [f"{mail.id}.eml"]


def test_newest_first(sink):
    directory, port = sink
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
        for n in range(3):
            client.send_message(message(f"Message {n}", "corps"))
    assert [m.subject for m in caught(directory)] == ["Message 2", "Message 1", "Message 0"]
    assert [m.subject for m in caught(directory, limit=1)] == ["Message 2"]


def test_oversized_message_is_refused(sink):
    directory, port = sink
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as client, pytest.raises(smtplib.SMTPException):
        client.send_message(message("Gros", "x" * (MAX_MESSAGE_BYTES + 10)))
    assert caught(directory) == []


def test_serve_sink_runs_in_the_event_loop_until_cancelled(tmp_path):
    directory = tmp_path / "mail"
    port = free_port()

    async def scenario() -> None:
        server = asyncio.create_task(serve_sink("127.0.0.1", port, directory))
        for _ in range(100):  # until it listens
            await asyncio.sleep(0.02)
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                continue
            writer.close()
            break
        mailer = Mailer(parse_smtp_url(f"smtp://127.0.0.1:{port}"), "Courtier <c@example.fr>")
        await mailer.send(["a@example.org"], "Depuis la boucle", "corps")
        server.cancel()
        with pytest.raises(asyncio.CancelledError):
            await server

    asyncio.run(scenario())
    [mail] = caught(directory)
    assert mail.subject == "Depuis la boucle"
    with socket.socket() as sock:  # the port was given back
        assert sock.connect_ex(("127.0.0.1", port)) != 0


def test_nothing_caught_yet(tmp_path):
    assert caught(tmp_path / "absent") == []
    with pytest.raises(UnknownMail):
        read(tmp_path / "absent", "1796600243991701875-6d94dd16")


@pytest.mark.parametrize(
    "mail_id",
    [
        "../secret",
        "../1796600243991701875-6d94dd16",
        "1796600243991701875-6d94dd16/../../secret",
        "/etc/passwd",
        "..",
        "",
        "1796600243991701875-6d94dd16.eml",
        "1796600243991701875-6D94DD16",
        "1796600243991701875-6d94dd16\n",
        "%2e%2e%2fsecret",
    ],
)
def test_attack_path_traversal_ids_are_refused(tmp_path, mail_id):
    directory = tmp_path / "mail"
    directory.mkdir()
    (tmp_path / "secret.eml").write_text("Subject: secret\n\nnot for you\n")
    (tmp_path / "1796600243991701875-6d94dd16.eml").write_text("Subject: outside\n\nno\n")
    with pytest.raises(UnknownMail):
        read(directory, mail_id)


def test_unknown_well_formed_id_is_refused(sink):
    directory, _ = sink
    with pytest.raises(UnknownMail):
        read(directory, "1796600243991701875-6d94dd16")


def test_files_the_sink_did_not_write_are_not_listed(sink):
    directory, port = sink
    (directory / "notes.eml").write_text("Subject: pas du puits\n\n")
    (directory / ".1796600243991701875-6d94dd16.part").write_text("Subject: à moitié\n\n")
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
        client.send_message(message("Vrai", "corps"))
    assert [m.subject for m in caught(directory)] == ["Vrai"]
