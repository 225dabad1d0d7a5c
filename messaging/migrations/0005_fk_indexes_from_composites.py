"""Foreign keys that lose their own index: a composite index or unique constraint leading with the same column
serves their lookups, and each index is one more write per row on the hot paths (campaign sends, webhook
processing).

Only the indexes are dropped: Django's AlterField would also drop and re-add each foreign key, which on
PostgreSQL re-validates every row under an exclusive lock.
"""

import django.db.models.deletion
from django.db import migrations, models

# (table, column, index): each foreign-key index this migration drops.
INDEXES = [
    ("messaging_contact", "client_id", "messaging_contact_client_id_2017b965"),
    ("messaging_conversation", "client_id", "messaging_conversation_client_id_fe61e8b2"),
    ("messaging_conversation", "phone_number_id", "messaging_conversation_phone_number_id_318747a6"),
    ("messaging_message", "client_id", "messaging_message_client_id_fb92923d"),
    ("messaging_message", "conversation_id", "messaging_message_conversation_id_3db4d3d1"),
    ("messaging_statusevent", "provider_account_id", "messaging_statusevent_provider_account_id_9596c5fa"),
]


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_field_labels'),
        ('messaging', '0004_webhook_event_account_index_from_unique'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(f'DROP INDEX IF EXISTS "{index}"',
                                  reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{column}")')
                for table, column, index in INDEXES
            ],
            state_operations=[
                migrations.AlterField(
                    model_name='contact',
                    name='client',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='contacts', to='accounts.client', verbose_name='client'),
                ),
                migrations.AlterField(
                    model_name='conversation',
                    name='client',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='conversations', to='accounts.client', verbose_name='client'),
                ),
                migrations.AlterField(
                    model_name='conversation',
                    name='phone_number',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='conversations', to='accounts.phonenumber', verbose_name='business number'),
                ),
                migrations.AlterField(
                    model_name='message',
                    name='client',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='accounts.client', verbose_name='client'),
                ),
                migrations.AlterField(
                    model_name='message',
                    name='conversation',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='messages', to='messaging.conversation', verbose_name='conversation'),
                ),
                migrations.AlterField(
                    model_name='statusevent',
                    name='provider_account',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.provideraccount'),
                ),
            ],
        ),
    ]
