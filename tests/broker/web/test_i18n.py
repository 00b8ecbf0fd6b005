"""French and English citizen pages: the catalog is complete, the locale is negotiated per
request (switch > cookie > ui_locales > Accept-Language > French), and every page follows it."""

from __future__ import annotations

import html
import re
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from sqlmodel import select

from broker.app import CATALOG_DIRS, template_environment
from broker.web import i18n
from broker.web.i18n import LazyString, format_date, gettext, lazy_gettext
from broker.web.locale import (
    SUPPORTED,
    current_locale,
    negotiate,
    parse_accept_language,
    use_locale,
)
from consent.models import ConsentEvent
from tests.helpers import DEMO_IDP, AuthorizationRequest, Browser, form_url, register_client

ROOT = Path(__file__).resolve().parents[3]
# Each package with pages keeps its own catalog: (package, its babel mapping, its locales).
PACKAGES = {
    "broker": (ROOT / "broker", ROOT / "broker" / "web" / "locales"),
    "consent": (ROOT / "consent", ROOT / "consent" / "locales"),
}
CATALOGS = [
    (name, po)
    for name, (_, locales) in PACKAGES.items()
    for po in sorted(locales.glob("*/LC_MESSAGES/messages.po"))
]
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9"}
FRENCH = {"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.5"}


# -- the catalog ---------------------------------------------------------------------------


def extracted_messages(package: str) -> dict[str, list[str]]:
    """Every translatable string of a package's templates and Python code, as its
    ``locales/babel.cfg`` says."""
    source, locales = PACKAGES[package]
    with (locales / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, "babel.cfg")
    # As the extract command of babel.cfg: `-k lazy_gettext -k N_` on top of the defaults.
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None, "N_": None}
    found: dict[str, list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(source), method_map, options_map, keywords=keywords
    ):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault(msgid, []).append(f"{filename}:{lineno}")
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_every_language_but_french_has_a_catalog(package):
    languages = [po.parts[-3] for name, po in CATALOGS if name == package]
    assert languages == [code for code in SUPPORTED if code != "fr"]


@pytest.mark.parametrize(
    ("package", "po_path"), CATALOGS, ids=lambda v: v if isinstance(v, str) else v.parts[-3]
)
def test_every_string_is_translated_and_nothing_is_stale(package, po_path):
    extracted = extracted_messages(package)
    expected = {"broker": "Identifiant ou mot de passe incorrect.", "consent": "Votre identité"}
    assert expected[package] in extracted
    with po_path.open("rb") as po:
        catalog = read_po(po, locale=po_path.parts[-3])
    assert not catalog.obsolete, f"obsolete entries: {list(catalog.obsolete)}"
    # A plural entry is keyed by its singular, as extraction names it.
    translated = {(m.id[0] if isinstance(m.id, tuple) else m.id): m for m in catalog if m.id}
    missing = {
        msgid: where
        for msgid, where in extracted.items()
        if msgid not in translated or not has_translation(translated[msgid])
    }
    assert not missing, f"strings without a translation: {missing}"
    fuzzy = [m.id for m in translated.values() if m.fuzzy]
    assert not fuzzy, f"fuzzy translations: {fuzzy}"
    stale = sorted(set(translated) - set(extracted))
    assert not stale, f"catalog entries no source uses any more: {stale}"
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalog.check()]
    assert not problems, f"placeholders differ between French and English: {problems}"


def has_translation(message) -> bool:
    forms = message.string
    return all(forms) if isinstance(forms, tuple) else bool(forms)


@pytest.fixture
def catalogs():
    """The catalogs of every package with pages, as the composition root sets them."""
    i18n.use_catalogs(CATALOG_DIRS)
    yield


def test_the_compiled_catalog_translates(catalogs):
    with use_locale("en"):
        assert gettext("Connexion") == "Sign in"
        assert gettext("Votre identité") == "Your identity"
        assert gettext("une phrase absente du catalogue") == "une phrase absente du catalogue"
        assert gettext("") == ""
    with use_locale("fr"):
        assert gettext("Connexion") == "Connexion"
    assert current_locale() == "fr"  # outside any request or block
    assert i18n.translations("en") is i18n.translations("en")  # compiled once per process


