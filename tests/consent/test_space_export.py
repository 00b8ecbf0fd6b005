"""Everything the broker holds about a citizen, over real HTTP: the JSON export a program
reads (ISO 8601 dates beside epoch seconds, labels beside codes) and the same as a page a
person reads and prints (the identity in words: birthplace and country by name): identity,
sign-ins and blocked providers, consents with their items, reasons and dates and what each
service was told, what is known of the tokens (never the tokens), and the journal with the
recipient and the identifier each service knows. The file holds the whole journal, written
as it is read; the page its latest rows. Never another citizen's records."""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from datetime import datetime

import httpx
import pytest
from sqlalchemy import insert, select, text

from broker.core.db import table_of
from broker.store.federation_models import SignInEvent
from broker.store.models import AccessToken, RefreshToken
from broker.web.locale import use_locale
from consent.models import ConsentNotification
from consent.space.export import access, accesses, at_once, json_document
from consent.space.holdings import gather
from consent.space.journal import EXPORT_CHUNK
from tests.consent.test_space_support import (
    INFORMATION,
    JOURNAL,
    LEGAL_BASIS_URL,
    OPTIONAL,
    REQUIRED,
    codes_in,
    give_consent,
    journal_entry,
    read_userinfo,
)
from tests.helpers import STRONG_IDP, Browser

ACCESS_TOKEN = table_of(AccessToken)
REFRESH_TOKEN = table_of(RefreshToken)
NOTIFICATION = table_of(ConsentNotification)
UNREACHABLE = "http://127.0.0.1:9/events"  # the service's back-channel: nobody listens
HEAD = {"generated_at": 1, "language": "fr", "identity": None, "consents": [{"a": []}]}
ROW = {
    "at": 1_800_000_000,
    "service_id": "s",
    "service_name": "Cantine",
    "product": "identity",
    "mode": "openid",
    "scopes": ["openid", "given_name"],
    "outcome": "ok",
    "status": 200,
    "credential": "userinfo",
    "request_id": "r1",
    "recipient": None,
    "subject": "sub-1",
}


def test_json_export_has_iso_dates_and_labels_beside_codes(broker):
    given = give_consent(broker, "Cantine de Villebourg")
    released = read_userinfo(broker, given)
    answer = given.browser.get("/espace/export.json")
    assert answer.headers["content-type"].startswith("application/json")
    assert 'filename="mes-donnees.json"' in answer.headers["content-disposition"]
    body = answer.json()
    assert datetime.fromisoformat(body["generated_at_iso"]).timestamp() == body["generated_at"]
    assert body["language"] == "fr"
    identity = body["identity"]
    assert (
        identity["birthplace"] == "75107"
        and identity["birthplace_name"] == "Paris 7e Arrondissement"
    )
    assert identity["birthcountry"] == "99100" and identity["birthcountry_name"] == "France"
    assert datetime.fromisoformat(identity["created_at_iso"]).timestamp() == identity["created_at"]
    consent = next(c for c in body["consents"] if c["id"] == given.consent_id)
    assert consent["status"] == "active" and consent["status_label"] == "En cours"
    created = datetime.fromisoformat(consent["created_at_iso"])
    assert created.timestamp() == consent["created_at"] and created.utcoffset() is not None
    items = {item["scope"]: item for item in consent["items"]}
    assert items[REQUIRED]["label"] == "Votre quotient familial CAF ou MSA"
    assert items[REQUIRED]["reason"] == "Pour calculer le prix du repas selon vos revenus."
    assert items[OPTIONAL]["optional"] is True
    [granted] = consent["events"]
    assert granted["label"] == "Accord donné" and granted["at_iso"]
    assert consent["controller"] and consent["retention"] and consent["receipt"].count(".") == 2
    row = next(r for r in body["journal"] if r["request_id"] == released)
    assert row["provider"] == "Le courtier de consentement"
    assert row["data"] == "Vos prénoms ; Votre nom de naissance"
    assert row["identity"] == "Lue par le service auprès du courtier"
    assert row["scope_labels"][1:] == ["Vos prénoms", "Votre nom de naissance"]
    # The identity went to the service under the pseudonymous identifier it knows.
    assert row["subject"] and row["subject"] == subject_of(given) and row["recipient"] is None
    assert consent["legal_basis_url"] == LEGAL_BASIS_URL and consent["service_told"] == []

    english = given.browser.get("/espace/export.json?lang=en").json()
    assert english["language"] == "en"
    consent = next(c for c in english["consents"] if c["id"] == given.consent_id)
    assert {i["scope"]: i["label"] for i in consent["items"]}[REQUIRED] == (
        "Your CAF or MSA family quotient"
    )


