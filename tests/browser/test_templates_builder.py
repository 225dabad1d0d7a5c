"""The builder's live preview in Chromium: it follows the typing, and a submit reaches the (fake) provider."""

import pytest
from playwright.sync_api import expect

from templates_mgr.models import Template, TemplateStatus
from tests.browser.conftest import admin_login
from tests.factories import WabaFactory


class FakeProvider:
    def __init__(self) -> None:
        self.created: list[dict] = []

    def template_create(self, **call):
        self.created.append(call)
        return "1452834871831904"


@pytest.fixture
def provider(monkeypatch):
    fake = FakeProvider()
    monkeypatch.setattr("templates_mgr.services.provider_client", lambda account: fake)
    return fake


@pytest.mark.django_db(transaction=True)
def test_preview_follows_the_typing_and_the_template_is_submitted(page, live_server, django_user_model, provider):
    django_user_model.objects.create_superuser("builder", "b@example.com", "pass-word-123")
    waba = WabaFactory()
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 and "favicon" not in r.url else None)
    admin_login(page, live_server, "builder", "pass-word-123")
    page.goto(f"{live_server.url}/admin/templates_mgr/template/build/")

    page.fill("#id_name", "order_shipped")
    page.select_option("#id_category", "UTILITY")
    page.fill("#id_body_text", "Hola {{1}}, tu pedido llega el *{{2}}*.")
    assert page.locator("#wa-preview-body .wa-var").all_inner_texts() == ["{{1}}", "{{2}}"]
    assert page.locator("#wa-body-variable-count").inner_text() == "2"
    page.fill("#id_body_example_1", "José")
    page.fill("#id_body_example_2", "martes")
    assert page.locator("#wa-preview-body").inner_text() == "Hola José, tu pedido llega el martes."
    assert page.locator("#wa-preview-body strong").inner_text() == "martes"

    # Removing a variable removes its example input; bringing it back brings the example back.
    page.fill("#id_body_text", "Hola {{1}}, tu pedido va en camino.")
    assert page.locator("#id_body_example_2").count() == 0
    page.fill("#id_body_text", "Hola {{1}}, tu pedido llega el *{{2}}*.")
    assert page.input_value("#id_body_example_2") == "martes"

    assert page.locator("#wa-preview-header").is_hidden()
    assert page.locator("#id_header_example").is_hidden()
    page.select_option("#id_header_type", "text")
    page.fill("#id_header_text", "Pedido {{1}}")
    assert page.locator("#id_header_example").is_visible()
    page.fill("#id_header_example", "A-1024")
    assert page.locator("#wa-preview-header").inner_text() == "Pedido A-1024"

    page.fill("#id_footer_text", "Tienda Pruebas")
    assert page.locator("#wa-preview-footer").inner_text() == "Tienda Pruebas"
    assert page.locator('.wa-counter[data-for="id_footer_text"]').inner_text() == "14 / 60"

    assert page.locator('[data-button-row="2"]').is_hidden()
    page.select_option("#id_button_1_type", "QUICK_REPLY")
    page.fill("#id_button_1_text", "Gracias")
    assert page.locator("#id_button_1_url").is_hidden()
    assert page.locator('[data-button-row="2"]').is_visible()
    page.select_option("#id_button_2_type", "URL")
    page.fill("#id_button_2_text", "Ver pedido")
    page.fill("#id_button_2_url", "https://example.com/orders/{{1}}")
    page.fill("#id_button_2_url_example", "A-1024")
    assert page.locator("#wa-preview-buttons .wa-bubble-button").all_inner_texts() == ["↩ Gracias", "↗ Ver pedido"]

    page.fill("#id_button_1_text", "An extremely long button label")
    assert "wa-over" in page.locator('.wa-counter[data-for="id_button_1_text"]').get_attribute("class")
    page.fill("#id_button_1_text", "Gracias")

    page.click("#wa-submit")
    page.wait_for_url("**/change/")
    template = Template.objects.get(waba=waba)
    assert template.status == TemplateStatus.PENDING
    assert provider.created[0]["components"][0] == {
        "type": "HEADER", "format": "TEXT", "text": "Pedido {{1}}", "example": {"header_text": ["A-1024"]}}
    assert page.locator("#wa-preview-body").inner_text() == "Hola José, tu pedido llega el martes."
    assert failed == []
    # The only console errors allowed are the browser's own favicon request.
    assert [e for e in page.console_errors if "Failed to load resource" not in e] == []


@pytest.mark.django_db(transaction=True)
def test_admin_builds_a_template_at_the_sandbox_sees_it_approved_and_deletes_it(page, demo):
    """Issue 4 end to end: builder → createTemplate at the sandbox → approval event → deleteTemplate."""
    from accounts.models import WhatsAppBusinessAccount
    from tests.browser.conftest import pump, screenshot

    waba = WhatsAppBusinessAccount.objects.get(waba_id="236928178367012")
    admin_login(page, demo, "ana", "pass-word-123")
    page.goto(f"{demo.url}/admin/templates_mgr/template/build/")
    page.select_option("#id_waba", str(waba.pk))
    page.fill("#id_name", "aviso_entrega")
    page.select_option("#id_category", "UTILITY")
    page.select_option("#id_header_type", "text")
    page.fill("#id_header_text", "Pedido {{1}}")
    page.fill("#id_header_example", "A-1024")
    page.fill("#id_body_text", "Hola {{1}}, tu pedido llega el {{2}}. Gracias por comprar.")
    page.fill("#id_body_example_1", "José")
    expect(page.locator("#wa-preview-body")).to_contain_text("Hola José")
    page.fill("#id_body_example_2", "martes")
    expect(page.locator("#wa-preview-body")).to_contain_text("llega el martes")
    page.select_option("#id_button_1_type", "QUICK_REPLY")
    page.fill("#id_button_1_text", "Confirmar")
    page.select_option("#id_button_2_type", "URL")
    page.fill("#id_button_2_text", "Ver pedido")
    page.fill("#id_button_2_url", "https://example.com/orders/{{1}}")
    page.fill("#id_button_2_url_example", "A-1024")
    screenshot(page, "template-builder", readme=True)
    page.click("#wa-submit")
    page.wait_for_url("**/change/")
    template = Template.objects.get(waba=waba, name="aviso_entrega")
    assert template.status == TemplateStatus.PENDING and template.provider_template_id

    # The sandbox reviews it and calls the portal back with message_template_status_update.
    pump()
    template.refresh_from_db()
    assert template.status == TemplateStatus.APPROVED
    page.reload()
    expect(page.locator("body")).to_contain_text("Approved")

    page.click("#wa-delete-at-provider")
    expect(page.locator("#wa-delete-name")).to_have_text("aviso_entrega")
    page.click("#wa-confirm-delete")
    page.wait_for_load_state()
    template.refresh_from_db()
    assert template.deleted_at is not None
    from sandbox.models import SandboxTemplate

    assert not SandboxTemplate.objects.filter(name="aviso_entrega").exists()
