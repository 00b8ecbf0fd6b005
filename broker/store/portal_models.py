"""Tables of the operators' portal: agents and their roles, habilitation requests with their
versions and messages, expiry reminders, the audit trail, usage roll-ups and the status of the
providers. Times are integer epoch seconds (UTC), as in the rest of the schema."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

BIG_ID = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER only


class PortalAgent(SQLModel, table=True):
    """A public agent as last received from the agents' identity provider (ProConnect in
    France). No password: the provider authenticates them."""

    __tablename__ = "portal_agent"
    __table_args__ = (UniqueConstraint("idp_issuer", "idp_subject", name="uq_portal_agent_idp"),)

    id: str = Field(primary_key=True, max_length=64)
    idp_issuer: str = Field(max_length=500)
    idp_subject: str = Field(max_length=255)
    email: str = Field(max_length=320, index=True)  # lower-cased
    given_name: str = Field(default="", max_length=255)
    family_name: str = Field(default="", max_length=255)
    siret: str | None = Field(default=None, max_length=14)  # the organisation they act for
    organisation: str | None = Field(default=None, max_length=300)
    # The provider's email_verified at the last sign-in (None: it did not say). Roles hang on
    # the email: False keeps every granted role away, even one granted after that sign-in.
    email_verified: bool | None = Field(default=None)
    created_at: int = Field(sa_type=BigInteger)
    last_sign_in_at: int = Field(sa_type=BigInteger)


class PortalRole(SQLModel, table=True):
    """A role given to an agent by email (before or after their first sign-in): instructor,
    administrator, or data provider of one provider. Being a requester needs no row: any agent
    whose provider names a SIRET requests for that organisation."""

    __tablename__ = "portal_role"
    __table_args__ = (
        UniqueConstraint("email", "role", "provider", name="uq_portal_role_email_role_provider"),
    )

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG_ID)
    email: str = Field(max_length=320, index=True)
    role: str = Field(max_length=20)  # instructor | administrator | data_provider
    provider: str = Field(default="", max_length=40)  # data_provider: the provider's key
    granted_at: int = Field(sa_type=BigInteger)
    granted_by: str = Field(max_length=200)


class PortalSession(SQLModel, table=True):
    """A signed-in agent's session in one browser; the cookie holds the id, the table its
    digest."""

    __tablename__ = "portal_session"

    id_digest: str = Field(primary_key=True, max_length=64)
    agent_id: str = Field(foreign_key="portal_agent.id", index=True, max_length=64)
    created_at: int = Field(sa_type=BigInteger)
    expires_at: int = Field(sa_type=BigInteger, index=True)
    last_seen: int = Field(sa_type=BigInteger)
    revoked_at: int | None = Field(default=None, sa_type=BigInteger)
    upstream_id_token: str | None = Field(default=None, sa_type=Text)  # for end_session


class HabilitationRequestRecord(SQLModel, table=True):
    """A request for a habilitation (a first one, or a change to an approved one: then
    ``habilitation_id`` names it) and where it stands (see broker.admin.requests)."""

    __tablename__ = "habilitation_request"

    id: str = Field(primary_key=True, max_length=64)
    organisation_siret: str = Field(max_length=14, index=True)
    status: str = Field(max_length=20)  # draft | submitted | changes_requested | approved | refused
    habilitation_id: str | None = Field(
        default=None, foreign_key="habilitation.id", index=True, max_length=64
    )
    filed_by: str = Field(foreign_key="portal_agent.id", max_length=64)
    current_version: int = 1
    created_at: int = Field(sa_type=BigInteger)
    updated_at: int = Field(sa_type=BigInteger)
    submitted_at: int | None = Field(default=None, sa_type=BigInteger)
    decided_at: int | None = Field(default=None, sa_type=BigInteger)
    decided_by: str | None = Field(default=None, max_length=64)
    decision_reason: str | None = Field(default=None, max_length=4000)


class HabilitationRequestVersion(SQLModel, table=True):
    """What a request asked for, one row per version: the draft being edited is the last one;
    a version once submitted is never changed (instructors compare versions)."""

    __tablename__ = "habilitation_request_version"

    request_id: str = Field(foreign_key="habilitation_request.id", primary_key=True, max_length=64)
    number: int = Field(primary_key=True)
    content: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    author: str = Field(max_length=64)
    created_at: int = Field(sa_type=BigInteger)
    submitted_at: int | None = Field(default=None, sa_type=BigInteger)


class HabilitationRequestMessage(SQLModel, table=True):
    """The exchange on a request between its requesters and the instructors, decisions
    included. Never updated."""

    __tablename__ = "habilitation_request_message"

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG_ID)
    request_id: str = Field(foreign_key="habilitation_request.id", index=True, max_length=64)
    author: str = Field(max_length=64)  # a portal agent id
    author_role: str = Field(max_length=20)  # requester | instructor | administrator
    kind: str = Field(max_length=20)  # message | submitted | changes_requested | approved | refused
    body: str = Field(default="", max_length=4000)
    version: int | None = Field(default=None)  # the version it is about
    at: int = Field(sa_type=BigInteger)


class HabilitationReminder(SQLModel, table=True):
    """An expiry reminder sent (or being sent) for a habilitation: one per threshold."""

    __tablename__ = "habilitation_reminder"

    habilitation_id: str = Field(foreign_key="habilitation.id", primary_key=True, max_length=64)
    days_before: int = Field(primary_key=True)  # 90, 30 or 7
    sent_at: int = Field(sa_type=BigInteger)
    recipients: list[str] = Field(sa_column=Column(JSON, nullable=False))


class AuditEntry(SQLModel, table=True):
    """One change made through the portal or the CLI. Append-only (triggers refuse UPDATE and
    DELETE), each entry chained to the previous one: ``digest`` covers its own fields and the
    previous entry's digest (see broker.admin.audit)."""

    __tablename__ = "audit_entry"

    seq: int = Field(primary_key=True, sa_type=BIG_ID, sa_column_kwargs={"autoincrement": False})
    at: int = Field(sa_type=BigInteger)
    actor: str = Field(max_length=200)  # "agent:<id> <email>" or "cli:<user>"
    action: str = Field(max_length=60)  # habilitation.approve, api_key.issue…
    target_type: str = Field(max_length=40)
    target_id: str = Field(max_length=64)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    previous_digest: str = Field(max_length=64)
    digest: str = Field(max_length=64, unique=True)


