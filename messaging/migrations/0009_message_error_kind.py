from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("messaging", "0008_webhook_event_client"),
    ]

    operations = [
        migrations.AddField(
            model_name="message",
            name="error_kind",
            field=models.CharField(blank=True, default="", max_length=16, verbose_name="error kind"),
        ),
    ]
