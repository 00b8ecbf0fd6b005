"""Outbound requests only where they belong: the broker fetches URLs that services and
operators register (JWKS, consent events, upstream identity providers), and must not be turned
against the networks it sits in (server-side request forgery).

``addresses``: which IP addresses a request may reach, whatever their spelling. ``policy``:
the rule of a deployment (https only and no loopback in production) applied to a URL, at
registration. ``guard``: the same rule at connection time, on the addresses actually
connected to (DNS rebinding)."""
