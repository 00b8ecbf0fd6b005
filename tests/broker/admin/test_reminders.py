"""Expiry reminders through a real SMTP server (the development sink on a loopback port): one
email per threshold, the tightest one only for a habilitation first seen late, retried after
a failed send and never sent twice, to the request's contacts and its filer."""

from __future__ import annotations

import asyncio
import logging
import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import select

from broker.admin.reminders import DAY, claim, find_due, send_due, threshold_reached
from broker.core.db import Database
from broker.core.mail import Mailer, parse_smtp_url
from broker.demo.smtp_sink import CaughtMail, caught, start_sink
from broker.store.data_access_models import Habilitation
from broker.store.models import Service
from broker.store.portal_models import (
    HabilitationReminder,
    HabilitationRequestRecord,
    HabilitationRequestVersion,
    PortalAgent,
)
from tests.broker.admin.habilitation_support import VILLEBOURG, organisation_habilitation

PORTAL = "https://portail.example"
SENDER = "Courtier <no-reply@courtier.example>"
NOW = int(time.time())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def db(database_url) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def sink(tmp_path) -> Iterator[tuple[Path, Mailer]]:
    directory = tmp_path / "mail"
    controller = start_sink("127.0.0.1", free_port(), directory)
    yield directory, Mailer(parse_smtp_url(f"smtp://127.0.0.1:{controller.port}"), SENDER)
    controller.stop()


def dead_mailer() -> Mailer:
    return Mailer(parse_smtp_url(f"smtp://127.0.0.1:{free_port()}"), SENDER, timeout=2)


def contacts(responsible: str, technical: str, dpo: str = "dpo@villebourg.example") -> dict:
    return {
        "responsible": {"name": "Rose Responsable", "email": responsible, "phone": ""},
        "dpo": {"name": "Denis Délégué", "email": dpo, "phone": ""},
        "technical": {"name": "Théo Technique", "email": technical, "phone": ""},
    }


def approved(
    db: Database,
    days_left: float,
    *,
    filer: str | None = None,
    responsible: str | None = None,
    technical: str | None = None,
    with_request: bool = True,
) -> str:
    """A habilitation expiring ``days_left`` days after NOW, approved from a portal request
    (contacts in its submitted version, filed by ``filer``)."""
    habilitation_id = organisation_habilitation(db)
    tag = secrets.token_hex(3)
    filer = filer or f"filer.{tag}@villebourg.example"
    responsible = responsible or f"resp.{tag}@villebourg.example"
    technical = technical or f"tech.{tag}@villebourg.example"
    request_id = f"req_{tag}"
    with db.transaction() as session:
        if with_request:
            agent_id = f"agt_{tag}"
            session.add(
                PortalAgent(
                    id=agent_id,
                    idp_issuer="https://agents.example",
                    idp_subject=tag,
                    email=filer,
                    created_at=NOW,
                    last_sign_in_at=NOW,
                )
            )
            session.flush()  # no ORM relationship orders these inserts
            session.add(
                HabilitationRequestRecord(
                    id=request_id,
                    organisation_siret=VILLEBOURG,
                    status="approved",
                    filed_by=agent_id,
                    current_version=2,
                    created_at=NOW - 400 * DAY,
                    updated_at=NOW - 300 * DAY,
                )
            )
            session.flush()
            for number, who in ((1, "old.contact@villebourg.example"), (2, responsible)):
                session.add(
                    HabilitationRequestVersion(
                        request_id=request_id,
                        number=number,
                        content={"service": "x", "contacts": contacts(who, technical)},
                        author=agent_id,
                        created_at=NOW - 400 * DAY,
                        submitted_at=NOW - 400 * DAY,
                    )
                )
        session.exec(
            update(Habilitation)
            .where(Habilitation.id == habilitation_id)  # type: ignore[arg-type]
            .values(
                expires_at=NOW + int(days_left * DAY),
                request_id=request_id if with_request else None,
            )
        )
    return habilitation_id


def run(db: Database, mailer: Mailer, now: int = NOW) -> int:
    return asyncio.run(send_due(db, mailer, PORTAL, now))


def rows(db: Database, habilitation_id: str) -> dict[int, list[str]]:
    with db.reader() as session:
        found = session.exec(
            select(HabilitationReminder).where(
                HabilitationReminder.habilitation_id == habilitation_id
            )
        ).all()
    return {row.days_before: row.recipients for row in found}


