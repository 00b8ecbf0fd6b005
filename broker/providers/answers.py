"""Reading a provider's answer without trusting it: a bounded body, strict JSON, and a bounded
Retry-After."""

from __future__ import annotations

import email.utils
import json
from typing import Any

import httpx

MAX_BODY_BYTES = 1024 * 1024
MAX_RETRY_IN = 7 * 24 * 3600
DEFAULT_RETRY_IN = 60


class BodyTooLarge(Exception):
    """The provider sent more than ``MAX_BODY_BYTES``."""


async def read_limited(response: httpx.Response) -> bytes:
    chunks, size = [], 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body, parse_constant=reject_constant)
    except RecursionError as exc:  # absurdly deep nesting: not a payload we would map
        raise ValueError("JSON nested too deeply") from exc


def retry_after_seconds(value: str, now: float) -> int:
    """Seconds to wait from a Retry-After header (delay-seconds or HTTP-date), bounded."""
    value = value.strip()
    if value.isdigit():
        seconds = int(value)
    else:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return DEFAULT_RETRY_IN
        if when is None or when.tzinfo is None:
            return DEFAULT_RETRY_IN
        seconds = int(when.timestamp() - now + 0.999)
    return max(1, min(seconds, MAX_RETRY_IN))
