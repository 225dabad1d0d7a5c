"""The batch path of the send service (campaigns): stored together, sent one by one, never twice, outcomes kept.

A fake provider client stands in for the adapter (``tests/messaging/conftest.py``); the statements each step
costs are counted, since the batch exists to keep them from growing with the number of messages.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from messaging.models import Contact, Conversation, Message, MessageStatus, StatusEvent
from messaging.sending import BatchItem, TemplateBatch
from providers.base import ProviderRejected, ProviderTimeout, ProviderUnavailable
from providers.contacto_virtual.client import TOKEN_MASK
from providers.types import OutboundMessage, SendResult, TemplateSend
from tests.factories import TemplateFactory
from tests.messaging.factories import ContactoVirtualTemplateFactory, contacto_virtual_number
from waportal.errors import ApplicationError

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def template(number):
    return TemplateFactory(waba=number.waba, name="aviso", components=[{"type": "BODY", "text": "Hola {{1}}."}])


def items(template, count: int, *, start: int = 0, prefix: str = "k") -> list[BatchItem]:
    return [
        BatchItem(to=f"57313{start + i:07d}", idempotency_key=f"{prefix}:{start + i}", content={
            "name": template.name, "language": {"code": "es"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": f"Cliente {start + i}"}]}]})
        for i in range(count)
    ]


def send_all(batch: TemplateBatch, stored) -> list[Message]:
    sent = [batch.send(message) for message in stored if message.status == MessageStatus.QUEUED]
    batch.finish()
    return sent


def test_a_chunk_is_stored_queued_in_a_few_statements_whatever_its_size(number, template, fake):
    counts = []
    for size in (5, 40):
        batch = TemplateBatch(phone_number=number, template=template)
        with CaptureQueriesContext(connection) as queries:
            stored = batch.store(items(template, size, start=size * 1000))
        counts.append(len(queries))
        assert all(m.status == MessageStatus.QUEUED and m.replayed is False for m in stored)
    # Existing keys, contacts and conversations (look up, insert the missing, read their ids), the messages,
    # the conversations' last activity; a savepoint around the writes (the test runs in a transaction).
    assert counts[0] == counts[1] <= 11, counts
    assert Message.objects.filter(status=MessageStatus.QUEUED).count() == 45
    assert Contact.objects.count() == 45 and Conversation.objects.count() == 45
    conversation = Conversation.objects.get(contact__wa_id="573130005000")
    assert conversation.last_message_preview == "📝 Hola Cliente 5000." and conversation.last_message_at
    # Each conversation its own text, in the same statement.
    assert Conversation.objects.get(contact__wa_id="573130040039").last_message_preview == "📝 Hola Cliente 40039."
    assert not fake.sent  # storing sends nothing


def test_each_send_is_one_statement_and_records_the_previous_outcome(number, template, fake):
    batch = TemplateBatch(phone_number=number, template=template)
    stored = batch.store(items(template, 3))
    with CaptureQueriesContext(connection) as queries:
        first = batch.send(stored[0])
    assert len(queries) == 1
    assert first.status == MessageStatus.SENT and first.provider_message_id and first.sent_at
    # Not written yet (it rides with the next statement) ...
    assert Message.objects.get(pk=first.pk).status == MessageStatus.SENDING
    with CaptureQueriesContext(connection) as queries:
        batch.send(stored[1])
    assert len(queries) == 1
    # ... which records it: a crash now would lose at most the answer in flight.
    recorded = Message.objects.get(pk=first.pk)
    assert recorded.status == MessageStatus.SENT and recorded.provider_message_id == first.provider_message_id
    assert recorded.sent_at == first.sent_at
    assert Message.objects.get(pk=stored[1].pk).status == MessageStatus.SENDING
    batch.send(stored[2])
    batch.finish()
    assert set(Message.objects.values_list("status", flat=True)) == {MessageStatus.SENT}
    wire = fake.sent[0]
    assert isinstance(wire, OutboundMessage) and wire.type == "template" and wire.to == "573130000000"
    assert wire.content["namespace"] == number.waba.namespace
    assert wire.content["components"][0]["parameters"][0]["text"] == "Cliente 0"
    message = Message.objects.get(pk=first.pk)
    assert message.request_body["template"]["name"] == "aviso" and message.idempotency_key == "k:0"


def test_sends_leaving_together_are_all_marked_sending_in_one_statement_before_any_call(number, template, fake):
    batch = TemplateBatch(phone_number=number, template=template)
    stored = batch.store(items(template, 4))
    batch.send(stored[0])  # an answer waiting to be recorded rides with the group's statement
    Message.objects.filter(pk=stored[3].pk).update(status=MessageStatus.SENDING)  # another worker took it
    with CaptureQueriesContext(connection) as queries:
        calls = batch.begin_many(stored[1:])
    assert len(queries) == 2  # the one UPDATE, then the lookup of the message another worker took
    assert not [wire for wire in fake.sent if wire.to != "573130000000"]  # no call made yet ...
    statuses = dict(Message.objects.values_list("pk", "status"))
    assert statuses[stored[0].pk] == MessageStatus.SENT  # ... the previous answer recorded ...
    assert statuses[stored[1].pk] == statuses[stored[2].pk] == MessageStatus.SENDING  # ... and both marked
    assert isinstance(calls[2], Message) and calls[2].replayed  # taken elsewhere: linked, no call
    for message, call in zip(stored[1:3], calls[:2], strict=True):
        batch.complete(message, call())
    batch.finish()
    assert [wire.to for wire in fake.sent] == ["573130000000", "573130000001", "573130000002"]
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 3


def test_a_key_already_sent_is_returned_not_sent_again(number, template, fake):
    batch = TemplateBatch(phone_number=number, template=template)
    send_all(batch, batch.store(items(template, 4)))
    again = TemplateBatch(phone_number=number, template=template).store(items(template, 4))
    assert [m.status for m in again] == [MessageStatus.SENT] * 4 and all(m.replayed for m in again)
    assert len(fake.sent) == 4 and Message.objects.count() == 4


def test_a_changed_request_under_a_used_key_is_refused(number, template, fake):
    batch = TemplateBatch(phone_number=number, template=template)
    send_all(batch, batch.store(items(template, 1)))
    changed = items(template, 1)[0]
    changed.content["components"][0]["parameters"][0]["text"] = "Otra persona"
    [outcome] = batch.store([changed])
    assert isinstance(outcome, ApplicationError) and outcome.field == "idempotency_key"


def test_messages_left_queued_by_a_crash_are_sent_exactly_once_later(number, template, fake):
    crashed = TemplateBatch(phone_number=number, template=template)
    stored = crashed.store(items(template, 3))
    crashed.send(stored[0])  # then the process died: no finish(), the others never handed over
    survivor = TemplateBatch(phone_number=number, template=template)
    again = survivor.store(items(template, 3))
    assert again[0].status == MessageStatus.SENDING  # may have left: never re-sent
    assert [m.status for m in again[1:]] == [MessageStatus.QUEUED] * 2
    assert [m.pk for m in again] == [m.pk for m in stored]  # the same stored rows
    send_all(survivor, again)
    assert [w.to for w in fake.sent] == ["573130000000", "573130000001", "573130000002"]


def test_two_batches_holding_the_same_queued_message_send_it_once(number, template, fake):
    one = TemplateBatch(phone_number=number, template=template)
    two = TemplateBatch(phone_number=number, template=template)
    [first] = one.store(items(template, 1))
    [same] = two.store(items(template, 1))
    assert first.pk == same.pk
    one.send(first)
    taken = two.send(same)
    assert taken.replayed and len(fake.sent) == 1


def test_provider_failures_are_outcomes_in_words(number, template, fake):
    fake.script = [
        ProviderRejected("Invalid parameter", status=400),
        ProviderTimeout("no answer"),
        ProviderUnavailable("down", status=503), SendResult(message_id="m-3"),
    ]
    batch = TemplateBatch(phone_number=number, template=template)
    rejected, timed_out, retried = send_all(batch, batch.store(items(template, 3)))
    assert rejected.status == MessageStatus.FAILED and rejected.error_code == "400"
    assert "Invalid parameter" in rejected.error_title and rejected.failed_at
    assert timed_out.status == MessageStatus.UNKNOWN and "may or may not" in timed_out.error_title
    assert retried.status == MessageStatus.SENT and retried.provider_message_id == "m-3"
    assert len(fake.sent) == 4  # the timeout was called once, the 503 retried
    stored = {m.pk: m for m in Message.objects.all()}
    assert stored[rejected.pk].status == MessageStatus.FAILED and stored[rejected.pk].error_code == "400"
    assert stored[timed_out.pk].status == MessageStatus.UNKNOWN and stored[retried.pk].status == MessageStatus.SENT


def test_a_bug_in_the_call_leaves_the_message_unknown_and_propagates(number, template, fake):
    fake.script = [RuntimeError("bug")]
    batch = TemplateBatch(phone_number=number, template=template)
    [message] = batch.store(items(template, 1))
    with pytest.raises(RuntimeError):
        batch.send(message)
    stored = Message.objects.get(pk=message.pk)
    assert stored.status == MessageStatus.UNKNOWN and "internal error" in stored.error_title


def test_status_webhooks_that_beat_the_answer_are_attached_at_finish(number, template, fake):
    fake.script = [SendResult(message_id="early-1")]
    batch = TemplateBatch(phone_number=number, template=template)
    [message] = batch.store(items(template, 1))
    batch.send(message)
    StatusEvent.objects.create(provider_account=number.client.provider_account, provider_message_id="early-1",
                               status=MessageStatus.DELIVERED, timestamp=message.sent_at)
    batch.finish()
    stored = Message.objects.get(pk=message.pk)
    assert stored.status == MessageStatus.DELIVERED and stored.delivered_at
    assert StatusEvent.objects.get(provider_message_id="early-1").message_id == message.pk


def test_stored_but_unsent_messages_are_forgotten_at_finish(number, template, fake):
    batch = TemplateBatch(phone_number=number, template=template)
    stored = batch.store(items(template, 3))
    batch.send(stored[0])
    batch.finish()  # the caller stopped early (a pause, a 401): the other two never left
    assert list(Message.objects.values_list("pk", flat=True)) == [stored[0].pk]


def test_finish_keeps_a_message_another_batch_sent_meanwhile(number, template, fake):
    """A stopped batch forgets only what is still queued: a message another worker took is its to keep."""
    stopped = TemplateBatch(phone_number=number, template=template)
    other = TemplateBatch(phone_number=number, template=template)
    [held] = stopped.store(items(template, 1))
    [same] = other.store(items(template, 1))
    other.send(same)
    other.finish()

    stopped.finish()  # stopped before sending it

    kept = Message.objects.get(pk=held.pk)
    assert kept.status == MessageStatus.SENT and len(fake.sent) == 1


def test_abandon_fails_a_queued_message_with_the_reason(number, template, fake):
    batch = TemplateBatch(phone_number=number, template=template)
    [message] = batch.store(items(template, 1))
    batch.abandon(message, words="Could not be sent after 3 attempts.")
    batch.finish()
    stored = Message.objects.get(pk=message.pk)
    assert stored.status == MessageStatus.FAILED and stored.error_title == "Could not be sent after 3 attempts."
    assert not fake.sent


def test_refused_items_name_the_field_and_store_nothing(number, template, fake):
    good, bad, keyless = items(template, 3)
    bad = BatchItem(to="12", content=bad.content, idempotency_key=bad.idempotency_key)
    keyless = BatchItem(to=keyless.to, content=keyless.content, idempotency_key="")
    stored = TemplateBatch(phone_number=number, template=template).store([good, bad, keyless])
    assert stored[0].status == MessageStatus.QUEUED
    assert isinstance(stored[1], ApplicationError) and stored[1].field == "to"
    assert isinstance(stored[2], ApplicationError) and stored[2].field == "idempotency_key"
    assert Message.objects.count() == 1


def test_an_inactive_number_refuses_every_item(number, template, fake):
    number.is_active = False
    number.save()
    stored = TemplateBatch(phone_number=number, template=template).store(items(template, 2))
    assert all(isinstance(s, ApplicationError) and s.field == "from" for s in stored)
    assert not Message.objects.exists()


def test_contacto_virtual_lines_send_the_form_with_the_template_variables(fake, monkeypatch):
    line = contacto_virtual_number()
    template = ContactoVirtualTemplateFactory(client=line.client, text="Hola *{1}*, tu saldo es {2}.")
    batch = TemplateBatch(phone_number=line, template=template)
    [message] = batch.store([BatchItem(to="573135550001", idempotency_key="cv:1", content={
        "id": template.provider_template_id,
        "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ana"},
                                                        {"type": "text", "text": "$10"}]}]})])
    send_all(batch, [message])
    wire = fake.sent[0]
    assert isinstance(wire, TemplateSend) and wire.mobile == "573135550001" and wire.variables == ("Ana", "$10")
    stored = Message.objects.get(pk=message.pk)
    assert stored.status == MessageStatus.SENT and stored.request_body["token"] == TOKEN_MASK
