"""Provider values as a citizen reads them: labelled lines in French or English, amounts in
euros, dates written out in the citizen's language (Babel), geographic codes as the names INSEE's
official geographic code gives them, other codes in words or left out beside their label. Used
by the consent screen's data preview and its identity items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from babel import dates

from broker.catalogue import cog
from broker.catalogue.registry import Scope


@dataclass(frozen=True)
class PreviewValue:
    label: str
    value: str


# Nicer labels (French, English) for the usual fields: by full path, last two segments, last one;
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
    "est_radie": ("Bourse retirée (radiation)", "Grant withdrawn"),
    "date_radiation": ("Date de radiation", "Withdrawal date"),
    "status": ("Situation vis-à-vis de l'AEEH", "Situation regarding the AEEH"),
    "nombre_enfants_a_charge": ("Enfants à charge", "Dependent children"),
    "nombre_enfants_beneficiaire_aeeh": ("Enfants bénéficiaires de l'AEEH", "Children with AEEH"),
    "base_ressources_annuelles.valeur": ("Ressources annuelles (€)", "Annual resources (€)"),
    "base_ressources_annuelles.annee_calcul": ("Année des ressources", "Year of the resources"),
    "echelon_bourse.echelon": ("Échelon de la bourse", "Grant level"),
    "echelon_bourse_regionale_provisoire": ("Échelon provisoire", "Provisional level"),
    "date_rentree": ("Date de rentrée", "Start of the academic year"),
    "duree": ("Durée de versement (mois)", "Payment duration (months)"),
    "nom_commune": ("Ville d'études", "Town of study"),
    "nom_etablissement": ("Établissement", "Institution"),
    "date_debut": ("Date de début", "Start date"),
    "date_fin": ("Date de fin", "End date"),
    "est_inscrit": ("Inscription", "Enrolled"),
    "regime_formation.libelle": ("Régime de formation", "Type of education"),
    "categorie.libelle": ("Catégorie d'inscription", "Registration category"),
    "statut_eleve.libelle": ("Statut de l'élève", "Pupil's status"),
    "module_elementaire_formation.libelle": ("Classe ou formation", "Class or course"),
    "code_postal": ("Code postal", "Postcode"),
    "code_cog_insee_commune": ("Commune", "Town"),
    "code_cog_insee_commune_naissance": ("Commune de naissance", "Place of birth"),
    "code_cog_insee_pays_naissance": ("Pays de naissance", "Country of birth"),
    "etablissement_etudes.nom": ("Établissement", "Institution"),
    "etablissement.code_uai": ("Numéro de l'établissement scolaire", "School's reference number"),
    "code_ministere_tutelle": ("Ministère de tutelle", "Supervising ministry"),
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
    "statut_service_national": ("Situation au regard du service national", "National service"),
    "commentaires": ("Remarques", "Remarks"),
    "statut_actuel.contrat_trouve": ("Service civique en cours", "Civic service now"),
    "statut_passe.contrat_trouve": ("Service civique passé", "Past civic service"),
    "organisme_accueil.raison_sociale": ("Organisme d'accueil", "Host organisation"),
    "date_debut_contrat": ("Début du contrat", "Start of the contract"),
    "date_fin_contrat": ("Fin du contrat", "End of the contract"),
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
    "statut_service_national": {
        "en_regle": ("En règle", "In order"),
        "pas_en_regle": ("Pas en règle", "Not in order"),
        "indetermine": ("Pas encore connue", "Not known yet"),
        "non_concerne": ("Personne non concernée", "Not concerned"),
    },
    # The ministries of the national school directory (BCE) that run schools.
    "code_ministere_tutelle": {"06": ("Éducation nationale", "National Education")},
}
# A code left out when its own label is among the scope's fields (the label says it in words):
# by last segment of the code -> last segments of the label beside it.
_LABELLED_CODES = {
    "code": ("libelle",),
    "uai": ("nom",),
    "siret": ("raison_sociale",),
    "code_mef_stat": ("libelle",),
}
_COMMUNES = {"code_cog_insee_commune", "code_cog_insee_commune_naissance"}
_COUNTRIES = {"code_cog_insee_pays", "code_cog_insee_pays_naissance"}
_BIRTH_DATES = ("date_naissance", "dateNaissance")
_MONTHS = {"mois", "mois_calcul"}
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?")
_NBSP = "\u00a0"
_DAY_PATTERN = "d MMMM y"  # 24 août 1962 / 24 August 1962, as the broker's pages write days


def readable_values(
    scope: Scope, data: dict, en: bool, fields: tuple[str, ...] | None = None
) -> list[PreviewValue]:
    """One line per field of ``scope`` (or ``fields``, those of the product version asked);
    one line per item of a list field, numbered."""
    out: list[PreviewValue] = []
    lists: dict[str, list[str]] = {}
    for path in _shown(scope.fields if fields is None else fields):
        head, sep, rest = path.partition("[].")
        if sep:
            lists.setdefault(head, []).append(rest)
        else:
            value = _format(path, _at(data, path), en, _at(data, _parent(path)))
            out.append(PreviewValue(_label(path, en), value))
    for name, subpaths in lists.items():
        label, items = _label(name, en), data.get(name)
        if not isinstance(items, list) or not items:
            none = ("none" if en else "aucun") if isinstance(items, list) else _missing(en)
            out.append(PreviewValue(label, none))
            continue
        for n, item in enumerate(items, 1):
            parts = [
                f"{_label(sub, en)} : {_format(sub, _at(item, sub), en, _at(item, _parent(sub)))}"
                for sub in subpaths
            ]
            out.append(PreviewValue(label, f"{n}. " + " ; ".join(parts)))
    return out


def _shown(paths: tuple[str, ...] | list[str]) -> list[str]:
    """The fields worth a line: a code goes when its label in words is there too."""
    present = set(paths)
    kept = []
    for path in paths:
        parent, _, leaf = path.rpartition(".")
        labels = _LABELLED_CODES.get(leaf, ())
        if any((f"{parent}.{label}" if parent else label) in present for label in labels):
            continue
        kept.append(path)
    return kept


def _parent(path: str) -> str:
    return path.rpartition(".")[0]


def _at(data: Any, path: str) -> Any:
    if not path:
        return data
    for part in path.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _label(path: str, en: bool) -> str:
    parts = path.split(".")
    nice = _LABELS.get(path) or _LABELS.get(".".join(parts[-2:])) or _LABELS.get(parts[-1])
    if nice:
        return nice[en]
    words = [
        re.sub(r"(?<=[a-z])(?=[A-Z0-9])", " ", part).replace("_", " ").lower()
        for part in path.replace("[]", "").split(".")
    ]
    return " – ".join(words).capitalize()


def _missing(en: bool) -> str:
    return "not provided" if en else "non renseigné"


def _format(path: str, value: Any, en: bool, record: Any = None) -> str:
    """``record``: the object holding the field, for a birthplace's date of birth."""
    key = path.rsplit(".", 1)[-1]
    if value is None or value == "":
        return _missing(en)
    if isinstance(value, bool):
        return ("Yes" if value else "No") if en else ("Oui" if value else "Non")
    if key in _MONTHS and isinstance(value, int) and 1 <= value <= 12:
        return dates.get_month_names("wide", locale="en" if en else "fr")[value]
    if isinstance(value, int | float):
        return _number(value, path in _EUROS or key in _EUROS, en)
    if isinstance(value, str) and key in _COMMUNES:
        on = _birth_date_in(record) if key.endswith("_naissance") else None
        return readable_commune(value, en, on)
    if isinstance(value, str) and key in _COUNTRIES:
        return readable_country(value, en)
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


