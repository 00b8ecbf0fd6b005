"""The demo service's logo: a town hall, drawn for this project (no third-party artwork).

SVG, which ``broker clients logo`` refuses from administrators because an SVG file can carry
scripts: this one is part of the code, reviewed, made of shapes and fill colours only (no
script, no style, no link, no reference to anything outside it). The broker serves it from
its own origin with its Content-Security-Policy (``default-src 'none'``) and ``nosniff``, and
the consent screen loads it in an ``<img>``, where an SVG runs nothing anyway."""

from __future__ import annotations

DEMO_LOGO_TYPE = "image/svg+xml"
DEMO_LOGO = b"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">
<rect width="64" height="64" rx="12" fill="#1d3f6e"/>
<path d="M32 9 55 22H9Z" fill="#fff"/>
<circle cx="32" cy="17" r="2.5" fill="#1d3f6e"/>
<rect x="11" y="24" width="42" height="3" fill="#fff"/>
<rect x="15" y="29" width="5" height="16" fill="#fff"/>
<rect x="44" y="29" width="5" height="16" fill="#fff"/>
<path d="M26 45V35a6 6 0 0 1 12 0v10z" fill="#fff"/>
<rect x="9" y="47" width="46" height="4" fill="#fff"/>
<rect x="13" y="53" width="38" height="2" fill="#fff"/>
</svg>
"""
