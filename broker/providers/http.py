"""The HTTP policy every adapter uses: timeouts, bounded retries, circuit breaker, typed failures.

One :class:`HttpPolicy` per provider wraps the shared ``httpx.AsyncClient``. A call returns
either a :class:`Reply` (the provider answered something its adapter must read: a 2xx, 400, 404
or 422 with a JSON body) or a failure outcome of ``broker.providers.base``:

=====================================  ===================  =========  ================
what happened                          outcome              retried?   breaker failure?
=====================================  ===================  =========  ================
circuit open                           Unavailable          no I/O     -
connection refused / reset before any  Unavailable,         GET only   yes
response (ConnectError,                unreachable
RemoteProtocolError)
connect timeout                        Timeout              GET only   yes
read / write / pool timeout            Timeout              never      yes
502 Bad Gateway                        Unavailable          GET only   yes
504 Gateway Timeout                    Timeout              GET only   yes
503 with Retry-After (maintenance)     Maintenance          never      no
503 without Retry-After, 500, 5xx      Unavailable          never      yes
401 / 403 (our credentials refused)    Unavailable          never      no
429 (rate limited)                     Unavailable          never      no
non-JSON body, body over 1 MiB         UnexpectedPayload    never      no
any other status                       UnexpectedPayload    never      no
=====================================  ===================  =========  ================

Only idempotent methods (GET, HEAD) are retried, at most ``config.retries`` extra attempts, and
only while the call's budget lasts: a call, retries and back-off included, never takes longer
than ``connect_timeout + read_timeout`` (a retry gets the read time that is left). A read
timeout is never retried: the provider may still be working on the first request and the
budget is spent. A call counts once for the breaker, with its final verdict; any answer that
proves the provider alive (even a 4xx, a maintenance 503 or a malformed body) counts as a
success and closes a half-open circuit.

Logs carry the provider, the operation name, the HTTP status, the outcome kind, the latency,
the attempt number and the request id: never URLs, query strings, bodies or identities.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from broker.core import metrics
from broker.providers.answers import BodyTooLarge, parse_json, read_limited, retry_after_seconds
from broker.providers.base import (
    Maintenance,
    Outcome,
    ProviderConfig,
    Timeout,
    Unavailable,
    UnexpectedPayload,
)
from broker.providers.breaker import CircuitBreaker
from broker.providers.transport import redact_httpx_query_strings

logger = logging.getLogger("broker.providers")
redact_httpx_query_strings()  # before any provider is called


IDEMPOTENT_METHODS = frozenset({"GET", "HEAD"})
READABLE_STATUSES = frozenset({400, 404, 422})
RETRY_BACKOFF = 0.05  # seconds, times the attempt number
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@dataclass(frozen=True)
class Reply:
    """An answer for the adapter to read: its status and its parsed JSON body."""

    status: int
    body: Any


@dataclass(frozen=True)
class _Attempt:
    result: Reply | Outcome
    status: int | None
    transient: bool = False  # worth retrying, if the method is idempotent
    failure: bool = False  # counts against the breaker


class HttpPolicy:
    def __init__(
        self,
        provider: str,
        config: ProviderConfig,
        client: httpx.AsyncClient,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.provider = provider
        self.config = config
        self.client = client
        self.clock = clock
        self.sleep = sleep
        self.breaker = CircuitBreaker(config.breaker_failures, config.breaker_reset, clock)
        self._base_url = config.base_url.rstrip("/")

    async def get(
        self, path: str, *, params: Any = None, request_id: str = "", operation: str = ""
    ) -> Reply | Outcome:
        return await self.send(
            "GET", path, params=params, request_id=request_id, operation=operation
        )

    async def post(
        self, path: str, *, json_body: Any, request_id: str = "", operation: str = ""
    ) -> Reply | Outcome:
        return await self.send(
            "POST", path, json_body=json_body, request_id=request_id, operation=operation
        )

    async def send(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json_body: Any = None,
        request_id: str = "",
        operation: str = "",
    ) -> Reply | Outcome:
        request_id = _safe_request_id(request_id)
        if not self.breaker.allow():
            self._log(operation, method, None, "circuit_open", 0.0, 0, request_id)
            metrics.provider_call(self.provider, "circuit_open", 0.0)
            return Unavailable(f"{self.provider}: circuit open after repeated failures")
        call_started = time.perf_counter()
        idempotent = method.upper() in IDEMPOTENT_METHODS
        budget = self.config.connect_timeout + self.config.read_timeout
        deadline = self.clock() + budget
        # httpx's read timeout applies per chunk read, so a slow trickle could outlast it: the
        # event loop enforces the whole call's budget too.
        hard_deadline = asyncio.get_running_loop().time() + budget
        read_timeout = self.config.read_timeout
        attempt = 0
        verdict_recorded = False
        try:
            while True:
                attempt += 1
                started = self.clock()
                try:
                    async with asyncio.timeout_at(hard_deadline):
                        outcome = await self._attempt(
                            method, path, params, json_body, request_id, read_timeout
                        )
                except TimeoutError:
                    outcome = self._budget_spent()
                seconds = self.clock() - started
                self._log(
                    operation,
                    method,
                    outcome.status,
                    _kind(outcome.result),
                    seconds,
                    attempt,
                    request_id,
                )
                if outcome.transient and idempotent and attempt <= self.config.retries:
                    await self.sleep(RETRY_BACKOFF * attempt)
                    read_timeout = deadline - self.clock() - self.config.connect_timeout
                    if read_timeout >= min(0.05, self.config.read_timeout):
                        read_timeout = min(read_timeout, self.config.read_timeout)
                        continue
                if outcome.failure:
                    self.breaker.record_failure()
                else:
                    self.breaker.record_success()
                verdict_recorded = True
                seconds = time.perf_counter() - call_started
                metrics.provider_call(self.provider, _kind(outcome.result), seconds)
                return outcome.result
        finally:
            if not verdict_recorded:
                self.breaker.release()

    async def _attempt(
        self,
        method: str,
        path: str,
        params: Any,
        json_body: Any,
        request_id: str,
        read_timeout: float,
    ) -> _Attempt:
        headers = {"Accept": "application/json"}
        if request_id:
            headers["X-Request-ID"] = request_id
        if self.config.credentials:
            headers["Authorization"] = f"Bearer {self.config.credentials}"
        timeout = httpx.Timeout(
            connect=self.config.connect_timeout,
            read=read_timeout,
            write=self.config.read_timeout,
            pool=self.config.connect_timeout,
        )
        who = self.provider
        try:
            request = self.client.build_request(
                method,
                self._base_url + path,
                params=params,
                json=json_body,
                headers=headers,
                timeout=timeout,
            )
            response = await self.client.send(request, stream=True)
            try:
                body = await read_limited(response)
            finally:
                await response.aclose()
        except httpx.ConnectTimeout:
            return _Attempt(Timeout(f"{who}: connection timed out"), None, True, True)
        except httpx.TimeoutException:
            return _Attempt(Timeout(f"{who}: no answer in time"), None, failure=True)
        except (httpx.ConnectError, httpx.RemoteProtocolError):
            failed = Unavailable(f"{who}: connection failed", unreachable=True)
            return _Attempt(failed, None, True, True)
        except BodyTooLarge:
            return _Attempt(
                UnexpectedPayload(f"{who}: response body too large"), response.status_code
            )
        except (httpx.HTTPError, httpx.InvalidURL):
            return _Attempt(Unavailable(f"{who}: transport error"), None, failure=True)
        return self._classify(response, body)

    def _classify(self, response: httpx.Response, body: bytes) -> _Attempt:
        status, who = response.status_code, self.provider
        if 200 <= status < 300 or status in READABLE_STATUSES:
            try:
                return _Attempt(Reply(status, parse_json(body)), status)
            except ValueError:
                return _Attempt(
                    UnexpectedPayload(f"{who}: HTTP {status} body is not valid JSON"), status
                )
        if status == 503 and "retry-after" in response.headers:
            retry_in = retry_after_seconds(response.headers["retry-after"], time.time())
            return _Attempt(Maintenance(retry_in, f"{who}: maintenance"), status)
        if status == 502:
            return _Attempt(Unavailable(f"{who}: bad gateway"), status, True, True)
        if status == 504:
            return _Attempt(Timeout(f"{who}: gateway timeout"), status, True, True)
        if status >= 500:
            return _Attempt(Unavailable(f"{who}: server error {status}"), status, failure=True)
        if status in (401, 403):
            return _Attempt(Unavailable(f"{who}: our credentials were refused"), status)
        if status == 429:
            return _Attempt(Unavailable(f"{who}: rate limited"), status)
        return _Attempt(UnexpectedPayload(f"{who}: undocumented HTTP status {status}"), status)

    def _budget_spent(self) -> _Attempt:
        return _Attempt(
            Timeout(f"{self.provider}: no answer within the call's time budget"), None, failure=True
        )

    def _log(
        self,
        operation: str,
        method: str,
        status: int | None,
        kind: str,
        seconds: float,
        attempt: int,
        request_id: str,
    ) -> None:
        level = logging.INFO if kind in ("reply", "circuit_open") else logging.WARNING
        logger.log(
            level,
            "provider call",
            extra={
                "provider": self.provider,
                "operation": operation,
                "method": method,
                "http_status": status,
                "outcome": kind,
                "latency_ms": round(seconds * 1000, 1),
                "attempt": attempt,
                "request_id": request_id,
            },
        )


def _safe_request_id(value: str) -> str:
    """Request ids go into a header and the logs: keep them to a short, harmless alphabet
    (a CR/LF would be a header injection, and an httpx error counted against the breaker)."""
    return value if _REQUEST_ID.fullmatch(value or "") else ""


def _kind(result: Reply | Outcome) -> str:
    return "reply" if isinstance(result, Reply) else type(result).__name__.lower()
