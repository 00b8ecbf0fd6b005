"""What every data-provider simulator shares: options, the error envelope, the guard for
maintenance windows and credentials, the health route, and the scenario playback.

Errors use one envelope, whatever the provider::

    {"erreur": {"code": "NON_TROUVE" | "PARAMETRE_INVALIDE" | ..., "message": "...",
                "champ": "<the provider's parameter at fault, for 400/422>"}}

Messages name the parameter and the expected format, never the value received (the value is
personal data and the caller has it already).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from litestar import Litestar, Request, Router, get
from litestar.response import Response

from broker.core.monitoring import monitored
from broker.demo import scenarios
from broker.demo.citizens import REFERENCE_DATE, DemoCitizen


@dataclass(frozen=True)
class SimulatorOptions:
    slow_seconds: float = 30.0  # how long the "slow" scenario waits before answering
    maintenance: bool = False  # a maintenance window: every route answers 503 + Retry-After
    maintenance_retry_in: int = 600  # the Retry-After of maintenance answers, in seconds
    token: str = ""  # when set, requests must carry "Authorization: Bearer <token>"
    reference_date: date = REFERENCE_DATE  # "today" for the demo data (payments, school year)


class InvalidField(Exception):
    """A parameter the provider cannot accept: answered 400 with its name."""

    def __init__(self, field: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.status = status


def error(
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    body: dict = {"code": code, "message": message}
    if field is not None:
        body["champ"] = field
    return Response(
        {"erreur": body}, status_code=status, headers=headers, media_type="application/json"
    )


def not_found(message: str) -> Response:
    return error(404, "NON_TROUVE", message)


def ok(body: object) -> Response:
    return Response(body, status_code=200, media_type="application/json")


# -- parameters ----------------------------------------------------------------------------


def required(value: str | None, field: str, what: str) -> str:
    if value is None or not value.strip():
        raise InvalidField(field, f"{field} est obligatoire ({what})")
    return value.strip()


def joined(request: Request, name: str) -> str | None:
    """A parameter that may be repeated (``prenoms=A&prenoms=B``), as one spaced string."""
    values = [v.strip() for v in request.query_params.getall(name, []) if v.strip()]
    return " ".join(values) if values else None


def optional(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def integer(value: str | None, field: str, low: int, high: int) -> int | None:
    if value is None or value.strip() == "":
        return None
    if not re.fullmatch(r"\d{1,4}", value.strip()) or not low <= int(value) <= high:
        raise InvalidField(field, f"{field} doit être un entier entre {low} et {high}")
    return int(value)


def cog(value: str | None, field: str, pattern: str = r"\d{5}|2[AB]\d{3}") -> str | None:
    value = optional(value)
    if value is not None and not re.fullmatch(pattern, value.upper()):
        raise InvalidField(field, f"{field} doit être un code COG à 5 caractères")
    return value.upper() if value else None


def sex(value: str | None, field: str, codes: dict[str, str]) -> str:
    value = required(value, field, "/".join(codes))
    if value.upper() not in codes:
        raise InvalidField(field, f"{field} doit valoir " + " ou ".join(codes))
    return codes[value.upper()]


# -- scenarios -----------------------------------------------------------------------------

WRONG_SHAPE_BODY = {"resultat": "OK", "donnees": None}
MALFORMED_BODY = b'{"resultat": "OK", "donnees": [{"valeur": 12'


async def play(scenario: scenarios.Scenario, options: SimulatorOptions) -> Response:
    """The answer a scenario citizen gets, whatever they asked."""
    kind = scenario.kind
    if kind == scenarios.SLOW:
        await asyncio.sleep(options.slow_seconds)
        return not_found("réponse tardive : personne inconnue (scénario lent)")
    if kind == scenarios.SERVER_ERROR:
        return error(500, "ERREUR_INTERNE", "erreur interne du fournisseur")
    if kind == scenarios.BAD_GATEWAY:
        return Response(
            "<html><body><h1>502 Bad Gateway</h1></body></html>",
            status_code=502,
            media_type="text/html",
        )
    if kind == scenarios.MALFORMED:
        return Response(MALFORMED_BODY, status_code=200, media_type="application/json")
    if kind == scenarios.WRONG_SHAPE:
        return ok(WRONG_SHAPE_BODY)
    if kind == scenarios.MAINTENANCE:
        return maintenance(options)
    return not_found("personne inconnue")


async def respond(
    citizen: DemoCitizen | None,
    options: SimulatorOptions,
    build: Callable[[DemoCitizen], object],
    missing: str,
    scenario: scenarios.Scenario | None = None,
) -> Response:
    """The answer about ``citizen`` (None: nobody matched): a scenario's misbehaviour, a 404
    with ``missing`` when ``build`` finds no record (None), else ``build``'s body or response."""
    if scenario is None and citizen is not None:
        scenario = scenarios.scenario_of(citizen)
    if scenario is not None:
        return await play(scenario, options)
    body = build(citizen) if citizen is not None else None
    if body is None:
        return not_found(missing)
    return body if isinstance(body, Response) else ok(body)


def maintenance(options: SimulatorOptions) -> Response:
    return error(
        503,
        "MAINTENANCE",
        "service en maintenance, réessayez plus tard",
        headers={"Retry-After": str(options.maintenance_retry_in)},
    )


# -- routers -------------------------------------------------------------------------------


def provider_router(
    path: str, options: SimulatorOptions, health_path: str, handlers: Sequence[Callable]
) -> Router:
    """A provider's routes under ``path``, with its health route, guard and error handling."""

    async def guard(request: Request) -> Response | None:
        if options.maintenance:
            return maintenance(options)
        if options.token and request.headers.get("authorization") != f"Bearer {options.token}":
            return error(401, "NON_AUTORISE", "jeton d'accès absent ou invalide")
        return None

    @get(health_path, sync_to_thread=False)
    def health() -> Response:
        return ok({"statut": "disponible"})

    def invalid_field(_: Request, exc: InvalidField) -> Response:
        return error(exc.status, "PARAMETRE_INVALIDE", exc.message, field=exc.field)

    return Router(
        path=path or "/",
        route_handlers=[health, *handlers],
        before_request=guard,
        exception_handlers={InvalidField: invalid_field},
    )


def standalone_app(router: Router) -> Litestar:
    return simulators_app([router])


def simulators_app(routers: Sequence[Router]) -> Litestar:
    """The simulators as served: request ids, access log, health and metrics, like every
    server of ours. ``logging_config=None``: Litestar's default would replace the process's
    log handler with one that drops every field of the access log."""
    app = Litestar(route_handlers=routers, openapi_config=None, debug=False, logging_config=None)
    app.asgi_handler = monitored(app.asgi_handler, name="simulators")
    return app
