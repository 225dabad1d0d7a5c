"""Messages and status events (PostgreSQL): drop the ``varchar_pattern_ops`` twins of indexed text columns.

Django's PostgreSQL backend gives every indexed ``CharField`` a second index (``…_like``) that serves only
prefix matches (``LIKE 'abc%'``, ``startswith``). Nothing here asks for those: lookups are exact (served by
the plain index) and the list searches are ``icontains`` (served by the trigram indexes of migration 0003).
Each is one more index write per stored message, per status change and per status event. Django's state has
no such indexes, so only the database changes; other databases have none.
"""

from django.db import migrations

# (table, column): the text columns whose prefix-pattern index is dropped.
COLUMNS = [
    ("messaging_message", "from_number"),
    ("messaging_message", "to_number"),
    ("messaging_message", "provider_message_id"),
    ("messaging_message", "whatsapp_id"),
    ("messaging_message", "status"),
    ("messaging_statusevent", "provider_message_id"),
]


def _name(schema_editor, table: str, column: str) -> str:
    return schema_editor._create_index_name(table, [column], suffix="_like")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in COLUMNS:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{_name(schema_editor, table, column)}"')


def restore(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, column in COLUMNS:
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{_name(schema_editor, table, column)}" '
                              f'ON "{table}" ("{column}" varchar_pattern_ops)')


class Migration(migrations.Migration):

    dependencies = [
        ('messaging', '0005_fk_indexes_from_composites'),
    ]

    operations = [
        migrations.RunPython(drop, restore, elidable=False),
    ]
