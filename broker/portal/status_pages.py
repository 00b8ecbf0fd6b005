"""Portal pages: the public status of the data and identity providers (``/status``, and the
same data as JSON at ``/status.json``), and the maintenance notices administrators write
(``/status/annonces``).

The public page needs no sign-in and shows no personal data: states, times, technical
details and the notices' messages (never who wrote them)."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from typing import Any

from babel.dates import format_timedelta
from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect, Template

from broker.admin import status
from broker.admin.status_details import detail_words
from broker.admin.status_notices import (
    PLATFORM,
    NoticeError,
    add_notice,
    end_notice,
    notice_targets,
    recent_notices,
)
from broker.admin.status_report import ALL_UP, DISRUPTED, StatusReport, report_json, status_report
from broker.catalogue.scopes import REGISTRY
from broker.portal.context import PortalContext
from broker.portal.guards import requires
from broker.portal.pages import in_transaction, portal_error, portal_page, reading
from broker.portal.principal import Agent, Role
from broker.web.http import redirect
from broker.web.i18n import N_, TIMEZONE, gettext, lazy_gettext
from broker.web.locale import current_locale

NOTICES_PATH = "/status/annonces"
LOCAL_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?")
DEFAULT_NOTICE_HOURS = 2

STATE_WORDS = {
    status.UP: N_("Fonctionne normalement"),
    status.DEGRADED: N_("Ralenti"),
    status.MAINTENANCE: N_("En maintenance"),
    status.DOWN: N_("Indisponible"),
}
INCIDENT_WORDS = {
    status.DEGRADED: N_("Ralentissement"),
    status.MAINTENANCE: N_("Maintenance"),
    status.DOWN: N_("Interruption"),
}
OVERALL_WORDS = {
    ALL_UP: N_("Tous les services fonctionnent"),
    DISRUPTED: N_("Perturbations en cours"),
}
NEVER_CHECKED = N_("L'état des services n'a pas encore été vérifié.")
BAD_MOMENT = N_("Indiquez une date et une heure valables (jj/mm/aaaa hh:mm).")
NOTICE_NOT_FOUND = N_("Annonce introuvable")
NOTICE_REFUSED = N_("Action impossible")


def display_label(target: str, label: str) -> str:
    """A data provider's name in the page's language; an identity provider's own name."""
    if target.startswith(status.PROVIDER_PREFIX):
        try:
            provider = REGISTRY.provider(target.removeprefix(status.PROVIDER_PREFIX))
        except KeyError:
            return label
        return provider.name_en if current_locale() == "en" else provider.name_fr
    return label


def shown_detail(detail: str) -> str:
    """A check's detail in the page's language (``/status.json`` keeps the raw one)."""
    if not detail:
        return ""
    words = detail_words(detail)
    if not words.translatable:
        return words.message
    return gettext(words.message) % words.params


def duration_words(seconds: int) -> str:
    return format_timedelta(
        timedelta(seconds=max(seconds, 0)), threshold=2, locale=current_locale()
    )


def board_view(report: StatusReport) -> dict[str, Any]:
    targets = [
        {
            "label": display_label(t.target, t.label),
            "state": t.state,
            "words": lazy_gettext(STATE_WORDS[t.state]),
            "detail": shown_detail(t.detail) if t.state != status.UP else "",
            "since": t.since,
        }
        for t in report.targets
    ]
    return {
        "overall": report.overall,
        "overall_words": lazy_gettext(OVERALL_WORDS.get(report.overall, NEVER_CHECKED)),
        "checked_at": report.checked_at,
        "providers": [v for t, v in zip(report.targets, targets, strict=True) if t.is_provider],
        "idps": [v for t, v in zip(report.targets, targets, strict=True) if not t.is_provider],
        "notices": [
            {
                "label": display_label(n.target, n.label) if n.target != PLATFORM else "",
                "message": n.message,
                "ends_at": n.ends_at,
            }
            for n in report.notices
        ],
        "incidents": [
            {
                "label": display_label(i.target, i.label),
                "words": lazy_gettext(INCIDENT_WORDS.get(i.state, STATE_WORDS[status.DOWN])),
                "started_at": i.started_at,
                "ended_at": i.ended_at,
                "duration": duration_words(i.duration),
            }
            for i in report.incidents
        ],
    }


