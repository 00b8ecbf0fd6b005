"""What every portal handler may need, built once per application and injected as
``portal: NamedDependency[PortalContext]`` (Litestar 2.25 wants injected names marked so;
``from litestar.di import NamedDependency``). The signed-in agent comes the same way:
``agent: NamedDependency[Agent]`` (broker.portal.guards)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from broker.core.db import Database
from broker.core.mail import Mailer
from broker.core.settings import Settings


@dataclass(frozen=True)
class PortalContext:
    settings: Settings
    db: Database
    mailer: Mailer
    portal_url: str  # the portal's public address, without a trailing slash
    data_api_url: str  # where the data API answers (the keys' pages, the status pings)

    @property
    def is_development(self) -> bool:
        return self.settings.is_development

    @property
    def secure_cookies(self) -> bool:
        """Cookies marked Secure (and sent as ``__Host-``) when the portal is served on https."""
        return urlsplit(self.portal_url).scheme == "https"
