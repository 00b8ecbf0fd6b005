"""The two demo identity providers one process serves, each under its own issuer path."""

from __future__ import annotations

from dataclasses import dataclass

from broker.demo.citizens import DemoCitizen


@dataclass(frozen=True)
class DemoSite:
    key: str  # the issuer's path, and the provider's slug in the broker's registry
    label: str
    acr_values: tuple[str, ...]  # the levels this provider can reach
    second_factor: bool  # a one-time code after the password
    signed_userinfo: bool  # userinfo as a signed JWT (application/jwt), as FranceConnect v2

    def reached_acr(self, citizen: DemoCitizen) -> str | None:
        """The level this citizen's sign-in reaches here; None: this provider cannot
        authenticate them (no strengthened identity)."""
        if citizen.acr in self.acr_values:
            return citizen.acr
        return self.acr_values[0] if not self.second_factor else None


DEMO = DemoSite("identite-demo", "Identité démo", ("eidas1",), False, False)
DEMO_STRONG = DemoSite(
    "identite-demo-renforcee", "Identité démo renforcée", ("eidas2", "eidas3"), True, True
)
SITES = {site.key: site for site in (DEMO, DEMO_STRONG)}
