"""The receipt page of a consent, over real HTTP: what a person needs to read (and print):
the service, why, the legal basis, who is responsible and how to reach them, how long the
service keeps the data, each item in words with the service's reason, the dates in words,
the status and the reference; the signed receipt still downloadable."""

from __future__ import annotations

import html
import time

from sqlalchemy import update

from broker.core.db import table_of
from broker.store.data_access_models import Habilitation
from broker.web.i18n import format_date
from consent.models import ConsentGrant
from tests.consent.test_space_support import (
    INFORMATION,
    LEGAL_BASIS_URL,
    OPTIONAL,
    REQUIRED,
    codes_in,
    give_consent,
)


def test_receipt_reads_as_a_document(broker):
    given = give_consent(broker, "Cantine de Villebourg")
    page = given.browser.get(f"/espace/accords/{given.consent_id}/recu")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "Cantine de Villebourg" in text and "Tarification sociale de la cantine" in text
    assert "Code de l'éducation, article L. 131-13" in text
    assert f'<a href="{LEGAL_BASIS_URL}" rel="noopener noreferrer">Code de l' in text
    assert INFORMATION["controller"] in text and INFORMATION["retention"] in text
    assert f'href="mailto:{INFORMATION["contact"]}"' in text
    assert f'href="{INFORMATION["dpo"]}"' in text
    for scope, reason in INFORMATION["reasons"].items():
        assert f'data-scope="{scope}"' in text and f"Pourquoi : {reason}" in text
    assert "Votre quotient familial CAF ou MSA" in text
    today = format_date(time.time(), "fr")
    assert f"<dd>{today}</dd>" in text  # the day it was given, in words
    assert '<dd data-fact="status">En cours</dd>' in text
    assert f'<span class="code">{given.consent_id}</span>' in text
    assert f'href="/espace/accords/{given.consent_id}/recu.jws" download' in text
    assert "space-printable" in text  # the print styles apply
    assert codes_in(page.text) == []


def test_receipt_in_english_and_after_an_item_was_withdrawn(broker):
    given = give_consent(broker, "Cantine de Villebourg")
    page = given.browser.get(f"/espace/accords/{given.consent_id}/retrait")
    given.browser.post(
        f"/espace/accords/{given.consent_id}/elements",
        data={"csrf_token": given.browser.csrf(page), "scope": [OPTIONAL]},
    )
    receipt = given.browser.get(f"/espace/accords/{given.consent_id}/recu?lang=en")
    text = html.unescape(receipt.text)
    assert '<html lang="en">' in text
    assert "Your CAF or MSA family quotient" in text
    today = format_date(time.time(), "en")
    assert today in text
    item = text.split(f'data-scope="{OPTIONAL}"')[1].split("</li>")[0]
    assert today in item  # withdrawn that day
    assert codes_in(receipt.text) == []


def test_the_signed_receipt_is_still_downloadable(broker):
    given = give_consent(broker, "Cantine de Villebourg", ticked=())
    download = given.browser.get(f"/espace/accords/{given.consent_id}/recu.jws")
    assert download.headers["content-type"].startswith("application/jose")
    with broker.state.db.reader() as session:
        assert download.text == session.get(ConsentGrant, given.consent_id).receipt
    page = given.browser.get(f"/espace/accords/{given.consent_id}/recu").text
    assert f'data-scope="{REQUIRED}"' in page and f'data-scope="{OPTIONAL}"' not in page


# Addresses the command line refuses (``broker.admin.consent_information``) but a habilitation
# may hold from before those checks, or from another tool: none may become a link.
UNSAFE = {
    "contact": "javascript:alert(document.cookie)",
    "dpo": "http://villebourg.example/dpo",
    "legal_basis_url": "javascript:alert(1)",
}


def test_attack_unsafe_addresses_in_a_habilitation_are_shown_as_text(broker):
    given = give_consent(broker, "Cantine de Villebourg")
    with broker.state.db.begin() as conn:
        habilitations = table_of(Habilitation)
        conn.execute(
            update(habilitations)
            .where(habilitations.c.service_id == given.service_id)
            .values(**UNSAFE)
        )
    for path in (f"/espace/accords/{given.consent_id}/recu", "/espace/mes-donnees"):
        page = given.browser.get(path).text
        assert 'href="javascript' not in page and 'href="http://' not in page, path
        assert html.escape(UNSAFE["contact"]) in page  # shown, as text
        assert "Code de l'éducation" in html.unescape(page)
    withdrawal = given.browser.get(f"/espace/accords/{given.consent_id}/retrait").text
    assert 'href="javascript' not in withdrawal and 'href="http://' not in withdrawal
