"""campaigns.OptOut rows become consent on contacts: the contact (created when the number never wrote) is opted
out, with a ConsentEvent saying it came from the campaign opt-out list, when and by whom."""

from django.db import migrations


def forwards(apps, schema_editor):
    OptOut = apps.get_model("campaigns", "OptOut")
    Contact = apps.get_model("messaging", "Contact")
    ConsentEvent = apps.get_model("contacts", "ConsentEvent")
    for row in OptOut.objects.all().iterator(chunk_size=1000):
        contact, _created = Contact.objects.get_or_create(client_id=row.client_id, wa_id=row.phone)
        if not contact.opted_out:
            Contact.objects.filter(pk=contact.pk).update(opted_out=True)
        event = ConsentEvent.objects.create(client_id=row.client_id, contact=contact, opted_out=True,
                                            source="campaign_list", detail=row.reason[:200],
                                            actor_id=row.created_by_id)
        ConsentEvent.objects.filter(pk=event.pk).update(created_at=row.created_at)


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0001_initial"),
        ("campaigns", "0004_number_send_limit_range"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
