"""The signed-in citizen's page: who signed in, the consent events since, and the meal price
from the CAF data the data API gave for the session's access token.

The data is read once at sign-in and kept in the service's session; "Actualiser mes données"
reads it again. Coming back to the home page later (from the broker's citizen space, say)
shows the session's page without asking the data API again."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from litestar.response import Response

from broker.catalogue import cog
from broker.demo.citizens import birthdate_bounds
from broker.demo.online_service.data_api import DataResult, family_data, shown_items
from broker.demo.online_service.language import Language
from broker.demo.online_service.pages import html_page
from broker.demo.online_service.pricing import FULL_PRICE, band_for, grid_rows
from broker.demo.online_service.relying_party import RelyingParty
from broker.web.i18n import N_

ITEM_LABELS = {
    "cnaf_quotient_familial": N_("votre quotient familial"),
    "cnaf_allocataires": N_("l'identité des allocataires"),
    "cnaf_adresse": N_("votre adresse connue de la CAF"),
}
CLAIM_LABELS = {
    "given_name": N_("Prénoms"),
    "family_name": N_("Nom de naissance"),
    "preferred_username": N_("Nom d'usage"),
    "gender": N_("Sexe"),
    "birthdate": N_("Date de naissance"),
    "birthplace": N_("Lieu de naissance"),
    "birthcountry": N_("Pays de naissance"),
    "email": N_("Adresse électronique"),
    "sub": N_("Votre identifiant pour ce service"),
}
# The eIDAS levels of assurance, as a citizen reads them (the code stays in data-acr).
ACR_WORDS = {
    "eidas1": N_("faible (eIDAS 1)"),
    "eidas2": N_("substantiel (eIDAS 2)"),
    "eidas3": N_("élevé (eIDAS 3)"),
}
ACR_UNSTATED = N_("non précisé")
GENDERS = {"female": N_("féminin"), "male": N_("masculin")}
EVENT_MESSAGES = {
    "narrowed": N_("Vous avez retiré votre accord pour %(items)s le %(date)s à %(time)s."),
    "expired": N_("Votre accord est arrivé à échéance le %(date)s à %(time)s."),
    "revoked": N_("Votre accord a été retiré le %(date)s à %(time)s."),
}


async def read_data(rp: RelyingParty, session: dict[str, Any]) -> DataResult:
    """The CAF data for the session's access token, kept in the session."""
    session["data"] = result = await family_data(rp, session["access_token"])
    return result


async def account_page(
    rp: RelyingParty, language: Language, session: dict[str, Any], refresh: bool = False
) -> Response:
    result = session.get("data")
    if refresh or not isinstance(result, DataResult):
        result = await read_data(rp, session)
    if refresh:
        session["refreshed_at"] = time.time()
    granted = session["granted"]
    refreshed_at = session.get("refreshed_at")
    return html_page(
        language,
        "welcome.html",
        private=True,
        title=N_("Votre tarif"),
        name=" ".join(
            filter(None, (session["claims"].get(n) for n in ("given_name", "family_name")))
        ),
        claims=claims_view(language, session["claims"]),
        acr=session["acr"] or "",
        acr_words=language.gettext(ACR_WORDS.get(session["acr"] or "", ACR_UNSTATED)),
        price=price_view(language, result, granted),
        data=result,
        shown=shown_view(language, result, granted),
        events=events_view(language, rp, session),
        refreshed=language.moment(refreshed_at, seconds=True) if refreshed_at else None,
        space_url=f"{rp.space_url}?lang={language.code}",
        sign_out_token=session.get("sign_out_token", ""),
    )


