"""The flow state in Redis, shared by every broker process and host (``BROKER_REDIS_URL``).

One key per record, with its time to live: a hash for interactions and codes (the state, or
the time of use, in its own field, so that the compare-and-set scripts never decode the
record), a string for sessions. Each operation is one round trip (a script or a pipeline), but
the once-a-minute touch of a session and the expiry sweep's lookup by sid (two each).
The client is synchronous: steps that use it run in worker threads (``Database.run``)."""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Any

from redis import Redis
from sqlalchemy import Connection

from broker.oidc.models import Authentication, AuthorizationCode
from broker.store.flowstate import EXPIRED_KEPT, StoredInteraction, StoredSession, UpstreamSignIn

TIMEOUT = 2.0  # seconds: a Redis that stops answering fails the step, it does not hang it
MOVE_SCRIPT = """
if redis.call('HGET', KEYS[1], 'state') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[2])
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'auth', ARGV[3]) end
return 1
"""
CONSUME_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
return redis.call('HSETNX', KEYS[1], 'consumed_at', ARGV[1])
"""


def auth_json(authentication: Authentication | None) -> str:
    return json.dumps(dataclasses.asdict(authentication)) if authentication else ""


def auth_from(raw: bytes | str | None) -> Authentication | None:
    return Authentication(**json.loads(raw)) if raw else None


def as_text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def session_json(session: StoredSession) -> str:
    return json.dumps(
        {
            "browser_digest": session.browser_digest,
            "authentication": dataclasses.asdict(session.authentication),
            "expires_at": session.expires_at,
            "upstream_id_token": session.upstream_id_token,
            "last_seen": session.last_seen,
        }
    )


def session_from(raw: bytes | str) -> StoredSession:
    record = json.loads(raw)
    return StoredSession(
        browser_digest=record["browser_digest"],
        authentication=Authentication(**record["authentication"]),
        expires_at=record["expires_at"],
        upstream_id_token=record.get("upstream_id_token"),
        last_seen=record.get("last_seen"),
    )


def ttl(until: int) -> int:
    return max(1, until - int(time.time()))


class RedisFlowState:
    kind = "redis"
    networked = True

    def __init__(self, url: str, prefix: str = "broker:flow:") -> None:
        self.redis = Redis.from_url(url, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT)
        self.prefix = prefix
        self.move_script = self.redis.register_script(MOVE_SCRIPT)
        self.consume_script = self.redis.register_script(CONSUME_SCRIPT)

    def on(self, conn: Connection) -> RedisFlowState:
        return self

    def close(self) -> None:
        self.redis.close()

    def key(self, kind: str, name: str) -> str:
        return f"{self.prefix}{kind}:{name}"

    # -- interactions ------------------------------------------------------------------------
    def create_interaction(self, interaction: StoredInteraction) -> None:
        key = self.key("interaction", interaction.id)
        record = {
            field.name: getattr(interaction, field.name)
            for field in dataclasses.fields(interaction)
            if field.name not in ("state", "authentication")
        }
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(
            key,
            mapping={
                "state": interaction.state,
                "record": json.dumps(record),
                "auth": auth_json(interaction.authentication),
            },
        )
        pipe.expire(key, ttl(interaction.expires_at + EXPIRED_KEPT))
        pipe.execute()

    def get_interaction(self, interaction_id: str) -> StoredInteraction | None:
        found = self.redis.hgetall(self.key("interaction", interaction_id))
        if not found:
            return None
        record: dict[str, Any] = json.loads(found[b"record"])
        return StoredInteraction(
            state=as_text(found[b"state"]), authentication=auth_from(found.get(b"auth")), **record
        )

    def move_interaction(
        self,
        interaction_id: str,
        from_state: str,
        to_state: str,
        authentication: Authentication | None,
    ) -> bool:
        key = self.key("interaction", interaction_id)
        moved = self.move_script(keys=[key], args=[from_state, to_state, auth_json(authentication)])
        return moved == 1

    # -- sessions ----------------------------------------------------------------------------
    # A session is a JSON string; its sid names it under a second key (for the expiry sweep),
    # with the same time to live; both are written in one MULTI/EXEC (a session the expiry
    # sweep cannot find by its sid would leave its services untold).
    def create_session(self, id_digest: str, session: StoredSession) -> None:
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(self.key("session", id_digest), session_json(session), ex=ttl(session.expires_at))
        if session.authentication.sid:
            pipe.set(
                self.key("sid", session.authentication.sid),
                id_digest,
                ex=ttl(session.expires_at),
            )
        pipe.execute()

    def get_session(self, id_digest: str) -> StoredSession | None:
        raw = self.redis.get(self.key("session", id_digest))
        return session_from(raw) if raw is not None else None

    def end_session(self, id_digest: str, now: int) -> None:
        self.redis.delete(self.key("session", id_digest))

    def session_by_sid(self, sid: str) -> tuple[str, StoredSession] | None:
        id_digest = self.redis.get(self.key("sid", sid))
        if id_digest is None:
            return None
        session = self.get_session(as_text(id_digest))
        return (as_text(id_digest), session) if session is not None else None

    def touch_session(self, id_digest: str, now: int) -> None:
        # XX: an ended session stays ended; KEEPTTL: its expiry does not move.
        key = self.key("session", id_digest)
        session = self.get_session(id_digest)
        if session is not None:
            self.redis.set(
                key,
                session_json(dataclasses.replace(session, last_seen=now)),
                xx=True,
                keepttl=True,
            )

    # -- codes -------------------------------------------------------------------------------
    def save_code(self, code: AuthorizationCode, created_at: int) -> None:
        key = self.key("code", code.code_digest)
        record = dataclasses.asdict(code)
        record.pop("consumed_at")
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(key, mapping={"record": json.dumps(record)})
        pipe.expire(key, ttl(code.expires_at + EXPIRED_KEPT))
        pipe.execute()

    def get_code(self, code_digest: str) -> AuthorizationCode | None:
        found = self.redis.hgetall(self.key("code", code_digest))
        if not found:
            return None
        consumed = found.get(b"consumed_at")
        return AuthorizationCode(
            **json.loads(found[b"record"]), consumed_at=int(consumed) if consumed else None
        )

    def consume_code(self, code_digest: str, now: int) -> bool:
        return self.consume_script(keys=[self.key("code", code_digest)], args=[now]) == 1

    # -- upstream sign-ins -------------------------------------------------------------------
    def save_upstream(self, state_digest: str, sign_in: UpstreamSignIn) -> None:
        record = json.dumps(dataclasses.asdict(sign_in))
        self.redis.set(self.key("upstream", state_digest), record, ex=ttl(sign_in.expires_at))

    def take_upstream(self, state_digest: str) -> UpstreamSignIn | None:
        raw = self.redis.getdel(self.key("upstream", state_digest))
        return UpstreamSignIn(**json.loads(raw)) if raw else None
