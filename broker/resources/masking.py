"""Masking by scope: only the fields the caller's scopes unlock leave the resource server.

Field paths come from the scope registry (those of the product's version, where v3 and v4
differ): dotted paths inside ``data``, ``[]`` marking a list
(``allocataires[].prenoms``). A path that names an object releases the whole object. Anything
not released is left out entirely (not nulled), so a response never reveals which fields exist
beyond the caller's scopes.

Standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from broker.catalogue.scopes import REGISTRY, fields_for

# A tree of allowed paths: {"quotient_familial": {"valeur": ALL}, "enfants[]": {...}}.
ALL: Any = object()


def allowed_tree(scopes: Iterable[str], product_path: str) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for name in scopes:
        scope = REGISTRY.get(name)
        if scope is None or product_path not in scope.products:
            continue
        for path in fields_for(scope, product_path):  # a version's own fields (v3, v4)
            _add(tree, path.split("."))
    return tree


def _add(tree: dict[str, Any], parts: list[str]) -> None:
    head, rest = parts[0], parts[1:]
    if not rest:
        tree[head] = ALL
        return
    child = tree.get(head)
    if child is ALL:
        return  # the whole object is already released
    if child is None:
        child = tree[head] = {}
    _add(child, rest)


def mask(data: Any, tree: dict[str, Any]) -> dict[str, Any]:
    """The part of ``data`` that ``tree`` releases."""
    if not isinstance(data, dict):
        return {}
    out: dict[str, Any] = {}
    for key, subtree in tree.items():
        name, is_list = (key[:-2], True) if key.endswith("[]") else (key, False)
        if name not in data:
            continue
        value = data[name]
        if subtree is ALL:
            out[name] = value
        elif is_list:
            out[name] = [mask(item, subtree) for item in value] if isinstance(value, list) else None
        elif value is None:
            out[name] = None
        else:
            out[name] = mask(value, subtree)
    return out
