"""Portal pages: the emails caught by the development SMTP sink (development mode only).

- ``GET /courriels``: the messages caught, newest first (date, recipients, subject);
- ``GET /courriels/{id}``: one message, its text escaped (web addresses made links).

In production these addresses do not exist (the portal's ordinary "page not found"): real
emails go to a real SMTP server and nobody reads them here. In development they are open to
whoever reaches the portal, like any local mail catcher: they only ever hold demo data."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from litestar import Controller, get
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Template

from broker.demo.smtp_sink import CaughtMail, UnknownMail, caught, read, sink_directory
from broker.portal.context import PortalContext
from broker.portal.pages import portal_error, portal_page
from broker.web.i18n import N_

BASE = "/courriels"
WEB_ADDRESS = re.compile(r"https?://[^\s<>\"'«»“”]+[^\s<>\"'«»“”.,;:!?)\]]")
MAIL_NOT_FOUND = (
    N_("Courriel introuvable"),
    N_("Aucun courriel intercepté ne correspond à cette adresse. Il a peut-être été effacé."),
)


@dataclass(frozen=True)
class Segment:
    text: str
    link: bool  # a web address, shown as a link to itself


def segments(body: str) -> list[Segment]:
    """The text cut around its http(s) addresses (the template escapes every piece)."""
    pieces: list[Segment] = []
    position = 0
    for match in WEB_ADDRESS.finditer(body):
        if match.start() > position:
            pieces.append(Segment(body[position : match.start()], link=False))
        pieces.append(Segment(match.group(), link=True))
        position = match.end()
    if position < len(body):
        pieces.append(Segment(body[position:], link=False))
    return pieces


def development_only(portal: PortalContext) -> None:
    if not portal.is_development:
        raise NotFoundException()


class MailController(Controller):
    path = BASE

    @get("/", name="mail_list")
    async def list_caught(self, portal: NamedDependency[PortalContext]) -> Template:
        development_only(portal)
        directory = sink_directory(portal.settings.var_dir)
        mails: list[CaughtMail] = await asyncio.to_thread(caught, directory)
        return portal_page("mail_list.html", mails=mails)

    @get("/{mail_id:str}", name="mail_detail")
    async def show(
        self, portal: NamedDependency[PortalContext], mail_id: FromPath[str]
    ) -> Template:
        development_only(portal)
        directory = sink_directory(portal.settings.var_dir)
        try:
            mail = await asyncio.to_thread(read, directory, mail_id)
        except UnknownMail:
            return portal_error(404, *MAIL_NOT_FOUND, code="mail_not_found")
        return portal_page("mail_detail.html", mail=mail, body=segments(mail.body))


CONTROLLERS: list[type[Controller]] = [MailController]
