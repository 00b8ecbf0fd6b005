"""Why an action on a request is refused, and how the portal answers it."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from broker.admin.requests.words import Problem


class Refusal(StrEnum):
    NOT_FOUND = "not_found"  # unknown, or not the agent's to see (404: nothing revealed)
    FORBIDDEN = "forbidden"  # seen, but not the agent's to do (403)
    CONFLICT = "conflict"  # not in this state (409: the page was stale)
    INVALID = "invalid"  # the content or the reason given is not acceptable (400)


class RequestError(Exception):
    """A refused action. ``errors``: for INVALID content, the problem of each form field
    (keyed by the field's name)."""

    def __init__(
        self, refusal: Refusal, problem: Problem, errors: Mapping[str, Problem] | None = None
    ) -> None:
        super().__init__(
            problem.message % dict(problem.params) if problem.params else problem.message
        )
        self.refusal = refusal
        self.problem = problem
        self.errors: dict[str, Problem] = dict(errors or {})
