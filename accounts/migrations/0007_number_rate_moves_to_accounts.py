"""The send-limit bucket moves from campaigns to accounts (every sender reads it; imports only point downward).

State only: the table ``campaigns_numberrate`` stays where it is, with its rows."""

import django.core.validators
import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_provider_choices_from_registry'),
        ('campaigns', '0004_number_send_limit_range'),
    ]

    operations = [migrations.SeparateDatabaseAndState(database_operations=[], state_operations=[
        migrations.CreateModel(
            name='NumberRate',
            fields=[
                ('phone_number', models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True, related_name='send_rate', serialize=False, to='accounts.phonenumber', verbose_name='business number')),
                ('per_second', models.PositiveIntegerField(default=80, help_text="WhatsApp's limit for this number: 80 by default, 1,000 after Meta's upgrade, 20 for a coexistence number. Campaigns, the composer and the API share it.", validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(1000)], verbose_name='messages per second')),
                ('next_slot', models.FloatField(default=0.0, editable=False)),
                ('throttled_until', models.FloatField(default=0.0, editable=False)),
            ],
            options={
                'verbose_name': 'number send limit',
                'verbose_name_plural': 'number send limits',
                'db_table': 'campaigns_numberrate',
            },
        ),
    ])]
