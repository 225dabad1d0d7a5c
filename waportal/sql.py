"""Small SQL building blocks the ORM has no cheap equivalent for.

``UPDATE … FROM (VALUES …)`` writes many rows' different values in one
statement and one round trip (PostgreSQL, SQLite >= 3.33); ``bulk_update``
builds a CASE per field per row in Python, which costs more than the work
itself on the hot paths that use this (campaign sends).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection


def values_table(rows: Sequence[Sequence[Any]], types: Sequence[str | None], *, alias: str = "v"
                 ) -> tuple[str, list[Any], list[str]]:
    """``(VALUES (…), …) AS <alias>`` for ``rows``, its parameters, and a reference to each column.

    ``types`` gives each column's SQL type (``"uuid"``, ``"bigint"``,
    ``"timestamp with time zone"``; None for text). PostgreSQL types a VALUES
    column from its literals, so an all-NULL or uuid column must be cast; the
    references returned (``CAST(v.column2 AS uuid)``) carry the casts, and are
    plain ``v.column2`` on SQLite. Parameters must already be in the
    database's form (``field.get_db_prep_value``, ``adapt_datetimefield_value``).
    """
    if not rows:
        raise ValueError("values_table needs at least one row")
    width = len(types)
    if any(len(row) != width for row in rows):
        raise ValueError("every row needs one value per column")
    postgres = connection.vendor == "postgresql"
    placeholders = "(" + ", ".join(["%s"] * width) + ")"
    sql = f"(VALUES {', '.join([placeholders] * len(rows))}) AS {alias}"
    params = [value for row in rows for value in row]
    columns = []
    for index, sql_type in enumerate(types, start=1):
        ref = f"{alias}.column{index}"
        columns.append(f"CAST({ref} AS {sql_type})" if postgres and sql_type else ref)
    return sql, params, columns
