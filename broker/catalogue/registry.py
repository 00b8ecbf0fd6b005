"""The scope registry's types: data providers, scopes, and the validated, ordered registry
(``broker.catalogue.scopes`` declares the broker's own, :data:`REGISTRY`).

Standard library only: no framework imports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

IDENTITY = "identity"
DATA = "data"

# Claims that every ID token may carry, whatever the scopes (OIDC Core 2).
_PROTOCOL_CLAIMS = ("sub", "acr", "amr", "auth_time", "idp", "iss", "aud", "exp", "iat", "nonce")


@dataclass(frozen=True)
class DataProvider:
    key: str
    name_fr: str
    name_en: str
    short_name: str


@dataclass(frozen=True)
class Scope:
    name: str
    label_fr: str
    label_en: str
    kind: str  # IDENTITY or DATA
    provider: str | None  # DataProvider.key for data scopes; None for identity scopes
    claims: tuple[str, ...] = ()  # identity scopes: OIDC claims released at userinfo
    fields: tuple[str, ...] = ()  # data scopes: API Particulier v3 response fields
    products: tuple[str, ...] = ()  # data scopes: API Particulier v3 product paths


class ScopeRegistry:
    """An ordered, validated, read-only set of scopes and their providers."""

    def __init__(self, providers: Iterable[DataProvider], scopes: Iterable[Scope]) -> None:
        self._providers: dict[str, DataProvider] = {}
        for p in providers:
            if p.key in self._providers:
                raise ValueError(f"duplicate provider {p.key!r}")
            self._providers[p.key] = p
        self._scopes: dict[str, Scope] = {}
        for s in scopes:
            self._check(s)
            self._scopes[s.name] = s

    def _check(self, s: Scope) -> None:
        if s.name in self._scopes:
            raise ValueError(f"duplicate scope {s.name!r}")
        if not s.label_fr.strip() or not s.label_en.strip():
            raise ValueError(f"scope {s.name!r} needs a French and an English label")
        if s.kind == IDENTITY:
            if s.provider is not None or not s.claims or s.fields or s.products:
                raise ValueError(f"identity scope {s.name!r}: claims only, no provider")
        elif s.kind == DATA:
            if s.provider not in self._providers:
                raise ValueError(f"data scope {s.name!r}: unknown provider {s.provider!r}")
            if s.claims or not s.fields or not s.products:
                raise ValueError(f"data scope {s.name!r}: needs fields and products, no claims")
        else:
            raise ValueError(f"scope {s.name!r}: unknown kind {s.kind!r}")

    # -- look-ups ---------------------------------------------------------

    def get(self, name: str) -> Scope | None:
        return self._scopes.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._scopes

    def names(self) -> list[str]:
        """All scope names in registry order (identity first): ``scopes_supported``."""
        return list(self._scopes)

    def identity_scopes(self) -> list[Scope]:
        return [s for s in self._scopes.values() if s.kind == IDENTITY]

    def data_scopes(self) -> list[Scope]:
        return [s for s in self._scopes.values() if s.kind == DATA]

    def providers(self) -> list[DataProvider]:
        return list(self._providers.values())

    def provider(self, key: str) -> DataProvider:
        """The provider with that key; ``KeyError`` if there is none."""
        return self._providers[key]

    # -- claims -----------------------------------------------------------

    def claims_for(self, scopes: Iterable[str]) -> set[str]:
        """Identity claims released for these scopes; ``sub`` always. Others ignored."""
        claims = {"sub"}
        for name in scopes:
            s = self._scopes.get(name)
            if s is not None and s.kind == IDENTITY:
                claims.update(s.claims)
        return claims

    def claims_supported(self) -> list[str]:
        """Every identity claim, then the protocol claims: ``claims_supported``."""
        out = ["sub"]
        for s in self.identity_scopes():
            out.extend(c for c in s.claims if c not in out)
        out.extend(c for c in _PROTOCOL_CLAIMS if c not in out)
        return out

    # -- requests ---------------------------------------------------------

    def unknown(self, scopes: Iterable[str]) -> list[str]:
        """Requested names that are not in the registry, in request order, once each."""
        out: list[str] = []
        for name in scopes:
            if name not in self._scopes and name not in out:
                out.append(name)
        return out

    def group_by_provider(
        self, scopes: Iterable[str]
    ) -> list[tuple[DataProvider | None, list[Scope]]]:
        """Requested scopes grouped for the consent screen.

        Identity scopes come first under ``None`` (without ``openid``, which has
        nothing to show), then one group per data provider, in registry order.
        Within a group scopes follow registry order. Unknown names, duplicates
        and empty groups are left out.
        """
        wanted = set(scopes)
        chosen = [s for s in self._scopes.values() if s.name in wanted]
        groups: list[tuple[DataProvider | None, list[Scope]]] = []
        identity = [s for s in chosen if s.kind == IDENTITY and s.name != "openid"]
        if identity:
            groups.append((None, identity))
        for p in self._providers.values():
            of_p = [s for s in chosen if s.kind == DATA and s.provider == p.key]
            if of_p:
                groups.append((p, of_p))
        return groups
