"""RFC 9449 (DPoP): proofs checked at the token endpoint and at protected resources, tokens bound
to the proof's key, server nonces; and the FAPI 2.0 refresh rule (no rotation).

Every proof rule has a test that breaks it. A proof refused at the token endpoint burns nothing:
the same code is redeemed afterwards with a good proof."""

from __future__ import annotations

import base64
import json
import secrets
from dataclasses import replace
from typing import Any

import pytest
from joserfc.jwk import ECKey, OctKey, OKPKey, RSAKey

from broker.core.security import digest
from broker.oidc.authorize import issue_code
from broker.oidc.dpop import MAX_AGE, MAX_SKEW, InvalidDpopProof, ProofContext, check_proof
from broker.oidc.dpop_nonce import STEP, DpopNonces
from broker.oidc.dpop_resource import (
    BEARER,
    DPOP,
    PresentedToken,
    ResourceRefusal,
    check_binding,
    presented_token,
    resource_proof,
    spend_proof,
)
from tests.broker.oidc.kit import (
    CONFIG,
    ISSUER,
    RESOURCE_AUDIENCE,
    TOKEN_ENDPOINT,
    USERINFO_ENDPOINT,
    AuthorizationRequest,
    DpopKey,
    Headers,
    IssuedCode,
    OidcKit,
    RegisteredClient,
    citizen_session,
    query,
)
from tests.broker.oidc.memory import now, unverified_claims

NONCE_KEY = b"dpop-nonce-key-for-the-tests-0123456789"


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def refused(kit: OidcKit, client: RegisteredClient, issued: IssuedCode, proof: str) -> dict:
    """Redeems with ``proof``, which must be refused, then shows the code survived: a good
    proof redeems it."""
    response = kit.redeem(client, issued.code, issued.verifier, dpop=proof)
    assert response.status == 400, response.body
    assert kit.store.code(issued.code).consumed_at is None
    good = kit.redeem(client, issued.code, issued.verifier, dpop=DpopKey().proof())
    assert good.status == 200, good.body
    return response.body


def fapi2_client(kit: OidcKit, name: str) -> RegisteredClient:
    return kit.register(
        name,
        "private_key_jwt",
        profile="fapi2",
        dpop_bound_access_tokens=True,
        require_pushed_authorization_requests=True,
    )


def parked_request_code(kit: OidcKit, client: RegisteredClient) -> IssuedCode:
    """A code issued on an authorization request the broker parked (how a FAPI 2.0 client
    pushed it is PAR's subject, not this file's)."""
    request = AuthorizationRequest(client)
    params = {k: v for k, v in request.params().items() if v is not None}
    grant_id = f"grant-{request.state}"
    kit.grants.add(grant_id, client.client.scope)
    location = issue_code(kit.server(), params, citizen_session(), client.client.scope, grant_id)
    code = query(location)["code"]
    return IssuedCode(code, request.verifier, request.nonce, request.state, grant_id, location)


def refused_proof(kit: OidcKit, proof: str) -> str:
    """The error description of a proof refused at the token endpoint (asserting the code
    survived)."""
    issued = kit.obtain_code(kit.basic)
    body = refused(kit, kit.basic, issued, proof)
    assert body["error"] == "invalid_dpop_proof", body
    return body["error_description"]


# --- Binding at the token endpoint --------------------------------------------------------------


def test_a_proof_binds_the_access_and_the_refresh_token_to_its_key(kit):
    key = DpopKey()
    issued = kit.obtain_code(kit.basic)
    response = kit.redeem(kit.basic, issued.code, issued.verifier, dpop=key.proof())
    assert response.status == 200, response.body
    body = response.body
    assert body["token_type"] == "DPoP"
    assert unverified_claims(body["access_token"])["cnf"] == {"jkt": key.jkt}
    assert kit.store.access_token(body["access_token"]).jkt == key.jkt
    assert kit.store.refresh_token(body["refresh_token"]).jkt == key.jkt


