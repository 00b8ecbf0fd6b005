"""The demo online service: a town hall's school-canteen pricing page that signs citizens in
through the broker and prices the meal from the family quotient they agree to share (the full
price otherwise), in French or English (its own switch, passed on as ``ui_locales``). It is a
relying party like any other and uses Authlib's client (PKCE S256, private_key_jwt) and joserfc
to verify the ID token, never the broker's own protocol code.

It also receives the broker's consent events (RFC 8417 SETs pushed per RFC 8935) at
``/backchannel/consent-events`` and shows them to the citizen they concern, and its logout
tokens (OpenID Connect Back-Channel Logout 1.0) at ``/backchannel/logout``, which end the
service's session of the broker session they name."""

from broker.demo.online_service.app import create_service_app
from broker.demo.online_service.relying_party import RelyingParty

__all__ = ["RelyingParty", "create_service_app"]
