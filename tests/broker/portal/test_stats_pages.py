"""The usage statistics pages: /stats public and free of personal data, /usage for data
providers (their own products and the services calling them only) and administrators;
charts and tables saying the same."""

from __future__ import annotations

import re
import time
import uuid
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

import pytest
from sqlalchemy import insert, select

from broker.admin import usage
from broker.core.db import table_of
from broker.demo.seed import DEMO_CLIENT_ID, DEMO_SERVICE_NAME
from broker.store.data_access_store import INSERT_JOURNAL
from broker.store.models import Citizen, OAuthClient, Service
from consent.models import ConsentEvent, ConsentGrant
from tests.broker.portal.conftest import OPERATOR, VILLEBOURG, sign_in

SVG = "{http://www.w3.org/2000/svg}"
RECIPIENT = "21730001500013"
CITIZEN_NAME = ("Zéphyrine", "Quelconque-Trémaux")
OTHER_SERVICE_NAME = "Val Fleuri – Transports scolaires"
QUOTIENT_OF_THE_CNAF = (
    "Quotient familial CAF & MSA, "
    "Caisse nationale des allocations familiales (CAF) et Mutualité sociale agricole (MSA)"
)


def journal(portal, **fields) -> dict:
    """One data API row about a citizen, as the data API writes it; returns its fields."""
    row = {
        "at": int(time.time()) - 60,  # today, even just after midnight
        "request_id": f"req-{uuid.uuid4().hex}",
        "service_id": f"svc-{uuid.uuid4().hex[:12]}",
        "habilitation_id": f"hab-{uuid.uuid4().hex[:12]}",
        "credential": "api_key",
        "credential_id": f"key-{uuid.uuid4().hex[:12]}",
        "client_id": f"client-{uuid.uuid4().hex[:12]}",
        "citizen_id": f"cit-{uuid.uuid4().hex}",
        "subject": f"sub-{uuid.uuid4().hex}",
        "identity_digest": uuid.uuid4().hex + uuid.uuid4().hex,
        "product": "dss/quotient_familial",
        "mode": "identite",
        "scopes": ["cnaf_quotient_familial"],
        "recipient": RECIPIENT,
        "outcome": "ok",
        "status": 200,
        "error_code": None,
        "cached": False,
        "latency_ms": 42,
    }
    row.update(fields)
    with portal.db.begin() as conn:
        conn.execute(INSERT_JOURNAL, row)
    return row


def consent(portal, *kinds: str) -> str:
    """A citizen's grant to the demo service with these events; returns the citizen's id."""
    now = int(time.time()) - 60
    citizen_id, grant_id = uuid.uuid4().hex, uuid.uuid4().hex
    with portal.db.begin() as conn:
        client = conn.execute(
            select(table_of(OAuthClient)).where(table_of(OAuthClient).c.client_id == DEMO_CLIENT_ID)
        ).one()
        conn.execute(
            insert(table_of(Citizen)).values(
                id=citizen_id, idp="demo", idp_subject=citizen_id, given_name=CITIZEN_NAME[0],
                family_name=CITIZEN_NAME[1], birthdate="1990-01-01", gender="female",
                birthcountry="99100", created_at=now, updated_at=now,
            )
        )  # fmt: skip
        conn.execute(
            insert(table_of(ConsentGrant)).values(
                id=grant_id, citizen_id=citizen_id, client_id=DEMO_CLIENT_ID,
                service_id=client.service_id, status="active", mode="recurring", created_at=now,
            )
        )  # fmt: skip
        for kind in kinds:
            conn.execute(
                insert(table_of(ConsentEvent)).values(
                    grant_id=grant_id, kind=kind, scopes=["cnaf_quotient_familial"],
                    wording={"service": DEMO_SERVICE_NAME}, at=now,
                )
            )  # fmt: skip
    return citizen_id


def demo_service_id(portal) -> str:
    services = table_of(Service)
    with portal.db.begin() as conn:
        return conn.execute(
            select(services.c.id).where(services.c.name == DEMO_SERVICE_NAME)
        ).scalar_one()


def other_service(portal) -> str:
    """A second calling service, of the other demo organisation; returns its id."""
    service_id = f"svc-{uuid.uuid4().hex[:12]}"
    with portal.db.begin() as conn:
        conn.execute(
            insert(table_of(Service)).values(
                id=service_id, name=OTHER_SERVICE_NAME, sector_identifier="val-fleuri.example",
                created_at=int(time.time()), organisation_siret="20005478900017",
            )
        )  # fmt: skip
    return service_id


def roll_up(portal) -> None:
    with portal.db.transaction() as session:
        usage.roll_up(session, int(time.time()) + usage.SETTLE_SECONDS + 1)


