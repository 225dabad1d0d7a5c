"""Foreign keys that lose their own index: a composite index or unique constraint leading with the same column
serves their lookups, and each index is one more write per row on the hot paths (campaign sends, webhook
processing).

Only the indexes are dropped: Django's AlterField would also drop and re-add each foreign key, which on
PostgreSQL re-validates every row under an exclusive lock.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "campaigns_campaignrecipient_campaign_id_d7c8b010"',
                    reverse_sql='CREATE INDEX "campaigns_campaignrecipient_campaign_id_d7c8b010" ON "campaigns_campaignrecipient" ("campaign_id")',
                ),
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='campaignrecipient',
                    name='campaign',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='recipients', to='campaigns.campaign'),
                ),
            ],
        ),
    ]