def subject_of(given) -> str:
    """The pairwise identifier the service knows the citizen by (the ID token's ``sub``)."""
    answer = httpx.get(
        f"{given.browser.base_url}/userinfo",
        headers={"Authorization": f"Bearer {given.token['access_token']}"},
    )
    return answer.json()["sub"]


def test_the_export_holds_sign_ins_blocked_providers_tokens_and_what_services_were_told(broker):
    given = give_consent(broker, "Cantine de Villebourg", notification_uri=UNREACHABLE)
    page = given.browser.get("/espace/connexions")
    given.browser.post(
        f"/espace/fournisseurs/{STRONG_IDP}/blocage", data={"csrf_token": given.browser.csrf(page)}
    )
    confirm = given.browser.get(f"/espace/accords/{given.consent_id}/retrait")
    given.browser.post(
        f"/espace/accords/{given.consent_id}/retrait",
        data={"csrf_token": given.browser.csrf(confirm)},
    )
    answer = given.browser.get("/espace/export.json")
    body = answer.json()
    sign_in = next(s for s in body["sign_ins"] if s["service"] == "Cantine de Villebourg")
    assert sign_in["provider"] == "Identité démo" and sign_in["level_label"] == "faible"
    assert sign_in["at_iso"]
    assert [p["id"] for p in body["blocked_providers"]] == [STRONG_IDP]
    kinds = {t["kind"]: t for t in body["tokens"]}
    assert set(kinds) == {"access", "refresh"}
    for token in kinds.values():
        assert token["service"] == "Cantine de Villebourg"
        assert token["consent_id"] == given.consent_id and token["revoked_at_iso"]
        assert token["state"] == "Révoqué" and token["expires_at_iso"]
        assert "Votre quotient familial CAF ou MSA" in token["scope_labels"]
    assert kinds["access"]["kind_label"] == "Jeton d'accès"
    # Never the tokens themselves, nor what identifies them.
    for secret in (given.token["access_token"], given.token["refresh_token"]):
        assert secret not in answer.text
    with broker.state.db.connect() as conn:
        held = conn.execute(select(ACCESS_TOKEN.c.jti)).scalars().all()
        held += conn.execute(select(REFRESH_TOKEN.c.digest)).scalars().all()
        [event] = conn.execute(select(NOTIFICATION.c.event)).scalars().all()
    assert held and not any(value in answer.text for value in held)
    consent = next(c for c in body["consents"] if c["id"] == given.consent_id)
    [told] = consent["service_told"]
    assert told["kind"] == "revoked" and told["label"] == "Accord retiré" and told["created_at_iso"]
    assert told["state"] == "envoi en cours" or told["state"].startswith("n'a pas pu")
    assert event not in answer.text and event.split(".")[1] not in answer.text

    readable = html.unescape(given.browser.get("/espace/mes-donnees").text)
    assert "Identité démo renforcée" in readable.split("data-blocked")[1].split("</p>")[0]
    assert 'data-token="access"' in readable and 'data-token="refresh"' in readable
    assert "Accord retiré : " in readable.split("data-told")[1]
    assert given.token["access_token"] not in readable


