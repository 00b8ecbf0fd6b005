"""Failed client authentications at the token endpoint, slowed down per source address and per
client.

Counting per client across every address would let anyone slow a service down by sending
wrong secrets in its name. So the client-wide count only weighs on addresses that have
themselves failed for that client: the service's own servers, which authenticate correctly,
never wait, while a guesser spread over many addresses meets the client-wide wait from its
first failure on at each of them."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from broker.interaction.backchannel import unverified_subject
from broker.oidc.request import HttpRequestData
from broker.web.throttle import Counter, Limit, Throttle, counter

SCOPE = "client-auth"
# Client secrets carry 256 bits and assertions are signed: these limits do not protect the
# secrets, they keep a guesser from costing us work and from filling the logs.
PER_CLIENT_AND_ADDRESS = Limit(free=10, window=900, max_wait=60)
PER_CLIENT = Limit(free=30, window=900, max_wait=60)


class ClientAuthThrottle:
    def __init__(self, throttle: Throttle, per_address: Limit) -> None:
        self.throttle = throttle
        self.per_address = per_address

    def counters(self, client_id: str, address: str) -> tuple[Counter, Counter, Counter]:
        return (
            counter(SCOPE, "pair", f"{client_id}\n{address}", PER_CLIENT_AND_ADDRESS),
            counter(SCOPE, "address", address, self.per_address),
            counter(SCOPE, "client", client_id, PER_CLIENT),
        )

    async def retry_after(self, client_id: str, address: str) -> int:
        pair, by_address, by_client = self.counters(client_id, address)
        # Two reads for a service that does not fail, the token endpoint's usual request.
        counts = await self.throttle.counts([pair, by_address])
        if client_id and counts[0].failures:
            counts += await self.throttle.counts([by_client])
        return self.throttle.wait(counts)

    async def failed(self, client_id: str, address: str) -> None:
        pair, by_address, by_client = self.counters(client_id, address)
        await self.throttle.failed([pair, by_address, by_client] if client_id else [by_address])


def claimed_client_id(http: HttpRequestData) -> str:
    """The client a token request says it comes from, before anything is verified: the HTTP
    Basic user, the ``client_id`` parameter, or the subject of a client assertion."""
    header = http.headers.get("authorization") or ""
    if header[:6].lower() == "basic ":
        try:
            user = base64.b64decode(header[6:], validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            user = ""
        if user:
            return unquote(user)[:200]
    client_id = http.first("client_id")
    if client_id:
        return client_id[:200]
    assertion = http.first("client_assertion")
    return (unverified_subject(assertion) or "")[:200] if assertion else ""
