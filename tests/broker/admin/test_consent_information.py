"""What a habilitation tells citizens: each text checked, contacts an email address or an https
URL, a reason only for an item the service may ask for."""

from __future__ import annotations

import pytest

from broker.admin.clients import AdminError
from broker.admin.consent_information import (
    MAX_CONTROLLER,
    MAX_IF_REFUSED,
    MAX_REASON,
    MAX_RETENTION,
    TEXTS,
    StatedInformation,
    amended,
    checked_information,
    shown_as_an_item,
    unstated,
)
from broker.catalogue.scopes import REGISTRY

SCOPES = ["cnaf_quotient_familial", "cnaf_adresse"]
FULL = StatedInformation(
    controller="  Mairie de Villebourg ",
    contact="MAILTO:cantine@Villebourg.EXAMPLE",
    dpo="https://www.villebourg.example/donnees-personnelles",
    retention="Un an.",
    reasons=(
        "cnaf_quotient_familial= Il fixe le prix du repas : a=b ne gêne pas.",
        "email=Pour vous envoyer les factures.",
    ),
    if_refused="Apportez votre attestation à la mairie.",
)


def refused(info: StatedInformation, scopes=SCOPES) -> str:
    with pytest.raises(AdminError) as caught:
        checked_information(info, scopes)
    return str(caught.value)


def test_everything_is_checked_stripped_and_normalised():
    assert checked_information(FULL, SCOPES) == {
        "controller": "Mairie de Villebourg",
        "contact": "cantine@villebourg.example",
        "dpo": "https://www.villebourg.example/donnees-personnelles",
        "retention": "Un an.",
        "reasons": {
            "cnaf_quotient_familial": "Il fixe le prix du repas : a=b ne gêne pas.",
            "email": "Pour vous envoyer les factures.",
        },
        "if_refused": "Apportez votre attestation à la mairie.",
    }


def test_nothing_stated_is_allowed_and_reported():
    nothing = checked_information(StatedInformation(), SCOPES)
    assert nothing == dict.fromkeys(nothing) and len(nothing) == 6
    assert unstated({**nothing, "scopes": SCOPES}) == [
        "--controller",
        "--contact",
        "--dpo",
        "--retention",
        "--if-refused",
        "--reason cnaf_quotient_familial",
        "--reason cnaf_adresse",
    ]
    stated = {**checked_information(FULL, SCOPES), "scopes": SCOPES}
    assert unstated(stated) == ["--reason cnaf_adresse"]


@pytest.mark.parametrize(
    ("option", "limit"),
    [
        ("controller", MAX_CONTROLLER),
        ("retention", MAX_RETENTION),
        ("if_refused", MAX_IF_REFUSED),
    ],
)
def test_texts_are_bounded_non_blank_and_single_line(option, limit):
    name = "--" + option.replace("_", "-")
    assert checked_information(StatedInformation(**{option: "é" * limit}), SCOPES)[option]
    too_long = refused(StatedInformation(**{option: "é" * (limit + 1)}))
    assert too_long == f"{name} must be at most {limit} characters (it has {limit + 1})"
    assert "must not be blank" in refused(StatedInformation(**{option: " \t "}))
    for character in ("\n", "\x00", "\x1b", "\u2028"):
        message = refused(StatedInformation(**{option: f"Un{character}deux"}))
        assert message.startswith(f"{name} must not contain control or invisible characters")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("cnaf_quotient_familial", "--reason must be SCOPE=TEXT: 'cnaf_quotient_familial'"),
        ("=Pour rien", "--reason must be SCOPE=TEXT"),
        ("nope=Pour rien", "--reason names an unknown scope: nope"),
        ("cnaf_quotient_familial=  ", "--reason for cnaf_quotient_familial must not be blank"),
        ("email=" + "x" * (MAX_REASON + 1), f"--reason for email must be at most {MAX_REASON}"),
    ],
)
def test_reasons_are_scope_equals_text(entry, message):
    assert message in refused(StatedInformation(reasons=(entry,)))


