"""The caught emails' pages: in development, the messages the portal really sent through the
development SMTP sink, listed and shown escaped; in production, no such pages."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Iterator

import pytest

from broker.demo.smtp_sink import caught, sink_directory, start_sink
from tests.broker.portal.conftest import PortalHarness


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def portal_with_sink(portal_factory, var_dir) -> Iterator[PortalHarness]:
    """A development portal whose mailer sends to the sink, which keeps the messages where the
    pages read them (var/mail)."""
    sink = start_sink("127.0.0.1", free_port(), sink_directory(var_dir))
    yield portal_factory(smtp_url=f"smtp://127.0.0.1:{sink.port}")
    sink.stop()


def send(portal: PortalHarness, subject: str, body: str, to: list[str] | None = None) -> str:
    asyncio.run(portal.context.mailer.send(to or ["agent@villebourg.example"], subject, body))
    return caught(sink_directory(portal.settings.var_dir))[0].id


def test_caught_emails_are_listed_newest_first_and_shown(portal_with_sink):
    portal = portal_with_sink
    first = send(portal, "Demande déposée", "Bonjour,\nVotre demande est déposée.\n")
    second = send(
        portal,
        "Habilitation « Cantine » : expire le 3 juin 2027",
        "Bonjour,\nRenouvelez-la :\nhttp://portal.test/habilitations/hab_1\n\nHello,\n",
        to=["resp@villebourg.example", "tech@villebourg.example"],
    )
    client = portal.client()

    page = client.get("/courriels")
    assert page.status_code == 200
    html = page.text
    assert html.index(f'href="/courriels/{second}"') < html.index(f'href="/courriels/{first}"')
    assert "Habilitation « Cantine » : expire le 3 juin 2027" in html
    assert "resp@villebourg.example, tech@villebourg.example" in html
    assert 'href="/static/mail.css"' in html

    page = client.get(f"/courriels/{second}")
    assert page.status_code == 200
    assert "Renouvelez-la" in page.text
    # The renewal link can be followed from the caught message.
    assert (
        '<a href="http://portal.test/habilitations/hab_1">'
        "http://portal.test/habilitations/hab_1</a>" in page.text
    )
    assert '<h1 class="mail-subject">Habilitation « Cantine » : expire le 3 juin 2027</h1>' in (
        page.text
    )


def test_attack_caught_email_is_shown_escaped(portal_with_sink):
    portal = portal_with_sink
    mail_id = send(
        portal,
        "<script>alert(1)</script>",
        '<img src=x onerror=alert(1)>\n"http://x.example/<b>"\njavascript:alert(1)\n',
    )
    client = portal.client()
    for path in ("/courriels", f"/courriels/{mail_id}"):
        html = client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    html = client.get(f"/courriels/{mail_id}").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'href="javascript:' not in html
    assert '<a href="http://x.example/">' in html  # the address stops before the markup


@pytest.mark.parametrize(
    "path",
    [
        "/courriels/..%2F..%2Fbroker.db",
        "/courriels/..%2Fmail%2F1796600243991701875-6d94dd16",
        "/courriels/1796600243991701875-6d94dd16",
        "/courriels/%2Fetc%2Fpasswd",
        "/courriels/1796600243991701875-6d94dd16.eml",
    ],
)
def test_attack_unknown_or_traversing_mail_id_is_a_404_page(portal_with_sink, path):
    secret = portal_with_sink.settings.var_dir / "1796600243991701875-6d94dd16.eml"
    secret.write_text("Subject: hors du dossier\n\nsecret\n")
    page = portal_with_sink.client().get(path)
    assert page.status_code == 404
    assert "secret" not in page.text and "hors du dossier" not in page.text
    assert "<h1>" in page.text  # a readable page, not a stack trace


def test_nothing_caught_yet(portal):
    page = portal.client().get("/courriels")
    assert page.status_code == 200
    assert "Aucun courriel intercepté pour le moment." in page.text


def test_nav_links_to_caught_emails_in_development(portal):
    assert 'href="/courriels"' in portal.client().get("/status").text


def test_production_has_no_mail_pages(portal_factory, var_dir):
    portal = portal_factory(
        issuer="https://broker.example", portal_url="https://portail.example", env="production"
    )
    directory = sink_directory(var_dir)
    directory.mkdir(parents=True)
    (directory / "1796600243991701875-6d94dd16.eml").write_text("Subject: démo\n\ntexte\n")
    client = portal.client()
    for path in ("/courriels", "/courriels/1796600243991701875-6d94dd16"):
        page = client.get(path)
        assert page.status_code == 404
        assert "démo" not in page.text
        assert re.search(r"Page introuvable", page.text)
    assert 'href="/courriels"' not in client.get("/status").text


def test_expiry_reminder_sent_by_the_portal_is_caught_with_its_renewal_link(portal_with_sink):
    from broker.admin.reminders import send_due
    from tests.broker.admin.test_reminders import NOW, approved

    portal = portal_with_sink
    habilitation_id = approved(portal.db, 6)
    sent = asyncio.run(send_due(portal.db, portal.context.mailer, portal.context.portal_url, NOW))
    assert sent == 1
    client = portal.client()
    [mail] = caught(sink_directory(portal.settings.var_dir))
    assert f'href="/courriels/{mail.id}"' in client.get("/courriels").text
    link = f"{portal.context.portal_url}/habilitations/{habilitation_id}"
    assert f'<a href="{link}">{link}</a>' in client.get(f"/courriels/{mail.id}").text