def test_without_a_proof_tokens_are_bearer_tokens_as_before(kit):
    body = kit.tokens(kit.post)
    assert body["token_type"] == "Bearer"
    assert "cnf" not in unverified_claims(body["access_token"])
    assert kit.store.access_token(body["access_token"]).jkt is None
    assert kit.store.refresh_token(body["refresh_token"]).jkt is None


@pytest.mark.parametrize(
    "key",
    [
        DpopKey(),
        DpopKey(ECKey.generate_key("P-256", private=True), "ES256"),
        DpopKey(OKPKey.generate_key("Ed25519", private=True), "EdDSA"),
        DpopKey(OKPKey.generate_key("Ed25519", private=True), "Ed25519"),
    ],
    ids=["ES256", "ES256-again", "EdDSA", "Ed25519"],
)
def test_each_advertised_algorithm_binds(kit, key):
    issued = kit.obtain_code(kit.jwt)
    response = kit.redeem(kit.jwt, issued.code, issued.verifier, dpop=key.proof())
    assert response.status == 200, response.body
    assert kit.store.access_token(response.body["access_token"]).jkt == key.jkt


def test_rsa_keys_bind_with_ps256_and_rs256(kit):
    rsa = RSAKey.generate_key(2048, private=True)
    for alg in ("PS256", "RS256"):
        key = DpopKey(rsa, alg)
        issued = kit.obtain_code(kit.basic)
        response = kit.redeem(kit.basic, issued.code, issued.verifier, dpop=key.proof())
        assert response.status == 200, response.body


def test_htu_is_compared_without_query_fragment_case_or_default_port(kit):
    for url in (
        f"{TOKEN_ENDPOINT}?x=1#frag",
        "HTTPS://Broker.Example/token",
        "https://broker.example:443/token",
    ):
        issued = kit.obtain_code(kit.basic)
        response = kit.redeem(
            kit.basic, issued.code, issued.verifier, dpop=DpopKey().proof(url=url)
        )
        assert response.status == 200, (url, response.body)


# --- Each proof rule, broken (§4.3) -------------------------------------------------------------


def test_attack_dpop_proof_with_wrong_htm(kit):
    assert "htm" in refused_proof(kit, DpopKey().proof(method="GET"))


@pytest.mark.parametrize(
    "url",
    [
        f"{ISSUER}/userinfo",
        "https://attacker.example/token",
        "http://broker.example/token",
        "https://broker.example:8443/token",
        "https://user@broker.example/token",
        "/token",
    ],
)
def test_attack_dpop_proof_with_wrong_htu(kit, url):
    assert "htu" in refused_proof(kit, DpopKey().proof(url=url))


def test_attack_dpop_proof_stale_iat(kit):
    assert "too old" in refused_proof(kit, DpopKey().proof(iat=now() - MAX_AGE - 2))


def test_attack_dpop_proof_future_iat(kit):
    assert "future" in refused_proof(kit, DpopKey().proof(iat=now() + MAX_SKEW + 5))


def test_a_proof_within_the_window_is_accepted(kit):
    for iat in (now() - MAX_AGE + 5, now() + MAX_SKEW - 2):
        issued = kit.obtain_code(kit.basic)
        response = kit.redeem(
            kit.basic, issued.code, issued.verifier, dpop=DpopKey().proof(iat=iat)
        )
        assert response.status == 200, response.body


@pytest.mark.parametrize(
    "claims",
    [
        {"jti": None},
        {"jti": ""},
        {"jti": 42},
        {"jti": "j" * 300},
        {"iat": None},
        {"iat": "now"},
        {"iat": True},
        {"iat": float("nan")},
        {"iat": float("inf")},
        {"htm": None},
        {"htu": None},
        {"htu": 42},
    ],
    ids=[
        "no-jti",
        "empty-jti",
        "number-jti",
        "long-jti",
        "no-iat",
        "text-iat",
        "bool-iat",
        "nan-iat",
        "infinite-iat",
        "no-htm",
        "no-htu",
        "number-htu",
    ],
)
def test_attack_dpop_proof_missing_claims(kit, claims):
    refused_proof(kit, DpopKey().proof(claims=claims))


