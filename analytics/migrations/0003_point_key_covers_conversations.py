"""Analytics points (PostgreSQL): the unique key's index also carries ``conversations`` (``INCLUDE``).

Every read of the charts page and the API filters points on the key's leading columns (WABA, granularity,
start) and sums ``conversations`` per other key columns, so with the count in the index they are index-only
scans instead of reading the table; a synced point still writes the same number of indexes. The constraint
keeps its name and columns (Django's state does not change); on other databases nothing changes (SQLite
has no covering indexes, and Django would skip a unique constraint declared with ``include`` there).
"""

from django.db import migrations

TABLE = "analytics_conversationdatapoint"
NAME = "analytics_point_full_key"
KEY = "waba_id, granularity, start, phone_number, country, conversation_type, conversation_direction"


def _swap(schema_editor, include: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # Built beside the old one, then swapped in: the key is enforced throughout.
    schema_editor.execute(f'CREATE UNIQUE INDEX "{NAME}_new" ON "{TABLE}" ({KEY}){include}')
    schema_editor.execute(f'ALTER TABLE "{TABLE}" DROP CONSTRAINT "{NAME}"')
    schema_editor.execute(f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{NAME}" UNIQUE USING INDEX "{NAME}_new"')


def cover(apps, schema_editor):
    _swap(schema_editor, " INCLUDE (conversations)")


def uncover(apps, schema_editor):
    _swap(schema_editor, "")


class Migration(migrations.Migration):

    dependencies = [
        ('analytics', '0002_point_client_index_from_composite'),
    ]

    operations = [
        migrations.RunPython(cover, uncover, elidable=False),
    ]
