"""The account page and the WABA/number admin for an account without the ISV token (issue 18)."""

import pytest

from accounts.models import PhoneNumber, WhatsAppBusinessAccount
from accounts.services import provider_account_sync, provider_account_test_connection
from tests.factories import ClientFactory, ProviderAccountFactory, WabaFactory
from tests.messaging.factories import ContactoVirtualTemplateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, superuser):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(superuser)
    return client


def test_the_account_page_says_what_needs_the_isv_token_and_prompts_for_a_namespace(admin_client):
    account = ProviderAccountFactory(analytics_token="")
    page = admin_client.get(f"/admin/accounts/provideraccount/{account.pk}/change/").content.decode()
    assert "Features that need the ISV token" in page and "No WABA yet" in page

    WabaFactory(client=ClientFactory(provider_account=account), namespace="", waba_id="236928178367012")
    page = admin_client.get(f"/admin/accounts/provideraccount/{account.pk}/change/").content.decode()
    assert "WABA 236928178367012 has no template namespace" in page


def test_the_account_page_of_a_cv_account_counts_templates_without_id(admin_client):
    template = ContactoVirtualTemplateFactory(provider_template_id="")
    account = template.client.provider_account
    page = admin_client.get(f"/admin/accounts/provideraccount/{account.pk}/change/").content.decode()
    assert "1 template has no id_template" in page


def test_a_waba_and_a_number_are_added_by_hand_in_the_admin(admin_client):
    account = ProviderAccountFactory(analytics_token="")
    provider_account_sync(account=account)
    client = account.clients.get()

    bad = admin_client.post("/admin/accounts/whatsappbusinessaccount/add/",
                            {"client": client.pk, "waba_id": "12ab", "namespace": "a b", "is_active": "on"})
    assert bad.status_code == 200 and not WhatsAppBusinessAccount.objects.exists()
    added = admin_client.post("/admin/accounts/whatsappbusinessaccount/add/",
                              {"client": client.pk, "waba_id": "236928178367012", "name": "Ventas",
                               "namespace": "f29c496f_9a16", "is_active": "on"})
    assert added.status_code == 302, added.content.decode()[:3000]
    waba = WhatsAppBusinessAccount.objects.get()
    assert waba.namespace == "f29c496f_9a16"

    number = admin_client.post("/admin/accounts/phonenumber/add/",
                               {"client": client.pk, "waba": waba.pk, "digits": "573001112233",
                                "quality_rating": "UNKNOWN", "is_active": "on"})
    assert number.status_code == 302, number.content.decode()[:3000]
    stored = PhoneNumber.objects.get()
    assert stored.digits == "573001112233" and stored.display_phone_number == "+57 300 1112233"


def test_test_connection_without_token_or_waba_says_what_to_do_in_spanish():
    from django.utils import translation

    account = ProviderAccountFactory(analytics_token="")
    with translation.override("es"):
        check = provider_account_test_connection(account=account)
    assert not check.ok
    assert "WABA" in check.message and "Nothing to check" not in check.message


def test_a_failed_test_connection_is_in_spanish_with_the_providers_own_words(monkeypatch):
    from django.utils import translation

    from accounts.services import provider_accounts
    from providers.base import ProviderAuthError

    class Refusing:
        def wabas_by_token(self):
            raise ProviderAuthError("Authentication Error", status=401, body={"errors": ["Authentication Error"]})

    monkeypatch.setattr(provider_accounts, "provider_client", lambda account: Refusing())
    with translation.override("es"):
        check = provider_account_test_connection(account=ProviderAccountFactory())
    assert not check.ok
    assert "rechazó las credenciales" in check.message and "“Authentication Error”" in check.message
