"""Building the adapters from the providers' settings: one adapter per configured provider,
all sharing one ``httpx.AsyncClient`` (one connection pool), each with its own policy and
circuit breaker."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from broker.catalogue.scopes import REGISTRY
from broker.core.settings import Settings
from broker.providers.adapters import (
    AntsAdapter,
    CnafAdapter,
    CnousAdapter,
    DgfipAdapter,
    DsnjAdapter,
    DssAdapter,
    FranceTravailAdapter,
    GipMdsAdapter,
    MenAdapter,
    MesriAdapter,
    SdhAdapter,
)
from broker.providers.adapters.common import ProviderAdapter
from broker.providers.base import Adapter, ProviderConfig

ADAPTER_CLASSES: dict[str, type[ProviderAdapter]] = {
    cls.provider: cls
    for cls in (
        CnafAdapter,
        DssAdapter,
        CnousAdapter,
        MesriAdapter,
        FranceTravailAdapter,
        MenAdapter,
        DgfipAdapter,
        AntsAdapter,
        SdhAdapter,
        DsnjAdapter,
        GipMdsAdapter,
    )
}


def build_adapters(
    configs: dict[str, ProviderConfig],
    client: httpx.AsyncClient,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Adapter]:
    """One adapter per entry of ``configs`` (keyed by ``broker.catalogue.scopes`` provider key)."""
    unknown = sorted(set(configs) - set(ADAPTER_CLASSES))
    if unknown:
        raise ValueError(f"no adapter for provider(s): {', '.join(unknown)}")
    return {
        key: ADAPTER_CLASSES[key](config, client, clock=clock) for key, config in configs.items()
    }


def provider_configs(settings: Settings) -> dict[str, ProviderConfig]:
    """Every provider of the catalogue, at its configured URL, with the configured timeouts."""
    return {
        p.key: ProviderConfig(
            base_url=settings.provider_url(p.key),
            connect_timeout=settings.provider_connect_timeout,
            read_timeout=settings.provider_read_timeout,
            retries=settings.provider_retries,
        )
        for p in REGISTRY.providers()
    }
