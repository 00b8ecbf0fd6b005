"""The email telling a habilitation request's people that it changed state, through a real
SMTP server (the development sink)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from broker.admin.request_mail import RequestEvent, notify_request_event
from broker.core.mail import Mailer, parse_smtp_url
from broker.demo.smtp_sink import caught, start_sink

SENDER = "Courtier <no-reply@courtier.example>"
PORTAL = "https://portail.example/"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def sink(tmp_path) -> Iterator[tuple[Path, Mailer]]:
    directory = tmp_path / "mail"
    controller = start_sink("127.0.0.1", free_port(), directory)
    yield directory, Mailer(parse_smtp_url(f"smtp://127.0.0.1:{controller.port}"), SENDER)
    controller.stop()


def notify(mailer: Mailer, event: str, to: list[str], service: str | None = None) -> bool:
    return asyncio.run(
        notify_request_event(
            mailer, to=to, request_id="req_42", event=event, portal_url=PORTAL, service=service
        )
    )


@pytest.mark.parametrize("event", list(RequestEvent))
def test_each_event_sends_a_bilingual_notice_with_the_request_link(sink, event):
    directory, mailer = sink
    assert notify(mailer, event, ["a@villebourg.example", "A@villebourg.example"], "Cantine")
    [mail] = caught(directory)
    assert mail.to == ["a@villebourg.example"]  # once, whatever the case
    assert "Cantine" in mail.subject and " / " in mail.subject
    assert mail.body.index("Bonjour") < mail.body.index("Hello")
    assert mail.body.count("https://portail.example/demandes/req_42\n") == 2


def test_refusal_notice_words(sink):
    directory, mailer = sink
    notify(mailer, "refused", ["a@villebourg.example"])
    [mail] = caught(directory)
    assert mail.subject == "Demande d'habilitation refusée / Habilitation request refused"
    assert "a été refusée" in mail.body and "was refused" in mail.body


def test_failed_send_is_reported_not_raised():
    dead = Mailer(parse_smtp_url(f"smtp://127.0.0.1:{free_port()}"), SENDER, timeout=2)
    assert notify(dead, "approved", ["a@villebourg.example"]) is False


def test_nobody_to_tell_sends_nothing(sink):
    directory, mailer = sink
    assert notify(mailer, "approved", []) is False
    assert caught(directory) == []


def test_unknown_event_is_a_programming_error(sink):
    _, mailer = sink
    with pytest.raises(ValueError):
        notify(mailer, "deleted", ["a@villebourg.example"])


def test_attack_service_name_cannot_inject_headers(sink):
    directory, mailer = sink
    assert notify(mailer, "approved", ["a@villebourg.example"], "Cantine\r\nBcc: x@evil.example")
    [mail] = caught(directory)
    assert mail.to == ["a@villebourg.example"]
    assert "Cantine Bcc: x@evil.example" in mail.subject