def test_a_reason_for_an_identity_item_is_accepted():
    reasons = tuple(f"{s}=Parce que." for s in ("profile", "birth", "email"))
    checked = checked_information(StatedInformation(reasons=reasons), SCOPES)["reasons"]
    assert list(checked) == ["profile", "birth", "email"]


def test_attack_reason_for_an_item_the_consent_screen_does_not_list():
    """openid only releases ``sub``: the screen lists no item for it, so a reason for it would
    be stored and never shown (a citizen would never see what the service said about it)."""
    message = refused(StatedInformation(reasons=("openid=Pour vous reconnaître.",)))
    assert message == "--reason openid: the consent screen shows no such item"


def test_reasons_are_accepted_for_exactly_the_identity_items_the_screen_lists():
    """The rule follows the screen's own list of items (``group_by_provider``), scope by scope."""
    for scope in REGISTRY.identity_scopes():
        listed = [s.name for _, items in REGISTRY.group_by_provider([scope.name]) for s in items]
        assert shown_as_an_item(scope) == (listed == [scope.name]), scope.name
        reason = StatedInformation(reasons=(f"{scope.name}=Parce que.",))
        if listed:
            assert checked_information(reason, SCOPES)["reasons"] == {scope.name: "Parce que."}
        else:
            assert "shows no such item" in refused(reason)


def test_attack_reason_for_a_scope_not_in_the_habilitation():
    """A reason must not make the screen justify an item the service has no right to."""
    message = refused(StatedInformation(reasons=("cnaf_enfants=Pour la cantine.",)))
    assert message == "--reason for cnaf_enfants, which is not among --scopes"


def test_attack_two_reasons_for_one_item():
    twice = ("email=Pour les factures.", " email =Pour autre chose.")
    assert refused(StatedInformation(reasons=twice)) == "--reason given twice for email"


def test_attack_bidirectional_override_in_a_text():
    """U+202E would show "…ecnarf" reversed: what is shown must read as it is stored."""
    message = refused(StatedInformation(reasons=("email=Pour \u202eles factures",)))
    assert "control or invisible characters" in message


@pytest.mark.parametrize("option", ["contact", "dpo"])
@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "JavaScript:alert('a@b.example')",
        "data:text/html,<script>alert(1)</script>",
        "http://villebourg.example/contact",
        "http://127.0.0.1/contact",
        "https://villebourg.example/contact#x",
        "https://user:pass@villebourg.example/",
        "https://villebourg.example/a b",
        "mailto:cantine@villebourg.example?cc=x@evil.example",
        "cantine?subject=x@villebourg.example",
        "cantine@villebourg.example, autre@evil.example",
        "<cantine@villebourg.example>",
        "cantine@localhost",
        "cantine@villebourg..example",
        "cantine..x@villebourg.example",
        "cantine@-villebourg.example",
        "Mairie de Villebourg",
        "a" * 65 + "@villebourg.example",
    ],
)
def test_attack_contact_that_is_not_an_email_address_or_an_https_url(option, value):
    assert refused(StatedInformation(**{option: value})).startswith(f"--{option} ")


@pytest.mark.parametrize(
    ("value", "stored"),
    [
        ("dpo@villebourg.example", "dpo@villebourg.example"),
        (
            "mailto:Jean.Dupont+dpo@Mairie.Villebourg.Example",
            "Jean.Dupont+dpo@mairie.villebourg.example",
        ),
        ("dpo@xn--villebourg-ibb.example", "dpo@xn--villebourg-ibb.example"),
        ("https://villebourg.example/dpo?lang=fr", "https://villebourg.example/dpo?lang=fr"),
    ],
)
def test_contacts_accepted(value, stored):
    assert checked_information(StatedInformation(dpo=value), SCOPES)["dpo"] == stored