def mails_about(directory: Path, habilitation_id: str) -> list[CaughtMail]:
    return [m for m in caught(directory) if f"/habilitations/{habilitation_id}\n" in m.body]


def service_name(db: Database, habilitation_id: str) -> str:
    with db.reader() as session:
        habilitation = session.get(Habilitation, habilitation_id)
        assert habilitation is not None
        service = session.get(Service, habilitation.service_id)
        assert service is not None
        return service.name


def test_thresholds():
    assert threshold_reached(NOW + 100 * DAY, NOW) is None
    assert threshold_reached(NOW + 90 * DAY, NOW) == 90
    assert threshold_reached(NOW + 31 * DAY, NOW) == 90
    assert threshold_reached(NOW + 30 * DAY, NOW) == 30
    assert threshold_reached(NOW + 7 * DAY + 1, NOW) == 30
    assert threshold_reached(NOW + 7 * DAY, NOW) == 7
    assert threshold_reached(NOW + 1, NOW) == 7
    assert threshold_reached(NOW, NOW) is None  # expired: nothing to remind


def test_one_email_per_threshold_over_repeated_runs(db, sink):
    directory, mailer = sink
    far, h89, h29, h6 = (approved(db, days) for days in (100, 89, 29, 6))

    assert run(db, mailer) == 3
    assert run(db, mailer) == 0  # the same day again: nothing new
    assert len(mails_about(directory, far)) == 0
    assert len(mails_about(directory, h89)) == 1
    assert len(mails_about(directory, h29)) == 1
    assert len(mails_about(directory, h6)) == 1
    # First seen at 29 or 6 days: only the tightest threshold, the wider ones passed.
    assert rows(db, h89).keys() == {90}
    assert rows(db, h29)[90] == [] and rows(db, h29)[30]
    assert rows(db, h6)[90] == [] and rows(db, h6)[30] == [] and rows(db, h6)[7]

    later = NOW + 60 * DAY  # far: 40 days left (90), h89: 29 (30), the others have expired
    assert run(db, mailer, later) == 2
    assert run(db, mailer, later) == 0
    assert run(db, mailer, later + 3600) == 0
    later = NOW + 94 * DAY  # far: 6 days left (7), h89: expired
    assert run(db, mailer, later) == 1
    assert run(db, mailer, later) == 0

    assert len(mails_about(directory, far)) == 2  # 90, then 7 (30 was never reached by a run)
    assert rows(db, far).keys() == {90, 30, 7}
    assert rows(db, far)[30] == []
    assert len(mails_about(directory, h89)) == 2
    assert len(mails_about(directory, h29)) == 1
    assert len(mails_about(directory, h6)) == 1


def test_email_names_service_purpose_expiry_and_renewal_link(db, sink):
    directory, mailer = sink
    habilitation_id = approved(db, 29.5)
    assert run(db, mailer) == 1
    [mail] = mails_about(directory, habilitation_id)
    name = service_name(db, habilitation_id)
    assert name in mail.subject
    assert "expire le" in mail.subject and "expires on" in mail.subject
    body = mail.body
    assert body.index("Bonjour") < body.index("Hello")  # French first, English below
    assert f"{PORTAL}/habilitations/{habilitation_id}\n" in body
    assert "Tarification sociale de la cantine scolaire" in body
    assert "dans 30 jours" in body and "in 30 days" in body


def test_recipients_are_contacts_and_filer_each_once(db, sink):
    directory, mailer = sink
    habilitation_id = approved(
        db,
        6,
        filer="rose@villebourg.example",
        responsible="Rose@Villebourg.example",  # the filer again, other case
        technical="theo@villebourg.example",
    )
    assert run(db, mailer) == 1
    [mail] = mails_about(directory, habilitation_id)
    # The approved (last submitted) version's contacts, not the data protection officer's,
    # nor those of an earlier version.
    assert mail.to == ["Rose@Villebourg.example", "theo@villebourg.example"]
    assert rows(db, habilitation_id)[7] == mail.to


def test_failed_send_is_retried_and_then_never_sent_again(db, sink, caplog):
    directory, mailer = sink
    habilitation_id = approved(db, 20)
    with caplog.at_level(logging.WARNING, logger="broker.admin.reminders"):
        assert run(db, dead_mailer()) == 0
    assert any("retried" in r.getMessage() for r in caplog.records)
    assert 30 not in rows(db, habilitation_id)  # the claim was given back
    assert mails_about(directory, habilitation_id) == []

    assert run(db, mailer) == 1
    assert run(db, mailer) == 0
    assert run(db, dead_mailer()) == 0  # nothing due, so nothing tried
    assert len(mails_about(directory, habilitation_id)) == 1


