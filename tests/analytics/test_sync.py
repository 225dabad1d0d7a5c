"""analytics_sync: the seed's examples, the three answers that are not data, upserts, range splitting."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from analytics.daily import analytics_sync_recent
from analytics.models import AnalyticsSync, ConversationDataPoint
from analytics.periods import sync_chunks
from analytics.services import analytics_sync
from providers.aldeamo.client import AldeamoClient
from providers.base import ProviderAuthError, ProviderRejected, ProviderUnavailable
from tests.analytics.conftest import point
from tests.factories import ClientFactory, ContactoVirtualAccountFactory, PhoneNumberFactory, WabaFactory
from waportal.errors import ApplicationError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "aldeamo"


@pytest.fixture(autouse=True)
def _english():
    """Messages in English whatever the default language, so assertions read the source strings."""
    with translation.override("en"):
        yield


def fixture(name: str):
    return json.loads((FIXTURES / f"{name}.json").read_text())


def seed_points():
    """The seed's getAnalytics answer as the adapter reads it."""
    answer = fixture("analytics_response")
    raw = answer["conversation_analytics"]["data"][0]["data_points"]
    return [AldeamoClient._conversation_point(item, answer, 200) for item in raw]


def stored_total(**filters) -> int:
    return ConversationDataPoint.objects.filter(**filters).aggregate(n=Sum("conversations"))["n"] or 0


# --- the seed's request and response ---------------------------------------------------


@pytest.mark.django_db
def test_the_seed_request_is_what_the_service_asks_for(fake_aldeamo, waba):
    """The manual's example: 2022-09-20 by half hours, both numbers, every type and direction."""
    request = fixture("analytics_request")
    query = request["conversationAnalytics"]
    fake_aldeamo.answer = seed_points()
    analytics_sync(
        waba=waba,
        start=date(2022, 9, 20),
        end=date(2022, 9, 20),
        granularity=query["granularity"],
        phone_numbers=query["phoneNumbers"],
        country_codes=query["filters"]["countryCodes"],
        conversation_types=query["filters"]["conversationTypes"],
        conversation_directions=query["filters"]["conversationDirections"],
    )
    (call,) = fake_aldeamo.calls
    assert call["waba_id"] == waba.waba_id
    assert call["client_id"] == waba.client.client_id
    assert call["granularity"] == "HALF_HOUR"
    # The manual ends the day inside it (23:59:00); we end on its last second.
    assert call["start"] == datetime(2022, 9, 20, 0, 0)
    assert call["end"] == datetime(2022, 9, 20, 23, 59, 59)
    assert list(call["phone_numbers"]) == query["phoneNumbers"]
    assert list(call["conversation_types"]) == query["filters"]["conversationTypes"]
    assert list(call["conversation_directions"]) == query["filters"]["conversationDirections"]
    assert list(call["country_codes"]) == []


@pytest.mark.django_db
def test_the_seed_answer_is_stored_point_by_point_in_utc(fake_aldeamo, waba):
    fake_aldeamo.answer = seed_points()
    result = analytics_sync(waba=waba, start=date(2022, 9, 20), end=date(2022, 9, 20), granularity="HALF_HOUR")

    assert result.points == 7 and result.conversations == 7 and result.requests == 1
    assert ConversationDataPoint.objects.count() == 7
    # "2022-09-20 14:30:00" in Bogotá (UTC-5) is 19:30 UTC; its end half an hour later.
    ve = ConversationDataPoint.objects.get(country="VE")
    assert ve.start == datetime(2022, 9, 20, 19, 30, tzinfo=UTC)
    assert ve.end == datetime(2022, 9, 20, 20, 0, tzinfo=UTC)
    assert ve.phone_number == "57318XXXXXXX"
    assert ve.conversation_type == "REGULAR" and ve.conversation_direction == "BUSINESS_INITIATED"
    assert ve.client_id == waba.client_id and ve.granularity == "HALF_HOUR"
    assert stored_total(phone_number="57319XXXXXXX") == 4
    log = AnalyticsSync.objects.get(pk=result.sync_id)
    assert log.state == AnalyticsSync.State.OK and log.points == 7 and log.finished_at is not None
    assert "7" in result.message and waba.waba_id in result.message