class Tables(HTMLParser):
    """Each table's rows (header cell and cells, as text), by table id; a row header's note
    (a product's provider) comes last in its row."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.current: str | None = None
        self.in_body = False
        self.cell: list[str] | None = None
        self.note: list[str] | None = None
        self.notes: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "data-note" in attributes:
            self.note = []
        elif tag == "table":
            self.current = attributes.get("id")
            self.tables[self.current or ""] = []
        elif tag == "tbody":
            self.in_body = True
        elif tag == "tr" and self.in_body and self.current:
            self.tables[self.current].append([])
        elif tag in ("th", "td") and self.in_body and self.current:
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "span" and self.note is not None and self.current:
            self.notes.append("".join(self.note).strip())
            self.note = None
        elif tag in ("th", "td") and self.cell is not None and self.current:
            # ASCII white space only: Babel's narrow no-break spaces are part of the figures.
            cell = re.sub(r"[ \t\r\n]+", " ", "".join(self.cell)).strip()
            self.tables[self.current][-1].append(cell)
            self.cell = None
        elif tag == "tr" and self.in_body and self.current:
            self.tables[self.current][-1].extend(self.notes)
            self.notes = []
        elif tag == "tbody":
            self.in_body = False
        elif tag == "table":
            self.current = None

    def handle_data(self, data):
        if self.note is not None:
            self.note.append(data)
        elif self.cell is not None:
            self.cell.append(data)


def tables_of(html: str) -> dict[str, list[list[str]]]:
    parser = Tables()
    parser.feed(html)
    return parser.tables


def svg_of(html: str, chart_id: str) -> ET.Element:
    """A chart of the page, parsed as XML: it must be well-formed as it is embedded."""
    match = re.search(rf'<svg [^>]*aria-labelledby="{chart_id}-title.*?</svg>', html, re.S)
    assert match, f"no chart {chart_id}"
    return ET.fromstring(match.group(0))


def text_of(html: str) -> str:
    return " ".join(html.split())


# -- the public page -------------------------------------------------------------------------


def test_public_stats_need_no_session(portal):
    journal(portal)
    roll_up(portal)
    page = portal.client().get("/stats")
    assert page.status_code == 200
    assert "set-cookie" not in page.headers  # no session opened for a visitor
    assert "<h1>Statistiques d'usage</h1>" in page.text
    assert page.text.count('role="img"') >= 4
    assert 'style="' not in page.text and "<script" not in page.text
    assert '<link rel="stylesheet" href="/static/stats.css">' in page.text
    assert portal.client().get("/static/stats.css").status_code == 200


def test_attack_no_personal_data_on_the_public_page(portal):
    villebourg, val_fleuri = demo_service_id(portal), other_service(portal)
    rows = [
        journal(portal),
        journal(portal, status=404, outcome="not_found", error_code="01003"),
        journal(portal, product="cnous/etudiant_boursier", credential="access_token"),
        journal(portal, product="identity", mode="openid", credential="userinfo"),
        # Named services calling: the per-service roll-up holds their ids, /usage their names.
        journal(portal, service_id=villebourg),
        journal(portal, service_id=val_fleuri, status=504, outcome="timeout"),
    ]
    citizen = consent(portal, "granted", "revoked")
    roll_up(portal)
    secrets = {citizen, *CITIZEN_NAME, DEMO_SERVICE_NAME, DEMO_CLIENT_ID, RECIPIENT}
    secrets |= {OTHER_SERVICE_NAME, "Transports scolaires", "Tarifs de la cantine"}
    for row in rows:
        secrets |= {
            row[key]
            for key in (
                "request_id", "service_id", "habilitation_id", "credential_id", "client_id",
                "citizen_id", "subject", "identity_digest",
            )
        }  # fmt: skip
    # The names are there to leak: an administrator's /usage shows them.
    admin = sign_in(
        portal, email="admin@operateur.example", siret=OPERATOR, roles=["administrator"]
    )
    callers = [row[0] for row in tables_of(admin.get("/usage").text)["services-table"]]
    assert DEMO_SERVICE_NAME in callers and OTHER_SERVICE_NAME in callers
    client = portal.client()
    for query in ("", "?par=semaine", "?lang=en"):
        page = client.get("/stats" + query)
        assert page.status_code == 200
        leaked = [secret for secret in secrets if secret in page.text]
        assert leaked == []
        # The figures are there, though: calls per product; no table per service or outcome.
        tables = tables_of(page.text)
        assert tables["products-table"]
        assert "services-table" not in tables and "outcomes-table" not in tables
        assert "Délai dépassé chez le fournisseur" not in page.text


def test_figures_of_the_public_page(portal):
    for _ in range(3):
        journal(portal, latency_ms=30)
    journal(portal, status=504, outcome="timeout", error_code="01504", latency_ms=6000)
    journal(portal, status=404, outcome="not_found", error_code="01003", latency_ms=20)
    journal(portal, product="mesri/statut_etudiant", latency_ms=8)
    journal(portal, product="identity", mode="openid", credential="userinfo")
    consent(portal, "granted")
    consent(portal, "granted", "narrowed", "revoked")
    consent(portal, "refused")
    roll_up(portal)
    page = portal.client().get("/stats?par=jour")
    text = text_of(page.text)
    tables = tables_of(page.text)
    products = {row[0]: row[1:] for row in tables["products-table"]}
    assert products["Quotient familial CAF & MSA"] == [
        "5",  # calls: the 404 is one of them, the identity release is not
        "1",  # errors: the timeout only
        "20\xa0%",
        "≤ 50 ms",
        "≤ 10\u202f000 ms",  # the slowest of five calls (6 s): the 95th percentile
        "Caisse nationale des allocations familiales (CAF) et Mutualité sociale agricole (MSA)",
    ]
    assert products["Statut étudiant"][:3] == ["1", "0", "0\xa0%"]
    providers = {row[0]: row[1] for row in tables["providers-table"]}
    assert list(providers.values()) == ["5", "1"]  # most called first
    today = tables["calls-table"][-1]
    assert today[1:] == ["6", "1", "16,7\xa0%"]
    consents = tables["consents-table"][-1]
    # granted, refused, withdrawn, narrowed, expired
    assert consents[1:] == ["2", "1", "1", "1", "0"]
    assert "p95 ≤ 250 ms" in text  # the page says how to read the percentiles
    assert 'aria-current="page">Par jour' in page.text


def test_the_week_view_and_the_english_page(portal):
    base = journal(portal)
    with portal.db.begin() as conn:
        conn.execute(
            INSERT_JOURNAL,
            [{**base, "request_id": f"r{n}"} for n in range(1199)],
        )
    roll_up(portal)
    client = portal.client()
    week = client.get("/stats?par=semaine")
    assert week.status_code == 200
    rows = tables_of(week.text)["calls-table"]
    assert len(rows) == 12 and rows[-1][0].startswith("Semaine ")
    assert rows[-1][1] == "1\u202f200"  # Babel, French: a narrow no-break space
    assert 'aria-current="page">Par semaine' in week.text
    english = client.get("/stats?par=semaine&lang=en")
    assert tables_of(english.text)["calls-table"][-1][1] == "1,200"


def test_each_chart_says_what_its_table_says(portal):
    journal(portal, latency_ms=30)
    journal(portal, latency_ms=30, status=503, outcome="maintenance")
    journal(portal, product="cnous/etudiant_boursier", latency_ms=700)
    consent(portal, "granted", "revoked")
    roll_up(portal)
    page = portal.client().get("/stats").text
    tables = tables_of(page)

    def titled(chart_id: str) -> list[str]:
        return [t.text for t in svg_of(page, chart_id).iter(f"{SVG}title")][1:]

    calls_svg = svg_of(page, "calls")
    assert calls_svg.find(f"{SVG}desc").text.startswith("3 appels sur la période")
    drawn: dict[str, int] = {}
    for bar in calls_svg.iter(f"{SVG}rect"):
        if bar.get("data-value") is not None:
            day = bar.find(f"{SVG}title").text.split(" – ")[0]
            drawn[day] = drawn.get(day, 0) + int(bar.get("data-value"))
    assert sum(drawn.values()) == sum(int(row[1]) for row in tables["calls-table"]) == 3
    provider_rows = tables["providers-table"]
    assert titled("providers") == [f"{row[0]} : {row[1]}" for row in provider_rows]
    product_rows = tables["products-table"]
    assert titled("products") == [f"{row[0]} : {row[1]}" for row in product_rows]
    latency_today = tables["latency-table"][-1]
    latency_titles = [t for t in titled("latency") if " – " in t]
    assert latency_titles[-2].endswith(f" : {latency_today[1]}")
    assert latency_titles[-1].endswith(f" : {latency_today[2]}")
    consent_titles = titled("consents")
    assert any(t.endswith("Donnés : 1") for t in consent_titles)
    assert any(t.endswith("Retirés : 1") for t in consent_titles)


def test_an_unknown_period_gets_a_readable_400(portal):
    page = portal.client().get("/stats?par=mois")
    assert page.status_code == 400
    assert "Période inconnue" in page.text
    assert "Traceback" not in page.text


# -- /usage ----------------------------------------------------------------------------------


def test_role_data_provider_sees_only_own_products(portal):
    villebourg, val_fleuri = demo_service_id(portal), other_service(portal)
    journal(portal, product="mesri/statut_etudiant", service_id=villebourg)
    journal(
        portal,
        product="mesri/statut_etudiant",
        service_id=villebourg,
        status=502,
        outcome="provider_error",
    )
    journal(portal, product="dss/quotient_familial", service_id=villebourg)  # the CNAF's
    journal(portal, product="dss/quotient_familial", service_id=val_fleuri, outcome="not_found")
    journal(portal, product="dss/prime_activite", service_id=val_fleuri)  # the DSS's
    consent(portal, "granted")
    roll_up(portal)
    client = sign_in(
        portal, email="stats@mesri.example", roles=["data_provider"], providers=["mesri"]
    )
    for query in ("", "?par=semaine", "?par=jour&fournisseur=cnaf&providers=dss"):
        page = client.get("/usage" + query)
        assert page.status_code == 200
        tables = tables_of(page.text)
        assert [row[0] for row in tables["products-table"]] == ["Statut étudiant"]
        assert [row[0] for row in tables["providers-table"]] == [
            "Ministère de l'Enseignement supérieur et de la Recherche"
        ]
        assert sum(int(row[1]) for row in tables["calls-table"]) == 2
        # Its consumers: the one service calling its product, for that product's calls only.
        assert tables["services-table"] == [
            [
                DEMO_SERVICE_NAME,
                "2",
                "1",
                "50\xa0%",
                "Données transmises : 1 ; Réponse inexploitable du fournisseur : 1",
                "Statut étudiant",
            ]
        ]
        assert {row[0]: row[1] for row in tables["outcomes-table"]} == {
            "Données transmises": "1",
            "Réponse inexploitable du fournisseur": "1",
        }
        for other in ("Quotient familial", "Prime d'activité", "CAF", "Sécurité sociale"):
            assert other not in page.text
        assert OTHER_SERVICE_NAME not in page.text and val_fleuri not in page.text
        assert "consents-table" not in tables  # the platform's consents are not its products


def test_role_administrator_sees_every_product_on_usage(portal):
    villebourg = demo_service_id(portal)
    journal(portal, product="mesri/statut_etudiant", service_id=villebourg)
    journal(portal, product="dss/quotient_familial", service_id="svc-removed")
    journal(portal, product="dss/quotient_familial", service_id=None, outcome="unauthorized")
    consent(portal, "granted")
    roll_up(portal)
    client = sign_in(
        portal, email="admin@operateur.example", siret=OPERATOR, roles=["administrator"]
    )
    page = client.get("/usage")
    assert page.status_code == 200
    tables = tables_of(page.text)
    assert {row[0] for row in tables["products-table"]} == {
        "Statut étudiant",
        "Quotient familial CAF & MSA",
    }
    assert tables["consents-table"]
    # Every provider's consumers, the product's provider named with it.
    assert [(row[0], row[1], row[-1]) for row in tables["services-table"]] == [
        (
            DEMO_SERVICE_NAME,
            "1",
            "Statut étudiant, Ministère de l'Enseignement supérieur et de la Recherche",
        ),
        ("Service supprimé (svc-removed)", "1", QUOTIENT_OF_THE_CNAF),
        (
            "Appelant non identifié (accès refusé avant identification)",
            "1",
            QUOTIENT_OF_THE_CNAF,
        ),
    ]
    assert {row[0]: row[1:] for row in tables["outcomes-table"]} == {
        "Données transmises": ["2", "66,7\xa0%"],
        "Accès non autorisé (jeton ou clé invalide)": ["1", "33,3\xa0%"],
    }


@pytest.mark.parametrize(
    "who",
    [
        {"email": "agent@villebourg.example", "siret": VILLEBOURG},
        {"email": "instructeur@operateur.example", "siret": OPERATOR, "roles": ["instructor"]},
    ],
    ids=["requester", "instructor"],
)
def test_role_requester_cannot_read_usage(portal, who):
    journal(portal, product="mesri/statut_etudiant")
    roll_up(portal)
    page = sign_in(portal, **who).get("/usage")
    assert page.status_code == 403
    assert "Statut étudiant" not in page.text
    assert "products-table" not in page.text


def test_usage_without_a_session_goes_to_sign_in(portal):
    page = portal.client().get("/usage?par=semaine", follow_redirects=False)
    assert page.status_code in (302, 303)
    assert page.headers["location"].startswith("/connexion?retour=")
