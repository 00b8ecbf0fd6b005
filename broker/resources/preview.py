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
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any

import httpx

from broker.catalogue.products import FRANCE_CONNECT, PRODUCTS, Product
from broker.catalogue.registry import Scope
from broker.catalogue.scopes import REGISTRY, fields_for
from broker.core.logs import request_id_var
from broker.core.settings import Settings
from broker.oidc.models import CitizenIdentity
from broker.providers import base
from broker.providers.registry import build_adapters, provider_configs
from broker.resources.masking import allowed_tree, mask
from broker.resources.readable import PreviewValue, readable_values
from broker.resources.subjects import pivot_of

log = logging.getLogger("broker.preview")

OK, NOT_FOUND, FAILED = "ok", "not_found", "failed"
# Why a group failed, for a more precise message: "timeout" | "maintenance" | "unavailable" |
# "unexpected_payload" | "invalid_input" | "not_previewable" (see ``previewable``).
_REASONS = {
    base.Timeout: "timeout",
    base.Maintenance: "maintenance",
    base.Unavailable: "unavailable",
    base.UnexpectedPayload: "unexpected_payload",
    base.InvalidInput: "invalid_input",
}


@dataclass(frozen=True)
class ProviderPreview:
    provider: str  # broker.catalogue.scopes provider key
    status: str  # OK | NOT_FOUND | FAILED
    # scope name -> its values. With OK, every scope asked (empty: that product found nothing);
    # with FAILED, only the scopes whose product did answer (a partial preview), often none.
    values: dict[str, list[PreviewValue]]
    reason: str = ""  # with FAILED, see _REASONS


# provider key -> product -> its scopes asked; the None product gathers the scopes whose
# products the preview cannot ask (France Travail, MEN, ANTS: see ``previewable``).
Plan = dict[str, dict[Product | None, list[Scope]]]


def plan(scopes: list[str]) -> Plan:
    """What a preview of ``scopes`` involves, provider by provider (identity scopes have
    none), in the registry's order of data scopes."""
    asked = set(scopes)
    planned: Plan = {}
    for scope in (s for s in REGISTRY.data_scopes() if s.name in asked):
        if scope.provider is None:  # only identity scopes lack one: the registry checks
            continue
        for spec in _previewed(scope):
            planned.setdefault(scope.provider, {}).setdefault(spec, []).append(scope)
    return planned


def previewable(spec: Product) -> bool:
    """Can the preview ask this product? Only with the signed-in citizen's identity (France
    Connect mode) and nothing more: a required parameter only the service knows (the ANTS
    registration number, the MEN school year) cannot be guessed for the citizen."""
    return FRANCE_CONNECT in spec.modes and not any(param.required for param in spec.params)


def _previewed(scope: Scope) -> list[Product | None]:
    """The products whose answer shows ``scope``: the previewable ones, a scope served by
    several versions (v3, v4) asked once, in its latest (which tells the most); [None] when
    none is previewable."""
    by_path = {p.path: p for p in PRODUCTS}
    specs = [by_path.get(path) for path in scope.products]
    readable = [s for s in specs if s is not None and previewable(s)]
    if not readable:
        return [None]
    versions: dict[str, Product] = {}
    for spec in sorted(readable, key=lambda spec: int(spec.version[1:])):
        versions[spec.key.removeprefix(f"{spec.version}/")] = spec
    return list(versions.values())


def planned_providers(scopes: list[str]) -> list[str]:
    """The providers a preview of ``scopes`` calls (those with a product it can read), in the
    registry's order of providers: what the waiting page names."""
    called = {key for key, group in plan(scopes).items() if any(s is not None for s in group)}
    return [p.key for p in REGISTRY.providers() if p.key in called]


class DataPreview:
    def __init__(self, adapters: dict[str, base.Adapter], budget: float) -> None:
        self.adapters = adapters
        self.budget = budget

    @classmethod
    def from_settings(cls, settings: Settings, client: httpx.AsyncClient) -> DataPreview:
        """Adapters built as the data API builds them (own circuit breakers), and the time a
        provider call may take as the budget."""
        budget = settings.provider_connect_timeout + settings.provider_read_timeout
        return cls(build_adapters(provider_configs(settings), client), budget)

    async def fetch(
        self, citizen: CitizenIdentity, scopes: list[str], locale: str = "fr"
    ) -> dict[str, ProviderPreview]:
        """One preview per provider of the data scopes asked (identity scopes are ignored), in
        registry order."""
        en = locale.lower().startswith("en")
        planned = plan(scopes)
        if not planned:
            return {}
        pivot = pivot_of(citizen)
        outcomes = await self._ask_all(
            {
                (key, spec.key): self._ask(key, spec, pivot)
                for key, group in planned.items()
                for spec in group
                if spec is not None
            }
        )
        return {key: _provider_preview(key, group, outcomes, en) for key, group in planned.items()}

    async def _ask_all(
        self,
        calls: dict[tuple[str, str], Coroutine[Any, Any, base.Outcome]],
    ) -> dict[tuple[str, str], base.Outcome]:
        """Every call at once; those still running when the budget is spent are cancelled."""
        tasks = {call: asyncio.ensure_future(ask) for call, ask in calls.items()}
        try:
            if tasks:
                await asyncio.wait(tasks.values(), timeout=self.budget)
        finally:
            late = [task for task in tasks.values() if task.cancel()]
            if late:
                await asyncio.wait(late)
        return {
            call: base.Timeout("preview budget spent") if task.cancelled() else task.result()
            for call, task in tasks.items()
        }

    async def _ask(self, provider: str, spec: Product, pivot: base.ProviderPivot) -> base.Outcome:
        adapter = self.adapters.get(provider)
        if adapter is None:
            return base.Unavailable(f"{provider}: no adapter configured")
        try:
            call = base.ProductCall(
                product=spec.key,
                mode=FRANCE_CONNECT,
                pivot=pivot,
                request_id=request_id_var.get() or "",
            )
            return await adapter.fetch(call)
        except Exception as exc:
            log.error(
                "preview call failed",
                extra={"provider": provider, "product": spec.key, "error": type(exc).__name__},
            )
            return base.Unavailable(f"{provider}: adapter error")


def _provider_preview(
    provider: str,
    group: dict[Product | None, list[Scope]],
    outcomes: dict[tuple[str, str], base.Outcome],
    en: bool,
) -> ProviderPreview:
    values: dict[str, list[PreviewValue]] = {}
    found = False
    reason = ""
    for spec, scopes in group.items():
        if spec is None:
            reason = reason or "not_previewable"
            continue
        outcome = outcomes.get((provider, spec.key))
        if isinstance(outcome, base.Found):
            found = True
            data = mask(outcome.data, allowed_tree([s.name for s in scopes], spec.path))
            for scope in scopes:
                fields = fields_for(scope, spec.path)
                values[scope.name] = readable_values(scope, data, en, fields)
        elif isinstance(outcome, base.NotFound):
            for scope in scopes:
                values[scope.name] = []
        else:
            reason = reason or _REASONS.get(type(outcome), "unavailable")
    if reason:
        return ProviderPreview(provider, FAILED, {k: v for k, v in values.items() if v}, reason)
    return (
        ProviderPreview(provider, OK, values) if found else ProviderPreview(provider, NOT_FOUND, {})
    )