@pytest.mark.django_db
def test_the_provider_clock_can_be_configured(fake_aldeamo, waba, settings):
    settings.ANALYTICS_PROVIDER_TIME_ZONE = "UTC"
    fake_aldeamo.answer = seed_points()
    analytics_sync(waba=waba, start=date(2022, 9, 20), end=date(2022, 9, 20), granularity="HALF_HOUR")
    assert ConversationDataPoint.objects.get(country="VE").start == datetime(2022, 9, 20, 14, 30, tzinfo=UTC)


# --- the three answers that are not data ------------------------------------------------


@pytest.mark.django_db
def test_data_not_found_is_zero_points_and_says_so(fake_aldeamo, waba):
    fake_aldeamo.answer = []  # the adapter's reading of {"errors": ["Data not found for search criteria"]}
    result = analytics_sync(waba=waba, start=date(2022, 9, 20), end=date(2022, 9, 21), granularity="DAILY")

    assert result.points == 0 and result.empty_requests == 1
    assert result.state == AnalyticsSync.State.EMPTY
    assert "The provider has no conversation data for WABA" in result.message
    assert waba.waba_id in result.message
    log = AnalyticsSync.objects.get()
    assert log.state == AnalyticsSync.State.EMPTY and "has no conversation data" in log.message


@pytest.mark.django_db
def test_unparseable_date_is_an_error_about_the_dates_with_the_providers_words(fake_aldeamo, waba):
    words = fixture("analytics_error_400_unparseable_date")["errors"][0]
    fake_aldeamo.answer = ProviderRejected(words, status=400)
    with pytest.raises(ApplicationError) as caught:
        analytics_sync(waba=waba, start=date(2022, 9, 20), end=date(2022, 9, 20), granularity="DAILY")

    assert caught.value.field == "start"
    assert words in caught.value.message
    assert "yyyy-mm-dd hh:mm:ss" in caught.value.message  # the hint
    log = AnalyticsSync.objects.get()
    assert log.state == AnalyticsSync.State.ERROR and words in log.message


@pytest.mark.django_db
def test_waba_not_the_clients_is_an_error_about_the_waba_with_a_hint(fake_aldeamo, waba):
    words = fixture("analytics_error_401_waba_not_client")["errors"][0].strip()
    fake_aldeamo.answer = ProviderAuthError(words, status=401)
    with pytest.raises(ApplicationError) as caught:
        analytics_sync(waba=waba, start=date(2022, 9, 20), end=date(2022, 9, 20), granularity="DAILY")

    error = caught.value
    assert error.field == "waba"
    assert words in error.message
    assert "sync the provider account" in error.message
    assert error.extra["provider_status"] == 401
    assert AnalyticsSync.objects.get().state == AnalyticsSync.State.ERROR


@pytest.mark.django_db
def test_other_provider_failures_pass_through_and_keep_what_was_stored(fake_aldeamo, waba):
    answers = iter([[point("2024-01-02 10:00", 3)], ProviderUnavailable("Aldeamo had an internal error", status=503)])

    def answer(**kwargs):
        value = next(answers)
        if isinstance(value, Exception):
            raise value
        return value

    fake_aldeamo.answer = answer
    with pytest.raises(ProviderUnavailable):
        analytics_sync(waba=waba, start=date(2024, 1, 1), end=date(2024, 1, 10), granularity="HALF_HOUR")

    assert stored_total() == 3  # the first week stays
    log = AnalyticsSync.objects.get()
    assert log.state == AnalyticsSync.State.ERROR
    assert "1 of 2 requests" in log.message


# --- upserts --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_resyncing_a_range_leaves_counts_unchanged(fake_aldeamo, waba):
    fake_aldeamo.answer = seed_points()
    for _ in range(3):
        analytics_sync(waba=waba, start=date(2022, 9, 20), end=date(2022, 9, 20), granularity="HALF_HOUR")
    assert ConversationDataPoint.objects.count() == 7
    assert stored_total() == 7