def price_view(language: Language, result: DataResult, granted: set[str]) -> dict[str, Any]:
    """The price from the family quotient, if it was shared and read, else the full price."""
    quotient = (result.data or {}).get("quotient_familial")
    if not isinstance(quotient, dict):
        quotient = {}
    value = quotient.get("valeur")
    if "cnaf_quotient_familial" not in granted or type(value) is not int or value < 0:
        problem = result.problem or N_("Votre quotient familial n'a pas été transmis.")
        return {
            "quotient": None,
            "problem": problem,
            "price": language.euros(FULL_PRICE),
            "grid": grid_rows(language, without_quotient=True),
        }
    band = band_for(value)
    year, month = quotient.get("annee"), quotient.get("mois")
    known_month = type(year) is int and type(month) is int and 1 <= month <= 12
    return {
        "quotient": value,
        "provider": str(quotient.get("fournisseur") or "CAF"),
        "period": language.month(year, month) if known_month else None,  # type: ignore[arg-type]
        "band": band.number,
        "price": language.euros(band.cents),
        "full_price": language.euros(FULL_PRICE),
        "saving": language.euros(FULL_PRICE - band.cents) if band.cents < FULL_PRICE else None,
        "grid": grid_rows(language, current=band),
    }


def shown_view(language: Language, result: DataResult, granted: set[str]) -> dict[str, Any]:
    shown = shown_items(result, granted)
    if "cnaf_allocataires" in shown:
        shown["cnaf_allocataires"] = [
            {**person, "born": born_phrase(language, person.get("date_naissance"))}
            for person in shown["cnaf_allocataires"]
            if isinstance(person, dict)
        ]
    return shown


def birth_date(language: Language, value: object) -> str:
    """``1962-08-24`` in the language's short form; a presumed date (``00`` for an unknown
    day or month) as much as is known: ``août 1962``, ``1962``; anything else as it is."""
    bounds = birthdate_bounds(value)
    if bounds is None:
        return str(value or "")
    first, last = bounds
    if first == last:
        return language.day(first)
    if first.month == last.month:
        return language.month(first.year, first.month)
    return str(first.year)


def born_phrase(language: Language, value: object) -> str:
    """``né(e) le 24/08/1962``, or ``né(e) en août 1962`` for a presumed date; empty when
    there is no date."""
    words = birth_date(language, value)
    if not words:
        return ""
    bounds = birthdate_bounds(value)
    if bounds is not None and bounds[0] != bounds[1]:
        return language.gettext(N_("né(e) en %(date)s"), date=words)
    return language.gettext(N_("né(e) le %(date)s"), date=words)


def born_on(claims: dict[str, Any]) -> date | None:
    """The day to name the birthplace at: the first day of the known part of a presumed
    date (``1962-08-00``: 1 August 1962)."""
    bounds = birthdate_bounds(claims.get("birthdate"))
    return bounds[0] if bounds else None


def claims_view(language: Language, claims: dict[str, Any]) -> list[dict[str, str]]:
    """The identity the broker sent, named in words, in a fixed order; unknown claims last."""
    _ = language.gettext
    names = [n for n in CLAIM_LABELS if n in claims] + sorted(set(claims) - set(CLAIM_LABELS))
    rows = []
    for name in names:
        value = claims[name]
        if name == "birthdate":
            value = birth_date(language, value)
        elif name == "birthplace" and value:
            # The broker sends COG codes; a citizen reads names, as at their date of birth.
            value = cog.commune_name(str(value), born_on(claims)) or value
        elif name == "birthcountry" and value:
            value = cog.country_name(str(value), language.code) or value
        elif name == "gender" and value in GENDERS:
            value = _(GENDERS[value])
        if value in (None, ""):
            continue
        rows.append({"name": name, "label": _(CLAIM_LABELS.get(name, name)), "value": str(value)})
    return rows


def events_view(
    language: Language, rp: RelyingParty, session: dict[str, Any]
) -> list[dict[str, str]]:
    """The consent events the broker sent about this citizen since this sign-in."""
    _ = language.gettext
    shown = []
    for event in rp.events.get(session["claims"].get("sub"), []):
        if event["at"] < session["at"] or event["reason"] == "replaced":
            continue
        items = ", ".join(_(ITEM_LABELS.get(s, s)) for s in event["scopes"])
        message = EVENT_MESSAGES.get(event["kind"], EVENT_MESSAGES["revoked"])
        shown.append(
            {
                "kind": event["kind"],
                "message": _(message, items=items, **language.moment(event["at"])),
            }
        )
    return shown
