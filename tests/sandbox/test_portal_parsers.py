"""Every callback the sandbox emits is understood by the portal's own webhook parsers (no UnknownEvent)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from providers.types import InboundMessage, StatusUpdate, TemplateEvent, UnknownEvent
from sandbox import payloads
from sandbox.delivery import sandbox_deliver_due
from sandbox.models import SandboxAccount, SandboxTemplate
from sandbox.replies import sandbox_customer_reply, sandbox_cv_customer_reply
from sandbox.services_templates import sandbox_template_performance, sandbox_template_set_status

from . import seed_examples as seeds
from .conftest import ALDEAMO_WEBHOOK, BUSINESS, CUSTOMER, CV_WEBHOOK, post_json

aldeamo_webhooks = pytest.importorskip("providers.aldeamo.webhooks")
cv_webhooks = pytest.importorskip("providers.contacto_virtual.webhooks")


def test_everything_emitted_parses(client, aldeamo_headers, creds, account, webhook):
    session, recorder = webhook
    SandboxAccount.objects.filter(pk=account.pk).update(reply_share=1.0, duplicate_share=0.5, failed_share=0.3)
    for service, body, _ in seeds.SENDS:
        post_json(client, f"/sandbox/aldeamo/v1/apikey/{service}/bsp/send", body, aldeamo_headers)
    for _ in range(5):
        client.post(
            "/sandbox/contacto-virtual/send/", {"login": creds.cv_login, "token": creds.cv_token, **seeds.CV_SEND}
        )
    client.post(
        "/sandbox/contacto-virtual/send/",
        {"login": creds.cv_login, "token": creds.cv_token, **seeds.CV_SEND, "media": "https://x.example/a.exe"},
    )
    post_json(client, "/sandbox/aldeamo/v1/apikey/template/createTemplate", seeds.CREATE_TEMPLATE, aldeamo_headers)
    sandbox_template_set_status(
        template=SandboxTemplate.objects.get(name="promo_imagen"), status="REJECTED", reason="SCAM"
    )
    sandbox_template_performance(account=account)
    for kind in payloads.INBOUND_TYPES:
        sandbox_customer_reply(phone_number=BUSINESS, from_number=CUSTOMER, type=kind, deliver=False)
    sandbox_cv_customer_reply(account=account, mobile="573102334455", deliver=False)
    sandbox_deliver_due(now=timezone.now() + timedelta(hours=2), session=session)

    aldeamo_events = [e for p in recorder.posted_to(ALDEAMO_WEBHOOK) for e in aldeamo_webhooks.parse_webhook(p)]
    cv_events = [e for p in recorder.posted_to(CV_WEBHOOK) for e in cv_webhooks.parse_webhook(p)]

    assert not [e for e in aldeamo_events + cv_events if isinstance(e, UnknownEvent)]
    assert {type(e) for e in aldeamo_events} == {StatusUpdate, InboundMessage, TemplateEvent}
    assert {type(e) for e in cv_events} == {StatusUpdate, InboundMessage}
    inbound_types = {e.type for e in aldeamo_events if isinstance(e, InboundMessage)}
    assert inbound_types >= {"text", "image", "video", "audio", "document", "voice", "sticker", "location",
                             "contacts", "interactive", "button", "order"}  # fmt: skip
    statuses = {e.status for e in aldeamo_events + cv_events if isinstance(e, StatusUpdate)}
    assert statuses == {"sent", "delivered", "read", "failed"}
    assert {e.kind for e in aldeamo_events if isinstance(e, TemplateEvent)} == {"status", "category", "performance"}
