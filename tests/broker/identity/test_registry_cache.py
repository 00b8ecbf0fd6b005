"""The choice page's copy of the provider registry: read again after its time to live."""

from __future__ import annotations

from broker.admin.identity_providers import set_enabled
from broker.store.identity_providers import RegistryCache


def test_the_copy_is_kept_then_read_again(state):
    cache = RegistryCache(ttl=60)
    with state.db.connect() as conn:
        assert all(p.enabled for p in cache.providers(conn))
    with state.db.transaction() as session:
        set_enabled(session, "identite-demo", False, "", "http://127.0.0.1:8000")
    with state.db.connect() as conn:
        assert all(p.enabled for p in cache.providers(conn)), "kept for its time to live"
        cache.ttl = 0
        disabled = [p.id for p in cache.providers(conn) if not p.enabled]
    assert disabled == ["identite-demo"]
