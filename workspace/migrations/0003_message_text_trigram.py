"""A trigram index on messages' text for the inbox's search (PostgreSQL only).

The inbox's search (``?q=``) finds a conversation by any of its messages' text, not only the last one:
``UPPER(content ->> 'body') LIKE UPPER('%term%')`` over the tenant's messages (``workspace.selectors.
messages_matching``). No B-tree serves a pattern in the middle of a text; a GIN trigram index on exactly that
expression does. The index is on messaging's table but kept here: the workspace is the one that searches this
way. PostgreSQL only (``pg_trgm``, created by messaging's 0003 as well); SQLite is left as it is. Built
``CONCURRENTLY`` so a deploy does not block writes to the message table.
"""

from django.db import migrations

NAME = "message_body_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f'CREATE INDEX CONCURRENTLY IF NOT EXISTS "{NAME}" ON "messaging_message" '
        "USING gin ((UPPER((\"content\" ->> 'body')::text)) gin_trgm_ops)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f'DROP INDEX CONCURRENTLY IF EXISTS "{NAME}"')


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("workspace", "0002_teams"),
        ("messaging", "0003_message_search_trigram_indexes"),
    ]

    operations = [
        migrations.RunPython(create, drop, elidable=False),
    ]
