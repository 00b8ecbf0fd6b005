"""The preview's steps, as URLs a browser follows without any script: the consent form posts
``decision=preview`` with the ticked items; the answer sends the browser to a waiting page
(``?attente=1``), which refreshes itself to the page that reads the providers
(``?apercu=1``); both carry the ticked optional items (``choix``), so the preview shows the
same ticks, and a reload reads again instead of posting the form again.

Both URLs carry a seal (``sceau``): an HMAC of the step and the ticks, keyed with the consent
form's step token (bound to the interaction, its step and the browser; the same on every
render of the step). A link made elsewhere has no valid seal: it can neither pre-tick a box
nor make the broker call the providers."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from broker.resources.preview import planned_providers

if TYPE_CHECKING:
    from litestar.datastructures import MultiDict

PREVIEW_PARAM = "apercu"  # =1: read the providers now and show their values
WAIT_PARAM = "attente"  # =1: the waiting page, while the next page reads them
CHOICE_PARAM = "choix"  # an optional item ticked (repeated)
SEAL_PARAM = "sceau"  # the seal of the step and its ticks


def chosen(values: Iterable[object], optional: Iterable[str]) -> list[str]:
    """The optional items among ``values`` (posted or in the URL), in a stable order: a
    required item, a scope not requested, anything else is ignored."""
    wanted = {v for v in values if isinstance(v, str)}
    return sorted(wanted & set(optional))


def seal(step_token: str, step: str, choices: Iterable[str]) -> str:
    """The seal of ``step`` (PREVIEW_PARAM or WAIT_PARAM) with these ticks. Scope names hold
    no line break, so the message reads one way only."""
    message = "\n".join([step, *sorted(choices)])
    return hmac.new(step_token.encode(), message.encode(), hashlib.sha256).hexdigest()


def sealed(given: str | None, step_token: str, step: str, choices: Iterable[str]) -> bool:
    """Whether ``given`` is the seal the broker put on this step's URL with these ticks."""
    if not given or not step_token:
        return False
    return hmac.compare_digest(given.encode(), seal(step_token, step, choices).encode())


@dataclass(frozen=True)
class PreviewStep:
    name: str  # PREVIEW_PARAM or WAIT_PARAM
    choices: list[str]  # the optional items the citizen ticked


def requested_step(
    query: MultiDict[Any], step_token: str, optional: Iterable[str]
) -> PreviewStep | None:
    """The preview step a consent page URL asks for, with its ticks; None for the plain
    screen: no step asked, or a URL whose seal is not the broker's (made elsewhere)."""
    if query.get(WAIT_PARAM) == "1":
        name = WAIT_PARAM
    elif query.get(PREVIEW_PARAM) == "1":
        name = PREVIEW_PARAM
    else:
        return None
    choices = chosen(query.getall(CHOICE_PARAM, []), optional)
    if not sealed(query.get(SEAL_PARAM), step_token, name, choices):
        return None
    return PreviewStep(name, choices)


def step_url(path: str, step: str, choices: list[str], step_token: str) -> str:
    query = [
        (step, "1"),
        *((CHOICE_PARAM, c) for c in choices),
        (SEAL_PARAM, seal(step_token, step, choices)),
    ]
    return f"{path}?{urlencode(query)}"


def reading_url(path: str, choices: list[str], step_token: str) -> str:
    return step_url(path, PREVIEW_PARAM, choices, step_token)


def waiting_url(path: str, choices: list[str], step_token: str) -> str:
    return step_url(path, WAIT_PARAM, choices, step_token)


def preview_location(path: str, scopes: list[str], choices: list[str], step_token: str) -> str:
    """Where the preview button sends the browser: the waiting page when providers are to be
    asked (they may take seconds), else straight to the preview (the identity only: no call)."""
    url = waiting_url if planned_providers(scopes) else reading_url
    return url(path, choices, step_token)
