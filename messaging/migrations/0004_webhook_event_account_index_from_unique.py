"""Drop the webhook events' own index on provider_account: the unique (provider_account, body_sha256)
constraint leads with that column and serves every lookup by account.

Only the index is dropped. Django's AlterField would also drop and re-add the foreign key, which on
PostgreSQL re-validates every stored event under an exclusive lock -- the receiver would wait for it.
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "messaging_webhookevent_provider_account_id_d4d4a640"


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_field_labels'),
        ('messaging', '0003_message_search_trigram_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=f'CREATE INDEX "{INDEX}" ON "messaging_webhookevent" ("provider_account_id")',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='webhookevent',
                    name='provider_account',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name='webhook_events', to='accounts.provideraccount',
                                            verbose_name='provider account'),
                ),
            ],
        ),
    ]
