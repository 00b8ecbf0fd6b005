"""Portal pages: the audit trail (``/audit``), for administrators.

Newest entries first, filtered by action and target, a page at a time (keyset: ``avant`` is
the seq the page starts below); each entry's before and after shown field by field. The
chain is verified at each view and its result heads the page: an edited, deleted or inserted
entry shows there, by its number.

The whole chain is walked at every view, a chunk at a time (memory stays flat; cost grows with
the trail). A per-process cache of the verified prefix was weighed and left out: an edit inside
that prefix can only be seen by reading the edited row again, so a cache that stays correct
saves no reading; the views are few (administrators) and ``broker audit verify --head`` is the
way to check from elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, Parameter
from litestar.response import Template

from broker.admin.audit import Break, VerifyResult, actions, entries, verify
from broker.admin.audit_diff import field_changes
from broker.portal.context import PortalContext
from broker.portal.guards import requires
from broker.portal.pages import portal_page, reading
from broker.portal.principal import Role
from broker.store.portal_models import AuditEntry
from broker.web.i18n import N_, lazy_gettext

AUDIT_PATH = "/audit"
PAGE_SIZE = 50
MAX_FILTER_CHARS = 200

BREAK_WORDS = {
    Break.EDITED: N_(
        "Le contenu de cette entrée ne correspond plus à son empreinte : elle a été modifiée "
        "après son enregistrement."
    ),
    Break.UNLINKED: N_(
        "Cette entrée n'est pas liée à la précédente : une entrée a été supprimée ou insérée "
        "juste avant elle."
    ),
    Break.GAP: N_(
        "Des numéros manquent juste avant cette entrée : des entrées ont été supprimées."
    ),
}


@dataclass(frozen=True)
class Filters:
    action: str
    target: str

    def query(self, **extra: int) -> str:
        values: dict[str, Any] = {"action": self.action, "cible": self.target, **extra}
        return urlencode({key: value for key, value in values.items() if value})


def actor_view(actor: str) -> dict[str, str]:
    """``agent:<id> <email>`` shows the email, ``cli:<user>`` the command line's user."""
    kind, _, rest = actor.partition(":")
    if kind == "agent":
        agent_id, _, email = rest.partition(" ")
        return {"kind": "agent", "name": email or agent_id, "detail": agent_id}
    if kind == "cli":
        return {"kind": "cli", "name": rest, "detail": ""}
    return {"kind": "other", "name": actor, "detail": ""}


def entry_view(entry: AuditEntry, broken_seq: int | None) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": entry.at,
        "actor": actor_view(entry.actor),
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "created": entry.before is None and entry.after is not None,
        "deleted": entry.after is None and entry.before is not None,
        "changes": field_changes(entry.before, entry.after),
        "broken": entry.seq == broken_seq,
    }


def chain_view(result: VerifyResult) -> dict[str, Any]:
    return {
        "intact": result.intact,
        "checked": result.checked,
        "broken_seq": result.broken_seq,
        "reason": lazy_gettext(BREAK_WORDS[result.reason]) if result.reason else None,
        "head_seq": result.head_seq,
        "head_digest": result.head_digest,
    }


class AuditController(Controller):
    path = AUDIT_PATH
    guards = (requires(Role.ADMINISTRATOR),)

    @get("/", name="audit_trail")
    async def trail(
        self,
        portal: NamedDependency[PortalContext],
        action: FromQuery[Annotated[str, Parameter(max_length=MAX_FILTER_CHARS)]] = "",
        cible: FromQuery[Annotated[str, Parameter(max_length=MAX_FILTER_CHARS)]] = "",
        avant: FromQuery[Annotated[int | None, Parameter(ge=1)]] = None,
    ) -> Template:
        filters = Filters(action.strip(), cible.strip())

        def read(session: Any) -> tuple[VerifyResult, list[AuditEntry], list[str]]:
            found = entries(
                session,
                limit=PAGE_SIZE + 1,
                before_seq=avant,
                action=filters.action or None,
                target=filters.target or None,
            )
            return verify(session), found, actions(session)

        result, found, known_actions = await reading(portal, read)
        shown = found[:PAGE_SIZE]
        older = filters.query(avant=shown[-1].seq) if len(found) > PAGE_SIZE else None
        return portal_page(
            "audit_trail.html",
            chain=chain_view(result),
            entries=[entry_view(entry, result.broken_seq) for entry in shown],
            actions=known_actions,
            filters=filters,
            older_query=older,
            newest_query=filters.query() if avant is not None else None,
        )


CONTROLLERS: list[type[Controller]] = [AuditController]
