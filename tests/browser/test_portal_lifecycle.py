"""A habilitation's whole life on the operators' portal, in Chromium, over real sockets: the
portal, the demo agents' identity provider (its ``agents-demo`` site), the broker, the data API
and the provider simulators, all on one migrated database.

An agent of the Mairie de Villebourg signs in at the agents' provider, files a request (SIRET,
service, purpose, legal basis and its link, data picked from the catalogue, contacts,
recipients, volume) and submits it; an instructor, in another browser, asks for a change; the
requester amends it (version 2) and submits it again; the instructor sees what changed and
approves; the requester issues an API key, shown once, and the key reads a citizen's data on
the data API; an administrator revokes the habilitation; the same key is refused at its next
call. Every step is screenshotted (``portal-NN-…``)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from broker.demo.agents import AGENTS, VILLEBOURG_SIRET
from broker.demo.idp.registration import portal_as_client
from broker.portal.app import build_portal_state, create_portal_app
from tests.browser.conftest import screenshot
from tests.e2e.data_api_support import assert_error, assert_ok, call, identite_params
from tests.servers import bound_socket, serve_app

QF_IDENTITE = "/v3/dss/quotient_familial/identite"
SERVICE = "Restauration scolaire de Villebourg"
REQUEST_PAGE = re.compile(r".*/demandes/req_[\w-]+\?fait=\w+$")
SECRET = re.compile(r"bpk_[A-Za-z0-9_-]{20,}")
REQUESTER = next(a for a in AGENTS if a.siret == VILLEBOURG_SIRET)
INSTRUCTOR = next(a for a in AGENTS if ("instructor", "") in a.roles)
ADMINISTRATOR = next(a for a in AGENTS if ("administrator", "") in a.roles)


@dataclass
class Portal:
    url: str


@pytest.fixture
def portal(broker, data_api, demo_idp) -> Iterator[Portal]:
    """The portal on its own socket, on the broker's database, registered at the demo agents'
    identity provider as its client; its key pages name the data API's address."""
    sock = bound_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = broker.settings.model_copy(
        update={
            "portal_url": url,
            "portal_idp_issuer": f"{demo_idp.url}/agents-demo",
            "data_api_url": data_api.url,
        }
    )
    demo_idp.options.register(portal_as_client(settings))
    state = build_portal_state(settings)
    with serve_app(create_portal_app(settings, run_jobs=False, state=state), sock):
        yield Portal(url)