@pytest.mark.django_db
def test_resync_updates_counts_and_drops_points_the_provider_no_longer_reports(fake_aldeamo, waba):
    fake_aldeamo.answer = [point("2024-03-01 09:00", 2), point("2024-03-01 09:30", 5, country="PE")]
    analytics_sync(waba=waba, start=date(2024, 3, 1), end=date(2024, 3, 1), granularity="HALF_HOUR")
    fake_aldeamo.answer = [point("2024-03-01 09:00", 4)]
    result = analytics_sync(waba=waba, start=date(2024, 3, 1), end=date(2024, 3, 1), granularity="HALF_HOUR")

    assert result.removed == 1
    assert list(ConversationDataPoint.objects.values_list("country", "conversations")) == [("CO", 4)]


@pytest.mark.django_db
def test_a_filtered_resync_only_touches_the_filtered_slice(fake_aldeamo, waba):
    fake_aldeamo.answer = [point("2024-03-01 09:00", 2), point("2024-03-01 09:00", 5, country="PE")]
    analytics_sync(waba=waba, start=date(2024, 3, 1), end=date(2024, 3, 1), granularity="HALF_HOUR")
    fake_aldeamo.answer = []
    analytics_sync(waba=waba, start=date(2024, 3, 1), end=date(2024, 3, 1), granularity="HALF_HOUR", country_codes="pe")

    assert list(ConversationDataPoint.objects.values_list("country", "conversations")) == [("CO", 2)]
    assert list(fake_aldeamo.calls[-1]["country_codes"]) == ["PE"]


@pytest.mark.django_db
def test_granularities_are_stored_apart_and_other_wabas_untouched(fake_aldeamo, waba):
    other = PhoneNumberFactory().waba
    fake_aldeamo.answer = [point("2024-03-01 00:00", 9)]
    analytics_sync(waba=waba, start=date(2024, 3, 1), end=date(2024, 3, 1), granularity="DAILY")
    analytics_sync(waba=other, start=date(2024, 3, 1), end=date(2024, 3, 1), granularity="DAILY")
    fake_aldeamo.answer = [point("2024-03-01 00:00", 3)]
    analytics_sync(waba=waba, start=date(2024, 3, 1), end=date(2024, 3, 1), granularity="HALF_HOUR")

    assert stored_total(waba=waba, granularity="DAILY") == 9
    assert stored_total(waba=waba, granularity="HALF_HOUR") == 3
    assert stored_total(waba=other) == 9


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the unnest upsert runs on PostgreSQL only")
def test_on_postgresql_a_resync_updates_counts_in_one_upsert_statement(fake_aldeamo, waba):
    """CI runs PostgreSQL: the hand-written ``INSERT … unnest … ON CONFLICT DO UPDATE`` must update every column."""
    fake_aldeamo.answer = [point("2024-03-01 09:00", 2), point("2024-03-01 09:30", 5)]
    analytics_sync(waba=waba, start=date(2024, 3, 1), end=date(2024, 3, 1), granularity="HALF_HOUR")
    first = {row.start: row for row in ConversationDataPoint.objects.all()}
    moved = PhoneNumberFactory(waba=WabaFactory()).client  # the WABA changed hands: points follow it
    type(waba).objects.filter(pk=waba.pk).update(client=moved)
    waba.refresh_from_db()
    fake_aldeamo.answer = [point("2024-03-01 09:00", 7), point("2024-03-01 09:30", 1)]

    with CaptureQueriesContext(connection) as queries:
        analytics_sync(waba=waba, start=date(2024, 3, 1), end=date(2024, 3, 1), granularity="HALF_HOUR")

    upserts = [q["sql"] for q in queries.captured_queries if "unnest" in q["sql"] and "ON CONFLICT" in q["sql"]]
    assert len(upserts) == 1
    rows = {row.start: row for row in ConversationDataPoint.objects.all()}
    assert sorted(row.conversations for row in rows.values()) == [1, 7]
    assert {row.pk for row in rows.values()} == {row.pk for row in first.values()}  # updated, not re-inserted
    for start, row in rows.items():
        assert row.synced_at > first[start].synced_at
        assert row.client_id == moved.pk
    assert stored_total() == 8


