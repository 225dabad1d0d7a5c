"""POST/PATCH /api/v1/wabas/ and /api/v1/phone-numbers/: inventory entered by hand (issue 18).

Before issue 18 both endpoints were read-only: an account without the ISV token could not get a WABA or a number,
and no one could set a WABA's namespace through the API.
"""

import pytest

from accounts.models import AuditEntry, PhoneNumber, Role, WhatsAppBusinessAccount
from accounts.services import provider_account_sync, waba_create, waba_update
from providers.types import ClientWabas, PhoneNumberInfo
from tests.factories import (
    ClientFactory,
    ContactoVirtualAccountFactory,
    MembershipFactory,
    PhoneNumberFactory,
    ProviderAccountFactory,
    WabaFactory,
)

pytestmark = pytest.mark.django_db

WABAS = "/api/v1/wabas/"
NUMBERS = "/api/v1/phone-numbers/"
NAMESPACE = "f29c496f_9a16_408b_bff7_379e57d1c8d5"


@pytest.fixture
def admin_of():
    def _admin(client, role=Role.ADMIN):
        return MembershipFactory(client=client, role=role).user

    return _admin


def test_a_client_admin_adds_a_waba_and_a_number_and_sets_the_namespace(api_as, admin_of):
    client = ClientFactory()
    api = api_as(admin_of(client))

    created = api.post(WABAS, {"client": client.pk, "waba_id": "236928178367012", "name": "Ventas"}, format="json")
    assert created.status_code == 201, created.content
    waba = WhatsAppBusinessAccount.objects.get(pk=created.json()["id"])
    assert (waba.waba_id, waba.namespace) == ("236928178367012", "")

    patched = api.patch(f"{WABAS}{waba.pk}/", {"namespace": NAMESPACE}, format="json")
    assert patched.status_code == 200, patched.content
    assert patched.json()["namespace"] == NAMESPACE

    number = api.post(NUMBERS, {"client": client.pk, "waba": waba.pk, "digits": "573001112233"}, format="json")
    assert number.status_code == 201, number.content
    stored = PhoneNumber.objects.get(pk=number.json()["id"])
    assert stored.digits == "573001112233" and stored.waba == waba and stored.display_phone_number == "+57 300 1112233"

    renamed = api.patch(f"{NUMBERS}{stored.pk}/", {"verified_name": "Tienda"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["verified_name"] == "Tienda"
    assert set(AuditEntry.objects.values_list("action", flat=True)) >= {
        "waba.create", "waba.update", "phone_number.create", "phone_number.update"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"waba_id": "12ab"}, "waba_id"),
        ({"waba_id": "236928178367012", "namespace": "no spaces allowed"}, "namespace"),
        ({"waba_id": ""}, "waba_id"),
    ],
)
def test_a_bad_waba_is_400_naming_the_field(api_as, admin_of, body, field):
    client = ClientFactory()
    response = api_as(admin_of(client)).post(WABAS, {"client": client.pk, **body}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_a_duplicate_waba_and_a_bad_number_name_their_fields(api_as, admin_of):
    waba = WabaFactory()
    api = api_as(admin_of(waba.client))
    again = api.post(WABAS, {"client": waba.client.pk, "waba_id": waba.waba_id}, format="json")
    assert again.status_code == 400 and "waba_id" in again.json()
    bad = api.post(NUMBERS, {"client": waba.client.pk, "waba": waba.pk, "digits": "+57 300"}, format="json")
    assert bad.status_code == 400 and "digits" in bad.json()
    no_waba = api.post(NUMBERS, {"client": waba.client.pk, "digits": "573001112233"}, format="json")
    assert no_waba.status_code == 400 and "waba" in no_waba.json()


def test_agents_may_not_and_other_tenants_do_not_exist(api_as, admin_of):
    mine, theirs = WabaFactory(), WabaFactory()
    agent = admin_of(mine.client, Role.AGENT)
    assert api_as(agent).post(WABAS, {"client": mine.client.pk, "waba_id": "1234567"}, format="json").status_code == 403
    assert api_as(agent).patch(f"{WABAS}{mine.pk}/", {"namespace": "x"}, format="json").status_code == 403

    admin = admin_of(mine.client)
    hidden = api_as(admin).patch(f"{WABAS}{theirs.pk}/", {"namespace": "x"}, format="json")
    assert hidden.status_code == 404
    other_number = PhoneNumberFactory(waba=theirs)
    assert api_as(admin).patch(f"{NUMBERS}{other_number.pk}/", {"verified_name": "x"},
                               format="json").status_code == 404
    foreign = api_as(admin).post(WABAS, {"client": theirs.client.pk, "waba_id": "1234567"}, format="json")
    assert foreign.status_code == 400 and "client" in foreign.json()
    foreign_waba = api_as(admin).post(NUMBERS, {"client": mine.client.pk, "waba": theirs.pk, "digits": "573001112299"},
                                      format="json")
    assert foreign_waba.status_code == 400 and "waba" in foreign_waba.json()


def test_operators_add_anywhere_and_a_contacto_virtual_client_has_no_waba(api_as, superuser):
    cv_client = ClientFactory(provider_account=ContactoVirtualAccountFactory())
    response = api_as(superuser).post(WABAS, {"client": cv_client.pk, "waba_id": "1234567"}, format="json")
    assert response.status_code == 400 and "client" in response.json()
    aldeamo = ClientFactory()
    assert api_as(superuser).post(WABAS, {"client": aldeamo.pk, "waba_id": "1234567"}, format="json").status_code == 201


class FakeAldeamo:
    """The adapter's inventory and template calls, answering like the manual's examples."""

    def __init__(self, waba_id="236928178367012"):
        self.waba_id = waba_id
        self.listed_for: list[str] = []

    def wabas_by_token(self):
        return [ClientWabas(client_id="942", waba_ids=(self.waba_id,))]

    def phone_numbers(self, *, client_id, waba_id):
        return [PhoneNumberInfo(id="225489163", display_phone_number="+57 324 5550101")]

    def templates_list(self, *, waba_id, limit=1000):
        self.listed_for.append(waba_id)
        return []


@pytest.fixture
def fake_aldeamo(monkeypatch):
    from accounts.services import sync
    from templates_mgr import services as template_services

    fake = FakeAldeamo()
    monkeypatch.setattr(sync, "provider_client", lambda account: fake)
    monkeypatch.setattr(template_services, "provider_client", lambda account: fake)
    return fake


def test_sync_without_the_isv_token_makes_the_client_and_syncs_templates_of_entered_wabas(fake_aldeamo, superuser):
    # Before issue 18 this raised "Set the ISV analytics token" and nothing could follow.
    account = ProviderAccountFactory(analytics_token="")

    first = provider_account_sync(account=account)

    client = account.clients.get()
    assert client.client_id == account.user_id and first.clients == 1 and first.wabas == 0
    assert any("ISV" in warning for warning in first.warnings)
    waba = waba_create(actor=superuser, client=client, waba_id="236928178367012", namespace=NAMESPACE)
    second = provider_account_sync(account=account)
    assert second.wabas == 1 and fake_aldeamo.listed_for == ["236928178367012"]
    waba.refresh_from_db()
    assert waba.is_active and waba.namespace == NAMESPACE


def test_sync_with_the_token_never_overwrites_an_entered_namespace_or_name(fake_aldeamo, superuser):
    account = ProviderAccountFactory()
    provider_account_sync(account=account)
    waba = WhatsAppBusinessAccount.objects.get(waba_id=fake_aldeamo.waba_id)
    waba_update(actor=superuser, waba=waba, namespace=NAMESPACE, name="Ventas")

    provider_account_sync(account=account)

    waba.refresh_from_db()
    assert (waba.namespace, waba.name, waba.is_active) == (NAMESPACE, "Ventas", True)


def test_adding_the_isv_token_later_keeps_the_namespace_entered_by_hand(fake_aldeamo, superuser):
    account = ProviderAccountFactory(analytics_token="")
    provider_account_sync(account=account)
    waba_create(actor=superuser, client=account.clients.get(), waba_id=fake_aldeamo.waba_id, namespace=NAMESPACE)
    account.analytics_token = "isv-token"
    account.save()

    provider_account_sync(account=account)

    listed = WhatsAppBusinessAccount.objects.get(client__client_id="942", waba_id=fake_aldeamo.waba_id)
    assert listed.is_active and listed.namespace == NAMESPACE


def test_a_numbers_sending_limit_is_read_by_everyone_who_sees_it_and_set_by_its_admin(api_as, admin_of, settings):
    """The contract: POST, PATCH /api/v1/phone-numbers/ carry the number's sending limit (messages per second,
    default 80), stored in the send bucket every sender of the number reads (campaigns, composer, API)."""
    from accounts import rates
    from accounts.models import NumberRate

    settings.CAMPAIGN_PACE_LIMIT = 80
    client = ClientFactory(provider_account=ContactoVirtualAccountFactory())
    admin_user, agent_user = admin_of(client), admin_of(client, Role.AGENT)
    admin = api_as(admin_user)  # one test client: api_as switches who it is
    created = admin.post(NUMBERS, {"client": client.pk, "digits": "573001112299", "send_limit": 20}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["send_limit"] == 20
    number = PhoneNumber.objects.get(pk=created.json()["id"])
    assert NumberRate.objects.get(phone_number=number).per_second == 20

    untouched = PhoneNumberFactory(client=client)
    agent = api_as(agent_user)
    listed = {row["id"]: row["send_limit"] for row in agent.get(NUMBERS).json()["results"]}
    assert listed == {number.pk: 20, untouched.pk: 80}  # no row yet: the default its first send will store

    assert agent.patch(f"{NUMBERS}{number.pk}/", {"send_limit": 80}, format="json").status_code == 403
    admin = api_as(admin_user)
    upgraded = admin.patch(f"{NUMBERS}{number.pk}/", {"send_limit": 1000}, format="json")
    assert upgraded.status_code == 200 and upgraded.json()["send_limit"] == 1000
    assert rates.number_slots(phone_number_id=number.pk, digits=number.digits)[2] == 1000  # the next grant
    assert AuditEntry.objects.filter(action="phone_number.update", changes__send_limit__to="1000").exists()

    for bad in (0, 1001, "fast", 2.5):
        refused = admin.patch(f"{NUMBERS}{number.pk}/", {"send_limit": bad}, format="json")
        assert refused.status_code == 400 and "send_limit" in refused.json(), (bad, refused.content)
    assert NumberRate.objects.get(phone_number=number).per_second == 1000


def test_an_operator_sets_any_numbers_limit_and_the_service_refuses_a_bad_one(api_as, superuser):
    from accounts.services import phone_number_update
    from waportal.errors import ApplicationError

    number = PhoneNumberFactory()
    patched = api_as(superuser).patch(f"{NUMBERS}{number.pk}/", {"send_limit": 20}, format="json")
    assert patched.status_code == 200 and patched.json()["send_limit"] == 20
    with pytest.raises(ApplicationError) as refused:
        phone_number_update(actor=superuser, number=number, send_limit=5000)
    assert refused.value.field == "send_limit"
