"""The portal's settings: its address, its identity provider and client secret, each refused
in production when it would be unsafe, with development defaults on the demo."""

from __future__ import annotations

import pytest

from broker.core.settings import ConfigurationError, Settings

PRODUCTION = {
    "env": "production",
    "database_url": "postgresql://db.example/broker",
    "issuer": "https://broker.example",
    "key_encryption_secret": "s" * 40,
    "data_api_url": "https://api.broker.example",
}


def test_production_wants_an_https_portal():
    with pytest.raises(ConfigurationError, match="https"):
        Settings(**PRODUCTION, portal_url="http://portal.example")
    assert Settings(**PRODUCTION, portal_url="https://portal.example").portal_url


def test_the_portal_address_must_be_a_url():
    with pytest.raises(ConfigurationError, match="http"):
        Settings(portal_url="portal.example")


def test_production_wants_the_agents_provider_and_its_secret():
    settings = Settings(**PRODUCTION, portal_url="https://portal.example")
    with pytest.raises(ConfigurationError, match="PORTAL_IDP_ISSUER"):
        assert settings.portal_idp_issuer_url
    with pytest.raises(ConfigurationError, match="PORTAL_IDP_CLIENT_SECRET"):
        assert settings.portal_client_secret
    configured = Settings(
        **PRODUCTION,
        portal_idp_issuer="https://proconnect.example/api/v2/",
        portal_idp_client_secret="from-the-provider",
    )
    assert configured.portal_idp_issuer_url == "https://proconnect.example/api/v2"
    assert configured.portal_client_secret == "from-the-provider"


def test_development_defaults_to_the_demo_agents_provider(tmp_path):
    settings = Settings(var_dir=tmp_path, demo_idp_url="http://127.0.0.1:8004/")
    assert settings.portal_idp_issuer_url == "http://127.0.0.1:8004/agents-demo"
    secret = settings.portal_client_secret
    assert len(secret) == 64 and secret == Settings(var_dir=tmp_path).portal_client_secret
    other = Settings(var_dir=tmp_path, portal_idp_client_id="another")
    assert other.portal_client_secret != secret
