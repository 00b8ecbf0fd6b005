"""The space's first page, arranged: current consents first, one card per service and
purpose (a second approval of the same thing is not a second card), and ended ones grouped
by service, to be shown folded."""

from __future__ import annotations

from dataclasses import dataclass, field

from consent.space.history import ConsentView


@dataclass
class ConsentCard:
    consent: ConsentView  # the newest active grant of its service and purpose
    # Older active grants to the same client under the same habilitation: withdrawing the
    # card's consent ends them too (``consent.lifecycle.revoke_purpose``).
    earlier: list[ConsentView] = field(default_factory=list)
    last_access: int | None = None


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


def arrange(views: list[ConsentView], last_access: dict[str, int]) -> Overview:
    """``views`` newest first; ``last_access`` by client id (``consent.space.journal``)."""
    cards: dict[tuple[str, str | None], ConsentCard] = {}
    ended: dict[str, EndedGroup] = {}
    for view in views:
        if view.active:
            key = (view.client_id, view.habilitation_id)
            if key in cards:
                cards[key].earlier.append(view)
            else:
                cards[key] = ConsentCard(view, last_access=last_access.get(view.client_id))
        else:
            ended.setdefault(view.service_id, EndedGroup(view.service_name, [])).consents.append(
                view
            )
    for group in ended.values():
        group.consents.sort(key=lambda v: v.ended_on or 0, reverse=True)
    groups = sorted(ended.values(), key=lambda g: g.consents[0].ended_on or 0, reverse=True)
    return Overview(list(cards.values()), groups)


def active_clients(views: list[ConsentView]) -> list[str]:
    return list(dict.fromkeys(v.client_id for v in views if v.active))
