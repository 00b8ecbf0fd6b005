"""What /usage shows beyond the public figures (never /stats): which services call the
products, with their errors and the outcomes of their calls, and all calls' outcomes added up
(from broker.admin.service_usage_report). A data provider's report holds its own products
only; an administrator's, every provider's."""

from __future__ import annotations

from dataclasses import dataclass

from broker.admin.service_usage_report import ServiceLine, ServiceReport
from broker.portal.stats_format import number, outcome_name, product_name, provider_name, share
from broker.portal.stats_view import Row, Table
from broker.web.i18n import gettext as _


@dataclass(frozen=True)
class ServicesView:
    calls: int
    services: Table
    outcomes: Table


def caller_name(line: ServiceLine) -> str:
    if not line.identified:
        return _("Appelant non identifié (accès refusé avant identification)")
    if line.service_name is None:
        return _("Service supprimé (%(id)s)") % {"id": line.service_id}
    return line.service_name


def outcomes_text(outcomes: dict[str, int]) -> str:
    return " ; ".join(
        _("%(outcome)s : %(calls)s") % {"outcome": outcome_name(key), "calls": number(count)}
        for key, count in outcomes.items()
    )


def services_table(report: ServiceReport, all_providers: bool) -> Table:
    rows = tuple(
        Row(
            caller_name(line),
            (
                number(line.calls),
                number(line.errors),
                share(line.error_share),
                outcomes_text(line.outcomes),
            ),
            # An administrator sees every provider: the product's provider says whose it is.
            _("%(product)s, %(provider)s")
            % {"product": product_name(line.product), "provider": provider_name(line.provider)}
            if all_providers
            else product_name(line.product),
        )
        for line in report.lines
    )
    columns = (_("Service et produit"), _("Appels"), _("En erreur"), _("Part d'erreurs"))
    return Table(
        "services-table",
        _("Appels par service et par produit"),
        (*columns, _("Issues des appels")),
        rows,
        text_cells=(3,),
    )


def outcomes_table(report: ServiceReport) -> Table:
    rows = tuple(
        Row(outcome_name(key), (number(count), share(count / report.calls)))
        for key, count in report.outcomes.items()
    )
    return Table(
        "outcomes-table",
        _("Issues des appels"),
        (_("Issue"), _("Appels"), _("Part des appels")),
        rows,
    )


def services_view(report: ServiceReport, *, all_providers: bool) -> ServicesView:
    return ServicesView(report.calls, services_table(report, all_providers), outcomes_table(report))
