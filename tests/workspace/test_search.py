"""The inbox's search covers every message's text, not only the last one, in a constant number of queries."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.factories import PhoneNumberFactory
from tests.messaging.factories import ConversationFactory, MessageFactory, member
from workspace import selectors
from workspace.selectors import InboxFilter

pytestmark = pytest.mark.django_db


def talk(number, *bodies: str, preview: str = "¿Algo más?"):
    conversation = ConversationFactory(phone_number=number, last_message_at=timezone.now(),
                                       last_message_preview=preview)
    for body in bodies:
        MessageFactory(phone_number=number, conversation=conversation, content={"body": body})
    return conversation


def test_search_finds_a_word_said_earlier_in_the_thread(agent, number):
    earlier = talk(number, "Mi pedido 4471 no ha llegado", "Gracias")
    talk(number, "Buenos días")
    found = selectors.inbox_page(agent, InboxFilter(status="all", q="pedido 4471"))
    assert found == [earlier]
    # Case does not matter, and the last message's preview still counts.
    assert selectors.inbox_page(agent, InboxFilter(status="all", q="PEDIDO")) == [earlier]
    assert set(selectors.inbox_page(agent, InboxFilter(status="all", q="algo más"))) == set(
        selectors.conversations_visible(agent))


def test_search_never_reaches_another_clients_messages(agent, number):
    other = PhoneNumberFactory()
    talk(other, "Secreto de otro cliente")
    member(other)
    assert selectors.inbox_page(agent, InboxFilter(status="all", q="secreto")) == []


def test_the_inbox_search_costs_the_same_queries_with_more_conversations(client, agent, number,
                                                                          django_assert_max_num_queries):
    client.force_login(agent)
    talk(number, "factura pendiente")
    with django_assert_max_num_queries(16) as few:
        assert client.get("/?status=all&q=factura").content.decode().count('class="ws-conv-row"') == 1
    for n in range(15):
        talk(number, f"factura {n}", preview="Listo")
    with django_assert_max_num_queries(len(few.captured_queries)):
        page = client.get("/?status=all&q=factura").content.decode()
    assert page.count('class="ws-conv-row"') == 16


def test_a_common_word_is_matched_row_by_row_instead_of_by_ids(agent, number, monkeypatch):
    monkeypatch.setattr(selectors, "MESSAGE_MATCHES", 2)
    said = [talk(number, "envío listo", "gracias") for _ in range(4)]
    talk(number, "nada que ver")
    assert set(selectors.inbox_page(agent, InboxFilter(status="all", q="envío"))) == set(said)
