"""Every provider word a person reads is translated: no ACCOUNT_UPDATE, NOT_VERIFIED or "Enviado template".

The pages are rendered in Spanish with the provider's raw values in the data (a legacy template category, an
unverified number, a quality change, a category-change alert, a sent template); the text a person sees (tags,
attributes and scripts left out) carries no SCREAMING_CASE word.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone, translation

from accounts.models import Role
from messaging.models import Direction, Message
from notifications.alerts import alert_raise
from notifications.models import AlertKind, InventoryChange
from templates_mgr.models import TemplateChange
from tests.factories import TemplateFactory
from tests.messaging.factories import ConversationFactory, MessageFactory, member
from waportal.words import choice_label, humanise, word

pytestmark = pytest.mark.django_db

SCREAMING = re.compile(r"\b[A-Z]{2,}(?:_[A-Z]{2,})+\b")


class VisibleText(HTMLParser):
    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "textarea"):
            self.skip += 1
        # A title or an option is read too.
        for name, value in attrs:
            if name in ("title", "aria-label", "placeholder") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "textarea"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def visible(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def test_the_words_module_translates_and_humanises_the_rest():
    with translation.override("es"):
        assert word("template_category", "ACCOUNT_UPDATE") == "Actualización de cuenta"
        assert word("code_verification", "NOT_VERIFIED") == "No verificado"
        assert word("quality", "GREEN") == "Alta (verde)"
        assert word("template_category", "SOMETHING_NEW") == "Something new"
        from notifications.models import EventType

        assert choice_label(EventType, "conversation.unknown_thing") == "Conversation unknown thing"
    assert humanise("ACCOUNT_UPDATE") == "Account update" and word("quality", "") == ""


@pytest.fixture
def staff(number):
    user = member(number, Role.ADMIN)
    get_user_model().objects.filter(pk=user.pk).update(is_staff=True)
    user.refresh_from_db()
    return user


def test_pages_in_spanish_show_no_raw_provider_word(client, staff, number):
    number.code_verification_status = "NOT_VERIFIED"
    number.quality_rating = "YELLOW"
    number.save()
    template = TemplateFactory(waba=number.waba, client=number.client, category="ACCOUNT_UPDATE",
                               quality_score="GREEN", name="aviso_pago")
    TemplateChange.objects.create(template=template, field="category", old_value="ACCOUNT_UPDATE",
                                  new_value="UTILITY", source="sync")
    InventoryChange.objects.create(client=number.client, phone_number=number, field="code_verification_status",
                                   old_value="VERIFIED", new_value="NOT_VERIFIED",
                                   at=timezone.now())
    alert_raise(client_id=number.client_id, kind=AlertKind.TEMPLATE_CATEGORY, object_key="t",
                params={"name": "aviso_pago", "language": "es", "old": "ACCOUNT_UPDATE", "new": "UTILITY"})
    conversation = ConversationFactory(phone_number=number)
    sent = MessageFactory(phone_number=number, conversation=conversation, type="template", template=template,
                          direction=Direction.OUTBOUND, content={"name": "aviso_pago"})
    client.force_login(staff)
    pages = [
        "/admin/templates_mgr/template/", f"/admin/templates_mgr/template/{template.pk}/change/",
        "/admin/accounts/phonenumber/", "/admin/notifications/inventorychange/", "/admin/notifications/alertreceipt/",
        f"/admin/messaging/message/{sent.pk}/change/", "/", f"/c/{conversation.pk}/", "/settings/",
    ]
    for path in pages:
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="es")
        assert response.status_code == 200, path
        text = visible(response.content.decode())
        found = SCREAMING.findall(text)
        assert not found, (path, [text[max(0, m.start() - 120):m.end() + 20] for m in SCREAMING.finditer(text)])
        assert "Enviado template" not in text and "UTILITY" not in text, path
    template_page = visible(client.get("/admin/templates_mgr/template/", HTTP_ACCEPT_LANGUAGE="es").content.decode())
    assert "Actualización de cuenta" in template_page
    assert "No verificado" in visible(client.get("/admin/accounts/phonenumber/",
                                                 HTTP_ACCEPT_LANGUAGE="es").content.decode())
    alerts = visible(client.get("/admin/notifications/alertreceipt/", HTTP_ACCEPT_LANGUAGE="es").content.decode())
    assert "aviso_pago" in alerts and "Actualización de cuenta" in alerts
    with translation.override("es"):
        assert str(Message.objects.get(pk=sent.pk)).startswith("Plantilla enviada a +")