@pytest.mark.django_db
def test_a_key_repeated_in_one_answer_is_stored_once(fake_aldeamo, waba):
    fake_aldeamo.answer = [point("2024-03-01 09:00", 2), point("2024-03-01 09:00", 2)]
    result = analytics_sync(waba=waba, start=date(2024, 3, 1), end=date(2024, 3, 1), granularity="HALF_HOUR")
    assert result.points == 1 and stored_total() == 2


# --- range splitting ------------------------------------------------------------------------


def test_half_hours_are_asked_for_a_week_at_a_time():
    chunks = sync_chunks(start=datetime(2024, 1, 1), end=datetime(2024, 1, 21), granularity="HALF_HOUR")
    assert chunks == [
        (datetime(2024, 1, 1), datetime(2024, 1, 8)),
        (datetime(2024, 1, 8), datetime(2024, 1, 15)),
        (datetime(2024, 1, 15), datetime(2024, 1, 21)),
    ]


def test_days_are_asked_for_90_at_a_time_and_months_a_year_at_a_time():
    days = sync_chunks(start=datetime(2024, 1, 1), end=datetime(2024, 7, 19), granularity="DAILY")
    assert [(a.date(), b.date()) for a, b in days] == [
        (date(2024, 1, 1), date(2024, 3, 31)),
        (date(2024, 3, 31), date(2024, 6, 29)),
        (date(2024, 6, 29), date(2024, 7, 19)),
    ]
    months = sync_chunks(start=datetime(2023, 1, 15), end=datetime(2024, 3, 10), granularity="MONTHLY")
    assert months == [(datetime(2023, 1, 1), datetime(2024, 1, 1)), (datetime(2024, 1, 1), datetime(2024, 4, 1))]


def test_ranges_widen_to_whole_periods():
    assert sync_chunks(start=datetime(2024, 1, 1, 10, 10), end=datetime(2024, 1, 1, 11, 5), granularity="HALF_HOUR") == [
        (datetime(2024, 1, 1, 10, 0), datetime(2024, 1, 1, 11, 30))
    ]
    assert sync_chunks(start=datetime(2024, 1, 1, 10), end=datetime(2024, 1, 2, 1), granularity="DAILY") == [
        (datetime(2024, 1, 1), datetime(2024, 1, 3))
    ]


@pytest.mark.django_db
def test_a_long_sync_makes_contiguous_requests_ending_inside_each_chunk(fake_aldeamo, waba):
    fake_aldeamo.answer = lambda **kw: [point(kw["start"].strftime("%Y-%m-%d %H:%M"), 1)]
    result = analytics_sync(waba=waba, start=date(2024, 1, 1), end=date(2024, 1, 20), granularity="HALF_HOUR")

    assert result.requests == 3 == len(fake_aldeamo.calls)
    starts = [call["start"] for call in fake_aldeamo.calls]
    ends = [call["end"] for call in fake_aldeamo.calls]
    assert starts == [datetime(2024, 1, 1), datetime(2024, 1, 8), datetime(2024, 1, 15)]
    assert ends == [datetime(2024, 1, 7, 23, 59, 59), datetime(2024, 1, 14, 23, 59, 59), datetime(2024, 1, 20, 23, 59, 59)]
    assert stored_total() == 3
    # An aware range is converted to the account's clock first (Bogotá midnight is 05:00 UTC).
    fake_aldeamo.calls.clear()
    analytics_sync(
        waba=waba,
        start=datetime(2024, 2, 1, 5, tzinfo=UTC),
        end=datetime(2024, 2, 2, 5, tzinfo=UTC),
        granularity="DAILY",
    )
    assert fake_aldeamo.calls[0]["start"] == datetime(2024, 2, 1)
    assert fake_aldeamo.calls[0]["end"] == datetime(2024, 2, 1, 23, 59, 59)