def test_lazy_strings_follow_the_locale_in_which_they_are_shown():
    title = lazy_gettext("Page introuvable")
    assert isinstance(title, LazyString)
    with use_locale("en"):
        assert str(title) == "Page not found" and gettext(title) == "Page not found"
    with use_locale("fr"):
        assert str(title) == "Page introuvable"


# -- negotiation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, expected",
    [
        ((None, None, None, None), "fr"),
        (("en", "fr", "fr", "fr"), "en"),  # the switch wins over everything
        (("de", "en", "fr", "fr"), "en"),  # an unsupported switch is ignored
        ((None, "en", "fr", "fr"), "en"),  # then the cookie
        ((None, "xx", "en", "fr"), "en"),  # then ui_locales
        ((None, None, "de en-GB fr", "fr"), "en"),  # the first supported of ui_locales
        ((None, None, "de it", "en"), "en"),  # none supported: Accept-Language
        ((None, None, None, "en-US,en;q=0.9"), "en"),
        ((None, None, None, "de-DE,de;q=0.9"), "fr"),
    ],
)
def test_negotiation_order(args, expected):
    assert negotiate(*args) == expected


def test_accept_language_quality_values():
    assert parse_accept_language("fr;q=0.4, en-GB;q=0.8") == ["en", "fr"]
    assert parse_accept_language("de, en;q=0.5, fr;q=0.5") == ["en", "fr"]  # ties: header order
    assert parse_accept_language("en;q=0, fr;q=0.1") == ["fr"]  # q=0: not acceptable
    assert parse_accept_language("*") == [] and parse_accept_language("en;q=abc") == []
    assert parse_accept_language("EN_gb") == ["en"]
    assert negotiate(accept_language="fr;q=0.4, en;q=0.8") == "en"


def test_dates_are_written_out_in_paris_time():
    # 28 November 2026 at 23:30 UTC is already the 29th in Paris
    late = datetime(2026, 11, 28, 23, 30, tzinfo=ZoneInfo("UTC")).timestamp()
    noon = datetime(2026, 11, 28, 12, 0, tzinfo=ZoneInfo("Europe/Paris")).timestamp()
    assert format_date(noon, "fr") == "28 novembre 2026"
    assert format_date(noon, "en") == "28 November 2026"
    assert format_date(late, "fr") == "29 novembre 2026"
    with use_locale("en"):
        assert format_date(noon) == "28 November 2026"


# -- the consent screen template -----------------------------------------------------------


def render(settings_factory, template: str, locale: str, **context) -> str:
    env = template_environment(settings_factory())
    with use_locale(locale):
        return env.get_template(template).render(**context)


CONSENT_CONTEXT = dict(  # noqa: C408 - the template's context, as keyword arguments
    action="/interaction/x/consent?lang=fr",
    csrf_token="tok",
    service_name="Cantine <Test>",
    service_logo_url="/services/s1/logo",
    citizen={"given_name": "Angela", "family_name": "DUBOIS"},
    purpose="Tarification",
    legal_basis="Code",
    legal_basis_url="https://example.org/loi",
    groups=[
        {
            "provider_name": "Votre identité",
            "provider": None,
            "items": [
                {"scope": "family_name", "label": "Votre nom", "optional": False, "checked": True}
            ],
            "preview": {
                "status": "ok",
                "notes": [],
                "values": {"family_name": [{"label": "Nom", "value": "DUBOIS"}]},
            },
        },
        {
            "provider_name": "CAF",
            "provider": "cnaf",
            "items": [
                {"scope": "cnaf_adresse", "label": "Adresse", "optional": True, "checked": True},
                {"scope": "cnaf_enfants", "label": "Enfants", "optional": True, "checked": False},
            ],
            "preview": {
                "status": "failed",
                "notes": ["Nous n'avons pas pu lire ces données auprès de la CAF."],
                "values": {},
            },
        },
        {
            "provider_name": "Cnous",
            "provider": "cnous",
            "items": [
                {"scope": "cnous_statut", "label": "Statut", "optional": False, "checked": True}
            ],
            "preview": {
                "status": "not_found",
                "notes": ["Le Cnous n'a trouvé aucune donnée à votre nom."],
                "values": {},
            },
        },
    ],
    preview_available=True,
    preview_summary=["Les valeurs affichées ne sont pas conservées."],
    preview_shown=True,
    consent_mode="recurring",
    consent_until=datetime(2027, 2, 26, 12, tzinfo=ZoneInfo("Europe/Paris")).timestamp(),
    dashboard_url="/espace",
)


