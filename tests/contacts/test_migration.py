"""The campaign opt-out list becomes consent on contacts (contacts 0002): every row an opted-out contact with an
event saying where it came from, when and by whom."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("contacts", "0001_initial"), ("campaigns", "0004_number_send_limit_range"),
          ("messaging", "0011_contact_language_attributes")]
AFTER = [("contacts", "0002_campaign_opt_outs_to_consent")]


@pytest.mark.django_db(transaction=True)
def test_opt_out_rows_become_consent_events():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    Client = apps.get_model("accounts", "Client")
    ProviderAccount = apps.get_model("accounts", "ProviderAccount")
    account = ProviderAccount.objects.create(name="acc", provider="aldeamo")
    client = Client.objects.create(provider_account=account, client_id="1", name="Uno")
    Contact = apps.get_model("messaging", "Contact")
    Contact.objects.create(client=client, wa_id="573000000001", opted_out=False)
    OptOut = apps.get_model("campaigns", "OptOut")
    OptOut.objects.create(client=client, phone="573000000001", reason="pidió")
    OptOut.objects.create(client=client, phone="573000000002")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    apps = executor.loader.project_state(AFTER).apps
    Contact = apps.get_model("messaging", "Contact")
    ConsentEvent = apps.get_model("contacts", "ConsentEvent")
    assert set(Contact.objects.filter(opted_out=True).values_list("wa_id", flat=True)) == {
        "573000000001", "573000000002"}
    assert set(ConsentEvent.objects.values_list("source", "detail")) == {("campaign_list", "pidió"),
                                                                         ("campaign_list", "")}
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
