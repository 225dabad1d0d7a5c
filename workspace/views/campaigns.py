"""The campaigns pages in the workspace frame: the list, the wizard (campaign and audience → match the columns →
dry-run report and start), a campaign's page with its live progress, controls and export.

The same forms, services and presenters as the admin's pages (``campaigns.forms``, ``campaigns.audiences``,
``campaigns.presenters``) and the same roles: every member reads (viewer), agents and admins run campaigns (the
admin's ``change_role``), operators everything; another client's campaign is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from accounts.tenancy import client_ids_for, has_role
from campaigns import audiences, presenters, selectors, services
from campaigns.forms import CampaignNewForm, MappingForm
from campaigns.models import Campaign, CampaignStatus, CampaignUpload
from campaigns.variables import template_slots
from waportal.errors import ApplicationError
from workspace.context import frame

PER_PAGE = 25
REPORT_PAGE_SIZE = 100


def may_run_campaigns(user) -> bool:
    """Whether the user may create campaigns in some client (agent or admin there, or an operator)."""
    ids = client_ids_for(user, Role.AGENT)
    return ids is None or bool(ids)


def _campaign(request, pk: int) -> Campaign:
    queryset = selectors.campaigns_visible(request.user).select_related(
        "phone_number__client__provider_account", "template__waba", "client", "source_campaign")
    return get_object_or_404(queryset, pk=pk)


def _require_run(request, campaign: Campaign) -> None:
    if not has_role(request.user, campaign.client_id, Role.AGENT):
        raise PermissionDenied


def _page(request, template: str, *, title: str, http_status: int = 200, **values) -> HttpResponse:
    context = frame(request, current="campaigns", title=title)
    context.update(values)
    return render(request, f"workspace/campaigns/{template}", context, status=http_status)


def _error_to_form(form, exc: ApplicationError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@login_required
@require_GET
def campaign_list(request):
    status = request.GET.get("status", "")
    status = status if status in CampaignStatus.values else ""
    queryset = selectors.campaigns_visible(request.user).select_related("phone_number", "template").order_by(
        "-created_at", "-id")
    if status:
        queryset = queryset.filter(status=status)
    page = Paginator(queryset, PER_PAGE).get_page(request.GET.get("page"))
    rows = [{"c": c, "bar": presenters.list_bar(c), "counts": selectors.group_counts(c.counts or {}),
             "tone": presenters.STATUS_TONES.get(c.status, "grey")}
            for c in presenters.counts_refreshed(list(page.object_list))]
    return _page(request, "list.html", title=_("Campaigns"), page=page, rows=rows, status=status,
                 statuses=CampaignStatus.choices, query=f"status={status}" if status else "",
                 can_create=may_run_campaigns(request.user))


@login_required
def campaign_new(request):
    if not may_run_campaigns(request.user):
        raise PermissionDenied
    form = CampaignNewForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            campaign = audiences.campaign_create_from_form(actor=request.user, data=form.cleaned_data)
        except ApplicationError as exc:
            _error_to_form(form, exc)
        else:
            next_step = "report" if form.cleaned_data.get("segment") is not None else "mapping"
            return redirect(f"workspace:campaign-{next_step}", campaign.pk)
    return _page(request, "new.html", title=_("New campaign"), form=form, step=1,
                 http_status=400 if form.errors else 200)


@login_required
def campaign_mapping(request, pk: int):
    campaign = _campaign(request, pk)
    _require_run(request, campaign)
    upload = CampaignUpload.objects.filter(campaign=campaign).first()
    if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.VALIDATED) or upload is None or not upload.file:
        return redirect("workspace:campaign", campaign.pk)
    form = MappingForm(request.POST or None, upload=upload, slots=template_slots(campaign.template),
                       fixed=campaign.variables or {})
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_check_csv(actor=request.user, campaign=campaign,
                                        phone_column=form.cleaned_data["phone_column"], mapping=form.mapping(),
                                        variables=form.fixed())
        except ApplicationError as exc:
            _error_to_form(form, exc)
        else:
            return redirect("workspace:campaign-report", campaign.pk)
    return _page(request, "mapping.html", title=_("Match the columns"), campaign=campaign, upload=upload,
                 form=form, step=2, http_status=400 if form.errors else 200)


@login_required
@require_GET
def campaign_report(request, pk: int):
    campaign = _campaign(request, pk)
    can_run = has_role(request.user, campaign.client_id, Role.AGENT)
    if campaign.report_at is None:
        return redirect("workspace:campaign-mapping" if campaign.status == CampaignStatus.DRAFT and can_run
                        else "workspace:campaign", campaign.pk)
    services.campaign_report_seen(actor=request.user, campaign=campaign)
    summary = selectors.report_summary(campaign=campaign)
    upload = CampaignUpload.objects.filter(campaign=campaign).first()
    return _page(
        request, "report.html", title=_("Check report: %(name)s") % {"name": campaign.name}, campaign=campaign,
        summary=summary, step=3, can_run=can_run,
        page=Paginator(selectors.report_issues(campaign=campaign), REPORT_PAGE_SIZE).get_page(request.GET.get("p")),
        can_start=campaign.status == CampaignStatus.VALIDATED and campaign.recipient_count > 0
        and not summary["blockers"],
        can_remap=can_run and bool(upload and upload.file) and campaign.status == CampaignStatus.VALIDATED,
    )


@login_required
@require_GET
def campaign_detail(request, pk: int):
    campaign = _campaign(request, pk)
    can_run = has_role(request.user, campaign.client_id, Role.AGENT)
    if campaign.status == CampaignStatus.DRAFT and can_run and CampaignUpload.objects.filter(
            campaign=campaign).exclude(file="").exists():
        return redirect("workspace:campaign-mapping", campaign.pk)
    if campaign.status == CampaignStatus.VALIDATED:
        return redirect("workspace:campaign-report", campaign.pk)
    presenters.campaign_fresh(campaign, always=True)
    progress = presenters.progress_payload(campaign)
    return _page(
        request, "detail.html", title=campaign.name, campaign=campaign, progress=progress, can_run=can_run,
        bar=presenters.progress_svg(progress["segments"], label=_("Progress"), css_class="wa-camp-bar wa-camp-bar-big"),
        buttons=presenters.campaign_buttons(campaign, progress), button_statuses=presenters.button_statuses(),
        status_tone=presenters.STATUS_TONES.get(campaign.status, "grey"),
    )


@login_required
@require_GET
def campaign_progress(request, pk: int):
    """What the campaign page's script polls every 2 seconds (``campaigns/campaigns.js``)."""
    campaign = presenters.campaign_fresh(_campaign(request, pk))
    return JsonResponse(presenters.progress_payload(campaign))


@login_required
@require_GET
def campaign_export(request, pk: int):
    """The results for a person: the user's language and time zone, Excel-friendly."""
    return presenters.export_response(_campaign(request, pk), localized=True)


@login_required
@require_POST
def campaign_action(request, pk: int, action: str):
    campaign = _campaign(request, pk)
    _require_run(request, campaign)
    try:
        result, words = presenters.campaign_control(actor=request.user, campaign=campaign, action=action,
                                                    data=request.POST)
    except ApplicationError as exc:
        messages.error(request, exc.message)
        back = "workspace:campaign-report" if action == "start" else "workspace:campaign"
        return redirect(back, campaign.pk)
    messages.success(request, words)
    return redirect("workspace:campaign-report" if action == "retry" else "workspace:campaign", result.pk)
