"""The normalised types every adapter returns. Everything above ``providers/``
speaks only these; wire formats stay inside the adapter modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

# --- inventory --------------------------------------------------------------


@dataclass(frozen=True)
class ClientWabas:
    """One entry of Aldeamo's getWabaIdsByToken: a client and its WABA ids."""

    client_id: str
    waba_ids: tuple[str, ...]


@dataclass(frozen=True)
class PhoneNumberInfo:
    """One business phone number as getPhoneNumbers describes it."""

    id: str
    display_phone_number: str  # as the provider shows it, e.g. "+57 324 555 0101"
    verified_name: str = ""
    code_verification_status: str = ""
    quality_rating: str = ""

    @property
    def digits(self) -> str:
        """The number as used in ``from``: digits only."""
        return "".join(ch for ch in self.display_phone_number if ch.isdigit())


@dataclass(frozen=True)
class Balance:
    """Contacto Virtual's balance/ answer."""

    amount: Decimal
    raw: dict[str, Any] = field(default_factory=dict)


# --- templates --------------------------------------------------------------


@dataclass(frozen=True)
class TemplateInfo:
    """A template as the provider lists it.

    Aldeamo gives ``id``, ``category`` and ``components`` (its own JSON, kept as
    given). Contacto Virtual gives only the name, the approved text with ``{1}``
    placeholders (kept in ``text``) and a status; its numeric id is not listed.
    """

    name: str
    language: str = ""
    status: str = ""
    category: str = ""
    id: str = ""
    components: tuple[dict[str, Any], ...] = ()
    text: str = ""
    rejected_reason: str = ""


# --- sending ----------------------------------------------------------------


@dataclass(frozen=True)
class OutboundMessage:
    """A message to send through Aldeamo, in its send shape.

    ``type`` is the WhatsApp type (text, template, image, audio, video,
    document, sticker, location, contacts, interactive); ``content`` is that
    type's object exactly as it goes on the wire (for contacts, the list).
    """

    from_number: str
    to: str
    type: str
    content: Any
    context_message_id: str = ""
    recipient_type: str = "individual"
    preview_url: bool | None = None


@dataclass(frozen=True)
class TemplateSend:
    """A Contacto Virtual send/ request."""

    id_template: str
    mobile: str
    variables: tuple[str, ...] = ()
    media: str = ""
    custom_field: str = ""


@dataclass(frozen=True)
class SendResult:
    """What a successful send returned.

    ``message_id`` is the id to match statuses on: Aldeamo's uuid for text and
    template sends (``messageId``), the WhatsApp id for the other types
    (``messages[0].id``), Contacto Virtual's ``messageId``.
    """

    message_id: str
    id_kind: Literal["provider", "whatsapp"] = "provider"
    raw: dict[str, Any] = field(default_factory=dict)


# --- analytics --------------------------------------------------------------


@dataclass(frozen=True)
class ConversationPoint:
    """One data point of Aldeamo's getAnalytics (times as the provider gives them, naive)."""

    start: datetime
    end: datetime
    conversations: int
    country: str = ""
    phone_number: str = ""
    conversation_type: str = ""
    conversation_direction: str = ""


# --- webhook events ---------------------------------------------------------


@dataclass(frozen=True)
class StatusUpdate:
    """A delivery status for a message we sent.

    ``message_id`` is the id to match on (Aldeamo's status ``id``; Contacto
    Virtual's ``messageId``), ``whatsapp_id`` the WhatsApp id when the event
    carries one separately. ``status`` is one of sent, delivered, read, failed.
    """

    message_id: str
    status: str
    timestamp: datetime | None = None
    whatsapp_id: str = ""
    recipient_id: str = ""
    business_number: str = ""
    error_code: str = ""
    error_title: str = ""
    errors: tuple[dict[str, Any], ...] = ()
    conversation_id: str = ""
    conversation_origin: str = ""
    conversation_expiration: datetime | None = None
    pricing: dict[str, Any] | None = None


@dataclass(frozen=True)
class InboundMessage:
    """A message a customer sent us.

    ``content`` is the type's object as received (text → ``{"body": …}``,
    image → ``{id, link, sha256, caption, mime_type}``, contacts → list, …).
    ``context_id`` is the id of the message it replies to, if any.
    """

    message_id: str
    from_number: str
    type: str
    content: Any
    timestamp: datetime | None = None
    business_number: str = ""
    contact_name: str = ""
    context_id: str = ""
    referral: dict[str, Any] | None = None
    custom_field: str = ""


@dataclass(frozen=True)
class TemplateEvent:
    """A template status, category or performance event.

    ``kind`` is ``status`` (message_template_status_update), ``category``
    (template_category_update) or ``performance`` (one entry of
    template_performance_metrics).
    """

    kind: Literal["status", "category", "performance"]
    template_id: str
    name: str = ""
    language: str = ""
    status: str = ""
    reason: str = ""
    previous_category: str = ""
    new_category: str = ""
    messages_sent_7d: int | None = None
    messages_opened_7d: int | None = None
    top_block_reason: str = ""


@dataclass(frozen=True)
class UnknownEvent:
    """A payload, or a part of one, the adapter could not interpret (kept, never dropped)."""

    reason: str
    payload: Any = None


WebhookEvent = StatusUpdate | InboundMessage | TemplateEvent | UnknownEvent


# --- the one send shape every provider prepares -------------------------------


@dataclass(frozen=True)
class TemplateRef:
    """The stored template a send uses, with its parameters checked by the portal.

    ``components`` are WhatsApp's component objects as given (None when none
    were); ``variables`` and ``media`` the same values flattened in placeholder
    order, for providers that take positional parameters.
    """

    name: str
    language: str = ""
    namespace: str = ""
    provider_template_id: str = ""
    components: Any = None
    variables: tuple[str, ...] = ()
    media: str = ""


@dataclass(frozen=True)
class SendRequest:
    """One message to send, checked by the portal, in no provider's shape yet."""

    from_number: str
    to: str
    type: str
    content: Any = None
    template: TemplateRef | None = None
    context_message_id: str = ""
    preview_url: bool | None = None
    custom_field: str = ""


@dataclass(frozen=True)
class PreparedSend:
    """A request in the provider's shape: ``wire`` goes to ``send``; ``stored`` is the body as kept (no secrets);
    ``content`` the message content as kept."""

    wire: Any
    stored: dict[str, Any]
    content: Any
