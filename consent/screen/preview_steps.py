"""The preview's steps, as URLs a browser follows without any script: the consent form posts
``decision=preview`` with the ticked items; the answer sends the browser to a waiting page
(``?attente=1``), which refreshes itself to the page that reads the providers
(``?apercu=1``); both carry the ticked optional items (``choix``), so the preview shows the
same ticks, and a reload reads again instead of posting the form again."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlencode

from broker.catalogue.products import FRANCE_CONNECT, product
from broker.catalogue.scopes import REGISTRY

PREVIEW_PARAM = "apercu"  # =1: read the providers now and show their values
WAIT_PARAM = "attente"  # =1: the waiting page, while the next page reads them
CHOICE_PARAM = "choix"  # an optional item ticked (repeated)


def chosen(values: Iterable[object], optional: Iterable[str]) -> list[str]:
    """The optional items among ``values`` (posted or in the URL), in a stable order: a
    required item, a scope not requested, anything else is ignored."""
    wanted = {v for v in values if isinstance(v, str)}
    return sorted(wanted & set(optional))


def reading_url(path: str, choices: Iterable[str]) -> str:
    return f"{path}?{urlencode([(PREVIEW_PARAM, '1'), *((CHOICE_PARAM, c) for c in choices)])}"


def waiting_url(path: str, choices: Iterable[str]) -> str:
    return f"{path}?{urlencode([(WAIT_PARAM, '1'), *((CHOICE_PARAM, c) for c in choices)])}"


def asked_providers(scopes: Iterable[str]) -> list[str]:
    """The data providers the preview will ask for these scopes, in registry order: those with
    a product the broker can read in the France Connect mode (as
    ``broker.resources.preview.DataPreview.fetch`` plans its calls)."""
    asked = set(scopes)
    readable = set()
    for scope in REGISTRY.data_scopes():
        if scope.name not in asked or scope.provider is None:
            continue
        specs = (product(path.removeprefix("/v3/")) for path in scope.products)
        if any(spec is not None and FRANCE_CONNECT in spec.modes for spec in specs):
            readable.add(scope.provider)
    return [p.key for p in REGISTRY.providers() if p.key in readable]


def preview_location(path: str, scopes: list[str], choices: list[str]) -> str:
    """Where the preview button sends the browser: the waiting page when providers are to be
    asked (they may take seconds), else straight to the preview (the identity only: no call)."""
    return (waiting_url if asked_providers(scopes) else reading_url)(path, choices)
