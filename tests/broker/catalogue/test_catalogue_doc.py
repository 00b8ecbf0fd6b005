"""docs/catalogue.md describes exactly the scopes of the registry, with their labels, and the
products of the catalogue, with their modes, parameters, provider and scopes: its generated parts
are what ``broker.catalogue.document`` writes from the catalogue, and read back they name every
scope and product once."""

from __future__ import annotations

import re
from pathlib import Path

from broker.catalogue import document
from broker.catalogue.products import PRODUCTS
from broker.catalogue.scopes import REGISTRY

CATALOGUE = Path(__file__).resolve().parents[3] / "docs" / "catalogue.md"
ROW = re.compile(r"^\|\s*`([a-z0-9_]+)`\s*\|\s*([^|]+?)\s*\|", re.MULTILINE)
PRODUCT_ROW = re.compile(r"^\|\s*`(/v[0-9]/[a-z0-9_/]+)`\s*\|(.*)\|\s*$", re.MULTILINE)
CODE = re.compile(r"`([^`]+)`")


def test_generated_parts_are_up_to_date():
    text = CATALOGUE.read_text()
    assert document.render(text) == text, "run: python -m broker.catalogue.document"


def test_every_generated_part_is_on_the_page():
    names = {m.group("name") for m in document.PART.finditer(CATALOGUE.read_text())}
    assert names == set(document.PARTS)


def test_our_own_product_and_later_versions_are_marked():
    rows = _product_rows()
    for p in PRODUCTS:
        notes = rows[p.path][-1]
        assert ("propre à ce broker" in notes) == p.ours, p.path
        assert (f"version {p.version}" in notes) == (p.version != "v3"), p.path


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
        found = next(p for p in PRODUCTS if p.path == path)
        title, modes, parameters, provider, scopes, _notes = cells
        assert title == found.title_fr, path
        assert CODE.findall(modes) == list(found.modes), path
        named = CODE.findall(parameters.split("identité :")[0])
        assert named == [p.name for p in found.params], path
        for param in found.params:
            needed = "obligatoire" if param.required else "facultatif"
            assert re.search(rf"`{re.escape(param.name)}` \([^)]*{needed}\)", parameters), (
                path,
                param,
            )
        assert CODE.findall(provider) == [found.provider], path
        assert REGISTRY.provider(found.provider).short_name in provider, path
        assert CODE.findall(scopes) == [s.name for s in found.scopes()], path
