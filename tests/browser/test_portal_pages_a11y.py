"""Every page of the operators' portal in Chromium, in French and in English: axe-core finds no
serious or critical violation on a laptop's screen, and once the window is narrowed to a
390-pixel phone's width nothing is wider than the screen. Each French page, and any page that
fails, is screenshotted at the phone's width (``portal-a11y-<lang>-<page>``).

The portal runs on its own socket with a development SMTP sink, on a migrated and seeded
database holding what each page needs, made through the domain's own functions
(``broker.admin.*``): requests in every state (one with two versions, messages and a
difference), habilitations (running and expiring soon, revoked) with keys, a client, audit
entries, role grants, usage figures, provider states and a maintenance notice, a caught
reminder email. Each role signs in once, through the demo agents' identity provider's login
page; each language then gets a browser holding that session. Pages with errors are
reached as agents reach them: by posting the form wrong in the browser."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import update

from broker.admin import usage
from broker.admin.api_keys import issue_key, revoke_key
from broker.admin.clients import ClientRegistration, add_client
from broker.admin.habilitation_revocation import revoke_as_administrator
from broker.admin.reminders import send_due
from broker.admin.requests import lifecycle
from broker.admin.requests.reopening import reopen
from broker.admin.status import DEGRADED, DOWN, UP, Probe, Target, record_probes
from broker.admin.status_notices import add_notice
from broker.demo.agents import AGENTS, VILLEBOURG_SIRET
from broker.demo.idp.registration import portal_as_client
from broker.demo.smtp_sink import caught, sink_directory, start_sink
from broker.portal.app import PortalState, build_portal_state, create_portal_app
from broker.store.data_access_models import Habilitation
from broker.store.data_access_store import INSERT_JOURNAL
from broker.store.models import Service
from broker.web.locale import COOKIE as LANGUAGE_COOKIE
from tests.broker.admin.requests_support import content, make_agents
from tests.browser.conftest import PHONE, fits_width, screenshot, serious_violations
from tests.conftest import make_settings
from tests.servers import bound_socket, serve_app

LANGUAGES = {"fr": "fr-FR", "en": "en-GB"}
LAPTOP = {"width": 1280, "height": 900}
DAY = 86_400
ROLE_LOGINS = {
    "requester": "agent.villebourg",
    "instructor": "instructeur",
    "administrator": "admin",
    "provider": "fournisseur.cnaf",
}


@dataclass
class Site:
    url: str
    state: PortalState
    ids: dict[str, str] = field(default_factory=dict)

    @property
    def db(self):
        return self.state.context.db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def in_a_thread(coroutine) -> Any:
    """Runs a coroutine to its end on a loop of its own: the browser's loop may be running in
    this thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


# -- what the pages show ---------------------------------------------------------------------


def seed_requests(site: Site) -> None:
    """A draft; a request with two versions, messages and a difference (submitted again after
    changes were asked); a refused one; approved ones, whose habilitations get keys: one runs
    (and ends in 20 days), one is revoked, one is being changed (reopened, a data item added)."""
    db = site.db
    with db.transaction() as session:
        agents = make_agents(session)
    alice, ines, ada = agents["alice"], agents["ines"], agents["ada"]
    with db.transaction() as session:
        draft = lifecycle.create_request(session, alice, content(service="Périscolaire"))
        exchanged = lifecycle.create_request(session, alice, content(service="Cantine scolaire"))
        refused = lifecycle.create_request(session, alice, content(service="Centre de loisirs"))
        running = lifecycle.create_request(session, alice, content(service="Crèche municipale"))
        ended = lifecycle.create_request(session, alice, content(service="Transport scolaire"))
        changed = lifecycle.create_request(session, alice, content(service="Médiathèque"))
    with db.transaction() as session:
        for request in (exchanged, refused, running, ended, changed):
            lifecycle.submit(session, alice, request.id)
        lifecycle.ask_changes(session, ines, exchanged.id, "Ajoutez l'adresse, s'il vous plaît.")
        lifecycle.refuse(session, ines, refused.id, "Le cadre juridique ne couvre pas ce service.")
    amended = content(
        service="Cantine scolaire",
        scopes=["cnaf_quotient_familial", "cnaf_enfants", "cnaf_adresse"],
        expected_volume="800 par mois",
        purpose="Calculer le tarif de la cantine et vérifier la commune de résidence.",
    )
    with db.transaction() as session:
        lifecycle.edit_request(session, alice, exchanged.id, amended)
        lifecycle.post_message(session, alice, exchanged.id, "C'est fait, merci.")
        lifecycle.submit(session, alice, exchanged.id)
        approved = lifecycle.approve(session, ines, running.id, "Approuvée pour 18 mois.")
        revoked = lifecycle.approve(session, ines, ended.id)
        reopened = lifecycle.approve(session, ines, changed.id)
    with db.transaction() as session:
        reopening, _ = reopen(session, alice, reopened["id"])
        wider = content(service="Médiathèque", scopes=[*content()["scopes"], "cnaf_adresse"])
        lifecycle.edit_request(session, alice, reopening, wider)
    now = int(time.time())
    with db.transaction() as session:
        key = issue_key(session, alice, approved["id"], "Logiciel de la crèche", now)
        old = issue_key(session, alice, approved["id"], "Ancien serveur", now)
        revoke_key(session, alice, approved["id"], old.key.id, now)
        issue_key(session, alice, revoked["id"], "Logiciel des transports", now)
        revoke_as_administrator(session, ada, revoked["id"], "Fin du marché de transport.")
        # Ends in 20 days, as time would leave it: the page warns, a reminder is sent.
        session.exec(
            update(Habilitation)
            .where(Habilitation.id == approved["id"])
            .values(expires_at=now + 20 * DAY)
        )
    site.ids.update(
        draft=draft.id,
        exchanged=exchanged.id,
        refused=refused.id,
        habilitation=approved["id"],
        revoked=revoked["id"],
        reopened=reopened["id"],
        reopening=reopening,
        key=key.key.id,
    )


