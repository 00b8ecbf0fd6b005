"""The access tokens' audience is the data API's public URL (``BROKER_DATA_API_URL``): what a
client calls, what discovery lists as the protected resource, what the data API checks."""

from __future__ import annotations

import pytest

from broker.core.settings import ConfigurationError, Settings

PRODUCTION = {
    "env": "production",
    "database_url": "postgresql://broker@db/broker",
    "issuer": "https://connexion.example.gouv.fr",
    "key_encryption_secret": "s" * 40,
}


@pytest.fixture(autouse=True)
def no_broker_environment(monkeypatch):
    """The CI's BROKER_* variables must not leak in."""
    import os

    for name in list(os.environ):
        if name.startswith("BROKER_"):
            monkeypatch.delenv(name)


def test_the_audience_is_the_data_api_url_without_trailing_slash(tmp_path):
    settings = Settings(var_dir=tmp_path, data_api_url="https://api.example.gouv.fr/")
    assert settings.resource_server_audience == "https://api.example.gouv.fr"
    default = Settings(var_dir=tmp_path, issuer="http://127.0.0.1:8000")
    assert default.resource_server_audience == "http://127.0.0.1:8002"  # never the issuer's /v3


def test_the_old_audience_setting_is_refused_with_what_to_set_instead(tmp_path, monkeypatch):
    monkeypatch.setenv("BROKER_RESOURCE_AUDIENCE", "https://api.example.gouv.fr/v3")
    with pytest.raises(ConfigurationError, match="BROKER_DATA_API_URL"):
        Settings(var_dir=tmp_path)


@pytest.mark.parametrize(
    "url",
    [
        "api.example.gouv.fr",
        "ftp://api.example.gouv.fr",
        "https://api.example.gouv.fr/?v=3",
        "https://api.example.gouv.fr/#v3",
        "https://api.exemple-données.fr",
    ],
)
def test_the_data_api_url_must_be_a_plain_http_url(tmp_path, url):
    with pytest.raises(ConfigurationError, match="BROKER_DATA_API_URL"):
        Settings(var_dir=tmp_path, data_api_url=url)


def test_production_wants_https(tmp_path):
    with pytest.raises(ConfigurationError, match="https"):
        Settings(var_dir=tmp_path, data_api_url="http://api.example.gouv.fr", **PRODUCTION)
    settings = Settings(var_dir=tmp_path, data_api_url="https://api.example.gouv.fr", **PRODUCTION)
    assert settings.resource_server_audience == "https://api.example.gouv.fr"


def test_attack_production_does_not_advertise_the_default_loopback_data_api(tmp_path):
    """Left to its development default, the data API's URL would be a loopback port listed in
    discovery and named as every access token's audience."""
    with pytest.raises(ConfigurationError, match="without: BROKER_DATA_API_URL"):
        Settings(var_dir=tmp_path, **PRODUCTION)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8002",  # the development default, written out
        "http://localhost:8002",
        "https://127.0.0.1:8002",
        "https://localhost",
        "https://api.localhost",
        "https://127.0.1.1",
        "https://[::1]:8443",
    ],
)
def test_attack_production_refuses_a_loopback_or_plain_http_data_api(tmp_path, url):
    with pytest.raises(ConfigurationError, match="public https URL in production"):
        Settings(var_dir=tmp_path, data_api_url=url, **PRODUCTION)
    assert Settings(var_dir=tmp_path, data_api_url=url).data_api_url == url  # development


def test_production_takes_the_data_api_url_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("BROKER_DATA_API_URL", "https://api.example.gouv.fr")
    assert Settings(var_dir=tmp_path, **PRODUCTION).data_api_url == "https://api.example.gouv.fr"
