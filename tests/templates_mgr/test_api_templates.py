"""``/api/v1/templates/``: list, detail, create, delete, their role checks and tenancy (a fake provider client)."""

import pytest

from accounts.models import AuditEntry, Role
from providers.base import ProviderRejected
from templates_mgr.models import Template, TemplateChange, TemplateStatus
from tests.factories import ClientFactory, ContactoVirtualAccountFactory, MembershipFactory, UserFactory, WabaFactory
from tests.templates_mgr.factories import TemplateChangeFactory, TemplateFactory, components_example
from tests.templates_mgr.test_admin_templates import FakeProvider

pytestmark = pytest.mark.django_db

LIST = "/api/v1/templates/"


@pytest.fixture
def provider(monkeypatch):
    fake = FakeProvider()
    monkeypatch.setattr("templates_mgr.services.provider_client", lambda account: fake)
    return fake


@pytest.fixture
def tenants():
    """Two clients, each with a WABA holding two templates (one also in English)."""
    wabas = {"a": WabaFactory(), "b": WabaFactory()}
    templates = {key: [TemplateFactory(waba=waba, name=f"order_{key}", language="es"),
                       TemplateFactory(waba=waba, name=f"order_{key}", language="en"),
                       TemplateFactory(waba=waba, name=f"promo_{key}", status=TemplateStatus.REJECTED)]
                 for key, waba in wabas.items()}
    return {"wabas": wabas, "templates": templates}


def member(waba, role=Role.ADMIN):
    return MembershipFactory(client=waba.client, role=role).user


def create_body(waba, **changes) -> dict:
    return {"waba": waba.pk, "name": "order_shipped", "language": "es", "category": "UTILITY",
            "components": components_example(), **changes}


# --- list and detail ---------------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT, Role.ADMIN])
def test_the_list_shows_only_the_users_clients_templates(api_as, tenants, role):
    api = api_as(member(tenants["wabas"]["a"], role))

    body = api.get(LIST).json()

    assert body["count"] == 3
    assert {row["id"] for row in body["results"]} == {t.pk for t in tenants["templates"]["a"]}
    # Filters cannot reach across tenants either.
    other = tenants["wabas"]["b"]
    assert api.get(LIST, {"waba": other.pk}).json().get("count", 0) == 0
    assert api.get(LIST, {"client": other.client_id}).json().get("count", 0) == 0
    assert api.get(LIST, {"name": "order_b"}).json()["count"] == 0


def test_a_superuser_lists_every_template_and_filters_them(api_as, tenants, superuser):
    api = api_as(superuser)
    a = tenants["wabas"]["a"]

    assert api.get(LIST).json()["count"] == 6
    assert api.get(LIST, {"waba": a.pk}).json()["count"] == 3
    assert api.get(LIST, {"status": TemplateStatus.REJECTED}).json()["count"] == 2
    assert api.get(LIST, {"name__icontains": "promo"}).json()["count"] == 2


def test_someone_without_a_membership_sees_no_template(api_as, tenants):
    assert api_as(UserFactory()).get(LIST).json()["count"] == 0


def test_anonymous_requests_are_refused(api, tenants):
    template = tenants["templates"]["a"][0]
    assert api.get(LIST).status_code in (401, 403)
    assert api.get(f"{LIST}{template.pk}/").status_code in (401, 403)
    assert api.delete(f"{LIST}{template.pk}/").status_code in (401, 403)
    assert not Template.objects.filter(deleted_at__isnull=False).exists()


def test_deleted_templates_are_listed_and_filterable(api_as, tenants, superuser):
    gone = tenants["templates"]["a"][2]
    Template.objects.filter(pk=gone.pk).update(deleted_at=gone.created_at)
    api = api_as(superuser)

    assert [row["id"] for row in api.get(LIST, {"deleted": "true"}).json()["results"]] == [gone.pk]
    assert api.get(LIST, {"deleted": "false"}).json()["count"] == 5


def test_the_detail_carries_the_history_newest_first(api_as, tenants):
    template = tenants["templates"]["a"][0]
    older = TemplateChangeFactory(template=template, old_value="", new_value=TemplateStatus.PENDING)
    newer = TemplateChangeFactory(template=template)
    TemplateChange.objects.filter(pk=older.pk).update(at=newer.at.replace(year=newer.at.year - 1))

    body = api_as(member(tenants["wabas"]["a"], Role.VIEWER)).get(f"{LIST}{template.pk}/").json()

    assert body["id"] == template.pk and body["name"] == template.name
    assert body["waba_id"] == template.waba.waba_id
    assert [change["new_value"] for change in body["history"]] == [TemplateStatus.APPROVED, TemplateStatus.PENDING]


def test_another_tenants_template_is_404(api_as, tenants, provider):
    api = api_as(member(tenants["wabas"]["a"]))
    theirs = tenants["templates"]["b"][0]

    assert api.get(f"{LIST}{theirs.pk}/").status_code == 404
    assert api.delete(f"{LIST}{theirs.pk}/").status_code == 404
    assert api.patch(f"{LIST}{theirs.pk}/", {"name": "stolen"}).status_code in (404, 405)
    assert provider.deleted == []
    theirs.refresh_from_db()
    assert theirs.deleted_at is None and theirs.name == "order_b"


def test_the_list_query_count_does_not_grow(api_as, superuser, django_assert_max_num_queries):
    waba = WabaFactory()
    TemplateFactory.create_batch(3, waba=waba)
    api = api_as(superuser)
    with django_assert_max_num_queries(10) as small:
        assert api.get(LIST).status_code == 200
    TemplateFactory.create_batch(30, waba=WabaFactory())
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert api.get(LIST).json()["count"] == 33


