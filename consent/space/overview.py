"""The space's first page, arranged: current consents first, one card per service and
purpose (a second approval of the same thing is not a second card), and ended ones grouped
by service, to be shown folded."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from consent.space.history import ConsentView
from consent.space.journal import ConsentUse
from consent.space.words import registry_order


@dataclass
class ConsentCard:
    consent: ConsentView  # the newest active grant of its service and purpose
    # Older active grants to the same client under the same habilitation: withdrawing the
    # card's consent ends them too (``consent.lifecycle.revoke_purpose``).
    earlier: list[ConsentView] = field(default_factory=list)
    last_access: int | None = None

    @property
    def grants(self) -> list[ConsentView]:
        return [self.consent, *self.earlier]

    @property
    def use(self) -> ConsentUse:
        """What counts as an access under this card's grants (``journal.last_accesses``)."""
        return ConsentUse(
            service_id=self.consent.service_id,
            client_id=self.consent.client_id,
            habilitation_id=self.consent.habilitation_id,
            since=min(grant.created_at for grant in self.grants),
        )

    @property
    def items(self) -> list[dict[str, Any]]:
        return items_of(self.grants)


@dataclass
class EndedGroup:
    service_name: str
    consents: list[ConsentView]  # the most recently ended first


@dataclass(frozen=True)
class Overview:
    current: list[ConsentCard]
    ended: list[EndedGroup]

    @property
    def ended_count(self) -> int:
        return sum(len(group.consents) for group in self.ended)


def arrange(views: list[ConsentView]) -> Overview:
    """``views`` newest first. The cards' last accesses are left to fill in."""
    cards: dict[tuple[str, str | None], ConsentCard] = {}
    ended: dict[str, EndedGroup] = {}
    for view in views:
        if view.active:
            key = (view.client_id, view.habilitation_id)
            if key in cards:
                cards[key].earlier.append(view)
            else:
                cards[key] = ConsentCard(view)
        else:
            ended.setdefault(view.service_id, EndedGroup(view.service_name, [])).consents.append(
                view
            )
    for group in ended.values():
        group.consents.sort(key=lambda v: v.ended_on or 0, reverse=True)
    groups = sorted(ended.values(), key=lambda g: g.consents[0].ended_on or 0, reverse=True)
    return Overview(list(cards.values()), groups)


def items_of(grants: Iterable[ConsentView]) -> list[dict[str, Any]]:
    """The items shown for grants that end together (``openid`` left out), newest grant
    first: an item still held by one of them is held; one withdrawn from all of them shows
    when it was last withdrawn. In the registry's order, as the consent screen shows them."""
    found: dict[str, dict[str, Any]] = {}
    for grant in grants:
        for item in grant.shown_items:
            kept = found.get(item["scope"])
            if kept is None or later_end(item, kept):
                found[item["scope"]] = item
    return sorted(found.values(), key=lambda item: registry_order(item["scope"]))


def later_end(item: dict[str, Any], kept: dict[str, Any]) -> bool:
    """Whether ``item`` ends later than ``kept`` (still held ends never)."""
    if not kept["withdrawn_at"]:
        return False
    return not item["withdrawn_at"] or item["withdrawn_at"] > kept["withdrawn_at"]