class UsageDay(SQLModel, table=True):
    """The data API's calls rolled up per UTC day and product (from the access journal, see
    broker.admin.usage): counts, errors and a latency histogram for the percentiles."""

    __tablename__ = "usage_day"

    day: str = Field(primary_key=True, max_length=10)  # YYYY-MM-DD
    product: str = Field(primary_key=True, max_length=100)
    provider: str = Field(max_length=40, index=True)
    calls: int = 0
    errors: int = 0
    # Calls per latency bucket (upper bounds in broker.admin.usage.LATENCY_BUCKETS_MS).
    latency_buckets: list[int] = Field(sa_column=Column(JSON, nullable=False))


class UsageServiceDay(SQLModel, table=True):
    """The data API's calls rolled up per UTC day, product and calling service (from the
    access journal, in the same pass as ``usage_day``): what a data provider sees of who uses
    its products. Never shown on the public statistics. ``service_id`` is "" for calls refused
    before their caller was known."""

    __tablename__ = "usage_service_day"

    day: str = Field(primary_key=True, max_length=10)  # YYYY-MM-DD
    product: str = Field(primary_key=True, max_length=100)
    service_id: str = Field(primary_key=True, max_length=64)
    provider: str = Field(max_length=40, index=True)
    calls: int = 0
    errors: int = 0
    # Calls per journal outcome ("ok", "not_found", "timeout"…): {outcome: count}.
    outcomes: dict[str, int] = Field(sa_column=Column(JSON, nullable=False))


class ConsentDay(SQLModel, table=True):
    """Consent events rolled up per UTC day and kind (granted, refused, revoked…)."""

    __tablename__ = "consent_day"

    day: str = Field(primary_key=True, max_length=10)
    kind: str = Field(primary_key=True, max_length=20)
    count: int = 0


class RollupCursor(SQLModel, table=True):
    """How far each roll-up has read its source table (the last id rolled up)."""

    __tablename__ = "rollup_cursor"

    name: str = Field(primary_key=True, max_length=40)
    last_id: int = Field(default=0, sa_type=BigInteger)
    updated_at: int = Field(sa_type=BigInteger)


class StatusCheck(SQLModel, table=True):
    """The last ping of a data provider or identity provider (``target`` "provider:cnaf",
    "idp:<id>")."""

    __tablename__ = "status_check"

    target: str = Field(primary_key=True, max_length=100)
    label: str = Field(max_length=200)
    state: str = Field(max_length=20)  # up | degraded | maintenance | down
    detail: str = Field(default="", max_length=500)
    latency_ms: int | None = Field(default=None)
    checked_at: int = Field(sa_type=BigInteger)
    since: int = Field(sa_type=BigInteger)  # when it entered this state


class StatusIncident(SQLModel, table=True):
    """A period a target was not up, opened and closed by the pings."""

    __tablename__ = "status_incident"
    __table_args__ = (Index("ix_status_incident_started_at", "started_at"),)

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG_ID)
    target: str = Field(max_length=100, index=True)
    state: str = Field(max_length=20)
    detail: str = Field(default="", max_length=500)
    started_at: int = Field(sa_type=BigInteger)
    ended_at: int | None = Field(default=None, sa_type=BigInteger)


class StatusNotice(SQLModel, table=True):
    """A maintenance message written by an administrator, shown on /status while current."""

    __tablename__ = "status_notice"

    id: int | None = Field(default=None, primary_key=True, sa_type=BIG_ID)
    target: str = Field(default="", max_length=100)  # "" : the whole platform
    message: str = Field(max_length=1000)
    starts_at: int = Field(sa_type=BigInteger)
    ends_at: int = Field(sa_type=BigInteger, index=True)
    created_by: str = Field(max_length=200)
    created_at: int = Field(sa_type=BigInteger)