def test_two_processes_claim_a_reminder_once(db, database_url):
    """Both see the reminder due; the primary key lets only the first claim it."""
    habilitation_id = approved(db, 6)
    other = Database(database_url)
    try:
        [mine] = [d for d in find_due(db, NOW) if d.habilitation_id == habilitation_id]
        [theirs] = [d for d in find_due(other, NOW) if d.habilitation_id == habilitation_id]
        assert claim(db, mine, NOW)
        assert not claim(other, theirs, NOW + 1)
    finally:
        other.dispose()
    assert rows(db, habilitation_id)[7] == mine.recipients


def test_revoked_expired_and_far_habilitations_get_nothing(db, sink):
    directory, mailer = sink
    revoked = approved(db, 6)
    expired = approved(db, -1)
    far = approved(db, 91)
    with db.transaction() as session:
        session.exec(
            update(Habilitation)
            .where(Habilitation.id == revoked)  # type: ignore[arg-type]
            .values(revoked_at=NOW - 10)
        )
    assert run(db, mailer) == 0
    for habilitation_id in (revoked, expired, far):
        assert rows(db, habilitation_id) == {}
        assert mails_about(directory, habilitation_id) == []


def test_habilitation_without_email_gets_no_row(db, sink, caplog):
    _, mailer = sink
    habilitation_id = approved(db, 6, with_request=False)  # made with the CLI: no request
    with caplog.at_level(logging.WARNING, logger="broker.admin.reminders"):
        assert run(db, mailer) == 0
    assert rows(db, habilitation_id) == {}
    assert any(
        getattr(r, "habilitation_id", None) == habilitation_id and "no contact" in r.getMessage()
        for r in caplog.records
    )


def test_renewed_habilitation_is_reminded_again_before_its_new_expiry(db, sink):
    directory, mailer = sink
    habilitation_id = approved(db, 6)
    assert run(db, mailer) == 1
    renewed_expiry = NOW + 548 * DAY  # renewed in place: 18 months more
    with db.transaction() as session:
        session.exec(
            update(Habilitation)
            .where(Habilitation.id == habilitation_id)  # type: ignore[arg-type]
            .values(expires_at=renewed_expiry)
        )
    assert run(db, mailer, NOW + DAY) == 0  # the old rows do not make it due now
    assert run(db, mailer, renewed_expiry - 80 * DAY) == 1
    assert run(db, mailer, renewed_expiry - 80 * DAY) == 0
    assert run(db, mailer, renewed_expiry - 5 * DAY) == 1
    assert len(mails_about(directory, habilitation_id)) == 3


def test_without_smtp_nothing_is_claimed_and_it_goes_once_configured(db, sink, caplog):
    directory, mailer = sink
    habilitation_id = approved(db, 6)
    disabled = Mailer(None, SENDER)
    with caplog.at_level(logging.INFO):
        assert run(db, disabled) == 0
        assert run(db, disabled) == 0
    assert rows(db, habilitation_id) == {}  # nothing claimed: the reminder is still due
    unsent = [r for r in caplog.records if "no SMTP server configured" in r.getMessage()]
    assert len(unsent) == 2  # once per run, not once per reminder
    assert not any("resp." in repr(r.__dict__) for r in caplog.records)  # no address logged
    assert run(db, mailer) == 1
    assert len(mails_about(directory, habilitation_id)) == 1


def test_cancelled_send_gives_the_claim_back(db, sink):
    """The job stopped mid-send (a server that never greets): the reminder is not lost."""
    directory, mailer = sink
    habilitation_id = approved(db, 6)
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # connections queue but are never answered
        port = silent.getsockname()[1]
        stalled = Mailer(parse_smtp_url(f"smtp://127.0.0.1:{port}"), SENDER, timeout=3)

        async def cut_short() -> None:
            await asyncio.wait_for(send_due(db, stalled, PORTAL, NOW), timeout=0.5)

        with pytest.raises(TimeoutError):
            asyncio.run(cut_short())
    assert 7 not in rows(db, habilitation_id)  # released
    assert run(db, mailer) == 1
    assert len(mails_about(directory, habilitation_id)) == 1
