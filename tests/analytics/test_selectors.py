"""Selectors: grouping and truncation in SQL equal the sums of the raw points; sources never double; our funnel."""

from __future__ import annotations

import random
import zoneinfo
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from accounts.models import WhatsAppBusinessAccount
from analytics.filters import PointFilters
from analytics.funnels import failure_reasons, message_funnel
from analytics.models import DIMENSIONS, ConversationDataPoint
from analytics.selectors import (
    analytics_breakdown,
    analytics_series,
    parse_group_by,
    period_starts,
    resolve_sources,
)
from tests.factories import PhoneNumberFactory
from waportal.errors import ApplicationError

BOGOTA = zoneinfo.ZoneInfo("America/Bogota")
START = datetime(2024, 3, 1, tzinfo=BOGOTA)
END = datetime(2024, 3, 8, tzinfo=BOGOTA)


def make_points(waba, *, granularity="HALF_HOUR", count=400, seed=7, start=START, end=END):
    """Random half-hour points over [start, end) with every dimension varying."""
    rng = random.Random(seed)
    slots = int((end - start) / timedelta(minutes=30))
    now = timezone.now()
    seen = set()
    points = []
    while len(points) < count:
        begin = (start + timedelta(minutes=30 * rng.randrange(slots))).astimezone(UTC)
        key = (
            begin,
            rng.choice(["573245550101", "573245550102"]),
            rng.choice(["CO", "PE", "MX"]),
            rng.choice(["REGULAR", "FREE_TIER"]),
            rng.choice(["USER_INITIATED", "BUSINESS_INITIATED"]),
        )
        if key in seen:
            continue
        seen.add(key)
        points.append(
            ConversationDataPoint(
                waba=waba,
                client_id=waba.client_id,
                granularity=granularity,
                start=begin,
                end=begin + timedelta(minutes=30),
                phone_number=key[1],
                country=key[2],
                conversation_type=key[3],
                conversation_direction=key[4],
                conversations=rng.randint(1, 9),
                synced_at=now,
            )
        )
    ConversationDataPoint.objects.bulk_create(points)
    return points


@pytest.fixture
def waba(db):
    return PhoneNumberFactory(digits="573245550101").waba


def waba_qs(waba):
    return WhatsAppBusinessAccount.objects.filter(pk=waba.pk)


@pytest.mark.django_db
@pytest.mark.parametrize("dimension", [None, *DIMENSIONS])
@pytest.mark.parametrize("granularity", ["HALF_HOUR", "DAILY", "MONTHLY"])
def test_grouping_by_each_dimension_returns_the_sums_of_the_raw_points(waba, dimension, granularity):
    raw = make_points(waba)
    series = analytics_series(
        wabas_qs=waba_qs(waba), start=START, end=END, granularity=granularity, group_by=dimension, tz=BOGOTA
    )

    expected: Counter = Counter()
    for p in raw:
        local = p.start.astimezone(BOGOTA)
        if granularity == "DAILY":
            local = local.replace(hour=0, minute=0)
        elif granularity == "MONTHLY":
            local = local.replace(day=1, hour=0, minute=0)
        expected[(local, getattr(p, DIMENSIONS[dimension]) if dimension else None)] += p.conversations
    got = Counter({(row["start"], row.get(dimension) if dimension else None): row["conversations"] for row in series.rows})
    assert got == expected
    assert series.total == sum(p.conversations for p in raw)
    assert all(row["start"].utcoffset() == timedelta(hours=-5) for row in series.rows)


@pytest.mark.django_db
def test_several_dimensions_and_filters(waba):
    raw = make_points(waba)
    filters = PointFilters(country_codes=("CO", "PE"), conversation_directions=("USER_INITIATED",))
    series = analytics_series(
        wabas_qs=waba_qs(waba),
        start=START,
        end=END,
        granularity="MONTHLY",
        group_by="country,phone_number",
        filters=filters,
        tz=BOGOTA,
    )
    expected: Counter = Counter()
    for p in raw:
        if p.country in ("CO", "PE") and p.conversation_direction == "USER_INITIATED":
            expected[(p.country, p.phone_number)] += p.conversations
    assert Counter({(r["country"], r["phone_number"]): r["conversations"] for r in series.rows}) == expected