# --- input --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"granularity": "WEEKLY"}, "granularity"),
        ({"country_codes": ["Colombia"]}, "country_codes"),
        ({"conversation_types": ["PAID"]}, "conversation_types"),
        ({"conversation_directions": ["SIDEWAYS"]}, "conversation_directions"),
        ({"phone_numbers": ["call me"]}, "phone_numbers"),
        ({"start": date(2024, 3, 2), "end": date(2024, 3, 1)}, "end"),
        ({"start": date(2020, 1, 1), "end": date(2024, 1, 1)}, "start"),
    ],
)
def test_bad_input_names_the_field_and_calls_nobody(fake_aldeamo, waba, kwargs, field):
    arguments = {"waba": waba, "start": date(2024, 3, 1), "end": date(2024, 3, 1), "granularity": "HALF_HOUR"}
    with pytest.raises(ApplicationError) as caught:
        analytics_sync(**{**arguments, **kwargs})
    assert caught.value.field == field
    assert fake_aldeamo.calls == []
    assert not AnalyticsSync.objects.exists()


@pytest.mark.django_db
def test_the_manuals_user_business_direction_is_read_as_business_initiated(fake_aldeamo, waba):
    analytics_sync(
        waba=waba, start=date(2024, 3, 1), end=date(2024, 3, 1), granularity="DAILY",
        conversation_directions="USER_BUSINESS,user_initiated",
    )
    assert list(fake_aldeamo.calls[0]["conversation_directions"]) == ["BUSINESS_INITIATED", "USER_INITIATED"]


@pytest.mark.django_db
def test_only_aldeamo_accounts_with_a_token_have_analytics(fake_aldeamo):
    cv_waba = WabaFactory(client=ClientFactory(provider_account=ContactoVirtualAccountFactory()))
    tokenless = PhoneNumberFactory(waba__client__provider_account__analytics_token="").waba
    for waba in (cv_waba, tokenless):
        with pytest.raises(ApplicationError) as caught:
            analytics_sync(waba=waba, start=date(2024, 3, 1), end=date(2024, 3, 1), granularity="DAILY")
        assert caught.value.field == "waba"
    assert fake_aldeamo.calls == []


# --- the daily sync -----------------------------------------------------------------------


@pytest.mark.django_db
def test_recent_sync_covers_every_waba_with_a_token_at_every_granularity(fake_aldeamo, waba):
    PhoneNumberFactory(waba__client__provider_account__analytics_token="")  # skipped: no token
    PhoneNumberFactory(waba__is_active=False)  # skipped: inactive
    fake_aldeamo.answer = lambda **kw: [point(kw["start"].strftime("%Y-%m-%d %H:%M"), 1)]
    now = datetime(2024, 3, 10, 15, tzinfo=UTC)  # 10:00 in Bogotá
    report = analytics_sync_recent(days=2, now=now)

    assert report.errors == []
    assert sorted(call["granularity"] for call in fake_aldeamo.calls) == ["DAILY", "HALF_HOUR", "MONTHLY"]
    assert {call["waba_id"] for call in fake_aldeamo.calls} == {waba.waba_id}
    half_hour = next(call for call in fake_aldeamo.calls if call["granularity"] == "HALF_HOUR")
    assert half_hour["start"] == datetime(2024, 3, 9) and half_hour["end"] == datetime(2024, 3, 10, 23, 59, 59)
    monthly = next(call for call in fake_aldeamo.calls if call["granularity"] == "MONTHLY")
    assert monthly["start"] == datetime(2024, 3, 1) and monthly["end"] == datetime(2024, 3, 31, 23, 59, 59)


@pytest.mark.django_db
def test_one_failing_waba_does_not_stop_the_others(fake_aldeamo, waba):
    broken = PhoneNumberFactory().waba

    def answer(**kwargs):
        if kwargs["waba_id"] == broken.waba_id:
            raise ProviderAuthError(f"WabaId {broken.waba_id} does not belong to the client 1 ", status=401)
        return [point(kwargs["start"].strftime("%Y-%m-%d %H:%M"), 2)]

    fake_aldeamo.answer = answer
    report = analytics_sync_recent(days=1, granularities=["DAILY"])
    assert len(report.results) == 1 and len(report.errors) == 1
    assert broken.waba_id in report.errors[0] and "does not belong" in report.errors[0]
    assert stored_total(waba=waba) == 2


