"""Aldeamo ISV endpoints: getAnalytics (with real aggregation), getWabaIdsByToken, getPhoneNumbers."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest

from sandbox.models import SandboxAnalyticsPoint, SandboxWaba
from sandbox.services_analytics import sandbox_analytics_generate

from . import seed_examples as seeds
from .conftest import post_json

ANALYTICS = "/sandbox/aldeamo/v1/analytics/getAnalytics"
WABA_IDS = "/sandbox/aldeamo/v1/analytics/getWabaIdsByToken"
PHONES = "/sandbox/aldeamo/v1/analytics/getPhoneNumbers"
WABA = "236928178367012"


@pytest.fixture
def history(account, settings) -> SandboxWaba:
    """A small known history on the seed's WABA, replacing the generated one; dates read as UTC."""
    settings.SANDBOX_ANALYTICS_TIME_ZONE = "UTC"
    waba = SandboxWaba.objects.get(waba_id=WABA)
    SandboxAnalyticsPoint.objects.all().delete()
    rows = [
        # (start, phone, country, type, direction, conversations)
        ("2023-01-31 23:30", "573245550101", "CO", "REGULAR", "USER_INITIATED", 2),
        ("2023-02-01 10:00", "573245550101", "CO", "REGULAR", "USER_INITIATED", 1),
        ("2023-02-01 10:00", "573245550101", "PE", "REGULAR", "BUSINESS_INITIATED", 3),
        ("2023-02-01 10:30", "573245550102", "CO", "FREE_TIER", "USER_INITIATED", 4),
        ("2023-02-02 08:00", "573245550102", "CO", "REGULAR", "BUSINESS_INITIATED", 5),
    ]
    SandboxAnalyticsPoint.objects.bulk_create(
        SandboxAnalyticsPoint(
            waba=waba,
            start=datetime.strptime(start, "%Y-%m-%d %H:%M").replace(tzinfo=UTC),
            phone_number=phone,
            country=country,
            conversation_type=ctype,
            conversation_direction=direction,
            conversations=n,
        )
        for start, phone, country, ctype, direction, n in rows
    )
    return waba


def _query(**changes) -> dict:
    body = copy.deepcopy(seeds.ANALYTICS)
    body["conversationAnalytics"].update(
        {"conversationStart": "2023-01-01 00:00:00", "conversationEnd": "2023-03-01 00:00:00", "phoneNumbers": []}
    )
    body["conversationAnalytics"].update(changes)
    return body


def _analytics(client, creds, body):
    return post_json(client, ANALYTICS, body, {"token": creds.aldeamo_token})


def test_seed_example_outside_the_history_answers_200_data_not_found(client, creds, history):
    response = _analytics(client, creds, seeds.ANALYTICS)
    assert response.status_code == 200
    assert response.json() == {"errors": ["Data not found for search criteria"]}


def test_half_hour_points_in_the_seed_shape(client, creds, history):
    response = _analytics(client, creds, _query())

    assert response.status_code == 200
    data = response.json()
    assert list(data) == ["id", "conversation_analytics"] and data["id"] == WABA
    points = data["conversation_analytics"]["data"][0]["data_points"]
    assert len(points) == 5
    for point in points:
        assert set(point) == set(seeds.ANALYTICS_POINT)
        assert isinstance(point["conversation"], str)
    assert points[0] == {
        "start": "2023-01-31 23:30:00",
        "end": "2023-02-01 00:00:00",
        "conversation": "2",
        "country": "CO",
        "phone_number": "573245550101",
        "conversation_type": "REGULAR",
        "conversation_direction": "USER_INITIATED",
    }


def test_daily_and_monthly_sum_away_omitted_dimensions(client, creds, history):
    daily = _analytics(client, creds, _query(granularity="DAILY", dimensions=["country"])).json()
    points = daily["conversation_analytics"]["data"][0]["data_points"]
    assert points == [
        {"start": "2023-01-31 00:00:00", "end": "2023-02-01 00:00:00", "conversation": "2", "country": "CO"},
        {"start": "2023-02-01 00:00:00", "end": "2023-02-02 00:00:00", "conversation": "5", "country": "CO"},
        {"start": "2023-02-01 00:00:00", "end": "2023-02-02 00:00:00", "conversation": "3", "country": "PE"},
        {"start": "2023-02-02 00:00:00", "end": "2023-02-03 00:00:00", "conversation": "5", "country": "CO"},
    ]
    monthly = _analytics(client, creds, _query(granularity="MONTHLY", dimensions=[])).json()
    assert monthly["conversation_analytics"]["data"][0]["data_points"] == [
        {"start": "2023-01-01 00:00:00", "end": "2023-02-01 00:00:00", "conversation": "2"},
        {"start": "2023-02-01 00:00:00", "end": "2023-03-01 00:00:00", "conversation": "13"},
    ]