# --- create ------------------------------------------------------------------------------------------


def test_an_admin_creates_a_template_at_the_provider(api_as, tenants, provider):
    waba = tenants["wabas"]["a"]
    user = member(waba, Role.ADMIN)

    response = api_as(user).post(LIST, create_body(waba), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    template = Template.objects.get(pk=body["id"])
    assert (template.client_id, template.waba_id, template.status) == (waba.client_id, waba.pk, TemplateStatus.PENDING)
    assert template.provider_template_id == "1452834871831904" and template.created_by == user
    assert body["history"][0]["new_value"] == TemplateStatus.PENDING
    assert provider.created == [{"waba_id": waba.waba_id, "name": "order_shipped", "language": "es",
                                 "category": "UTILITY", "components": components_example()}]
    assert AuditEntry.objects.filter(action="template.create", target_id=str(template.pk)).exists()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT])
def test_only_an_admin_may_create(api_as, tenants, provider, role):
    waba = tenants["wabas"]["a"]

    response = api_as(member(waba, role)).post(LIST, create_body(waba), format="json")

    assert response.status_code == 403
    assert provider.created == []
    assert not Template.objects.filter(name="order_shipped").exists()


def test_an_admin_cannot_create_in_another_tenants_waba(api_as, tenants, provider):
    user = member(tenants["wabas"]["a"], Role.ADMIN)

    response = api_as(user).post(LIST, create_body(tenants["wabas"]["b"]), format="json")

    assert response.status_code == 400
    assert "waba" in response.json()
    assert provider.created == []


def test_an_admin_elsewhere_is_only_a_viewer_here(api_as, tenants, provider):
    """Admin rights in one client do not carry to another client the user only views."""
    user = member(tenants["wabas"]["a"], Role.ADMIN)
    MembershipFactory(user=user, client=tenants["wabas"]["b"].client, role=Role.VIEWER)
    api = api_as(user)

    assert api.post(LIST, create_body(tenants["wabas"]["b"]), format="json").status_code == 403
    assert api.delete(f"{LIST}{tenants['templates']['b'][0].pk}/").status_code == 403
    assert api.post(LIST, create_body(tenants["wabas"]["a"]), format="json").status_code == 201
    assert [c["waba_id"] for c in provider.created] == [tenants["wabas"]["a"].waba_id]
    assert provider.deleted == []


def test_invalid_components_are_400_naming_the_problem(api_as, tenants, provider, superuser):
    waba = tenants["wabas"]["a"]

    response = api_as(superuser).post(LIST, create_body(waba, components=[{"type": "FOOTER", "text": "x"}]),
                                      format="json")

    assert response.status_code == 400
    assert response.json()["problems"][0]["field"] == "body.text"
    assert provider.created == []


def test_a_name_already_used_in_the_waba_is_400(api_as, tenants, provider, superuser):
    waba = tenants["wabas"]["a"]

    response = api_as(superuser).post(LIST, create_body(waba, name="order_a", language="es"), format="json")

    assert response.status_code == 400 and "name" in response.json()
    assert provider.created == []


def test_a_provider_refusal_is_reported_and_nothing_is_stored(api_as, tenants, provider, superuser):
    provider.error = ProviderRejected("Invalid parameter", status=400, code=100)
    waba = tenants["wabas"]["a"]

    response = api_as(superuser).post(LIST, create_body(waba), format="json")

    assert 400 <= response.status_code < 600 and response.status_code != 201
    assert not Template.objects.filter(name="order_shipped").exists()


# --- delete ------------------------------------------------------------------------------------------


def test_an_admin_deletes_every_language_at_the_provider_and_keeps_the_records(api_as, tenants, provider):
    waba = tenants["wabas"]["a"]
    spanish, english, other = tenants["templates"]["a"]
    namesake = TemplateFactory(waba=tenants["wabas"]["b"], name="order_a")  # same name in another WABA

    response = api_as(member(waba, Role.ADMIN)).delete(f"{LIST}{spanish.pk}/")

    assert response.status_code == 204
    assert provider.deleted == [{"waba_id": waba.waba_id, "name": "order_a"}]
    assert set(Template.objects.filter(deleted_at__isnull=False).values_list("pk", flat=True)) == {spanish.pk,
                                                                                                  english.pk}
    for untouched in (other, namesake):
        untouched.refresh_from_db()
        assert untouched.deleted_at is None
    assert AuditEntry.objects.filter(action="template.delete").count() == 2


@pytest.mark.parametrize("role", [Role.VIEWER, Role.AGENT])
def test_only_an_admin_may_delete(api_as, tenants, provider, role):
    template = tenants["templates"]["a"][0]

    response = api_as(member(tenants["wabas"]["a"], role)).delete(f"{LIST}{template.pk}/")

    assert response.status_code == 403
    assert provider.deleted == []
    template.refresh_from_db()
    assert template.deleted_at is None


def test_a_contacto_virtual_template_cannot_be_deleted_here(api_as, provider, superuser):
    client = ClientFactory(provider_account=ContactoVirtualAccountFactory())
    template = TemplateFactory(waba=None, client=client, provider_template_id="", language="")

    response = api_as(superuser).delete(f"{LIST}{template.pk}/")

    assert response.status_code == 400 and "waba" in response.json()
    assert provider.deleted == []
