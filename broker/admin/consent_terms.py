"""The rules of a habilitation's consent terms (optional items, mode, duration), for the
command line and the portal's requests alike."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from broker.admin.client_profile import AdminError
from broker.oidc.models import ConsentMode

MAX_CONSENT_DAYS = 365  # recurring consents last at most 12 months
CONSENT_MODES = tuple(ConsentMode)


class ConsentTermsError(AdminError):
    """Consent terms that break a rule; ``rule`` names it for callers that word it their own
    way (the portal's forms, in French): one of :data:`CONSENT_RULES`."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


CONSENT_RULES = (
    "optional_not_among_scopes",
    "all_optional",
    "unknown_mode",
    "days_with_one_time",
    "days_out_of_range",
)


@dataclass(frozen=True)
class ConsentTerms:
    optional_scopes: list[str]
    consent_days: int | None  # recurring: how long; one-time: None


def consent_terms(
    scopes: Sequence[str], optional_scopes: Iterable[str], mode: str, days: int | None
) -> ConsentTerms:
    """The rules of a habilitation's consent terms, for the command line and the portal alike:
    optional items among the scopes and not all of them, a known mode, a duration (default
    and maximum 365 days) for recurring consents only."""
    optional = list(dict.fromkeys(optional_scopes))
    if stray := [s for s in optional if s not in scopes]:
        raise ConsentTermsError(
            "optional_not_among_scopes",
            "--optional-scopes must be among --scopes: " + " ".join(stray),
        )
    if set(optional) == set(scopes):
        raise ConsentTermsError(
            "all_optional", "at least one scope must be required (not all can be optional)"
        )
    if mode not in CONSENT_MODES:
        raise ConsentTermsError(
            "unknown_mode", f"--consent must be one of {', '.join(CONSENT_MODES)}"
        )
    if mode == ConsentMode.ONE_TIME:
        if days is not None:
            raise ConsentTermsError(
                "days_with_one_time", "--consent-days applies to recurring consents only"
            )
        return ConsentTerms(optional, None)
    days = MAX_CONSENT_DAYS if days is None else days
    if not 1 <= days <= MAX_CONSENT_DAYS:
        raise ConsentTermsError(
            "days_out_of_range", f"--consent-days must be between 1 and {MAX_CONSENT_DAYS}"
        )
    return ConsentTerms(optional, days)
