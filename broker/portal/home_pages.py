"""The portal's public home page: what the portal is for, how to sign in, the public pages."""

from __future__ import annotations

from litestar import Controller, get
from litestar.response import Template

from broker.portal.pages import portal_page


class HomeController(Controller):
    @get("/", name="portal_home")
    async def home(self) -> Template:
        return portal_page("portal_home.html")


CONTROLLERS = [HomeController]
