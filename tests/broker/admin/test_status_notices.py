"""Maintenance notices (validated, audited, current only between their start and end) and the
status report the public page reads."""

from __future__ import annotations

import pytest
from sqlmodel import select

from broker.admin.status import DOWN, MAINTENANCE, UP, Probe, Target, record_probes
from broker.admin.status_notices import (
    NoticeError,
    add_notice,
    current_notices,
    end_notice,
    notice_targets,
    recent_notices,
)
from broker.admin.status_report import ALL_UP, DISRUPTED, UNKNOWN, report_json, status_report
from broker.core.db import Database
from broker.store.portal_models import AuditEntry, StatusIncident, StatusNotice

NOW = 1_900_000_000
HOUR, DAY = 3600, 86400
ACTOR = "agent:a1 admin@operateur.gouv.fr"


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


def add(session, message="Maintenance", starts_at=NOW, ends_at=NOW + HOUR, target=""):
    return add_notice(
        session,
        target=target,
        message=message,
        starts_at=starts_at,
        ends_at=ends_at,
        actor=ACTOR,
        now=NOW,
    )


def audit_actions(db) -> list[tuple[str, str]]:
    with db.reader() as session:
        return [
            (e.action, e.target_id)
            for e in session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()
            if e.target_type == "status_notice"
        ]


def test_notice_is_current_between_its_start_and_its_end(db):
    with db.transaction() as session:
        notice = add(session, starts_at=NOW + HOUR, ends_at=NOW + 2 * HOUR)
    with db.reader() as session:
        assert current_notices(session, NOW) == []
        assert [n.id for n in current_notices(session, NOW + HOUR)] == [notice.id]
        assert current_notices(session, NOW + 2 * HOUR) == []


def test_notices_are_audited_with_their_change(db):
    with db.transaction() as session:
        notice = add(session, message="  Mise à jour  ", target="provider:dgfip")
    assert notice.message == "Mise à jour" and notice.created_by == ACTOR
    with db.transaction() as session:
        ended = end_notice(session, notice.id, actor=ACTOR, now=NOW + 60)
    assert ended.ends_at == NOW + 60
    assert audit_actions(db) == [
        ("status_notice.add", str(notice.id)),
        ("status_notice.end", str(notice.id)),
    ]
    with db.reader() as session:
        entry = session.exec(
            select(AuditEntry).where(AuditEntry.action == "status_notice.end")
        ).one()
    assert (entry.before["ends_at"], entry.after["ends_at"]) == (NOW + HOUR, NOW + 60)


def test_ending_a_notice_to_come_withdraws_it(db):
    with db.transaction() as session:
        notice = add(session, starts_at=NOW + DAY, ends_at=NOW + DAY + HOUR)
    with db.transaction() as session:
        end_notice(session, notice.id, actor=ACTOR, now=NOW)
    with db.reader() as session:
        assert all(current_notices(session, t) == [] for t in (NOW, NOW + DAY, NOW + DAY + 60))


def test_notice_ended_or_unknown_cannot_be_ended(db):
    with db.transaction() as session:
        notice = add(session)
    with pytest.raises(NoticeError) as ended, db.transaction() as session:
        end_notice(session, notice.id, actor=ACTOR, now=NOW + HOUR)
    assert ended.value.status == 409
    with pytest.raises(NoticeError) as unknown, db.transaction() as session:
        end_notice(session, 424242, actor=ACTOR, now=NOW)
    assert unknown.value.status == 404


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"message": " \n "}, "message"),
        ({"message": "x" * 1001}, "message"),
        ({"message": "bell\x07"}, "message"),
        ({"target": "provider:unknown"}, "target"),
        ({"target": "idp:unknown"}, "target"),
        ({"target": "cnaf"}, "target"),
        ({"ends_at": NOW}, "ends_at"),
        ({"starts_at": NOW - 2 * HOUR, "ends_at": NOW - HOUR}, "ends_at"),
        ({"ends_at": NOW + 400 * DAY}, "ends_at"),
    ],
)
def test_invalid_notice_is_refused_and_nothing_written(db, fields, field):
    with pytest.raises(NoticeError) as refused, db.transaction() as session:
        add(session, **fields)
    assert refused.value.field == field
    with db.reader() as session:
        assert session.exec(select(StatusNotice)).all() == []
    assert audit_actions(db) == []


def test_notice_targets_are_the_providers_and_identity_providers(db):
    with db.reader() as session:
        targets = dict(notice_targets(session))
    assert targets["provider:cnaf"].startswith("Caisse nationale")
    idps = [key for key in targets if key.startswith("idp:")]
    assert idps, "the demo identity providers"
    with db.transaction() as session:
        add(session, target=idps[0])


def test_recent_notices_keep_thirty_days_of_ended_ones(db):
    with db.transaction() as session:
        old = add(session, message="ancienne", starts_at=NOW - 40 * DAY, ends_at=NOW + HOUR)
        end_notice(session, old.id, actor=ACTOR, now=NOW - 31 * DAY + 1)
        old.ends_at = NOW - 31 * DAY  # as ended more than thirty days ago
        session.add(old)
        recent = add(session, message="récente")
    with db.reader() as session:
        assert [n.message for n in recent_notices(session, NOW)] == [recent.message]


def probe(key: str, state: str, detail: str = "") -> Probe:
    return Probe(Target(key, key.upper(), None), state, detail, 5)


def test_report_words_the_board(db):
    with db.reader() as session:
        assert status_report(session, NOW).overall == UNKNOWN
    with db.transaction() as session:
        record_probes(
            session,
            [probe("idp:b", UP), probe("provider:dgfip", UP), probe("provider:cnaf", UP)],
            NOW - 2 * DAY,
        )
        record_probes(
            session,
            [probe("idp:b", UP), probe("provider:dgfip", MAINTENANCE), probe("provider:cnaf", UP)],
            NOW - HOUR,
        )
        add(session, message="Bascule", target="provider:dgfip")
        # An incident ended long ago is not shown any more.
        session.add(
            StatusIncident(
                target="provider:cnaf",
                state=DOWN,
                started_at=NOW - 40 * DAY,
                ended_at=NOW - 39 * DAY,
            )
        )
    with db.reader() as session:
        report = status_report(session, NOW)
    assert report.overall == DISRUPTED
    assert [t.target for t in report.targets] == ["provider:cnaf", "provider:dgfip", "idp:b"]
    assert report.checked_at == NOW - HOUR
    [incident] = report.incidents
    assert (incident.target, incident.state, incident.ended_at, incident.duration) == (
        "provider:dgfip",
        MAINTENANCE,
        None,
        HOUR,
    )
    [notice] = report.notices
    assert (notice.label, notice.message) == ("PROVIDER:DGFIP", "Bascule")
    as_json = report_json(report)
    assert as_json["status"] == DISRUPTED and as_json["checked_at"] == "2030-03-17T16:46:40Z"
    assert ACTOR not in str(as_json)
    with db.transaction() as session:
        record_probes(
            session,
            [probe("idp:b", UP), probe("provider:dgfip", UP), probe("provider:cnaf", UP)],
            NOW,
        )
    with db.reader() as session:
        assert status_report(session, NOW).overall == ALL_UP