def _birth_date_in(record: Any) -> date | None:
    if not isinstance(record, dict):
        return None
    born = next((record[k] for k in _BIRTH_DATES if isinstance(record.get(k), str)), None)
    return birth_day(born) if born else None


def _number(value: float, euros: bool, en: bool) -> str:
    """Amounts grouped by thousands (2 550 €, €2,550); other numbers (years) as they are."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not euros:
        return str(value) if en else str(value).replace(".", ",")
    text = f"{value:,}"
    return f"€{text}" if en else text.replace(",", _NBSP).replace(".", ",") + f"{_NBSP}€"


def readable_date(text: str, en: bool) -> str | None:
    """An ISO date written out, presumed parts (``00``) left out: 24 août 1962, novembre 1992,
    1992 (24 August 1962, November 1992 in English). None: not a date."""
    match = _DATE.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day = (int(part) for part in match.groups())
    locale = "en" if en else "fr"
    try:
        if month == 0:
            return str(date(year, 1, 1).year)
        if day == 0:
            return dates.format_skeleton("yMMMM", date(year, month, 1), locale=locale)
        return dates.format_date(date(year, month, day), _DAY_PATTERN, locale=locale)
    except ValueError:  # 2025-02-30, year 0000
        return None


def birth_day(text: str) -> date | None:
    """The day to read the geographic code at: the first day of the known part of a presumed
    date (1992-11-00: 1 November 1992). None: no date."""
    match = _DATE.fullmatch(text.strip())
    if match is None:
        return None
    year, month, day = (int(part) for part in match.groups())
    try:
        return date(year, month or 1, day or 1)
    except ValueError:
        return None


def readable_commune(code: str, en: bool, on: date | None = None) -> str:
    """A commune's name on ``on`` (its current name when None); an unknown code is said to be
    one, never shown as if it were a name."""
    name = cog.commune_name(code, on) if cog.COMMUNE_CODE.fullmatch(code.strip().upper()) else None
    if name:
        return name
    return f"unknown town (code {code})" if en else f"commune inconnue (code {code})"


def readable_country(code: str, en: bool) -> str:
    name = cog.country_name(code, "en" if en else "fr")
    if name:
        return name
    return f"unknown country (code {code})" if en else f"pays inconnu (code {code})"
