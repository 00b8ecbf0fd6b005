"""Provider values as a citizen reads them: labelled lines in French or English, amounts in
euros, dates and codes written out. Used by the consent screen's data preview.

Standard library only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from broker.catalogue.registry import Scope


@dataclass(frozen=True)
class PreviewValue:
    label: str
    value: str


# Nicer labels (French, English) for the usual fields: by full path, then by last segment;
# any other field gets its humanised path ("Identite – nom commune naissance").
_LABELS: dict[str, tuple[str, str]] = {
    "quotient_familial.valeur": ("Quotient familial", "Family quotient"),
    "quotient_familial.fournisseur": ("Organisme", "Paying body"),
    "annee": ("Année", "Year"),
    "mois": ("Mois", "Month"),
    "pays": ("Pays", "Country"),
    "annee_calcul": ("Année de calcul", "Year of calculation"),
    "mois_calcul": ("Mois de calcul", "Month of calculation"),
    "allocataires": ("Allocataires", "Beneficiaries"),
    "enfants": ("Enfants", "Children"),
    "nom_naissance": ("Nom de naissance", "Birth name"),
    "nom": ("Nom", "Name"),
    "nom_usage": ("Nom d'usage", "Usual name"),
    "prenoms": ("Prénoms", "Given names"),
    "prenom": ("Prénom", "Given name"),
    "sexe": ("Sexe", "Sex"),
    "date_naissance": ("Date de naissance", "Date of birth"),
    "nom_commune_naissance": ("Commune de naissance", "Place of birth"),
    "destinataire": ("Destinataire", "Addressee"),
    "numero_libelle_voie": ("Voie", "Street"),
    "complement_information": ("Complément d'adresse", "Address details"),
    "complement_information_geographique": ("Complément géographique", "Location details"),
    "lieu_dit": ("Lieu-dit", "Locality"),
    "email": ("Adresse électronique", "Email address"),
    "code_postal_ville": ("Code postal et ville", "Postcode and town"),
    "est_beneficiaire": ("Bénéficiaire", "Beneficiary"),
    "date_debut_droit": ("Depuis le", "Since"),
    "avec_majoration": ("Avec majoration", "With increase"),
    "avec_participation": ("Avec participation financière", "With a contribution"),
    "est_boursier": ("Boursier", "Grant holder"),
    "echelon_bourse.echelon": ("Échelon de la bourse", "Grant level"),
    "echelon_bourse_regionale_provisoire": ("Échelon provisoire", "Provisional level"),
    "date_rentree": ("Date de rentrée", "Start of the academic year"),
    "duree": ("Durée de versement (mois)", "Payment duration (months)"),
    "nom_commune": ("Ville d'études", "Town of study"),
    "nom_etablissement": ("Établissement", "Institution"),
    "date_debut": ("Date de début", "Start date"),
    "date_fin": ("Date de fin", "End date"),
    "est_inscrit": ("Inscription", "Enrolled"),
    "regime_formation.code": ("Régime de formation (code)", "Type of education (code)"),
    "regime_formation.libelle": ("Régime de formation", "Type of education"),
    "code_cog_insee_commune": ("Commune (code Insee)", "Town (INSEE code)"),
    "etablissement_etudes.uai": ("Établissement (code UAI)", "Institution (UAI code)"),
    "etablissement_etudes.nom": ("Établissement", "Institution"),
    "rfr": ("Revenu fiscal de référence", "Reference taxable income"),
    "nbPart": ("Nombre de parts", "Tax shares"),
    "sitFam": ("Situation de famille", "Family status"),
    "nbPac": ("Personnes à charge", "Dependants"),
    "pac": ("Personnes à charge", "Dependants"),
    "pariso": ("Parent isolé", "Single parent"),
    "aft": ("Adresse fiscale", "Tax address"),
    **{
        f"{key}{n}": (f"Déclarant {n} – {fr}", f"Filer {n} – {en}")
        for n in (1, 2)
        for key, fr, en in (
            ("nmUsaDec", "nom d'usage", "usual name"),
            ("nmNaiDec", "nom de naissance", "birth name"),
            ("prnmDec", "prénoms", "given names"),
            ("dateNaisDec", "date de naissance", "date of birth"),
        )
    },
}
_EUROS = {
    "quotient_familial.valeur",
    "rfr",
    "montant_total",
    "montant_allocations",
    "montant_aides",
    "montant_autres",
}  # by full path or last segment
# Codes shown as words, by last segment: {code: (fr, en)}.
_CODES: dict[str, dict[str, tuple[str, str]]] = {
    "sitFam": {
        "M": ("Marié(e)", "Married"),
        "O": ("Pacsé(e)", "Civil union"),
        "C": ("Célibataire", "Single"),
        "D": ("Divorcé(e)", "Divorced"),
        "V": ("Veuf ou veuve", "Widowed"),
    },
    "sexe": {"F": ("Féminin", "Female"), "M": ("Masculin", "Male")},
}
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?")
_NBSP = "\u00a0"


def readable_values(scope: Scope, data: dict, en: bool) -> list[PreviewValue]:
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
            parts = [f"{_label(sub, en)} : {_format(sub, _at(item, sub), en)}" for sub in subpaths]
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
    words = [
        re.sub(r"(?<=[a-z])(?=[A-Z0-9])", " ", part).replace("_", " ").lower()
        for part in path.replace("[]", "").split(".")
    ]
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
        return code[en] if code else readable_date(value, en) or value
    if isinstance(value, list):
        return ", ".join(_format(path, item, en) for item in value) or _missing(en)
    if isinstance(value, dict) and len(value) == 1:
        return _format(str(next(iter(value))), next(iter(value.values())), en)
    if isinstance(value, dict):
        return " ; ".join(
            f"{_label(k, en)} : {_format(str(k), v, en)}" for k, v in value.items()
        ) or _missing(en)
    return str(value)


def _number(value: float, euros: bool, en: bool) -> str:
    """Amounts grouped by thousands (2 550 €, €2,550); other numbers (years) as they are."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not euros:
        return str(value) if en else str(value).replace(".", ",")
    text = f"{value:,}"
    return f"€{text}" if en else text.replace(",", _NBSP).replace(".", ",") + f"{_NBSP}€"


def readable_date(text: str, en: bool) -> str | None:
    """ISO dates, presumed parts (``00``) left out: 24/08/1962, 11/1992, 1992 (fr)."""
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    year, month, day = match.groups()
    parts = [p for p in ((day, month, year) if not en else (year, month, day)) if p != "00"]
    if month == "00":
        parts = [year]
    return ("-" if en else "/").join(parts)
