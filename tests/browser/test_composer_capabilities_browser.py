"""The composer reads each number's provider capabilities (issue 20), in Chromium against the sandbox.

A Contacto Virtual line (templates per account, a custom field echoed back) and an Aldeamo number (templates per
WABA) show their own templates and fields; nothing in the page names a provider.
"""

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import admin_login, screenshot

ALDEAMO_NUMBER = "573245550101"
CV_LINE = "573001112233"


def visible_templates(page) -> set[str]:
    return set(page.eval_on_selector_all(
        "#id_template option", "options => options.filter(o => o.value && !o.hidden).map(o => o.value)"))


@pytest.mark.django_db(transaction=True)
def test_each_number_shows_its_providers_templates_and_fields(page, demo):
    from accounts.models import PhoneNumber
    from templates_mgr.models import Template, TemplateStatus

    admin_login(page, demo, "ana", "pass-word-123")
    line = PhoneNumber.objects.get(digits=CV_LINE)
    number = PhoneNumber.objects.get(digits=ALDEAMO_NUMBER)
    approved = Template.objects.filter(status=TemplateStatus.APPROVED, deleted_at__isnull=True)
    line_templates = {str(pk) for pk in approved.filter(client=line.client, waba=None).values_list("pk", flat=True)}
    waba_templates = {str(pk) for pk in approved.filter(waba=number.waba).values_list("pk", flat=True)}
    assert line_templates and waba_templates

    page.goto(f"{demo.url}/admin/messaging/message/compose/?from={line.pk}&to=573102334455")
    page.select_option("#id_type", "template")
    expect(page.locator("#id_custom_field")).to_be_visible()
    expect(page.locator("#id_context_message_id")).to_be_hidden()  # no replies in context on this provider
    assert visible_templates(page) == line_templates
    screenshot(page, "composer-contacto-virtual-line")

    page.select_option("#id_phone_number", str(number.pk))
    expect(page.locator("#id_custom_field")).to_be_hidden()
    expect(page.locator("#id_context_message_id")).to_be_visible()
    assert visible_templates(page) == waba_templates
    screenshot(page, "composer-aldeamo-number")