def test_the_readable_export_shows_the_identity_in_words(broker):
    given = give_consent(broker, "Cantine de Villebourg")
    read_userinfo(broker, given)
    page = given.browser.get("/espace/mes-donnees")
    assert page.status_code == 200
    fields = {
        name: html.unescape(value)
        for name, value in re.findall(r'data-identity-field="([^"]+)">([^<]*)<', page.text)
    }
    assert fields["given_name"] == "Angela Claire Louise" and fields["family_name"] == "DUBOIS"
    assert fields["birthdate"] == "24 août 1962" and fields["gender"] == "Féminin"
    assert fields["birthplace"] == "Paris 7e Arrondissement"
    assert fields["birthcountry"] == "France"
    assert fields["idp"] == "Identité démo"
    assert f'data-consent="{given.consent_id}"' in page.text
    assert "Votre quotient familial CAF ou MSA" in page.text
    assert "Lue par le service auprès du courtier" in page.text
    assert 'href="/espace/export.json" download' in page.text
    assert "space-printable" in page.text
    assert codes_in(page.text) == []

    english = given.browser.get("/espace/mes-donnees?lang=en").text
    assert "24 August 1962" in english and ">Female<" in english
    assert codes_in(english) == []


def test_the_readable_export_lists_items_as_the_receipt_does(broker):
    given = give_consent(broker, "Cantine de Villebourg")
    page = given.browser.get(f"/espace/accords/{given.consent_id}/retrait")
    given.browser.post(
        f"/espace/accords/{given.consent_id}/elements",
        data={"csrf_token": given.browser.csrf(page), "scope": [OPTIONAL]},
    )
    text = html.unescape(given.browser.get("/espace/mes-donnees").text)
    section = text.split(f'data-consent="{given.consent_id}"')[1].split("</section>")[0]
    withdrawn = section.split(f'data-scope="{OPTIONAL}"')[1].split("</li>")[0]
    assert "data-withdrawn" in withdrawn and "retiré le " in withdrawn
    for reason in INFORMATION["reasons"].values():
        assert f"Pourquoi : {reason}" in section
    assert f'href="{LEGAL_BASIS_URL}"' in section
    assert "Valable jusqu'au" in section and 'data-fact="status">En cours<' in section


def test_a_presumed_birth_date_and_a_birth_abroad_read_in_words(broker):
    browser = Browser(broker.url)
    browser.space_login("étranger_présumé_né_jour_et_mois")
    page = browser.get("/espace/mes-donnees").text
    fields = dict(re.findall(r'data-identity-field="([^"]+)">([^<]*)<', page))
    assert re.fullmatch(r"\d{4}", fields["birthdate"])  # only the year is known
    assert "birthplace" not in fields and not fields["birthcountry"].startswith("pays inconnu")
    exported = browser.get("/espace/export.json").json()["identity"]
    assert exported["birthplace_name"] is None and exported["birthcountry_name"]


def test_attack_the_export_holds_only_the_signed_in_citizens_records(broker):
    mine = give_consent(broker, "Cantine de Villebourg", notification_uri=UNREACHABLE)
    mine_read = read_userinfo(broker, mine)
    mine_subject = subject_of(mine)
    page = mine.browser.get("/espace/connexions")
    mine.browser.post(
        f"/espace/fournisseurs/{STRONG_IDP}/blocage", data={"csrf_token": mine.browser.csrf(page)}
    )
    confirm = mine.browser.get(f"/espace/accords/{mine.consent_id}/retrait")
    mine.browser.post(
        f"/espace/accords/{mine.consent_id}/retrait",
        data={"csrf_token": mine.browser.csrf(confirm)},
    )
    # The intruder has records of their own: every section has something to leak into.
    theirs = give_consent(broker, "Crèche de Villebourg", login="nom_composé")
    theirs_read = read_userinfo(broker, theirs)
    intruder = theirs.browser
    answer = intruder.get("/espace/export.json")
    body = answer.json()
    assert [c["id"] for c in body["consents"]] == [theirs.consent_id]
    assert body["consents"][0]["service_told"] == []
    assert {t["consent_id"] for t in body["tokens"]} == {theirs.consent_id}
    assert [r["request_id"] for r in body["journal"]] == [theirs_read]
    assert body["blocked_providers"] == []
    assert "Cantine de Villebourg" not in {s["service"] for s in body["sign_ins"]}
    for leaked in (mine.consent_id, mine_read, "Cantine de Villebourg", mine_subject):
        assert leaked not in answer.text
    readable = intruder.get("/espace/mes-donnees").text
    for leaked in (mine.consent_id, mine_read, "Cantine de Villebourg", mine_subject):
        assert leaked not in readable
    assert "data-blocked" in readable and "Identité démo renforcée" not in readable


