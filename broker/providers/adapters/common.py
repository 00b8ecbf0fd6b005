"""What every adapter does the same way: check the call, send it through the HTTP policy, read
the provider's answer (documented shape, error envelope) and map it to a typed outcome.

The simulators, like the providers they imitate, answer errors with one envelope::

    {"erreur": {"code": "...", "message": "...", "champ": "<provider field at fault>"}}

``champ`` is the provider's own parameter name; each adapter maps it back to the API Particulier
query parameter (``FIELD_PARAMETERS``). A 404 without that envelope is not "person not found":
it is a wrong URL (a misconfigured ``base_url``), reported as an unexpected payload.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

import httpx

from broker.catalogue.products import FRANCE_CONNECT, IDENTIFIER_PARAMETER, IDENTITE, product
from broker.providers import shape
from broker.providers.base import (
    Found,
    InvalidInput,
    NotFound,
    Outcome,
    ProductCall,
    ProviderConfig,
    ProviderPivot,
    UnexpectedPayload,
)
from broker.providers.http import HttpPolicy, Reply
from broker.providers.pivot import BirthParts, birth_parts

ERROR_ENVELOPE = {
    "erreur": {"code": str, "message": str, "champ": shape.Omittable(shape.Nullable(str))}
}
NOT_FOUND_CODE = "NON_TROUVE"
HEALTH_SHAPE: dict = {}  # any JSON object


def provider_pivot(call: ProductCall) -> ProviderPivot:
    """The pivot of a France Connect or identity-mode call: ``check_call`` refused such calls
    without one, so reaching here without it is a programming error."""
    if call.pivot is None:
        raise ValueError(f"{call.product}: {call.mode} call without an identity pivot")
    return call.pivot


def call_identifier(call: ProductCall) -> str:
    """The identifier of an INE or identifiant-mode call, without surrounding spaces:
    ``check_call`` refused such calls without one."""
    if call.identifier is None:
        raise ValueError(f"{call.product}: {call.mode} call without an identifier")
    return call.identifier.strip()


class ProviderAdapter:
    """Base class: subclasses set the class attributes and implement ``_fetch``."""

    provider: ClassVar[str]
    health_path: ClassVar[str]
    not_found_detail: ClassVar[str]
    FIELD_PARAMETERS: ClassVar[dict[str, str]] = {}

    def __init__(
        self,
        config: ProviderConfig,
        client: httpx.AsyncClient,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.http = HttpPolicy(self.provider, config, client, clock=clock)

    async def fetch(self, call: ProductCall) -> Outcome:
        problem = self.check_call(call)
        if problem is not None:
            return problem
        return await self._fetch(call)

    async def ping(self) -> Outcome:
        result = await self.http.get(self.health_path, operation="ping")
        if not isinstance(result, Reply):
            return result
        if result.status != 200 or shape.problems(HEALTH_SHAPE, result.body):
            return UnexpectedPayload(
                f"{self.provider}: health check answered HTTP {result.status} without a JSON object"
            )
        return Found({})

    async def _fetch(self, call: ProductCall) -> Outcome:
        raise NotImplementedError

    # -- call checks ---------------------------------------------------------------------

    def check_call(self, call: ProductCall) -> Outcome | None:
        """Refuse, without I/O, a call this provider cannot serve as asked."""
        spec = product(call.product)
        if spec is None or spec.provider != self.provider:
            return InvalidInput(f"{self.provider}: unknown product {call.product!r}")
        if call.mode not in spec.modes:
            return InvalidInput(f"{call.product}: mode {call.mode!r} not offered")
        if call.mode in (FRANCE_CONNECT, IDENTITE):
            if call.pivot is None:
                return InvalidInput("identity pivot missing", "nomNaissance")
            if birth_parts(call.pivot) is None:
                return InvalidInput(
                    "birth date must be YYYY-MM-DD, 00 for unknown parts", "anneeDateNaissance"
                )
        else:
            parameter = IDENTIFIER_PARAMETER[call.mode]
            if not (call.identifier or "").strip():
                return InvalidInput(f"{parameter} missing", parameter)
        for param in spec.params:
            if param.required and not (call.params.get(param.name) or "").strip():
                return InvalidInput(f"{param.name} is required", param.name)
        return None

    def require_full_birthdate(self, call: ProductCall) -> Outcome | None:
        """For providers that match on the complete birth date only. In France Connect mode
        a partial date is a presumed one (civil status without day or month): such a person
        cannot be found there, and the caller has no parameter to fix."""
        parts = birth_parts(call.pivot) if call.pivot else None
        if parts is None or parts.complete:
            return None
        if call.mode == FRANCE_CONNECT:
            return NotFound(f"{self.provider}: cannot match a presumed birth date")
        missing = "moisDateNaissance" if parts.month is None else "jourDateNaissance"
        return InvalidInput(f"{self.provider} needs the complete birth date", missing)

    @staticmethod
    def parts(call: ProductCall) -> BirthParts:
        parts = birth_parts(call.pivot) if call.pivot else None
        if parts is None:  # check_call refused such calls already
            raise ValueError("call without a valid birth date")
        return parts

    # -- reading answers -----------------------------------------------------------------

    def read(self, result: Reply | Outcome, expected: Any, build: Callable[[Any], dict]) -> Outcome:
        """Map a 200 of the ``expected`` shape with ``build``; errors to typed outcomes."""
        if not isinstance(result, Reply):
            return result
        if result.status != 200:
            return self.error_outcome(result)
        found = shape.problems(expected, result.body)
        if found:
            return UnexpectedPayload(f"{self.provider}: " + "; ".join(found))
        try:
            return Found(build(result.body))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            # the shape check should make this impossible: report, never raise
            return UnexpectedPayload(
                f"{self.provider}: could not map the payload ({type(exc).__name__})"
            )

    def error_outcome(self, reply: Reply) -> Outcome:
        if reply.status not in (400, 404, 422) or shape.problems(ERROR_ENVELOPE, reply.body):
            return UnexpectedPayload(
                f"{self.provider}: HTTP {reply.status} without the provider's error envelope"
            )
        error = reply.body["erreur"]
        if reply.status == 404:
            if error["code"] != NOT_FOUND_CODE:
                return UnexpectedPayload(f"{self.provider}: HTTP 404 with an unexpected error code")
            return NotFound(f"{self.provider}: {self.not_found_detail}")
        field = error.get("champ")
        return InvalidInput(
            f"{self.provider}: {error['message']}", self.FIELD_PARAMETERS.get(field or "")
        )