def test_attack_dpop_proof_with_wrong_typ(kit):
    for typ in ("JWT", "at+jwt", None):
        assert "typ" in refused_proof(kit, DpopKey().proof(header={"typ": typ}))


def test_attack_dpop_proof_with_private_key_in_header(kit):
    key = DpopKey()
    proof = key.proof(header={"jwk": key.key.as_dict(private=True)})
    assert "public" in refused_proof(kit, proof)


def test_attack_dpop_proof_with_symmetric_alg(kit):
    secret = OctKey.generate_key(256)
    proof = DpopKey(secret, "HS256").proof(header={"jwk": secret.as_dict()})
    assert "alg" in refused_proof(kit, proof)


def test_attack_dpop_proof_with_oct_jwk_and_asymmetric_alg(kit):
    secret = OctKey.generate_key(256)
    proof = DpopKey().proof(header={"jwk": {"kty": "oct", "k": secret.as_dict()["k"]}})
    assert "public" in refused_proof(kit, proof)


def test_attack_dpop_proof_with_alg_none(kit):
    key = DpopKey()
    header = {"typ": "dpop+jwt", "alg": "none", "jwk": key.key.as_dict(private=False)}
    claims = {"jti": "j-1", "htm": "POST", "htu": TOKEN_ENDPOINT, "iat": now()}
    assert "alg" in refused_proof(kit, f"{b64(header)}.{b64(claims)}.")


def test_attack_dpop_proof_with_bad_signature(kit):
    other = ECKey.generate_key("P-256", private=True)
    assert "signature" in refused_proof(kit, DpopKey().proof(signing_key=other))


def test_attack_dpop_proof_whose_jwk_does_not_fit_its_alg(kit):
    rsa = RSAKey.generate_key(2048, private=True)
    proof = DpopKey().proof(header={"jwk": rsa.as_dict(private=False)})  # signed with ES256
    assert "signature" in refused_proof(kit, proof)


def test_attack_dpop_proof_with_weak_rsa_key(kit):
    """FAPI 2.0 §5.4.1 and common sense: an RSA proof key has 2048 bits at least."""
    weak = DpopKey(RSAKey.generate_key(1024, private=True), "PS256")
    assert "2048 to 4096 bits" in refused_proof(kit, weak.proof())


def test_attack_dpop_proof_with_oversized_rsa_key(kit):
    """An RSA key above 4096 bits is refused before any signature is checked: a proof must
    not cost the server more than it costs the client. (The modulus need not be a real key's:
    the size alone refuses it.)"""
    modulus = secrets.randbits(8192) | (1 << 8191) | 1
    n = base64.urlsafe_b64encode(modulus.to_bytes(1024, "big")).rstrip(b"=").decode()
    header = {"jwk": {"kty": "RSA", "n": n, "e": "AQAB"}}  # signed with ES256: no matter
    assert "2048 to 4096 bits" in refused_proof(kit, DpopKey().proof(header=header))


def test_attack_dpop_proof_with_ed448_key(kit):
    """FAPI 2.0 §5.4.1: EdDSA means Ed25519; an Ed448 key is refused."""
    ed448 = DpopKey(OKPKey.generate_key("Ed448", private=True), "EdDSA")
    assert "Ed25519" in refused_proof(kit, ed448.proof())


def test_rsa_keys_of_2048_to_4096_bits_are_accepted():
    for bits in (2048, 4096):
        key = DpopKey(RSAKey.generate_key(bits, private=True), "PS256")
        checked = check_proof(key.proof(), ProofContext("POST", TOKEN_ENDPOINT), now())
        assert checked.jkt == key.jkt


@pytest.mark.parametrize(
    "value", ["", "not-a-jwt", "a.b.c", "a.b.c.d.e", "é.é.é", "x" * 9000], ids=repr
)
def test_attack_dpop_header_that_is_not_a_jws(kit, value):
    refused_proof(kit, value)


def test_attack_dpop_proof_without_jwk(kit):
    assert "jwk" in refused_proof(kit, DpopKey().proof(header={"jwk": None}))


