"""The data preview of the consent screen: the values a service would receive, shown to the
citizen before they approve ("voir les données qui seront transmises").

The broker asks the data providers about the signed-in citizen (France Connect mode, identity
pivot), masks each answer to the scopes asked, as the data API does, and turns what is left into
readable lines. Nothing is kept: no cache, no database row, no log line with values. A provider
that fails or finds nothing is reported as such for its group, never raised; providers are asked
concurrently and the whole preview never takes longer than ``budget`` seconds.

No framework or ORM imports.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any

import httpx

from broker.logs import request_id_var
from broker.oidc.models import CitizenIdentity
from broker.providers import base
from broker.providers.products import FRANCE_CONNECT, Product, product
from broker.providers.registry import build_adapters
from broker.resources.masking import allowed_tree, mask
from broker.resources.subjects import pivot_of
from broker.scopes import REGISTRY, Scope

log = logging.getLogger("broker.preview")

OK, NOT_FOUND, FAILED = "ok", "not_found", "failed"
# Why a group failed, for a more precise message: "timeout" | "maintenance" | "unavailable" |
# "unexpected_payload" | "invalid_input" | "not_previewable" (no France Connect mode).
_REASONS = {base.Timeout: "timeout", base.Maintenance: "maintenance",
            base.Unavailable: "unavailable", base.UnexpectedPayload: "unexpected_payload",
            base.InvalidInput: "invalid_input"}


@dataclass(frozen=True)
class PreviewValue:
    label: str
    value: str


@dataclass(frozen=True)
class ProviderPreview:
    provider: str  # broker.scopes provider key
    status: str  # OK | NOT_FOUND | FAILED
    # scope name -> its values. With OK, every scope asked (empty: that product found nothing);
    # with FAILED, only the scopes whose product did answer (a partial preview), often none.
    values: dict[str, list[PreviewValue]]
    reason: str = ""  # with FAILED, see _REASONS


class DataPreview:
    def __init__(self, adapters: dict[str, base.Adapter], budget: float) -> None:
        self.adapters = adapters
        self.budget = budget

    @classmethod
    def from_settings(cls, settings, client: httpx.AsyncClient) -> DataPreview:
        """Adapters built as the data API builds them (own circuit breakers), and the time a
        provider call may take as the budget."""
        configs = {p.key: base.ProviderConfig(
            base_url=settings.provider_url(p.key),
            connect_timeout=settings.provider_connect_timeout,
            read_timeout=settings.provider_read_timeout, retries=settings.provider_retries)
            for p in REGISTRY.providers()}
        budget = settings.provider_connect_timeout + settings.provider_read_timeout
        return cls(build_adapters(configs, client), budget)

    async def fetch(self, citizen: CitizenIdentity, scopes: list[str],
                    locale: str = "fr") -> dict[str, ProviderPreview]:
        """One preview per provider of the data scopes asked (identity scopes are ignored), in
        registry order."""
        en = locale.lower().startswith("en")
        asked = set(scopes)
        # provider -> product -> its scopes asked; None gathers the products without a France
        # Connect mode (France Travail, MEN: the preview cannot ask them).
        plan: dict[str, dict[Product | None, list[Scope]]] = {}
        for scope in (s for s in REGISTRY.data_scopes() if s.name in asked):
            for path in scope.products:
                spec = product(path.removeprefix("/v3/"))
                spec = spec if spec is not None and FRANCE_CONNECT in spec.modes else None
                plan.setdefault(scope.provider, {}).setdefault(spec, []).append(scope)
        if not plan:
            return {}
        pivot = pivot_of(citizen)
        outcomes = await self._ask_all({(key, spec.key): self._ask(key, spec, pivot)
                                        for key, group in plan.items() for spec in group
                                        if spec is not None})
        return {key: _provider_preview(key, group, outcomes, en) for key, group in plan.items()}

    async def _ask_all(self, calls: dict) -> dict[tuple[str, str], base.Outcome]:
        """Every call at once; those still running when the budget is spent are cancelled."""
        tasks = {call: asyncio.ensure_future(ask) for call, ask in calls.items()}
        try:
            if tasks:
                await asyncio.wait(tasks.values(), timeout=self.budget)
        finally:
            late = [task for task in tasks.values() if task.cancel()]
            if late:
                await asyncio.wait(late)
        return {call: base.Timeout("preview budget spent") if task.cancelled() else task.result()
                for call, task in tasks.items()}

    async def _ask(self, provider: str, spec: Product, pivot: base.IdentityPivot) -> base.Outcome:
        adapter = self.adapters.get(provider)
        if adapter is None:
            return base.Unavailable(f"{provider}: no adapter configured")
        try:
            call = base.ProductCall(product=spec.key, mode=FRANCE_CONNECT, pivot=pivot,
                                    request_id=request_id_var.get() or "")
            return await adapter.fetch(call)
        except Exception as exc:  # noqa: BLE001 - an adapter bug must not break the screen
            log.error("preview call failed", extra={"provider": provider, "product": spec.key,
                                                     "error": type(exc).__name__})
            return base.Unavailable(f"{provider}: adapter error")


def _provider_preview(provider: str, group: dict[Product | None, list[Scope]],
                      outcomes: dict[tuple[str, str], base.Outcome], en: bool) -> ProviderPreview:
    values: dict[str, list[PreviewValue]] = {}
    found = False
    reason = ""
    for spec, scopes in group.items():
        outcome = outcomes.get((provider, spec.key)) if spec else None
        if isinstance(outcome, base.Found):
            found = True
            data = mask(outcome.data, allowed_tree([s.name for s in scopes], spec.path))
            for scope in scopes:
                values[scope.name] = _readable(scope, data, en)
        elif isinstance(outcome, base.NotFound):
            for scope in scopes:
                values[scope.name] = []
        else:
            reason = reason or (_REASONS.get(type(outcome), "unavailable") if spec
                                else "not_previewable")
    if reason:
        return ProviderPreview(provider, FAILED, {k: v for k, v in values.items() if v}, reason)
    return ProviderPreview(provider, OK, values) if found else \
        ProviderPreview(provider, NOT_FOUND, {})


# -- readable values -------------------------------------------------------------------------

# Nicer labels (French, English) for the usual fields: by full path, then by last segment;
# any other field gets its humanised path ("Identite – nom commune naissance").
_LABELS: dict[str, tuple[str, str]] = {
    "quotient_familial.valeur": ("Quotient familial", "Family quotient"),
    "quotient_familial.fournisseur": ("Organisme", "Paying body"), "annee": ("Année", "Year"),
    "mois": ("Mois", "Month"), "pays": ("Pays", "Country"),
    "annee_calcul": ("Année de calcul", "Year of calculation"),
    "mois_calcul": ("Mois de calcul", "Month of calculation"),
    "allocataires": ("Allocataires", "Beneficiaries"), "enfants": ("Enfants", "Children"),
    "nom_naissance": ("Nom de naissance", "Birth name"), "nom": ("Nom", "Name"),
    "nom_usage": ("Nom d'usage", "Usual name"), "prenoms": ("Prénoms", "Given names"),
    "prenom": ("Prénom", "Given name"), "sexe": ("Sexe", "Sex"),
    "date_naissance": ("Date de naissance", "Date of birth"),
    "nom_commune_naissance": ("Commune de naissance", "Place of birth"),
    "destinataire": ("Destinataire", "Addressee"), "numero_libelle_voie": ("Voie", "Street"),
    "complement_information": ("Complément d'adresse", "Address details"),
    "complement_information_geographique": ("Complément géographique", "Location details"),
    "lieu_dit": ("Lieu-dit", "Locality"), "email": ("Adresse électronique", "Email address"),
    "code_postal_ville": ("Code postal et ville", "Postcode and town"),
    "est_beneficiaire": ("Bénéficiaire", "Beneficiary"), "date_debut_droit": ("Depuis le", "Since"),
    "avec_majoration": ("Avec majoration", "With increase"),
    "avec_participation": ("Avec participation financière", "With a contribution"),
    "est_boursier": ("Boursier", "Grant holder"),
    "echelon_bourse.echelon": ("Échelon de la bourse", "Grant level"),
    "echelon_bourse_regionale_provisoire": ("Échelon provisoire", "Provisional level"),
    "date_rentree": ("Date de rentrée", "Start of the academic year"),
    "duree": ("Durée de versement (mois)", "Payment duration (months)"),
    "nom_commune": ("Ville d'études", "Town of study"),
    "nom_etablissement": ("Établissement", "Institution"),
    "date_debut": ("Date de début", "Start date"), "date_fin": ("Date de fin", "End date"),
    "est_inscrit": ("Inscription", "Enrolled"),
    "regime_formation.code": ("Régime de formation (code)", "Type of education (code)"),
    "regime_formation.libelle": ("Régime de formation", "Type of education"),
    "code_cog_insee_commune": ("Commune (code Insee)", "Town (INSEE code)"),
    "etablissement_etudes.uai": ("Établissement (code UAI)", "Institution (UAI code)"),
    "etablissement_etudes.nom": ("Établissement", "Institution"),
    "rfr": ("Revenu fiscal de référence", "Reference taxable income"),
    "nbPart": ("Nombre de parts", "Tax shares"),
    "sitFam": ("Situation de famille", "Family status"),
    "nbPac": ("Personnes à charge", "Dependants"), "pac": ("Personnes à charge", "Dependants"),
    "pariso": ("Parent isolé", "Single parent"), "aft": ("Adresse fiscale", "Tax address"),
    **{f"{key}{n}": (f"Déclarant {n} – {fr}", f"Filer {n} – {en}") for n in (1, 2)
       for key, fr, en in (("nmUsaDec", "nom d'usage", "usual name"),
                           ("nmNaiDec", "nom de naissance", "birth name"),
                           ("prnmDec", "prénoms", "given names"),
                           ("dateNaisDec", "date de naissance", "date of birth"))},
}
_EUROS = {"quotient_familial.valeur", "rfr", "montant_total", "montant_allocations",
          "montant_aides", "montant_autres"}  # by full path or last segment
# Codes shown as words, by last segment: {code: (fr, en)}.
_CODES: dict[str, dict[str, tuple[str, str]]] = {
    "sitFam": {"M": ("Marié(e)", "Married"), "O": ("Pacsé(e)", "Civil union"),
               "C": ("Célibataire", "Single"), "D": ("Divorcé(e)", "Divorced"),
               "V": ("Veuf ou veuve", "Widowed")},
    "sexe": {"F": ("Féminin", "Female"), "M": ("Masculin", "Male")},
}
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?")
_NBSP = "\u00a0"


def _readable(scope: Scope, data: dict, en: bool) -> list[PreviewValue]:
    """One line per field of ``scope``; one line per item of a list field, numbered."""
    out: list[PreviewValue] = []
    lists: dict[str, list[str]] = {}
    for path in scope.fields:
        head, sep, rest = path.partition("[].")
        if sep:
            lists.setdefault(head, []).append(rest)
        else:
            out.append(PreviewValue(_label(path, en), _format(path, _at(data, path), en)))
    for name, subpaths in lists.items():
        label, items = _label(name, en), data.get(name)
        if not isinstance(items, list) or not items:
            none = ("none" if en else "aucun") if isinstance(items, list) else _missing(en)
            out.append(PreviewValue(label, none))
            continue
        for n, item in enumerate(items, 1):
            parts = [f"{_label(sub, en)} : {_format(sub, _at(item, sub), en)}"
                     for sub in subpaths]
            out.append(PreviewValue(label, f"{n}. " + " ; ".join(parts)))
    return out


def _at(data: Any, path: str) -> Any:
    for part in path.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _label(path: str, en: bool) -> str:
    nice = _LABELS.get(path) or _LABELS.get(path.rsplit(".", 1)[-1])
    if nice:
        return nice[en]
    words = [re.sub(r"(?<=[a-z])(?=[A-Z0-9])", " ", part).replace("_", " ").lower()
             for part in path.replace("[]", "").split(".")]
    return " – ".join(words).capitalize()


def _missing(en: bool) -> str:
    return "not provided" if en else "non renseigné"


def _format(path: str, value: Any, en: bool) -> str:
    key = path.rsplit(".", 1)[-1]
    if value is None or value == "":
        return _missing(en)
    if isinstance(value, bool):
        return ("Yes" if value else "No") if en else ("Oui" if value else "Non")
    if isinstance(value, int | float):
        return _number(value, path in _EUROS or key in _EUROS, en)
    if isinstance(value, str):
        code = _CODES.get(key, {}).get(value)
        return code[en] if code else _date(value, en) or value
    if isinstance(value, list):
        return ", ".join(_format(path, item, en) for item in value) or _missing(en)
    if isinstance(value, dict) and len(value) == 1:
        return _format(str(next(iter(value))), next(iter(value.values())), en)
    if isinstance(value, dict):
        return " ; ".join(f"{_label(k, en)} : {_format(str(k), v, en)}"
                          for k, v in value.items()) or _missing(en)
    return str(value)


def _number(value: float, euros: bool, en: bool) -> str:
    """Amounts grouped by thousands (2 550 €, €2,550); other numbers (years) as they are."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not euros:
        return str(value) if en else str(value).replace(".", ",")
    text = f"{value:,}"
    return f"€{text}" if en else text.replace(",", _NBSP).replace(".", ",") + f"{_NBSP}€"


def _date(text: str, en: bool) -> str | None:
    """ISO dates, presumed parts (``00``) left out: 24/08/1962, 11/1992, 1992 (fr)."""
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    year, month, day = match.groups()
    parts = [p for p in ((day, month, year) if not en else (year, month, day)) if p != "00"]
    if month == "00":
        parts = [year]
    return ("-" if en else "/").join(parts)
