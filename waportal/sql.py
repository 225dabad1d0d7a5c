"""Small SQL building blocks the ORM has no cheap equivalent for.

``UPDATE … FROM (VALUES …)`` writes many rows' different values in one
statement and one round trip (PostgreSQL, SQLite >= 3.33); ``bulk_update``
builds a CASE per field per row in Python, which costs more than the work
itself on the hot paths that use this (campaign sends).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model


@contextmanager
def bound_cursor() -> Iterator[Any]:
    """A cursor of the default connection whose parameters travel apart from the SQL (PostgreSQL); for writes.

    Django's psycopg cursors bind client-side: every parameter is turned into
    a SQL literal in Python and spliced into the text, which on the campaign
    hot path (a 20-parameter UPDATE per send, a 30-column INSERT per message)
    cost more than the round trip. This cursor is psycopg's server-side
    binding one (Django's own ``ServerBindingCursor``, what the
    ``server_side_binding`` option would give every query): the parameters are
    dumped by psycopg's C code and sent beside the statement. Statements are
    not prepared (Django leaves ``prepare_threshold`` off, for poolers). It is
    wrapped as Django wraps its cursors (errors, ``execute_wrapper``, the
    debug query log), so query counts in tests still see it. Timestamps read
    through it are not converted to the connection's time zone: use it to
    write. Elsewhere (SQLite) it is the ordinary cursor.
    """
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.close_if_health_check_failed()
    connection.ensure_connection()
    with connection.wrap_database_errors:
        cursor = connection._prepare_cursor(ServerBindingCursor(connection.connection))
    with cursor:
        yield cursor


def db_param(value: Any) -> Any:
    """A raw-SQL parameter in the database's form: datetimes adapted (SQLite stores them as text), others as they are."""
    if isinstance(value, datetime):
        return connections[DEFAULT_DB_ALIAS].ops.adapt_datetimefield_value(value)
    return value


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
    postgres = connections[DEFAULT_DB_ALIAS].vendor == "postgresql"
    placeholders = "(" + ", ".join(["%s"] * width) + ")"
    sql = f"(VALUES {', '.join([placeholders] * len(rows))}) AS {alias}"
    params = [value for row in rows for value in row]
    columns = []
    for index, sql_type in enumerate(types, start=1):
        ref = f"{alias}.column{index}"
        columns.append(f"CAST({ref} AS {sql_type})" if postgres and sql_type else ref)
    return sql, params, columns


def objects_insert(objects: Sequence[Model], *, ignore_conflicts: bool = False) -> None:
    """INSERT unsaved instances of one model: one single-row statement run with ``executemany``.

    Each value goes through its field's own ``pre_save`` and
    ``get_db_prep_save`` (defaults, ``auto_now_add``, JSON), as ``save()`` and
    ``bulk_create`` do, without the SQL compiler's per-value machinery.
    A single-row statement rather than one multi-row VALUES: psycopg rewrites
    a query's placeholders in Python and caches that only for statements of
    at most 50 parameters, and ``executemany`` pipelines the rows in one round
    trip. Database-generated primary keys are not read back.
    ``ignore_conflicts`` adds ``ON CONFLICT DO NOTHING``: a row hitting a
    unique constraint is skipped.
    """
    if not objects:
        return
    model = type(objects[0])
    if any(type(obj) is not model for obj in objects):
        raise ValueError("objects_insert takes instances of one model")
    fields = [field for field in model._meta.concrete_fields if not field.db_returning]
    # The connection itself, not django.db.connection: that proxy resolves the thread's
    # connection on every attribute access, and each value's conversion makes several.
    connection = connections[DEFAULT_DB_ALIAS]
    quote = connection.ops.quote_name
    sql = (f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))})")
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    rows = [[field.get_db_prep_save(field.pre_save(obj, True), connection) for field in fields] for obj in objects]
    with bound_cursor() as cursor:
        cursor.executemany(sql, rows)
    for obj in objects:
        obj._state.adding, obj._state.db = False, DEFAULT_DB_ALIAS
