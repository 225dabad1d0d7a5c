"""No provider secret appears in any API response, admin page or log line."""

import logging

import pytest

from tests.factories import ContactoVirtualAccountFactory, MembershipFactory, ProviderAccountFactory

API_KEY = "KMzg2MSyxYTU6Z3Eynf154VMTNu2ksn"
ISV_TOKEN = "6f7267fb-9134-11ed-b25b-00155d601935"
CV_TOKEN = "b6fd61ec974d1652082a802a4d8e443712138ed"


@pytest.fixture
def accounts(db):
    aldeamo = ProviderAccountFactory(api_key=API_KEY, analytics_token=ISV_TOKEN)
    cv = ContactoVirtualAccountFactory(token=CV_TOKEN)
    return aldeamo, cv


def assert_clean(text: str):
    for secret in (API_KEY, ISV_TOKEN, CV_TOKEN):
        assert secret not in text


@pytest.mark.django_db
def test_admin_pages_never_render_secrets(client, superuser, accounts):
    client.force_login(superuser)
    aldeamo, cv = accounts
    for url in [
        "/admin/accounts/provideraccount/",
        f"/admin/accounts/provideraccount/{aldeamo.pk}/change/",
        f"/admin/accounts/provideraccount/{cv.pk}/change/",
        "/admin/accounts/provideraccount/add/",
        "/admin/accounts/auditentry/",
    ]:
        page = client.get(url)
        assert page.status_code == 200, url
        assert_clean(page.content.decode())
    change = client.get(f"/admin/accounts/provideraccount/{aldeamo.pk}/change/").content.decode()
    assert "Stored (hidden)" in change or "Guardado (oculto)" in change
    assert aldeamo.webhook_secret in change  # the webhook URL is shown, ready to copy


@pytest.mark.django_db
def test_admin_replace_field_changes_the_secret(client, superuser, accounts):
    client.force_login(superuser)
    aldeamo, _cv = accounts
    data = {
        "name": aldeamo.name, "environment": "test", "base_url": aldeamo.base_url, "user_id": "3777",
        "templates_list_path": "getTemplates", "login": "", "line_number": "", "is_active": "on",
        "replace_api_key": "", "replace_analytics_token": "brand-new-token", "replace_token": "",
    }
    response = client.post(f"/admin/accounts/provideraccount/{aldeamo.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    aldeamo.refresh_from_db()
    assert aldeamo.api_key == API_KEY and aldeamo.analytics_token == "brand-new-token"


@pytest.mark.django_db
def test_api_responses_never_contain_secrets(api_as, superuser, accounts):
    api = api_as(superuser)
    assert_clean(api.get("/api/v1/provider-accounts/").content.decode())
    for account in accounts:
        assert_clean(api.get(f"/api/v1/provider-accounts/{account.pk}/").content.decode())
    assert_clean(api.get("/api/schema/").content.decode())


@pytest.mark.django_db
def test_logs_never_contain_secrets(api_as, superuser, accounts, caplog):
    caplog.set_level(logging.DEBUG)
    api = api_as(superuser)
    api.patch(f"/api/v1/provider-accounts/{accounts[0].pk}/", {"api_key": "another-" + API_KEY}, format="json")
    api.get("/api/v1/provider-accounts/")
    assert_clean(caplog.text)
    for account in accounts:
        assert_clean(repr(account))


@pytest.mark.django_db
def test_tenant_member_admin_pages_also_clean(client, accounts):
    membership = MembershipFactory(client__provider_account=accounts[0])
    client.force_login(membership.user)
    page = client.get(f"/admin/accounts/provideraccount/{accounts[0].pk}/change/")
    assert page.status_code == 200
    assert_clean(page.content.decode())