def test_dates_are_on_bogota_wall_clock_by_default(client, creds, history, settings):
    settings.SANDBOX_ANALYTICS_TIME_ZONE = ""
    settings.ANALYTICS_PROVIDER_TIME_ZONE = ""
    half_hours = _analytics(client, creds, _query(dimensions=[])).json()["conversation_analytics"]["data"][0]
    assert half_hours["data_points"][0] == {
        "start": "2023-01-31 18:30:00",
        "end": "2023-01-31 19:00:00",
        "conversation": "2",
    }

    body = _query(granularity="DAILY", dimensions=[], conversationStart="2023-02-01 00:00:00")
    daily = _analytics(client, creds, body).json()["conversation_analytics"]["data"][0]["data_points"]
    assert daily == [
        {"start": "2023-02-01 00:00:00", "end": "2023-02-02 00:00:00", "conversation": "8"},
        {"start": "2023-02-02 00:00:00", "end": "2023-02-03 00:00:00", "conversation": "5"},
    ]


def test_phone_numbers_and_filters_narrow_the_points(client, creds, history):
    def total(**changes) -> int:
        data = _analytics(client, creds, _query(granularity="MONTHLY", dimensions=[], **changes)).json()
        if "errors" in data:
            return 0
        return sum(int(p["conversation"]) for p in data["conversation_analytics"]["data"][0]["data_points"])

    assert total() == 15
    assert total(phoneNumbers=["573245550102"]) == 9
    assert total(filters={"countryCodes": ["PE"]}) == 3
    assert total(filters={"conversationTypes": ["FREE_TIER"]}) == 4
    assert total(filters={"conversationDirections": ["BUSINESS_INITIATED"]}) == 8
    assert total(filters={"conversationDirections": ["USER_BUSINESS"]}) == 8  # the seed's table spelling
    assert total(filters={"countryCodes": ["GT"]}) == 0


def test_generated_history_is_aggregated_consistently(client, creds, account):
    now = datetime.now(UTC)
    for waba in SandboxWaba.objects.all():
        sandbox_analytics_generate(waba=waba, days=2)
    body = _query(
        conversationStart=(now - timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S"),
        conversationEnd=now.strftime("%Y-%m-%d %H:%M:%S"),
    )
    totals = {}
    for granularity in ("HALF_HOUR", "DAILY", "MONTHLY"):
        body["conversationAnalytics"]["granularity"] = granularity
        points = _analytics(client, creds, body).json()["conversation_analytics"]["data"][0]["data_points"]
        totals[granularity] = sum(int(p["conversation"]) for p in points)
        assert {p["country"] for p in points} >= {"CO"}
    assert totals["HALF_HOUR"] == totals["DAILY"] == totals["MONTHLY"] > 0


@pytest.mark.parametrize("field", ["conversationStart", "conversationEnd"])
def test_unparseable_date_answers_400_with_the_value(client, creds, history, field):
    response = _analytics(client, creds, _query(**{field: "aaaa-mm-dd hh:mm:ss"}))
    assert response.status_code == 400
    assert response.json() == {"errors": ["Unparseable date: aaaa-mm-dd hh:mm:ss"]}


def test_waba_of_another_client_answers_401(client, creds, history):
    body = {**_query(), "wabaId": "3453453453535355"}
    response = _analytics(client, creds, body)
    assert response.status_code == 401
    assert response.json() == {"errors": ["WabaId 3453453453535355 does not belong to the client 942 "]}


def test_bad_token_and_bad_bodies(client, creds, history):
    response = post_json(client, ANALYTICS, _query(), {"token": "nope"})
    assert response.status_code == 401 and response.json() == {"errors": ["Token nope is not valid "]}
    for body in (_query(granularity="WEEKLY"), _query(dimensions=["city"]), {"wabaId": WABA}):
        response = _analytics(client, creds, body)
        assert response.status_code == 400 and response.json() == {"errors": ["Bad Request"]}


def test_get_waba_ids_by_token(client, creds):
    response = client.post(WABA_IDS, headers={"token": creds.aldeamo_token})
    assert response.status_code == 200
    assert response.json() == [
        {"wabaIds": ["236928178367012", "246351444217940"], "clientId": 942},
        {"wabaIds": ["3453453453535355"], "clientId": 2437},
    ]
    bad = client.post(WABA_IDS, headers={"token": "6f7267fb-9134-11ed-b25b-00155d6019359"})
    assert bad.status_code == 401
    assert bad.json() == {"errors": ["Token 6f7267fb-9134-11ed-b25b-00155d6019359 is not valid "]}


def test_get_phone_numbers(client, creds):
    headers = {"Token": creds.aldeamo_token, "ClientId": "942", "WabaId": WABA}
    response = client.post(PHONES, headers=headers)

    assert response.status_code == 200
    data = response.json()["data"]
    assert [list(p) for p in data] == [list(seeds.PHONE_NUMBER)] * 2
    assert data[0] == {
        "verified_name": "Comercial Andina",
        "code_verification_status": "VERIFIED",
        "display_phone_number": "+57 324 555 0101",
        "quality_rating": "GREEN",
        "id": "107655329012345",
    }


@pytest.mark.parametrize(
    "headers",
    [
        {"ClientId": "2437", "WabaId": WABA},
        {"ClientId": "942", "WabaId": "23692817836701"},
        {"ClientId": "942", "WabaId": WABA, "Token": "bad-token"},
    ],
)
def test_get_phone_numbers_refusals(client, creds, headers):
    headers = {"Token": creds.aldeamo_token, **headers}
    response = client.post(PHONES, headers=headers)
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            f"WabaId {headers['WabaId']} does not belong to the client {headers['ClientId']} "
            f"or the token is not valid {headers['Token']}"
        ]
    }
