"""Templates in the admin: list, detail, builder and deletion at the provider (through a fake provider client)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from providers.base import ProviderRejected, ProviderTimeout
from templates_mgr.models import Template, TemplateChange, TemplateStatus
from tests.factories import ClientFactory, ContactoVirtualAccountFactory, MembershipFactory, WabaFactory
from tests.templates_mgr.factories import TemplateChangeFactory, TemplateFactory, components_example

CHANGELIST = "/admin/templates_mgr/template/"
BUILD = "/admin/templates_mgr/template/build/"


class FakeProvider:
    """Stands in for the adapter ``templates_mgr.services.provider_client`` returns."""

    def __init__(self) -> None:
        self.created: list[dict] = []
        self.deleted: list[dict] = []
        self.error: Exception | None = None

    def template_create(self, *, waba_id, name, language, category, components):
        if self.error:
            raise self.error
        self.created.append({"waba_id": waba_id, "name": name, "language": language, "category": category,
                             "components": components})
        return "1452834871831904"

    def template_delete(self, *, waba_id, name):
        if self.error:
            raise self.error
        self.deleted.append({"waba_id": waba_id, "name": name})


@pytest.fixture
def provider(monkeypatch):
    fake = FakeProvider()
    monkeypatch.setattr("templates_mgr.services.provider_client", lambda account: fake)
    return fake


@pytest.fixture
def client(client):
    """Pages in English whatever the default language, so assertions read the source strings."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def waba(db):
    return WabaFactory()


def tenant_user(waba, role=Role.ADMIN):
    return MembershipFactory(client=waba.client, role=role).user


def builder_post(waba, **changes) -> dict:
    post = {
        "waba": str(waba.pk),
        "category": "UTILITY",
        "name": "order_shipped",
        "language": "es",
        "header_type": "text",
        "header_text": "Pedido {{1}}",
        "header_example": "A-1024",
        "body_text": "Hola {{1}}, tu pedido llega el *{{2}}*.",
        "body_example_1": "José",
        "body_example_2": "martes",
        "footer_text": "Tienda Pruebas",
        "button_1_type": "QUICK_REPLY",
        "button_1_text": "Gracias",
        "button_2_type": "URL",
        "button_2_text": "Ver pedido",
        "button_2_url": "https://example.com/orders/{{1}}",
        "button_2_url_example": "A-1024",
        "button_3_type": "PHONE_NUMBER",
        "button_3_text": "Llamar",
        "button_3_phone_number": "+573001234567",
    }
    post.update(changes)
    return post


