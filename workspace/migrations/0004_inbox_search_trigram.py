"""Trigram indexes for the rest of the inbox's search: contacts' names and numbers, conversations' last message.

The inbox's search (``workspace.selectors.conversations_filtered``) asks, beside messages' text (0003), for the
contacts whose ``UPPER(profile_name)`` or ``wa_id`` contains the term and the conversations whose
``UPPER(last_message_preview)`` does. Each is a subquery or a condition a GIN trigram index on exactly that
expression serves; without them each search read every contact of the tenant (issue 22's 150 ms target).
PostgreSQL only, built ``CONCURRENTLY``; SQLite is left as it is.
"""

from django.db import migrations

INDEXES = {
    "contact_profile_name_trgm": ("messaging_contact", 'UPPER("profile_name"::text)'),
    "contact_wa_id_trgm": ("messaging_contact", '"wa_id"'),
    "conversation_preview_trgm": ("messaging_conversation", 'UPPER("last_message_preview"::text)'),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, (table, expression) in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{name}" ON "{table}" USING gin (({expression}) gin_trgm_ops)')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{name}"')


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("workspace", "0003_message_text_trigram"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
    ]
