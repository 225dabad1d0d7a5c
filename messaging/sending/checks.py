"""What refuses a send before anything is stored: the number, the template, the window, an opt-out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from accounts.models import PhoneNumber
from messaging.conversations import window_open
from messaging.models import Contact, Conversation, Direction, Message
from templates_mgr.models import Template, TemplateCategory, TemplateStatus
from waportal.errors import ApplicationError


def require_active(phone_number: PhoneNumber) -> None:
    if not phone_number.is_active:
        raise ApplicationError(
            _("The business number %(number)s is not active; pick an active number.")
            % {"number": phone_number.display_phone_number or phone_number.digits},
            field="from",
        )


@dataclass(frozen=True)
class Blocker:
    """Something the provider will need that is missing: the field to fix and why, in words."""

    field: str
    reason: str


def template_send_blockers(*, phone_number: PhoneNumber, template: Template) -> list[Blocker]:
    """What stops ``template`` going out from ``phone_number``, checked before anything is sent.

    The same checks :func:`message_send` makes one message at a time, for
    callers that must refuse a whole batch up front (the campaign dry-run
    report and start): the template is approved and not deleted; where templates
    live in a WABA, the number's WABA has its template namespace (no listing
    returns it); elsewhere the template has its provider id (Contacto Virtual's
    listing has none);
    the number is active. Empty when nothing is missing.
    """
    blockers: list[Blocker] = []
    if not phone_number.is_active:
        blockers.append(Blocker("phone_number", _("The sender number %(number)s is not active.")
                                % {"number": phone_number.display_phone_number or phone_number.digits}))
    if template.deleted_at is not None:
        blockers.append(Blocker("template", _("The template '%(name)s' was deleted at the provider; pick another "
                                              "one.") % {"name": template.name}))
    elif template.status != TemplateStatus.APPROVED:
        blockers.append(Blocker("template", _("The template '%(name)s' is %(status)s; only approved templates can "
                                              "be sent.") % {"name": template.name,
                                                             "status": template.get_status_display()}))
    capabilities = template.capabilities
    if capabilities.templates_per_waba:
        waba = phone_number.waba
        if waba is not None and not waba.namespace:
            blockers.append(Blocker("namespace", _(
                "The WhatsApp Business account %(waba)s has no template namespace: enter it (WABA admin, or PATCH "
                "/api/v1/wabas/%(id)s/ with namespace) before sending templates.") % {"waba": waba.waba_id,
                                                                                       "id": waba.pk}))
    elif not template.provider_template_id:
        blockers.append(Blocker("provider_template_id", _(
            "The template '%(name)s' has no %(provider)s id_template: enter it (template admin, or PATCH "
            "/api/v1/templates/%(id)s/ with provider_template_id) before sending it.") % {
                "name": template.name, "id": template.pk,
                "provider": template.client.provider_account.get_provider_display()}))
    return blockers


def _marketing_only(*, client_id: int, category: str) -> bool:
    """WhatsApp's policy: an opted-out person gets no marketing; utility and authentication still go."""
    return category == TemplateCategory.MARKETING


# Which template categories an opted-out person is refused, per client: ``(client_id, category) -> bool``. The
# contacts app registers the client's own rule at ready(); this default is WhatsApp's policy.
_opted_out_refuses: list[Callable[..., bool]] = [_marketing_only]


def opted_out_policy_register(policy: Callable[..., bool]) -> None:
    """Replace the rule deciding which categories opted-out contacts are refused (keyword arguments
    ``client_id``, ``category``; True refuses)."""
    _opted_out_refuses[0] = policy


def opted_out_refuses(*, client_id: int, category: str) -> bool:
    return _opted_out_refuses[0](client_id=client_id, category=category)


def opted_out_among(*, client_id: int, phones: Iterable[str], category: str = TemplateCategory.MARKETING) -> set[str]:
    """The numbers among ``phones`` that opted out of this client's ``category`` templates (one query).

    The contact's consent state (``Contact.opted_out``, kept by contacts' services with its history) is the one
    source: campaign opt-out lists, keywords, the API and the admin all write it.
    """
    phones = list(phones)
    if not phones or not opted_out_refuses(client_id=client_id, category=category):
        return set()
    return set(Contact.objects.filter(client_id=client_id, wa_id__in=phones, opted_out=True)
               .values_list("wa_id", flat=True))


def recipient_opted_out(*, client_id: int, to: str, category: str = TemplateCategory.MARKETING) -> bool:
    """Whether ``to`` asked this client not to be sent ``category`` templates."""
    return bool(opted_out_among(client_id=client_id, phones=[to], category=category))


def require_not_opted_out(*, phone_number: PhoneNumber, to: str, template: Template | None = None) -> None:
    """Templates (what a business starts) are refused to a person who opted out, before anything is stored.

    Marketing always; utility and authentication as the client's rule says (by default they go, as WhatsApp's
    policy allows). Free-form replies are not checked: they can only go inside the 24-hour window the customer
    opened by writing, i.e. they answer the person.
    """
    category = template.category if template is not None else TemplateCategory.MARKETING
    if recipient_opted_out(client_id=phone_number.client_id, to=to, category=category):
        raise ApplicationError(
            _("%(to)s asked not to receive messages from this business (opt-out); no %(category)s template is sent "
              "to them.") % {"to": to, "category": TemplateCategory(category).label.lower()
                             if category in TemplateCategory.values else category},
            field="to",
            extra={"code": "opted_out"},
        )


def require_sendable(template: Template) -> None:
    if template.deleted_at is not None:
        raise ApplicationError(
            _("The template '%(name)s' was deleted at the provider; pick another one.") % {"name": template.name},
            field="template.name",
        )
    if template.status != TemplateStatus.APPROVED:
        raise ApplicationError(
            _("The template '%(name)s' is %(status)s; only approved templates can be sent.")
            % {"name": template.name, "status": template.get_status_display()},
            field="template.name",
        )


def require_open_window(*, phone_number: PhoneNumber, to: str) -> None:
    """Refuse a free-form message outside the 24-hour customer-service window.

    The window opens with the customer's last message: the conversation's
    ``last_inbound_at`` (kept current by the webhook ingest), or, should that be
    missing, the newest stored inbound message from them.
    """
    last = (
        Conversation.objects.filter(phone_number=phone_number, contact__wa_id=to)
        .values_list("last_inbound_at", flat=True)
        .first()
    )
    if last is None:
        newest = (
            Message.objects.filter(phone_number=phone_number, direction=Direction.INBOUND, from_number=to)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        last = newest
    if window_open(last):
        return
    if last is None:
        words = _("+%(to)s has never written to this number") % {"to": to}
    else:
        words = _("the last message from +%(to)s was more than 24 hours ago") % {"to": to}
    raise ApplicationError(
        _("A template is needed: %(words)s, and WhatsApp only allows free-form messages within 24 hours of the "
          "customer's last message. Send an approved template instead.") % {"words": words},
        field="type",
        extra={"code": "window_closed"},
    )
