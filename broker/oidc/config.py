"""The protocol settings the OIDC code needs, independent of how they are configured."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    resource_audience: str
    pairwise_key: bytes
    code_ttl: int = 60
    id_token_ttl: int = 300
    allow_insecure_transport: bool = False

    @property
    def authorization_endpoint(self) -> str:
        return f"{self.issuer}/authorize"

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer}/token"

    @property
    def userinfo_endpoint(self) -> str:
        return f"{self.issuer}/userinfo"

    @property
    def introspection_endpoint(self) -> str:
        return f"{self.issuer}/introspect"

    @property
    def revocation_endpoint(self) -> str:
        return f"{self.issuer}/revoke"

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}/jwks"

    @property
    def end_session_endpoint(self) -> str:
        return f"{self.issuer}/logout"
