"""Consent: opting contacts out and in (with their history), keywords from customers, the send rule.

The state every send reads is ``messaging.models.Contact.opted_out``; only the services here change it, each
change with a :class:`ConsentEvent` (how, when, by whom) and, for an opt-out, the ``contact_opted_out`` hook.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from accounts.audit import audit_record
from accounts.models import Role
from accounts.tenancy import require_role
from contacts.hooks import contact_opted_out
from contacts.models import ConsentEvent, ConsentSettings, ConsentSource
from messaging.models import Contact, Direction, Message, MessageType
from templates_mgr.models import TemplateCategory
from waportal.errors import ApplicationError

logger = logging.getLogger(__name__)

MAX_KEYWORD_TEXT = 40  # a message longer than this is a sentence, not a keyword


def keyword_normal(text: str) -> str:
    """``"  ¡No más! "`` → ``"NO MAS"``: accents, case, punctuation and extra spaces do not matter."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    words = re.sub(r"[^\w\s]", " ", plain.casefold()).split()
    return " ".join(words).upper()


def settings_for(client_id: int) -> ConsentSettings:
    """The client's consent settings (defaults when none were saved; not stored until edited)."""
    found = ConsentSettings.objects.filter(client_id=client_id).first()
    return found if found is not None else ConsentSettings(client_id=client_id)


def opted_out_refuses(*, client_id: int, category: str) -> bool:
    """The rule messaging's send checks ask: marketing never; utility/authentication as the client chose."""
    if category not in (TemplateCategory.UTILITY, TemplateCategory.AUTHENTICATION):
        return True
    return not settings_for(client_id).opted_out_get_utility


def _record(*, contact: Contact, opted_out: bool, source: str, actor=None, detail: str = "") -> ConsentEvent | None:
    """Set the contact's state; None when it already was so (no event, no hook)."""
    changed = Contact.objects.filter(pk=contact.pk).exclude(opted_out=opted_out).update(
        opted_out=opted_out, updated_at=timezone.now())
    contact.opted_out = opted_out
    if not changed:
        return None
    event = ConsentEvent.objects.create(
        client_id=contact.client_id, contact=contact, opted_out=opted_out, source=source, detail=detail[:200],
        actor=actor if getattr(actor, "is_authenticated", False) else None)
    if actor is not None:
        audit_record(actor=actor, action="contact.opt_out" if opted_out else "contact.opt_in", obj=contact,
                     client=contact.client, changes={"source": source})
    if opted_out:
        contact_opted_out.fire(contact=contact, event=event)
    return event


@transaction.atomic
def contact_opt_out(*, actor, contact: Contact, source: str = ConsentSource.ADMIN, detail: str = "") -> ConsentEvent | None:
    """Opt ``contact`` out (idempotent: None when it already was). ``actor`` None is the system (a keyword)."""
    if actor is not None:
        require_role(actor, contact.client_id, Role.AGENT)
    return _record(contact=contact, opted_out=True, source=source, actor=actor, detail=detail)


@transaction.atomic
def contact_opt_in(*, actor, contact: Contact, source: str = ConsentSource.ADMIN, detail: str = "") -> ConsentEvent | None:
    """Opt ``contact`` back in (idempotent: None when it was not out)."""
    if actor is not None:
        require_role(actor, contact.client_id, Role.AGENT)
    return _record(contact=contact, opted_out=False, source=source, actor=actor, detail=detail)


# --- keywords from customers ----------------------------------------------------------------------


def message_keyword_text(message: Message) -> str:
    """What a customer's message says, for keyword matching: a text's body, a quick reply's payload or text."""
    content = message.content if isinstance(message.content, dict) else {}
    if message.type == MessageType.TEXT:
        return str(content.get("body") or "")
    if message.type == MessageType.BUTTON:
        return str(content.get("payload") or content.get("text") or "")
    if message.type == MessageType.INTERACTIVE:
        reply = content.get(str(content.get("type") or ""))
        if isinstance(reply, dict):
            return str(reply.get("id") or reply.get("title") or "")
    return ""


def keyword_action(*, text: str, settings: ConsentSettings) -> bool | None:
    """True for an opt-out keyword, False for an opt-in one, None for anything else."""
    if not text or len(text) > MAX_KEYWORD_TEXT:
        return None
    said = keyword_normal(text)
    if said in {keyword_normal(k) for k in settings.opt_out_keywords or []}:
        return True
    if said in {keyword_normal(k) for k in settings.opt_in_keywords or []}:
        return False
    return None


def on_inbound_stored(*, messages: Iterable[Message]) -> None:
    """messaging.inbound_stored: a keyword opts its sender out (or in); the confirmation is sent after commit."""
    from contacts.tasks import consent_confirmation_send

    by_client: dict[int, ConsentSettings] = {}  # one settings read per client in a webhook batch
    for message in messages:
        if message.direction != Direction.INBOUND or message.conversation_id is None:
            continue
        text = message_keyword_text(message)
        if not text or len(text) > MAX_KEYWORD_TEXT:
            continue
        if message.client_id not in by_client:
            by_client[message.client_id] = settings_for(message.client_id)
        settings = by_client[message.client_id]
        wants_out = keyword_action(text=text, settings=settings)
        if wants_out is None:
            continue
        contact = Contact.objects.select_related("client").get(conversations__pk=message.conversation_id)
        event = _record(contact=contact, opted_out=wants_out, source=ConsentSource.KEYWORD, detail=text)
        confirmation = settings.opt_out_confirmation if wants_out else settings.opt_in_confirmation
        if event is not None and confirmation.strip():
            phone_number_id, to = message.phone_number_id, message.from_number
            transaction.on_commit(lambda p=phone_number_id, t=to, w=wants_out: _enqueue(
                consent_confirmation_send, phone_number_id=p, to=t, opted_out=w))


def _enqueue(task, **kwargs) -> None:
    from waportal.queueing import task_enqueue

    task_enqueue(task, **kwargs)


def confirmation_send(*, phone_number_id: int, to: str, opted_out: bool) -> Message | None:
    """Answer a keyword with the client's confirmation: a free-form text (the customer just wrote)."""
    from accounts.models import PhoneNumber
    from messaging.sending import message_send

    phone_number = PhoneNumber.objects.select_related("client__provider_account").get(pk=phone_number_id)
    settings = settings_for(phone_number.client_id)
    body = (settings.opt_out_confirmation if opted_out else settings.opt_in_confirmation).strip()
    if not body:
        return None
    try:
        return message_send(actor=None, phone_number=phone_number, to=to, type="text", content={"body": body})
    except ApplicationError as exc:  # the window closed meanwhile, the number was deactivated: nothing to retry
        logger.warning("consent confirmation to %s not sent: %s", to, exc.message)
        return None


@transaction.atomic
def consent_set_by_number(*, actor, client_id: int, digits: str, opted_out: bool, detail: str = "",
                          source: str = ConsentSource.ADMIN) -> ConsentEvent | None:
    """Opt a number out (or in) for a client, creating its contact when it never wrote (a do-not-contact list)."""
    if actor is not None:
        require_role(actor, client_id, Role.AGENT)
    contact, _created = Contact.objects.select_related("client").get_or_create(client_id=client_id, wa_id=digits)
    return _record(contact=contact, opted_out=opted_out, source=source, actor=actor, detail=detail)
