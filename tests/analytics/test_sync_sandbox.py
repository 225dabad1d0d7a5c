"""analytics_sync end to end against the sandbox served in-process: its history comes back exactly once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db.models import Sum

from accounts.models import WhatsAppBusinessAccount
from analytics.models import ConversationDataPoint
from analytics.services import analytics_sync
from sandbox.models import SandboxAnalyticsPoint

WABA_ID = "236928178367012"


def sandbox_total(start, end) -> int:
    return (
        SandboxAnalyticsPoint.objects.filter(waba__waba_id=WABA_ID, start__gte=start, start__lt=end).aggregate(
            n=Sum("conversations")
        )["n"]
        or 0
    )


def stored_total(**filters) -> int:
    return ConversationDataPoint.objects.filter(**filters).aggregate(n=Sum("conversations"))["n"] or 0


@pytest.mark.django_db
def test_sync_brings_the_sandbox_history_once_at_every_granularity(sandbox):
    waba = WhatsAppBusinessAccount.objects.select_related("client__provider_account").get(waba_id=WABA_ID)
    today = datetime.now(UTC).date()
    start, end = today - timedelta(days=2), today - timedelta(days=1)  # two whole days of history (UTC clock)
    expected = sandbox_total(
        datetime(start.year, start.month, start.day, tzinfo=UTC),
        datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1),
    )
    assert expected > 0

    half_hours = analytics_sync(waba=waba, start=start, end=end, granularity="HALF_HOUR")
    again = analytics_sync(waba=waba, start=start, end=end, granularity="HALF_HOUR")
    days = analytics_sync(waba=waba, start=start, end=end, granularity="DAILY")

    assert half_hours.conversations == again.conversations == expected
    assert stored_total(granularity="HALF_HOUR") == expected  # re-synced, not doubled
    assert again.removed == 0
    assert days.points and stored_total(granularity="DAILY") == expected
    numbers = set(ConversationDataPoint.objects.values_list("phone_number", flat=True))
    assert numbers <= set(waba.phone_numbers.values_list("digits", flat=True))


@pytest.mark.django_db
def test_the_sandbox_answers_data_not_found_for_an_empty_range(sandbox):
    waba = WhatsAppBusinessAccount.objects.get(waba_id=WABA_ID)
    result = analytics_sync(waba=waba, start=date(2019, 1, 1), end=date(2019, 1, 2), granularity="DAILY")
    assert result.points == 0 and "no tiene datos de conversaciones" in result.message


@pytest.mark.django_db
def test_the_sandbox_refuses_a_waba_of_another_client_in_words(sandbox):
    from waportal.errors import ApplicationError

    waba = WhatsAppBusinessAccount.objects.select_related("client").get(waba_id=WABA_ID)
    other_client = WhatsAppBusinessAccount.objects.exclude(client=waba.client).first().client
    waba.client = other_client  # as if the provider had moved the WABA since the last account sync
    with pytest.raises(ApplicationError) as caught:
        analytics_sync(waba=waba, start=date.today(), end=date.today(), granularity="DAILY")
    assert caught.value.field == "waba"
    assert "does not belong to the client" in caught.value.message
