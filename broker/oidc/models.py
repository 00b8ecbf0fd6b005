"""Protocol-side records: plain dataclasses that authlib's grants and our checks operate on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin
from authlib.oauth2.rfc6749.util import scope_to_list

from broker.core.security import same_digest

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
FAPI2 = "fapi2"  # the FAPI 2.0 Security Profile (see docs/integration.md)
PROFILES = (FAPI2,)


class ConsentMode(StrEnum):
    """How long a citizen's consent under a habilitation lasts."""

    ONE_TIME = "one_time"  # nothing remembered: the grant lasts as long as its first tokens
    RECURRING = "recurring"  # remembered until its expiry (at most 12 months); refresh tokens


@dataclass(frozen=True)
class HabilitationGrant:
    """An unrevoked habilitation of the client's service, as far as authorization needs it."""

    id: str
    scopes: frozenset[str]
    purpose: str
    legal_basis: str
    expires_at: int | None = None
    rate_limit: int | None = None  # requests per minute; None: the platform default
    optional_scopes: frozenset[str] = frozenset()  # offered unticked: the citizen may tick them
    consent_mode: ConsentMode = ConsentMode.RECURRING
    consent_days: int | None = 365  # how long a recurring consent lasts
    legal_basis_url: str | None = None
    controller: str | None = None  # the organisation responsible for the data
    contact: str | None = None  # its contact: an email address or an https URL
    dpo: str | None = None  # its data protection officer: likewise
    retention: str | None = None  # how long the service keeps the data, in words
    reasons: Mapping[str, str] = field(default_factory=dict, hash=False)  # scope -> why needed
    if_refused: str | None = None  # what the citizen can do instead of consenting
    recipients: tuple[str, ...] = ()  # SIRETs the data may be sent to (none: every one refused)

    @property
    def recurring(self) -> bool:
        return self.consent_mode == ConsentMode.RECURRING

    def active_at(self, now: int) -> bool:
        return self.expires_at is None or self.expires_at > now


@dataclass
class Client(ClientMixin):
    client_id: str
    name: str
    service_id: str
    sector_identifier: str
    auth_method: str
    redirect_uris: list[str]
    scope: str
    secret_digest: str | None = None
    jwks_uri: str | None = None
    jwks: dict[str, Any] | None = None
    id_token_signed_response_alg: str = "ES256"
    access_token_ttl: int = 600
    habilitations: tuple[HabilitationGrant, ...] = ()
    notification_uri: str | None = None
    has_logo: bool = False
    post_logout_redirect_uris: tuple[str, ...] = ()
    profile: str | None = None  # FAPI2, or None: the broker's own profile
    require_pushed_authorization_requests: bool = False
    dpop_bound_access_tokens: bool = False
    backchannel_logout_uri: str | None = None
    id_token_encrypted_response_alg: str | None = None
    id_token_encrypted_response_enc: str | None = None
    userinfo_encrypted_response_alg: str | None = None
    userinfo_encrypted_response_enc: str | None = None
    userinfo_signed_response_alg: str | None = None

    @property
    def fapi2(self) -> bool:
        return self.profile == FAPI2

    @property
    def scopes(self) -> set[str]:
        return set(scope_to_list(self.scope) or [])

    def habilitation_for(self, data_scopes: set[str], now: int) -> HabilitationGrant | None:
        """The oldest active habilitation covering every requested data scope, if any.

        Data scopes are granted only within one habilitation, so that the consent screen can
        name the one purpose and legal basis they are requested for."""
        for habilitation in self.habilitations:
            if habilitation.active_at(now) and data_scopes <= habilitation.scopes:
                return habilitation
        return None

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        # OpenID Connect requires redirect_uri on every request: never guess one.
        return None

    def get_allowed_scope(self, scope: str | None) -> str | None:
        requested = scope_to_list(scope) or []
        if not requested or not set(requested) <= self.scopes:
            return None
        return " ".join(dict.fromkeys(requested))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return same_digest(client_secret, self.secret_digest)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        # Refresh tokens are issued only for recurring consents (see oidc.refresh).
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class AuthorizationCode(AuthorizationCodeMixin):
    code_digest: str
    client_id: str
    citizen_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int
    acr: str
    amr: list[str] = field(default_factory=list)
    grant_id: str | None = None
    expires_at: int = 0
    consumed_at: int | None = None
    idp: str = ""  # the identity provider the citizen signed in through
    sid: str | None = None  # the broker session it was issued in (back-channel logout)
    dpop_jkt: str | None = None  # RFC 9449 §10: redeemed only with a proof of this DPoP key

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        return self.acr

    def get_amr(self) -> list[str]:
        return self.amr


@dataclass(frozen=True)
class CitizenIdentity:
    """The identity pivot and contact data of a citizen, as the identity provider sent them."""

    id: str
    given_name: str
    family_name: str
    birthdate: str
    gender: str
    birthplace: str
    birthcountry: str
    preferred_username: str = ""
    email: str = ""

    def claim(self, name: str) -> str | None:
        value = getattr(self, name, None)
        return value if value else None


@dataclass(frozen=True)
class Authentication:
    """What an identity provider established: who, how strongly, when."""

    citizen_id: str
    acr: str
    amr: list[str]
    auth_time: int
    idp: str
    sid: str | None = None  # the broker session's public id (``sid`` of ID and logout tokens)


@dataclass(frozen=True)
class AccessTokenRecord:
    jti: str
    client_id: str
    citizen_id: str
    scope: str
    expires_at: int
    revoked_at: int | None
    grant_id: str | None = None  # the consent grant the token stands on
    jkt: str | None = None  # RFC 9449: the DPoP key's thumbprint; None: a bearer token


@dataclass(frozen=True)
class RefreshTokenRecord:
    """A refresh token of a recurring grant, as stored (its digest, never the token)."""

    digest: str
    grant_id: str
    client_id: str
    citizen_id: str
    scope: str
    auth_time: int
    acr: str
    expires_at: int
    used_at: int | None = None
    revoked_at: int | None = None
    code_digest: str | None = None  # of the code the chain started from
    jkt: str | None = None  # RFC 9449: the DPoP key the chain is bound to

    def check_client(self, client: Client) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope


@dataclass(frozen=True)
class GrantTerms:
    """What tokens issued on a consent grant may carry, now: the consent side's answer to the
    token endpoint (see ``ports.ConsentGrants``)."""

    active: bool
    refreshable: bool  # active and recurring: refresh tokens may be issued and used
    expires_at: int | None
    scopes: frozenset[str]  # the items not withdrawn


@dataclass(frozen=True)
class GrantStanding:
    """Whether a consent grant still holds, and the habilitation it was given under: tokens
    are worth what their grant is worth, at every use."""

    active: bool
    habilitation_id: str | None