def test_consent_screen_with_every_feature(settings_factory):
    out = render(settings_factory, "consent.html", "fr", **CONSENT_CONTEXT)
    assert '<img src="/services/s1/logo" alt="Logo de Cantine &lt;Test&gt;">' in out
    assert "«\u00a0Cantine &lt;Test&gt;\u00a0» demande à accéder à vos données" in out
    assert '<input type="checkbox" name="scope" value="cnaf_adresse"' in out
    ticked = re.findall(r'<input[^>]*name="scope" value="([^"]+)"[^>]*checked', out)
    assert ticked == ["cnaf_adresse"]
    for box in re.findall(r'id="(element-[^"]+)"', out):
        assert f'<label for="{box}">' in out  # every checkbox has its label
    assert out.index('name="scope"') > out.index("<form") and out.index('name="scope"') < out.index(
        'value="approve"'
    ) < out.index("</form>")
    assert "(obligatoire)" in out and "(facultatif)" in out
    assert "<dt>Nom</dt>" in out and "<dd>DUBOIS</dd>" in out
    assert "Nous n&#39;avons pas pu lire ces données auprès de la CAF." in out
    assert "Le Cnous n&#39;a trouvé aucune donnée" in out
    assert "cela n'empêche" not in out  # no sentence pushes towards approving
    assert "ne sont pas conservées" in out and "Voir les données" not in out
    assert "Votre accord vaut jusqu'au 26 février 2027 ; vous pouvez le retirer" in out
    assert 'href="/espace">Votre espace : accords et accès à vos données</a>' in out

    english = render(settings_factory, "consent.html", "en", **CONSENT_CONTEXT)
    assert 'alt="Logo of Cantine &lt;Test&gt;"' in english
    assert "“Cantine &lt;Test&gt;” is asking to access your data" in english
    assert "(required)" in english and "(optional)" in english
    assert "Your consent is valid until 26 February 2027" in english
    assert "Your personal space: consents and access to your data" in english
    assert '<dd lang="fr">Tarification</dd>' in english  # the habilitation's own French text


def test_consent_screen_without_the_optional_context(settings_factory):
    minimal = {
        "action": "/a",
        "csrf_token": "t",
        "service_name": "S",
        "groups": [{"provider_name": "P", "items": [{"scope": "x", "label": "X"}]}],
    }
    out = render(settings_factory, "consent.html", "fr", **minimal)
    assert "<img" not in out and 'name="scope"' not in out and "(obligatoire)" in out
    one_time = render(
        settings_factory,
        "consent.html",
        "fr",
        consent_mode="one_time",
        preview_available=True,
        **minimal,
    )
    assert (
        "Accord valable pour cette seule demande : rien n'est conservé pour la suite."
    ) in one_time
    assert 'name="decision" value="preview"' in one_time


def test_a_theme_template_gets_the_translations_too(settings_factory, tmp_path):
    (tmp_path / "message.html").write_text('{{ _("Connexion") }} / {{ _("Votre identité") }}')
    env = template_environment(settings_factory(theme_dir=tmp_path))
    with use_locale("en"):
        # A text of the broker's catalog, and one of the consent side's.
        assert env.get_template("message.html").render() == "Sign in / Your identity"


# -- over HTTP -----------------------------------------------------------------------------


def browser_with(broker, headers: dict[str, str]) -> Browser:
    browser = Browser(broker.url)
    browser.http.headers.update(headers)
    return browser


