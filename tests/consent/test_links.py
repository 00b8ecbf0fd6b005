"""Addresses from a habilitation become links only when they are safe to follow: one plain
email address (a mailto: link) or an https URL, by the same checks as the command line's
(``broker.admin.consent_information``). Anything else, a row written by hand or before those
checks, is shown as text."""

from __future__ import annotations

from consent.links import Contact, contact, https_link


def test_plain_email_addresses_and_https_urls_are_links():
    email, url = "ecoles@villebourg.example", "https://villebourg.example/dpo"
    assert contact(email) == Contact(email, f"mailto:{email}")
    assert contact(f" {url} ") == Contact(url, url)
    # The scheme in any case, as the habilitation's checks accept it.
    upper = "HTTPS://ville.example/Contact"
    assert contact(upper) == Contact(upper, upper)
    # A web page opens in a new window, so that the consent screen stays open.
    assert Contact(url, url).is_web_page and not Contact(email, f"mailto:{email}").is_web_page
    assert contact("") is None and contact("  ") is None and contact(None) is None


def test_attack_an_unsafe_address_is_text_never_a_link():
    for text in (
        "http://villebourg.example",
        "javascript:alert(1)",
        "a@b",
        "Écrire à dpo@villebourg.example ou au guichet",
        "dpo@villebourg.example?cc=someone@else.example",
        "mailto:dpo@villebourg.example",
        "https://villebourg.example/a b",
        'https://villebourg.example/"onmouseover="x',
    ):
        found = contact(text)
        assert found is not None and found.href is None and found.text == text, text
        assert not found.is_web_page, text


def test_attack_contact_with_two_recipients_is_not_a_link():
    for value in (
        "a,b@ville.example",  # a mailto to "a" and "b@ville.example"
        "a;b@ville.example",
        "a@ville.example,b@ailleurs.example",
        "a b@ville.example",
        "https://user@ville.example/",  # userinfo: not where it seems to lead
        "https://ville.example/#frag",
        "https://[ville.example/",  # not even a URL
        "https://ville.example/\u00e9",  # not written in URL characters
    ):
        assert contact(value) == Contact(value, None), value
    # "%" is allowed in an address; in the link it stays a "%", not an escaped comma.
    quoted = "a%2Cb@ville.example"
    assert contact(quoted) == Contact(quoted, "mailto:a%252Cb@ville.example")


def test_attack_only_an_https_url_is_a_legal_basis_link():
    assert https_link(" https://www.legifrance.gouv.fr/x ") == "https://www.legifrance.gouv.fr/x"
    assert https_link("http://www.legifrance.gouv.fr/x") is None
    assert https_link("javascript:alert(1)") is None
    assert https_link("https://[legifrance/") is None
    assert https_link("") is None and https_link(None) is None
