"""Tables of the data API: habilitations, API keys and the access journal.

Times are integer epoch seconds (UTC), as in the rest of the schema."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Index, Integer
from sqlmodel import Field, SQLModel


class Habilitation(SQLModel, table=True):
    """The approved right of a service to request a set of data scopes, for a stated purpose,
    under a stated legal basis, until an expiry date."""

    __tablename__ = "habilitation"

    id: str = Field(primary_key=True, max_length=64)
    service_id: str = Field(foreign_key="service.id", index=True, max_length=64)
    scopes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    purpose: str = Field(max_length=2000)
    legal_basis: str = Field(max_length=2000)
    rate_limit: int | None = Field(default=None)  # requests per minute; None: the default
    legal_basis_url: str | None = Field(default=None, max_length=2000)
    # Items the citizen may untick on the consent screen (a subset of ``scopes``).
    optional_scopes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    consent_mode: str = Field(default="recurring", max_length=20)  # a ConsentMode
    consent_days: int | None = Field(default=None)  # recurring: how long, at most 365 days
    created_at: int = Field(sa_type=BigInteger)
    expires_at: int | None = Field(default=None, sa_type=BigInteger)
    revoked_at: int | None = Field(default=None, sa_type=BigInteger)
    # What the consent screen tells the citizen besides the purpose (NULL: not stated).
    controller: str | None = Field(default=None, max_length=300)  # responsible organisation
    contact: str | None = Field(default=None, max_length=500)  # email address or https URL
    dpo: str | None = Field(default=None, max_length=500)  # data protection officer, likewise
    retention: str | None = Field(default=None, max_length=1000)  # how long the service keeps it
    reasons: dict[str, str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    if_refused: str | None = Field(default=None, max_length=2000)  # the alternative procedure
    # The organisation that holds it (SIRET), the public bodies the data may be sent to
    # (recipient SIRETs), and the portal request that approved its current version.
    organisation_siret: str | None = Field(default=None, max_length=14, index=True)
    recipients: list[str] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    request_id: str | None = Field(default=None, max_length=64)


API_KEY_PREFIX = "bpk_"  # every API key starts so: lets secret scanners recognise a leaked one


class ApiKey(SQLModel, table=True):
    """A credential of agents' software, bound to one habilitation. Only its digest is kept."""

    __tablename__ = "api_key"

    id: str = Field(primary_key=True, max_length=64)
    habilitation_id: str = Field(foreign_key="habilitation.id", index=True, max_length=64)
    digest: str = Field(max_length=64, unique=True)
    created_at: int = Field(sa_type=BigInteger)
    revoked_at: int | None = Field(default=None, sa_type=BigInteger)
    name: str | None = Field(default=None, max_length=100)  # given by its holder
    created_by: str | None = Field(default=None, max_length=200)  # an audit actor


class AccessJournal(SQLModel, table=True):
    """One row per call of the data API, success or failure, and one per release of the
    citizen's identity to a service (product "identity", see broker.store.identity_releases).
    Never updated.

    Who is asked about is kept as the pairwise ``subject`` the service knows (France Connect
    mode) and as a keyed digest of the identity pivot or identifier (``identity_digest``),
    never in clear."""

    __tablename__ = "access_journal"
    __table_args__ = (
        # The citizen space reads a citizen's rows, all or one service's (its filter, the last
        # access of a consent). With the service between the citizen and the time, one index
        # seeks both; the unfiltered read sorts the citizen's rows (a few hundred, typically)
        # rather than the data API paying a third index write on every call.
        Index("ix_access_journal_citizen_service_at", "citizen_id", "service_id", "at"),
        Index("ix_access_journal_identity_service_at", "identity_digest", "service_id", "at"),
        Index("ix_access_journal_service_at", "service_id", "at"),
    )

    # Never purged by the broker: 64-bit ids (SQLite's INTEGER rowid is 64-bit already, and
    # only INTEGER is its auto-incrementing key type).
    id: int | None = Field(
        default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite")
    )
    at: int = Field(sa_type=BigInteger)
    request_id: str = Field(max_length=64)
    service_id: str | None = Field(default=None, max_length=64)
    habilitation_id: str | None = Field(default=None, max_length=64)
    credential: str = Field(max_length=20)  # access_token | api_key | none | userinfo
    credential_id: str | None = Field(default=None, max_length=64)  # token jti or API key id
    client_id: str | None = Field(default=None, max_length=64)
    citizen_id: str | None = Field(default=None, max_length=64)
    subject: str | None = Field(default=None, max_length=128)
    identity_digest: str | None = Field(default=None, max_length=64)
    product: str = Field(max_length=100)
    mode: str = Field(max_length=20)
    scopes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    recipient: str | None = Field(default=None, max_length=14)
    outcome: str = Field(max_length=30)
    status: int
    error_code: str | None = Field(default=None, max_length=10)
    cached: bool = False
    latency_ms: int


class IntrospectionClient(SQLModel, table=True):
    """A data provider allowed to introspect access tokens (RFC 7662) for its own scopes."""

    __tablename__ = "introspection_client"

    client_id: str = Field(primary_key=True, max_length=64)
    provider: str = Field(max_length=40)
    secret_digest: str = Field(max_length=64)
    created_at: int = Field(sa_type=BigInteger)
    revoked_at: int | None = Field(default=None, sa_type=BigInteger)
