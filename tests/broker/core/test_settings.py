from __future__ import annotations

import pytest

from broker.core.settings import ConfigurationError, Settings

STRONG = "s" * 40


@pytest.fixture(autouse=True)
def no_broker_environment(monkeypatch):
    """These tests are about settings themselves: the CI's BROKER_* variables must not leak in."""
    import os

    for name in list(os.environ):
        if name.startswith("BROKER_"):
            monkeypatch.delenv(name)


def test_development_mode_needs_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in (
        "BROKER_DATABASE_URL",
        "BROKER_ISSUER",
        "BROKER_KEY_ENCRYPTION_SECRET",
        "BROKER_ENV",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(var_dir=tmp_path / "var")
    assert settings.is_development
    assert settings.effective_database_url.startswith("sqlite:///")
    assert settings.secret == settings.secret  # generated once, then read back
    assert (tmp_path / "var" / "dev-secret.key").stat().st_mode & 0o077 == 0
    assert "DEVELOPMENT MODE" in settings.describe_mode()


@pytest.mark.parametrize(
    "missing", ["database_url", "issuer", "key_encryption_secret", "data_api_url"]
)
def test_production_refuses_to_start_without_its_secrets(missing):
    values = {
        "env": "production",
        "database_url": "postgresql://db/broker",
        "issuer": "https://broker.example",
        "key_encryption_secret": STRONG,
        "data_api_url": "https://api.broker.example",
    }
    Settings(**values)
    values.pop(missing)
    with pytest.raises(ConfigurationError, match=f"without: BROKER_{missing.upper()}$"):
        Settings(**values)


def test_production_refuses_weak_secret_and_plain_http():
    with pytest.raises(ConfigurationError):
        Settings(
            env="production",
            database_url="postgresql://db/b",
            issuer="https://broker.example",
            key_encryption_secret="short",
        )
    with pytest.raises(ConfigurationError):
        Settings(
            env="production",
            database_url="postgresql://db/b",
            issuer="http://broker.example",
            key_encryption_secret=STRONG,
        )


def test_insecure_transport_only_in_development_on_loopback():
    dev = Settings(issuer="http://127.0.0.1:8000", key_encryption_secret=STRONG)
    assert dev.allows_insecure_transport
    with pytest.raises(ConfigurationError):
        Settings(issuer="http://broker.lan:8000", key_encryption_secret=STRONG)
    prod = Settings(
        env="production",
        database_url="postgresql://db/b",
        issuer="https://broker.example",
        key_encryption_secret=STRONG,
        data_api_url="https://api.broker.example",
    )
    assert not prod.allows_insecure_transport and prod.secure_cookies


def test_issuer_defaults_to_host_and_port_unless_set():
    assert Settings().with_issuer_default("127.0.0.1", 9000).issuer_url == "http://127.0.0.1:9000"
    assert (
        Settings(issuer="https://b.example").with_issuer_default("127.0.0.1", 9000).issuer_url
        == "https://b.example"
    )
