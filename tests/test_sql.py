"""waportal.sql: the raw-SQL building blocks of the campaign hot path, on both databases."""

from __future__ import annotations

import pytest
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connections, transaction
from django.test.utils import CaptureQueriesContext

from messaging.models import Contact
from tests.factories import ClientFactory
from waportal.sql import bound_cursor, objects_insert, values_table

pytestmark = pytest.mark.django_db


def test_objects_insert_stores_every_field_and_skips_conflicts_when_asked():
    client = ClientFactory()
    objects_insert([Contact(client=client, wa_id="573001110001", profile_name="Ana"),
                    Contact(client=client, wa_id="573001110002")])
    stored = {c.wa_id: c for c in Contact.objects.filter(client=client)}
    assert set(stored) == {"573001110001", "573001110002"}
    assert stored["573001110001"].profile_name == "Ana" and stored["573001110001"].created_at is not None

    objects_insert([Contact(client=client, wa_id="573001110001", profile_name="Other"),
                    Contact(client=client, wa_id="573001110003")], ignore_conflicts=True)
    assert Contact.objects.filter(client=client).count() == 3
    assert Contact.objects.get(client=client, wa_id="573001110001").profile_name == "Ana"  # kept, not replaced


def test_objects_insert_raises_djangos_integrity_error_on_a_conflict():
    client = ClientFactory()
    objects_insert([Contact(client=client, wa_id="573001110001")])
    with pytest.raises(IntegrityError), transaction.atomic():
        objects_insert([Contact(client=client, wa_id="573001110001")])
    assert Contact.objects.filter(client=client).count() == 1


def test_bound_cursor_statements_are_seen_by_query_counts_and_bind_their_parameters():
    client = ClientFactory()
    objects_insert([Contact(client=client, wa_id="573001110001")])
    connection = connections[DEFAULT_DB_ALIAS]
    values, params, (wa_id, name) = values_table([("573001110001", "Ana")], [None, None])
    with CaptureQueriesContext(connection) as queries, bound_cursor() as cursor:
        cursor.execute(f"UPDATE {Contact._meta.db_table} SET profile_name = {name} FROM {values} "
                       f"WHERE client_id = %s AND wa_id = {wa_id}", [*params, client.pk])
        assert cursor.rowcount == 1
        if connection.vendor == "postgresql":  # parameters sent apart from the statement, not spliced in
            from django.db.backends.postgresql.base import ServerBindingCursor

            assert isinstance(cursor.cursor, ServerBindingCursor)
    assert len(queries) == 1
    assert Contact.objects.get(client=client).profile_name == "Ana"
