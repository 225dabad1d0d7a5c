"""Aldeamo templates: getTemplates (the singular is a 404), createTemplate with its review, deleteTemplate."""

from __future__ import annotations

import copy
from datetime import timedelta

import pytest
from django.utils import timezone

from sandbox.delivery import sandbox_deliver_due
from sandbox.models import CallbackState, SandboxCallback, SandboxTemplate
from sandbox.services_templates import sandbox_template_set_status

from . import seed_examples as seeds
from .conftest import ALDEAMO_WEBHOOK, post_json

BASE = "/sandbox/aldeamo/v1/apikey/template/"
WABA = "236928178367012"


def _templates(client, headers, path="getTemplates", **params):
    return client.get(BASE + path, {"limit": 50, "wabaid": WABA, **params}, headers=headers)


def test_get_templates_answers_the_seed_shape(client, aldeamo_headers):
    response = _templates(client, aldeamo_headers)

    assert response.status_code == 200
    data = response.json()
    assert list(data) == ["status", "reason", "data"] and data["status"] == 200 and data["reason"] == "OK"
    seed_template = seeds.GET_TEMPLATE_ANSWER["data"]["templates"][0]
    listed = {t["name"]: t for t in data["data"]["templates"]}
    assert listed["actualiza_botones"] == seed_template
    for template in data["data"]["templates"]:
        assert list(template) == list(seed_template)
        for component in template["components"]:
            assert list(component) == ["type", "text", "format", "url", "buttons", "example"]
            assert component["type"] in ("HEADER", "BODY", "FOOTER", "BUTTONS")
            for button in component["buttons"] or []:
                assert list(button) == ["type", "text", "phone_number"]


def test_the_singular_get_template_is_a_404_as_on_a_real_server(client, aldeamo_headers):
    # Seed 000 l.2353/2359: the PDF wrapped "getTemplates"; the singular is the misreading.
    assert _templates(client, aldeamo_headers, "getTemplate").status_code == 404


def test_demo_templates_cover_every_status_and_component_kind(client, aldeamo_headers):
    templates = []
    for waba in (WABA, "246351444217940"):
        templates += _templates(client, aldeamo_headers, wabaid=waba).json()["data"]["templates"]
    assert {t["status"] for t in templates} == {"APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED"}
    components = [c for t in templates for c in t["components"]]
    assert {c["format"] for c in components if c["type"] == "HEADER"} >= {"TEXT", "IMAGE", "DOCUMENT"}
    assert any(c["type"] == "FOOTER" for c in components)
    buttons = {b["type"] for c in components for b in c["buttons"] or []}
    assert buttons == {"QUICK_REPLY", "URL", "PHONE_NUMBER"}
    rejected = SandboxTemplate.objects.get(status="REJECTED")
    assert rejected.rejected_reason


def test_limit_and_waba_checks(client, aldeamo_headers):
    assert len(_templates(client, aldeamo_headers, limit=2).json()["data"]["templates"]) == 2
    assert _templates(client, aldeamo_headers, limit="two").status_code == 400
    response = _templates(client, aldeamo_headers, wabaid="999")
    assert response.status_code == 400 and response.json() == {"errors": ["Bad Request"]}
    assert _templates(client, {"ApiKey": "x", "UserId": "y"}).status_code == 401


def test_create_template_seed_example_starts_pending_then_is_approved_lazily(client, aldeamo_headers, account):
    response = post_json(client, BASE + "createTemplate", seeds.CREATE_TEMPLATE, aldeamo_headers)

    assert response.status_code == 200
    assert list(response.json()) == ["id"]
    template = SandboxTemplate.objects.get(template_id=response.json()["id"])
    assert template.status == "PENDING" and template.category == "ISSUE_RESOLUTION"
    listed = {t["name"]: t for t in _templates(client, aldeamo_headers).json()["data"]["templates"]}
    assert listed["delete_test_14"]["status"] == "PENDING"

    SandboxTemplate.objects.filter(pk=template.pk).update(review_due_at=timezone.now() - timedelta(seconds=1))
    listed = {t["name"]: t for t in _templates(client, aldeamo_headers).json()["data"]["templates"]}
    assert listed["delete_test_14"]["status"] == "APPROVED"
    assert listed["delete_test_14"]["category"] == "UTILITY"  # the legacy category is moved


