from __future__ import annotations

import json
import time

import pytest
from sqlmodel import select

from broker.keys.keystore import KeyStore
from broker.keys.vault import KeyVault, VaultError
from broker.store.key_store import SqlKeyRepository
from broker.store.models import SigningKey


def test_keys_generated_at_first_start_and_sealed_at_rest(state):
    with state.db.reader() as s:
        rows = s.exec(select(SigningKey)).all()
    assert {r.alg for r in rows} == {"ES256", "RS256"}
    for row in rows:
        private = state.keys.signing_key(row.alg).as_dict(private=True)
        assert private["d"].encode() not in row.private_jwk_encrypted
        assert "d" not in row.public_jwk
    assert all("d" not in k for k in state.keys.jwks()["keys"])


def test_wrong_secret_cannot_open_keys(state):
    other = KeyStore(SqlKeyRepository(state.db), KeyVault(b"another secret" * 3), 3600)
    with pytest.raises(VaultError):
        other.signing_key("ES256")


def test_sealed_key_cannot_be_moved_to_another_kid():
    vault = KeyVault(b"x" * 40)
    sealed = vault.seal(b"{}", "kid-a")
    with pytest.raises(VaultError):
        vault.open(sealed, "kid-b")


def test_rotation_keeps_retiring_keys_published_until_their_tokens_expire(state):
    before = state.keys.signing_key("ES256").kid
    outcome = state.keys.rotate()
    state.keys.invalidate()
    after = state.keys.signing_key("ES256").kid
    assert after != before and before in outcome["retired"] and after in outcome["created"]
    published = {k["kid"] for k in state.keys.jwks()["keys"]}
    assert {before, after} <= published
    # Once every token signed by the old key has expired, it leaves the JWKS.
    later = KeyStore(SqlKeyRepository(state.db), KeyVault(state.settings.secret), 3600)
    with state.db.transaction() as s:
        for row in s.exec(select(SigningKey).where(SigningKey.kid == before)).all():
            assert row.unpublish_at >= int(time.time()) + 3600
            row.unpublish_at = int(time.time()) - 1
            s.add(row)
    assert before not in {k["kid"] for k in later.jwks()["keys"]}
    assert json.dumps(later.jwks())  # still a valid JWKS


def test_wrong_secret_stops_the_start_up(state, settings_factory):
    from broker.app import build_state, create_app

    wrong = build_state(settings_factory(key_encryption_secret="another-secret-" * 3))
    app = create_app(wrong.settings, wrong)
    with pytest.raises(VaultError):
        for hook in app.on_startup:
            hook()
    wrong.db.dispose()