@pytest.mark.django_db
def test_totals_compare_with_the_previous_period_of_the_same_length(waba):
    make_points(waba, count=50, start=START, end=END, seed=1)
    previous = make_points(waba, count=30, start=START - timedelta(days=7), end=START, seed=2)
    make_points(waba, count=20, start=START - timedelta(days=20), end=START - timedelta(days=7), seed=3)  # too old
    series = analytics_series(wabas_qs=waba_qs(waba), start=START, end=END, granularity="DAILY", tz=BOGOTA)
    assert series.previous_total == sum(p.conversations for p in previous)
    assert series.change == round((series.total - series.previous_total) * 100 / series.previous_total, 1)


@pytest.mark.django_db
def test_a_series_reads_one_granularity_per_waba_and_never_doubles(waba):
    half_hours = make_points(waba, count=100)
    day_total = sum(p.conversations for p in half_hours)
    other = PhoneNumberFactory().waba
    make_points(other, count=60, seed=9)

    # Only half hours stored: days and months are summed from them.
    assert analytics_series(wabas_qs=waba_qs(waba), start=START, end=END, granularity="DAILY").total == day_total
    assert resolve_sources(wabas_qs=waba_qs(waba), granularity="MONTHLY", start=START, end=END) == {
        waba.pk: "HALF_HOUR"
    }
    # DAILY points stored too: a DAILY series reads them alone.
    ConversationDataPoint.objects.create(
        waba=waba, client_id=waba.client_id, granularity="DAILY", start=START, end=START + timedelta(days=1),
        conversations=5, synced_at=timezone.now(),
    )
    both = WhatsAppBusinessAccount.objects.filter(pk__in=[waba.pk, other.pk])
    sources = resolve_sources(wabas_qs=both, granularity="DAILY", start=START, end=END)
    assert sources == {waba.pk: "DAILY", other.pk: "HALF_HOUR"}
    other_total = sum(p.conversations for p in ConversationDataPoint.objects.filter(waba=other))
    assert analytics_series(wabas_qs=both, start=START, end=END, granularity="DAILY").total == 5 + other_total
    # Half-hour series cannot be made of days.
    assert analytics_series(wabas_qs=waba_qs(waba), start=START, end=END, granularity="HALF_HOUR").total == day_total


@pytest.mark.django_db
def test_breakdown_gives_totals_and_rankings_in_one_query(waba, django_assert_num_queries):
    raw = make_points(waba)
    make_points(waba, count=40, start=START - timedelta(days=7), end=START, seed=5)
    sources = {waba.pk: "HALF_HOUR"}
    with django_assert_num_queries(1):
        breakdown = analytics_breakdown(sources=sources, start=START, end=END)
    assert breakdown.total == sum(p.conversations for p in raw)
    for dimension, field in DIMENSIONS.items():
        expected = Counter()
        for p in raw:
            expected[getattr(p, field)] += p.conversations
        assert {r["key"]: r["current"] for r in breakdown.by[dimension] if r["current"]} == dict(expected)
        currents = [r["current"] for r in breakdown.by[dimension]]
        assert currents == sorted(currents, reverse=True)


@pytest.mark.django_db
def test_a_series_costs_a_constant_number_of_queries(waba, django_assert_num_queries):
    make_points(waba, count=50)
    with django_assert_num_queries(3):
        analytics_series(wabas_qs=waba_qs(waba), start=START, end=END, granularity="DAILY", group_by="country")
    make_points(waba, count=300, seed=11, start=END, end=END + timedelta(days=7))
    with django_assert_num_queries(2):
        analytics_series(
            sources={waba.pk: "HALF_HOUR"}, start=START, end=END + timedelta(days=7), granularity="HALF_HOUR",
            group_by=list(DIMENSIONS),
        )


def test_group_by_accepts_repeats_and_comma_lists_and_names_bad_values():
    assert parse_group_by(["country,phone", "country", "conversation_type"]) == [
        "country",
        "phone_number",
        "conversation_type",
    ]
    with pytest.raises(ApplicationError) as caught:
        parse_group_by("colour")
    assert caught.value.field == "group_by"


