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
    # RFC 9126: every client must push its authorization requests; a request_uri's lifetime.
    require_pushed_authorization_requests: bool = False
    pushed_request_ttl: int = 60
    # RFC 9449 §8: proofs must carry a nonce the broker issued, made with this key.
    dpop_require_nonce: bool = False
    dpop_nonce_key: bytes = b""

    @property
    def pushed_authorization_request_endpoint(self) -> str:
        return f"{self.issuer}/par"

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
