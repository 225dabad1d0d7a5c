"""The charts page in the admin: renders with few, constant queries; empty states; sync; CSV = chart."""

from __future__ import annotations

import csv
import io
import json
import re
import zoneinfo
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics.models import AnalyticsSync
from tests.analytics.conftest import point
from tests.analytics.test_selectors import make_points
from tests.factories import PhoneNumberFactory

URL = "/admin/analytics/conversationdatapoint/"
BOGOTA = zoneinfo.ZoneInfo("America/Bogota")


@pytest.fixture
def client(client):
    """Pages in English whatever the default language, so assertions read the source strings."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def chart_data(response) -> dict:
    match = re.search(
        r'<script id="wa-analytics-data" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    assert match, "no json_script block"
    return json.loads(match.group(1))


def last_days(days: int = 7) -> tuple[datetime, datetime]:
    today = timezone.now().astimezone(BOGOTA).date()
    end = datetime(today.year, today.month, today.day, tzinfo=BOGOTA) + timedelta(days=1)
    return end - timedelta(days=days), end


@pytest.fixture
def charted(waba):
    start, end = last_days(7)
    return make_points(waba, count=300, start=start, end=end)


@pytest.fixture
def admin_client_(client, superuser):
    client.force_login(superuser)
    return client


@pytest.mark.django_db
def test_the_page_renders_every_chart_with_few_queries(admin_client_, charted, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        response = admin_client_.get(URL, {"granularity": "DAILY", "stack": "conversation_direction"})
    assert response.status_code == 200
    html = response.content.decode()
    for element in ("wa-chart-over-time", "wa-chart-by-country", "wa-chart-by-number", "wa-filter-form", "wa-totals"):
        assert f'id="{element}"' in html
    assert "analytics/vendor/chart.umd.min.js" in html and "analytics/charts.js" in html
    assert "<style" not in html.split("</head>")[1]  # nothing inline in the page body
    data = chart_data(response)
    total = sum(p.conversations for p in charted)
    over_time = data["over_time"]
    assert len(over_time["labels"]) == 30  # the default range: 30 days, zeros included
    assert sum(sum(d["data"]) for d in over_time["datasets"]) == total
    assert {d["key"] for d in over_time["datasets"]} == {"USER_INITIATED", "BUSINESS_INITIATED"}
    assert sum(data["by_country"]["datasets"][0]["data"]) == total
    assert data["by_number"]["labels"][0].startswith(("+57", "5732"))
    assert f'data-total="{total}"' in html


@pytest.mark.django_db
def test_the_query_count_does_not_grow_with_the_data(admin_client_, waba, django_assert_max_num_queries):
    start, end = last_days(7)
    make_points(waba, count=20, start=start, end=end)
    for extra in range(3):
        PhoneNumberFactory(waba=waba, client=waba.client)
        make_points(PhoneNumberFactory().waba, count=200, start=start, end=end, seed=extra)
    with django_assert_max_num_queries(10):
        response = admin_client_.get(URL)
    assert response.status_code == 200


@pytest.mark.django_db
def test_a_viewer_sees_only_their_clients_wabas_and_no_sync(client, waba, member_of, django_assert_max_num_queries):
    start, end = last_days(7)
    make_points(waba, count=30, start=start, end=end)
    stranger = PhoneNumberFactory().waba
    make_points(stranger, count=30, start=start, end=end, seed=3)
    viewer = member_of(waba.client, role="viewer")
    client.force_login(viewer)
    # The admin's own chrome (session, user, sidebar permissions) costs what it costs on the admin index;
    # on top of it the page runs at most 7 queries.
    with CaptureQueriesContext(connection) as index:
        client.get("/admin/")
    with django_assert_max_num_queries(len(index.captured_queries) + 7):
        response = client.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert waba.waba_id in html and stranger.waba_id not in html
    assert 'id="wa-sync-form"' not in html
    total = sum(sum(d["data"]) for d in chart_data(response)["over_time"]["datasets"])
    assert total == sum(p.conversations for p in waba.conversation_points.all())
    # Asking for the other tenant's WABA is refused by the form, not answered.
    response = client.get(URL, {"waba": stranger.pk})
    assert response.status_code == 200
    assert "errorlist" in response.content.decode()


@pytest.mark.django_db
def test_the_empty_state_says_why_and_offers_a_sync(admin_client_, waba):
    response = admin_client_.get(URL)
    html = response.content.decode()
    assert 'id="wa-empty"' in html
    assert "never synced" in html
    assert 'id="wa-sync-form"' in html and f'name="waba" value="{waba.pk}"' in html

    AnalyticsSync.objects.create(
        waba=waba, client=waba.client, granularity="DAILY", range_start=timezone.now(), range_end=timezone.now(),
        state=AnalyticsSync.State.EMPTY, message="La sincronización no encontró datos (written in Spanish).",
    )
    html = admin_client_.get(URL).content.decode()
    assert "no data at the last sync" in html
    # Made from the sync's numbers in the reader's language, not the words stored when it ran.
    assert f"The provider has no conversation data for WABA {waba.waba_id}" in html and "written in" not in html
    html = admin_client_.get(URL, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert f"El proveedor no tiene datos de conversaciones para la WABA {waba.waba_id}" in html, html[-3000:]


@pytest.mark.django_db
def test_a_failed_sync_keeps_the_words_it_failed_with(admin_client_, waba):
    AnalyticsSync.objects.create(
        waba=waba, client=waba.client, granularity="DAILY", range_start=timezone.now(), range_end=timezone.now(),
        state=AnalyticsSync.State.ERROR, message="Aldeamo answered “Data not found for search criteria”.",
    )
    html = admin_client_.get(URL).content.decode()
    assert "The last sync failed" in html and "Data not found for search criteria" in html


@pytest.mark.django_db
def test_filters_that_match_nothing_say_so(admin_client_, charted):
    html = admin_client_.get(URL, {"countries": "AR"}).content.decode()
    assert 'id="wa-empty"' in html and "No conversation matches these filters" in html


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params, field",
    [
        ({"countries": "Colombia"}, "countries"),
        ({"granularity": "HALF_HOUR", "start": "2024-01-01", "end": "2024-03-01"}, "granularity"),
        ({"start": "2024-03-02", "end": "2024-03-01"}, "end"),
        ({"start": "yesterday"}, "start"),
    ],
)
def test_bad_filters_are_shown_on_the_form(admin_client_, waba, params, field):
    response = admin_client_.get(URL, params)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert 'id="wa-totals"' not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["over_time", "by_country", "by_number", "funnel", "failures", "templates"])
def test_each_csv_holds_exactly_what_its_chart_shows(admin_client_, charted, key):
    params = {"granularity": "DAILY", "stack": "conversation_type", "conversation_types": ["REGULAR", "FREE_TIER"]}
    page = admin_client_.get(URL, params)
    exported = admin_client_.get(URL, {**params, "export": key})
    assert exported.status_code == 200
    assert exported["Content-Type"].startswith("text/csv")
    assert "attachment" in exported["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(exported.content.decode())))
    chart = page.context["dashboard"].charts[key]
    assert rows[0] == [chart.label_header, *[d["label"] for d in chart.datasets]]
    assert rows[1:] == [[str(cell) for cell in row] for row in chart.rows()]
    if key != "templates":  # tables are not drawn
        drawn = chart_data(page)[key]
        assert [row[0] for row in rows[1:]] == drawn["labels"]
        for column, dataset in enumerate(drawn["datasets"], start=1):
            assert [int(row[column]) for row in rows[1:]] == dataset["data"]


@pytest.mark.django_db
def test_an_unknown_export_is_a_404(admin_client_):
    assert admin_client_.get(URL, {"export": "pie"}).status_code == 404


@pytest.mark.django_db
def test_the_plain_list_stays_reachable(admin_client_, charted):
    response = admin_client_.get(reverse("admin:analytics_conversationdatapoint_list"))
    assert response.status_code == 200
    assert 'id="result_list"' in response.content.decode()
    assert reverse("admin:analytics_analyticssync_changelist") in admin_client_.get(URL).content.decode()


@pytest.mark.django_db
def test_the_sync_button_syncs_the_charted_wabas_and_comes_back(admin_client_, waba, fake_aldeamo):
    fake_aldeamo.answer = [point("2024-03-01 00:00", 4)]
    sync_url = reverse("admin:analytics_conversationdatapoint_sync")
    response = admin_client_.post(
        sync_url,
        {"waba": [waba.pk], "start": "2024-03-01", "end": "2024-03-02", "granularity": "DAILY",
         "query": "granularity=DAILY&start=2024-03-01&end=2024-03-02"},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == f"{URL}?granularity=DAILY&start=2024-03-01&end=2024-03-02"
    assert len(fake_aldeamo.calls) == 1 and fake_aldeamo.calls[0]["granularity"] == "DAILY"
    html = response.content.decode()
    assert "Synced 1 points (daily, 4 conversations)" in html
    assert sum(sum(d["data"]) for d in chart_data(response)["over_time"]["datasets"]) == 4 * 1


@pytest.mark.django_db
def test_the_sync_reports_the_providers_refusal_in_words(admin_client_, waba, fake_aldeamo):
    from providers.base import ProviderRejected

    fake_aldeamo.answer = ProviderRejected("Unparseable date: aaaa-mm-dd hh:mm:ss", status=400)
    response = admin_client_.post(
        reverse("admin:analytics_conversationdatapoint_sync"),
        {"waba": [waba.pk], "start": "2024-03-01", "end": "2024-03-01", "granularity": "DAILY"},
        follow=True,
    )
    assert "Unparseable date: aaaa-mm-dd hh:mm:ss" in response.content.decode()


@pytest.mark.django_db
def test_only_admins_of_the_client_may_sync(client, waba, member_of, fake_aldeamo):
    client.force_login(member_of(waba.client, role="viewer"))
    response = client.post(
        reverse("admin:analytics_conversationdatapoint_sync"),
        {"waba": [waba.pk], "start": str(date.today()), "end": str(date.today()), "granularity": "DAILY"},
        follow=True,
    )
    assert fake_aldeamo.calls == []
    assert "administer" in response.content.decode()
    assert client.get(reverse("admin:analytics_conversationdatapoint_sync")).status_code == 405


@pytest.mark.django_db
def test_a_monthly_chart_costs_no_more_queries(admin_client_, charted, django_assert_max_num_queries):
    with django_assert_max_num_queries(10):
        response = admin_client_.get(URL, {"granularity": "MONTHLY"})
    over_time = chart_data(response)["over_time"]
    assert sum(sum(d["data"]) for d in over_time["datasets"]) == sum(p.conversations for p in charted)
