"""ASGI application factory for uvicorn (``broker run``): ``broker.asgi:build``."""

from __future__ import annotations

import os

from broker.app import create_asgi_app
from broker.core.logs import configure_logging
from broker.core.settings import Settings

ISSUER_DEFAULT_ENV = "BROKER_ISSUER_DEFAULT"


def _settings() -> Settings:
    settings = Settings()
    if not settings.issuer and os.environ.get(ISSUER_DEFAULT_ENV):
        settings = settings.model_copy(update={"issuer": os.environ[ISSUER_DEFAULT_ENV]})
    return settings


def build():
    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_asgi_app(settings)


def build_resources():
    """The data API (``broker resources run``)."""
    from broker.resources.app import create_resource_asgi_app

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_resource_asgi_app(settings)