STORED = {
    "controller": "CCAS",
    "contact": "ccas@villebourg.example",
    "dpo": None,
    "retention": "Un an.",
    "reasons": {"cnaf_quotient_familial": "Il fixe l'aide.", "email": "Pour écrire."},
    "if_refused": "Venez au guichet.",
}


def test_an_amendment_changes_only_what_it_gives():
    changes = StatedInformation(dpo="dpo@villebourg.example", reasons=("email=Pour vous écrire.",))
    assert checked_information(amended(STORED, changes), SCOPES) == {
        **STORED,
        "dpo": "dpo@villebourg.example",
        "reasons": {"cnaf_quotient_familial": "Il fixe l'aide.", "email": "Pour vous écrire."},
    }


def test_an_amendment_may_clear_the_reasons_then_give_new_ones():
    cleared = amended(STORED, StatedInformation(), cleared={"reasons"})
    assert checked_information(cleared, SCOPES) == {**STORED, "reasons": None}
    replaced = amended(
        STORED, StatedInformation(reasons=("birth=Pour vous distinguer.",)), cleared={"reasons"}
    )
    assert checked_information(replaced, SCOPES)["reasons"] == {"birth": "Pour vous distinguer."}


@pytest.mark.parametrize("field", TEXTS)
def test_an_amendment_may_clear_a_text_and_keeps_the_others(field):
    cleared = checked_information(amended(STORED, StatedInformation(), cleared=[field]), SCOPES)
    assert cleared == {**STORED, field: None}
    assert f"--{field.replace('_', '-')}" in unstated({**cleared, "scopes": SCOPES})


def test_an_amendment_may_clear_texts_while_changing_others():
    changes = StatedInformation(retention="Deux ans.", reasons=("email=Pour écrire.",))
    both = amended(STORED, changes, cleared=["contact", "if_refused", "contact"])
    assert checked_information(both, SCOPES) == {
        **STORED,
        "contact": None,
        "retention": "Deux ans.",
        "if_refused": None,
    }


def test_an_amendment_may_not_clear_and_give_the_same_text():
    changes = StatedInformation(contact="ccas@villebourg.example", if_refused="Au guichet.")
    with pytest.raises(AdminError) as caught:
        amended(STORED, changes, cleared={"contact", "if_refused", "dpo"})
    assert str(caught.value) == (
        "--clear contact and --contact together: give one or the other; "
        "--clear if-refused and --if-refused together: give one or the other"
    )


def test_an_amendment_clears_only_what_it_knows():
    for unknown in ("purpose", "scopes", "if-refused", ""):
        with pytest.raises(AdminError, match="--clear must be one of controller, contact"):
            amended(STORED, StatedInformation(), cleared={unknown})


def test_an_amendment_drops_a_stored_reason_the_screen_never_showed():
    stored = {**STORED, "reasons": {"openid": "Pour vous reconnaître.", "email": "Pour écrire."}}
    changed = amended(stored, StatedInformation(retention="Deux ans."))
    assert checked_information(changed, SCOPES)["reasons"] == {"email": "Pour écrire."}


def test_an_amendment_that_changes_nothing_is_refused():
    with pytest.raises(AdminError, match="nothing to change: give --controller"):
        amended(STORED, StatedInformation())
    with pytest.raises(AdminError, match="--if-refused or --clear FIELD"):
        amended(STORED, StatedInformation(), cleared=())


def test_attack_an_amendment_is_checked_as_an_addition():
    """A kept text does not wave a new one through, and a reason given twice stays refused."""
    for changes in (
        StatedInformation(contact="javascript:alert(1)"),
        StatedInformation(reasons=("cnaf_enfants=Pour compter.",)),
        StatedInformation(reasons=("email=Un.", "email=Deux.")),
        StatedInformation(reasons=("openid=Pour vous reconnaître.",)),
    ):
        refused(amended(STORED, changes))
