"""The generated parts of ``docs/catalogue.md``: the identity scopes, the data scopes by provider
and the products, written from the scope registry and the product catalogue, the same source as
discovery, the consent screen, the data API and its OpenAPI document.

``python -m broker.catalogue.document`` rewrites every part between its markers;
``--check`` only says whether the page is up to date (``tests/broker/catalogue`` checks it).

Standard library only.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path

from broker.catalogue.products import (
    FRANCE_CONNECT,
    IDENTITE,
    IDENTITY_PARAMETERS,
    PRODUCTS,
    REQUIRED_IDENTITY,
    Product,
)
from broker.catalogue.scopes import REGISTRY

PAGE = Path(__file__).resolve().parents[2] / "docs" / "catalogue.md"
KINDS = {
    "year": "année",
    "month": "mois",
    "uai": "code UAI",
    "school_year": "année scolaire",
    "pattern": "texte",
}
PART = re.compile(r"(<!-- generated: (?P<name>[a-z_]+) -->\n)(.*?)(<!-- end generated -->)", re.S)


def identity_scopes() -> str:
    rows = [
        "| Scope | Libellé (fr) | Claims released at /userinfo |",
        "| --- | --- | --- |",
    ]
    rows += [
        f"| `{s.name}` | {s.label_fr} | {', '.join(s.claims)} |" for s in REGISTRY.identity_scopes()
    ]
    return "\n".join(rows) + "\n"


def data_scopes() -> str:
    out: list[str] = []
    for provider in REGISTRY.providers():
        scopes = [s for s in REGISTRY.data_scopes() if s.provider == provider.key]
        served = sorted({path for s in scopes for path in s.products})
        out += [
            f"### {provider.short_name}: {provider.name_fr}",
            "",
            f"Provider key `{provider.key}`; {len(scopes)} scope(s); English name: "
            f"{provider.name_en}. Served at {', '.join(f'`{p}`' for p in served)}.",
            "",
            "| Scope | Libellé (fr) | Fields | Products |",
            "| --- | --- | --- | --- |",
        ]
        out += [
            f"| `{s.name}` | {s.label_fr} | {', '.join(s.fields)} | {', '.join(s.products)} |"
            for s in scopes
        ]
        out.append("")
    return "\n".join(out)


def parameters(product: Product) -> str:
    cells = [
        f"`{p.name}` ({KINDS.get(p.kind, p.kind)}, {'obligatoire' if p.required else 'facultatif'})"
        for p in product.params
    ]
    if IDENTITE in product.modes and product.identity_params is not None:
        taken = ", ".join(f"`{name}`" for name in product.identity_params)
        needed = set(product.identity_required or REQUIRED_IDENTITY)
        required = ", ".join(n for n in product.identity_params if n in needed)
        cells.append(f"identité : {taken} (obligatoires : {required})")
    return ", ".join(cells) or "—"


def notes(product: Product) -> str:
    said = []
    if product.ours:
        said.append("produit propre à ce broker, absent d'API Particulier")
    if product.version != "v3":
        said.append(f"version {product.version}, servie à côté de la v3")
    if not product.key.removeprefix(product.version + "/").startswith(product.provider + "/"):
        said.append(f"données de `{product.provider}` servies sous ce chemin, comme en v3")
    return "; ".join(said) or "—"


def products() -> str:
    rows = [
        "| Path | Titre (fr) | Modes | Parameters | Provider | Scopes | Notes |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for p in PRODUCTS:
        provider = REGISTRY.provider(p.provider)
        rows.append(
            f"| `{p.path}` | {p.title_fr} | {', '.join(f'`{m}`' for m in p.modes)} | "
            f"{parameters(p)} | `{p.provider}` ({provider.short_name}) | "
            f"{', '.join(f'`{s.name}`' for s in p.scopes())} | {notes(p)} |"
        )
    return "\n".join(rows) + "\n"


def counts() -> str:
    return (
        f"{len(REGISTRY.identity_scopes())} identity scopes, {len(REGISTRY.data_scopes())} data "
        f"scopes from {len(REGISTRY.providers())} data providers, and {len(PRODUCTS)} products "
        f"({sum(p.version == 'v3' for p in PRODUCTS)} in v3, of which "
        f"{sum(p.ours for p in PRODUCTS)} our own, and "
        f"{sum(p.version != 'v3' for p in PRODUCTS)} later versions); France Connect mode on "
        f"{sum(FRANCE_CONNECT in p.modes for p in PRODUCTS)} of them. The identity mode's "
        f"parameters are {', '.join(f'`{name}`' for name in IDENTITY_PARAMETERS)}.\n"
    )


PARTS: dict[str, Callable[[], str]] = {
    "counts": counts,
    "identity_scopes": identity_scopes,
    "data_scopes": data_scopes,
    "products": products,
}


def render(text: str) -> str:
    """``text`` with every generated part rewritten; an unknown part name is an error."""

    def part(match: re.Match[str]) -> str:
        write = PARTS[match.group("name")]
        return match.group(1) + write() + match.group(4)

    return PART.sub(part, text)


def main(argv: list[str]) -> int:
    text = PAGE.read_text()
    fresh = render(text)
    if "--check" in argv:
        if fresh != text:
            print(f"{PAGE} is out of date: run python -m broker.catalogue.document")
            return 1
        return 0
    PAGE.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
