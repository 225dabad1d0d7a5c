"""Writes for templates: sync from the provider, and the history of changes."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.gateway import provider_client
from accounts.models import Client, ProviderAccount, WhatsAppBusinessAccount
from providers.base import ProviderError
from providers.contract import ProviderSpec
from providers.types import TemplateInfo
from templates_mgr import hooks
from templates_mgr.models import Template, TemplateChange, TemplateStatus

# getTemplates' ``limit``: WhatsApp allows at most 6,000 templates per WABA.
SYNC_LIMIT = 6000
# How many WABAs' template listings are asked for at once.
SYNC_CONCURRENCY = 8

TRACKED = ("status", "category")


def templates_sync_for_account(*, account: ProviderAccount, warnings: list[str] | None = None) -> int:
    """Sync the templates of every active WABA, or of the account where templates are not per WABA (Contacto
    Virtual).

    Returns how many templates the provider listed. A WABA that fails is reported
    in ``warnings`` and left as it was.
    """
    warnings = warnings if warnings is not None else []
    client = provider_client(account)
    if account.capabilities.templates_per_waba:
        wabas = WhatsAppBusinessAccount.objects.filter(client__provider_account=account, is_active=True).select_related(
            "client"
        )
        return _wabas_sync(provider=client, wabas=list(wabas), spec=account.spec, warnings=warnings)
    listed = client.templates_list()
    for db_client in Client.objects.filter(provider_account=account, is_active=True):
        templates_upsert(client=db_client, waba=None, listed=listed, spec=account.spec)
    return len(listed)


def templates_sync_for_client(*, actor, client: Client, warnings: list[str] | None = None) -> int:
    """"Sync templates" from a client's own pages: only that client's WABAs (or, where templates are not per WABA,
    the account's listing stored for that client). Client admins and operators. Returns how many were listed."""
    from accounts.models import Role
    from accounts.tenancy import require_role

    require_role(actor, client.pk, Role.ADMIN)
    warnings = warnings if warnings is not None else []
    account = client.provider_account
    provider = provider_client(account)
    if not account.capabilities.templates_per_waba:
        listed = provider.templates_list()
        templates_upsert(client=client, waba=None, listed=listed, spec=account.spec)
        return len(listed)
    wabas = list(WhatsAppBusinessAccount.objects.filter(client=client, is_active=True).select_related("client"))
    return _wabas_sync(provider=provider, wabas=wabas, spec=account.spec, warnings=warnings)


def _wabas_sync(*, provider, wabas: list[WhatsAppBusinessAccount], spec: ProviderSpec, warnings: list[str]) -> int:
    """List every WABA's templates at once, then store them here, one WABA after another.

    A provider answers in 100-300 ms: one listing after another, ten WABAs would keep a person waiting seconds.
    The pool threads only make the HTTP calls, the database stays on this thread; a client that must answer in
    the calling thread (the in-process sandbox: not ``over_the_network``) lists one WABA after another. A WABA
    that fails is reported in ``warnings`` and left as it was.
    """
    def listing(waba: WhatsAppBusinessAccount):
        try:
            return provider.templates_list(waba_id=waba.waba_id, limit=SYNC_LIMIT)
        except ProviderError as exc:
            return exc

    if len(wabas) > 1 and getattr(provider, "over_the_network", False):
        with ThreadPoolExecutor(max_workers=min(SYNC_CONCURRENCY, len(wabas)),
                                thread_name_prefix="templates-sync") as pool:
            answers = list(pool.map(listing, wabas))
    else:
        answers = [listing(waba) for waba in wabas]
    total = 0
    for waba, listed in zip(wabas, answers, strict=True):
        if isinstance(listed, ProviderError):
            warnings.append(_("Templates of WABA %(waba)s: %(words)s") % {"waba": waba.waba_id, "words": listed.message})
            continue
        templates_upsert(client=waba.client, waba=waba, listed=listed, spec=spec)
        total += len(listed)
    return total


@transaction.atomic
def templates_upsert(*, client: Client, waba: WhatsAppBusinessAccount | None, listed: Iterable[TemplateInfo],
                     spec: ProviderSpec | None = None) -> None:
    """Upsert ``listed`` as the complete set of templates of this WABA (or CV client).

    Bulk writes: one read of what is stored, one bulk insert, one bulk update,
    one history insert — a 6,000-template WABA is a handful of queries.
    Templates missing from the listing are marked deleted, not erased.
    """
    spec = spec or client.provider_account.spec
    now = timezone.now()
    scope = Template.objects.filter(client=client, waba=waba)
    existing = {(t.name, t.language): t for t in scope}
    seen: set[tuple[str, str]] = set()
    to_create: list[Template] = []
    to_update: list[Template] = []
    history: list[TemplateChange] = []
    for info in listed:
        language = info.language if waba is not None else ""
        key = (info.name, language)
        if key in seen:
            continue
        seen.add(key)
        values = {
            "status": spec.template_status(info.status),
            "category": info.category,
            "components": list(info.components),
            "text": info.text,
        }
        if not spec.capabilities.template_ids_by_hand:
            values["provider_template_id"] = info.id
        if info.rejected_reason:
            values["rejected_reason"] = info.rejected_reason
        template = existing.get(key)
        if template is None:
            to_create.append(Template(client=client, waba=waba, name=info.name, language=language, synced_at=now,
                                      **values))
            continue
        for field in TRACKED:
            old = getattr(template, field)
            if old != values[field] and old:
                history.append(TemplateChange(template=template, field=field, old_value=old, new_value=values[field],
                                              source=TemplateChange.Source.SYNC))
        for field, value in values.items():
            setattr(template, field, value)
        template.synced_at = now
        template.deleted_at = None
        to_update.append(template)
    gone = [t for key, t in existing.items() if key not in seen and t.deleted_at is None]
    for template in gone:
        template.deleted_at = now
        history.append(TemplateChange(template=template, field="deleted", old_value=template.status,
                                      new_value="", source=TemplateChange.Source.SYNC,
                                      reason=_("No longer listed by the provider.")))
    Template.objects.bulk_create(to_create, batch_size=1000)
    fields = ["status", "category", "components", "text", "provider_template_id", "rejected_reason", "synced_at",
              "deleted_at", "updated_at"]
    for template in to_update:
        template.updated_at = now
    Template.objects.bulk_update(to_update + gone, fields, batch_size=500)
    TemplateChange.objects.bulk_create(history, batch_size=1000)
    found = [change for change in history if change.field in ("status", "category")]
    if found:
        hooks.templates_changed.fire(changes=found)


def _record(template: Template, *, field: str, old: str, new: str, source: str, actor=None, reason: str = "") -> None:
    TemplateChange.objects.create(
        template=template, field=field, old_value=old or "", new_value=new or "", source=source,
        actor=actor if actor is not None and actor.is_authenticated else None, reason=reason or "",
    )


def template_create(
    *,
    actor,
    waba: WhatsAppBusinessAccount,
    name: str,
    language: str,
    category: str,
    components: list[dict],
) -> Template:
    """Validate, create at the provider (createTemplate), and store it as PENDING.

    Nothing is stored when the provider refuses; the ProviderError reaches the caller.
    """
    from accounts.audit import audit_record
    from templates_mgr.validation import template_problems
    from waportal.errors import ApplicationError

    problems = template_problems(name=name, language=language, category=category, components=components)
    if problems:
        first = problems[0]
        raise ApplicationError(
            first.message, field=first.field, extra={"problems": [p.as_dict() for p in problems]}
        )
    if Template.objects.filter(waba=waba, name=name, language=language, deleted_at__isnull=True).exists():
        raise ApplicationError(
            _("This WABA already has a template named %(name)s in %(language)s.") % {"name": name, "language": language},
            field="name",
        )
    client = provider_client(waba.client.provider_account)
    template_id = client.template_create(
        waba_id=waba.waba_id, name=name, language=language, category=category, components=components
    )
    with transaction.atomic():
        template, _created = Template.objects.update_or_create(
            waba=waba,
            name=name,
            language=language,
            defaults={
                "client": waba.client,
                "provider_template_id": template_id,
                "category": category,
                "status": TemplateStatus.PENDING,
                "components": components,
                "rejected_reason": "",
                "deleted_at": None,
                "deleted_by": None,
                "synced_at": timezone.now(),
                "created_by": actor if actor is not None and actor.is_authenticated else None,
            },
        )
        _record(template, field="status", old="", new=TemplateStatus.PENDING, source=TemplateChange.Source.USER,
                actor=actor, reason=_("Created from the portal."))
        audit_record(actor=actor, action="template.create", obj=template, client=waba.client,
                     changes={"name": name, "language": language, "category": category})
    return template


def template_delete(*, actor, template: Template) -> list[Template]:
    """Delete at the provider (deleteTemplate by name: every language goes) and mark them deleted here."""
    from accounts.audit import audit_record
    from waportal.errors import ApplicationError

    if template.waba is None:
        raise ApplicationError(
            _("Contacto Virtual templates are deleted in Contacto Virtual's console; sync afterwards."), field="waba"
        )
    client = provider_client(template.client.provider_account)
    client.template_delete(waba_id=template.waba.waba_id, name=template.name)
    now = timezone.now()
    with transaction.atomic():
        siblings = list(Template.objects.select_for_update().filter(waba=template.waba, name=template.name,
                                                                    deleted_at__isnull=True))
        for sibling in siblings:
            sibling.deleted_at = now
            sibling.deleted_by = actor if actor is not None and actor.is_authenticated else None
            sibling.save(update_fields=["deleted_at", "deleted_by", "updated_at"])
            _record(sibling, field="deleted", old=sibling.status, new="", source=TemplateChange.Source.USER,
                    actor=actor, reason=_("Deleted from the portal."))
            audit_record(actor=actor, action="template.delete", obj=sibling, client=sibling.client)
    return siblings


@transaction.atomic
def template_provider_id_set(*, actor, template: Template, provider_template_id: str) -> Template:
    """Enter what Contacto Virtual's listing lacks: the template's ``id_template`` (seed 002 l.13, l.53: a number).

    CV's ``template/`` answer carries no id and ``send/`` needs it, so a person
    types it (CV shows it when the template is created). Aldeamo lists its ids:
    they are not entered by hand.
    """
    from accounts.audit import audit_record
    from accounts.models import Role
    from accounts.tenancy import require_role
    from waportal.errors import ApplicationError

    if actor is not None:
        require_role(actor, template.client_id, Role.ADMIN)
    account = template.client.provider_account
    if not account.capabilities.template_ids_by_hand:
        raise ApplicationError(
            _("%(provider)s lists its templates' ids; they are not entered by hand.")
            % {"provider": account.get_provider_display()},
            field="provider_template_id",
        )
    value = (provider_template_id or "").strip()
    if value and not (value.isascii() and value.isdigit() and len(value) <= 64):
        raise ApplicationError(
            _("Contacto Virtual's id_template is a number (e.g. 990), shown when the template was created."),
            field="provider_template_id",
        )
    old = template.provider_template_id
    if old == value:
        return template
    template.provider_template_id = value
    template.save(update_fields=["provider_template_id", "updated_at"])
    _record(template, field="provider_template_id", old=old, new=value, source=TemplateChange.Source.USER, actor=actor)
    audit_record(actor=actor, action="template.provider_id", obj=template, client=template.client,
                 changes={"provider_template_id": {"from": old, "to": value}})
    return template