def seed_client(site: Site) -> None:
    with site.db.transaction() as session:
        created = add_client(
            session,
            ClientRegistration(
                name="Cantine de Villebourg – portail famille",
                redirect_uris=["https://famille.villebourg.example/retour"],
                scope="openid cnaf_quotient_familial",
            ),
        )
        service = session.get(Service, created["service_id"])
        service.organisation_siret = VILLEBOURG_SIRET
        session.add(service)
    site.ids["client"] = created["client_id"]


def seed_usage(site: Site) -> None:
    """Data API calls of the last days, as the data API journals them, rolled up."""
    now = int(time.time())
    calls = [
        ("dss/quotient_familial", "identite", "ok", 200, 40),
        ("dss/quotient_familial", "identite", "ok", 200, 180),
        ("dss/quotient_familial", "france_connect", "provider_error", 502, 900),
        ("cnous/etudiant_boursier", "ine", "ok", 200, 75),
        ("france_travail/statut", "identifiant", "not_found", 404, 60),
    ]
    with site.db.begin() as conn:
        for days_ago in range(0, 10, 3):
            for product, mode, outcome, status, latency in calls:
                conn.execute(
                    INSERT_JOURNAL,
                    {
                        "at": now - days_ago * DAY - 3600,
                        "request_id": f"req-{uuid.uuid4().hex}",
                        "service_id": "svc-demo",
                        "habilitation_id": "hab-demo",
                        "credential": "api_key",
                        "credential_id": "key-demo",
                        "client_id": None,
                        "citizen_id": None,
                        "subject": None,
                        "identity_digest": uuid.uuid4().hex,
                        "product": product,
                        "mode": mode,
                        "scopes": ["cnaf_quotient_familial"],
                        "recipient": VILLEBOURG_SIRET,
                        "outcome": outcome,
                        "status": status,
                        "error_code": None if status == 200 else "00200",
                        "cached": False,
                        "latency_ms": latency,
                    },
                )
    with site.db.transaction() as session:
        usage.roll_up(session, now + usage.SETTLE_SECONDS + 1)


def seed_status(site: Site) -> None:
    """Provider states (one down since an hour, with an incident; one slow) and a notice."""
    now = int(time.time())
    targets = {
        "provider:cnaf": "Caisse nationale des allocations familiales (CAF) et MSA",
        "provider:dgfip": "Direction générale des Finances publiques (impots.gouv.fr)",
        "provider:cnous": "Cnous",
    }
    for moment, states in (
        (now - 7200, {"provider:cnaf": UP, "provider:dgfip": UP, "provider:cnous": UP}),
        (now - 3600, {"provider:cnaf": UP, "provider:dgfip": DOWN, "provider:cnous": DEGRADED}),
    ):
        probes = [
            Probe(Target(key, targets[key], None), state, "" if state == UP else "HTTP 502", 30)
            for key, state in states.items()
        ]
        with site.db.transaction() as session:
            record_probes(session, probes, moment)
    with site.db.transaction() as session:
        add_notice(
            session,
            target="",
            message="Maintenance de la plateforme dimanche de 6 h à 8 h.",
            starts_at=now - 600,
            ends_at=now + DAY,
            actor="agent:seed admin@operateur.example",
            now=now,
        )


def seed_mail(site: Site) -> None:
    """The expiry reminder of the habilitation ending in 20 days, through the real SMTP sink."""
    context = site.state.context
    assert in_a_thread(send_due(context.db, context.mailer, site.url, int(time.time()))) >= 1
    [mail, *_] = caught(sink_directory(context.settings.var_dir))
    site.ids["mail"] = mail.id