def test_attack_two_dpop_headers(kit):
    class MultiHeaders(Headers):
        def getall(self, name: str, default: list[str]) -> list[str]:
            return [DpopKey().proof(), DpopKey().proof()] if name == "dpop" else default

    from broker.oidc.dpop import proof_header

    with pytest.raises(InvalidDpopProof, match="one DPoP header"):
        proof_header(MultiHeaders({"DPoP": "x"}))


def test_attack_dpop_proof_replay(kit):
    """A proof is accepted once (§11.1): the same proof at the token endpoint again is refused
    before the refresh token is looked at, so that token is neither rotated nor revoked."""
    key = DpopKey()
    first = key.proof()
    issued = kit.obtain_code(kit.basic)
    tokens = kit.redeem(kit.basic, issued.code, issued.verifier, dpop=first).body
    replay = kit.refresh(kit.basic, tokens["refresh_token"], dpop=first)
    assert replay.status == 400 and replay.body["error"] == "invalid_dpop_proof"
    assert "already used" in replay.body["error_description"]
    assert kit.store.refresh_token(tokens["refresh_token"]).used_at is None
    assert kit.grants.reuse_revocations == []
    fresh = kit.refresh(kit.basic, tokens["refresh_token"], dpop=key.proof())
    assert fresh.status == 200, fresh.body


def test_attack_dpop_proof_replayed_against_another_code_burns_nothing(kit):
    proof = DpopKey().proof()
    first = kit.obtain_code(kit.basic)
    assert kit.redeem(kit.basic, first.code, first.verifier, dpop=proof).status == 200
    second = kit.obtain_code(kit.basic)
    body = refused(kit, kit.basic, second, proof)
    assert body["error"] == "invalid_dpop_proof"


def test_a_failed_client_authentication_spends_no_proof(kit):
    """The jti is recorded after client authentication: an unauthenticated caller leaves no
    row, and the client can still use its proof."""
    proof = DpopKey().proof()
    issued = kit.obtain_code(kit.basic)
    wrong = kit.redeem(
        kit.basic,
        issued.code,
        issued.verifier,
        dpop=proof,
        auth=({"client_id": kit.basic.client_id, "client_secret": "wrong"}, {}),
    )
    assert wrong.status in (400, 401) and wrong.body["error"] == "invalid_client"
    assert kit.store.dpop_proofs == {}
    assert kit.redeem(kit.basic, issued.code, issued.verifier, dpop=proof).status == 200


# --- Codes bound to a key (§10: dpop_jkt) -------------------------------------------------------


def bind_code(kit: OidcKit, code: str, jkt: str) -> None:
    """As if the code's authorization request had named ``dpop_jkt`` (or been pushed with a
    proof)."""
    kit.store.codes[digest(code)] = replace(kit.store.code(code), dpop_jkt=jkt)


def test_a_code_bound_to_a_key_is_redeemed_with_a_proof_of_that_key(kit):
    key = DpopKey()
    issued = kit.obtain_code(kit.basic)
    bind_code(kit, issued.code, key.jkt)
    response = kit.redeem(kit.basic, issued.code, issued.verifier, dpop=key.proof())
    assert response.status == 200 and response.body["token_type"] == "DPoP"


@pytest.mark.parametrize("proof", ["another key", "none"])
def test_attack_code_bound_to_a_key_redeemed_without_it(kit, proof):
    """Like a PKCE failure, the failed redemption consumes the code (issue 13, item 8)."""
    key = DpopKey()
    issued = kit.obtain_code(kit.basic)
    bind_code(kit, issued.code, key.jkt)
    other = DpopKey().proof() if proof == "another key" else None
    response = kit.redeem(kit.basic, issued.code, issued.verifier, dpop=other)
    assert response.status == 400 and response.body["error"] == "invalid_dpop_proof"
    assert kit.store.code(issued.code).consumed_at is not None
    assert kit.store.access_tokens == {}
    again = kit.redeem(kit.basic, issued.code, issued.verifier, dpop=key.proof())
    assert again.status == 400 and again.body["error"] == "invalid_grant"


# --- Clients that must use DPoP -----------------------------------------------------------------


