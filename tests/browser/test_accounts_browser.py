"""Issue 2 end to end: an admin adds a provider account aimed at the sandbox, syncs, sees the numbers."""

import pytest

from tests.browser.conftest import admin_login, screenshot


@pytest.mark.django_db(transaction=True)
def test_admin_adds_account_syncs_and_sees_numbers(page, live_server, django_user_model):
    from sandbox.services import sandbox_provision

    django_user_model.objects.create_superuser("ana", "ana@example.com", "pass-word-123")
    creds = sandbox_provision(seed_history_days=1)

    admin_login(page, live_server, "ana", "pass-word-123")
    page.goto(f"{live_server.url}/admin/accounts/provideraccount/add/")
    page.fill("#id_name", "Aldeamo via sandbox")
    page.select_option("#id_provider", "aldeamo")
    page.fill("#id_base_url", f"{live_server.url}/sandbox/aldeamo")
    page.fill("#id_user_id", creds.aldeamo_user_id)
    page.fill("#id_replace_api_key", creds.aldeamo_api_key)
    page.fill("#id_replace_analytics_token", creds.aldeamo_token)
    page.click("input[name=_continue]")
    page.wait_for_selector("#wa-webhook-url")
    assert "/webhooks/aldeamo/" in page.input_value("#wa-webhook-url")
    # The secret never comes back into the page.
    assert creds.aldeamo_api_key not in page.content()

    page.click("#wa-test-connection")
    page.wait_for_selector(".messagelist")
    assert "success" in (page.get_attribute(".messagelist li", "class") or "")

    page.click("#wa-sync-now")
    page.wait_for_selector(".messagelist .success")
    assert "5" in page.inner_text(".messagelist")
    screenshot(page, "provider-account", readme=True)

    page.goto(f"{live_server.url}/admin/accounts/phonenumber/")
    table = page.inner_text("#result_list")
    assert "+57 324 555 0101" in table
    assert "Comercial Andina" in table
    screenshot(page, "phone-numbers", readme=True)
    assert not [e for e in page.console_errors if "Content Security Policy" in e], page.console_errors


@pytest.mark.django_db(transaction=True)
def test_wrong_credentials_say_so_in_the_providers_words(page, live_server, django_user_model):
    from sandbox.services import sandbox_provision

    django_user_model.objects.create_superuser("ana", "ana@example.com", "pass-word-123")
    creds = sandbox_provision(seed_history_days=1)
    admin_login(page, live_server, "ana", "pass-word-123")
    page.goto(f"{live_server.url}/admin/accounts/provideraccount/add/")
    page.fill("#id_name", "Bad token")
    page.select_option("#id_provider", "aldeamo")
    page.fill("#id_base_url", f"{live_server.url}/sandbox/aldeamo")
    page.fill("#id_user_id", creds.aldeamo_user_id)
    page.fill("#id_replace_api_key", "wrong")
    page.fill("#id_replace_analytics_token", "not-a-token")
    page.click("input[name=_continue]")
    page.click("#wa-test-connection")
    page.wait_for_selector(".messagelist .error")
    assert "not valid" in page.inner_text(".messagelist")


@pytest.mark.django_db(transaction=True)
def test_operator_rotates_the_webhook_url_and_a_client_admin_sees_the_account_read_only(
        page, live_server, django_user_model):
    """Issue 17: the shared account is the operators'; a client's admin may only test and sync it."""
    from accounts import services
    from accounts.models import Role
    from sandbox.services import sandbox_provision
    from tests.factories import MembershipFactory

    operator = django_user_model.objects.create_superuser("ana", "ana@example.com", "pass-word-123")
    creds = sandbox_provision(seed_history_days=1)
    account = services.provider_account_create(
        actor=operator, name="Shared ISV", provider="aldeamo", base_url=f"{live_server.url}/sandbox/aldeamo",
        user_id=creds.aldeamo_user_id, api_key=creds.aldeamo_api_key, analytics_token=creds.aldeamo_token)
    services.provider_account_sync(account=account, actor=operator)
    clients = list(account.clients.order_by("client_id"))
    assert len(clients) >= 2  # the sandbox's ISV account holds several clients
    admin = django_user_model.objects.create_user("bea", "bea@example.com", "pass-word-123", is_staff=True)
    MembershipFactory(user=admin, client=clients[0], role=Role.ADMIN)

    admin_login(page, live_server, "ana", "pass-word-123")
    page.goto(f"{live_server.url}/admin/accounts/provideraccount/{account.pk}/change/")
    before = page.input_value("#wa-webhook-url")
    page.click("#wa-rotate-secret")
    page.wait_for_selector(".messagelist .success")
    after = page.input_value("#wa-webhook-url")
    assert after != before and "/webhooks/aldeamo/" in after
    screenshot(page, "provider-account-operator")
    page.context.clear_cookies()

    admin_login(page, live_server, "bea", "pass-word-123")
    page.goto(f"{live_server.url}/admin/accounts/provideraccount/{account.pk}/change/")
    assert page.query_selector("#wa-webhook-url") is None and page.query_selector("#wa-rotate-secret") is None
    assert page.query_selector("input[name=base_url]") is None
    assert account.webhook_secret not in page.content()
    page.click("#wa-sync-now")
    page.wait_for_selector(".messagelist .success")
    screenshot(page, "provider-account-client-admin")
    page.goto(f"{live_server.url}/admin/accounts/provideraccount/{account.pk}/rotate-webhook-secret/")
    assert page.query_selector("#wa-forbidden") is not None
    screenshot(page, "forbidden")
