"""The demo service's words, French first, with their English.

The demo service is a relying party of its own, not a page of the broker: it keeps its few
words here rather than in the broker's catalogues. Templates call ``_("…")``; Python marks
its messages with :func:`N_` and they are translated when shown. Placeholders are
``%(name)s``. ``tests/broker/demo/test_online_service_texts.py`` checks that every message has
its English."""

from __future__ import annotations

from collections.abc import Callable

Translate = Callable[..., str]


def N_(message: str) -> str:  # noqa: N802 - the usual name of a gettext marker
    """Marks a message to translate when it is shown."""
    return message


ENGLISH = {
    # layout
    "Mairie de Villebourg": "Villebourg Town Hall",
    "Aller au contenu": "Skip to content",
    "Restauration scolaire": "School meals",
    "Langue": "Language",
    "Service de démonstration : aucune donnée réelle.": "Demonstration service: no real data.",
    # the prices and the grid
    "Tarifs de la cantine": "Canteen prices",
    "Tarifs de la cantine scolaire": "School canteen prices",
    "Le prix du repas dépend du quotient familial de votre foyer.": (
        "The price of a meal depends on your household's family quotient."
    ),
    "Sans quotient familial, c'est le tarif plein :": (
        "Without a family quotient, you pay the full price:"
    ),
    "Plutôt que d'envoyer des justificatifs, connectez-vous. Avec votre accord, la mairie "
    "reçoit votre quotient familial de la CAF, et vous payez le prix de votre tranche.": (
        "Rather than sending documents, sign in. With your consent, the town hall receives your "
        "family quotient from the CAF, and you pay the price of your band."
    ),
    "Vous pouvez aussi apporter votre attestation de quotient familial à l'accueil de la "
    "mairie.": "You can also bring your family quotient certificate to the town hall's front desk.",
    "Se connecter avec le courtier de consentement": "Sign in with the consent broker",
    "Les tarifs": "The prices",
    "Prix d'un repas selon le quotient familial": "Price of a meal by family quotient",
    "Quotient familial": "Family quotient",
    "Prix du repas": "Price of a meal",
    "votre tranche": "your band",
    "jusqu'à %(high)s": "up to %(high)s",
    "de %(low)s à %(high)s": "%(low)s to %(high)s",
    "à partir de %(low)s": "%(low)s and above",
    "quotient familial non communiqué": "family quotient not shared",
    "Le quotient familial est calculé par la CAF (ou la MSA) à partir des revenus et de la "
    "composition du foyer.": (
        "The family quotient is worked out by the CAF (or the MSA) from the household's income "
        "and who lives in it."
    ),
    # the signed-in citizen's page
    "Votre tarif": "Your price",
    "Bonjour %(name)s": "Hello %(name)s",
    "Vous êtes connecté(e) au service de la cantine.": "You are signed in to the canteen service.",
    "Votre accord": "Your consent",
    "Données actualisées le %(date)s à %(time)s.": "Data refreshed on %(date)s at %(time)s.",
    "L'API de données a refusé de répondre": "The data API refused to answer",
    "Si vous avez retiré votre accord, la mairie ne reçoit plus vos informations : "
    "reconnectez-vous pour le donner à nouveau.": (
        "If you withdrew your consent, the town hall no longer receives your information: sign "
        "in again to give it again."
    ),
    "Votre quotient familial :": "Your family quotient:",
    "Prix du repas :": "Price of a meal:",
    "tranche %(band)s": "band %(band)s",
    "Sans votre quotient familial, le repas coûterait %(full)s (tarif plein). Vous payez "
    "%(saving)s de moins par repas.": (
        "Without your family quotient, a meal would cost %(full)s (full price). You pay "
        "%(saving)s less per meal."
    ),
    "Votre quotient familial est dans la tranche la plus haute : c'est le tarif plein.": (
        "Your family quotient is in the highest band: you pay the full price."
    ),
    "tarif plein": "full price",
    "Votre quotient familial n'a pas été transmis.": "Your family quotient was not shared.",
    "Votre quotient familial n'a pas pu être lu.": "Your family quotient could not be read.",
    "Le service n'est pas relié à l'API de données.": "The service is not linked to the data API.",
    "L'API de données ne répond pas. Réessayez plus tard.": (
        "The data API does not answer. Try again later."
    ),
    "Allocataires du dossier CAF": "Beneficiaries of the CAF file",
    "né(e) le %(date)s": "born on %(date)s",
    "Aucun allocataire transmis.": "No beneficiary shared.",
    "Adresse connue de la CAF": "Address known to the CAF",
    "Informations reçues de l'administration": "Information received from the administration",
    "Niveau d'authentification": "Authentication level",
    "faible (eIDAS 1)": "low (eIDAS 1)",
    "substantiel (eIDAS 2)": "substantial (eIDAS 2)",
    "élevé (eIDAS 3)": "high (eIDAS 3)",
    "non précisé": "not stated",
    "Prénoms": "Given names",
    "Nom de naissance": "Birth name",
    "Nom d'usage": "Usual name",
    "Sexe": "Sex",
    "féminin": "female",
    "masculin": "male",
    "Date de naissance": "Date of birth",
    "Lieu de naissance": "Place of birth",
    "Pays de naissance": "Country of birth",
    "Adresse électronique": "Email address",
    "Votre identifiant pour ce service": "Your identifier for this service",
    "Actualiser mes données": "Refresh my data",
    "Voir ou retirer mon accord, dans l'espace du courtier": (
        "See or withdraw my consent, in the broker's space"
    ),
    "Se déconnecter": "Sign out",
    # the consent events the broker sent
    "votre quotient familial": "your family quotient",
    "l'identité des allocataires": "the beneficiaries' identity",
    "votre adresse connue de la CAF": "your address known to the CAF",
    "Vous avez retiré votre accord pour %(items)s le %(date)s à %(time)s.": (
        "You withdrew your consent for %(items)s on %(date)s at %(time)s."
    ),
    "Votre accord est arrivé à échéance le %(date)s à %(time)s.": (
        "Your consent expired on %(date)s at %(time)s."
    ),
    "Votre accord a été retiré le %(date)s à %(time)s.": (
        "Your consent was withdrawn on %(date)s at %(time)s."
    ),
    # problems
    "Code :": "Code:",
    "Retour à l'accueil": "Back to the home page",
    "Session inconnue": "Unknown session",
    "Cette réponse ne correspond à aucune connexion en cours.": (
        "This answer does not match any sign-in in progress."
    ),
    "Émetteur inattendu": "Unexpected issuer",
    "La réponse ne vient pas du courtier attendu (RFC 9207).": (
        "The answer does not come from the expected broker (RFC 9207)."
    ),
    "Réponse incohérente": "Inconsistent answer",
    "Les informations reçues ne concernent pas la même personne.": (
        "The information received is not about the same person."
    ),
    "Session expirée": "Session expired",
    "Reconnectez-vous pour consulter vos informations.": "Sign in again to see your information.",
    "Connexion refusée": "Sign-in refused",
    "Connexion impossible": "Sign-in failed",
    "Vous n'avez pas donné votre accord : aucune donnée n'a été transmise.": (
        "You did not give your consent: no data was shared."
    ),
    "Le courtier a signalé une erreur.": "The broker reported an error.",
    "L'échange avec le courtier a échoué.": "The exchange with the broker failed.",
}


def translator(code: str) -> Translate:
    """``_(message, **values)`` for the language ``code``: French is the message itself."""
    table = ENGLISH if code == "en" else {}

    def translate(message: str, **values: object) -> str:
        text = table.get(message, message)
        return text % values if values else text

    return translate