def test_a_client_registered_with_dpop_needs_a_proof(kit):
    client = kit.register("service-d", "client_secret_basic", dpop_bound_access_tokens=True)
    issued = kit.obtain_code(client)
    response = kit.redeem(client, issued.code, issued.verifier)
    assert response.status == 400 and response.body["error"] == "invalid_dpop_proof"
    assert kit.store.code(issued.code).consumed_at is None  # nothing burnt
    good = kit.redeem(client, issued.code, issued.verifier, dpop=DpopKey().proof())
    assert good.status == 200 and good.body["token_type"] == "DPoP"


def test_a_fapi2_client_signs_its_proofs_with_the_profiles_algorithms(kit):
    client = fapi2_client(kit, "service-f")
    rsa = RSAKey.generate_key(2048, private=True)
    issued = parked_request_code(kit, client)
    body = refused(kit, client, issued, DpopKey(rsa, "RS256").proof())
    assert body["error"] == "invalid_dpop_proof" and "FAPI" in body["error_description"]


def test_a_fapi2_client_needs_a_proof_even_unregistered_for_dpop(kit):
    """FAPI 2.0 §5.3.2.1: a FAPI 2.0 client's tokens are sender-constrained, whatever its
    ``dpop_bound_access_tokens`` says (a registration made before the profile implied it)."""
    client = kit.register(
        "service-g", "private_key_jwt", profile="fapi2", require_pushed_authorization_requests=True
    )
    assert not client.client.dpop_bound_access_tokens
    issued = parked_request_code(kit, client)
    response = kit.redeem(client, issued.code, issued.verifier)
    assert response.status == 400 and response.body["error"] == "invalid_dpop_proof"
    assert kit.store.code(issued.code).consumed_at is None
    good = kit.redeem(client, issued.code, issued.verifier, dpop=DpopKey().proof())
    assert good.status == 200 and good.body["token_type"] == "DPoP"


# --- Nonces (§8) --------------------------------------------------------------------------------


@pytest.fixture
def nonce_kit() -> OidcKit:
    kit = OidcKit()
    kit.config = replace(CONFIG, dpop_require_nonce=True, dpop_nonce_key=NONCE_KEY)
    return kit


def test_attack_dpop_proof_without_the_required_nonce(nonce_kit):
    kit = nonce_kit
    key = DpopKey()
    issued = kit.obtain_code(kit.basic)
    first = kit.redeem(kit.basic, issued.code, issued.verifier, dpop=key.proof())
    assert first.status == 400 and first.body["error"] == "use_dpop_nonce"
    nonce = dict(first.headers)["DPoP-Nonce"]
    assert kit.store.code(issued.code).consumed_at is None and kit.store.dpop_proofs == {}
    retried = kit.redeem(kit.basic, issued.code, issued.verifier, dpop=key.proof(nonce=nonce))
    assert retried.status == 200, retried.body
    assert dict(retried.headers)["DPoP-Nonce"]  # §8.2: the next one, on every answer


@pytest.mark.parametrize(
    "nonce",
    [
        "forged",
        "0.AAAAAAAAAAAAAAAAAAAAAA",
        DpopNonces(NONCE_KEY, ISSUER).current(now() - 2 * STEP - 1),  # expired
        DpopNonces(NONCE_KEY, RESOURCE_AUDIENCE).current(now()),  # the data API's
        DpopNonces(b"another-key-entirely-0123456789", ISSUER).current(now()),
        "²." + "A" * 22,
    ],
    ids=["forged", "zero", "expired", "other-realm", "other-key", "unicode-digit"],
)
def test_attack_dpop_proof_with_a_nonce_the_broker_did_not_issue(nonce_kit, nonce):
    kit = nonce_kit
    issued = kit.obtain_code(kit.basic)
    response = kit.redeem(
        kit.basic, issued.code, issued.verifier, dpop=DpopKey().proof(nonce=nonce)
    )
    assert response.status == 400 and response.body["error"] == "use_dpop_nonce"
    assert kit.store.code(issued.code).consumed_at is None


