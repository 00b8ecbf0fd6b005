"""Representative rows for every table as it is at one revision.

The columns that carry meaning get values as the broker writes them (statuses, scopes, JSON
documents, French text); every other column gets a value derived from its type. Values differ
from one batch to the next and from the columns' defaults, so that a migration resetting a
column, or mixing rows up, shows."""

from __future__ import annotations

import zlib
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
)

Row = dict[str, Any]
Key = tuple[Any, ...]
Rows = dict[str, dict[Key, Row]]  # table name -> primary key -> row

SCOPES = ["openid", "given_name", "family_name", "cnous_statut_boursier", "cnous_echelon_bourse"]

# Keyed by (table, column), or by column name alone for columns that mean the same everywhere.
# A callable receives the batch tag, for values that must stay unique.
MEANINGFUL: dict[tuple[str, str] | str, Any] = {
    "given_name": "Élodie Marie",
    "family_name": "Lefèvre",
    "preferred_username": "Dupont-Lefèvre",
    "birthdate": "1998-02-17",
    "gender": "female",
    "birthplace": "75056",
    "birthcountry": "99100",
    "email": lambda tag: f"elodie.{tag}@example.org",
    "acr": "eidas2",
    "amr": ["pwd", "mfa"],
    "scope": " ".join(SCOPES),
    "code_challenge_method": "S256",
    "purpose": "Tarification sociale de la restauration scolaire",
    "legal_basis": "Article L. 114-8 du code des relations entre le public et l’administration",
    ("service", "name"): lambda tag: f"Bourse et restauration {tag}",
    ("oauth_client", "auth_method"): "private_key_jwt",
    ("oauth_client", "redirect_uris"): ["https://service.example/callback"],
    ("oauth_client", "post_logout_redirect_uris"): ["https://service.example/signed-out"],
    ("oauth_client", "jwks"): {"keys": [{"kty": "EC", "crv": "P-256", "x": "f83O", "y": "x_FE"}]},
    ("oauth_client", "id_token_signed_response_alg"): "ES256",
    ("oauth_client", "access_token_ttl"): 300,
    ("signing_key", "alg"): "ES256",
    ("signing_key", "public_jwk"): {"kty": "EC", "crv": "P-256", "x": "MKBC", "y": "4Etl"},
    ("habilitation", "scopes"): SCOPES[1:],
    ("habilitation", "optional_scopes"): ["cnous_echelon_bourse"],
    ("habilitation", "consent_mode"): "one_time",
    ("habilitation", "consent_days"): 90,
    ("consent_grant", "status"): "active",
    ("consent_grant", "mode"): "one_time",
    ("consent_grant_scope", "optional"): True,
    ("consent_event", "kind"): "narrowed",
    ("consent_event", "scopes"): SCOPES[:4],
    ("consent_event", "wording"): {
        "service": "Cantine de Lyon",
        "purpose": "Tarification sociale de la restauration scolaire",
        "items": [{"provider": "Cnous", "label": "Statut boursier « oui/non »"}],
    },
    ("consent_notification", "url"): "https://service.example/consent-events",
    ("consent_notification", "attempts"): 2,
    ("access_journal", "credential"): "access_token",
    ("access_journal", "product"): "cnous/etudiant_boursier",
    ("access_journal", "mode"): "france_connect",
    ("access_journal", "scopes"): SCOPES[3:],
    ("access_journal", "recipient"): "13002526500013",
    ("access_journal", "outcome"): "provider_timeout",
    ("access_journal", "status"): 504,
    ("access_journal", "error_code"): "37999",
    ("access_journal", "cached"): False,
    ("access_journal", "latency_ms"): 5003,
    ("introspection_client", "provider"): "cnous",
    ("interaction", "state"): "consented",
    ("interaction", "params"): {"scope": "openid given_name", "code_challenge_method": "S256"},
    ("identity_provider", "name"): lambda tag: f"Impôts {tag}",
    ("identity_provider", "kind"): "oidc",
    ("identity_provider", "issuer"): "https://idp.example/realms/citizens",
    ("identity_provider", "auth_method"): "client_secret_basic",
    ("identity_provider", "scopes"): "openid given_name family_name birthdate",
    ("identity_provider", "acr_values"): ["eidas1", "eidas2"],
    ("identity_provider", "id_token_algs"): ["ES256", "RS256"],
    ("identity_provider", "signed_userinfo"): False,
    ("identity_provider", "demo"): False,
    ("client_idp_rule", "rule"): "block",
    ("portal_role", "role"): "instructor",
    ("habilitation_request", "status"): "changes_requested",
    ("habilitation_request_version", "content"): {"purpose": "Tarification « sociale »"},
    ("habilitation_reminder", "days_before"): 30,
    ("habilitation_reminder", "recipients"): ["dpo@villebourg.example"],
    ("usage_day", "latency_buckets"): [0, 3, 1, 0],
    ("usage_service_day", "product"): "cnous/etudiant_boursier",
    ("usage_service_day", "outcomes"): {"ok": 1790, "not_found": 12, "timeout": 3},
    ("status_check", "state"): "maintenance",
    # Per second before 0012, per minute after: multiples of 60 go down and up again exactly.
    ("habilitation", "rate_limit"): lambda tag: 60 * int(tag[1:]),
    ("federation_login", "record"): {"idp": "impots", "nonce": "n-0S6_WzA2Mj", "acr": "eidas2"},
}


