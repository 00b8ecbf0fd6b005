"""The request state machine: every allowed move, every forbidden one, each written as the
request row, a message and an audit entry in one transaction; who may do what."""

from __future__ import annotations

import pytest
from sqlmodel import select

from broker.admin import audit
from broker.admin.requests import lifecycle
from broker.admin.requests.errors import Refusal, RequestError
from broker.admin.requests.records import load_request, messages_of, versions_of
from broker.admin.requests.states import TRANSITIONS, Action, Status
from broker.core.db import Database
from broker.store.data_access_models import Habilitation
from broker.store.portal_models import AuditEntry
from tests.broker.admin.requests_support import content, make_agents


@pytest.fixture
def db(database_url):
    database = Database(database_url)
    yield database
    database.dispose()


@pytest.fixture
def agents(db):
    with db.transaction() as session:
        return make_agents(session)


def create(db, agent, **changes):
    with db.transaction() as session:
        return lifecycle.create_request(session, agent, content(**changes)).id


def act(db, agent, action: Action, request_id: str, text: str = "Une raison."):
    """Does ``action`` as ``agent``, in its own transaction."""
    with db.transaction() as session:
        if action == Action.EDIT:
            return lifecycle.edit_request(session, agent, request_id, content(purpose=text))
        if action == Action.SUBMIT:
            return lifecycle.submit(session, agent, request_id)
        if action == Action.ASK_CHANGES:
            return lifecycle.ask_changes(session, agent, request_id, text)
        if action == Action.APPROVE:
            return lifecycle.approve(session, agent, request_id)
        if action == Action.REFUSE:
            return lifecycle.refuse(session, agent, request_id, text)
        return lifecycle.post_message(session, agent, request_id, text)


def refused(refusal: Refusal):
    return pytest.raises(RequestError, check=lambda e: e.refusal == refusal)


def status_of(db, request_id: str) -> str:
    with db.reader() as session:
        request = load_request(session, request_id)
        assert request is not None
        return request.status


def in_status(db, agents, status: Status) -> str:
    """A request of Villebourg brought to ``status`` by the allowed moves."""
    request_id = create(db, agents["alice"])
    path = {
        Status.DRAFT: [],
        Status.SUBMITTED: [(Action.SUBMIT, "alice")],
        Status.CHANGES_REQUESTED: [(Action.SUBMIT, "alice"), (Action.ASK_CHANGES, "ines")],
        Status.APPROVED: [(Action.SUBMIT, "alice"), (Action.APPROVE, "ines")],
        Status.REFUSED: [(Action.SUBMIT, "alice"), (Action.REFUSE, "ines")],
    }[status]
    for action, who in path:
        act(db, agents[who], action, request_id)
    assert status_of(db, request_id) == status
    return request_id


# The agent allowed to do each action (the requester's or an instructor's side).
DOER = {
    Action.EDIT: "alice",
    Action.SUBMIT: "bruno",  # any agent of the organisation, not only who filed it
    Action.ASK_CHANGES: "ines",
    Action.APPROVE: "ines",
    Action.REFUSE: "ada",
    Action.MESSAGE: "alice",
}


@pytest.mark.parametrize(("status", "action"), sorted(TRANSITIONS))
def test_every_allowed_transition(db, agents, status, action):
    request_id = in_status(db, agents, status)
    with db.reader() as session:
        before = session.exec(select(AuditEntry)).all()
        messages_before = len(messages_of(session, request_id))
    act(db, agents[DOER[action]], action, request_id)
    assert status_of(db, request_id) == TRANSITIONS[(status, action)]
    with db.reader() as session:
        entries = session.exec(select(AuditEntry).order_by(AuditEntry.seq)).all()[len(before) :]
        messages = messages_of(session, request_id)
        assert audit.verify(session).intact
    assert f"request.{action.value}" in [e.action for e in entries]
    assert all(e.target_id == request_id for e in entries if e.target_type != "habilitation")
    assert all(e.actor == agents[DOER[action]].actor for e in entries)
    if action == Action.EDIT:
        assert len(messages) == messages_before  # writing a version is not a message
    else:
        assert len(messages) == messages_before + 1
        kind = {Action.SUBMIT: "submitted", Action.ASK_CHANGES: "changes_requested"}
        kind |= {Action.APPROVE: "approved", Action.REFUSE: "refused", Action.MESSAGE: "message"}
        assert messages[-1].kind == kind[action]
        assert messages[-1].author == agents[DOER[action]].id


FORBIDDEN_MOVES = [
    (status, action)
    for status in Status
    for action in Action
    if (status, action) not in TRANSITIONS
]


