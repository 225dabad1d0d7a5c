"""A request validated for the account's provider and built for the wire, with the body to store.

What the provider can take is read from its capabilities (``providers.registry``):
free-form types, replies in context, templates per WABA or per account, components
or positional parameters. The wire body itself is the provider client's
``prepare`` — the portal never builds a provider's shape.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from accounts.gateway import provider_client
from accounts.models import PhoneNumber, ProviderAccount
from messaging.models import Message
from messaging.sending.checks import require_open_window, require_sendable
from messaging.validation import common as validation
from messaging.validation.content import validate_content
from messaging.validation.positional import positional_parameters
from messaging.validation.templates import check_template_components
from providers.contract import ProviderClient
from providers.types import SendRequest, TemplateRef
from templates_mgr.models import Template
from waportal.errors import ApplicationError


@dataclass
class Prepared:
    """A validated request, ready to store and send."""

    to: str
    content: Any
    wire: Any
    request_body: dict[str, Any]
    context_id: str = ""
    reply_to: Message | None = None
    template: Template | None = None
    custom_field: str = ""


def prepare(
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
    client: ProviderClient | None = None,
) -> Prepared:
    """Validate a request for the account's provider and build what goes on the wire.

    ``client`` is the account's provider client when the caller holds one already (a batch prepares many sends).
    """
    capabilities = account.capabilities
    provider = account.get_provider_display()
    recipient = _recipient(account, to)
    if type not in validation.SENDABLE_TYPES:
        raise ApplicationError(
            _("type must be one of: %(types)s.") % {"types": ", ".join(validation.SENDABLE_TYPES)}, field="type"
        )
    if type != "template" and not capabilities.free_form_sends:
        raise ApplicationError(
            _("%(provider)s lines send only templates: use type template (with template.id or template.name).")
            % {"provider": provider},
            field="type",
        )
    if context_message_id and not capabilities.replies_in_context:
        raise ApplicationError(
            _("%(provider)s cannot send a reply to a specific message; remove context.message_id.")
            % {"provider": provider},
            field="context.message_id",
        )
    context_id = validation.context_message_id(context_message_id)
    extra = validation.custom_field(custom_field)
    ref = None
    if type == "template":
        if preview_url is not None:
            raise ApplicationError(_("preview_url applies only to text messages."), field="preview_url")
        if capabilities.templates_per_waba:
            template, ref = _waba_template(phone_number=phone_number, content=content, template=template)
        else:
            template, ref = _account_template(account=account, phone_number=phone_number, content=content,
                                              template=template)
    else:
        if template is not None:
            raise ApplicationError(_("A template was picked but the type is %(type)s.") % {"type": type},
                                   field="type")
        content = validate_content(type=type, content=copy.deepcopy(content), preview_url=preview_url)
        require_open_window(phone_number=phone_number, to=recipient)
    request = SendRequest(from_number=phone_number.digits, to=recipient, type=type, content=content, template=ref,
                          context_message_id=context_id, preview_url=preview_url, custom_field=extra)
    try:
        prepared = (client or provider_client(account)).prepare(request)
    except ValueError as exc:  # the adapter's own refusal of what it cannot carry, before anything is sent
        raise ApplicationError(str(exc), field="template" if type == "template" else "type")
    return Prepared(
        to=recipient,
        content=prepared.content,
        wire=prepared.wire,
        request_body=prepared.stored,
        context_id=context_id,
        reply_to=_replied_message(phone_number=phone_number, context_id=context_id),
        template=template,
        custom_field=extra,
    )


def _recipient(account: ProviderAccount, to: str) -> str:
    """The recipient's digits; a provider that serves only some numbers says in its own words what is wrong."""
    spec = account.spec
    try:
        recipient = validation.recipient_digits(to)
    except ApplicationError:
        digits = "".join(ch for ch in str(to or "") if ch.isdigit())
        problem = spec.recipient_problem(digits) if digits else None
        if problem:
            raise ApplicationError(problem, field="to")
        raise
    problem = spec.recipient_problem(recipient)
    if problem:
        raise ApplicationError(problem, field="to")
    return recipient


