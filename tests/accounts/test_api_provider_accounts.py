import pytest

from accounts.models import AuditEntry, ProviderAccount
from tests.factories import ContactoVirtualAccountFactory, MembershipFactory, ProviderAccountFactory

SECRETS = ("api_key", "analytics_token", "token")

ALDEAMO = {
    "name": "Aldeamo prod",
    "provider": "aldeamo",
    "environment": "production",
    "user_id": "3777",
    "api_key": "KMzg2MSyxYTU6Z3Eynf154VMTNu2ksn",
    "analytics_token": "6f7267fb-9134-11ed-b25b-00155d601935",
}


@pytest.mark.django_db
def test_create_returns_no_secret_and_a_webhook_url(api_as, superuser, settings):
    settings.PUBLIC_BASE_URL = "https://portal.example.com"
    response = api_as(superuser).post("/api/v1/provider-accounts/", ALDEAMO, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    for secret in SECRETS:
        assert secret not in body
    assert ALDEAMO["api_key"] not in response.content.decode()
    assert body["has_api_key"] is True and body["has_token"] is False
    account = ProviderAccount.objects.get(pk=body["id"])
    assert body["webhook_url"] == f"https://portal.example.com/webhooks/aldeamo/{account.webhook_secret}/"
    assert account.effective_base_url == "https://apitellitwa.aldeamo.com"
    assert AuditEntry.objects.filter(action="provider_account.create", target_id=str(account.pk)).exists()
    entry = AuditEntry.objects.get(action="provider_account.create")
    assert ALDEAMO["api_key"] not in str(entry.changes)
    assert entry.changes["api_key"] == "replaced"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "data, field",
    [
        ({**ALDEAMO, "provider": "twilio"}, "provider"),
        ({k: v for k, v in ALDEAMO.items() if k != "user_id"}, "user_id"),
        ({k: v for k, v in ALDEAMO.items() if k != "api_key"}, "api_key"),
        ({**ALDEAMO, "base_url": "not a url"}, "base_url"),
        ({**ALDEAMO, "name": ""}, "name"),
        ({"name": "cv", "provider": "contacto_virtual", "login": "demo@gmail.com"}, "token"),
        ({"name": "cv", "provider": "contacto_virtual", "login": "a", "token": "b", "line_number": "3001234567"},
         "line_number"),
    ],
)
def test_bad_input_names_the_field(api_as, superuser, data, field):
    response = api_as(superuser).post("/api/v1/provider-accounts/", data, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert ProviderAccount.objects.count() == 0


@pytest.mark.django_db
def test_patch_keeps_secrets_unless_replaced(api_as, superuser):
    account = ProviderAccountFactory(api_key="old-secret")
    api = api_as(superuser)
    response = api.patch(f"/api/v1/provider-accounts/{account.pk}/", {"name": "Renamed", "api_key": ""}, format="json")
    assert response.status_code == 200, response.content
    account.refresh_from_db()
    assert account.name == "Renamed" and account.api_key == "old-secret"
    response = api.patch(f"/api/v1/provider-accounts/{account.pk}/", {"api_key": "new-secret"}, format="json")
    assert response.status_code == 200
    account.refresh_from_db()
    assert account.api_key == "new-secret"
    assert "new-secret" not in response.content.decode()
    update = AuditEntry.objects.filter(action="provider_account.update").first()
    assert update.changes["api_key"] == "replaced"


@pytest.mark.django_db
def test_provider_cannot_change(api_as, superuser):
    account = ProviderAccountFactory()
    response = api_as(superuser).patch(
        f"/api/v1/provider-accounts/{account.pk}/", {"provider": "contacto_virtual"}, format="json"
    )
    assert response.status_code == 400
    assert "provider" in response.json()


@pytest.mark.django_db
def test_tenant_admin_sees_own_account_but_cannot_change_create_or_delete_it(api_as):
    membership = MembershipFactory()
    account = membership.client.provider_account
    other = ProviderAccountFactory()
    api = api_as(membership.user)
    listing = api.get("/api/v1/provider-accounts/").json()
    assert [row["id"] for row in listing["results"]] == [account.pk]
    assert api.get(f"/api/v1/provider-accounts/{other.pk}/").status_code == 404
    # Accounts are shared by clients: only operators change them (issue 17).
    assert api.patch(f"/api/v1/provider-accounts/{account.pk}/", {"name": "x"}, format="json").status_code == 403
    assert api.post("/api/v1/provider-accounts/", ALDEAMO, format="json").status_code == 403
    assert api.delete(f"/api/v1/provider-accounts/{account.pk}/").status_code == 403


@pytest.mark.django_db
def test_viewer_cannot_change_account(api_as):
    membership = MembershipFactory(role="viewer")
    account = membership.client.provider_account
    response = api_as(membership.user).patch(f"/api/v1/provider-accounts/{account.pk}/", {"name": "x"}, format="json")
    assert response.status_code == 403
    assert "detail" in response.json()


@pytest.mark.django_db
def test_contacto_virtual_account_round_trip(api_as, superuser):
    data = {"name": "CV", "provider": "contacto_virtual", "login": "demo@gmail.com",
            "token": "b6fd61ec974d1652082a802a4d8e443712138ed", "line_number": "573102334455"}
    response = api_as(superuser).post("/api/v1/provider-accounts/", data, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["login"] == "demo@gmail.com" and body["has_token"] is True
    assert "/webhooks/contacto-virtual/" in body["webhook_url"]
    assert data["token"] not in response.content.decode()


@pytest.mark.django_db
def test_list_is_paginated_and_needs_auth(api, superuser):
    ContactoVirtualAccountFactory.create_batch(3)
    assert api.get("/api/v1/provider-accounts/").status_code in (401, 403)
    api.force_authenticate(superuser)
    body = api.get("/api/v1/provider-accounts/?page_size=2").json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"]
