"""The demo service's pages: Jinja templates (autoescaped) and what the welcome page shows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar.response import Response

from broker.demo.online_service.data_api import family_data, shown_items
from broker.demo.online_service.pricing import FULL_PRICE, meal_price
from broker.demo.online_service.relying_party import RelyingParty

PACKAGE_DIR = Path(__file__).resolve().parent
STYLESHEET = (PACKAGE_DIR / "static" / "style.css").read_text(encoding="utf-8")
PARIS = ZoneInfo("Europe/Paris")
ITEM_LABELS = {
    "cnaf_quotient_familial": "votre quotient familial",
    "cnaf_allocataires": "l'identité des allocataires",
    "cnaf_adresse": "votre adresse connue de la CAF",
}


def french_date(value: str) -> str:
    """``1962-08-24`` as ``24/08/1962``; anything else as it is."""
    parts = str(value).split("-")
    return "/".join(reversed(parts)) if len(parts) == 3 and all(parts) else str(value)


TEMPLATES = Environment(
    loader=FileSystemLoader(PACKAGE_DIR / "templates"),
    autoescape=select_autoescape(default=True),
    auto_reload=False,
)
TEMPLATES.filters["french_date"] = french_date


def html_page(template: str, status: int = 200, **context: Any) -> Response:
    return Response(
        TEMPLATES.get_template(template).render(**context),
        status_code=status,
        media_type="text/html",
    )


def problem_page(status: int, title: str, error: str, message: str) -> Response:
    return html_page("problem.html", status, title=title, error=error, message=message)


def event_message(event: dict[str, Any]) -> str:
    when = datetime.fromtimestamp(event["at"], PARIS).strftime("%d/%m/%Y à %H:%M")
    if event["kind"] == "narrowed":
        items = ", ".join(ITEM_LABELS.get(s, s) for s in event["scopes"])
        return f"Vous avez retiré votre accord pour {items} le {when}."
    if event["kind"] == "expired":
        return f"Votre accord est arrivé à échéance le {when}."
    return f"Votre accord a été retiré le {when}."


async def welcome_page(
    rp: RelyingParty, session: dict[str, Any], refreshed: bool = False
) -> Response:
    """The signed-in citizen's page: their claims, the consent events since the sign-in, and
    the meal price from the data the data API gives for the session's access token."""
    result = await family_data(rp, session["access_token"])
    granted = session["granted"]
    quotient = (
        (result.data or {}).get("quotient_familial")
        if "cnaf_quotient_familial" in granted
        else None
    )
    price = meal_price(quotient["valeur"]) if quotient else FULL_PRICE
    if result.data is not None and quotient is None:
        result.problem = f"Quotient familial non transmis : tarif plein ({FULL_PRICE})."
    events = [
        {"kind": e["kind"], "message": event_message(e)}
        for e in rp.events.get(session["claims"].get("sub"), [])
        if e["at"] >= session["at"] and e["reason"] != "replaced"
    ]
    when = datetime.now(PARIS).strftime("%d/%m/%Y à %H:%M:%S") if refreshed else None
    return html_page(
        "welcome.html",
        title="Bienvenue",
        claims=session["claims"],
        acr=session["acr"],
        quotient=quotient,
        price=price,
        data=result,
        shown=shown_items(result, granted),
        events=events,
        refreshed=when,
    )
