"""One template spec: the composer asks for exactly the values a campaign maps, read with one pattern per provider."""

from __future__ import annotations

import pytest

from campaigns.variables import template_slots
from messaging.admin.composer import template_inputs
from templates_mgr.spec import count_variables, placeholder_pattern, template_spec
from tests.factories import TemplateFactory
from tests.messaging.factories import ContactoVirtualTemplateFactory

pytestmark = pytest.mark.django_db


def composer_slots(template, *, required_only: bool = False) -> list[str]:
    return [item["name"].removeprefix("tpl_") for item in template_inputs(template)
            if item["required"] or not required_only]


def test_an_aldeamo_template_with_url_buttons_asks_the_composer_and_the_campaign_the_same():
    template = TemplateFactory(components=[
        {"type": "HEADER", "format": "TEXT", "text": "Pedido {{1}}"},
        {"type": "BODY", "text": "Hola {{1}}, llega el {{2}}."},
        {"type": "BUTTONS", "buttons": [
            {"type": "URL", "text": "Ver", "url": "https://t.example/{{1}}"},
            {"type": "URL", "text": "Ayuda"},  # the listing gave no URL: not a slot for anyone
        ]},
    ])

    slots = [slot.key for slot in template_slots(template)]

    assert slots == ["header_1", "body_1", "body_2", "button_0"]
    assert composer_slots(template) == slots
    assert [item["label"] for item in template_inputs(template)] == [slot.label for slot in template_slots(template)]


def test_a_contacto_virtual_template_asks_the_composer_and_the_campaign_the_same_variables():
    template = ContactoVirtualTemplateFactory(text="Hola {1}, tu código es { 2 } y vence el {3}.")

    slots = [slot.key for slot in template_slots(template)]

    assert slots == ["body_1", "body_3"]  # "{ 2 }" is no Contacto Virtual placeholder
    assert composer_slots(template, required_only=True) == slots
    assert composer_slots(template) == [*slots, "header_media"]  # the optional media file of a single send
    assert template_spec(template).body_variables == count_variables(template.text, placeholder_pattern(template)) == 2


def test_a_media_header_is_one_slot_and_its_file_name_an_optional_composer_extra():
    template = TemplateFactory(components=[
        {"type": "HEADER", "format": "DOCUMENT"},
        {"type": "BODY", "text": "Su factura {{1}}"},
        {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Gracias"}]},
    ])

    slots = [slot.key for slot in template_slots(template)]

    assert slots == ["header_media", "body_1"]
    assert composer_slots(template, required_only=True) == slots
    assert composer_slots(template) == ["header_media", "header_filename", "body_1", "button_0"]
