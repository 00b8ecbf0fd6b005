"""Broker settings, read from the environment with the ``BROKER_`` prefix.

With nothing set the broker runs in development mode: SQLite under ``var/``, a key-encryption
secret generated once into ``var/``, plain-HTTP loopback issuer. Production mode
(``BROKER_ENV=production``) refuses to start unless every secret, the issuer and the data
API's public https URL are given.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import secrets
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, IPvAnyNetwork, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

log = logging.getLogger("broker.settings")

VAR_DIR = Path("var")
DEV_SECRET_FILE = "dev-secret.key"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
MAX_ACCESS_TOKEN_TTL = 3600  # per-client access-token lifetimes are capped at this
DEMO_AGENTS_IDP = "agents-demo"  # the demo agents' provider's path (broker.demo.idp.sites)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 and localhost (``host`` as ``urlsplit`` gives it)."""
    host = host.rstrip(".").lower()
    if host in LOOPBACK_HOSTS or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class ConfigurationError(RuntimeError):
    """Raised when the settings do not allow the broker to start safely."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BROKER_", extra="ignore")

    env: Literal["development", "production"] = "development"
    database_url: str = ""
    issuer: str = ""
    key_encryption_secret: SecretStr | None = Field(
        default=None,
        description="Secret from which the keys encrypting signing keys at rest are derived",
    )
    var_dir: Path = VAR_DIR

    code_ttl: int = Field(default=60, ge=1, le=600)
    # RFC 9126 §5: every client must push its authorization requests (a client can be
    # required to on its own: `broker clients add --require-par`).
    require_pushed_authorization_requests: bool = False
    pushed_request_ttl: int = Field(default=60, ge=10, le=600)
    # RFC 9449 §8: DPoP proofs must carry a nonce the broker issued (use_dpop_nonce).
    dpop_require_nonce: bool = False
    # Seconds a single sign-on session survives without use (its lifetime is session_ttl).
    session_idle_ttl: int = Field(default=30 * 60, ge=60)
    interaction_ttl: int = 900
    session_ttl: int = 8 * 3600
    id_token_ttl: int = 300
    # No longer read: the access tokens' audience is data_api_url (``resource_server_audience``).
    # Kept only so that a deployment still setting it is told so at startup.
    resource_audience: str = ""
    theme_dir: Path | None = None
    log_format: Literal["json", "text"] = "json"
    log_level: str = "INFO"

    # Data API: where the data providers are (each under PROVIDERS_URL/<provider key> unless
    # PROVIDER_URLS, a JSON object, names its own URL), and how long to wait for them.
    providers_url: str = "http://127.0.0.1:8003"
    provider_urls: dict[str, str] = Field(default_factory=dict)
    provider_connect_timeout: float = Field(default=1.0, gt=0, le=30)
    provider_read_timeout: float = Field(default=5.0, gt=0, le=60)
    provider_retries: int = Field(default=1, ge=0, le=3)
    rate_limit: int = Field(
        default=1200, ge=1, description="Requests per minute per token or API key"
    )
    # Seconds to keep each product's provider answers, e.g. {"dss/quotient_familial": 3600}
    # (JSON in BROKER_CACHE_LIFETIMES); a product not listed is never cached.
    cache_lifetimes: dict[str, int] = Field(default_factory=dict)
    redis_url: str = ""
    # Where interactions, sessions and codes live: "auto" is Redis when BROKER_REDIS_URL is
    # set, this process's memory on SQLite (one process), the database otherwise.
    flow_state: Literal["auto", "memory", "redis", "database"] = "auto"
    # Identity federation: the longest wait on an upstream provider (discovery, JWKS, token,
    # userinfo), and the demo identity providers (`broker demo idp run`).
    federation_timeout: float = Field(default=5.0, gt=0, le=30)
    demo_idp_url: str = "http://127.0.0.1:8004"
    demo_idp_client_id: str = "consent-broker"
    # Production refuses to start while a demo identity provider is enabled, unless this says
    # it is meant (a staging platform that shows the demo).
    allow_demo_idps: bool = False
    # Throttling of failed sign-ins and client authentications: failures tolerated from one
    # source address (every account and client together) within 15 minutes before each new
    # attempt must wait. Many people may share one address (an office, a mobile carrier).
    throttle_failures_per_address: int = Field(default=50, ge=1)
    # Reverse proxies whose X-Forwarded-For names the client's address (comma-separated
    # addresses, as uvicorn's --forwarded-allow-ips). Empty: the peer's address is the client's,
    # and the throttles would count every client behind a proxy as one.
    forwarded_allow_ips: str = ""
    # Outbound requests (SSRF guard)
    # Non-public networks the broker may still reach when fetching registered URLs (an identity
    # provider on the operator's own network), as JSON: ["10.20.0.0/16"]. Empty: none.
    outbound_allowed_networks: list[IPvAnyNetwork] = Field(default_factory=list)
    # HTTP server limits
    # Per worker process, enforced by the server before the application (docs/operations.md,
    # "HTTP limits"): request line and headers (431), body (413), head and body-read deadlines
    # and keep-alive idle time (seconds), connections served at once (503 beyond), listen queue.
    http_max_head_bytes: int = Field(default=16 * 1024, ge=4096, le=1024 * 1024)
    http_max_headers: int = Field(default=100, ge=16, le=1000)
    http_max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    http_head_timeout: float = Field(default=10.0, gt=0, le=300)
    http_body_timeout: float = Field(default=10.0, gt=0, le=300)
    http_keep_alive_timeout: int = Field(default=5, ge=1, le=300)
    http_max_connections: int = Field(default=1000, ge=1)
    http_backlog: int = Field(default=2048, ge=1)
    # Observability
    # GET /metrics wants "Authorization: Bearer <metrics_token>" when it is set; without it,
    # production does not serve /metrics at all, development serves it to anyone. Readiness
    # checks (GET /health/ready) each give up after health_timeout seconds.
    metrics_token: SecretStr | None = None
    health_timeout: float = Field(default=2.0, gt=0, le=30)

    # Operators' portal (`broker portal run`): its public address, the agents' identity provider
    # (ProConnect in France; the demo agents' provider by default in development) with the
    # portal's client registration there, and where the data API answers (status pings).
    portal_url: str = ""
    portal_idp_issuer: str = ""
    portal_idp_client_id: str = "operators-portal"
    portal_idp_client_secret: SecretStr | None = None
    # The data API's public URL, without /v3: the audience of every access token, the only
    # resource indicator the broker knows (RFC 8707), and where the portal pings the data API.
    data_api_url: str = "http://127.0.0.1:8002"
    # A signed-in agent's portal session: its longest life, and how long it survives unused.
    portal_session_ttl: int = Field(default=10 * 3600, ge=300)
    portal_session_idle_ttl: int = Field(default=2 * 3600, ge=60)
    # Outgoing email (expiry reminders, request updates): smtp://[user:password@]host:port,
    # smtps://… for implicit TLS, or smtp+starttls://…. Empty: emails are not sent (logged).
    smtp_url: str = ""
    mail_from: str = "Courtier de consentement <no-reply@localhost>"

    @model_validator(mode="after")
    def _check_production(self) -> Settings:
        if self.env != "production":
            return self
        missing = [
            name
            for name, value in (
                ("BROKER_DATABASE_URL", self.database_url),
                ("BROKER_ISSUER", self.issuer),
                ("BROKER_KEY_ENCRYPTION_SECRET", self.key_encryption_secret),
                # Its default is the development data API on loopback: advertised in
                # discovery, it would send every client's tokens to a local port.
                ("BROKER_DATA_API_URL", "data_api_url" in self.model_fields_set),
            )
            if not value
        ]
        if missing:
            raise ConfigurationError(
                "production mode refuses to start without: " + ", ".join(missing)
            )
        secret = self.key_encryption_secret.get_secret_value()  # type: ignore[union-attr]
        if len(secret) < 32:
            raise ConfigurationError("BROKER_KEY_ENCRYPTION_SECRET must be at least 32 characters")
        if urlsplit(self.issuer).scheme != "https":
            raise ConfigurationError("BROKER_ISSUER must be an https URL in production")
        return self

    @model_validator(mode="after")
    def _check_plain_http_issuer(self) -> Settings:
        parts = urlsplit(self.issuer) if self.issuer else None
        if parts and parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
            raise ConfigurationError("a plain http BROKER_ISSUER is only allowed on loopback")
        return self

    @model_validator(mode="after")
    def _check_portal_url(self) -> Settings:
        """In production the portal's session cookie travels over https only."""
        parts = urlsplit(self.portal_url) if self.portal_url else None
        if parts is None:
            return self
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigurationError("BROKER_PORTAL_URL must be an http(s) URL")
        if parts.scheme == "http" and self.env == "production":
            raise ConfigurationError("BROKER_PORTAL_URL must be an https URL in production")
        return self

    @model_validator(mode="after")
    def _check_data_api_url(self) -> Settings:
        """The data API's URL is the access tokens' audience: a client names it as it is."""
        if self.resource_audience:
            raise ConfigurationError(
                "BROKER_RESOURCE_AUDIENCE is no longer read: the access tokens' audience is "
                "BROKER_DATA_API_URL, the data API's public URL without /v3; set that instead"
            )
        parts = urlsplit(self.data_api_url)
        if (
            parts.scheme not in ("http", "https")
            or not self.data_api_url.isascii()
            or not parts.hostname
            or parts.query
            or parts.fragment
            or "#" in self.data_api_url
        ):
            raise ConfigurationError(
                "BROKER_DATA_API_URL must be the data API's public http(s) URL, without query "
                "or fragment (it is the access tokens' audience)"
            )
        if self.env == "production" and (
            parts.scheme != "https" or is_loopback(parts.hostname or "")
        ):
            raise ConfigurationError(
                "BROKER_DATA_API_URL must be the data API's public https URL in production, "
                "not a loopback one: clients call it, and it is their access tokens' audience"
            )
        return self

    @model_validator(mode="after")
    def _check_flow_state(self) -> Settings:
        if self.flow_state == "redis" and not self.redis_url:
            raise ConfigurationError("BROKER_FLOW_STATE=redis needs BROKER_REDIS_URL")
        return self

    @property
    def flow_state_backend(self) -> str:
        """memory, redis or database, as ``flow_state`` says or "auto" picks."""
        if self.flow_state != "auto":
            return self.flow_state
        if self.redis_url:
            return "redis"
        return "memory" if self.effective_database_url.startswith("sqlite") else "database"

    def provider_url(self, provider: str) -> str:
        return self.provider_urls.get(provider) or f"{self.providers_url.rstrip('/')}/{provider}"

    @property
    def is_development(self) -> bool:
        return self.env == "development"

    @cached_property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{(self.var_dir / 'broker.db').resolve()}"

    @cached_property
    def secret(self) -> bytes:
        """The key-encryption secret; in development, generated once and kept under var/."""
        if self.key_encryption_secret is not None:
            return self.key_encryption_secret.get_secret_value().encode()
        if not self.is_development:  # pragma: no cover - guarded by the validator
            raise ConfigurationError("BROKER_KEY_ENCRYPTION_SECRET is required")
        path = self.var_dir / DEV_SECRET_FILE
        if not path.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip().encode()

    def with_issuer_default(self, host: str, port: int) -> Settings:
        """The issuer defaults to http://HOST:PORT unless BROKER_ISSUER is set."""
        if self.issuer:
            return self
        shown_host = f"[{host}]" if ":" in host else host
        return self.model_copy(update={"issuer": f"http://{shown_host}:{port}"})

    @property
    def issuer_url(self) -> str:
        if not self.issuer:
            raise ConfigurationError("no issuer: set BROKER_ISSUER or start with --host/--port")
        return self.issuer.rstrip("/")

    @property
    def resource_server_audience(self) -> str:
        """The audience of every access token, which the data API checks: its public URL."""
        return self.data_api_url.rstrip("/")

    @property
    def max_token_ttl(self) -> int:
        """The longest any token signed now may live: retired keys stay published that long."""
        return max(MAX_ACCESS_TOKEN_TTL, self.id_token_ttl)

    @property
    def allows_insecure_transport(self) -> bool:
        """Plain HTTP only in development and only on a loopback issuer."""
        return self.is_development and urlsplit(self.issuer_url).hostname in LOOPBACK_HOSTS

    @property
    def secure_cookies(self) -> bool:
        return urlsplit(self.issuer_url).scheme == "https"

    @property
    def portal_idp_issuer_url(self) -> str:
        """The agents' identity provider: BROKER_PORTAL_IDP_ISSUER, or in development the demo
        agents' provider (``broker demo idp run``)."""
        if self.portal_idp_issuer:
            return self.portal_idp_issuer.rstrip("/")
        if self.is_development:
            return f"{self.demo_idp_url.rstrip('/')}/{DEMO_AGENTS_IDP}"
        raise ConfigurationError("the portal needs BROKER_PORTAL_IDP_ISSUER in production")

    @property
    def portal_client_secret(self) -> str:
        """The portal's client secret at the agents' identity provider. In development without
        BROKER_PORTAL_IDP_CLIENT_SECRET, one derived from the key-encryption secret: the demo
        agents' provider derives the same one when it registers the portal."""
        if self.portal_idp_client_secret is not None:
            return self.portal_idp_client_secret.get_secret_value()
        if not self.is_development:
            raise ConfigurationError("the portal needs BROKER_PORTAL_IDP_CLIENT_SECRET")
        purpose = f"portal client secret v1|{self.portal_idp_client_id}".encode()
        return hmac.new(self.secret, purpose, hashlib.sha256).hexdigest()

    def describe_mode(self) -> str:
        if self.is_development:
            return (
                "DEVELOPMENT MODE: SQLite by default, generated secret under var/, "
                "plain HTTP allowed on loopback only. Never expose this to real users."
            )
        return "production mode"
