"""Campaign writes before the run: create, change, the recipient list (typed, uploaded CSV), the dry run.

Every service takes keyword-only arguments, checks the actor's role in the
campaign's client (agents run campaigns), owns its transaction, records an
audit entry, and raises :class:`ApplicationError` naming the field at fault.
The checks the run control repeats (the actor's role, the template, the pace,
the start time) live here and :mod:`campaigns.services.control` uses them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import IO, Any

from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from accounts import conf as accounts_conf
from accounts.audit import audit_record
from accounts.models import PhoneNumber, Role
from accounts.tenancy import require_role
from campaigns import conf, ingest, tracking
from campaigns.models import Campaign, CampaignStatus, CampaignUpload
from campaigns.stops import STOPPING_TEMPLATE_STATUSES, template_stop_reason
from campaigns.variables import Slot, suggest_column, template_slots
from templates_mgr.models import Template, TemplateStatus
from waportal.errors import ApplicationError, Conflict

# A start time this far in the past is a mistake, not "now" (clocks and forms lag a little).
START_AT_TOLERANCE = timedelta(minutes=1)


# --- helpers ---------------------------------------------------------------------------


def _audit(actor, action: str, campaign: Campaign, changes: dict | None = None) -> None:
    audit_record(actor=actor, action=action, obj=campaign, client=campaign.client, changes=changes or {})


def _require_agent(actor, campaign_or_client_id: Campaign | int) -> None:
    client_id = campaign_or_client_id.client_id if isinstance(campaign_or_client_id, Campaign) else campaign_or_client_id
    require_role(actor, client_id, Role.AGENT)


def _status_conflict(campaign: Campaign, action: str) -> Conflict:
    return Conflict(
        # Translators: status is a "campaign status" label in lower case; action is a "campaign action" word.
        _("A campaign that is %(status)s cannot be %(action)s.")
        % {"status": campaign.get_status_display().lower(), "action": action},
        field="status",
    )


def _check_pace(pace: int, phone_number: PhoneNumber) -> int:
    limit = accounts_conf.pace_limit_for(phone_number.digits)
    if pace < 1:
        raise ApplicationError(_("The pace must be at least 1 message per second."), field="pace")
    if pace > limit:
        raise ApplicationError(
            _("The pace can be at most %(limit)d messages per second for %(number)s.")
            % {"limit": limit, "number": phone_number}, field="pace",
        )
    return pace


def _template_problem(template: Template) -> str:
    if template.deleted_at is not None or template.status in STOPPING_TEMPLATE_STATUSES:
        return template_stop_reason(name=template.name, status=template.status, deleted=template.deleted_at is not None)
    if template.status != TemplateStatus.APPROVED:
        return _("The template %(name)s is %(status)s; only approved templates can be sent.") % {
            "name": template.name, "status": template.get_status_display().lower()}
    return ""


def _check_template(template: Template, phone_number: PhoneNumber) -> None:
    if template.client_id != phone_number.client_id:
        raise ApplicationError(_("The template belongs to another client than the sender number."), field="template")
    if template.waba_id != phone_number.waba_id:
        account = phone_number.client.provider_account
        if account.capabilities.templates_per_waba:
            raise ApplicationError(_("The template must belong to the sender number's WhatsApp Business account."),
                                   field="template")
        raise ApplicationError(_("A %(provider)s line sends its own account's templates only.")
                               % {"provider": account.get_provider_display()}, field="template")
    problem = _template_problem(template)
    if problem:
        raise ApplicationError(problem, field="template")


def _check_start_at(start_at: datetime | None) -> datetime | None:
    if start_at is not None and start_at < timezone.now() - START_AT_TOLERANCE:
        raise ApplicationError(_("The start time is in the past."), field="start_at")
    return start_at


def _check_fixed(variables: Mapping[str, Any] | None, slots: list[Slot]) -> dict[str, str]:
    known = {slot.key for slot in slots}
    fixed = {str(k): "" if v is None else str(v) for k, v in (variables or {}).items()}
    unknown = sorted(set(fixed) - known)
    if unknown:
        raise ApplicationError(
            _("The template has no variable %(names)s; it has: %(known)s.")
            % {"names": ", ".join(unknown), "known": ", ".join(sorted(known)) or _("none")},
            field="variables",
        )
    return {k: v for k, v in fixed.items() if v != ""}

def _forget_upload_file(campaign: Campaign) -> None:
    """Delete the stored CSV once the recipients are final: they hold all that is needed."""
    upload = CampaignUpload.objects.filter(campaign=campaign).exclude(file="").first()
    if upload is None:
        return

    def delete() -> None:
        upload.file.delete(save=False)
        CampaignUpload.objects.filter(pk=upload.pk).update(file="")

    transaction.on_commit(delete)


# --- create and check (the dry run) ----------------------------------------------------


@transaction.atomic
def campaign_create(
    *,
    actor,
    phone_number: PhoneNumber,
    template: Template,
    name: str,
    pace: int | None = None,
    start_at: datetime | None = None,
    default_country: str = "CO",
    variables: Mapping[str, Any] | None = None,
) -> Campaign:
    """A draft campaign: sender, template, pace and optional start time, no recipients yet."""
    _require_agent(actor, phone_number.client_id)
    name = (name or "").strip()
    if not name:
        raise ApplicationError(_("Give the campaign a name."), field="name")
    _check_template(template, phone_number)
    pace = _check_pace(int(pace if pace is not None else conf.setting("CAMPAIGN_DEFAULT_PACE")), phone_number)
    fixed = _check_fixed(variables, template_slots(template))
    campaign = Campaign.objects.create(
        client_id=phone_number.client_id, phone_number=phone_number, template=template, name=name[:200],
        pace=pace, start_at=_check_start_at(start_at), default_country=(default_country or "CO").upper()[:2],
        variables=fixed, created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    _audit(actor, "campaign.create", campaign, {"template": template.name, "phone_number": phone_number.digits,
                                                "pace": pace})
    return campaign


@transaction.atomic
def campaign_update(*, actor, campaign: Campaign, name: str | None = None, pace: int | None = None) -> Campaign:
    """Rename, or change the pace (workers pick a new pace up at their next chunk)."""
    _require_agent(actor, campaign)
    if campaign.is_finished:
        raise _status_conflict(campaign, pgettext("campaign action", "changed"))
    changes: dict[str, Any] = {}
    if name is not None and name.strip() and name.strip() != campaign.name:
        changes["name"] = {"from": campaign.name, "to": name.strip()[:200]}
        campaign.name = name.strip()[:200]
    if pace is not None and pace != campaign.pace:
        changes["pace"] = {"from": campaign.pace, "to": _check_pace(int(pace), campaign.phone_number)}
        campaign.pace = int(pace)
    if changes:
        campaign.save(update_fields=["name", "pace", "updated_at"])
        _audit(actor, "campaign.update", campaign, changes)
    return campaign


def _reset_recipients(campaign: Campaign) -> None:
    if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.VALIDATED):
        raise _status_conflict(campaign, pgettext("campaign action", "given new recipients"))
    if campaign.status == CampaignStatus.VALIDATED:
        campaign.transition(CampaignStatus.DRAFT)
    campaign.recipients.all().delete()


def _store_rows(*, actor, campaign: Campaign, rows: Iterable[ingest.RawRow], source: str) -> Campaign:
    """Check ``rows`` into recipients (streaming) and keep the report; the campaign becomes checked."""
    result = ingest.RowIngester(campaign=campaign, slots=template_slots(campaign.template)).ingest(rows)
    report = result.as_report()
    if report["rows"] == 0:
        raise ApplicationError(_("The list has no recipients."), field="recipients" if source == "json" else "file")
    now = timezone.now()
    campaign.transition(CampaignStatus.VALIDATED, report=report, report_at=now, report_seen_at=None,
                        recipient_count=result.sendable)
    tracking.campaign_counts_cache(campaign=campaign)
    _audit(actor, "campaign.check", campaign, {"source": source, **report})
    return campaign


@transaction.atomic
def campaign_recipients_set(*, actor, campaign: Campaign, recipients: Iterable[Mapping[str, Any]]) -> Campaign:
    """Replace the recipients with a JSON list (``{"phone", "variables"}``) and produce the report."""
    _require_agent(actor, campaign)
    _reset_recipients(campaign)
    return _store_rows(actor=actor, campaign=campaign, rows=ingest.json_rows(recipients), source="json")


@transaction.atomic
def campaign_upload_attach(*, actor, campaign: Campaign, file: IO[bytes], original_name: str = "") -> CampaignUpload:
    """Store the CSV and read its header (only its first 64 KB are read here)."""
    _require_agent(actor, campaign)
    if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.VALIDATED):
        raise _status_conflict(campaign, pgettext("campaign action", "given new recipients"))
    binary = getattr(file, "file", file)
    fmt = ingest.csv_format(binary)
    binary.seek(0, 2)
    size = binary.tell()
    binary.seek(0)
    upload, _created = CampaignUpload.objects.get_or_create(campaign=campaign)
    if upload.file:
        upload.file.delete(save=False)
    upload.original_name = (original_name or getattr(file, "name", "") or "")[:255]
    upload.size = size
    upload.encoding, upload.delimiter, upload.columns = fmt.encoding, fmt.delimiter, fmt.columns
    upload.phone_column = ingest.suggest_phone_column(fmt.columns)
    upload.mapping = {slot.key: suggest_column(slot.key, fmt.columns) for slot in template_slots(campaign.template)}
    upload.uploaded_by = actor if getattr(actor, "is_authenticated", False) else None
    upload.file.save("upload.csv", File(binary), save=False)
    upload.save()
    return upload


def _check_mapping(*, upload: CampaignUpload, slots: list[Slot], phone_column: str, mapping: Mapping[str, str],
                   fixed: Mapping[str, str]) -> dict[str, str]:
    if not phone_column:
        raise ApplicationError(_("Choose the column that holds the phone numbers."), field="phone_column")
    if phone_column not in upload.columns:
        raise ApplicationError(_("The file has no column %(name)s.") % {"name": phone_column}, field="phone_column")
    clean: dict[str, str] = {}
    for slot in slots:
        column = (mapping.get(slot.key) or "").strip()
        if column and column not in upload.columns:
            raise ApplicationError(_("The file has no column %(name)s.") % {"name": column}, field="mapping")
        if not column and slot.key not in fixed:
            raise ApplicationError(
                _("Choose a column or give a fixed value for %(slot)s.") % {"slot": slot.label}, field="mapping"
            )
        if column:
            clean[slot.key] = column
    unknown = sorted(set(k for k, v in mapping.items() if v) - {slot.key for slot in slots})
    if unknown:
        raise ApplicationError(_("The template has no variable %(names)s.") % {"names": ", ".join(unknown)},
                               field="mapping")
    return clean


@transaction.atomic
def campaign_check_csv(
    *,
    actor,
    campaign: Campaign,
    phone_column: str,
    mapping: Mapping[str, str],
    variables: Mapping[str, Any] | None = None,
) -> Campaign:
    """The dry run over the stored CSV: every row checked, streamed, the report kept."""
    _require_agent(actor, campaign)
    upload = CampaignUpload.objects.filter(campaign=campaign).first()
    if upload is None or not upload.file:
        raise ApplicationError(_("Upload a CSV file first."), field="file")
    slots = template_slots(campaign.template)
    if variables is not None:
        campaign.variables = _check_fixed(variables, slots)
        campaign.save(update_fields=["variables", "updated_at"])
    clean = _check_mapping(upload=upload, slots=slots, phone_column=phone_column, mapping=mapping,
                           fixed=campaign.variables)
    upload.phone_column, upload.mapping = phone_column, clean
    upload.save(update_fields=["phone_column", "mapping"])
    _reset_recipients(campaign)
    fmt = ingest.CsvFormat(encoding=upload.encoding, delimiter=upload.delimiter, columns=list(upload.columns))
    with upload.file.open("rb") as stored:
        rows = ingest.csv_rows(stored, fmt=fmt, phone_column=phone_column, mapping=clean)
        return _store_rows(actor=actor, campaign=campaign, rows=rows, source="csv")


@transaction.atomic
def campaign_create_with_recipients(*, actor, recipients: Iterable[Mapping[str, Any]], **fields: Any) -> Campaign:
    """Create and check in one step (the API's JSON form). ``fields`` as :func:`campaign_create`."""
    campaign = campaign_create(actor=actor, **fields)
    return campaign_recipients_set(actor=actor, campaign=campaign, recipients=recipients)


@transaction.atomic
def campaign_create_with_csv(
    *,
    actor,
    file: IO[bytes],
    original_name: str = "",
    phone_column: str = "",
    mapping: Mapping[str, str] | None = None,
    **fields: Any,
) -> Campaign:
    """Create, store the CSV and check it in one step (the API's multipart form).

    Without ``phone_column``/``mapping`` the columns are matched by their
    names (``phone``/``telefono``/``celular``…; ``body_1``, ``1`` or ``{{1}}``…).
    """
    campaign = campaign_create(actor=actor, **fields)
    upload = campaign_upload_attach(actor=actor, campaign=campaign, file=file, original_name=original_name)
    chosen = {**upload.mapping, **{k: v for k, v in (mapping or {}).items()}}
    for key in campaign.variables:
        if not (mapping or {}).get(key):
            chosen.pop(key, None)  # a fixed value wins over a guessed column
    return campaign_check_csv(actor=actor, campaign=campaign, phone_column=phone_column or upload.phone_column,
                              mapping=chosen)


def campaign_report_seen(*, actor, campaign: Campaign) -> None:
    """Record that a person read the dry-run report (starting requires it)."""
    if campaign.report_at is not None and campaign.report_seen_at is None:
        now = timezone.now()
        Campaign.objects.filter(pk=campaign.pk, report_seen_at__isnull=True).update(report_seen_at=now)
        campaign.report_seen_at = now


