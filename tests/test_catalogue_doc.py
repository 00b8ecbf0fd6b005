"""docs/catalogue.md describes exactly the scopes of the registry, with their labels."""

from __future__ import annotations

import re
from pathlib import Path

from broker.scopes import REGISTRY

CATALOGUE = Path(__file__).resolve().parent.parent / "docs" / "catalogue.md"
ROW = re.compile(r"^\|\s*`([a-z0-9_]+)`\s*\|\s*([^|]+?)\s*\|", re.M)


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