def _language_code(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("code")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ApplicationError(_("template.language.code must be a language code such as es or en_US."),
                               field="template.language.code")
    return value.strip()


def _waba_template(
    *, phone_number: PhoneNumber, content: Any, template: Template | None
) -> tuple[Template, TemplateRef]:
    """The synced, approved template of the number's WABA this send uses, with its checked components.

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
    return template, TemplateRef(name=name, language=code, namespace=namespace,
                                 provider_template_id=template.provider_template_id,
                                 components=components if "components" in content else None)


def _account_template(*, account: ProviderAccount, phone_number: PhoneNumber, content: Any,
                      template: Template | None) -> tuple[Template, TemplateRef]:
    """A template of the account's client (templates not per WABA), with its parameters checked."""
    provider = account.get_provider_display()
    if not isinstance(content, dict):
        raise ApplicationError(_("template must be an object with id or name, and components."), field="template")
    for key in content:
        if key not in ("id", "name", "language", "namespace", "components"):
            raise ApplicationError(
                _("template.%(key)s is not a field of a %(provider)s template; allowed: id, name, components.")
                % {"key": key, "provider": provider},
                field=f"template.{key}",
            )
    template = _client_template(account=account, phone_number=phone_number, content=content, template=template)
    components = copy.deepcopy(content.get("components"))
    variables: tuple[str, ...] = ()
    media = ""
    if account.capabilities.template_parameters == "positional":
        variables, media = positional_parameters(template=template, components=components)
    else:
        check_template_components(template=template, components=components)
    return template, TemplateRef(name=template.name, language=template.language,
                                 provider_template_id=template.provider_template_id, components=components,
                                 variables=variables, media=media)


def _client_template(*, account: ProviderAccount, phone_number: PhoneNumber, content: dict[str, Any],
                     template: Template | None) -> Template:
    """The client's template by ``template.id`` (the provider's template id) or ``template.name``."""
    provider = account.get_provider_display()
    by_hand = account.capabilities.template_ids_by_hand
    templates = Template.objects.filter(client_id=phone_number.client_id, waba__isnull=True)
    if template is not None:
        if template.client_id != phone_number.client_id or template.waba_id != phone_number.waba_id:
            raise ApplicationError(
                _("The template '%(name)s' is not a %(provider)s template of this line's client.")
                % {"name": template.name, "provider": provider},
                field="template",
            )
    else:
        raw_id = content.get("id")
        name = content.get("name")
        if raw_id not in (None, ""):
            template_id = str(raw_id).strip()
            if by_hand and (isinstance(raw_id, bool) or not template_id.isdigit()):
                raise ApplicationError(
                    _("template.id must be the numeric id_template %(provider)s showed when the template was "
                      "created.") % {"provider": provider},
                    field="template.id",
                )
            template = None if isinstance(raw_id, bool) else templates.filter(
                provider_template_id=template_id).first()
            if template is None:
                raise ApplicationError(
                    _("No %(provider)s template with id %(id)s is stored for this client. Sync the templates%(hint)s.")
                    % {"provider": provider, "id": template_id,
                       "hint": _(" and enter each template's id_template in the admin") if by_hand else ""},
                    field="template.id",
                )
        elif isinstance(name, str) and name.strip():
            template = templates.filter(name=name.strip()).first()
            if template is None:
                raise ApplicationError(
                    _("No %(provider)s template named '%(name)s' is synced for this client; sync the templates "
                      "or check the name.") % {"name": name.strip(), "provider": provider},
                    field="template.name",
                )
        else:
            raise ApplicationError(
                _("Give template.id (the provider's template id) or template.name."), field="template"
            )
    if not template.provider_template_id:
        raise ApplicationError(
            _("The template '%(name)s' has no id_template yet: an admin must enter the number %(provider)s "
              "showed when the template was created (Templates in the admin) before it can be sent.")
            % {"name": template.name, "provider": provider},
            field="template.name",
        )
    require_sendable(template)
    return template


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
