"""sandbox_provision: the demo world, idempotent; and the webhook update."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db.models import Max, Min

from sandbox import models
from sandbox.services import SandboxCredentials, sandbox_account_update_webhook, sandbox_provision
from sandbox.services_analytics import sandbox_analytics_generate

NOW = datetime(2024, 3, 15, 14, 10, tzinfo=UTC)
COUNTED = (
    models.SandboxAccount,
    models.SandboxClient,
    models.SandboxWaba,
    models.SandboxPhoneNumber,
    models.SandboxTemplate,
    models.SandboxCVTemplate,
    models.SandboxAnalyticsPoint,
    models.SandboxCallback,
)


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in COUNTED}


@pytest.mark.django_db
def test_provision_is_idempotent():
    first = sandbox_provision(webhook_url="http://portal.test/a/", seed_history_days=3, now=NOW)
    counts = _counts()
    second = sandbox_provision(seed_history_days=3, now=NOW)

    assert isinstance(first, SandboxCredentials)
    assert first == second
    assert _counts() == counts
    assert models.SandboxAccount.objects.get().webhook_url == "http://portal.test/a/"  # "" leaves it alone


@pytest.mark.django_db
def test_provision_builds_the_demo_world():
    creds = sandbox_provision(seed_history_days=1, now=NOW)
    account = models.SandboxAccount.objects.get()

    assert (account.aldeamo_api_key, account.cv_login) == (creds.aldeamo_api_key, creds.cv_login)
    assert account.cv_balance == 163
    assert set(models.SandboxClient.objects.values_list("client_id", flat=True)) == {942, 2437}
    assert models.SandboxWaba.objects.count() == 3
    assert models.SandboxPhoneNumber.objects.count() == 5
    assert set(models.SandboxPhoneNumber.objects.values_list("quality_rating", flat=True)) == {
        "GREEN", "YELLOW", "RED", "UNKNOWN",
    }  # fmt: skip
    assert models.SandboxPhoneNumber.objects.get(number="573245550101").display_phone_number == "+57 324 555 0101"
    assert set(models.SandboxTemplate.objects.values_list("status", flat=True)) == {
        "APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED",
    }  # fmt: skip
    assert models.SandboxTemplate.objects.count() >= 8
    assert models.SandboxCVTemplate.objects.count() == 3


@pytest.mark.django_db
def test_history_has_every_dimension_and_a_daily_shape():
    sandbox_provision(seed_history_days=7, now=NOW)
    points = models.SandboxAnalyticsPoint.objects.all()

    bounds = points.aggregate(first=Min("start"), last=Max("start"))
    assert bounds["first"] >= NOW - timedelta(days=7, hours=1) and bounds["last"] < NOW
    assert set(points.values_list("conversation_type", flat=True)) == {
        "REGULAR",
        "FREE_TIER",
        "FREE_ENTRY_POINT",
        "UNKNOWN",
    }
    assert set(points.values_list("conversation_direction", flat=True)) == {
        "BUSINESS_INITIATED",
        "USER_INITIATED",
        "UNKNOWN",
    }
    assert len(set(points.values_list("country", flat=True))) >= 4
    assert len(set(points.values_list("phone_number", flat=True))) == 5
    # Bogotá daytime (15:00 UTC = 10:00 local) is busier than the night (08:00 UTC = 03:00 local).
    day = sum(p.conversations for p in points if p.start.hour == 15)
    night = sum(p.conversations for p in points if p.start.hour == 8)
    assert day > 3 * night


@pytest.mark.django_db
def test_history_is_topped_up_without_duplicates_or_changes():
    sandbox_provision(seed_history_days=2, now=NOW)
    waba = models.SandboxWaba.objects.get(waba_id="236928178367012")
    before = set(
        models.SandboxAnalyticsPoint.objects.filter(waba=waba).values_list(
            "start", "phone_number", "country", "conversation_type", "conversation_direction", "conversations"
        )
    )
    added = sandbox_analytics_generate(waba=waba, days=3, now=NOW + timedelta(days=1))
    after = set(
        models.SandboxAnalyticsPoint.objects.filter(waba=waba).values_list(
            "start", "phone_number", "country", "conversation_type", "conversation_direction", "conversations"
        )
    )
    assert added > 0 and before < after and len(after) == len(before) + added
    assert sandbox_analytics_generate(waba=waba, days=3, now=NOW + timedelta(days=1)) == 0


@pytest.mark.django_db
def test_update_webhook():
    sandbox_provision(seed_history_days=0, now=NOW)
    account = sandbox_account_update_webhook(
        webhook_url="http://portal.test/aldeamo/", cv_webhook_url="http://portal.test/cv/"
    )
    assert (account.webhook_url, account.cv_webhook_url) == ("http://portal.test/aldeamo/", "http://portal.test/cv/")
    account = sandbox_account_update_webhook(cv_webhook_url="")
    assert (account.webhook_url, account.cv_webhook_url) == ("http://portal.test/aldeamo/", "")


@pytest.mark.django_db
def test_update_webhook_without_an_account():
    with pytest.raises(models.SandboxAccount.DoesNotExist):
        sandbox_account_update_webhook(webhook_url="http://portal.test/")


@pytest.mark.django_db
def test_a_month_of_history_is_fast_enough():
    import time

    started = time.monotonic()
    sandbox_provision(seed_history_days=30, now=NOW)
    assert time.monotonic() - started < 5
    assert models.SandboxAnalyticsPoint.objects.count() > 5_000
