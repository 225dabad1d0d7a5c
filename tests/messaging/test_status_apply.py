"""One status_apply: a send's outcome, its early status events and webhooks move a message by the same rule."""

from __future__ import annotations

import pytest

from messaging.models import Message, MessageStatus, StatusEvent
from messaging.sending import message_send
from messaging.webhooks.statuses import status_apply, status_events_link
from providers.base import ProviderAuthError, ProviderTimeout
from providers.types import SendResult
from tests.messaging.factories import MessageFactory, open_window

pytestmark = pytest.mark.django_db

CUSTOMER = "573131234567"

LONG_CODE = "E" * 40


def send_text(agent, number) -> Message:
    return message_send(actor=agent, phone_number=number, to=CUSTOMER, type="text", content={"body": "Hola"})


def early_event(number, provider_id: str, status: str, **fields) -> StatusEvent:
    """A status webhook that arrived before its message's send was answered (no timestamp in the payload).

    Its error code is stored cut to the column, as ``statuses_apply`` stores it (PostgreSQL refuses longer).
    """
    if "error_code" in fields:
        fields["error_code"] = fields["error_code"][:32]
    return StatusEvent.objects.create(provider_account=number.client.provider_account,
                                      provider_message_id=provider_id, status=status, timestamp=None, **fields)


def test_early_events_attached_by_the_send_follow_the_webhook_rule(number, agent, fake):
    open_window(number, CUSTOMER)
    fake.script = [SendResult(message_id="wamid.EARLY", id_kind="whatsapp")]
    delivered = early_event(number, "wamid.EARLY", "delivered")
    failed = early_event(number, "wamid.EARLY", "failed", error_code=LONG_CODE, error_title="No entregado")

    message = send_text(agent, number)

    delivered.refresh_from_db()
    failed.refresh_from_db()
    assert delivered.message_id == failed.message_id == message.pk
    assert message.status == MessageStatus.FAILED
    # A status without a timestamp counts from when it was stored, as the webhook path does.
    assert message.delivered_at == delivered.created_at
    assert message.failed_at == failed.created_at
    # The code is cut to its column on every path.
    assert message.error_code == LONG_CODE[:32]
    assert Message.objects.get(pk=message.pk).error_code == LONG_CODE[:32]


def test_the_same_early_events_linked_later_give_the_same_message(number, agent):
    message = MessageFactory(phone_number=number, client=number.client, provider_message_id="wamid.LATE",
                             status=MessageStatus.SENT)
    early_event(number, "wamid.LATE", "delivered")
    early_event(number, "wamid.LATE", "failed", error_code=LONG_CODE, error_title="No entregado")

    assert status_events_link(message=message) == 2

    assert message.status == MessageStatus.FAILED
    assert message.error_code == LONG_CODE[:32]
    assert message.delivered_at is not None


@pytest.mark.parametrize("first_hand", [False, True])
def test_status_apply_cuts_the_error_code_on_both_paths(first_hand):
    message = Message(status=MessageStatus.SENDING)

    assert status_apply(message, status=MessageStatus.FAILED, at=None, error_code=LONG_CODE, error_title="x",
                        first_hand=first_hand)

    assert message.error_code == LONG_CODE[:32]


def test_a_reported_status_outside_the_applicable_ones_moves_nothing():
    message = Message(status=MessageStatus.SENT)

    assert status_apply(message, status=MessageStatus.UNKNOWN, at=None, error_title="?") is False
    assert message.status == MessageStatus.SENT


# --- the error kind ---------------------------------------------------------------------------------------------------


def test_a_refused_send_keeps_the_error_kind(number, agent, fake):
    open_window(number, CUSTOMER)
    fake.script = [ProviderAuthError("Unauthorized", status=401)]

    message = send_text(agent, number)

    assert message.status == MessageStatus.FAILED
    assert message.error_kind == "auth" == Message.objects.get(pk=message.pk).error_kind


def test_an_unknown_outcome_keeps_the_error_kind_and_a_later_failure_replaces_it(number, agent, fake):
    open_window(number, CUSTOMER)
    fake.script = [ProviderTimeout("read timeout")]

    message = send_text(agent, number)

    assert (message.status, message.error_kind) == (MessageStatus.UNKNOWN, "timeout")
    status_apply(message, status=MessageStatus.FAILED, at=None, error_code="131026", error_title="Undeliverable")
    assert (message.error_code, message.error_kind) == ("131026", "")


def test_the_api_shows_the_error_kind(number, agent, fake, client):
    open_window(number, CUSTOMER)
    fake.script = [ProviderAuthError("Unauthorized", status=401)]
    message = send_text(agent, number)
    client.force_login(agent)

    response = client.get(f"/api/v1/messages/{message.pk}/")

    assert response.status_code == 200, response.content
    assert response.json()["error_kind"] == "auth"
