"""The recorded answers of API Particulier v3's backend, read from tests/fixtures/siade/ (copies
from etalab/siade_staging_data at commit 2045a4b; each file says where it comes from)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).parents[2] / "fixtures" / "siade"


@cache
def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((FIXTURES / f"{name}.yaml").read_text(encoding="utf-8"))


def documented() -> list[dict[str, Any]]:
    """The OpenAPI's error examples: path, status, example name, body."""
    return (
        load("openapi_api_particulier")["errors"] + load("openapi_api_entreprise_dgfip")["errors"]
    )


def documented_item(code: str) -> tuple[int, dict[str, Any]]:
    """The status and first error item of the first documented example coded ``code``."""
    for example in documented():
        item = example["body"]["errors"][0]
        if item["code"] == code:
            return example["status"], item
    raise LookupError(f"no recorded example coded {code}")


def staging_answers() -> list[dict[str, Any]]:
    return load("staging_payloads")["answers"]


def http_answers() -> list[dict[str, Any]]:
    """The real HTTP answers of run.txt: url, status, headers (lower-cased), body."""
    return load("run_txt_answers")["answers"]


def rate_limit_headers() -> dict[str, dict[str, Any]]:
    return load("openapi_api_particulier")["rate_limit_headers"]
