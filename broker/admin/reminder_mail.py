"""The words of the expiry reminder: French first, English below (agents of any language
receive the same email), dates written out by Babel in Paris time."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel import dates

PARIS = ZoneInfo("Europe/Paris")
MOMENT = {"fr": "d MMMM y 'à' HH:mm", "en": "d MMMM y 'at' HH:mm"}
DAY = {"fr": "d MMMM y", "en": "d MMMM y"}


def written_date(epoch_seconds: int, locale: str, *, with_time: bool = False) -> str:
    moment = datetime.fromtimestamp(epoch_seconds, PARIS)
    if with_time:
        return dates.format_datetime(moment, MOMENT[locale], locale=locale)
    return dates.format_date(moment.date(), DAY[locale], locale=locale)


def one_line(text: str) -> str:
    """A name as it may appear in a subject: whitespace (line breaks too) made single spaces."""
    return " ".join(text.split())


def reminder_email(
    *, service: str, purpose: str, expires_at: int, days_left: int, link: str
) -> tuple[str, str]:
    """(subject, body) of the reminder sent ``days_left`` days before ``expires_at``."""
    name = one_line(service)
    day_fr, day_en = written_date(expires_at, "fr"), written_date(expires_at, "en")
    moment_fr = written_date(expires_at, "fr", with_time=True)
    moment_en = written_date(expires_at, "en", with_time=True)
    days_fr = "1 jour" if days_left == 1 else f"{days_left} jours"
    days_en = "1 day" if days_left == 1 else f"{days_left} days"
    subject = (
        f"Habilitation « {name} » : expire le {day_fr} / Habilitation “{name}” expires on {day_en}"
    )
    body = f"""Bonjour,

L'habilitation du service « {name} » expire le {moment_fr} (heure de Paris), dans {days_fr}.

Finalité : {purpose}

Pour la renouveler, ouvrez-la sur le portail des opérateurs et déposez une nouvelle version de \
la demande ; l'habilitation en cours reste valable jusqu'à la décision :
{link}

Sans renouvellement, les jetons et les clés d'API de cette habilitation cesseront de \
fonctionner à cette date.

--------------------------------------------------------------------------------

Hello,

The habilitation of the service “{name}” expires on {moment_en} (Paris time), in {days_en}.

Purpose: {purpose}

To renew it, open it on the operators' portal and file a new version of the request; the \
current habilitation stays valid until the decision:
{link}

Without renewal, the tokens and API keys of this habilitation will stop working on that date.
"""
    return subject, body
