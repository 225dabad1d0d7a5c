"""Thin API views for campaigns: validate input, call a service or selector, shape the answer.

Create answers 201 with the campaign already checked (the dry run): its
``report`` has the counts, ``GET …/{id}/report/`` lists every row that will not
be sent and why, and reading it is what allows ``POST …/{id}/start/``.
"""

from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from accounts.models import PhoneNumber
from accounts.tenancy import scope
from campaigns import audiences, presenters, selectors, services, tracking
from campaigns.api.serializers import (
    CampaignCreateSerializer,
    CampaignDetailSerializer,
    CampaignRetrySerializer,
    CampaignSerializer,
    CampaignStartSerializer,
    RecipientSerializer,
    ReportIssueSerializer,
)
from campaigns.models import Campaign, CampaignRecipient, CampaignStatus, RecipientState
from contacts.models import Segment
from templates_mgr.models import Template


class CampaignFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=CampaignStatus.choices)

    class Meta:
        model = Campaign
        fields = ["status", "phone_number", "template", "client"]


class RecipientFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=RecipientState.choices)

    class Meta:
        model = CampaignRecipient
        fields = ["state", "skip_reason"]


class CampaignViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Bulk template sends: create (JSON list or CSV), read progress, start/pause/resume/cancel."""

    filterset_class = CampaignFilter
    search_fields = ["name"]
    ordering_fields = ["created_at", "name", "status", "started_at"]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        queryset = Campaign.objects.select_related("phone_number", "template", "created_by")
        return scope(queryset, self.request.user, "client")

    def get_serializer_class(self):
        return CampaignDetailSerializer if self.action == "retrieve" else CampaignSerializer

    def _fresh(self, campaign: Campaign) -> Campaign:
        services.campaigns_recover(campaign_ids=[campaign.pk])
        if tracking.campaigns_refresh(campaign_ids=[campaign.pk]):
            campaign.refresh_from_db()
        return campaign

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        items = presenters.counts_refreshed(page if page is not None else list(queryset))
        data = self.get_serializer(items, many=True).data
        return self.get_paginated_response(data) if page is not None else Response(data)

    def retrieve(self, request, *args, **kwargs):
        campaign = self._fresh(self.get_object())
        return Response(CampaignDetailSerializer(campaign, context=self.get_serializer_context()).data)

    @extend_schema(request={"application/json": CampaignCreateSerializer,
                            "multipart/form-data": CampaignCreateSerializer},
                   responses={201: CampaignSerializer})
    def create(self, request, *args, **kwargs):
        serializer = CampaignCreateSerializer(
            data=request.data,
            phone_numbers=scope(PhoneNumber.objects.select_related("client__provider_account"), request.user,
                                "client"),
            templates=scope(Template.objects.all(), request.user, "client"),
            segments=scope(Segment.objects.all(), request.user, "client"),
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        fields = {name: data[name] for name in ("name", "phone_number", "template", "default_country", "variables")}
        fields.update({name: data[name] for name in ("pace", "start_at") if data.get(name) is not None})
        if data.get("segment") is not None:
            campaign = audiences.campaign_create_for_segment(
                actor=request.user, segment=data["segment"], attribute_mapping=data["attribute_mapping"], **fields)
        elif data.get("file") is not None:
            upload = data["file"]
            campaign = services.campaign_create_with_csv(
                actor=request.user, file=upload, original_name=upload.name, phone_column=data["phone_column"],
                mapping=data["mapping"], **fields,
            )
        else:
            campaign = services.campaign_create_with_recipients(
                actor=request.user, recipients=data["recipients"], **fields)
        return Response(CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)

    # --- run control ---

    def _control(self, service, **kwargs) -> Response:
        campaign = service(actor=self.request.user, campaign=self.get_object(), **kwargs)
        campaign.refresh_from_db()
        return Response(CampaignSerializer(campaign).data)

    @extend_schema(request=CampaignStartSerializer, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Start now, or at ``start_at``. Needs the dry-run report to have been read (``GET …/report/``)."""
        serializer = CampaignStartSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._control(services.campaign_start, start_at=serializer.validated_data.get("start_at"))

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        """Pause: workers stop within a second or two."""
        return self._control(services.campaign_pause)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._control(services.campaign_resume)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel: nothing more is sent; unsent recipients are marked cancelled."""
        return self._control(services.campaign_cancel)

    @extend_schema(request=CampaignRetrySerializer, responses={201: CampaignSerializer})
    @action(detail=True, methods=["post"], url_path="retry-failed")
    def retry_failed(self, request, pk=None):
        """A follow-up campaign with only the failed recipients, checked and ready to start."""
        serializer = CampaignRetrySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        follow_up = services.campaign_retry_failed(actor=request.user, campaign=self.get_object(),
                                                   **serializer.validated_data)
        return Response(CampaignSerializer(follow_up).data, status=status.HTTP_201_CREATED)

    # --- reads ---

    @extend_schema(
        request=None,
        responses=inline_serializer("CampaignReport", {
            "rows": serializers.IntegerField(), "sendable": serializers.IntegerField(),
            "skipped": serializers.IntegerField(), "reasons": serializers.ListField(child=serializers.DictField()),
            "checked_at": serializers.DateTimeField(), "seen_at": serializers.DateTimeField(),
            "count": serializers.IntegerField(), "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True), "results": ReportIssueSerializer(many=True),
        }),
    )
    @action(detail=True, methods=["get"])
    def report(self, request, pk=None):
        """The dry run: counts by reason and every row that will not be sent (paginated). Marks it read."""
        campaign = self.get_object()
        services.campaign_report_seen(actor=request.user, campaign=campaign)
        page = self.paginate_queryset(selectors.report_issues(campaign=campaign))
        response = self.get_paginated_response(ReportIssueSerializer(page, many=True).data)
        response.data = {**selectors.report_summary(campaign=campaign), **response.data}
        return response

    @extend_schema(request=None, responses=RecipientSerializer(many=True))
    @action(detail=True, methods=["get"])
    def recipients(self, request, pk=None):
        """Per-recipient results (filter with ``state``)."""
        campaign = self._fresh(self.get_object())
        queryset = CampaignRecipient.objects.filter(campaign=campaign).select_related("message").order_by(
            "row_number")
        queryset = RecipientFilter(request.query_params, queryset=queryset).qs
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(RecipientSerializer(page, many=True).data)

    @extend_schema(request=None, responses={(200, "text/csv"): OpenApiTypes.STR})
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        """Per-recipient results as CSV, streamed."""
        return presenters.export_response(self.get_object())