def local_moment(value: str) -> int | None:
    """A ``datetime-local`` field (Paris time) as epoch seconds; None if it is not one."""
    value = value.strip()
    if not LOCAL_MOMENT.fullmatch(value):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return int(moment.replace(tzinfo=TIMEZONE).timestamp())


def local_field(moment: int) -> str:
    return datetime.fromtimestamp(moment, TIMEZONE).strftime("%Y-%m-%dT%H:%M")


def text_of(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


class StatusController(Controller):
    @get("/status", name="status_page")
    async def page(self, portal: NamedDependency[PortalContext]) -> Template:
        report = await read_report(portal)
        return portal_page("status_page.html", board=board_view(report))

    @get("/status.json", name="status_json")
    async def json(self, portal: NamedDependency[PortalContext]) -> Response:
        report = await read_report(portal)
        return Response(
            report_json(report),
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )


async def read_report(portal: PortalContext) -> StatusReport:
    now = int(time.time())
    return await reading(portal, lambda session: status_report(session, now))


class NoticesController(Controller):
    path = NOTICES_PATH
    guards = (requires(Role.ADMINISTRATOR),)

    @get("/", name="status_notices")
    async def list_notices(self, portal: NamedDependency[PortalContext]) -> Template:
        now = int(time.time())
        values = {
            "target": PLATFORM,
            "message": "",
            "starts_at": local_field(now),
            "ends_at": local_field(now + DEFAULT_NOTICE_HOURS * 3600),
        }
        return await notices_page(portal, values, {})

    @post("/", name="status_notice_add")
    async def add(
        self,
        request: Request,
        portal: NamedDependency[PortalContext],
        agent: NamedDependency[Agent],
    ) -> Template | Redirect:
        form = await request.form()
        values = {
            name: text_of(form, name) for name in ("target", "message", "starts_at", "ends_at")
        }
        errors: dict[str, str] = {}
        starts_at, ends_at = local_moment(values["starts_at"]), local_moment(values["ends_at"])
        if starts_at is None:
            errors["starts_at"] = BAD_MOMENT
        if ends_at is None:
            errors["ends_at"] = BAD_MOMENT
        if not errors and starts_at is not None and ends_at is not None:
            start, end = starts_at, ends_at

            try:
                await in_transaction(
                    portal,
                    lambda session: add_notice(
                        session,
                        target=values["target"],
                        message=values["message"],
                        starts_at=start,
                        ends_at=end,
                        actor=agent.actor,
                    ),
                )
            except NoticeError as exc:
                errors[exc.field or "message"] = exc.message
            else:
                return redirect(NOTICES_PATH)
        return await notices_page(portal, values, errors, status_code=400)

    @post("/{notice_id:int}/fin", name="status_notice_end")
    async def end(
        self,
        portal: NamedDependency[PortalContext],
        agent: NamedDependency[Agent],
        notice_id: FromPath[int],
    ) -> Template | Redirect:
        try:
            await in_transaction(
                portal, lambda session: end_notice(session, notice_id, actor=agent.actor)
            )
        except NoticeError as exc:
            title = NOTICE_NOT_FOUND if exc.status == 404 else NOTICE_REFUSED
            return portal_error(exc.status, title, exc.message, code="notice_" + str(exc.status))
        return redirect(NOTICES_PATH)


def notice_phase(starts_at: int, ends_at: int, now: int) -> str:
    if ends_at <= now:
        return "ended"
    return "current" if starts_at <= now else "coming"


async def notices_page(
    portal: PortalContext, values: dict[str, str], errors: dict[str, str], status_code: int = 200
) -> Template:
    now = int(time.time())

    def read(session: Any) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
        targets = notice_targets(session)
        labels = dict(targets)
        notices = [
            {
                "id": n.id,
                "label": display_label(n.target, labels.get(n.target, n.target))
                if n.target != PLATFORM
                else "",
                "message": n.message,
                "starts_at": n.starts_at,
                "ends_at": n.ends_at,
                "created_by": n.created_by,
                "phase": "ended"
                if n.ends_at <= now
                else "current"
                if n.starts_at <= now
                else "coming",
            }
            for n in recent_notices(session, now)
        ]
        return [(key, display_label(key, label)) for key, label in targets], notices

    targets, notices = await reading(portal, read)
    return portal_page(
        "status_notices.html",
        status_code=status_code,
        targets=targets,
        notices=notices,
        values=values,
        errors={field: lazy_gettext(message) for field, message in errors.items()},
    )


CONTROLLERS: list[type[Controller]] = [StatusController, NoticesController]
