"""GET /api/v1/analytics/conversations/ and POST /api/v1/analytics/sync/: filters, validation, tenancy."""

from __future__ import annotations

import zoneinfo
from collections import Counter
from datetime import datetime, timedelta

import pytest

from analytics.models import AnalyticsSync
from providers.base import ProviderAuthError, ProviderRejected
from tests.analytics.conftest import point
from tests.analytics.test_selectors import START, make_points
from tests.factories import PhoneNumberFactory

CONVERSATIONS = "/api/v1/analytics/conversations/"
SYNC = "/api/v1/analytics/sync/"
BOGOTA = zoneinfo.ZoneInfo("America/Bogota")
RANGE = {"start": "2024-03-01", "end": "2024-03-07", "tz": "America/Bogota"}


@pytest.fixture
def points(waba):
    return make_points(waba)


@pytest.mark.django_db
def test_daily_series_grouped_by_two_dimensions(api_as, superuser, waba, points):
    response = api_as(superuser).get(
        CONVERSATIONS, {"waba": waba.pk, **RANGE, "granularity": "daily", "group_by": "country,conversation_type"}
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["waba_id"] == waba.waba_id and body["granularity"] == "DAILY"
    assert body["source_granularity"] == "HALF_HOUR"
    assert body["group_by"] == ["country", "conversation_type"]
    assert body["start"] == "2024-03-01T00:00:00-05:00" and body["end"] == "2024-03-08T00:00:00-05:00"
    expected = Counter()
    for p in points:
        day = p.start.astimezone(BOGOTA).replace(hour=0, minute=0).isoformat()
        expected[(day, p.country, p.conversation_type)] += p.conversations
    got = {(r["start"], r["country"], r["conversation_type"]): r["conversations"] for r in body["results"]}
    assert got == dict(expected)
    assert body["total"] == sum(p.conversations for p in points)
    assert set(body["results"][0]) == {"start", "conversations", "country", "conversation_type"}


@pytest.mark.django_db
def test_repeated_parameters_and_filters(api_as, superuser, waba, points):
    response = api_as(superuser).get(
        f"{CONVERSATIONS}?waba={waba.pk}&start=2024-03-01&end=2024-03-07&tz=America/Bogota&granularity=MONTHLY"
        "&group_by=phone_number&group_by=conversation_direction&country_codes=co&country_codes=PE"
        "&conversation_directions=USER_BUSINESS"
    )
    assert response.status_code == 200, response.content
    expected = Counter()
    for p in points:
        if p.country in ("CO", "PE") and p.conversation_direction == "BUSINESS_INITIATED":
            expected[(p.phone_number, p.conversation_direction)] += p.conversations
    body = response.json()
    assert {(r["phone_number"], r["conversation_direction"]): r["conversations"] for r in body["results"]} == dict(
        expected
    )
    assert body["total"] == sum(expected.values())


@pytest.mark.django_db
def test_no_grouping_gives_one_row_per_period_and_the_previous_period(api_as, superuser, waba, points):
    make_points(waba, count=20, start=START - timedelta(days=7), end=START, seed=4)
    body = api_as(superuser).get(CONVERSATIONS, {"waba": waba.pk, **RANGE, "granularity": "DAILY"}).json()
    assert len(body["results"]) == len({r["start"] for r in body["results"]}) <= 7
    assert body["previous_total"] > 0 and body["change_percent"] is not None


@pytest.mark.django_db
def test_defaults_to_the_last_30_days_daily(api_as, superuser, waba):
    body = api_as(superuser).get(CONVERSATIONS, {"waba": waba.pk}).json()
    start, end = datetime.fromisoformat(body["start"]), datetime.fromisoformat(body["end"])
    assert body["granularity"] == "DAILY" and end - start == timedelta(days=30)
    assert body["results"] == [] and body["total"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params, field",
    [
        ({}, "waba"),
        ({"waba": "abc"}, "waba"),
        ({"granularity": "WEEKLY"}, "granularity"),
        ({"group_by": "colour"}, "group_by"),
        ({"start": "01/03/2024"}, "start"),
        ({"start": "2024-03-05", "end": "2024-03-01"}, "end"),
        ({"country_codes": "Colombia"}, "country_codes"),
        ({"conversation_types": "PAID"}, "conversation_types"),
        ({"phone_numbers": "call-me"}, "phone_numbers"),
        ({"tz": "Mars/Olympus"}, "tz"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api_as, superuser, waba, params, field):
    query = {"waba": waba.pk, **params} if "waba" not in params and params != {} else params
    response = api_as(superuser).get(CONVERSATIONS, query)
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()


@pytest.mark.django_db
def test_too_many_rows_asks_to_narrow_the_question(api_as, superuser, waba, points, monkeypatch):
    monkeypatch.setattr("analytics.api.views.MAX_ROWS", 10)
    response = api_as(superuser).get(CONVERSATIONS, {"waba": waba.pk, **RANGE, "granularity": "HALF_HOUR"})
    assert response.status_code == 400 and "start" in response.json()


@pytest.mark.django_db
def test_another_tenants_waba_is_a_404_and_members_see_their_own(api_as, waba, points, member_of):
    stranger = PhoneNumberFactory().waba
    viewer = member_of(waba.client, role="viewer")
    api = api_as(viewer)
    assert api.get(CONVERSATIONS, {"waba": waba.pk, **RANGE}).json()["total"] > 0
    response = api.get(CONVERSATIONS, {"waba": stranger.pk, **RANGE})
    assert response.status_code == 404 and "waba" in response.json()
    assert api.post(SYNC, {"waba": stranger.pk}, format="json").status_code == 404


@pytest.mark.django_db
def test_anonymous_callers_are_refused(api, waba):
    assert api.get(CONVERSATIONS, {"waba": waba.pk}).status_code in (401, 403)
    assert api.post(SYNC, {"waba": waba.pk}, format="json").status_code in (401, 403)


# --- sync -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_sync_answers_the_counts(api_as, waba, member_of, fake_aldeamo):
    fake_aldeamo.answer = [point("2024-03-01 09:00", 3), point("2024-03-01 09:30", 2, country="PE")]
    admin = member_of(waba.client, role="admin")
    response = api_as(admin).post(
        SYNC,
        {"waba": waba.pk, "start": "2024-03-01", "end": "2024-03-01", "granularity": "half_hour",
         "conversation_types": ["REGULAR"], "country_codes": "CO,PE"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["points"], body["conversations"], body["requests"], body["state"]) == (2, 5, 1, "ok")
    assert body["filters"]["country_codes"] == ["CO", "PE"]
    (call,) = fake_aldeamo.calls
    assert call["start"] == datetime(2024, 3, 1) and list(call["conversation_types"]) == ["REGULAR"]
    assert AnalyticsSync.objects.get().actor == admin


@pytest.mark.django_db
def test_sync_needs_the_admin_role(api_as, waba, member_of, fake_aldeamo):
    response = api_as(member_of(waba.client, role="agent")).post(SYNC, {"waba": waba.pk}, format="json")
    assert response.status_code == 403
    assert fake_aldeamo.calls == []


@pytest.mark.django_db
def test_sync_reports_data_not_found_in_words(api_as, superuser, waba, fake_aldeamo):
    body = api_as(superuser).post(SYNC, {"waba": waba.pk, "granularity": "DAILY"}, format="json").json()
    assert body["state"] == "empty" and "no tiene datos de conversaciones" in body["message"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error, field",
    [
        (ProviderRejected("Unparseable date: aaaa-mm-dd hh:mm:ss", status=400), "start"),
        (ProviderAuthError("WabaId ***** does not belong to the client *** ", status=401), "waba"),
    ],
)
def test_sync_refusals_are_400s_in_the_providers_words(api_as, superuser, waba, fake_aldeamo, error, field):
    fake_aldeamo.answer = error
    response = api_as(superuser).post(SYNC, {"waba": waba.pk, "granularity": "DAILY"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert error.message.strip() in body[field][0]
    assert body["provider_status"] == error.status


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload, field",
    [
        ({}, "waba"),
        ({"granularity": "HOURLY"}, "granularity"),
        ({"start": "2024-03-05", "end": "2024-03-01"}, "end"),
        ({"conversation_directions": ["NORTH"]}, "conversation_directions"),
    ],
)
def test_sync_bad_input_names_the_field(api_as, superuser, waba, fake_aldeamo, payload, field):
    body = payload if payload == {} else {"waba": waba.pk, **payload}
    response = api_as(superuser).post(SYNC, body, format="json")
    assert response.status_code == 400 and field in response.json(), response.content
    assert fake_aldeamo.calls == []


@pytest.mark.django_db
def test_the_endpoints_are_in_the_schema(api_as, superuser):
    schema = api_as(superuser).get("/api/schema/", {"format": "json"}).json()
    assert "/api/v1/analytics/conversations/" in schema["paths"]
    assert "/api/v1/analytics/sync/" in schema["paths"]


@pytest.mark.django_db
def test_monthly_ranges_widen_to_whole_months(api_as, superuser, waba, points):
    body = api_as(superuser).get(
        CONVERSATIONS, {"waba": waba.pk, "start": "2024-03-05", "end": "2024-03-06", "tz": "America/Bogota",
                        "granularity": "MONTHLY"}
    ).json()
    assert body["start"] == "2024-03-01T00:00:00-05:00" and body["end"] == "2024-04-01T00:00:00-05:00"
    assert body["results"] == [{"start": "2024-03-01T00:00:00-05:00", "conversations": body["total"]}]
    assert body["total"] == sum(p.conversations for p in points)