def signed_in(chromium, portal: Portal, agent):
    """A browser of its own, signed in at the agents' identity provider's login page."""
    context = chromium.new_context(locale="fr-FR")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.goto(portal.url + "/")
    page.get_by_role("main").get_by_role("link", name="Se connecter").click()
    page.wait_for_url("**/agents-demo/**")
    assert page.get_by_role("cell", name=agent.login, exact=True).count() == 1  # a test agent
    page.get_by_label("Identifiant").fill(agent.login)
    page.get_by_label("Mot de passe").fill(agent.password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(portal.url + "/")
    assert f"{agent.given_name} {agent.usual_name}" in page.locator("header").inner_text()
    return page


def fill_request(page) -> None:
    """The form as the requester fills it in (the organisation's SIRET comes from the sign-in)."""
    assert page.get_by_label("SIRET de l'organisation").input_value() == VILLEBOURG_SIRET
    page.get_by_label("Service en ligne").fill(SERVICE)
    page.get_by_label("Finalité").fill(
        "Calculer le tarif de la cantine scolaire selon le quotient familial."
    )
    page.get_by_label("Cadre juridique", exact=True).fill("Code de l'éducation, article L. 131-13")
    page.get_by_label("Lien vers le texte juridique").fill(
        "https://www.legifrance.gouv.fr/codes/article_lc/LEGIARTI000038901859"
    )
    page.locator("#scope-cnaf_quotient_familial").check()
    page.locator("#scope-cnaf_enfants").check()
    page.locator("#optional-cnaf_enfants").check()
    page.get_by_label("Renouvelable", exact=False).check()
    page.get_by_label("Durée du consentement, en jours").fill("365")
    page.get_by_label("Destinataires (SIRET)").fill(VILLEBOURG_SIRET)
    page.get_by_label("Volume attendu").fill("500 par mois")
    contacts = {
        "responsible": ("Sophie Martin", "sophie.martin@villebourg.example"),
        "dpo": ("Denis Poli", "dpo@villebourg.example"),
        "technical": ("Théo Chnique", "tech@villebourg.example"),
    }
    for role, (name, email) in contacts.items():
        page.locator(f"#{role}_name").fill(name)
        page.locator(f"#{role}_email").fill(email)
    page.get_by_label("Responsable du traitement").fill("Mairie de Villebourg")
    page.get_by_label("Durée de conservation").fill("Un an après la fin de l'année scolaire.")


def key_call(data_api, secret: str, params: dict):
    """The quotient familial of a citizen, for the Mairie de Villebourg, with an API key."""
    return call(
        data_api, QF_IDENTITE, secret, header="x-api-key", recipient=VILLEBOURG_SIRET, params=params
    )


def test_request_to_revocation_in_the_browser(chromium, portal, data_api):
    params = identite_params("nom_composé")

    # 1. The requester signs in and files a request.
    alice = signed_in(chromium, portal, REQUESTER)
    screenshot(alice, "portal-01-requester-signed-in")
    alice.get_by_role("link", name="Voir les demandes").click()
    alice.get_by_role("link", name="Déposer une nouvelle demande").click()
    alice.wait_for_url("**/demandes/nouvelle")
    fill_request(alice)
    screenshot(alice, "portal-02-request-form")
    alice.get_by_role("button", name="Enregistrer le brouillon").click()
    alice.wait_for_url(REQUEST_PAGE)
    request_path = alice.url.split("?")[0].removeprefix(portal.url)
    assert alice.locator(".requests-status").inner_text() == "Brouillon"
    alice.get_by_role("button", name="Déposer la demande").click()
    alice.wait_for_url(f"**{request_path}?fait=submit")
    assert alice.locator(".requests-status").inner_text() == "Déposée, en instruction"
    screenshot(alice, "portal-03-request-submitted")

    # 2. An instructor, in another browser, opens it and asks for a change.
    ines = signed_in(chromium, portal, INSTRUCTOR)
    ines.get_by_role("link", name="Voir les demandes").click()
    ines.get_by_role("link", name=SERVICE).click()
    ines.wait_for_url(f"**{request_path}")
    screenshot(ines, "portal-04-instructor-reads")
    ines.get_by_label("Ce que l'organisation doit modifier").fill(
        "Ajoutez l'adresse : elle sert à vérifier la commune de résidence."
    )
    ines.get_by_role("button", name="Demander des modifications").click()
    ines.wait_for_url(f"**{request_path}?fait=ask_changes")
    assert ines.locator(".requests-status").inner_text() == "Modifications demandées"
    screenshot(ines, "portal-05-changes-asked")

    # 3. The requester reads the message, amends the request (version 2), submits it again.
    alice.goto(portal.url + request_path)
    assert "Ajoutez l'adresse" in alice.locator(".requests-messages").inner_text()
    screenshot(alice, "portal-06-requester-reads-the-message")
    alice.get_by_role("link", name="Modifier la demande").click()
    alice.wait_for_url(f"**{request_path}/modifier")
    alice.locator("#scope-cnaf_adresse").check()
    alice.get_by_label("Volume attendu").fill("800 par mois")
    alice.get_by_role("button", name="Enregistrer le brouillon").click()
    alice.wait_for_url(f"**{request_path}?fait=enregistree")
    alice.get_by_role("button", name="Déposer de nouveau la demande").click()
    alice.wait_for_url(f"**{request_path}?fait=submit")
    screenshot(alice, "portal-07-amended-and-resubmitted")

    # 4. The instructor sees what changed between the versions and approves.
    ines.goto(portal.url + request_path)
    changes = ines.locator("section", has=ines.locator("#diff-titre"))
    assert changes.get_by_role("heading", name="Ce qui a changé depuis la version 1").count() == 1
    assert "Votre adresse" in changes.locator(".requests-diff-added").inner_text()
    volume = changes.get_by_role("row", name=re.compile("Volume attendu"))
    assert "500 par mois" in volume.inner_text() and "800 par mois" in volume.inner_text()
    screenshot(ines, "portal-08-instructor-sees-the-difference")
    ines.get_by_role("button", name="Approuver la demande").click()
    ines.wait_for_url(f"**{request_path}?fait=approve")
    assert ines.locator(".requests-status").inner_text() == "Approuvée"
    screenshot(ines, "portal-09-approved")

    # 5. The requester opens the habilitation and issues a key, shown once.
    alice.goto(portal.url + request_path)
    alice.locator("dd a[href^='/habilitations/']").click()
    alice.wait_for_url(re.compile(r".*/habilitations/[\w-]+$"))
    habilitation_path = alice.url.removeprefix(portal.url)
    assert alice.locator('[data-scope="cnaf_adresse"]').count() == 1
    screenshot(alice, "portal-10-habilitation")
    alice.get_by_label("Nom de la clé").fill("Logiciel de la cantine")
    alice.get_by_role("button", name="Émettre une clé").click()
    alice.wait_for_url(f"**{habilitation_path}/cles?lang=fr")
    secret = alice.locator("[data-secret]").inner_text().strip()
    assert SECRET.fullmatch(secret), secret
    screenshot(alice, "portal-11-key-issued")
    alice.get_by_role("link", name="J'ai copié la clé, revenir à l'habilitation").click()
    alice.wait_for_url(f"{portal.url}{habilitation_path}#cles")
    assert secret not in alice.content()  # shown once only

    # 6. The key reads a citizen's data on the data API.
    data = assert_ok(key_call(data_api, secret, params))
    assert data["quotient_familial"]["valeur"] == 635

    # 7. An administrator revokes the habilitation, after a confirmation page with a reason.
    adam = signed_in(chromium, portal, ADMINISTRATOR)
    adam.goto(portal.url + habilitation_path)
    adam.get_by_role("link", name="Révoquer l'habilitation…").click()
    adam.wait_for_url(f"**{habilitation_path}/revocation")
    adam.get_by_label("Motif de la révocation").fill("Fin du marché de restauration scolaire.")
    screenshot(adam, "portal-12-revocation-confirmation")
    adam.get_by_role("button", name="Révoquer l'habilitation").click()
    adam.wait_for_url(f"**{habilitation_path}?fait=habilitation-revoquee")
    assert adam.locator("[data-revocation]").count() == 1
    screenshot(adam, "portal-13-revoked")

    # 8. The same key is refused at its next call (a JSON:API error), and the requester sees why.
    error = assert_error(key_call(data_api, secret, params), 401, "00105")
    assert error["detail"] == "L'habilitation de cette clé d'API a été révoquée."
    alice.goto(portal.url + habilitation_path)
    assert (
        "Fin du marché de restauration scolaire." in alice.locator("[data-revocation]").inner_text()
    )
    screenshot(alice, "portal-14-requester-sees-the-revocation")
