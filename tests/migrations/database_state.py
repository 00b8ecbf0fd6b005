"""What the migration walk compares from one revision to the next: the shape of every table,
and the rows each holds."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Connection, MetaData, inspect, select

from tests.migrations.sample_rows import Key, Row, Rows

VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class TableShape:
    columns: frozenset[tuple[str, str, bool]]  # name, type, nullable
    primary_key: tuple[str, ...]
    foreign_keys: frozenset[tuple[tuple[str, ...], str, tuple[str, ...]]]
    indexes: frozenset[tuple[str | None, tuple[str | None, ...], bool]]
    unique_constraints: frozenset[tuple[str, ...]]

    @property
    def column_names(self) -> set[str]:
        return {name for name, _, _ in self.columns}


Shape = dict[str, TableShape]


def shape_of(conn: Connection) -> Shape:
    inspector = inspect(conn)
    return {
        table: TableShape(
            columns=frozenset(
                (c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)
            ),
            primary_key=tuple(inspector.get_pk_constraint(table)["constrained_columns"]),
            foreign_keys=frozenset(
                (
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
            indexes=frozenset(
                (ix["name"], tuple(ix["column_names"]), ix["unique"])
                for ix in inspector.get_indexes(table)
            ),
            unique_constraints=frozenset(
                tuple(uq["column_names"]) for uq in inspector.get_unique_constraints(table)
            ),
        )
        for table in inspector.get_table_names()
        if table != VERSION_TABLE
    }


def shape_differences(expected: Shape, actual: Shape) -> list[str]:
    """One line per table missing or unexpected, and per table property that differs."""
    found = [f"{table}: table missing" for table in sorted(set(expected) - set(actual))]
    found += [f"{table}: unexpected table" for table in sorted(set(actual) - set(expected))]
    for table in sorted(set(expected) & set(actual)):
        for field in fields(TableShape):
            wanted, got = getattr(expected[table], field.name), getattr(actual[table], field.name)
            if wanted == got:
                continue
            if isinstance(wanted, frozenset):
                extra, missing = sorted(got - wanted, key=str), sorted(wanted - got, key=str)
                found.append(f"{table} {field.name}: unexpected {extra}, missing {missing}")
            else:
                found.append(f"{table} {field.name}: {got}, expected {wanted}")
    return found


def lost(before: Shape, after: Shape) -> set[str]:
    """The tables, and the columns of the remaining tables (as ``table.column``), that
    ``after`` no longer has."""
    tables = set(before) - set(after)
    columns = {
        f"{table}.{column}"
        for table in set(before) & set(after)
        for column in before[table].column_names - after[table].column_names
    }
    return tables | columns


class ExpectedRows:
    """The rows the database should hold, kept in step with the schema: a table dropped loses
    its rows, a column dropped its values; a column added holds its backfill (the server
    default it was added with) in the rows that were there before, or NULL."""

    def __init__(self, backfill: Mapping[tuple[str, str], Any]) -> None:
        self.backfill = backfill
        self.rows: Rows = {}

    def add(self, rows: Rows) -> None:
        for table, keyed in rows.items():
            self.rows.setdefault(table, {}).update(keyed)

    def follow(self, after: Shape) -> None:
        for table in set(self.rows) - set(after):
            del self.rows[table]
        for table, table_shape in after.items():
            for row in self.rows.setdefault(table, {}).values():
                for column in table_shape.column_names - row.keys():
                    row[column] = self.backfill.get((table, column))
                for column in row.keys() - table_shape.column_names:
                    del row[column]

    def differences(self, conn: Connection, shape: Shape) -> list[str]:
        """One line per row missing, unexpected or changed; empty when all is as expected."""
        metadata = MetaData()
        metadata.reflect(conn)
        found = []
        for table, expected in sorted(self.rows.items()):
            key_columns = shape[table].primary_key
            actual = {
                tuple(row[name] for name in key_columns): {k: plain(v) for k, v in row.items()}
                for row in conn.execute(select(metadata.tables[table])).mappings()
            }
            found += compare_table(table, expected, actual)
        return found


def compare_table(table: str, expected: dict[Key, Row], actual: dict[Key, Row]) -> list[str]:
    found = [f"{table} {key}: row missing" for key in expected.keys() - actual.keys()]
    found += [f"{table} {key}: unexpected row" for key in actual.keys() - expected.keys()]
    for key in expected.keys() & actual.keys():
        found += [
            f"{table} {key}: {column} is {actual[key][column]!r}, expected {wanted!r}"
            for column, wanted in expected[key].items()
            if actual[key][column] != wanted
        ]
    return found


def plain(value: Any) -> Any:
    """Drivers return binary columns as bytes or as memoryview."""
    return bytes(value) if isinstance(value, memoryview) else value
