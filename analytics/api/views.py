"""Thin API views: validate the input, check tenancy and role, call a selector or the sync service."""

from __future__ import annotations

import zoneinfo

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role, WhatsAppBusinessAccount
from accounts.tenancy import require_role, scope
from analytics import selectors, services
from analytics.api.serializers import (
    ConversationsQuerySerializer,
    ConversationsResponseSerializer,
    SyncRequestSerializer,
    SyncResultSerializer,
)
from analytics.filters import PointFilters, point_filters
from analytics.ranges import align_to_periods, date_range
from waportal.errors import ApplicationError

# A series is answered whole (see ConversationsView); past this many rows the
# caller is asked to narrow the question instead of receiving megabytes.
MAX_ROWS = 20_000


def _visible_waba(user, pk: int, min_role: str = Role.VIEWER) -> WhatsAppBusinessAccount:
    """The WABA if ``user`` may see it; another tenant's WABA is a 404 naming the field, like a missing one."""
    waba = (
        scope(WhatsAppBusinessAccount.objects.select_related("client__provider_account"), user, "client", min_role)
        .filter(pk=pk)
        .first()
    )
    if waba is None:
        raise ApplicationError(_("No WABA with id %(id)s is visible to you.") % {"id": pk}, field="waba", http_status=404)
    return waba


def _zone(name: str | None):
    if not name:
        return timezone.get_current_timezone()
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ApplicationError(
            _("“%(value)s” is not a time zone: use an IANA name such as America/Bogota.") % {"value": name}, field="tz"
        )


def _filters(data: dict) -> PointFilters:
    return point_filters(
        phone_numbers=data.get("phone_numbers") or (),
        country_codes=data.get("country_codes") or (),
        conversation_types=data.get("conversation_types") or (),
        conversation_directions=data.get("conversation_directions") or (),
    )


class ConversationsView(APIView):
    """Conversation counts from the synced provider analytics.

    Not paginated, on purpose: a series is consumed whole (drawn or summed),
    and a page boundary would cut a period's groups apart. Its size is bounded
    instead: more than 20,000 rows is a 400 asking for a shorter range, a
    coarser granularity or fewer ``group_by`` dimensions.
    """

    @extend_schema(parameters=[ConversationsQuerySerializer], responses=ConversationsResponseSerializer)
    def get(self, request):
        query = ConversationsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        tz = _zone(data.get("tz"))
        waba = _visible_waba(request.user, data["waba"])
        span = align_to_periods(
            date_range(start=data.get("start"), end=data.get("end"), tz=tz), granularity=data["granularity"], tz=tz
        )
        group_by = selectors.parse_group_by(data.get("group_by") or [])
        series = selectors.analytics_series(
            wabas_qs=WhatsAppBusinessAccount.objects.filter(pk=waba.pk),
            start=span.start,
            end=span.end,
            granularity=data["granularity"],
            group_by=group_by,
            filters=_filters(data),
            tz=tz,
            limit=MAX_ROWS,
        )
        if series.truncated:
            raise ApplicationError(
                _(
                    "The answer would have more than %(max)d rows: shorten the range, choose a coarser "
                    "granularity or group by fewer dimensions."
                )
                % {"max": MAX_ROWS},
                field="start",
            )
        return Response(
            {
                "waba": waba.pk,
                "waba_id": waba.waba_id,
                "granularity": series.granularity,
                "source_granularity": series.sources.get(waba.pk, series.granularity),
                "start": span.start.astimezone(tz).isoformat(),
                "end": span.end.astimezone(tz).isoformat(),
                "time_zone": str(tz),
                "group_by": group_by,
                "results": [{**row, "start": row["start"].isoformat()} for row in series.rows],
                "total": series.total,
                "previous_total": series.previous_total,
                "change_percent": series.change,
            }
        )


class SyncView(APIView):
    """Pull a WABA's analytics for a range from the provider now (admins of its client)."""

    @extend_schema(request=SyncRequestSerializer, responses=SyncResultSerializer)
    def post(self, request):
        body = SyncRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        waba = _visible_waba(request.user, data["waba"])
        require_role(request.user, waba.client_id, Role.ADMIN)
        tz = timezone.get_current_timezone()
        span = date_range(start=data.get("start"), end=data.get("end"), tz=tz)
        filters = _filters(data)
        result = services.analytics_sync(
            waba=waba,
            start=span.start,
            end=span.end,
            granularity=data["granularity"],
            phone_numbers=filters.phone_numbers,
            country_codes=filters.country_codes,
            conversation_types=filters.conversation_types,
            conversation_directions=filters.conversation_directions,
            actor=request.user,
        )
        return Response(result.as_dict())
