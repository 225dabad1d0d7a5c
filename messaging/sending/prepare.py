"""A request validated for the account's provider and built for the wire, with the body to store."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.models import PhoneNumber, Provider, ProviderAccount
from messaging.models import Message
from messaging.sending.checks import require_open_window, require_sendable
from messaging.validation import common as validation
from messaging.validation.contacto_virtual import contacto_virtual_parameters
from messaging.validation.content import validate_content
from messaging.validation.templates import check_template_components
from providers.aldeamo import build_send_body
from providers.contacto_virtual import ContactoVirtualClient, mobile_problem
from providers.types import OutboundMessage, TemplateSend
from templates_mgr.models import Template
from waportal.errors import ApplicationError

#: What replaces Contacto Virtual's token in the stored request body.
TOKEN_MASK = "********"


@dataclass
class Prepared:
    """A validated request, ready to store and send."""

    to: str
    content: Any
    wire: OutboundMessage | TemplateSend
    request_body: dict[str, Any]
    context_id: str = ""
    reply_to: Message | None = None
    template: Template | None = None
    custom_field: str = ""


def prepare(*, account: ProviderAccount, phone_number: PhoneNumber, **request: Any) -> Prepared:
    """Validate a request for the account's provider and build what goes on the wire."""
    if account.provider == Provider.CONTACTO_VIRTUAL:
        return _prepare_contacto_virtual(account=account, phone_number=phone_number, **request)
    return _prepare_aldeamo(phone_number=phone_number, **request)


def _prepare_aldeamo(
    *,
    phone_number: PhoneNumber,
    to: str,
    type: str,
    content: Any,
    context_message_id: str,
    preview_url: bool | None,
    template: Template | None,
    custom_field: str,
) -> Prepared:
    recipient = validation.recipient_digits(to)
    if type not in validation.SENDABLE_TYPES:
        raise ApplicationError(
            _("type must be one of: %(types)s.") % {"types": ", ".join(validation.SENDABLE_TYPES)}, field="type"
        )
    context_id = validation.context_message_id(context_message_id)
    extra = validation.custom_field(custom_field)
    if type == "template":
        if preview_url is not None:
            raise ApplicationError(_("preview_url applies only to text messages."), field="preview_url")
        template, content = _aldeamo_template(phone_number=phone_number, content=content, template=template)
    else:
        if template is not None:
            raise ApplicationError(_("A template was picked but the type is %(type)s.") % {"type": type},
                                   field="type")
        content = validate_content(type=type, content=copy.deepcopy(content), preview_url=preview_url)
        require_open_window(phone_number=phone_number, to=recipient)
    wire = OutboundMessage(
        from_number=phone_number.digits,
        to=recipient,
        type=type,
        content=content,
        context_message_id=context_id,
        recipient_type="individual",
        preview_url=preview_url if type == "text" else None,
    )
    return Prepared(
        to=recipient,
        content=content,
        wire=wire,
        request_body=build_send_body(wire),
        context_id=context_id,
        reply_to=_replied_message(phone_number=phone_number, context_id=context_id),
        template=template,
        custom_field=extra,
    )


