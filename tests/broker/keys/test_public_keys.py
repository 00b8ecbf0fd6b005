"""Public keys for verifying processes: no private key is ever read, and a token signed by a
freshly rotated key is accepted without waiting for the periodic reload."""

from __future__ import annotations

from joserfc import jwt

from broker.keys.public import PublicKeys
from broker.store.key_store import SqlKeyRepository


def token(state) -> str:
    key = state.keys.signing_key("ES256")
    return jwt.encode({"alg": "ES256", "kid": key.kid}, {"sub": "x"}, key)


def test_unknown_kid_triggers_a_reload_known_ones_do_not(state):
    public = PublicKeys(SqlKeyRepository(state.db), refresh=3600, unknown_kid_refresh=0)
    first = token(state)
    assert jwt.decode(first, public.verification_keys(first)).claims == {"sub": "x"}
    loaded_at = public._loaded_at
    public.verification_keys(first)
    assert public._loaded_at == loaded_at  # known kid: no database read

    state.keys.rotate()
    state.keys.invalidate()
    fresh = token(state)
    assert jwt.decode(fresh, public.verification_keys(fresh)).claims == {"sub": "x"}


def test_never_holds_private_material(state):
    public = PublicKeys(SqlKeyRepository(state.db))
    for key in public.verification_keys().keys:
        assert "d" not in key.as_dict(private=False)
        assert not key.is_private
