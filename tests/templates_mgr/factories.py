"""factory_boy factories for templates (a separate file: tests/factories.py belongs to accounts)."""

import factory

from templates_mgr.models import TemplateChange, TemplateStatus
from tests.factories import TemplateFactory as BaseTemplateFactory


def components_example() -> list[dict]:
    """A complete template: text header with a variable, body with two, footer, three buttons."""
    return [
        {"type": "HEADER", "format": "TEXT", "text": "Pedido {{1}}", "example": {"header_text": ["A-1024"]}},
        {
            "type": "BODY",
            "text": "Hola {{1}}, tu pedido llega el *{{2}}*.",
            "example": {"body_text": [["José", "martes"]]},
        },
        {"type": "FOOTER", "text": "Tienda Pruebas"},
        {
            "type": "BUTTONS",
            "buttons": [
                {"type": "QUICK_REPLY", "text": "Gracias"},
                {"type": "URL", "text": "Ver pedido", "url": "https://example.com/orders/{{1}}", "example": ["A-1024"]},
                {"type": "PHONE_NUMBER", "text": "Llamar", "phone_number": "+573001234567"},
            ],
        },
    ]


class TemplateFactory(BaseTemplateFactory):
    """The shared template factory with a complete set of components (header, body, footer, buttons)."""

    provider_template_id = factory.Sequence(lambda n: f"7366097176{n:05d}")
    name = factory.Sequence(lambda n: f"template_{n}")
    components = factory.LazyFunction(components_example)


class TemplateChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TemplateChange

    template = factory.SubFactory(TemplateFactory)
    field = "status"
    old_value = TemplateStatus.PENDING
    new_value = TemplateStatus.APPROVED
    source = TemplateChange.Source.WEBHOOK
