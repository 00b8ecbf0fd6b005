"""The demo identity providers: a separate OpenID Connect provider process (its own app, keys,
discovery, code flow with PKCE) that the broker federates exactly as it would a real one.

One process serves two providers under their own issuer paths: "Identité démo" (eidas1, every
test citizen, password only) and "Identité démo renforcée" (eidas2/eidas3, password then a
one-time code shown on the page, signed userinfo as FranceConnect v2 returns it)."""

from broker.demo.idp.app import create_demo_idp_app
from broker.demo.idp.provider import DemoIdpClient, DemoIdpOptions

__all__ = ["DemoIdpClient", "DemoIdpOptions", "create_demo_idp_app"]
