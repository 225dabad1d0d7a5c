"""NumberRate now belongs to accounts (accounts 0007); state only, the table and its rows stay."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0004_number_send_limit_range'),
        ('accounts', '0007_number_rate_moves_to_accounts'),
    ]

    operations = [migrations.SeparateDatabaseAndState(database_operations=[], state_operations=[
        migrations.DeleteModel(name='NumberRate'),
    ])]
