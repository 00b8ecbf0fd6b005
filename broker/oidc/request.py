"""authlib's request objects, built from an already-parsed HTTP request (no web framework here)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Request
from authlib.oauth2.rfc6749.errors import InsecureTransportError
from authlib.oauth2.rfc6749.requests import OAuth2Payload


@dataclass
class HttpRequestData:
    """The parts of an HTTP request the protocol code reads; ``params`` merges query and form."""

    method: str
    uri: str
    headers: Mapping[str, str]
    params: dict[str, list[str]] = field(default_factory=dict)

    def first(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None


class ParamsPayload(OAuth2Payload):
    def __init__(self, params: Mapping[str, list[str]]) -> None:
        self._datalist = {k: list(v) for k, v in params.items()}
        self._data = {k: v[0] for k, v in params.items() if v}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return self._datalist


class BrokerOAuth2Request(OAuth2Request):
    """authlib's OAuth2Request whose plain-HTTP check follows our settings, not a global env var."""

    def __init__(self, data: HttpRequestData, allow_insecure: bool) -> None:
        if not allow_insecure:
            InsecureTransportError.check(data.uri)
        self.method = data.method
        self.uri = data.uri
        self.headers = data.headers
        self._body = None
        self.payload = ParamsPayload(data.params)
        # Set by authlib as the request is processed: the authenticated client (a Client, or a
        # data provider at the introspection endpoint), the user, the code or refresh token.
        self.client: Any = None
        self.auth_method = None
        self.user: Any = None
        self.authorization_code: Any = None
        self.refresh_token: Any = None
        self.credential: Any = None
        self._scope = None
        self.granted_scope: str | None = None
        self.grant_id: str | None = None
        self.code_digest: str | None = None

    @property
    def args(self) -> dict[str, str]:
        return self.payload.data

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data
