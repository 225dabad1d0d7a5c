"""The sandbox admin: pages load, template decisions, customer replies, fault flipping."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sandbox import delivery
from sandbox.models import (
    CallbackState,
    SandboxAccount,
    SandboxCallback,
    SandboxMessage,
    SandboxPhoneNumber,
    SandboxTemplate,
)

from . import seed_examples as seeds
from .conftest import BUSINESS, CUSTOMER, post_json

MODELS = [
    "sandboxaccount",
    "sandboxclient",
    "sandboxwaba",
    "sandboxphonenumber",
    "sandboxtemplate",
    "sandboxcvtemplate",
    "sandboxmessage",
    "sandboxcallback",
    "sandboxanalyticspoint",
]


@pytest.fixture
def recorded(_no_network):
    """Callbacks posted from the admin go to the recording fake portal."""
    return _no_network


@pytest.mark.parametrize("model", MODELS)
def test_changelists_and_change_pages_load(admin_client, account, model):
    response = admin_client.get(reverse(f"admin:sandbox_{model}_changelist"))
    assert response.status_code == 200
    from django.apps import apps

    obj = apps.get_model("sandbox", model).objects.first()
    if obj is not None:
        assert admin_client.get(reverse(f"admin:sandbox_{model}_change", args=[obj.pk])).status_code == 200


def _action(admin_client, model: str, action: str, pks: list[int], **extra):
    return admin_client.post(
        reverse(f"admin:sandbox_{model}_changelist"), {"action": action, "_selected_action": pks, **extra}
    )


def test_approve_action_posts_the_status_event(admin_client, account, recorded):
    template = SandboxTemplate.objects.get(name="promo_imagen")
    _action(admin_client, "sandboxtemplate", "approve", [template.pk])
    delivery.sandbox_deliver_due()

    template.refresh_from_db()
    assert template.status == "APPROVED"
    assert recorded.payloads[-1]["value"]["event"] == "APPROVED"


def test_reject_action_asks_for_a_reason(admin_client, account, recorded):
    template = SandboxTemplate.objects.get(name="promo_imagen")
    page = _action(admin_client, "sandboxtemplate", "reject", [template.pk])
    assert page.status_code == 200 and b"PROMOTIONAL" in page.content

    _action(admin_client, "sandboxtemplate", "reject", [template.pk], apply="1", reason="PROMOTIONAL")
    delivery.sandbox_deliver_due()
    template.refresh_from_db()
    assert (template.status, template.rejected_reason) == ("REJECTED", "PROMOTIONAL")
    assert recorded.payloads[-1]["value"]["reason"] == "PROMOTIONAL"


def test_pause_disable_and_recategorize(admin_client, account, recorded):
    template = SandboxTemplate.objects.get(name="factura_pdf")
    _action(admin_client, "sandboxtemplate", "pause", [template.pk])
    _action(admin_client, "sandboxtemplate", "flip_category", [template.pk])
    delivery.sandbox_deliver_due()
    template.refresh_from_db()
    assert (template.status, template.category) == ("PAUSED", "MARKETING")
    assert [p["field"] for p in recorded.payloads] == ["message_template_status_update", "template_category_update"]


def test_customer_reply_page(admin_client, account, aldeamo_headers, client, recorded):
    post_json(client, "/sandbox/aldeamo/v1/apikey/interactive/bsp/send", seeds.LIST, aldeamo_headers)
    phone = SandboxPhoneNumber.objects.get(number=BUSINESS)
    url = reverse("admin:sandbox_sandboxphonenumber_customer_reply", args=[phone.pk])

    page = admin_client.get(url)
    assert page.status_code == 200 and CUSTOMER.encode() in page.content
    response = admin_client.post(url, {"type": "list_reply", "from_number": CUSTOMER, "context_id": ""})

    assert response.status_code == 302
    interactive = recorded.payloads[-1]["messages"][0]["interactive"]
    assert interactive["type"] == "list_reply" and interactive["list_reply"]["id"].startswith("<ID")
    invalid = admin_client.post(url, {"type": "reply", "from_number": "573009999999"})
    assert invalid.status_code == 200 and b"reply needs" in invalid.content


def test_message_action_makes_the_customer_answer(admin_client, account, aldeamo_headers, client, creds, recorded):
    post_json(client, "/sandbox/aldeamo/v1/apikey/text/bsp/send", seeds.TEXT, aldeamo_headers)
    client.post("/sandbox/contacto-virtual/send/", {"login": creds.cv_login, "token": creds.cv_token, **seeds.CV_SEND})
    pks = list(SandboxMessage.objects.values_list("pk", flat=True))
    _action(admin_client, "sandboxmessage", "customer_replies", pks)

    kinds = sorted("messages" in p for p in recorded.payloads)
    assert kinds == [False, True]
    cv_reply = next(p for p in recorded.payloads if "custom_field" in p)
    assert cv_reply["custom_field"] == "1234-5678-912554"


def test_fault_injection_is_editable_from_the_list(admin_client, account):
    response = admin_client.post(
        reverse("admin:sandbox_sandboxaccount_changelist"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(account.pk),
            "form-0-latency_ms": "250",
            "form-0-error_share": "0.1",
            "form-0-rate_limit_share": "0.05",
            "form-0-timeout_share": "0",
            "form-0-failed_share": "0.05",
            "form-0-reply_share": "0.3",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.latency_ms, account.error_share, account.rate_limit_share) == (250, 0.1, 0.05)
    _action(admin_client, "sandboxaccount", "clear_faults", [account.pk])
    account.refresh_from_db()
    assert (account.latency_ms, account.error_share) == (0, 0)


def test_callback_actions(admin_client, account, aldeamo_headers, client, recorded):
    SandboxAccount.objects.filter(pk=account.pk).update(status_delay_seconds=60)
    post_json(client, "/sandbox/aldeamo/v1/apikey/text/bsp/send", seeds.TEXT, aldeamo_headers)
    first = SandboxCallback.objects.order_by("due_at").first()
    _action(admin_client, "sandboxcallback", "deliver_now", [first.pk])
    first.refresh_from_db()
    assert first.state == CallbackState.DELIVERED

    SandboxCallback.objects.filter(pk=first.pk).update(state=CallbackState.FAILED)
    _action(admin_client, "sandboxcallback", "retry", [first.pk])
    assert len(recorded.requests) == 2
