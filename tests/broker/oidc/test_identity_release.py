"""Which identity scopes a userinfo answer released: only identity scopes, only those whose
claims it carries, ``openid`` first; nothing when it carries no identity claim but ``sub``."""

from __future__ import annotations

from broker.oidc.identity_release import USERINFO, released_scopes, userinfo_release
from broker.oidc.models import AccessTokenRecord, Client

ANSWER = {"sub": "s", "given_name": "Angela", "birthplace": "75107", "email": "a@example.fr"}


def test_identity_scopes_with_a_claim_sent_in_the_registry_order():
    granted = ["email", "cnaf_quotient_familial", "birth", "openid", "profile", "given_name"]
    assert released_scopes(granted, ANSWER) == ("openid", "profile", "birth", "email", "given_name")


def test_a_scope_whose_claims_have_no_value_released_nothing():
    assert released_scopes(["openid", "preferred_username", "email"], ANSWER) == (
        "openid",
        "email",
    )


def test_sub_alone_or_data_scopes_alone_release_nothing():
    assert released_scopes(["openid"], {"sub": "s"}) == ()
    assert released_scopes(["openid", "cnaf_quotient_familial"], {"sub": "s"}) == ()
    assert released_scopes(["openid", "email"], {"sub": "s"}) == ()


def test_the_release_names_the_token_its_citizen_client_service_and_sub():
    token = AccessTokenRecord(
        jti="j", client_id="c", citizen_id="z", scope="openid email", expires_at=0, revoked_at=None
    )
    client = Client(
        client_id="c",
        name="n",
        service_id="svc",
        sector_identifier="sector",
        auth_method="client_secret_basic",
        redirect_uris=[],
        scope="openid email",
    )
    release = userinfo_release(token, client, ANSWER)
    assert release is not None
    assert (release.credential, release.credential_id, release.citizen_id) == (USERINFO, "j", "z")
    assert (release.client_id, release.service_id, release.subject) == ("c", "svc", "s")
    assert release.scopes == ("openid", "email")
    assert userinfo_release(token, client, {"sub": "s"}) is None
