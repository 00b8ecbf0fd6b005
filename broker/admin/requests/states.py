"""Where a request stands and what may be done to it, as an explicit table of allowed moves:
any (status, action) pair not in :data:`TRANSITIONS` is refused."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    DRAFT = "draft"  # being written by its organisation; seen by no one else
    SUBMITTED = "submitted"  # waiting for an instructor
    CHANGES_REQUESTED = "changes_requested"  # back with its organisation, a new version to write
    APPROVED = "approved"  # the habilitation was created or changed: closed
    REFUSED = "refused"  # closed


class Action(StrEnum):
    EDIT = "edit"
    SUBMIT = "submit"
    ASK_CHANGES = "ask_changes"
    APPROVE = "approve"
    REFUSE = "refuse"
    MESSAGE = "message"


TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (Status.DRAFT, Action.EDIT): Status.DRAFT,
    (Status.DRAFT, Action.SUBMIT): Status.SUBMITTED,
    (Status.SUBMITTED, Action.ASK_CHANGES): Status.CHANGES_REQUESTED,
    (Status.SUBMITTED, Action.APPROVE): Status.APPROVED,
    (Status.SUBMITTED, Action.REFUSE): Status.REFUSED,
    (Status.SUBMITTED, Action.MESSAGE): Status.SUBMITTED,
    (Status.CHANGES_REQUESTED, Action.EDIT): Status.CHANGES_REQUESTED,
    (Status.CHANGES_REQUESTED, Action.SUBMIT): Status.SUBMITTED,
    (Status.CHANGES_REQUESTED, Action.MESSAGE): Status.CHANGES_REQUESTED,
}

# Who does what: the requesting organisation's agents write and submit, the instructors and
# administrators decide; both write messages.
BY_REQUESTER = frozenset({Action.EDIT, Action.SUBMIT, Action.MESSAGE})
BY_STAFF = frozenset({Action.ASK_CHANGES, Action.APPROVE, Action.REFUSE, Action.MESSAGE})
DECISIONS = frozenset({Action.APPROVE, Action.REFUSE})  # never on a request one filed
OPEN = frozenset({Status.DRAFT, Status.SUBMITTED, Status.CHANGES_REQUESTED})


def next_status(status: str, action: Action) -> Status | None:
    """The status ``action`` leads to from ``status``; None: not allowed."""
    try:
        return TRANSITIONS.get((Status(status), action))
    except ValueError:
        return None
