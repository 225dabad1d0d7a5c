"""Issue 18 end to end: an ApiKey-only Aldeamo account onboarded by a person, as a person would.

Account (API key and user id, no ISV token) → the Setup box says what needs the token → sync (the client) →
WABA added by hand with its namespace → number added by hand → sync (the templates, with ApiKey/UserId alone) →
a template sent from the composer. Against the sandbox served by the live server.
"""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import admin_login, screenshot

WABA_ID = "236928178367012"
NAMESPACE = "f29c496f_9a16_408b_bff7_379e57d1c8d5"
BUSINESS = "573245550101"


@pytest.mark.django_db(transaction=True)
def test_apikey_only_onboarding_account_waba_number_sync_send(page, live_server, django_user_model):
    from accounts.models import Client, PhoneNumber, ProviderAccount, WhatsAppBusinessAccount
    from sandbox.services import sandbox_provision

    django_user_model.objects.create_superuser("ana", "ana@example.com", "pass-word-123")
    creds = sandbox_provision(seed_history_days=1)
    admin_login(page, live_server, "ana", "pass-word-123")

    page.goto(f"{live_server.url}/admin/accounts/provideraccount/add/")
    page.fill("#id_name", "Tienda sin ISV")
    page.select_option("#id_provider", "aldeamo")
    page.fill("#id_base_url", f"{live_server.url}/sandbox/aldeamo")
    page.fill("#id_user_id", creds.aldeamo_user_id)
    page.fill("#id_replace_api_key", creds.aldeamo_api_key)
    page.click("input[name=_continue]")
    page.wait_for_selector("#wa-webhook-url")
    expect(page.locator("#wa-setup")).to_contain_text("Features that need the ISV token")
    account = ProviderAccount.objects.get(name="Tienda sin ISV")

    page.click("#wa-sync-now")
    page.wait_for_selector(".messagelist .success")
    client = Client.objects.get(provider_account=account)

    page.goto(f"{live_server.url}/admin/accounts/whatsappbusinessaccount/add/")
    page.select_option("#id_client", str(client.pk))
    page.fill("#id_waba_id", WABA_ID)
    page.fill("#id_name", "Comercial Andina")
    page.fill("#id_namespace", NAMESPACE)
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    waba = WhatsAppBusinessAccount.objects.get(client=client, waba_id=WABA_ID)
    assert waba.namespace == NAMESPACE

    page.goto(f"{live_server.url}/admin/accounts/phonenumber/add/")
    page.select_option("#id_client", str(client.pk))
    page.select_option("#id_waba", str(waba.pk))
    page.fill("#id_digits", BUSINESS)
    page.fill("#id_verified_name", "Comercial Andina")
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist .success")
    number = PhoneNumber.objects.get(client=client, digits=BUSINESS)

    page.goto(f"{live_server.url}/admin/accounts/provideraccount/{account.pk}/change/")
    page.click("#wa-sync-now")
    page.wait_for_selector(".messagelist .success")
    assert "templates" in page.inner_text(".messagelist .success")
    screenshot(page, "onboarding-apikey-only")

    page.goto(f"{live_server.url}/admin/messaging/message/compose/?from={number.pk}&to=573137004535")
    page.select_option("#id_type", "template")
    page.select_option("#id_template", label="actualiza_botones (es)")
    page.fill("#id_tpl_body_1", "Ana")
    page.click("#wa-send")
    page.wait_for_url(re.compile(r"/admin/messaging/message/[0-9a-f-]+/change/"))
    expect(page.locator("#wa-status-badge")).to_have_attribute("data-status", re.compile("sent|delivered|read"))
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors
