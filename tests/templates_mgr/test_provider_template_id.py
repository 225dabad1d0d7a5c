"""Contacto Virtual's id_template, which its listing lacks: PATCH /api/v1/templates/{id}/ and the template admin.

Before issue 18 templates were read-only everywhere: every CV template send was refused before it left.
"""

import pytest

from accounts.models import AuditEntry, Role
from templates_mgr.models import TemplateChange
from tests.factories import MembershipFactory, TemplateFactory
from tests.messaging.factories import ContactoVirtualTemplateFactory

pytestmark = pytest.mark.django_db


def url(template) -> str:
    return f"/api/v1/templates/{template.pk}/"


def test_a_client_admin_sets_the_id_template_and_it_is_recorded(api_as):
    template = ContactoVirtualTemplateFactory(provider_template_id="")
    admin = MembershipFactory(client=template.client, role=Role.ADMIN).user
    listed = api_as(admin).get("/api/v1/templates/").json()["results"][0]
    assert listed["needs_provider_template_id"] is True

    response = api_as(admin).patch(url(template), {"provider_template_id": "990"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["provider_template_id"] == "990"
    assert response.json()["needs_provider_template_id"] is False
    template.refresh_from_db()
    assert template.provider_template_id == "990"
    change = TemplateChange.objects.get(template=template)
    assert (change.field, change.new_value, change.source) == ("provider_template_id", "990", "user")
    assert AuditEntry.objects.filter(action="template.provider_id").exists()


@pytest.mark.parametrize("value", ["99o", "12 34", "-1"])
def test_an_id_template_that_is_not_a_number_is_400_naming_the_field(api_as, superuser, value):
    template = ContactoVirtualTemplateFactory(provider_template_id="")
    response = api_as(superuser).patch(url(template), {"provider_template_id": value}, format="json")
    assert response.status_code == 400, response.content
    assert "provider_template_id" in response.json()


def test_an_aldeamo_template_keeps_its_listed_id(api_as, superuser):
    template = TemplateFactory()
    response = api_as(superuser).patch(url(template), {"provider_template_id": "1"}, format="json")
    assert response.status_code == 400 and "provider_template_id" in response.json()


def test_agents_may_not_and_another_tenant_is_404(api_as):
    template = ContactoVirtualTemplateFactory(provider_template_id="")
    agent = MembershipFactory(client=template.client, role=Role.AGENT).user
    assert api_as(agent).patch(url(template), {"provider_template_id": "9"}, format="json").status_code == 403
    stranger = MembershipFactory(role=Role.ADMIN).user
    assert api_as(stranger).patch(url(template), {"provider_template_id": "9"}, format="json").status_code == 404


def test_the_admin_flags_a_cv_template_without_id_and_lets_an_admin_enter_it(client, superuser):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(superuser)
    template = ContactoVirtualTemplateFactory(provider_template_id="")

    listing = client.get("/admin/templates_mgr/template/").content.decode()
    assert "no id_template" in listing

    page = client.get(f"/admin/templates_mgr/template/{template.pk}/change/")
    assert page.status_code == 200
    assert 'name="provider_template_id"' in page.content.decode()
    inline = {"changes-TOTAL_FORMS": "0", "changes-INITIAL_FORMS": "0"}
    bad = client.post(f"/admin/templates_mgr/template/{template.pk}/change/", {"provider_template_id": "abc", **inline})
    assert bad.status_code == 200 and "is a number" in bad.content.decode()
    saved = client.post(f"/admin/templates_mgr/template/{template.pk}/change/", {"provider_template_id": "990", **inline})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    template.refresh_from_db()
    assert template.provider_template_id == "990"
    assert "no id_template" not in client.get("/admin/templates_mgr/template/").content.decode()


def test_the_admin_page_of_an_aldeamo_template_stays_read_only(client, superuser):
    client.force_login(superuser)
    template = TemplateFactory()
    page = client.get(f"/admin/templates_mgr/template/{template.pk}/change/").content.decode()
    assert 'name="provider_template_id"' not in page