def test_nonces_of_this_and_the_previous_step_are_accepted():
    nonces = DpopNonces(NONCE_KEY, ISSUER)
    t = 1_000_000 * STEP
    assert nonces.valid(nonces.current(t), t)
    assert nonces.valid(nonces.current(t - STEP), t)
    assert not nonces.valid(nonces.current(t - 2 * STEP), t)
    assert not nonces.valid(nonces.current(t + STEP), t)  # not yet issued


def test_without_required_nonces_no_nonce_header_is_sent(kit):
    issued = kit.obtain_code(kit.basic)
    response = kit.redeem(kit.basic, issued.code, issued.verifier, dpop=DpopKey().proof())
    assert response.status == 200
    assert "DPoP-Nonce" not in dict(response.headers)


# --- Refresh: binding kept, another key refused -------------------------------------------------


def bound_tokens(kit: OidcKit, client: RegisteredClient, key: DpopKey) -> dict:
    issued = kit.obtain_code(client)
    response = kit.redeem(client, issued.code, issued.verifier, dpop=key.proof())
    assert response.status == 200, response.body
    return response.body


def test_a_bound_refresh_token_keeps_its_binding_through_rotation(kit):
    key = DpopKey()
    tokens = bound_tokens(kit, kit.basic, key)
    for _ in range(2):
        response = kit.refresh(kit.basic, tokens["refresh_token"], dpop=key.proof())
        assert response.status == 200, response.body
        assert response.body["token_type"] == "DPoP"
        assert response.body["refresh_token"] != tokens["refresh_token"]  # rotated
        assert kit.store.refresh_token(response.body["refresh_token"]).jkt == key.jkt
        assert unverified_claims(response.body["access_token"])["cnf"] == {"jkt": key.jkt}
        tokens = response.body


def test_attack_dpop_bound_refresh_token_with_another_key(kit):
    key = DpopKey()
    tokens = bound_tokens(kit, kit.basic, key)
    thief = kit.refresh(kit.basic, tokens["refresh_token"], dpop=DpopKey().proof())
    assert thief.status == 400 and thief.body["error"] == "invalid_dpop_proof"
    assert "another DPoP key" in thief.body["error_description"]
    # Nothing spent: not rotated, the grant not revoked; its holder goes on.
    assert kit.store.refresh_token(tokens["refresh_token"]).used_at is None
    assert kit.grants.reuse_revocations == []
    assert kit.refresh(kit.basic, tokens["refresh_token"], dpop=key.proof()).status == 200


def test_attack_dpop_bound_refresh_token_without_a_proof(kit):
    tokens = bound_tokens(kit, kit.basic, DpopKey())
    stolen = kit.refresh(kit.basic, tokens["refresh_token"])
    assert stolen.status == 400 and stolen.body["error"] == "invalid_dpop_proof"
    assert kit.store.refresh_token(tokens["refresh_token"]).used_at is None


def test_attack_rotated_bound_refresh_token_replayed_with_another_key_revokes_nothing(kit):
    """The reuse rule revokes the grant when a rotated token comes back; a proof made with
    the wrong key is refused first, so a thief without the key cannot end the grant."""
    key = DpopKey()
    tokens = bound_tokens(kit, kit.basic, key)
    assert kit.refresh(kit.basic, tokens["refresh_token"], dpop=key.proof()).status == 200
    thief = kit.refresh(kit.basic, tokens["refresh_token"], dpop=DpopKey().proof())
    assert thief.body["error"] == "invalid_dpop_proof"
    assert kit.grants.reuse_revocations == []
    owner_reuse = kit.refresh(kit.basic, tokens["refresh_token"], dpop=key.proof())
    assert owner_reuse.body["error"] == "invalid_grant"
    assert len(kit.grants.reuse_revocations) == 1


def test_an_unbound_refresh_token_with_a_proof_gets_a_bound_access_token(kit):
    tokens = kit.tokens(kit.basic)
    key = DpopKey()
    response = kit.refresh(kit.basic, tokens["refresh_token"], dpop=key.proof())
    assert response.status == 200 and response.body["token_type"] == "DPoP"
    assert kit.store.access_token(response.body["access_token"]).jkt == key.jkt
    # The chain keeps the binding it started with: none.
    assert kit.store.refresh_token(response.body["refresh_token"]).jkt is None