def html_lang(page: httpx.Response) -> str:
    match = re.search(r'<html lang="([^"]+)"', page.text)
    assert match, page.text[:200]
    return match.group(1)


def form_action(page: httpx.Response) -> str:
    return html.unescape(re.search(r'<form method="post" action="([^"]+)"', page.text).group(1))


def consent_events(state):
    with state.db.reader() as s:
        return s.exec(select(ConsentEvent).order_by(ConsentEvent.id)).all()


def test_french_by_default(broker):
    client = register_client(broker.state, scope="openid family_name")
    browser = Browser(broker.url)
    location = browser.authorize(AuthorizationRequest(client)).headers["location"]
    page = browser.get(location)
    assert html_lang(page) == "fr" and "<h1>Choisissez comment vous identifier</h1>" in page.text
    assert '<a href="?lang=en" hreflang="en" lang="en">English</a>' in page.text
    assert f'action="{urlpath(location)}?lang=fr"' in page.text
    assert "broker_lang" not in page.headers.get("set-cookie", "")


def urlpath(url: str) -> str:
    return httpx.URL(url).path


def test_accept_language_english_gives_english_pages(broker):
    client = register_client(broker.state, name="Cantine de Test", scope="openid family_name")
    browser = browser_with(broker, ENGLISH)
    login_url = browser.authorize(AuthorizationRequest(client)).headers["location"]
    page = browser.get(login_url)
    assert html_lang(page) == "en" and "<h1>Choose how to identify yourself</h1>" in page.text
    assert "To continue to “Cantine de Test”, identify yourself" in page.text
    assert "Sign in with Identité démo" in page.text
    assert '<a href="?lang=fr" hreflang="fr" lang="fr">Français</a>' in page.text
    assert page.headers["content-language"] == "en"

    leave = browser.post(login_url, data={"csrf_token": browser.csrf(page), "idp": DEMO_IDP})
    at_idp = browser.get(leave.headers["location"])  # the provider follows the language too
    assert html_lang(at_idp) == "en" and "Sign in to Identité démo" in at_idp.text
    wrong = browser.post(
        form_url(leave.headers["location"], at_idp.text),
        data={"csrf_token": browser.csrf(at_idp), "login": "test", "password": "wrong"},
    )
    assert wrong.status_code == 401 and "Incorrect username or password." in wrong.text

    response = browser.upstream_login(leave.headers["location"])
    consent_url = response.headers["location"]
    page = browser.get(consent_url)
    assert html_lang(page) == "en"
    assert "“Cantine de Test” is asking to access your data" in page.text
    assert '<h2 id="groupe-1">Your identity</h2>' in page.text
    assert "J'accepte" not in page.text and "I agree to share this data" in page.text

    response = browser.consent(consent_url)
    assert response.status_code == 303
    wording = consent_events(broker.state)[-1].wording
    assert wording["locale"] == "en"
    assert wording["groups"][0]["provider_name"] == "Your identity"
    assert wording["groups"][0]["items"][0]["label"] != "Votre nom"

    expired = browser.get(login_url)  # the interaction is over
    assert html_lang(expired) == "en" and "Step already completed" in expired.text
    missing = browser.get("/nulle-part")
    assert missing.status_code == 404 and html_lang(missing) == "en"
    assert "Page not found" in missing.text
    unknown = browser.get("/authorize", params={"client_id": "inconnu", "response_type": "code"})
    assert "Unknown service" in unknown.text and html_lang(unknown) == "en"