@pytest.mark.parametrize(("status", "action"), FORBIDDEN_MOVES)
def test_every_forbidden_transition_is_refused_and_writes_nothing(db, agents, status, action):
    request_id = in_status(db, agents, status)
    with db.reader() as session:
        trail = len(session.exec(select(AuditEntry)).all())
        messages = len(messages_of(session, request_id))
        versions = [(v.number, v.content, v.submitted_at) for v in versions_of(session, request_id)]
    # An instructor cannot even see a draft; otherwise the move is not one of this status.
    hidden = status == Status.DRAFT and DOER[action] in ("ines", "ada")
    with refused(Refusal.NOT_FOUND if hidden else Refusal.CONFLICT):
        act(db, agents[DOER[action]], action, request_id)
    assert status_of(db, request_id) == status
    with db.reader() as session:
        assert len(session.exec(select(AuditEntry)).all()) == trail
        assert len(messages_of(session, request_id)) == messages
        after = [(v.number, v.content, v.submitted_at) for v in versions_of(session, request_id)]
        assert after == versions


def test_versions_draft_edited_in_place_then_new_version_after_changes(db, agents):
    request_id = create(db, agents["alice"])
    act(db, agents["alice"], Action.EDIT, request_id, "Finalité deux.")
    with db.reader() as session:
        [draft] = versions_of(session, request_id)
    assert (draft.number, draft.submitted_at, draft.content["purpose"]) == (
        1,
        None,
        "Finalité deux.",
    )
    act(db, agents["alice"], Action.SUBMIT, request_id)
    act(db, agents["ines"], Action.ASK_CHANGES, request_id, "Précisez la finalité.")
    act(db, agents["bruno"], Action.EDIT, request_id, "Finalité trois.")
    act(db, agents["bruno"], Action.EDIT, request_id, "Finalité quatre.")  # same new version
    with db.reader() as session:
        first, second = versions_of(session, request_id)
        request = load_request(session, request_id)
    assert first.submitted_at is not None and first.content["purpose"] == "Finalité deux."
    assert (second.number, second.submitted_at, second.author) == (2, None, agents["bruno"].id)
    assert second.content["purpose"] == "Finalité quatre."
    assert request.current_version == 2 and request.status == Status.CHANGES_REQUESTED
    act(db, agents["alice"], Action.SUBMIT, request_id)
    with db.reader() as session:
        assert [v.submitted_at is not None for v in versions_of(session, request_id)] == [1, 1]
        kinds = [(m.kind, m.version) for m in messages_of(session, request_id)]
    assert kinds == [("submitted", 1), ("changes_requested", 1), ("submitted", 2)]


def test_resubmitted_unchanged_after_changes_requested_makes_a_copy(db, agents):
    request_id = in_status(db, agents, Status.CHANGES_REQUESTED)
    act(db, agents["alice"], Action.SUBMIT, request_id)
    with db.reader() as session:
        first, second = versions_of(session, request_id)
    assert second.content == first.content and second.submitted_at is not None


def test_attack_edit_submitted_version_refused(db, agents):
    request_id = in_status(db, agents, Status.SUBMITTED)
    with refused(Refusal.CONFLICT):
        act(db, agents["alice"], Action.EDIT, request_id, "Changée en douce.")
    with db.reader() as session:
        [version] = versions_of(session, request_id)
    assert version.content["purpose"] == content()["purpose"]


def test_role_requester_cannot_approve_nor_ask_changes(db, agents):
    request_id = in_status(db, agents, Status.SUBMITTED)
    for action in (Action.APPROVE, Action.REFUSE, Action.ASK_CHANGES):
        with refused(Refusal.FORBIDDEN):
            act(db, agents["bruno"], action, request_id)
    assert status_of(db, request_id) == Status.SUBMITTED


def test_role_instructor_cannot_approve_own_request(db, agents):
    """Iris is an instructor and an agent of Villebourg: she files, she never decides."""
    request_id = create(db, agents["iris"])
    act(db, agents["iris"], Action.SUBMIT, request_id)
    for action in (Action.APPROVE, Action.REFUSE):
        with refused(Refusal.FORBIDDEN):
            act(db, agents["iris"], action, request_id)
    act(db, agents["ines"], Action.APPROVE, request_id)  # another instructor may
    assert status_of(db, request_id) == Status.APPROVED


def test_role_administrator_cannot_approve_own_request(db, agents):
    request_id = create(db, agents["adrien"])
    act(db, agents["adrien"], Action.SUBMIT, request_id)
    for action in (Action.APPROVE, Action.REFUSE):
        with refused(Refusal.FORBIDDEN):
            act(db, agents["adrien"], action, request_id)


def test_role_instructor_who_wrote_a_version_cannot_decide(db, agents):
    request_id = in_status(db, agents, Status.CHANGES_REQUESTED)
    act(db, agents["iris"], Action.EDIT, request_id, "Écrite par Iris.")
    act(db, agents["alice"], Action.SUBMIT, request_id)
    with refused(Refusal.FORBIDDEN):
        act(db, agents["iris"], Action.APPROVE, request_id)


