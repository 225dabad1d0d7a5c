"""The one contract every provider package implements, and the facts it declares about itself.

Learnt from django-allauth's provider packages: a base class holds what is
common, each provider package declares itself (id, name, base URLs,
credential fields, capabilities) and implements the few calls that differ.
The portal's apps ask :mod:`providers.registry` for a provider and read its
:class:`Capabilities`; they never compare provider names.

Everything here speaks :mod:`providers.types`; nothing imports a portal app.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from providers.types import (
    Balance,
    ClientWabas,
    PhoneNumberInfo,
    PreparedSend,
    SendRequest,
    SendResult,
    TemplateInfo,
    WebhookEvent,
)

#: The portal's normalised template statuses (the models' ``TemplateStatus`` values).
TEMPLATE_STATUSES = ("APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "IN_APPEAL", "FLAGGED",
                     "PENDING_DELETION", "DELETED", "UNKNOWN")


@dataclass(frozen=True)
class Capabilities:
    """What a provider can do; the apps branch on these, never on a provider's name.

    ``inventory`` says how clients, WABAs and numbers come to be: ``"isv"``
    (listed with the analytics token, else entered by hand per WABA) or
    ``"single_line"`` (the account is one client, its line one number).
    ``template_parameters``: ``"components"`` (WhatsApp's component objects go
    on the wire) or ``"positional"`` (a flat list of values, in placeholder order).
    """

    free_form_sends: bool = True
    replies_in_context: bool = True
    templates_per_waba: bool = True
    template_ids_by_hand: bool = False
    template_write: bool = False
    template_parameters: str = "components"
    #: How a template's text marks its variables (a regular expression whose group 1 is the number).
    template_placeholder: str = r"\{\{\s*(\d+)\s*\}\}"
    #: Characters a template variable may not contain (the provider has no escape for them).
    variable_forbidden: str = ""
    #: Positional templates: the file types a template's media link may end in (empty: no media).
    template_media_extensions: tuple[str, ...] = ()
    #: WhatsApp's rule: no line break, tab or more than four spaces in a row inside a variable.
    variable_whitespace_rule: bool = True
    balance: bool = False
    analytics: bool = False
    inventory: str = "isv"
    manual_inventory: bool = True
    #: A send may carry a free text the provider echoes back in its webhooks (``custom_field``).
    custom_field: bool = False
    #: Recipients the provider serves: E.164 digits starting with this prefix, this long ("", 0: any number).
    recipient_prefix: str = ""
    recipient_length: int = 0
    #: The rule above in words (lazily translated), said when a recipient breaks it.
    recipient_rule: Any = ""


@dataclass(frozen=True)
class CredentialField:
    """One account field a provider needs: the account column, whether it is required, what to say when missing.

    Whether it is a secret is the column's own fact (``EncryptedTextField``, ``ProviderAccount.SECRET_FIELDS``)."""

    name: str
    required: bool = True
    missing: str = ""


class ProviderClient:
    """The calls every provider client answers. A call a provider lacks raises ``NotImplementedError``;
    callers check :class:`Capabilities` first, so that is a bug, never a user's error."""

    def prepare(self, request: SendRequest) -> PreparedSend:
        raise NotImplementedError

    def send(self, wire: Any) -> SendResult:
        raise NotImplementedError

    def check_connection(self, *, waba_id: str = "") -> str:
        raise NotImplementedError

    def templates_list(self, *, waba_id: str = "", limit: int = 1000) -> list[TemplateInfo]:
        raise NotImplementedError

    def template_create(self, *, waba_id: str, **template: Any) -> Any:
        raise NotImplementedError

    def template_delete(self, *, waba_id: str, name: str) -> None:
        raise NotImplementedError

    def balance(self) -> Balance:
        raise NotImplementedError

    def wabas_by_token(self) -> list[ClientWabas]:
        raise NotImplementedError

    def phone_numbers(self, *, client_id: str | int, waba_id: str) -> list[PhoneNumberInfo]:
        raise NotImplementedError


class ProviderSpec:
    """A provider as the portal sees it. Subclasses set the class attributes and implement the hooks."""

    #: Stored in ``ProviderAccount.provider``; never shown.
    id: ClassVar[str]
    #: Shown to people (a lazily translated string where it is words).
    name: ClassVar[Any]
    #: The provider's segment in the webhook URL: ``/webhooks/<slug>/<secret>/``.
    webhook_slug: ClassVar[str]
    #: The provider's base URL per environment ("test", "production").
    base_urls: ClassVar[Mapping[str, str]]
    credential_fields: ClassVar[tuple[CredentialField, ...]] = ()
    capabilities: ClassVar[Capabilities] = Capabilities()
    #: The adapter's error messages already say, for a person, what to do (no generic sentence around them).
    errors_worded: ClassVar[bool] = False

    def client(self, *, base_url: str, credentials: Mapping[str, str], session: Any = None,
               timeout: Any = None) -> ProviderClient:
        raise NotImplementedError

    def parse_webhook(self, body: bytes, content_type: str = "") -> list[WebhookEvent]:
        raise NotImplementedError

    def needs_receipt(self, body: bytes) -> bool:
        """Whether a webhook body is a customer message the provider gives no id of its own to deduplicate on:
        the portal then gives it a receipt at reception."""
        return False

    def template_status(self, word: str) -> str:
        """The provider's word for a template's status, as one of :data:`TEMPLATE_STATUSES`."""
        value = (word or "").strip().upper()
        return value if value in TEMPLATE_STATUSES else "UNKNOWN"

    def credential_problems(self, values: Mapping[str, str]) -> dict[str, str]:
        """Field → why it is wrong, for an account's credentials (empty when they look right)."""
        return {f.name: str(f.missing) for f in self.credential_fields if f.required and not values.get(f.name)}

    def code_words(self, code: str | int | None) -> str:
        """A provider's error code in words a person can act on ("" when the provider has no such table)."""
        return ""

    def recipient_problem(self, digits: str) -> str | None:
        """Why this provider cannot send to ``digits`` (e.g. a country it does not serve), or None."""
        return None

    def __repr__(self) -> str:
        return f"<ProviderSpec {self.id}>"
