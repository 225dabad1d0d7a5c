"""factory_boy factories shared by the test packages (app-specific ones live beside their tests)."""

import factory
from django.contrib.auth import get_user_model

from accounts.models import (
    Client,
    Membership,
    PhoneNumber,
    ProviderAccount,
    Role,
    WhatsAppBusinessAccount,
)
from templates_mgr.models import Template, TemplateCategory, TemplateStatus


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    is_staff = True
    password = factory.django.Password("pass-word-123")


class ProviderAccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProviderAccount

    name = factory.Sequence(lambda n: f"Account {n}")
    provider = "aldeamo"
    base_url = "https://aldeamo.invalid"
    user_id = "3777"
    api_key = factory.Sequence(lambda n: f"api-key-secret-{n:04d}")
    analytics_token = factory.Sequence(lambda n: f"isv-token-secret-{n:04d}")


class ContactoVirtualAccountFactory(ProviderAccountFactory):
    provider = "contacto_virtual"
    base_url = "https://cv.invalid/ws/"
    user_id = ""
    api_key = ""
    analytics_token = ""
    login = factory.Sequence(lambda n: f"demo{n}@example.com")
    token = factory.Sequence(lambda n: f"cv-token-secret-{n:04d}")
    line_number = "573001234567"


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    provider_account = factory.SubFactory(ProviderAccountFactory)
    client_id = factory.Sequence(lambda n: str(900 + n))
    name = factory.Sequence(lambda n: f"Business {n}")


class WabaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WhatsAppBusinessAccount

    client = factory.SubFactory(ClientFactory)
    waba_id = factory.Sequence(lambda n: f"2369281783{n:05d}")
    namespace = "f29c496f_9a16_408b_bff7_379e57d1c8d5"


class PhoneNumberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhoneNumber

    waba = factory.SubFactory(WabaFactory)
    client = factory.SelfAttribute("waba.client")
    phone_number_id = factory.Sequence(lambda n: f"2254891632{n:07d}")
    digits = factory.Sequence(lambda n: f"57300{n:07d}")
    display_phone_number = factory.LazyAttribute(lambda p: f"+57 {p.digits[2:]}")
    verified_name = "Pruebas"
    quality_rating = "GREEN"


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    client = factory.SubFactory(ClientFactory)
    role = Role.ADMIN


def body_template_components(variables: int = 1) -> list[dict]:
    """getTemplates components of a body-only template with ``variables`` placeholders."""
    text = "Hola " + " ".join(f"{{{{{n}}}}}" for n in range(1, variables + 1))
    return [{"type": "BODY", "text": text, "format": None, "url": None, "buttons": None}]


class TemplateFactory(factory.django.DjangoModelFactory):
    """An approved Aldeamo template of a WABA (a body with one variable unless told otherwise)."""

    class Meta:
        model = Template

    waba = factory.SubFactory(WabaFactory)
    client = factory.SelfAttribute("waba.client")
    provider_template_id = factory.Sequence(lambda n: f"73660971{n:07d}")
    name = factory.Sequence(lambda n: f"send_template_{n}")
    language = "es"
    category = TemplateCategory.UTILITY
    status = TemplateStatus.APPROVED
    components = factory.LazyFunction(body_template_components)