def insert_batch(conn: Connection, batch: int) -> Rows:
    """One representative row in every table of the database as it is now (parents before
    children, each child pointing at this batch's parent); returns them as inserted."""
    metadata = MetaData()
    metadata.reflect(conn)
    inserted: Rows = {}
    for table in metadata.sorted_tables:
        if table.name == "alembic_version":
            continue
        row = representative_row(table, batch, inserted)
        key = conn.execute(table.insert().values(row)).inserted_primary_key
        assert key is not None
        row = {**row, **key._asdict()}  # with the ids the database generated
        inserted[table.name] = {primary_key(table, row): row}
    return inserted


def representative_row(table: Table, batch: int, parents: Rows) -> Row:
    row: Row = {}
    for column in table.columns:
        if database_generates(table, column):
            continue
        row[column.name] = (
            parent_value(column, parents) if column.foreign_keys else value(column, batch)
        )
    return row


def primary_key(table: Table, row: Row) -> Key:
    return tuple(row[column.name] for column in table.primary_key.columns)


def database_generates(table: Table, column: Column[Any]) -> bool:
    """Integer surrogate keys (journal and event ids) come from the database, as in production:
    a migration that loses their sequence shows."""
    keys = list(table.primary_key.columns)
    if (table.name, column.name) in APPLICATION_NUMBERED:
        return False
    return keys == [column] and isinstance(column.type, Integer) and not column.foreign_keys


# Integer keys the application numbers itself (the audit trail's chain position).
APPLICATION_NUMBERED = {("audit_entry", "seq")}


def parent_value(column: Column[Any], parents: Rows) -> Any:
    (foreign_key,) = column.foreign_keys
    parent_table = foreign_key.column.table.name
    (parent_row,) = parents[parent_table].values()
    return parent_row[foreign_key.column.name]


def value(column: Column[Any], batch: int) -> Any:
    tag = f"b{batch}"
    meaningful = MEANINGFUL.get((column.table.name, column.name), MEANINGFUL.get(column.name))
    if meaningful is not None:
        return meaningful(tag) if callable(meaningful) else meaningful
    return typed_value(column, tag, batch)


def typed_value(column: Column[Any], tag: str, batch: int) -> Any:
    kind = column.type
    spread = zlib.crc32(column.name.encode()) % 1000  # columns of one row differ
    if isinstance(kind, Boolean):
        return True  # never the default (False) of a boolean column
    if isinstance(kind, Integer):
        return 1_795_000_000 + batch * 1000 + spread  # fits a 32-bit INTEGER too
    if isinstance(kind, JSON):
        return {"column": column.name, "batch": batch, "texte": "données « à jour »"}
    if isinstance(kind, LargeBinary):
        return f"{column.name}-{tag}".encode() + bytes([0, 255, batch])
    if isinstance(kind, String):
        text = f"{column.name}-{tag}-é"
        length = kind.length
        return text if length is None or len(text) <= length else tag[-length:]
    raise TypeError(f"no sample value for {column.table.name}.{column.name} ({kind})")
