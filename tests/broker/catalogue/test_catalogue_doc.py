"""docs/catalogue.md describes exactly the scopes of the registry, with their labels, and the
products of the catalogue, with their modes, parameters, provider and scopes."""

from __future__ import annotations

import re
from pathlib import Path

from broker.catalogue.products import PRODUCTS, product
from broker.catalogue.scopes import REGISTRY

CATALOGUE = Path(__file__).resolve().parents[3] / "docs" / "catalogue.md"
ROW = re.compile(r"^\|\s*`([a-z0-9_]+)`\s*\|\s*([^|]+?)\s*\|", re.MULTILINE)
PRODUCT_ROW = re.compile(r"^\|\s*`(/v3/[a-z0-9_/]+)`\s*\|(.*)\|\s*$", re.MULTILINE)
CODE = re.compile(r"`([^`]+)`")


def test_catalogue_lists_every_scope_once_with_its_label():
    rows = ROW.findall(CATALOGUE.read_text())
    names = [name for name, _ in rows]
    assert sorted(names) == sorted(REGISTRY.names()), "catalogue and registry differ"
    assert len(names) == len(set(names)), "a scope is listed twice"
    for name, label in rows:
        assert label == REGISTRY.get(name).label_fr, name


def test_catalogue_names_every_field_of_each_data_scope():
    text = CATALOGUE.read_text()
    for scope in REGISTRY.data_scopes():
        line = next(row for row in text.splitlines() if row.startswith(f"| `{scope.name}` |"))
        for field in scope.fields:
            assert field in line, f"{scope.name}: {field} missing"


def _products_section() -> str:
    text = CATALOGUE.read_text()
    start = text.index("\n## Products\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


def _product_rows() -> dict[str, list[str]]:
    """Path -> cells (title, modes, parameters, provider, scopes) of the Products table."""
    rows = PRODUCT_ROW.findall(_products_section())
    paths = [path for path, _ in rows]
    assert len(paths) == len(set(paths)), "a product is listed twice"
    return {path: [cell.strip() for cell in cells.split("|")] for path, cells in rows}


def test_products_section_lists_every_product_once():
    rows = _product_rows()
    assert sorted(rows) == sorted(p.path for p in PRODUCTS), "catalogue and PRODUCTS differ"


def test_each_product_row_has_its_title_modes_parameters_provider_and_scopes():
    for path, cells in _product_rows().items():
        found = product(path.removeprefix("/v3/"))
        title, modes, parameters, provider, scopes = cells
        assert title == found.title_fr, path
        assert CODE.findall(modes) == list(found.modes), path
        assert CODE.findall(parameters) == [p.name for p in found.params], path
        for param in found.params:
            needed = "obligatoire" if param.required else "facultatif"
            assert re.search(rf"`{param.name}` \([^)]*{needed}\)", parameters), (path, param)
        assert CODE.findall(provider) == [found.provider], path
        assert REGISTRY.provider(found.provider).short_name in provider, path
        assert CODE.findall(scopes) == [s.name for s in found.scopes()], path
