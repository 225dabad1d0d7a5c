"""Reads of our own outbound messages: the funnel sent → delivered → read → replied per business number,
campaign or template, and why messages failed. Each function runs one query; messaging and campaigns are
read through their models, imported lazily (analytics sits above them and reads only)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import CharField, Count, Exists, F, OuterRef, Q, Value
from django.utils.translation import gettext as _

# Outbound messages count as "replied" when the customer wrote back in the same
# conversation within WhatsApp's customer-service window, or replied to them explicitly.
REPLY_WINDOW = timedelta(hours=24)


def _message_model():
    from messaging.models import Message

    return Message


def _campaign_link():
    """(lookup from a message to its campaign, the campaign model), or None while messages have none.

    The campaigns app may link messages directly (``campaign``) or through its
    recipient rows (``campaign_recipient__campaign``); whichever exists is used,
    and the campaign funnel is simply left out when neither does.
    """
    from django.core.exceptions import FieldDoesNotExist

    for path in ("campaign", "campaign_recipient__campaign"):
        model = _message_model()
        try:
            for part in path.split("__"):
                field_ = model._meta.get_field(part)
                if not field_.is_relation or field_.related_model is None:
                    raise FieldDoesNotExist(part)
                model = field_.related_model
        except FieldDoesNotExist:
            continue
        return path, model
    return None


def campaign_path() -> str | None:
    """The lookup from a message to its campaign, or None while messages have none."""
    link = _campaign_link()
    return link[0] if link else None


def campaigns_available() -> bool:
    """Whether messages carry a campaign yet."""
    return campaign_path() is not None


def _outbound(*, wabas_qs, start: datetime, end: datetime, phone_numbers: Sequence[str] = ()):
    from messaging.models import Direction

    Message = _message_model()
    queryset = Message.objects.filter(
        direction=Direction.OUTBOUND,
        phone_number__waba__in=wabas_qs.order_by().values("pk"),
        created_at__gte=start,
        created_at__lt=end,
    ).order_by()
    if phone_numbers:
        queryset = queryset.filter(phone_number__digits__in=list(phone_numbers))
    return queryset


def _funnel_aggregates() -> dict[str, Any]:
    """sent → delivered → read → replied, plus failed, from status timestamps (and the status as a fallback).

    A later stage proves the earlier ones: a read message was delivered and sent,
    whatever events were missed.
    """
    from messaging.models import Direction, MessageStatus

    Message = _message_model()
    read = Q(read_at__isnull=False) | Q(status=MessageStatus.READ)
    delivered = read | Q(delivered_at__isnull=False) | Q(status=MessageStatus.DELIVERED)
    sent = delivered | Q(sent_at__isnull=False) | Q(status=MessageStatus.SENT)
    replied = Exists(
        Message.objects.filter(direction=Direction.INBOUND).filter(
            Q(reply_to=OuterRef("pk"))
            | Q(
                conversation=OuterRef("conversation"),
                created_at__gt=OuterRef("created_at"),
                created_at__lte=OuterRef("created_at") + REPLY_WINDOW,
            )
        )
    )
    return {
        "total": Count("pk"),
        "sent": Count("pk", filter=sent),
        "delivered": Count("pk", filter=delivered),
        "read": Count("pk", filter=read),
        "replied": Count("pk", filter=replied),
        "failed": Count("pk", filter=Q(status=MessageStatus.FAILED)),
    }


FUNNEL_STAGES = ("sent", "delivered", "read", "replied")
FUNNEL_COUNTS = ("total", "failed", *FUNNEL_STAGES)


def _funnel_part(queryset, by: str):
    """One grouping of the funnel as (dim, key, name, detail, counts...) rows, ready for a UNION."""
    text = CharField()
    if by == "phone_number":
        keys = {
            "dim": Value(by, output_field=text),
            "key": F("phone_number_id"),
            "name": F("phone_number__display_phone_number"),
            "detail": F("phone_number__verified_name"),
        }
    elif by == "campaign":
        link = _campaign_link()
        if link is None:
            return None
        path, campaign_model = link
        queryset = queryset.filter(**{f"{path}__isnull": False})
        has_name = any(f.name == "name" for f in campaign_model._meta.get_fields())
        keys = {
            "dim": Value(by, output_field=text),
            "key": F(path),
            "name": F(f"{path}__name") if has_name else Value("", output_field=text),
            "detail": Value("", output_field=text),
        }
    else:
        raise ValueError(f"Unknown funnel grouping {by!r}.")
    return queryset.values(**keys).annotate(**_funnel_aggregates()).order_by()


def message_funnels(
    *,
    wabas_qs,
    start: datetime,
    end: datetime,
    by: Sequence[str] = ("phone_number", "campaign"),
    phone_numbers: Sequence[str] = (),
    limit: int = 50,
) -> dict[str, list[dict[str, Any]]]:
    """Our outbound messages of ``[start, end)`` through sent → delivered → read → replied, per grouping.

    ``by``: ``phone_number`` (business number) and/or ``campaign`` (left out,
    as an empty list, while messages have no campaign). One query: a UNION
    ALL of one GROUP BY per grouping. Rows are ``{key, label, total, sent,
    delivered, read, replied, failed}``, most messages first, at most
    ``limit`` per grouping.
    """
    base = _outbound(wabas_qs=wabas_qs, start=start, end=end, phone_numbers=phone_numbers)
    result: dict[str, list[dict[str, Any]]] = {name: [] for name in by}
    parts = [part for part in (_funnel_part(base, name) for name in by) if part is not None]
    if not parts:
        return result
    combined = parts[0].union(*parts[1:], all=True).order_by() if len(parts) > 1 else parts[0]
    for row in combined:
        shaped = {name: row[name] for name in FUNNEL_COUNTS}
        shaped["key"] = row["key"]
        if row["dim"] == "phone_number":
            shaped["label"] = f"{row['name']} · {row['detail']}" if row["detail"] else row["name"]
        else:
            shaped["label"] = row["name"] or _("Campaign %(id)s") % {"id": row["key"]}
        result[row["dim"]].append(shaped)
    for name, rows in result.items():
        rows.sort(key=lambda r: (-r["total"], str(r["label"])))
        result[name] = rows[:limit]
    return result


def template_funnel(
    *, wabas_qs, start: datetime, end: datetime, phone_numbers: Sequence[str] = (), limit: int = 50
) -> list[dict[str, Any]]:
    """The funnel per template, beside the provider's 7-day metrics from the webhook (one query).

    ``provider_sent_7d``, ``provider_opened_7d`` and ``provider_top_block_reason``
    are what WhatsApp last reported for the template (``template_performance_metrics``);
    ours count the messages of the range.
    """
    rows = (
        _outbound(wabas_qs=wabas_qs, start=start, end=end, phone_numbers=phone_numbers)
        .filter(template__isnull=False)
        .values(
            "template_id",
            "template__name",
            "template__language",
            "template__messages_sent_7d",
            "template__messages_opened_7d",
            "template__top_block_reason",
        )
        .annotate(**_funnel_aggregates())
        .order_by("-total", "template__name")[:limit]
    )
    result = []
    for row in rows:
        name, language = row["template__name"], row["template__language"]
        result.append(
            {
                **{count: row[count] for count in FUNNEL_COUNTS},
                "key": row["template_id"],
                "label": f"{name} ({language})" if language else name,
                "provider_sent_7d": row["template__messages_sent_7d"],
                "provider_opened_7d": row["template__messages_opened_7d"],
                "provider_top_block_reason": row["template__top_block_reason"] or "",
            }
        )
    return result


def message_funnel(
    *, wabas_qs, start: datetime, end: datetime, by: str, phone_numbers: Sequence[str] = (), limit: int = 50
) -> list[dict[str, Any]]:
    """The funnel for one grouping: ``phone_number``, ``campaign`` or ``template`` (one query)."""
    common = {"wabas_qs": wabas_qs, "start": start, "end": end, "phone_numbers": phone_numbers, "limit": limit}
    if by == "template":
        return template_funnel(**common)
    return message_funnels(by=(by,), **common)[by]


def failure_reasons(
    *, wabas_qs, start: datetime, end: datetime, phone_numbers: Sequence[str] = (), limit: int = 15
) -> list[dict[str, Any]]:
    """Why our messages of ``[start, end)`` failed, most frequent first: ``{code, title, count}`` (one query)."""
    from messaging.models import MessageStatus

    rows = (
        _outbound(wabas_qs=wabas_qs, start=start, end=end, phone_numbers=phone_numbers)
        .filter(status=MessageStatus.FAILED)
        .values("error_code", "error_title")
        .annotate(count=Count("pk"))
        .order_by("-count", "error_code")[:limit]
    )
    return [
        {"code": row["error_code"], "title": row["error_title"] or _("No reason given"), "count": row["count"]}
        for row in rows
    ]
