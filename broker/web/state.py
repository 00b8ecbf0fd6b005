"""What the web layer needs at hand, built once per application."""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request

from broker.citizen_space import CitizenSpace
from broker.consent_step import ConsentStep
from broker.db import Database
from broker.flow import AuthorizationFlow
from broker.keys.keystore import KeyStore
from broker.oidc.config import OidcConfig
from broker.settings import Settings

BROWSER_COOKIE = "broker_browser"
SESSION_COOKIE = "broker_session"


@dataclass
class BrokerState:
    settings: Settings
    config: OidcConfig
    db: Database
    keys: KeyStore
    flow: AuthorizationFlow
    consent: ConsentStep
    space: CitizenSpace


def broker_state(request: Request) -> BrokerState:
    return request.app.state.broker