def test_ui_locales_of_the_authorization_request(broker):
    client = register_client(broker.state, scope="openid family_name")
    browser = browser_with(broker, FRENCH)
    request = AuthorizationRequest(client, extra={"ui_locales": "de en fr"})
    login_url = browser.authorize(request).headers["location"]
    page = browser.get(login_url)
    assert html_lang(page) == "en" and "<h1>Choose how to identify yourself</h1>" in page.text
    response = browser.login(login_url)
    consent_url = response.headers["location"]
    page = browser.get(consent_url)
    assert html_lang(page) == "en" and "is asking to access your data" in page.text
    # A browser posts the form to its action, which carries the language it was shown in.
    assert form_action(page) == urlpath(consent_url) + "?lang=en"
    response = browser.post(
        form_action(page), data={"csrf_token": browser.csrf(page), "decision": "approve"}
    )
    assert response.status_code == 303 and "set-cookie" not in response.headers
    assert consent_events(broker.state)[-1].wording["locale"] == "en"

    unknown = browser.get(
        "/authorize", params={"client_id": "inconnu", "response_type": "code", "ui_locales": "en"}
    )
    assert html_lang(unknown) == "en" and "Unknown service" in unknown.text


def test_switch_sets_a_cookie_that_wins_over_ui_locales_and_accept_language(broker):
    client = register_client(broker.state, scope="openid family_name")
    browser = browser_with(broker, ENGLISH)
    request = AuthorizationRequest(client, extra={"ui_locales": "en"})
    login_url = browser.authorize(request).headers["location"]
    page = browser.get(login_url, params={"lang": "fr"})
    assert html_lang(page) == "fr" and "<h1>Choisissez comment vous identifier</h1>" in page.text
    cookie = page.headers["set-cookie"]
    assert cookie.startswith("broker_lang=fr;") and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie and "Secure" not in cookie  # plain-http development
    assert '<a href="?lang=en" hreflang="en" lang="en">English</a>' in page.text

    again = browser.get(login_url)  # no switch now: the cookie
    assert html_lang(again) == "fr" and "set-cookie" not in again.headers
    response = browser.login(login_url)
    page = browser.get(response.headers["location"])
    assert html_lang(page) == "fr" and "demande à accéder à vos données" in page.text

    back = browser.get(response.headers["location"], params={"lang": "en"})
    assert html_lang(back) == "en" and back.headers["set-cookie"].startswith("broker_lang=en;")


def test_a_form_posted_in_a_language_answers_in_it_without_setting_the_cookie(broker):
    client = register_client(broker.state, scope="openid family_name")
    browser = browser_with(broker, FRENCH)
    login_url = browser.authorize(AuthorizationRequest(client)).headers["location"]
    browser.get(login_url)
    wrong = browser.post(
        login_url + "?lang=en", data={"csrf_token": "not-this-one", "idp": DEMO_IDP}
    )
    assert wrong.status_code == 403 and html_lang(wrong) == "en"
    assert "Invalid form" in wrong.text
    assert "set-cookie" not in wrong.headers


def test_the_switch_keeps_the_rest_of_the_address(broker):
    response = httpx.get(
        f"{broker.url}/authorize",
        params={"client_id": "inconnu", "response_type": "code", "lang": "en"},
    )
    assert html_lang(response) == "en"
    assert (
        '<a href="?client_id=inconnu&amp;response_type=code&amp;lang=fr" hreflang="fr" '
        'lang="fr">Français</a>'
    ) in response.text
    ignored = httpx.get(f"{broker.url}/nulle-part", params={"lang": "de"}, headers=ENGLISH)
    assert html_lang(ignored) == "en" and "set-cookie" not in ignored.headers


def test_the_cookie_is_secure_over_https(production):
    async def steps(http, client):
        return await http.get("/nulle-part", params={"lang": "en"})

    response = production(steps)
    assert html_lang(response) == "en" and "Page not found" in response.text
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-broker_lang=en;") and "; Secure" in cookie


def test_catalogs_loaded_together_agree_on_shared_words():
    """The catalogs are merged in one process (the first one that knows a word wins): a word in
    two of them must read the same in both, or one page silently takes the other's wording."""
    catalogs = [
        read_po((directory / "en" / "LC_MESSAGES" / "messages.po").open("rb"))
        for directory in CATALOG_DIRS
    ]
    first, *others = catalogs
    conflicts = [
        message.id
        for other in others
        for message in other
        if message.id and (known := first.get(message.id)) and known.string != message.string
    ]
    assert conflicts == []
