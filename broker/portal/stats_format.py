"""Figures written for the statistics pages in the page's language: numbers and shares
through Babel, latency percentiles as the upper bound of their bucket, periods, and the
catalogue's names of products and providers, the access journal's outcomes in words."""

from __future__ import annotations

from datetime import date

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_decimal, parse_pattern

from broker.admin.usage import LATENCY_BUCKETS_MS
from broker.admin.usage_report import Granularity, Latency, Period
from broker.catalogue.products import product
from broker.catalogue.scopes import REGISTRY
from broker.web.i18n import N_
from broker.web.i18n import gettext as _
from broker.web.locale import current_locale

NO_VALUE = "–"


def number(value: float) -> str:
    return format_decimal(value, locale=current_locale())


def share(value: float | None) -> str:
    if value is None:
        return NO_VALUE
    locale = Locale.parse(current_locale())
    pattern = parse_pattern(locale.percent_formats[None])
    pattern.frac_prec = (0, 1)  # 5 %, 5,2 %
    return pattern.apply(value, locale)


def milliseconds(value: int) -> str:
    return _("%(ms)s ms") % {"ms": number(value)}


def latency(value: Latency | None) -> str:
    """How a percentile read from the buckets is written: an upper bound, never a guess."""
    if value is None:
        return NO_VALUE
    if value.beyond:
        return _("> %(ms)s ms") % {"ms": number(value.bound_ms)}
    return _("≤ %(ms)s ms") % {"ms": number(value.bound_ms)}


def latency_level(value: Latency | None) -> int | None:
    """The bucket of a percentile, as the latency chart places it."""
    if value is None:
        return None
    return len(LATENCY_BUCKETS_MS) if value.beyond else LATENCY_BUCKETS_MS.index(value.bound_ms)


def short_period(period: Period, granularity: Granularity) -> str:
    if granularity == Granularity.DAY:
        return format_date(period.start, "d MMM", locale=current_locale())
    return _("S%(week)s") % {"week": period.start.isocalendar()[1]}


def long_date(day: date) -> str:
    return format_date(day, "d MMMM y", locale=current_locale())


def long_period(period: Period, granularity: Granularity) -> str:
    if granularity == Granularity.DAY:
        return long_date(period.start)
    return _("Semaine %(week)s, du %(start)s au %(end)s") % {
        "week": period.start.isocalendar()[1],
        "start": long_date(period.start),
        "end": long_date(period.end),
    }


def product_name(key: str) -> str:
    known = product(key)
    if known is None:
        return key
    title = known.title_en if current_locale() == "en" else known.title_fr
    return title or key


def provider_name(key: str) -> str:
    try:
        provider = REGISTRY.provider(key)
    except KeyError:
        return key
    return provider.name_en if current_locale() == "en" else provider.name_fr


# The access journal's outcomes (broker.resources.errors, and "ok"), in readable words: the
# answers the API gave as designed first, then the failures (counted as errors).
OUTCOME_WORDS = {
    "ok": N_("Données transmises"),
    "not_found": N_("Aucun dossier trouvé"),
    "unauthorized": N_("Accès non autorisé (jeton ou clé invalide)"),
    "forbidden": N_("Accès interdit (hors habilitation)"),
    "invalid_parameters": N_("Paramètres invalides"),
    "provider_invalid_input": N_("Paramètres refusés par le fournisseur"),
    "rate_limited": N_("Limite de requêtes atteinte"),
    "unknown_route": N_("Adresse inconnue"),
    "timeout": N_("Délai dépassé chez le fournisseur"),
    "unavailable": N_("Fournisseur indisponible"),
    "maintenance": N_("Fournisseur en maintenance"),
    "provider_error": N_("Réponse inexploitable du fournisseur"),
    "store_unavailable": N_("Plateforme momentanément indisponible"),
    "rate_limit_unavailable": N_("Décompte des requêtes indisponible"),
    "server_error": N_("Erreur de la plateforme"),
}


def outcome_name(outcome: str) -> str:
    """An outcome the journal may hold but this version does not know keeps its code."""
    words = OUTCOME_WORDS.get(outcome)
    return _(words) if words is not None else _("Autre issue (%(code)s)") % {"code": outcome}