def field_errors(html: str, field: str) -> str:
    """The error list Django renders for ``field`` (``<ul … id="id_<field>_error">``), or ''."""
    match = re.search(rf'<ul class="errorlist"[^>]*id="id_{field}_error">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


# --- list ------------------------------------------------------------------------------------------------


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.django_db
def test_changelist_shows_status_badges_and_flags_problems(admin_client, waba):
    TemplateFactory(waba=waba, name="approved_one")
    TemplateFactory(waba=waba, name="pending_one", status=TemplateStatus.PENDING)
    TemplateFactory(waba=waba, name="rejected_one", status=TemplateStatus.REJECTED,
                    rejected_reason="INVALID_FORMAT")
    TemplateFactory(waba=waba, name="paused_one", status=TemplateStatus.PAUSED)
    gone = TemplateFactory(waba=waba, name="gone_one", status=TemplateStatus.REJECTED)
    gone.deleted_at = gone.created_at
    gone.save()
    html = admin_client.get(CHANGELIST).content.decode()
    assert html.count("wa-badge-green") == 1
    assert html.count("wa-badge wa-badge-yellow") == 1
    assert html.count('wa-badge wa-badge-red">') == 2  # rejected and paused; the deleted one is grey
    assert html.count("wa-problem") == 2
    assert 'title="INVALID_FORMAT"' in html
    assert "wa-badge-grey" in html


@pytest.mark.django_db
def test_changelist_filters_and_search(admin_client, waba):
    TemplateFactory(waba=waba, name="order_shipped", language="es")
    TemplateFactory(waba=waba, name="order_shipped", language="en_US", category="MARKETING")
    TemplateFactory(waba=waba, name="welcome", status=TemplateStatus.PENDING)
    assert "2 templates" in admin_client.get(CHANGELIST + "?q=order").content.decode()
    assert "1 template" in admin_client.get(CHANGELIST + "?status__exact=PENDING").content.decode()
    assert "1 template" in admin_client.get(CHANGELIST + "?language=en_US").content.decode()
    assert "1 template" in admin_client.get(CHANGELIST + "?category=MARKETING").content.decode()
    assert "3 templates" in admin_client.get(CHANGELIST + f"?waba__id__exact={waba.pk}").content.decode()
    assert "3 templates" in admin_client.get(CHANGELIST + "?deleted=no").content.decode()


@pytest.mark.django_db
def test_changelist_queries_stay_constant_as_rows_grow_for_a_superuser(admin_client, django_assert_max_num_queries):
    first, second = WabaFactory(), WabaFactory()
    for waba in (first, second):
        TemplateFactory.create_batch(2, waba=waba)
    few = count_queries(admin_client, CHANGELIST)
    for waba in (first, second):
        TemplateFactory.create_batch(60, waba=waba, language="en_US", status=TemplateStatus.REJECTED)
    with django_assert_max_num_queries(few):
        response = admin_client.get(CHANGELIST)
    assert "124 templates" in response.content.decode()


@pytest.mark.django_db
def test_changelist_queries_stay_constant_as_rows_grow_for_a_tenant_admin(client, django_assert_max_num_queries):
    waba, other = WabaFactory(), WabaFactory()
    client.force_login(tenant_user(waba))
    TemplateFactory.create_batch(2, waba=waba)
    TemplateFactory(waba=other, name="someone_elses")
    few = count_queries(client, CHANGELIST)
    TemplateFactory.create_batch(80, waba=waba, language="pt_BR")
    with django_assert_max_num_queries(few):
        response = client.get(CHANGELIST)
    html = response.content.decode()
    assert "82 templates" in html
    assert "someone_elses" not in html
    assert other.waba_id not in html


@pytest.mark.django_db
def test_bulk_delete_is_not_offered(admin_client, waba):
    TemplateFactory(waba=waba)
    html = admin_client.get(CHANGELIST).content.decode()
    assert 'value="delete_selected"' not in html


@pytest.mark.django_db
def test_add_leads_to_the_builder(admin_client):
    response = admin_client.get("/admin/templates_mgr/template/add/")
    assert response.status_code == 302
    assert response["Location"] == BUILD


# --- detail ------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_detail_is_read_only_with_preview_json_history_and_links(admin_client, waba):
    template = TemplateFactory(waba=waba, name="order_shipped")
    TemplateChangeFactory(template=template, reason="Looks good")
    html = admin_client.get(f"{CHANGELIST}{template.pk}/change/").content.decode()
    assert 'id="wa-preview-body"' in html
    assert '<span class="wa-example" title="{{1}}">José</span>' in html
    assert "Tienda Pruebas" in html and "Ver pedido" in html
    assert "wa-json" in html and "&quot;QUICK_REPLY&quot;" in html
    assert "Looks good" in html  # history
    assert f'href="/admin/messaging/message/compose/?template={template.pk}"' in html
    assert f'href="{BUILD}?from={template.pk}"' in html
    assert f"{CHANGELIST}{template.pk}/delete-at-provider/" in html
    assert 'name="_save"' not in html
    assert 'name="name"' not in html  # no editable inputs


@pytest.mark.django_db
def test_detail_of_a_contacto_virtual_template_previews_its_text(admin_client):
    cv_client = ClientFactory(provider_account=ContactoVirtualAccountFactory())
    template = Template.objects.create(client=cv_client, name="saldo", text="Hola {1}, tu saldo es {2}.",
                                       status=TemplateStatus.APPROVED)
    html = admin_client.get(f"{CHANGELIST}{template.pk}/change/").content.decode()
    assert '<span class="wa-var">{{1}}</span>' in html
    assert "delete-at-provider" not in html


@pytest.mark.django_db
def test_a_tenant_cannot_open_another_tenants_template(client):
    mine, other = WabaFactory(), WabaFactory()
    client.force_login(tenant_user(mine))
    theirs = TemplateFactory(waba=other)
    assert client.get(f"{CHANGELIST}{theirs.pk}/change/").status_code in (302, 404)
    assert client.get(f"{CHANGELIST}{theirs.pk}/delete-at-provider/").status_code == 404
    assert client.get(f"{BUILD}?from={theirs.pk}").status_code == 404


@pytest.mark.django_db
def test_a_viewer_sees_templates_but_cannot_build_or_delete(client, waba):
    client.force_login(tenant_user(waba, Role.VIEWER))
    template = TemplateFactory(waba=waba)
    assert client.get(CHANGELIST).status_code == 200
    html = client.get(f"{CHANGELIST}{template.pk}/change/").content.decode()
    assert "delete-at-provider" not in html
    assert "?from=" not in html
    assert client.get(BUILD).status_code == 403
    assert client.post(f"{CHANGELIST}{template.pk}/delete-at-provider/").status_code == 403


# --- builder ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_builder_renders_with_stable_ids_and_no_inline_script(admin_client, waba):
    response = admin_client.get(BUILD)
    assert response.status_code == 200
    html = response.content.decode()
    for element_id in ("id_name", "id_body_text", "id_header_type", "id_button_1_type", "wa-preview",
                       "wa-preview-body", "wa-preview-header", "wa-preview-footer", "wa-preview-buttons",
                       "wa-body-examples"):
        assert f'id="{element_id}"' in html, element_id
    assert "templates_mgr/builder.js" in html and "templates_mgr/builder.css" in html
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag and "nonce=" in tag, tag
    assert "<style" not in html
    assert f'<option value="{waba.pk}" selected>' in html  # the only WABA is chosen


@pytest.mark.django_db
def test_pages_render_in_the_default_language(client, superuser, waba):
    client.force_login(superuser)
    template = TemplateFactory(waba=waba)
    for url in (CHANGELIST, BUILD, f"{CHANGELIST}{template.pk}/change/", f"{CHANGELIST}{template.pk}/delete-at-provider/"):
        response = client.get(url, headers={"accept-language": "es"})
        assert response.status_code == 200, url
        assert 'lang="es"' in response.content.decode()


@pytest.mark.django_db
def test_builder_offers_only_the_wabas_a_tenant_administers(client):
    mine, theirs, viewed = WabaFactory(), WabaFactory(), WabaFactory()
    user = tenant_user(mine)
    MembershipFactory(user=user, client=viewed.client, role=Role.VIEWER)
    client.force_login(user)
    html = client.get(BUILD).content.decode()
    assert f'value="{mine.pk}"' in html
    assert f'value="{theirs.pk}"' not in html
    assert f'value="{viewed.pk}"' not in html


@pytest.mark.django_db
def test_builder_can_start_from_an_existing_template(admin_client, waba):
    source = TemplateFactory(waba=waba, name="order_shipped", language="es")
    html = admin_client.get(f"{BUILD}?from={source.pk}").content.decode()
    assert 'value="order_shipped"' in html
    assert 'value="José"' in html and 'id="id_body_example_2"' in html
    assert 'value="https://example.com/orders/{{1}}"' in html
    assert "Hola {{1}}, tu pedido llega el *{{2}}*." in html


@pytest.mark.django_db
def test_invalid_input_shows_field_errors_and_keeps_everything(admin_client, waba, provider):
    post = builder_post(waba, name="Order Shipped", body_text="{{1}} llega el {{2}}", body_example_2="",
                        button_1_text="An extremely long button label")
    response = admin_client.post(BUILD, post)
    assert response.status_code == 200
    html = response.content.decode()
    assert "lowercase letters, digits and underscores" in field_errors(html, "name")
    assert "can&#x27;t start with a variable" in field_errors(html, "body_text")
    assert "can&#x27;t end with a variable" in field_errors(html, "body_text")
    assert "Give an example for {{2}}." in field_errors(html, "body_example_2")
    assert "the limit is 25" in field_errors(html, "button_1_text")
    # Nothing typed is lost.
    assert 'value="Order Shipped"' in html
    assert "{{1}} llega el {{2}}</textarea>" in html
    assert 'value="José"' in html
    assert 'value="https://example.com/orders/{{1}}"' in html
    assert 'value="+573001234567"' in html
    assert provider.created == []
    assert not Template.objects.exists()


@pytest.mark.django_db
def test_a_valid_submit_creates_the_template_at_the_provider(admin_client, waba, provider, superuser):
    response = admin_client.post(BUILD, builder_post(waba))
    template = Template.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}{template.pk}/change/"
    assert provider.created == [{"waba_id": waba.waba_id, "name": "order_shipped", "language": "es",
                                 "category": "UTILITY", "components": components_example()}]
    assert template.status == TemplateStatus.PENDING
    assert template.provider_template_id == "1452834871831904"
    assert template.created_by == superuser
    assert TemplateChange.objects.filter(template=template, new_value="PENDING").exists()
    page = admin_client.get(response["Location"]).content.decode()
    assert "was sent to WhatsApp for review" in page


