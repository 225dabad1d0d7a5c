"""The provider registry and the one contract every registered provider keeps."""

import pytest
from django.utils.translation import override

from providers import registry
from providers.contract import ProviderClient, ProviderSpec
from providers.types import SendRequest, TemplateRef

SPECS = registry.all_specs()


def test_the_installed_providers_and_the_test_only_third_are_registered():
    assert {spec.id for spec in SPECS} == {"aldeamo", "contacto_virtual", "relay"}
    assert ("relay", "Relay") in registry.choices()


def test_an_unknown_id_is_a_clear_lookup_error():
    with pytest.raises(registry.UnknownProvider):
        registry.spec("no-such-provider")


def test_two_packages_cannot_claim_one_id():
    class Impostor(ProviderSpec):
        id = "aldeamo"
        name = "Impostor"

    with pytest.raises(ValueError, match="aldeamo"):
        registry.register(Impostor)
    assert type(registry.spec("aldeamo")).__name__ == "AldeamoProvider"


@pytest.mark.parametrize("spec", SPECS, ids=lambda spec: spec.id)
def test_every_provider_declares_what_the_portal_needs(spec):
    assert set(spec.base_urls) == {"test", "production"}
    assert all(url.startswith("https://") for url in spec.base_urls.values())
    assert registry.by_webhook_slug(spec.webhook_slug) is spec
    assert str(spec.name)
    assert spec.capabilities.inventory in ("isv", "single_line")
    assert spec.capabilities.template_parameters in ("components", "positional")
    client = spec.client(base_url=spec.base_urls["test"], credentials={f.name: "x" for f in spec.credential_fields})
    assert isinstance(client, ProviderClient)
    client.session.close()


def test_webhook_slugs_are_unique():
    slugs = [spec.webhook_slug for spec in SPECS]
    assert len(slugs) == len(set(slugs))


def test_capability_lookups_filter_by_value():
    assert registry.with_capability("analytics") == ["aldeamo"]
    assert set(registry.with_capability("free_form_sends", False)) == {"contacto_virtual"}


def test_aldeamo_prepares_the_manuals_template_body():
    client = registry.spec("aldeamo").client(base_url="https://a.example", credentials={"api_key": "k", "user_id": "u"})
    prepared = client.prepare(SendRequest(
        from_number="573001112233", to="573009998877", type="template",
        template=TemplateRef(name="promo", language="es", namespace="ns-1", components=[{"type": "body"}])))
    assert prepared.stored == {
        "from": "573001112233", "to": "573009998877", "type": "template", "recipient_type": "individual",
        "template": {"namespace": "ns-1", "language": {"policy": "deterministic", "code": "es"}, "name": "promo",
                     "components": [{"type": "body"}]}}
    assert prepared.content == prepared.stored["template"]


def test_contacto_virtual_prepares_the_form_with_the_token_masked():
    client = registry.spec("contacto_virtual").client(base_url="https://cv.example",
                                                       credentials={"login": "me", "token": "secret-token"})
    prepared = client.prepare(SendRequest(
        from_number="573001112233", to="573009998877", type="template", custom_field="c-1",
        template=TemplateRef(name="promo", provider_template_id="990", variables=("Ana", "10%"))))
    assert prepared.stored == {"login": "me", "token": "********", "id_template": "990", "mobile": "573009998877",
                               "template_variables": "[Ana] [10%]", "custom_field": "c-1"}
    assert prepared.wire.variables == ("Ana", "10%") and "secret-token" not in str(prepared.stored)
    assert prepared.content == {"id": "990", "name": "promo"}


def test_template_statuses_are_normalised_by_each_provider():
    assert registry.spec("aldeamo").template_status("approved") == "APPROVED"
    assert registry.spec("aldeamo").template_status("weird") == "UNKNOWN"
    assert registry.spec("contacto_virtual").template_status("success") == "APPROVED"
    assert registry.spec("contacto_virtual").template_status("Rechazada") == "REJECTED"


@override("en")
def test_error_code_words_come_from_the_providers_own_tables():
    assert "24 hours" in registry.spec("aldeamo").code_words("131047")
    assert "balance" in registry.spec("contacto_virtual").code_words("5")
    assert registry.spec("contacto_virtual").code_words("999") == ""