def test_period_axis_has_every_period_in_the_viewers_zone():
    days = period_starts(start=START, end=END, granularity="DAILY", tz=BOGOTA)
    assert len(days) == 7 and days[0] == START
    halves = period_starts(start=START, end=START + timedelta(hours=2), granularity="HALF_HOUR", tz=BOGOTA)
    assert len(halves) == 4
    months = period_starts(start=START, end=datetime(2024, 6, 15, tzinfo=BOGOTA), granularity="MONTHLY", tz=BOGOTA)
    assert [m.month for m in months] == [3, 4, 5, 6]


# --- our own messages -----------------------------------------------------------------------


@pytest.fixture
def message_log(waba):
    """Outbound messages at every stage, a reply, failures and a template with provider metrics."""
    from messaging.models import Contact, Conversation, Message
    from templates_mgr.models import Template

    number = waba.phone_numbers.get()
    second = PhoneNumberFactory(waba=waba, client=waba.client, digits="573245550102")
    template = Template.objects.create(
        client=waba.client, waba=waba, name="factura_pdf", language="es", status="APPROVED",
        messages_sent_7d=120, messages_opened_7d=80, top_block_reason="NO_LONGER_NEEDED",
    )
    contact = Contact.objects.create(client=waba.client, wa_id="573135550123")
    conversation = Conversation.objects.create(client=waba.client, phone_number=number, contact=contact)
    at = START + timedelta(hours=10)

    def out(status, *, phone=number, conv=conversation, tpl=None, code="", title="", **stamps):
        message = Message.objects.create(
            client=waba.client, conversation=conv, phone_number=phone, direction="out", type="template" if tpl else "text",
            from_number=phone.digits, to_number=contact.wa_id, status=status, template=tpl, error_code=code,
            error_title=title, **{k: at for k in stamps},
        )
        Message.objects.filter(pk=message.pk).update(created_at=at)
        return message

    replied = out("read", tpl=template, sent_at=1, delivered_at=1, read_at=1)
    out("delivered", tpl=template, sent_at=1, delivered_at=1)
    out("read", read_at=1)  # a read with missed sent/delivered events still counts as both
    out("sent", phone=second, conv=None, sent_at=1)
    out("failed", phone=second, conv=None, code="131026", title="Message undeliverable", failed_at=1)
    out("failed", phone=second, conv=None, code="131026", title="Message undeliverable", failed_at=1)
    out("failed", phone=second, conv=None, code="131047", title="Re-engagement message", failed_at=1)
    inbound = Message.objects.create(
        client=waba.client, conversation=conversation, phone_number=number, direction="in", type="text",
        from_number=contact.wa_id, to_number=number.digits, status="received",
    )
    Message.objects.filter(pk=inbound.pk).update(created_at=at + timedelta(hours=1))
    old = out("sent", sent_at=1)
    Message.objects.filter(pk=old.pk).update(created_at=START - timedelta(days=3))  # outside the range
    return {"number": number, "second": second, "template": template, "replied": replied}


@pytest.mark.django_db
def test_the_funnel_per_number_counts_each_stage(waba, message_log, django_assert_num_queries):
    with django_assert_num_queries(1):
        rows = message_funnel(wabas_qs=waba_qs(waba), start=START, end=END, by="phone_number")
    by_key = {row["key"]: row for row in rows}
    first = by_key[message_log["number"].pk]
    assert (first["total"], first["sent"], first["delivered"], first["read"], first["replied"]) == (3, 3, 3, 2, 3)
    assert first["label"].startswith("+57")
    second = by_key[message_log["second"].pk]
    assert (second["total"], second["sent"], second["failed"]) == (4, 1, 3)


@pytest.mark.django_db
def test_the_template_funnel_sits_beside_the_providers_7_day_metrics(waba, message_log):
    (row,) = message_funnel(wabas_qs=waba_qs(waba), start=START, end=END, by="template")
    assert row["label"] == "factura_pdf (es)"
    assert (row["total"], row["delivered"], row["read"]) == (2, 2, 1)
    assert (row["provider_sent_7d"], row["provider_opened_7d"]) == (120, 80)
    assert row["provider_top_block_reason"] == "NO_LONGER_NEEDED"


