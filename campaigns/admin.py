"""Campaigns in the admin: a wizard (upload → map columns → dry-run report → start) and a live page.

- "Add" is step 1: name, sender, template, pace, start time and the CSV.
- Step 2 maps the file's columns to the template's variables (or fixed values).
- Step 3 is the dry-run report: every row that will not be sent and why. The
  Start button lives only there, so nobody starts a campaign without seeing it.
- The campaign page shows a progress bar and counts by status that poll a
  JSON endpoint every 2 seconds, the top failure reasons, the time to finish,
  and the pause/resume/cancel, export and "retry failed" buttons.

Agents run campaigns (``change_role = AGENT``); viewers see them. Every change
goes through :mod:`campaigns.services` (audited).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import Role
from campaigns import audiences, presenters, selectors, services, tracking
from campaigns.forms import CampaignNewForm, MappingForm
from campaigns.models import (
    ACTIVE_STATUSES,
    Campaign,
    CampaignRecipient,
    CampaignStatus,
    CampaignUpload,
)
from campaigns.presenters import STATUS_TONES
from campaigns.variables import template_slots
from waportal.admin_base import TenantAdminMixin, badge
from waportal.errors import ApplicationError

REPORT_PAGE_SIZE = 100
# List pages refresh the counts of campaigns that can still change: active, or finished lately
# (delivered/read statuses keep arriving for a while after the last send).
LIST_REFRESH_WINDOW = timedelta(days=3)


@admin.register(Campaign)
class CampaignAdmin(TenantAdminMixin, admin.ModelAdmin):
    change_role = Role.AGENT
    list_display = ["name", "status_badge", "progress", "phone_number", "template", "created_at"]
    list_display_links = ["name"]
    list_filter = ["status"]
    search_fields = ["name"]
    list_select_related = ["phone_number", "template"]
    change_list_template = "admin/campaigns/campaign/change_list.html"
    ordering = ["-created_at", "-id"]
    actions = None  # bulk delete would bypass the services (and their audit)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.status in (CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.PAUSED):
            return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request, obj):
        services.campaign_delete(actor=request.user, campaign=obj)

    def get_deleted_objects(self, objs, request):
        """Summarise instead of listing every recipient (a campaign may have 100,000)."""
        campaigns = list(objs)
        recipients = sum(c.recipients.count() for c in campaigns)
        counts = {str(Campaign._meta.verbose_name_plural): len(campaigns),
                  str(CampaignRecipient._meta.verbose_name_plural): recipients}
        return [str(c) for c in campaigns], counts, set(), []

    @admin.display(description=_("status"), ordering="status")
    def status_badge(self, obj: Campaign) -> str:
        return badge(obj.get_status_display(), STATUS_TONES.get(obj.status, "grey"))

    @admin.display(description=_("progress"))
    def progress(self, obj: Campaign) -> str:
        return presenters.list_bar(obj)

    def changelist_view(self, request, extra_context=None):
        recent = timezone.now() - LIST_REFRESH_WINDOW
        live = self.get_queryset(request).filter(Q(status__in=ACTIVE_STATUSES) | Q(finished_at__gte=recent))
        tracking.campaigns_refresh(campaign_ids=list(live.values_list("pk", flat=True)[:500]))
        return super().changelist_view(request, extra_context)

    # --- urls -----------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/mapping/", view(self.mapping_view), name="campaigns_campaign_mapping"),
            path("<int:pk>/report/", view(self.report_view), name="campaigns_campaign_report"),
            path("<int:pk>/progress/", view(self.progress_view), name="campaigns_campaign_progress"),
            path("<int:pk>/export/", view(self.export_view), name="campaigns_campaign_export"),
            path("<int:pk>/do/<str:action>/", view(self.action_view), name="campaigns_campaign_action"),
        ] + super().get_urls()

    def _url(self, name: str, *args: Any) -> str:
        return reverse(f"admin:campaigns_campaign_{name}", args=args)

    def _context(self, request: HttpRequest, **values: Any) -> dict[str, Any]:
        return {**self.admin_site.each_context(request), "opts": self.model._meta,
                "has_view_permission": self.has_view_permission(request), **values}

    def _campaign(self, request: HttpRequest, pk: int) -> Campaign:
        queryset = self.get_queryset(request).select_related(
            "phone_number__client__provider_account", "template", "client", "created_by", "started_by",
            "source_campaign")
        return get_object_or_404(queryset, pk=pk)

    def _require_change(self, request: HttpRequest, campaign: Campaign) -> None:
        if not self.has_change_permission(request, campaign):
            raise PermissionDenied

    @staticmethod
    def _error_to_form(form: forms.Form, exc: ApplicationError) -> None:
        form.add_error(exc.field if exc.field in form.fields else None, exc.message)

    # --- step 1: the campaign and its file -----------------------------------------

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = CampaignNewForm(request.POST or None, request.FILES or None, user=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                campaign = audiences.campaign_create_from_form(actor=request.user, data=form.cleaned_data)
            except ApplicationError as exc:
                self._error_to_form(form, exc)
            else:
                next_step = "report" if form.cleaned_data.get("segment") is not None else "mapping"
                return HttpResponseRedirect(self._url(next_step, campaign.pk))
        context = self._context(request, title=gettext("New campaign"), form=form, step=1)
        return TemplateResponse(request, "admin/campaigns/campaign/new.html", context)

    # --- step 2: columns → variables ----------------------------------------------------

    def mapping_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = self._campaign(request, pk)
        self._require_change(request, campaign)
        upload = CampaignUpload.objects.filter(campaign=campaign).first()
        if campaign.status not in (CampaignStatus.DRAFT, CampaignStatus.VALIDATED) or upload is None or not upload.file:
            return HttpResponseRedirect(self._url("change", campaign.pk))
        slots = template_slots(campaign.template)
        form = MappingForm(request.POST or None, upload=upload, slots=slots, fixed=campaign.variables or {})
        if request.method == "POST" and form.is_valid():
            try:
                services.campaign_check_csv(actor=request.user, campaign=campaign,
                                            phone_column=form.cleaned_data["phone_column"], mapping=form.mapping(),
                                            variables=form.fixed())
            except ApplicationError as exc:
                self._error_to_form(form, exc)
            else:
                return HttpResponseRedirect(self._url("report", campaign.pk))
        context = self._context(request, title=gettext("Match the columns"), campaign=campaign, upload=upload,
                                form=form, step=2, original=campaign)
        return TemplateResponse(request, "admin/campaigns/campaign/mapping.html", context)

    # --- step 3: the dry-run report, with the Start button -------------------------------

    def report_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        campaign = self._campaign(request, pk)
        if campaign.report_at is None:
            return HttpResponseRedirect(self._url("mapping", campaign.pk))
        services.campaign_report_seen(actor=request.user, campaign=campaign)
        paginator = Paginator(selectors.report_issues(campaign=campaign), REPORT_PAGE_SIZE)
        page = paginator.get_page(request.GET.get("p"))
        upload = CampaignUpload.objects.filter(campaign=campaign).first()
        summary = selectors.report_summary(campaign=campaign)
        context = self._context(
            request, title=gettext("Check report: %(name)s") % {"name": campaign.name}, campaign=campaign,
            original=campaign, summary=summary, page=page, step=3,
            can_change=self.has_change_permission(request, campaign),
            can_start=campaign.status == CampaignStatus.VALIDATED and campaign.recipient_count > 0
            and not summary["blockers"],
            can_remap=bool(upload and upload.file) and campaign.status == CampaignStatus.VALIDATED,
        )
        return TemplateResponse(request, "admin/campaigns/campaign/report.html", context)

    # --- the campaign page ------------------------------------------------------------------

    def change_view(self, request, object_id, form_url="", extra_context=None):
        try:
            pk = int(object_id)
        except (TypeError, ValueError):
            raise Http404
        campaign = self._campaign(request, pk)
        if campaign.status == CampaignStatus.DRAFT and CampaignUpload.objects.filter(campaign=campaign).exclude(
                file="").exists():
            return HttpResponseRedirect(self._url("mapping", campaign.pk))
        if campaign.status == CampaignStatus.VALIDATED:
            return HttpResponseRedirect(self._url("report", campaign.pk))
        presenters.campaign_fresh(campaign, always=True)
        progress = presenters.progress_payload(campaign)
        context = self._context(
            request, title=campaign.name, campaign=campaign, original=campaign, progress=progress,
            bar=presenters.progress_svg(progress["segments"], label=gettext("Progress"),
                                        css_class="wa-camp-bar wa-camp-bar-big"),
            can_change=self.has_change_permission(request, campaign),
            can_delete=self.has_delete_permission(request, campaign),
            buttons=presenters.campaign_buttons(campaign, progress),
            button_statuses=presenters.button_statuses(),
            status_tone=STATUS_TONES.get(campaign.status, "grey"),
        )
        return TemplateResponse(request, "admin/campaigns/campaign/detail.html", context)

    def progress_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        """What the campaign page polls every 2 seconds."""
        campaign = presenters.campaign_fresh(self._campaign(request, pk))
        return JsonResponse(presenters.progress_payload(campaign))

    def export_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        return presenters.export_response(self._campaign(request, pk), localized=True)

    def action_view(self, request: HttpRequest, pk: int, action: str) -> HttpResponse:
        campaign = self._campaign(request, pk)
        if request.method != "POST" or action not in presenters.ACTIONS:
            return HttpResponseRedirect(self._url("change", campaign.pk))
        self._require_change(request, campaign)
        try:
            result, words = presenters.campaign_control(actor=request.user, campaign=campaign, action=action,
                                                        data=request.POST)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            back = "report" if action == "start" else "change"
            return HttpResponseRedirect(self._url(back, campaign.pk))
        self.message_user(request, words, messages.SUCCESS)
        return HttpResponseRedirect(self._url("report" if action == "retry" else "change", result.pk))