def _language_code(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("code")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApplicationError(_("template.language.code must be a language code such as es or en_US."),
                               field="template.language.code")
    return value.strip()


def _aldeamo_template(
    *, phone_number: PhoneNumber, content: Any, template: Template | None
) -> tuple[Template, dict[str, Any]]:
    """The synced, approved template this send uses, and the template object as it goes on the wire.

    The namespace comes from the number's WABA (the manual: it must be the
    WABA's namespace or the message is not sent), so a caller copying an
    example with another namespace still sends the right one.
    """
    if not isinstance(content, dict):
        raise ApplicationError(
            _("template must be an object with name, language and components."), field="template"
        )
    for key in content:
        if key not in ("namespace", "name", "language", "components"):
            raise ApplicationError(
                _("template.%(key)s is not a field of template; allowed: namespace, name, language, components.")
                % {"key": key},
                field=f"template.{key}",
            )
    waba = phone_number.waba
    if waba is None:
        raise ApplicationError(
            _("The number %(number)s has no WhatsApp Business account; sync the provider account first.")
            % {"number": phone_number.display_phone_number},
            field="from",
        )
    name = content.get("name")
    if name is not None and not isinstance(name, str):
        raise ApplicationError(_("template.name must be text."), field="template.name")
    name = (name or "").strip()
    code = _language_code(content.get("language"))
    if template is None:
        if not name:
            raise ApplicationError(_("template.name is required."), field="template.name")
        if not code:
            raise ApplicationError(_("template.language.code is required (e.g. es)."),
                                   field="template.language.code")
        template = Template.objects.filter(waba=waba, name=name, language=code).first()
        if template is None:
            raise ApplicationError(
                _("No template '%(name)s' in language '%(language)s' is synced for WABA %(waba)s. Sync the "
                  "templates, or check the name and language.") % {"name": name, "language": code,
                                                                   "waba": waba.waba_id},
                field="template.name",
            )
    else:
        if template.waba_id != waba.pk:
            raise ApplicationError(
                _("The template '%(name)s' belongs to another WhatsApp Business account than the number %(number)s.")
                % {"name": template.name, "number": phone_number.display_phone_number},
                field="template",
            )
        if name and name != template.name:
            raise ApplicationError(
                _("template.name '%(given)s' does not match the picked template '%(name)s'.")
                % {"given": name, "name": template.name},
                field="template.name",
            )
        if code and code != template.language:
            raise ApplicationError(
                _("template.language.code '%(given)s' does not match the picked template's language '%(code)s'.")
                % {"given": code, "code": template.language},
                field="template.language.code",
            )
        name, code = template.name, template.language
    require_sendable(template)
    components = copy.deepcopy(content.get("components"))
    check_template_components(template=template, components=components)
    namespace = waba.namespace or (content.get("namespace") if isinstance(content.get("namespace"), str) else "")
    if not namespace:
        raise ApplicationError(
            _("The WhatsApp Business account %(waba)s has no template namespace; enter it in the admin or give "
              "template.namespace.") % {"waba": waba.waba_id},
            field="template.namespace",
        )
    wire: dict[str, Any] = {
        "namespace": namespace,
        "language": {"policy": "deterministic", "code": code},
        "name": name,
    }
    if "components" in content:
        wire["components"] = components
    return template, wire


def _prepare_contacto_virtual(
    *,
    account: ProviderAccount,
    phone_number: PhoneNumber,
    to: str,
    type: str,
    content: Any,
    context_message_id: str,
    preview_url: bool | None,
    template: Template | None,
    custom_field: str,
) -> Prepared:
    """A Contacto Virtual ``send/`` request: templates only, to Colombian numbers."""
    if type != "template":
        raise ApplicationError(
            _("Contacto Virtual lines send only templates: use type template (with template.id or template.name)."),
            field="type",
        )
    if preview_url is not None:
        raise ApplicationError(_("preview_url applies only to text messages."), field="preview_url")
    if context_message_id:
        raise ApplicationError(
            _("Contacto Virtual cannot send a reply to a specific message; remove context.message_id."),
            field="context.message_id",
        )
    try:
        recipient = validation.recipient_digits(to)
    except ApplicationError:
        # Contacto Virtual's own words say what is wrong with a Colombian number (e.g. no 57 in front).
        digits = "".join(ch for ch in str(to or "") if ch.isdigit())
        problem = mobile_problem(digits) if digits else None
        if problem:
            raise ApplicationError(problem, field="to")
        raise
    problem = mobile_problem(recipient)
    if problem:
        raise ApplicationError(problem, field="to")
    extra = validation.custom_field(custom_field)
    if not isinstance(content, dict):
        raise ApplicationError(_("template must be an object with id or name, and components."), field="template")
    for key in content:
        if key not in ("id", "name", "language", "namespace", "components"):
            raise ApplicationError(
                _("template.%(key)s is not a field of a Contacto Virtual template; allowed: id, name, components.")
                % {"key": key},
                field=f"template.{key}",
            )
    template = _contacto_virtual_template(phone_number=phone_number, content=content, template=template)
    components = copy.deepcopy(content.get("components"))
    variables, media = contacto_virtual_parameters(template=template, components=components)
    wire = TemplateSend(
        id_template=template.provider_template_id,
        mobile=recipient,
        variables=variables,
        media=media,
        custom_field=extra,
    )
    stored: dict[str, Any] = {"id": template.provider_template_id, "name": template.name}
    if components is not None:
        stored["components"] = components
    return Prepared(
        to=recipient,
        content=stored,
        wire=wire,
        request_body=_contacto_virtual_form(account=account, wire=wire),
        template=template,
        custom_field=extra,
    )


def _contacto_virtual_template(*, phone_number: PhoneNumber, content: dict[str, Any],
                               template: Template | None) -> Template:
    """The client's Contacto Virtual template by ``template.id`` (id_template) or ``template.name``."""
    templates = Template.objects.filter(client_id=phone_number.client_id, waba__isnull=True)
    if template is not None:
        if template.client_id != phone_number.client_id or template.waba_id is not None:
            raise ApplicationError(
                _("The template '%(name)s' is not a Contacto Virtual template of this line's client.")
                % {"name": template.name},
                field="template",
            )
    else:
        raw_id = content.get("id")
        name = content.get("name")
        if raw_id not in (None, ""):
            template_id = str(raw_id).strip()
            if isinstance(raw_id, bool) or not template_id.isdigit():
                raise ApplicationError(
                    _("template.id must be the numeric id_template Contacto Virtual showed when the template was "
                      "created."),
                    field="template.id",
                )
            template = templates.filter(provider_template_id=template_id).first()
            if template is None:
                raise ApplicationError(
                    _("No Contacto Virtual template with id_template %(id)s is stored for this client. Sync the "
                      "templates and enter each template's id_template in the admin.") % {"id": template_id},
                    field="template.id",
                )
        elif isinstance(name, str) and name.strip():
            template = templates.filter(name=name.strip()).first()
            if template is None:
                raise ApplicationError(
                    _("No Contacto Virtual template named '%(name)s' is synced for this client; sync the templates "
                      "or check the name.") % {"name": name.strip()},
                    field="template.name",
                )
        else:
            raise ApplicationError(
                _("Give template.id (the numeric id_template) or template.name."), field="template"
            )
    if not template.provider_template_id:
        raise ApplicationError(
            _("The template '%(name)s' has no id_template yet: an admin must enter the number Contacto Virtual "
              "showed when the template was created (Templates in the admin) before it can be sent.")
            % {"name": template.name},
            field="template.name",
        )
    require_sendable(template)
    return template


def _contacto_virtual_form(*, account: ProviderAccount, wire: TemplateSend) -> dict[str, Any]:
    """The ``send/`` form exactly as the adapter posts it, with the token masked for storage.

    Built by the adapter itself (on a client holding a masked token) so the
    stored body cannot drift from the wire format.
    """
    masked = ContactoVirtualClient(base_url=account.effective_base_url, login=account.login, token=TOKEN_MASK)
    try:
        return masked.build_send_form(wire)
    except ValueError as exc:  # already checked above; kept as a refusal, never a crash
        raise ApplicationError(str(exc), field="template")
    finally:
        masked.session.close()


def _replied_message(*, phone_number: PhoneNumber, context_id: str) -> Message | None:
    """The stored message a reply answers: its provider id or WhatsApp id is the context id."""
    if not context_id:
        return None
    return (
        Message.objects.filter(client_id=phone_number.client_id)
        .filter(Q(provider_message_id=context_id) | Q(whatsapp_id=context_id))
        .order_by("created_at")
        .first()
    )
