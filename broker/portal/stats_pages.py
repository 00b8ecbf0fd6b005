"""Portal pages: usage statistics.

- ``/stats``, public (no sign-in): calls per product and per provider, per day or per week
  (``?par=jour|semaine``), error share, latency p50/p95, consents granted, refused and
  withdrawn. Aggregates only: no citizen, no service, no caller is ever named.
- ``/usage``, signed in: a data provider sees the same figures for its own products only,
  an administrator for all of them; both also see which services call those products, with
  their errors and the outcomes of their calls (never on ``/stats``); anyone else is refused.

The figures come from the roll-ups (broker.admin.usage), which the portal's jobs refresh
every minute."""

from __future__ import annotations

import time
from typing import Annotated, Any

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter
from litestar.response import Template

from broker.admin.principal import Agent, Role
from broker.admin.service_usage_report import ServiceReport, service_report
from broker.admin.usage import last_rolled_up
from broker.admin.usage_report import UsageReport, usage_report
from broker.portal.context import PortalContext
from broker.portal.guards import requires
from broker.portal.pages import portal_error, portal_page, reading
from broker.portal.stats_format import provider_name
from broker.portal.stats_services import services_view
from broker.portal.stats_view import PERIOD_WORDS, stats_view
from broker.web.i18n import N_

DEFAULT_WORD = "jour"
# ``?par=jour|semaine``: anything else gets a readable 400 page (checked in the handler).
Period = FromQuery[Annotated[str, QueryParameter(max_length=20)]]
BAD_PERIOD = (
    N_("Période inconnue"),
    N_(
        "Cette période n'existe pas. Choisissez l'affichage par jour ou par semaine avec les "
        "liens de la page."
    ),
)


async def read_report(
    portal: PortalContext, word: str, providers: frozenset[str] | None
) -> tuple[UsageReport, int | None]:
    now = int(time.time())

    def read(session: Any) -> tuple[UsageReport, int | None]:
        report = usage_report(session, now=now, granularity=PERIOD_WORDS[word], providers=providers)
        return report, last_rolled_up(session)

    return await reading(portal, read)


async def stats_page(
    portal: PortalContext, path: str, word: str, providers: frozenset[str] | None, **context
) -> Template:
    if word not in PERIOD_WORDS:
        return portal_error(400, *BAD_PERIOD, code="bad_period")
    report, updated_at = await read_report(portal, word, providers)
    return portal_page(
        "stats_page.html",
        view=stats_view(report, word),
        path=path,
        updated_at=updated_at,
        **context,
    )


async def read_usage(
    portal: PortalContext, word: str, providers: frozenset[str] | None
) -> tuple[UsageReport, ServiceReport, int | None]:
    """Both reports in one snapshot: the per-service rows add up to the figures above them."""
    now = int(time.time())
    granularity = PERIOD_WORDS[word]

    def read(session: Any) -> tuple[UsageReport, ServiceReport, int | None]:
        report = usage_report(session, now=now, granularity=granularity, providers=providers)
        services = service_report(session, now=now, granularity=granularity, providers=providers)
        return report, services, last_rolled_up(session)

    return await reading(portal, read)


async def usage_page(portal: PortalContext, word: str, agent: Agent) -> Template:
    """/usage: the public figures, restricted to the agent's providers' products unless an
    administrator, with the services calling them and the outcomes of their calls."""
    if word not in PERIOD_WORDS:
        return portal_error(400, *BAD_PERIOD, code="bad_period")
    everything = agent.has(Role.ADMINISTRATOR)
    # A data provider: its own providers' products, nothing else, whatever it asks.
    providers = None if everything else agent.providers
    report, services, updated_at = await read_usage(portal, word, providers)
    return portal_page(
        "stats_page.html",
        view=stats_view(report, word),
        services=services_view(services, all_providers=everything),
        path="/usage",
        updated_at=updated_at,
        restricted=not everything,
        signed=True,
        provider_names=sorted(provider_name(key) for key in agent.providers),
    )


class StatsController(Controller):
    @get("/stats", name="portal_stats")
    async def public_stats(
        self, portal: NamedDependency[PortalContext], par: Period = DEFAULT_WORD
    ) -> Template:
        return await stats_page(portal, "/stats", par, None, restricted=False)

    @get(
        "/usage",
        name="portal_usage",
        guards=[requires(Role.DATA_PROVIDER, Role.ADMINISTRATOR)],
    )
    async def usage(
        self,
        portal: NamedDependency[PortalContext],
        agent: NamedDependency[Agent],
        par: Period = DEFAULT_WORD,
    ) -> Template:
        return await usage_page(portal, par, agent)


CONTROLLERS = [StatsController]
