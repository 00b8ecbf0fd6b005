"""Database errors never carry bound values (personal data, secrets) into messages or logs."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from broker.core.db import Database


def test_database_errors_hide_bound_values(database_url):
    db = Database(database_url)
    try:
        with pytest.raises(SQLAlchemyError) as caught, db.begin() as conn:
            conn.execute(
                text("INSERT INTO no_such_table (x) VALUES (:x)"), {"x": "DUBOIS Angela 1962-08-24"}
            )
    finally:
        db.dispose()
    assert "DUBOIS" not in str(caught.value)
    assert "hidden due to hide_parameters" in str(caught.value)