def test_role_other_organisation_cannot_read_or_edit(db, agents):
    for status in (Status.DRAFT, Status.SUBMITTED, Status.CHANGES_REQUESTED):
        request_id = in_status(db, agents, status)
        for action in Action:
            with refused(Refusal.NOT_FOUND):
                act(db, agents["carole"], action, request_id)
        assert status_of(db, request_id) == status


def test_role_instructor_does_not_see_drafts(db, agents):
    request_id = in_status(db, agents, Status.DRAFT)
    for who in ("ines", "ada"):
        for action in Action:
            with refused(Refusal.NOT_FOUND):
                act(db, agents[who], action, request_id)


def test_role_agent_without_organisation_cannot_file(db, agents):
    with refused(Refusal.FORBIDDEN), db.transaction() as session:
        lifecycle.create_request(session, agents["nadia"], content())


def test_attack_request_filed_for_another_organisation(db, agents):
    with refused(Refusal.INVALID) as caught, db.transaction() as session:
        lifecycle.create_request(
            session,
            agents["alice"],
            content(organisation={"siret": "20005478900017", "name": "Val Fleuri"}),
        )
    assert "organisation_siret" in caught.value.errors


def test_role_staff_cannot_edit_or_submit(db, agents):
    request_id = in_status(db, agents, Status.CHANGES_REQUESTED)
    for action in (Action.EDIT, Action.SUBMIT):
        with refused(Refusal.FORBIDDEN):
            act(db, agents["ines"], action, request_id)


def test_refusing_and_asking_for_changes_need_a_reason(db, agents):
    request_id = in_status(db, agents, Status.SUBMITTED)
    for action in (Action.ASK_CHANGES, Action.REFUSE):
        with refused(Refusal.INVALID) as caught:
            act(db, agents["ines"], action, request_id, "   ")
        assert "body" in caught.value.errors
    with refused(Refusal.INVALID):
        act(db, agents["alice"], Action.MESSAGE, request_id, "")
    assert status_of(db, request_id) == Status.SUBMITTED


def test_refusal_is_recorded_with_its_reason(db, agents):
    request_id = in_status(db, agents, Status.SUBMITTED)
    act(db, agents["ines"], Action.REFUSE, request_id, "Aucun cadre juridique.")
    with db.reader() as session:
        request = load_request(session, request_id)
        assert (
            session.exec(select(Habilitation).where(Habilitation.request_id == request_id)).all()
            == []
        )
    assert (request.decided_by, request.decision_reason) == (
        agents["ines"].id,
        "Aucun cadre juridique.",
    )


def test_unknown_request_is_not_found(db, agents):
    with refused(Refusal.NOT_FOUND):
        act(db, agents["ines"], Action.APPROVE, "req_nope")


def test_role_instructor_cannot_decide_own_organisation_request(db, agents):
    """Iris (instructor) and Adrien (administrator) act for Villebourg: a request Alice filed
    for Villebourg is not theirs to decide, though they neither filed nor wrote it."""
    request_id = in_status(db, agents, Status.SUBMITTED)
    for who in ("iris", "adrien"):
        for action in (Action.APPROVE, Action.REFUSE):
            with refused(Refusal.FORBIDDEN) as caught:
                act(db, agents[who], action, request_id)
            assert "propre organisation" in caught.value.problem.message
    assert status_of(db, request_id) == Status.SUBMITTED
    act(db, agents["iris"], Action.ASK_CHANGES, request_id)  # asking for changes decides nothing
    assert status_of(db, request_id) == Status.CHANGES_REQUESTED


@pytest.mark.parametrize("bad", ["\x00", "\x07", "\x1b[31m", "\x7f", "\x85"])
def test_attack_control_characters_in_messages_and_reasons_refused(db, agents, bad):
    request_id = in_status(db, agents, Status.SUBMITTED)
    text = f"Une raison{bad} cachée."
    for who, action in (
        ("alice", Action.MESSAGE),
        ("ines", Action.ASK_CHANGES),
        ("ines", Action.REFUSE),
    ):
        with refused(Refusal.INVALID) as caught:
            act(db, agents[who], action, request_id, text)
        assert "body" in caught.value.errors
    with refused(Refusal.INVALID) as caught, db.transaction() as session:
        lifecycle.approve(session, agents["ines"], request_id, text)
    assert "body" in caught.value.errors
    assert status_of(db, request_id) == Status.SUBMITTED
    with db.reader() as session:
        assert [m.kind for m in messages_of(session, request_id)] == ["submitted"]


def test_line_breaks_and_tabs_are_kept_in_a_message(db, agents):
    request_id = in_status(db, agents, Status.SUBMITTED)
    act(db, agents["alice"], Action.MESSAGE, request_id, "Ligne 1\r\n\tLigne 2\n")
    with db.reader() as session:
        last = messages_of(session, request_id)[-1]
    assert last.body == "Ligne 1\n\tLigne 2"
