"""The rules of a client registration that follow from its profile (FAPI 2.0) and from the
encrypted responses it asks for. ``AdminError`` lives here, the admin modules' lowest one, so
that these rules and ``broker.admin.clients`` (which re-exports it) share it without a cycle."""

from __future__ import annotations

from typing import Any, Protocol

from broker.oidc.client_keys import encryption_key
from broker.oidc.encryption import ENCRYPTION_ALGS, ENCRYPTION_ENCS
from broker.oidc.models import PROFILES

# Of the FAPI 2.0 profile's ES256, PS256 and EdDSA, the ones the broker signs with.
FAPI2_SIGNING_ALGS = ("ES256",)


class AdminError(ValueError):
    pass


class Registration(Protocol):
    """What these rules read of a ``broker.admin.clients.ClientRegistration``."""

    @property
    def profile(self) -> str | None: ...
    @property
    def auth_method(self) -> str: ...
    @property
    def id_token_alg(self) -> str: ...
    @property
    def userinfo_signed_response_alg(self) -> str | None: ...
    @property
    def jwks_uri(self) -> str | None: ...
    @property
    def jwks(self) -> dict[str, Any] | None: ...


def check_profile(reg: Registration) -> None:
    """FAPI 2.0 Security Profile §5.3.2: sender-constrained tokens, pushed requests,
    private_key_jwt, and only its signing algorithms."""
    if reg.profile is None:
        return
    if reg.profile not in PROFILES:
        raise AdminError(f"--profile must be one of {', '.join(PROFILES)}")
    if reg.auth_method != "private_key_jwt":
        raise AdminError("a fapi2 client authenticates with private_key_jwt only")
    if reg.id_token_alg not in FAPI2_SIGNING_ALGS:
        raise AdminError(
            f"a fapi2 client's ID tokens are signed with {' or '.join(FAPI2_SIGNING_ALGS)}"
        )
    if (
        reg.userinfo_signed_response_alg
        and reg.userinfo_signed_response_alg not in FAPI2_SIGNING_ALGS
    ):
        raise AdminError(
            f"a fapi2 client's userinfo is signed with {' or '.join(FAPI2_SIGNING_ALGS)}"
        )


def check_encryption(what: str, choice: tuple[str, str] | None, reg: Registration) -> None:
    if choice is None:
        return
    alg, enc = choice
    if alg not in ENCRYPTION_ALGS:
        raise AdminError(f"{what} encryption algorithm must be one of {', '.join(ENCRYPTION_ALGS)}")
    if enc not in ENCRYPTION_ENCS:
        raise AdminError(f"{what} content encryption must be one of {', '.join(ENCRYPTION_ENCS)}")
    if not (reg.jwks_uri or reg.jwks):
        raise AdminError(f"{what} encryption needs the client's keys (--jwks-uri)")
    if reg.jwks is not None and encryption_key(reg.jwks, alg) is None:
        # A jwks_uri is checked when a response is encrypted (it may publish the key later).
        raise AdminError(
            f"{what} encryption with {alg} needs a key for it in the client's JWKS "
            "('use' enc or absent; RSA of 2048 bits or more for RSA-OAEP-256, "
            "EC P-256/P-384/P-521 or X25519 for ECDH-ES)"
        )
