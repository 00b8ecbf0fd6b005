"""Identity federation: the broker as an OpenID Connect relying party of upstream identity
providers (FranceConnect, the demo providers, any conformant one), on Authlib's client and
joserfc."""
