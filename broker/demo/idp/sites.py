"""The demo identity providers one process serves, each under its own issuer path: two for
citizens (federated by the broker, as FranceConnect's providers are), and one for public agents
(the operators' portal's, as ProConnect)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol


class DemoAccount(Protocol):
    """A test account: a citizen (broker.demo.citizens) or an agent (broker.demo.agents)."""

    @property
    def login(self) -> str: ...
    @property
    def password(self) -> str: ...
    @property
    def given_name(self) -> str: ...
    @property
    def family_name(self) -> str: ...
    @property
    def acr(self) -> str: ...
    @property
    def case(self) -> str: ...


# Claim -> the scopes that release it (each read from the account's attribute of that name).
CITIZEN_CLAIMS: dict[str, tuple[str, ...]] = {
    "given_name": ("given_name", "profile"),
    "family_name": ("family_name", "profile"),
    "preferred_username": ("preferred_username", "profile"),
    "birthdate": ("birthdate", "profile", "birth"),
    "gender": ("gender", "profile"),
    "birthplace": ("birthplace", "birth"),
    "birthcountry": ("birthcountry", "birth"),
    "email": ("email",),
}
# ProConnect's claims for public agents.
AGENT_CLAIMS: dict[str, tuple[str, ...]] = {
    "email": ("email",),
    "given_name": ("given_name",),
    "usual_name": ("usual_name",),
    "siret": ("siret",),
    "organizational_unit": ("organizational_unit",),
}


@dataclass(frozen=True)
class DemoSite:
    key: str  # the issuer's path, and the provider's slug in the broker's registry
    label: str
    acr_values: tuple[str, ...]  # the levels this provider can reach
    second_factor: bool  # a one-time code after the password
    signed_userinfo: bool  # userinfo as a signed JWT (application/jwt), as FranceConnect v2
    population: Literal["citizens", "agents"] = "citizens"

    @property
    def claims(self) -> dict[str, tuple[str, ...]]:
        return AGENT_CLAIMS if self.population == "agents" else CITIZEN_CLAIMS

    def reached_acr(self, account: DemoAccount) -> str | None:
        """The level this account's sign-in reaches here; None: this provider cannot
        authenticate them (no strengthened identity)."""
        if account.acr in self.acr_values:
            return account.acr
        return self.acr_values[0] if not self.second_factor else None


DEMO = DemoSite("identite-demo", "Identité démo", ("eidas1",), False, False)
DEMO_STRONG = DemoSite(
    "identite-demo-renforcee", "Identité démo renforcée", ("eidas2", "eidas3"), True, True
)
AGENTS_DEMO = DemoSite(
    "agents-demo", "Identité agents (démo)", ("eidas1",), False, False, population="agents"
)
# The citizens' providers: the broker registers these (broker.demo.idp.registration).
SITES = {site.key: site for site in (DEMO, DEMO_STRONG)}
# Every provider the process serves.
ALL_SITES = {**SITES, AGENTS_DEMO.key: AGENTS_DEMO}