def test_the_file_holds_the_whole_journal_and_the_page_the_latest(broker):
    given = give_consent(broker, "Cantine de Villebourg")
    now = int(time.time())
    # More rows than the file reads at a time, several in each second.
    rows = [journal_entry(given, at=now - n // 4) for n in range(2 * EXPORT_CHUNK + 7)]
    with broker.state.db.begin() as conn:
        conn.execute(insert(JOURNAL), rows)
    answer = given.browser.get("/espace/export.json")
    exported = [row["request_id"] for row in answer.json()["journal"]]
    assert sorted(exported) == sorted(r["request_id"] for r in rows)
    assert [r["at"] for r in answer.json()["journal"]] == sorted(
        (r["at"] for r in rows), reverse=True
    )
    page = given.browser.get("/espace/mes-donnees").text
    assert page.count("data-access=") == 100
    more = html.unescape(page.split("data-journal-more>")[1].split("</p>")[0])
    assert f"100 accès les plus récents, sur {len(rows)}" in more
    assert 'href="/espace/acces"' in more


def test_the_page_shows_the_latest_sign_ins_and_tokens_and_the_file_all(broker):
    given = give_consent(broker, "Cantine de Villebourg")
    now = int(time.time())
    # Older than the consent's own, written oldest first: the page must pick by date.
    sign_ins = [
        {
            "citizen_id": given.citizen_id,
            "at": now - 1000 - n,
            "idp": f"ancien-{n:03d}",
            "acr": "eidas1",
        }
        for n in reversed(range(110))
    ]
    # 130 refresh tokens, the 8 newest replaced, the others expired; 90 newer access tokens.
    refresh = [
        token_row(given, now - 1000 - n, digest=f"{n:064d}", used=n < 8)
        for n in reversed(range(130))
    ]
    access = [token_row(given, now - 100 - n, jti=f"a{n:03d}") for n in reversed(range(90))]
    with broker.state.db.begin() as conn:
        conn.execute(insert(table_of(SignInEvent)), sign_ins)
        conn.execute(insert(REFRESH_TOKEN), refresh)
        conn.execute(insert(ACCESS_TOKEN), access)

    body = given.browser.get("/espace/export.json").json()
    assert len(body["tokens"]) == 130 + 90 + 2  # and the consent's own two
    issued = [token["issued_at"] for token in body["tokens"]]
    assert issued == sorted(issued, reverse=True)
    real_sign_ins = len(body["sign_ins"]) - len(sign_ins)
    assert real_sign_ins >= 1

    page = html.unescape(given.browser.get("/espace/mes-donnees").text)
    shown = re.findall(
        r"<tr role=\"row\" data-sign-in>\s*<th[^>]*>[^<]*</th>\s*<td[^>]*>([^<]*)<", page
    )
    kept = 100 - real_sign_ins
    assert len(shown) == 100 and shown[real_sign_ins:] == [f"ancien-{n:03d}" for n in range(kept)]
    caption = page.split('id="export-sign-ins">')[1].split("</caption>")[0]
    assert f"Les 100 connexions les plus récentes, sur {len(body['sign_ins'])}" in caption
    assert "le fichier les a toutes" in caption

    tokens = re.findall(r'data-token="(\w+)">(.*?)</tr>', page, re.S)
    assert len(tokens) == 100
    states = [
        state
        for kind, row in tokens
        for state in re.findall(r'data-label="État">([^<]*)<', row)
        if kind == "refresh"
    ]
    # The consent's own, then the newest of the old ones: those replaced, none expired.
    assert states == ["Valable"] + ["Remplacé par un nouveau jeton"] * 8
    assert [kind for kind, _ in tokens].count("access") == 91
    caption = page.split('id="export-tokens">')[1].split("</caption>")[0]
    assert "Les 100 jetons les plus récents, sur 222 : le fichier les a tous." in caption

    # The page reads no more than it shows (a LIMIT), and counts the rest.
    with broker.state.db.connect() as conn:
        held = gather(conn, given.citizen_id, lambda citizen: "", now, latest=10)
    assert len(held.sign_ins) == len(held.tokens) == 10
    assert (held.sign_ins_total, held.tokens_total) == (len(body["sign_ins"]), 222)


def test_a_database_failure_mid_file_leaves_it_visibly_incomplete(broker):
    given = give_consent(broker, "Cantine de Villebourg")
    now = int(time.time())
    # Two chunks of the journal; the first, some 18 MB written, more than the sockets'
    # buffers hold: the server is still writing it when the client pauses at its first row.
    rows = [
        journal_entry(given, at=now - n, scopes=["openid"] * 300) for n in range(EXPORT_CHUNK + 1)
    ]
    with broker.state.db.begin() as conn:
        conn.execute(insert(JOURNAL), rows)
    with given.browser.http.stream("GET", "/espace/export.json") as answer:
        assert answer.status_code == 200  # the headers left before the failure
        parts = answer.iter_bytes()
        received = bytearray()
        while b'"request_id"' not in received:  # the first chunk is read, being written
            received += next(parts)
        # The database loses the journal before the second chunk is read.
        with broker.state.db.begin() as conn:
            conn.execute(text("ALTER TABLE access_journal RENAME TO access_journal_gone"))
        with pytest.raises(httpx.RemoteProtocolError):  # no closing chunk: cut short
            for part in parts:
                received += part
    text_received = received.decode()
    assert text_received.count('"request_id"') == EXPORT_CHUNK  # the first chunk, whole
    with pytest.raises(json.JSONDecodeError):
        json.loads(text_received)


def test_a_short_history_is_shown_whole_on_the_page(broker):
    given = give_consent(broker, "Cantine de Villebourg")
    page = html.unescape(given.browser.get("/espace/mes-donnees").text)
    body = given.browser.get("/espace/export.json").json()
    sign_ins = page.split('id="export-sign-ins">')[1].split("</caption>")[0]
    assert f"Toutes vos connexions, la plus récente d'abord ({len(body['sign_ins'])})" in sign_ins
    tokens = page.split('id="export-tokens">')[1].split("</caption>")[0]
    assert "Tous les jetons, le plus récent d'abord (2)" in tokens
    assert page.count("data-sign-in>") == len(body["sign_ins"]) and page.count("data-token=") == 2


def token_row(given, issued_at: int, *, jti: str = "", digest: str = "", used: bool = False):
    """A token of ``given``'s consent, as the broker writes one (an access token with a
    ``jti``, else a refresh token, expired unless ``used``: replaced by a newer one)."""
    row = {
        "client_id": given.client_id,
        "citizen_id": given.citizen_id,
        "grant_id": given.consent_id,
        "scope": f"openid {REQUIRED}",
        "issued_at": issued_at,
        "expires_at": issued_at + 3600 if jti else issued_at + (10**6 if used else 60),
        "revoked_at": None,
    }
    if jti:
        return {**row, "jti": jti}
    extra = {"auth_time": issued_at, "acr": "eidas1", "used_at": issued_at + 1 if used else None}
    return {**row, "digest": digest, **extra}


async def chunks_of(*chunks):
    for chunk in chunks:
        yield chunk


@pytest.mark.parametrize("chunks", [[], [[]], [[ROW], []], [[ROW, ROW], [ROW]]])
@pytest.mark.parametrize("sign_ins", [[], [{"at": 1, "service": None}, {"at": 2, "text": "[]"}]])
def test_the_file_is_written_as_json_would_write_it_whole(chunks, sign_ins):
    async def written() -> str:
        lists = [
            ("sign_ins", at_once(sign_ins)),
            ("tokens", at_once([])),
            ("journal", accesses(chunks_of(*chunks))),
        ]
        return "".join([part async for part in json_document(HEAD, lists)])

    with use_locale("fr"):
        text = asyncio.run(written())
        rows = [access(row) for chunk in chunks for row in chunk]
        whole = {**HEAD, "sign_ins": sign_ins, "tokens": [], "journal": rows}
        assert text == json.dumps(whole, ensure_ascii=False, indent=2)