@pytest.fixture(scope="module")
def site(db_factory, demo_idp, tmp_path_factory) -> Iterator[Site]:
    var_dir = tmp_path_factory.mktemp("portal-a11y") / "var"
    var_dir.mkdir()
    database_url = db_factory.create()
    sink = start_sink("127.0.0.1", free_port(), sink_directory(var_dir))
    sock = bound_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = make_settings(
        database_url,
        var_dir,
        "http://127.0.0.1:8000",
        demo_idp.url,
        portal_url=url,
        portal_idp_issuer=f"{demo_idp.url}/agents-demo",
        smtp_url=f"smtp://127.0.0.1:{sink.port}",
    )
    demo_idp.options.register(portal_as_client(settings))
    state = build_portal_state(settings)
    site = Site(url, state)
    try:
        seed_requests(site)
        seed_client(site)
        seed_usage(site)
        seed_status(site)
        seed_mail(site)
        with serve_app(create_portal_app(settings, run_jobs=False, state=state), sock):
            yield site
    finally:
        sink.stop()
        state.context.db.dispose()
        db_factory.drop(database_url)


# -- browsers --------------------------------------------------------------------------------


def sign_in(chromium, site: Site, login: str) -> dict:
    """One sign-in through the agents' identity provider's login page; the session's cookies
    (the portal's and the provider's, without any language choice)."""
    agent = next(a for a in AGENTS if a.login == login)
    context = chromium.new_context(locale="fr-FR")
    page = context.new_page()
    page.goto(f"{site.url}/connexion")
    page.get_by_label("Identifiant").fill(agent.login)
    page.get_by_label("Mot de passe").fill(agent.password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(site.url + "/")
    state = context.storage_state()
    context.close()
    state["cookies"] = [c for c in state["cookies"] if c["name"] != LANGUAGE_COOKIE]
    return state


class Browsers:
    """A browser per role and language, opened when first needed."""

    def __init__(self, chromium, site: Site) -> None:
        self.chromium, self.site = chromium, site
        self.sessions: dict[str, dict] = {}
        self.pages: dict[tuple[str, str], Any] = {}

    def page(self, role: str, lang: str):
        if (role, lang) not in self.pages:
            state = None
            if role != "anonymous":
                if role not in self.sessions:
                    self.sessions[role] = sign_in(self.chromium, self.site, ROLE_LOGINS[role])
                state = self.sessions[role]
            context = self.chromium.new_context(
                locale=LANGUAGES[lang], storage_state=state, viewport=LAPTOP
            )
            context.set_default_timeout(10_000)
            self.pages[role, lang] = context.new_page()
        page = self.pages[role, lang]
        page.set_viewport_size(LAPTOP)
        return page

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


@pytest.fixture(scope="module")
def browsers(site, chromium) -> Iterator[Browsers]:
    opened = Browsers(chromium, site)
    yield opened
    opened.close()


# -- the pages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    """A page: ``path`` opened, or ``post`` (page, site) done in the browser from it."""

    name: str
    role: str
    path: str
    status: int = 200
    post: Callable[[Any], Any] | None = None


def submit(selector: str, fill: dict[str, str] | None = None) -> Callable[[Any], Any]:
    """Fills fields (CSS selector: value) and clicks the form's button; the POST's answer."""

    def act(page) -> Any:
        for field_selector, value in (fill or {}).items():
            page.locator(field_selector).fill(value)
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            page.locator(selector).click()
        page.wait_for_load_state()
        return answer.value

    return act


# Paths name the seeded records: {habilitation}, {key}, {client}, {mail}, {draft}…
VISITS = [
    # Public pages and errors.
    Visit("home", "anonymous", "/"),
    Visit("signin-error", "anonymous", "/connexion/retour?code=x&state=y", 400),
    Visit("signed-out", "anonymous", "/deconnexion/terminee"),
    Visit("not-found", "anonymous", "/nulle-part", 404),
    Visit("stats-day", "anonymous", "/stats"),
    Visit("stats-week", "anonymous", "/stats?par=semaine"),
    Visit("stats-bad-period", "anonymous", "/stats?par=annee", 400),
    Visit("status", "anonymous", "/status"),
    Visit("mail-list", "anonymous", "/courriels"),
    Visit("mail", "anonymous", "/courriels/{mail}"),
    # A requester of the Mairie de Villebourg.
    Visit("home-signed-in", "requester", "/"),
    Visit("forbidden", "requester", "/audit", 403),
    Visit("requests", "requester", "/demandes"),
    Visit("request-new", "requester", "/demandes/nouvelle"),
    Visit(
        "request-form-errors",
        "requester",
        "/demandes/nouvelle",
        400,
        submit(
            "form[action^='/demandes/nouvelle'] button[type=submit]",
            {"#service": "", "#recipients": "12345678901234", "#responsible_email": "x"},
        ),
    ),
    Visit("request-draft", "requester", "/demandes/{draft}"),
    Visit("request-draft-edit", "requester", "/demandes/{draft}/modifier"),
    Visit("request-diff", "requester", "/demandes/{exchanged}"),
    Visit("request-refused", "requester", "/demandes/{refused}"),
    Visit("request-reopening", "requester", "/demandes/{reopening}"),
    Visit("request-reopening-edit", "requester", "/demandes/{reopening}/modifier"),
    Visit("request-not-found", "requester", "/demandes/req_inconnue", 404),
    Visit("habilitations", "requester", "/habilitations"),
    Visit("habilitation", "requester", "/habilitations/{habilitation}"),
    Visit("habilitation-revoked", "requester", "/habilitations/{revoked}"),
    Visit("habilitation-being-changed", "requester", "/habilitations/{reopened}"),
    Visit(
        "key-name-error",
        "requester",
        "/habilitations/{habilitation}",
        400,
        submit("form[action*='/cles?'] button", {"#cle-nom": " "}),
    ),
    Visit(
        "key-issued",
        "requester",
        "/habilitations/{habilitation}",
        200,
        submit("form[action*='/cles?'] button", {"#cle-nom": "Essai"}),
    ),
    Visit("key-revoke", "requester", "/habilitations/{habilitation}/cles/{key}/revocation"),
    Visit("clients", "requester", "/clients"),
    Visit("client", "requester", "/clients/{client}"),
    Visit(
        "client-errors",
        "requester",
        "/clients/{client}",
        400,
        submit(
            "form[action*='/adresses'] button",
            {"#redirect_uris": "http://ailleurs.example/retour#fragment"},
        ),
    ),
    Visit(
        "client-secret",
        "requester",
        "/clients/{client}",
        200,
        submit("form[action*='/secret'] button"),
    ),
    # An instructor.
    Visit("requests-instructor", "instructor", "/demandes"),
    Visit("requests-submitted", "instructor", "/demandes?etat=submitted"),
    Visit("request-to-decide", "instructor", "/demandes/{exchanged}"),
    Visit(
        "request-decision-error",
        "instructor",
        "/demandes/{exchanged}",
        400,
        submit("form[action*='/modifications'] button", {"#body-ask_changes": " "}),
    ),
    Visit("habilitations-all", "instructor", "/habilitations"),
    # An administrator.
    Visit("audit", "administrator", "/audit"),
    Visit("audit-filtered", "administrator", "/audit?action=request.submit"),
    Visit("roles", "administrator", "/roles"),
    Visit(
        "roles-errors",
        "administrator",
        "/roles",
        400,
        submit("form.roles-form button", {"#role-email": "pas-une-adresse"}),
    ),
    Visit("habilitation-admin", "administrator", "/habilitations/{habilitation}"),
    Visit("habilitation-revoke", "administrator", "/habilitations/{habilitation}/revocation"),
    Visit(
        "habilitation-revoke-error",
        "administrator",
        "/habilitations/{habilitation}/revocation",
        400,
        submit("form[action*='/revocation'] button", {"#motif": " "}),
    ),
    Visit("clients-all", "administrator", "/clients"),
    Visit("notices", "administrator", "/status/annonces"),
    Visit(
        "notices-errors",
        "administrator",
        "/status/annonces",
        400,
        submit("form.status-form button", {"#annonce-message": " "}),
    ),
    Visit("usage-all", "administrator", "/usage"),
    # A data provider (the CNAF).
    Visit("usage", "provider", "/usage"),
    Visit("usage-week", "provider", "/usage?par=semaine"),
    Visit("roles-forbidden", "provider", "/roles", 403),
]


def open_page(page, site: Site, visit: Visit) -> None:
    answer = page.goto(site.url + visit.path.format(**site.ids))
    if visit.post is not None:
        assert answer.status == 200, (visit.name, answer.status)
        answer = visit.post(page)
    assert answer.status == visit.status, (visit.name, answer.status, page.url)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("visit", VISITS, ids=lambda visit: visit.name)
def test_portal_page_has_no_serious_violation_and_fits_a_phone(site, browsers, visit, lang):
    page = browsers.page(visit.role, lang)
    open_page(page, site, visit)
    assert page.locator("html").get_attribute("lang") == lang
    found = serious_violations(page)
    page.set_viewport_size(PHONE)  # the same page on a phone's width, laid out again
    fits = fits_width(page)
    if lang == "fr" or found or not fits:
        screenshot(page, f"portal-a11y-{lang}-{visit.name}")  # at 390 px: the phone's view
    assert found == [], (visit.name, lang)
    assert fits, (visit.name, lang, "wider than a 390-pixel phone")