# --- FAPI 2.0 §5.3.2.1: no refresh token rotation -----------------------------------------------


def test_a_fapi2_clients_refresh_token_is_not_rotated(kit):
    client = fapi2_client(kit, "service-g")
    key = DpopKey()
    issued = parked_request_code(kit, client)
    tokens = kit.redeem(client, issued.code, issued.verifier, dpop=key.proof()).body
    assert tokens["token_type"] == "DPoP" and "refresh_token" in tokens
    for _ in range(3):
        response = kit.refresh(client, tokens["refresh_token"], dpop=key.proof())
        assert response.status == 200, response.body
        assert "refresh_token" not in response.body
        assert response.body["token_type"] == "DPoP"
    record = kit.store.refresh_token(tokens["refresh_token"])
    assert record.used_at is None and record.revoked_at is None
    assert len(kit.store.refresh_tokens) == 1
    assert kit.grants.reuse_revocations == []


def test_other_clients_keep_rotation_and_reuse_detection(kit):
    tokens = kit.tokens(kit.jwt)
    rotated = kit.refresh(kit.jwt, tokens["refresh_token"])
    assert rotated.status == 200 and rotated.body["refresh_token"] != tokens["refresh_token"]
    reuse = kit.refresh(kit.jwt, tokens["refresh_token"])
    assert reuse.status == 400 and reuse.body["error"] == "invalid_grant"
    assert [g for g, _ in kit.grants.reuse_revocations] == [tokens["issued"].grant_id]


# --- Introspection (§6.2) -----------------------------------------------------------------------


def test_introspection_shows_the_binding(kit):
    provider = kit.providers.add("dgfip")
    key = DpopKey()
    bound = bound_tokens(kit, kit.basic, key)["access_token"]
    body = kit.introspect(bound, provider).body
    assert body["active"] is True
    assert body["cnf"] == {"jkt": key.jkt} and body["token_type"] == "DPoP"
    bearer = kit.tokens(kit.basic)["access_token"]
    plain = kit.introspect(bearer, provider).body
    assert plain["active"] is True and "cnf" not in plain and plain["token_type"] == "Bearer"


# --- At a protected resource (§7) ---------------------------------------------------------------


def resource_check(
    kit: OidcKit, authorization: str, proof: str | None, url: str = USERINFO_ENDPOINT
) -> None:
    """What userinfo and the data API do with a presented token, on the kit's store."""
    presented = presented_token(authorization)
    assert presented is not None
    headers = Headers({"DPoP": proof} if proof else {})
    checked = resource_proof(presented, headers, "GET", url, None, now())
    record = kit.store.access_token(presented.token)
    check_binding(presented, record.jkt, checked)
    spend_proof(kit.store, checked)


def test_a_bound_token_with_its_proof_is_accepted(kit):
    key = DpopKey()
    token = bound_tokens(kit, kit.basic, key)["access_token"]
    proof = key.proof("GET", USERINFO_ENDPOINT, access_token=token)
    resource_check(kit, f"DPoP {token}", proof)
    with pytest.raises(ResourceRefusal, match="already used") as replay:
        resource_check(kit, f"DPoP {token}", proof)
    assert replay.value.error == "invalid_dpop_proof"


def test_attack_dpop_token_downgraded_to_bearer(kit):
    key = DpopKey()
    token = bound_tokens(kit, kit.basic, key)["access_token"]
    with pytest.raises(ResourceRefusal) as refusal:
        resource_check(kit, f"Bearer {token}", None)
    assert refusal.value.error == "invalid_token"
    assert refusal.value.challenge.startswith('DPoP error="invalid_token"')
    # A proof beside the bearer presentation changes nothing.
    with pytest.raises(ResourceRefusal):
        resource_check(
            kit, f"Bearer {token}", key.proof("GET", USERINFO_ENDPOINT, access_token=token)
        )


