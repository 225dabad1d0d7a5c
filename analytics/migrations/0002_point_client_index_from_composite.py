"""Analytics points: the client foreign key loses its own index; (client, granularity, start) leads with
the same column and serves its lookups, and each index is one more write per synced point.

Only the index is dropped: Django's AlterField would also drop and re-add the foreign key, which on
PostgreSQL re-validates every stored point under an exclusive lock.
"""

import django.db.models.deletion
from django.db import migrations, models

CLIENT_INDEX = "analytics_conversationdatapoint_client_id_89397ea4"


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_field_labels'),
        ('analytics', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{CLIENT_INDEX}"',
                    reverse_sql=f'CREATE INDEX "{CLIENT_INDEX}" ON "analytics_conversationdatapoint" ("client_id")',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='conversationdatapoint',
                    name='client',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name='conversation_points', to='accounts.client',
                                            verbose_name='client'),
                ),
            ],
        ),
    ]