@pytest.mark.django_db
def test_the_daily_task_runs_and_schedules_itself_once(fake_aldeamo, waba):
    from django_tasks_db.models import DBTaskResult

    from analytics.tasks import analytics_daily_sync, next_run, schedule_daily_sync

    now = datetime(2024, 3, 10, 15, tzinfo=UTC)
    assert next_run(now) == datetime(2024, 3, 11, 9, tzinfo=UTC)  # 04:00 in Bogotá
    assert next_run(datetime(2024, 3, 10, 8, tzinfo=UTC)) == datetime(2024, 3, 10, 9, tzinfo=UTC)

    outcome = analytics_daily_sync.call(days=1)
    assert outcome["synced"] == 3 and outcome["errors"] == []
    waiting = DBTaskResult.objects.filter(task_path=analytics_daily_sync.module_path, status="READY")
    assert waiting.count() == 1
    assert schedule_daily_sync() is None  # already waiting: nothing doubled
    assert waiting.count() == 1


@pytest.mark.django_db
def test_the_command_syncs_by_hand(fake_aldeamo, waba):
    from io import StringIO

    fake_aldeamo.answer = lambda **kw: [point(kw["start"].strftime("%Y-%m-%d %H:%M"), 1)]
    out = StringIO()
    call_command("analytics_sync", "--days", "3", "--granularity", "DAILY", "--waba", waba.waba_id, stdout=out)
    assert "1 syncs" in out.getvalue()
    (call,) = fake_aldeamo.calls
    assert call["end"] - call["start"] == timedelta(days=3) - timedelta(seconds=1)


@pytest.mark.django_db
def test_the_command_schedules_the_daily_sync(waba):
    from io import StringIO

    out = StringIO()
    call_command("analytics_sync", "--schedule", stdout=out)
    assert "scheduled for" in out.getvalue()
    out = StringIO()
    call_command("analytics_sync", "--schedule", stdout=out)
    assert "already scheduled" in out.getvalue()


@pytest.mark.django_db
def test_an_unexpected_failure_never_leaves_the_log_running(fake_aldeamo, waba):
    fake_aldeamo.answer = RuntimeError("disk full")
    with pytest.raises(RuntimeError):
        analytics_sync(waba=waba, start=date(2024, 3, 1), end=date(2024, 3, 1), granularity="DAILY")
    log = AnalyticsSync.objects.get()
    assert log.state == AnalyticsSync.State.ERROR and "disk full" in log.message and log.finished_at


# --- the next chunk is asked for while one is stored (clients over HTTP) ---------------------


def test_over_http_the_next_chunk_is_fetched_while_one_is_stored_and_errors_come_in_turn():
    from threading import Event

    from analytics.services import _fetched

    second_asked = Event()
    chunks = [(datetime(2024, 1, day, tzinfo=UTC), datetime(2024, 1, day + 1, tzinfo=UTC)) for day in (1, 2, 3)]

    def fetch(start, end):
        if start.day == 2:
            second_asked.set()
        if start.day == 3:
            raise ProviderUnavailable("down")
        return [start.day]

    pages = _fetched(fetch, chunks, ahead=True)
    assert next(pages) == (chunks[0], [1])
    assert second_asked.wait(5)  # asked for while the caller still holds the first chunk
    assert next(pages) == (chunks[1], [2])
    with pytest.raises(ProviderUnavailable):
        next(pages)  # the third chunk's failure reaches the caller after the first two


def test_in_process_transports_are_fetched_in_the_calling_thread():
    from providers.base import BaseClient, session_for
    from sandbox.transport import InProcessTransport

    assert BaseClient(base_url="https://api.provider.example", session=session_for("net-test")).over_the_network
    in_process = session_for("in-process-test", mounts={"http://sandbox.internal/": InProcessTransport()})
    assert not BaseClient(base_url="http://sandbox.internal/aldeamo", session=in_process).over_the_network
