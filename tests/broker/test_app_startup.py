"""What the broker checks before serving anyone."""

from __future__ import annotations

import pytest
from litestar.testing import TestClient
from sqlmodel import select

from broker.app import build_state, create_app
from broker.core.settings import ConfigurationError
from broker.store.federation_models import IdentityProviderRecord


def production_app(settings_factory, **overrides):
    settings = settings_factory("https://broker.example", env="production", **overrides)
    state = build_state(settings)
    return state, create_app(settings, state)


def test_production_refuses_to_start_with_the_demo_identity_providers(settings_factory):
    state, app = production_app(settings_factory)
    with pytest.raises(BaseException) as raised, TestClient(app):
        pass
    errors = getattr(raised.value, "exceptions", [raised.value])
    assert any(
        isinstance(e, ConfigurationError) and "demo identity providers enabled" in str(e)
        for e in errors
    )
    state.db.dispose()


def test_production_starts_once_they_are_disabled_or_explicitly_allowed(settings_factory):
    state, app = production_app(settings_factory, allow_demo_idps=True)
    with TestClient(app) as client:
        assert client.get("/.well-known/openid-configuration").status_code == 200
    with state.db.transaction() as session:
        for record in session.exec(select(IdentityProviderRecord)).all():
            record.enabled = False
    state.db.dispose()
    state, app = production_app(settings_factory)
    with TestClient(app) as client:
        assert client.get("/.well-known/openid-configuration").status_code == 200
    state.db.dispose()
