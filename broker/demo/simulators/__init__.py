"""Data-provider simulators: one Litestar app per provider, each speaking its own wire format,
serving the demo citizens (``broker.demo.citizens``) and the scenario citizens
(``broker.demo.scenarios``). ``docs/simulators.md`` documents them for integrators.

``create_app_for(key, options)`` serves one provider at the root; ``create_all_app(options)``
serves every provider on one port under ``/{provider_key}/...`` (e.g. ``/cnaf/qf/v1/sante``),
which is what ``ProviderConfig.base_url`` = ``http://host:port/{provider_key}`` expects.
"""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar, Router

from broker.demo.simulators import (
    ants,
    cnaf,
    cnous,
    dgfip,
    dsnj,
    dss,
    france_travail,
    gip_mds,
    men,
    mesri,
    sdh,
)
from broker.demo.simulators.common import SimulatorOptions, simulators_app, standalone_app

ROUTERS: dict[str, Callable[[SimulatorOptions, str], Router]] = {
    "cnaf": cnaf.router,
    "dss": dss.router,
    "cnous": cnous.router,
    "mesri": mesri.router,
    "france_travail": france_travail.router,
    "men": men.router,
    "dgfip": dgfip.router,
    "ants": ants.router,
    "sdh": sdh.router,
    "dsnj": dsnj.router,
    "gip_mds": gip_mds.router,
}

__all__ = ["ROUTERS", "SimulatorOptions", "create_all_app", "create_app_for"]


def create_app_for(provider_key: str, options: SimulatorOptions | None = None) -> Litestar:
    if provider_key not in ROUTERS:
        raise KeyError(f"no simulator for provider {provider_key!r}")
    return standalone_app(ROUTERS[provider_key](options or SimulatorOptions(), ""))


def create_all_app(options: SimulatorOptions | None = None) -> Litestar:
    options = options or SimulatorOptions()
    routers = [make(options, f"/{key}") for key, make in ROUTERS.items()]
    return simulators_app(routers)
