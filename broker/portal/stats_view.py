"""What the statistics pages show, built from a usage report (broker.admin.usage_report):
the rows of the tables and the charts drawn from the same rows, so that a chart and its table
always say the same thing (figures written by broker.portal.stats_format).

Only aggregates reach a page: counts per product, provider and period. Nothing in a report
names a citizen, a service or a caller."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

from broker.admin.usage import LATENCY_BUCKETS_MS
from broker.admin.usage_report import ConsentKind, Figures, Granularity, Line, UsageReport
from broker.portal.charts import ChartData, Series, bar_chart, column_chart, line_chart
from broker.portal.stats_format import (
    latency,
    latency_level,
    long_period,
    milliseconds,
    number,
    product_name,
    provider_name,
    share,
    short_period,
)
from broker.web.i18n import N_, ngettext
from broker.web.i18n import gettext as _

# The query's words for the period (French first, the page's own address).
PERIOD_WORDS = {"jour": Granularity.DAY, "semaine": Granularity.WEEK}
# Latency levels named on the chart's axis: every decade, and beyond the last bucket.
LABELLED_LEVELS = (0, 3, 6, 9, len(LATENCY_BUCKETS_MS))  # 10, 100, 1 000, 10 000, beyond


@dataclass(frozen=True)
class Row:
    """A table row: its header cell, then the cells in column order."""

    header: str
    cells: tuple[str, ...]
    note: str = ""  # a line under the header cell (a product's provider)


@dataclass(frozen=True)
class Table:
    id: str
    caption: str
    columns: tuple[str, ...]  # the header of every column, the row header's first
    rows: tuple[Row, ...]
    text_cells: tuple[int, ...] = ()  # cells (by position) holding words, not one figure


@dataclass(frozen=True)
class Figure:
    """A chart and its table alternative."""

    chart: Markup
    table: Table


def figure_cells(figures: Figures) -> tuple[str, ...]:
    return (
        number(figures.calls),
        number(figures.errors),
        share(figures.error_share),
        latency(figures.p50),
        latency(figures.p95),
    )


def figure_columns() -> tuple[str, ...]:
    return (
        _("Appels"),
        _("En erreur"),
        _("Part d'erreurs"),
        _("p50"),
        _("p95"),
    )


def calls_figure(report: UsageReport) -> Figure:
    granularity = report.granularity
    rows = tuple(
        Row(long_period(p, granularity), figure_cells(f)[:3])
        for p, f in zip(report.periods, report.per_period, strict=True)
    )
    total = report.total
    busiest = max(zip(report.periods, report.per_period, strict=True), key=lambda pf: pf[1].calls)
    description = (
        ngettext(
            "%(total)s appel sur la période, dont %(errors)s en erreur (%(share)s). "
            "Le plus d'appels : %(most)s, %(when)s.",
            "%(total)s appels sur la période, dont %(errors)s en erreur (%(share)s). "
            "Le plus d'appels : %(most)s, %(when)s.",
            total.calls,
        )
        % {
            "total": number(total.calls),
            "errors": number(total.errors),
            "share": share(total.error_share),
            "most": number(busiest[1].calls),
            "when": long_period(busiest[0], granularity),
        }
        if total.calls
        else _("Aucun appel sur la période.")
    )
    successes = [f.calls - f.errors for f in report.per_period]
    errors = [f.errors for f in report.per_period]
    chart = ChartData(
        id="calls",
        title=_("Appels par jour") if granularity == Granularity.DAY else _("Appels par semaine"),
        description=description,
        categories=tuple(short_period(p, granularity) for p in report.periods),
        series=(
            Series(_("Appels réussis"), tuple(successes), tuple(map(number, successes))),
            Series(_("Appels en erreur"), tuple(errors), tuple(map(number, errors))),
        ),
    )
    table = Table(
        "calls-table",
        chart.title,
        (period_header(granularity), *figure_columns()[:3]),
        rows,
    )
    return Figure(column_chart(chart, number), table)


def period_header(granularity: Granularity) -> str:
    return _("Jour") if granularity == Granularity.DAY else _("Semaine")


def latency_figure(report: UsageReport) -> Figure:
    granularity = report.granularity
    p50 = [f.p50 for f in report.per_period]
    p95 = [f.p95 for f in report.per_period]
    chart = ChartData(
        id="latency",
        title=_("Temps de réponse"),
        description=_(
            "Temps de réponse médian (p50) et 95e centile (p95) par période, lus par tranches : "
            "sur toute la période, p50 %(p50)s, p95 %(p95)s."
        )
        % {"p50": latency(report.total.p50), "p95": latency(report.total.p95)},
        categories=tuple(short_period(p, granularity) for p in report.periods),
        series=(
            Series(_("Médiane (p50)"), tuple(map(latency_level, p50)), tuple(map(latency, p50))),
            Series(
                _("95e centile (p95)"), tuple(map(latency_level, p95)), tuple(map(latency, p95))
            ),
        ),
    )
    levels = [milliseconds(bound) for bound in LATENCY_BUCKETS_MS]
    levels.append(_("> %(ms)s ms") % {"ms": number(LATENCY_BUCKETS_MS[-1])})
    rows = tuple(
        Row(long_period(p, granularity), (latency(a), latency(b)))
        for p, a, b in zip(report.periods, p50, p95, strict=True)
    )
    columns = (period_header(granularity), *(series.name for series in chart.series))
    table = Table("latency-table", chart.title, columns, rows)
    return Figure(line_chart(chart, levels, {i: levels[i] for i in LABELLED_LEVELS}), table)


def lines_figure(chart_id: str, title: str, header: str, lines: Sequence[Line]) -> Figure:
    """Calls per provider (``chart_id`` "providers") or per product ("products")."""
    per_product = chart_id == "products"
    names = [product_name(x.key) if per_product else provider_name(x.key) for x in lines]
    calls = [x.figures.calls for x in lines]
    description = (
        ngettext(
            "Appels sur la période, du plus au moins appelé. En tête : %(first)s, %(calls)s appel.",
            "Appels sur la période, du plus au moins appelé. "
            "En tête : %(first)s, %(calls)s appels.",
            calls[0],
        )
        % {"first": names[0], "calls": number(calls[0])}
        if lines
        else _("Aucun appel sur la période.")
    )
    chart = ChartData(
        id=chart_id,
        title=title,
        description=description,
        categories=tuple(names),
        series=(Series(_("Appels"), tuple(calls), tuple(map(number, calls))),),
    )
    columns = (header, *figure_columns())
    rows = tuple(
        Row(name, figure_cells(x.figures), provider_name(x.provider) if per_product else "")
        for name, x in zip(names, lines, strict=True)
    )
    return Figure(bar_chart(chart), Table(f"{chart_id}-table", title, columns, rows))


CONSENT_SERIES = (
    (ConsentKind.GRANTED, N_("Donnés")),
    (ConsentKind.REFUSED, N_("Refusés")),
    (ConsentKind.REVOKED, N_("Retirés")),  # withdrawn: the whole consent taken back
)


def consents_figure(report: UsageReport) -> Figure:
    granularity = report.granularity
    totals = report.consent_totals
    series = tuple(
        Series(
            _(label),
            tuple(c[kind] for c in report.consents),
            tuple(number(c[kind]) for c in report.consents),
        )
        for kind, label in CONSENT_SERIES
    )
    chart = ChartData(
        id="consents",
        title=_("Consentements"),
        description=_(
            "Consentements des usagers par période, sur toute la période : %(granted)s donnés, "
            "%(refused)s refusés, %(withdrawn)s retirés."
        )
        % {
            "granted": number(totals[ConsentKind.GRANTED]),
            "refused": number(totals[ConsentKind.REFUSED]),
            "withdrawn": number(totals[ConsentKind.REVOKED]),
        },
        categories=tuple(short_period(p, granularity) for p in report.periods),
        series=series,
    )
    rows = tuple(
        Row(
            long_period(p, granularity),
            (
                *(number(c[kind]) for kind, _label in CONSENT_SERIES),
                number(c[ConsentKind.NARROWED]),
                number(c[ConsentKind.EXPIRED]),
            ),
        )
        for p, c in zip(report.periods, report.consents, strict=True)
    )
    columns = (
        period_header(granularity),
        *(s.name for s in series),
        _("Restreints"),
        _("Arrivés à échéance"),
    )
    return Figure(column_chart(chart, number), Table("consents-table", chart.title, columns, rows))


@dataclass(frozen=True)
class StatsView:
    granularity: Granularity
    word: str  # "jour" | "semaine": the query's value
    summary: tuple[tuple[str, str], ...]  # (label, value)
    calls: Figure
    latency: Figure
    providers: Figure
    products: Figure
    consents: Figure | None


def stats_view(report: UsageReport, word: str) -> StatsView:
    total = report.total
    summary = [
        (_("Appels"), number(total.calls)),
        (_("Part d'erreurs"), share(total.error_share)),
        (_("Médiane (p50)"), latency(total.p50)),
        (_("95e centile (p95)"), latency(total.p95)),
    ]
    consents = None
    if report.consents:
        totals = report.consent_totals
        summary += [
            (_("Consentements donnés"), number(totals[ConsentKind.GRANTED])),
            (_("Consentements refusés"), number(totals[ConsentKind.REFUSED])),
            (_("Consentements retirés"), number(totals[ConsentKind.REVOKED])),
        ]
        consents = consents_figure(report)
    return StatsView(
        granularity=report.granularity,
        word=word,
        summary=tuple(summary),
        calls=calls_figure(report),
        latency=latency_figure(report),
        providers=lines_figure(
            "providers",
            _("Appels par fournisseur de données"),
            _("Fournisseur de données"),
            report.providers,
        ),
        products=lines_figure("products", _("Appels par produit"), _("Produit"), report.products),
        consents=consents,
    )