@pytest.mark.django_db
def test_a_tenant_admin_can_build_in_their_waba(client, waba, provider):
    client.force_login(tenant_user(waba))
    response = client.post(BUILD, builder_post(waba))
    assert response.status_code == 302
    assert Template.objects.get().client == waba.client


@pytest.mark.django_db
def test_the_providers_refusal_is_shown_in_its_words_and_nothing_is_lost(admin_client, waba, provider):
    provider.error = ProviderRejected("Bad Request", status=400)
    response = admin_client.post(BUILD, builder_post(waba))
    assert response.status_code == 200
    html = response.content.decode()
    assert "The provider refused the template: Bad Request" in html
    assert 'value="order_shipped"' in html and 'value="martes"' in html
    assert not Template.objects.exists()


@pytest.mark.django_db
def test_a_provider_timeout_warns_that_the_template_may_exist(admin_client, waba, provider):
    provider.error = ProviderTimeout("No answer from the provider within 30 seconds.")
    html = admin_client.post(BUILD, builder_post(waba)).content.decode()
    assert "may have been created" in html


@pytest.mark.django_db
def test_a_name_already_used_is_shown_on_the_name(admin_client, waba, provider):
    TemplateFactory(waba=waba, name="order_shipped", language="es")
    html = admin_client.post(BUILD, builder_post(waba)).content.decode()
    assert "already has a template named order_shipped" in field_errors(html, "name")
    assert provider.created == []


