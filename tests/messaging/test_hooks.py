"""messaging's hooks: what the apps above hear of, once per change, inside the storing transaction."""

from __future__ import annotations

import pytest

from messaging import hooks
from messaging.models import MessageStatus
from tests.messaging.factories_inbound import OutboundMessageFactory, aldeamo_line
from tests.messaging.test_ingest import T0, at, inbound_payload, process, status_payload, store, text_message
from waportal.hooks import Hook

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard():
    calls: dict[str, list] = {"inbound": [], "statuses": []}

    def on_inbound(*, messages):
        calls["inbound"].append([m.provider_message_id for m in messages])

    def on_statuses(*, messages):
        calls["statuses"].append([(m.provider_message_id, m.status) for m in messages])

    hooks.inbound_stored.register(on_inbound)
    hooks.statuses_changed.register(on_statuses)
    yield calls
    hooks.inbound_stored.unregister(on_inbound)
    hooks.statuses_changed.unregister(on_statuses)


def test_a_customer_message_is_heard_once_even_when_redelivered(heard):
    line = aldeamo_line()
    account = line.client.provider_account
    store(account, inbound_payload(text_message("Hola", message_id="wamid.IN1"), origin=line.digits))
    process()
    # The provider delivers it again (another body: the contact's name changed meanwhile).
    store(account, inbound_payload(text_message("Hola", message_id="wamid.IN1"), origin=line.digits, name="Laura"))
    process()
    assert heard["inbound"] == [["wamid.IN1"]]


def test_a_status_moving_forward_is_heard_and_one_that_changes_nothing_is_not(heard):
    line = aldeamo_line()
    message = OutboundMessageFactory(phone_number=line, provider_message_id="prov-1", status=MessageStatus.SENT,
                                     status_at=T0, sent_at=T0)
    account = line.client.provider_account
    store(account, status_payload("prov-1", "delivered", when=at(5), origin=line.digits))
    process()
    store(account, status_payload("prov-1", "sent", when=at(9), origin=line.digits))  # backwards: ignored
    process()
    assert heard["statuses"] == [[("prov-1", MessageStatus.DELIVERED)]]
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED


def test_a_hook_calls_each_receiver_once_in_order():
    hook, seen = Hook("test"), []
    first, second = (lambda **kw: seen.append(("first", kw))), (lambda **kw: seen.append(("second", kw)))
    hook.register(first)
    hook.register(second)
    hook.register(first)
    hook.fire(x=1)
    assert seen == [("first", {"x": 1}), ("second", {"x": 1})]