def test_attack_unbound_token_presented_as_dpop(kit):
    token = kit.tokens(kit.basic)["access_token"]
    key = DpopKey()
    with pytest.raises(ResourceRefusal) as refusal:
        resource_check(
            kit, f"DPoP {token}", key.proof("GET", USERINFO_ENDPOINT, access_token=token)
        )
    assert refusal.value.error == "invalid_token"


def test_attack_dpop_proof_with_wrong_ath(kit):
    key = DpopKey()
    token = bound_tokens(kit, kit.basic, key)["access_token"]
    other = bound_tokens(kit, kit.basic, key)["access_token"]
    for proof in (
        key.proof("GET", USERINFO_ENDPOINT, access_token=other),
        key.proof("GET", USERINFO_ENDPOINT),  # no ath
    ):
        with pytest.raises(ResourceRefusal, match="ath") as refusal:
            resource_check(kit, f"DPoP {token}", proof)
        assert refusal.value.error == "invalid_dpop_proof"


def test_attack_bound_token_with_a_proof_of_another_key(kit):
    token = bound_tokens(kit, kit.basic, DpopKey())["access_token"]
    thief = DpopKey()
    with pytest.raises(ResourceRefusal, match="token's key") as refusal:
        resource_check(
            kit, f"DPoP {token}", thief.proof("GET", USERINFO_ENDPOINT, access_token=token)
        )
    assert refusal.value.error == "invalid_dpop_proof"


def test_attack_dpop_presentation_without_a_proof(kit):
    token = bound_tokens(kit, kit.basic, DpopKey())["access_token"]
    with pytest.raises(ResourceRefusal, match="proof header"):
        resource_check(kit, f"DPoP {token}", None)


def test_attack_resource_proof_made_for_another_url(kit):
    key = DpopKey()
    token = bound_tokens(kit, kit.basic, key)["access_token"]
    proof = key.proof("GET", f"{RESOURCE_AUDIENCE}/v3/dgfip/x/france_connect", access_token=token)
    with pytest.raises(ResourceRefusal, match="htu"):
        resource_check(kit, f"DPoP {token}", proof)


def test_resource_nonce_refusal_carries_the_nonce_and_challenge():
    nonces = DpopNonces(NONCE_KEY, RESOURCE_AUDIENCE)
    key = DpopKey()
    url = f"{RESOURCE_AUDIENCE}/v3/dgfip/x/france_connect"
    presented = PresentedToken(DPOP, "token")
    headers = Headers({"DPoP": key.proof("GET", url, access_token="token")})
    with pytest.raises(ResourceRefusal) as refusal:
        resource_proof(presented, headers, "GET", url, nonces, now())
    assert refusal.value.error == "use_dpop_nonce"
    assert refusal.value.headers()["DPoP-Nonce"] == nonces.current(now())
    assert refusal.value.challenge.startswith('DPoP error="use_dpop_nonce"')
    assert 'algs="ES256 ' in refusal.value.challenge
    good = key.proof("GET", url, access_token="token", nonce=nonces.current(now()))
    checked = resource_proof(presented, Headers({"DPoP": good}), "GET", url, nonces, now())
    assert checked is not None and checked.jkt == key.jkt


def test_authorization_schemes_are_read_case_insensitively():
    assert presented_token("dpop abc") == PresentedToken(DPOP, "abc")
    assert presented_token("BEARER abc") == PresentedToken(BEARER, "abc")
    assert presented_token("Basic abc") is None and presented_token("DPoP ") is None


def test_check_proof_gives_what_replay_detection_needs():
    key = DpopKey()
    t = now()
    proof = check_proof(key.proof(iat=t, jti="j-1"), ProofContext("POST", TOKEN_ENDPOINT), t)
    assert proof.jkt == key.jkt and proof.jti == "j-1" and proof.expires_at == t + MAX_AGE
    other_key = check_proof(
        DpopKey().proof(iat=t, jti="j-1"), ProofContext("POST", TOKEN_ENDPOINT), t
    )
    assert other_key.replay_digest != proof.replay_digest  # a jti is per key