@pytest.mark.django_db
def test_a_tenant_cannot_build_in_another_tenants_waba(client, provider):
    mine, theirs = WabaFactory(), WabaFactory()
    client.force_login(tenant_user(mine))
    html = client.post(BUILD, builder_post(theirs)).content.decode()
    assert field_errors(html, "waba")
    assert provider.created == []


# --- delete at the provider ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_delete_confirmation_names_the_waba_the_name_and_every_language(admin_client, waba):
    spanish = TemplateFactory(waba=waba, name="order_shipped", language="es")
    TemplateFactory(waba=waba, name="order_shipped", language="en_US", status=TemplateStatus.PENDING)
    TemplateFactory(waba=waba, name="other_name", language="pt_BR")
    html = admin_client.get(f"{CHANGELIST}{spanish.pk}/delete-at-provider/").content.decode()
    assert waba.waba_id in html
    assert 'id="wa-delete-name">order_shipped<' in html
    languages = re.search(r'<ul id="wa-delete-languages">(.*?)</ul>', html, re.S).group(1)
    assert "es · Approved" in languages and "en_US · Pending" in languages
    assert "pt_BR" not in languages


@pytest.mark.django_db
def test_django_delete_leads_to_the_provider_deletion(admin_client, waba):
    template = TemplateFactory(waba=waba)
    response = admin_client.get(f"{CHANGELIST}{template.pk}/delete/")
    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}{template.pk}/delete-at-provider/"


@pytest.mark.django_db
def test_confirming_deletes_at_the_provider_and_keeps_the_records(admin_client, waba, provider, superuser):
    spanish = TemplateFactory(waba=waba, name="order_shipped", language="es")
    english = TemplateFactory(waba=waba, name="order_shipped", language="en_US")
    kept = TemplateFactory(waba=waba, name="other_name")
    response = admin_client.post(f"{CHANGELIST}{spanish.pk}/delete-at-provider/")
    assert response.status_code == 302
    assert response["Location"] == CHANGELIST
    assert provider.deleted == [{"waba_id": waba.waba_id, "name": "order_shipped"}]
    for template in (spanish, english):
        template.refresh_from_db()
        assert template.deleted_at is not None and template.deleted_by == superuser
    kept.refresh_from_db()
    assert kept.deleted_at is None
    assert "was deleted at the provider" in admin_client.get(CHANGELIST).content.decode()


@pytest.mark.django_db
def test_a_provider_refusal_to_delete_is_shown_and_nothing_changes(admin_client, waba, provider):
    template = TemplateFactory(waba=waba, name="order_shipped")
    provider.error = ProviderRejected("Template not found", status=400)
    response = admin_client.post(f"{CHANGELIST}{template.pk}/delete-at-provider/")
    assert response.status_code == 200
    assert "The provider did not delete the template: Template not found" in response.content.decode()
    template.refresh_from_db()
    assert template.deleted_at is None


@pytest.mark.django_db
def test_an_already_deleted_template_is_not_deleted_again(admin_client, waba, provider):
    template = TemplateFactory(waba=waba)
    template.deleted_at = template.created_at
    template.save()
    response = admin_client.post(f"{CHANGELIST}{template.pk}/delete-at-provider/")
    assert response.status_code == 302
    assert provider.deleted == []
