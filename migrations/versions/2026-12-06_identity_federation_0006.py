"""identity federation: upstream providers, per-service rules, citizens keyed by their pivot

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_provider",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("issuer", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column(
            "client_secret_sealed", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True
        ),
        sa.Column("auth_method", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("scopes", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("acr_values", sa.JSON(), nullable=False),
        sa.Column("id_token_algs", sa.JSON(), nullable=False),
        sa.Column("signed_userinfo", sa.Boolean(), nullable=False),
        sa.Column("logo", sa.LargeBinary(), nullable=True),
        sa.Column("logo_type", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("message", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("demo", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "client_idp_rule",
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("idp_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["oauth_client.client_id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["idp_id"], ["identity_provider.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("client_id", "idp_id"),
    )
    op.create_table(
        "federation_login",
        sa.Column("state_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("state_digest"),
    )
    with op.batch_alter_table("federation_login", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_federation_login_expires_at"), ["expires_at"], unique=False
        )
    op.create_table(
        "sign_in_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("citizen_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("idp", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("client_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("acr", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.ForeignKeyConstraint(["citizen_id"], ["citizen.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("sign_in_event", schema=None) as batch_op:
        batch_op.create_index("ix_sign_in_event_citizen_at", ["citizen_id", "at"], unique=False)
    op.create_table(
        "citizen_idp_block",
        sa.Column("citizen_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("idp_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("blocked_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["citizen_id"], ["citizen.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("citizen_id", "idp_id"),
    )
    # One citizen per person, whichever provider: found by a keyed digest of the pivot. Rows
    # from before have none; the broker fills it at their next sign-in.
    with op.batch_alter_table("citizen", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pivot_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch_op.create_unique_constraint("uq_citizen_pivot_digest", ["pivot_digest"])
        batch_op.drop_constraint("uq_citizen_idp_subject", type_="unique")
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("post_logout_redirect_uris", sa.JSON(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("browser_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("upstream_id_token", sa.Text(), nullable=True))
    with op.batch_alter_table("authorization_code", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("idp", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
    # The demo accounts now live in the demo identity providers' own process.
    op.drop_table("demo_identity")


def downgrade() -> None:
    op.create_table(
        "demo_identity",
        sa.Column("login", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("given_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("family_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column(
            "preferred_username", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False
        ),
        sa.Column("birthdate", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("gender", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("birthplace", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("birthcountry", sqlmodel.sql.sqltypes.AutoString(length=5), nullable=False),
        sa.Column("email", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("acr", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("case", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("login"),
    )
    with op.batch_alter_table("authorization_code", schema=None) as batch_op:
        batch_op.drop_column("idp")
    with op.batch_alter_table("browser_session", schema=None) as batch_op:
        batch_op.drop_column("upstream_id_token")
    with op.batch_alter_table("oauth_client", schema=None) as batch_op:
        batch_op.drop_column("post_logout_redirect_uris")
    # Two rows that share a provider subject cannot be told apart again: the older rule comes
    # back only if no person signed in through two providers in between.
    with op.batch_alter_table("citizen", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_citizen_idp_subject", ["idp", "idp_subject"])
        batch_op.drop_constraint("uq_citizen_pivot_digest", type_="unique")
        batch_op.drop_column("pivot_digest")
    op.drop_table("citizen_idp_block")
    with op.batch_alter_table("sign_in_event", schema=None) as batch_op:
        batch_op.drop_index("ix_sign_in_event_citizen_at")
    op.drop_table("sign_in_event")
    with op.batch_alter_table("federation_login", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_federation_login_expires_at"))
    op.drop_table("federation_login")
    op.drop_table("client_idp_rule")
    op.drop_table("identity_provider")