def test_created_template_is_decided_by_its_callback_too(client, aldeamo_headers, account, webhook):
    session, recorder = webhook
    body = {**seeds.CREATE_TEMPLATE, "name": "please_reject_me", "category": "MARKETING"}
    template_id = post_json(client, BASE + "createTemplate", body, aldeamo_headers).json()["id"]

    assert sandbox_deliver_due(session=session) == 0  # not due yet
    sandbox_deliver_due(now=timezone.now() + timedelta(minutes=2), session=session)

    template = SandboxTemplate.objects.get(template_id=template_id)
    assert (template.status, template.rejected_reason) == ("REJECTED", "INVALID_FORMAT")
    [event] = recorder.posted_to(ALDEAMO_WEBHOOK)
    assert event == {
        "field": "message_template_status_update",
        "value": {
            "event": "REJECTED",
            "message_template_id": int(template_id),
            "message_template_name": "please_reject_me",
            "message_template_language": "en_US",
            "reason": "INVALID_FORMAT",
        },
    }
    assert set(event["value"]) == set(seeds.TEMPLATE_STATUS_EVENT["value"])


def test_approval_of_a_legacy_category_posts_status_then_category_events(client, aldeamo_headers, webhook):
    session, recorder = webhook
    template_id = post_json(client, BASE + "createTemplate", seeds.CREATE_TEMPLATE, aldeamo_headers).json()["id"]
    sandbox_deliver_due(now=timezone.now() + timedelta(minutes=2), session=session)

    status_event, category_event = recorder.payloads
    assert status_event["value"]["event"] == "APPROVED" and status_event["value"]["reason"] is None
    assert category_event["field"] == "template_category_update"
    assert set(category_event["value"]) == set(seeds.TEMPLATE_CATEGORY_EVENT["value"])
    assert category_event["value"]["previous_category"] == "ISSUE_RESOLUTION"
    assert category_event["value"]["new_category"] == "UTILITY"
    assert SandboxTemplate.objects.get(template_id=template_id).category == "UTILITY"


def test_a_person_deciding_first_cancels_the_automatic_review(client, aldeamo_headers, webhook):
    session, recorder = webhook
    template_id = post_json(client, BASE + "createTemplate", seeds.CREATE_TEMPLATE, aldeamo_headers).json()["id"]
    template = SandboxTemplate.objects.get(template_id=template_id)

    sandbox_template_set_status(template=template, status="REJECTED", reason="PROMOTIONAL")
    sandbox_deliver_due(now=timezone.now() + timedelta(minutes=2), session=session)

    template.refresh_from_db()
    assert (template.status, template.rejected_reason) == ("REJECTED", "PROMOTIONAL")
    assert [p["value"].get("event") for p in recorder.payloads if p["field"].endswith("status_update")] == ["REJECTED"]
    assert SandboxCallback.objects.filter(template=template, state=CallbackState.CANCELLED).exists()


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Con Mayúsculas"},
        {"name": ""},
        {"category": ""},
        {"language": "spanish"},
        {"wabaId": "999"},
        {"components": []},
        {"components": [{"type": "FOOTER", "text": "sin cuerpo"}]},
        {"components": [{"type": "BODY", "text": "x"}, {"type": "HEADER", "format": "GIF"}]},
        {"components": [{"type": "BODY", "text": "x"}, {"type": "BUTTONS", "buttons": [{"type": "CALL"}]}]},
    ],
)
def test_create_template_refuses_invalid_bodies(client, aldeamo_headers, change):
    response = post_json(
        client, BASE + "createTemplate", {**copy.deepcopy(seeds.CREATE_TEMPLATE), **change}, aldeamo_headers
    )
    assert response.status_code == 400 and response.json() == {"errors": ["Bad Request"]}


def test_create_template_refuses_a_duplicate_name_and_language(client, aldeamo_headers):
    assert post_json(client, BASE + "createTemplate", seeds.CREATE_TEMPLATE, aldeamo_headers).status_code == 200
    assert post_json(client, BASE + "createTemplate", seeds.CREATE_TEMPLATE, aldeamo_headers).status_code == 400


def test_delete_template(client, aldeamo_headers):
    url = BASE + "deleteTemplate?nameTemplate=factura_pdf&wabaid=" + WABA
    response = client.delete(url, headers=aldeamo_headers)

    assert response.status_code == 200 and response.json() == {"success": True}
    assert not SandboxTemplate.objects.filter(name="factura_pdf").exists()
    again = client.delete(url, headers=aldeamo_headers)
    assert again.status_code == 400 and again.json() == {"errors": ["Bad Request"]}
    assert client.delete(url, headers={"ApiKey": "x", "UserId": "y"}).status_code == 401
    assert client.get(url, headers=aldeamo_headers).status_code == 405