@pytest.mark.django_db
def test_the_campaign_funnel_follows_messages_to_their_campaign(waba, message_log, django_assert_num_queries):
    from analytics.funnels import campaign_path, message_funnels

    if campaign_path() is None:
        assert message_funnel(wabas_qs=waba_qs(waba), start=START, end=END, by="campaign") == []
        pytest.skip("messages carry no campaign yet")
    from campaigns.models import Campaign, CampaignRecipient

    campaign = Campaign.objects.create(
        client=waba.client, phone_number=message_log["number"], template=message_log["template"], name="Marzo"
    )
    CampaignRecipient.objects.create(campaign=campaign, row_number=1, phone="573135550123",
                                     message=message_log["replied"])
    with django_assert_num_queries(1):
        funnels = message_funnels(wabas_qs=waba_qs(waba), start=START, end=END)
    (row,) = funnels["campaign"]
    assert (row["label"], row["total"], row["read"], row["replied"]) == ("Marzo", 1, 1, 1)
    assert sum(r["total"] for r in funnels["phone_number"]) == 7


@pytest.mark.django_db
def test_without_a_campaign_link_the_campaign_funnel_is_left_out(waba, message_log, monkeypatch):
    from analytics import funnels

    monkeypatch.setattr(funnels, "campaign_path", lambda: None)
    assert funnels.message_funnels(wabas_qs=waba_qs(waba), start=START, end=END)["campaign"] == []
    assert not funnels.campaigns_available()


@pytest.mark.django_db
def test_failure_reasons_are_ranked(waba, message_log):
    reasons = failure_reasons(wabas_qs=waba_qs(waba), start=START, end=END)
    assert [(r["code"], r["count"]) for r in reasons] == [("131026", 2), ("131047", 1)]
    assert reasons[0]["title"] == "Message undeliverable"
    only_first = failure_reasons(wabas_qs=waba_qs(waba), start=START, end=END, phone_numbers=["573245550101"])
    assert only_first == []


SANTIAGO = zoneinfo.ZoneInfo("America/Santiago")  # Chile's clocks jump at midnight: 2024-09-08 has no 00:00


@pytest.mark.django_db
@pytest.mark.parametrize("group_by", [None, "country,conversation_type"])
def test_days_across_a_midnight_clock_change_sum_the_raw_points(waba, group_by):
    start, end = datetime(2024, 9, 6, tzinfo=SANTIAGO), datetime(2024, 9, 11, tzinfo=SANTIAGO)
    raw = make_points(waba, count=300, start=start, end=end, seed=11)
    series = analytics_series(wabas_qs=waba_qs(waba), start=start, end=end, granularity="DAILY",
                              group_by=group_by, tz=SANTIAGO)
    dims = parse_group_by(group_by)
    expected: Counter = Counter()
    for p in raw:
        day = p.start.astimezone(SANTIAGO).replace(hour=0, minute=0)
        expected[(day, *(getattr(p, DIMENSIONS[d]) for d in dims))] += p.conversations
    got = Counter({(row["start"], *(row[d] for d in dims)): row["conversations"] for row in series.rows})
    assert got == expected
    assert all(isinstance(row["conversations"], int) for row in series.rows)
    assert [row["start"] for row in series.rows] == sorted(row["start"] for row in series.rows)
    limited = analytics_series(wabas_qs=waba_qs(waba), start=start, end=end, granularity="DAILY",
                               group_by=group_by, tz=SANTIAGO, limit=3)
    assert limited.rows == series.rows[:3] and limited.truncated and limited.total == series.total


@pytest.mark.django_db
def test_on_postgresql_a_days_sums_read_only_the_points_key_index(waba):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("covering indexes are PostgreSQL's")
    make_points(waba, count=300)
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'analytics_point_full_key'")
        assert cursor.fetchone()[0].endswith("INCLUDE (conversations)")
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off")
        cursor.execute(
            "EXPLAIN SELECT start, SUM(conversations) FROM analytics_conversationdatapoint "
            "WHERE waba_id = %s AND granularity = 'HALF_HOUR' AND start >= %s AND start < %s GROUP BY start",
            [waba.pk, START, END])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using analytics_point_full_key" in plan
