"""Real browser tests: Playwright driving Debian's Chromium (/usr/bin/chromium, no download)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# Without these, Chromium tries to reach Google's services at start-up, which a closed
# network refuses (and which tests must not depend on anyway).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(os.environ.get("BROKER_TEST_ARTIFACTS", "test-artifacts")) / "screenshots"


# Per module, not per session: while Playwright's sync API runs, its event loop is the running
# loop of the thread, so a later test of another module calling asyncio.run() (the
# ``production`` fixture does) would fail on the same worker.
@pytest.fixture(scope="module")
def chromium() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (`.ci/run` does it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(locale="fr-FR")
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def english_page(chromium):
    """A browser set to British English: it sends ``Accept-Language: en-GB``."""
    context = chromium.new_context(locale="en-GB")
    page = context.new_page()
    yield page
    context.close()


PHONE = {"width": 390, "height": 844}  # a common phone's viewport, in CSS pixels


@pytest.fixture
def phone_page(chromium):
    """A French phone: 390 CSS pixels wide, touch, ``Accept-Language: fr-FR``."""
    context = chromium.new_context(locale="fr-FR", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def english_phone_page(chromium):
    """A British English phone, 390 CSS pixels wide."""
    context = chromium.new_context(locale="en-GB", viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


def fits_width(page) -> bool:
    """Nothing wider than the viewport: no sideways scrolling on a phone."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def screenshot(page, name: str) -> None:
    """Kept as a test artefact (test-artifacts/screenshots/, or BROKER_TEST_ARTIFACTS)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def serious_violations(page) -> list[str]:
    """axe-core (bundled with axe-playwright-python, no network): serious or critical only."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
