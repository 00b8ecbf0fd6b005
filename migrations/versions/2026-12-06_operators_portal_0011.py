"""operators' portal: agents, roles and sessions; habilitation requests with versions and
messages; expiry reminders; the append-only, hash-chained audit trail; usage roll-ups (per
product, and per product and calling service) and consent roll-ups; provider status and
maintenance notices; the organisation behind services and habilitations, recipients, API key
names and the overlap of a rotated client secret

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def text(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def create_tables() -> None:
    op.create_table(
        "portal_agent",
        sa.Column("id", text(64), primary_key=True),
        sa.Column("idp_issuer", text(500), nullable=False),
        sa.Column("idp_subject", text(255), nullable=False),
        sa.Column("email", text(320), nullable=False),
        sa.Column("given_name", text(255), nullable=False),
        sa.Column("family_name", text(255), nullable=False),
        sa.Column("siret", text(14), nullable=True),
        sa.Column("organisation", text(300), nullable=True),
        sa.Column("email_verified", sa.Boolean(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("last_sign_in_at", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("idp_issuer", "idp_subject", name="uq_portal_agent_idp"),
    )
    op.create_index("ix_portal_agent_email", "portal_agent", ["email"])
    op.create_table(
        "portal_role",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("email", text(320), nullable=False),
        sa.Column("role", text(20), nullable=False),
        sa.Column("provider", text(40), nullable=False),
        sa.Column("granted_at", sa.BigInteger(), nullable=False),
        sa.Column("granted_by", text(200), nullable=False),
        sa.UniqueConstraint("email", "role", "provider", name="uq_portal_role_email_role_provider"),
    )
    op.create_index("ix_portal_role_email", "portal_role", ["email"])
    op.create_table(
        "portal_session",
        sa.Column("id_digest", text(64), primary_key=True),
        sa.Column("agent_id", text(64), sa.ForeignKey("portal_agent.id"), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("last_seen", sa.BigInteger(), nullable=False),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("upstream_id_token", sa.Text(), nullable=True),
    )
    op.create_index("ix_portal_session_agent_id", "portal_session", ["agent_id"])
    op.create_index("ix_portal_session_expires_at", "portal_session", ["expires_at"])
    op.create_table(
        "habilitation_request",
        sa.Column("id", text(64), primary_key=True),
        sa.Column("organisation_siret", text(14), nullable=False),
        sa.Column("status", text(20), nullable=False),
        sa.Column("habilitation_id", text(64), sa.ForeignKey("habilitation.id"), nullable=True),
        sa.Column("filed_by", text(64), sa.ForeignKey("portal_agent.id"), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("submitted_at", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", text(64), nullable=True),
        sa.Column("decision_reason", text(4000), nullable=True),
    )
    op.create_index(
        "ix_habilitation_request_organisation_siret", "habilitation_request", ["organisation_siret"]
    )
    op.create_index(
        "ix_habilitation_request_habilitation_id", "habilitation_request", ["habilitation_id"]
    )
    op.create_table(
        "habilitation_request_version",
        sa.Column(
            "request_id", text(64), sa.ForeignKey("habilitation_request.id"), primary_key=True
        ),
        sa.Column("number", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("author", text(64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("submitted_at", sa.BigInteger(), nullable=True),
    )
    op.create_table(
        "habilitation_request_message",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("request_id", text(64), sa.ForeignKey("habilitation_request.id"), nullable=False),
        sa.Column("author", text(64), nullable=False),
        sa.Column("author_role", text(20), nullable=False),
        sa.Column("kind", text(20), nullable=False),
        sa.Column("body", text(4000), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("at", sa.BigInteger(), nullable=False),
    )
    op.create_index(
        "ix_habilitation_request_message_request_id",
        "habilitation_request_message",
        ["request_id"],
    )
    op.create_table(
        "habilitation_reminder",
        sa.Column("habilitation_id", text(64), sa.ForeignKey("habilitation.id"), primary_key=True),
        sa.Column("days_before", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("sent_at", sa.BigInteger(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
    )
    op.create_table(
        "audit_entry",
        sa.Column("seq", BIG_ID, primary_key=True, autoincrement=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("actor", text(200), nullable=False),
        sa.Column("action", text(60), nullable=False),
        sa.Column("target_type", text(40), nullable=False),
        sa.Column("target_id", text(64), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("previous_digest", text(64), nullable=False),
        sa.Column("digest", text(64), nullable=False, unique=True),
    )
    op.create_table(
        "usage_day",
        sa.Column("day", text(10), primary_key=True),
        sa.Column("product", text(100), primary_key=True),
        sa.Column("provider", text(40), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("latency_buckets", sa.JSON(), nullable=False),
    )
    op.create_index("ix_usage_day_provider", "usage_day", ["provider"])
    op.create_table(
        "usage_service_day",
        sa.Column("day", text(10), primary_key=True),
        sa.Column("product", text(100), primary_key=True),
        sa.Column("service_id", text(64), primary_key=True),
        sa.Column("provider", text(40), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("outcomes", sa.JSON(), nullable=False),
    )
    op.create_index("ix_usage_service_day_provider", "usage_service_day", ["provider"])
    op.create_table(
        "consent_day",
        sa.Column("day", text(10), primary_key=True),
        sa.Column("kind", text(20), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
    )
    op.create_table(
        "rollup_cursor",
        sa.Column("name", text(40), primary_key=True),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "status_check",
        sa.Column("target", text(100), primary_key=True),
        sa.Column("label", text(200), nullable=False),
        sa.Column("state", text(20), nullable=False),
        sa.Column("detail", text(500), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.BigInteger(), nullable=False),
        sa.Column("since", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "status_incident",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("target", text(100), nullable=False),
        sa.Column("state", text(20), nullable=False),
        sa.Column("detail", text(500), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_status_incident_target", "status_incident", ["target"])
    op.create_index("ix_status_incident_started_at", "status_incident", ["started_at"])
    op.create_table(
        "status_notice",
        sa.Column("id", BIG_ID, primary_key=True, autoincrement=True),
        sa.Column("target", text(100), nullable=False),
        sa.Column("message", text(1000), nullable=False),
        sa.Column("starts_at", sa.BigInteger(), nullable=False),
        sa.Column("ends_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", text(200), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
    )
    op.create_index("ix_status_notice_ends_at", "status_notice", ["ends_at"])


NEW_TABLES = (
    "status_notice",
    "status_incident",
    "status_check",
    "rollup_cursor",
    "consent_day",
    "usage_service_day",
    "usage_day",
    "audit_entry",
    "habilitation_reminder",
    "habilitation_request_message",
    "habilitation_request_version",
    "habilitation_request",
    "portal_session",
    "portal_role",
    "portal_agent",
)

# The audit trail is append-only for the application's own connections: an UPDATE or a DELETE
# fails. (Whoever owns the database can still drop the triggers: the digest chain shows it.)
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER audit_entry_no_{verb.lower()} BEFORE {verb} ON audit_entry "
    "BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END"
    for verb in ("UPDATE", "DELETE")
]
POSTGRES_TRIGGERS = [
    "CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'the audit trail is append-only'; END $$",
    "CREATE TRIGGER audit_entry_append_only BEFORE UPDATE OR DELETE ON audit_entry "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()",
    # TRUNCATE bypasses DELETE triggers (and empties the trail without breaking any link).
    "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()",
]


def upgrade() -> None:
    create_tables()
    for statement in (
        POSTGRES_TRIGGERS if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGERS
    ):
        op.execute(statement)
    with op.batch_alter_table("habilitation") as batch:
        batch.add_column(sa.Column("organisation_siret", text(14), nullable=True))
        batch.add_column(sa.Column("recipients", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("request_id", text(64), nullable=True))
        batch.create_index("ix_habilitation_organisation_siret", ["organisation_siret"])
    with op.batch_alter_table("api_key") as batch:
        batch.add_column(sa.Column("name", text(100), nullable=True))
        batch.add_column(sa.Column("created_by", text(200), nullable=True))
    with op.batch_alter_table("service") as batch:
        batch.add_column(sa.Column("organisation_siret", text(14), nullable=True))
        batch.create_index("ix_service_organisation_siret", ["organisation_siret"])
    with op.batch_alter_table("oauth_client") as batch:
        batch.add_column(sa.Column("previous_secret_digest", text(128), nullable=True))
        batch.add_column(sa.Column("previous_secret_expires_at", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("oauth_client") as batch:
        batch.drop_column("previous_secret_expires_at")
        batch.drop_column("previous_secret_digest")
    with op.batch_alter_table("service") as batch:
        batch.drop_index("ix_service_organisation_siret")
        batch.drop_column("organisation_siret")
    with op.batch_alter_table("api_key") as batch:
        batch.drop_column("created_by")
        batch.drop_column("name")
    with op.batch_alter_table("habilitation") as batch:
        batch.drop_index("ix_habilitation_organisation_siret")
        batch.drop_column("request_id")
        batch.drop_column("recipients")
        batch.drop_column("organisation_siret")
    for table in NEW_TABLES:
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_entry_append_only()")
