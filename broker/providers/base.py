"""The contract between the resource server and the data-provider adapters.

The resource server resolves *who* (an identity pivot, or an identifier such as an INE)
and *what* (a product), then asks the provider's adapter. The adapter talks to its data
provider over HTTP and answers with one typed outcome; it never raises for an ordinary
provider failure (timeouts, outages and maintenance windows are outcomes, not exceptions).
``Found.data`` is the whole API Particulier v3 ``data`` object of the product; the
resource server masks it by scope before anything leaves.

Standard library only: no framework or ORM imports.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class ProviderPivot:
    """The identity data providers match on (FranceConnect's pivot, API Particulier's names).

    ``birthdate`` is ``YYYY-MM-DD``, or ``YYYY-MM-00`` / ``YYYY-00-00`` when presumed, or
    ``YYYY-MM-00``/``YYYY-00-00`` when the caller gave only part of it (API-key mode makes
    the day and the month optional). ``birthplace`` is a COG commune code ("" when born
    abroad or unknown); ``birthcountry`` a COG country code ("99100" for France).
    """

    family_name: str
    given_names: tuple[str, ...]
    gender: str  # "F" | "M" (sexeEtatCivil)
    birthdate: str
    birthcountry: str
    birthplace: str = ""
    usage_name: str = ""


@dataclass(frozen=True)
class ProductCall:
    """One call of one product: the subject and the product's own parameters."""

    product: str  # catalogue key, e.g. "dss/quotient_familial"
    mode: str  # "france_connect" | "identite" | "ine" | "identifiant"
    pivot: ProviderPivot | None = None  # france_connect and identite modes
    identifier: str | None = None  # ine / identifiant modes
    params: dict[str, str] = field(default_factory=dict)  # e.g. {"annee": "2026", "mois": "10"}
    request_id: str = ""  # forwarded to the provider for correlation, never personal data


# -- outcomes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    data: dict


@dataclass(frozen=True)
class NotFound:
    detail: str


@dataclass(frozen=True)
class InvalidInput:
    detail: str
    parameter: str | None = None  # the API Particulier query parameter at fault
    excludes: str = ""  # the parameter ``parameter`` may not be given with, when that is the fault


@dataclass(frozen=True)
class Timeout:
    detail: str


@dataclass(frozen=True)
class Unavailable:
    detail: str  # connection refused, 5xx, circuit open
    unreachable: bool = False  # no connection to the provider at all (refused, reset)


@dataclass(frozen=True)
class Maintenance:
    retry_in: int  # seconds
    detail: str = ""


@dataclass(frozen=True)
class UnexpectedPayload:
    detail: str  # what did not match the provider's documented shape (no personal data)


Outcome = Found | NotFound | InvalidInput | Timeout | Unavailable | Maintenance | UnexpectedPayload


class Adapter(Protocol):
    # Read-only, so that a class attribute (``ProviderAdapter.provider``) satisfies it.
    @property
    def provider(self) -> str:
        """DataProvider.key in broker.catalogue.scopes."""
        ...

    async def fetch(self, call: ProductCall) -> Outcome: ...

    async def ping(self) -> Outcome:
        """Provider health: ``Found({})`` when up, otherwise the failure outcome."""
        ...


@dataclass(frozen=True)
class ProviderConfig:
    """How to reach one provider: from settings, one per provider."""

    base_url: str
    connect_timeout: float = 1.0
    read_timeout: float = 5.0
    retries: int = 1  # extra attempts, idempotent transient failures only
    breaker_failures: int = 5  # consecutive failures that open the circuit
    breaker_reset: float = 30.0  # seconds before one trial call is let through
    credentials: str = ""  # bearer credential the provider expects, if any
