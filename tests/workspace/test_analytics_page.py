"""The workspace's analytics page: the admin's charts in the workspace frame, its filters, totals formatted per
language, CSV exports, "Sync now" for client admins only, and every role's view."""

from __future__ import annotations

import re

import pytest

from tests.analytics.conftest import FakeAldeamo, point
from tests.analytics.test_charts_page import chart_data, last_days
from tests.analytics.test_selectors import make_points

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser(client):
    def as_user(user, language="en"):
        client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
        client.force_login(user)
        return client

    return as_user


@pytest.fixture
def fake_aldeamo(monkeypatch) -> FakeAldeamo:
    fake = FakeAldeamo()
    monkeypatch.setattr("analytics.services.provider_client", lambda account: fake)
    return fake


@pytest.fixture
def charted(number):
    start, end = last_days(7)
    return make_points(number.waba, count=300, start=start, end=end)


def test_the_page_draws_the_charts_in_the_workspace_frame(browser, viewer, charted, django_assert_max_num_queries):
    client = browser(viewer)
    with django_assert_max_num_queries(16):
        page = client.get("/analytics/", {"granularity": "DAILY"})
    html = page.content.decode()
    assert page.status_code == 200 and 'data-nav="analytics"' in html and 'aria-current="page"' in html
    for element in ("wa-chart-over-time", "wa-chart-by-country", "wa-filter-form", "wa-totals"):
        assert f'id="{element}"' in html
    assert "analytics/vendor/chart.umd.min.js" in html and "analytics/charts.js" in html
    total = sum(p.conversations for p in charted)
    assert sum(sum(d["data"]) for d in chart_data(page)["over_time"]["datasets"]) == total
    # A viewer charts, never syncs.
    assert 'id="wa-sync-form"' not in html


def test_numbers_follow_the_language(browser, admin_user, number):
    from analytics.models import ConversationDataPoint

    start, end = last_days(7)
    make_points(number.waba, count=3, start=start, end=end)
    ConversationDataPoint.objects.update(conversations=1500)
    english = browser(admin_user, "en").get("/analytics/").content.decode()
    spanish = browser(admin_user, "es").get("/analytics/").content.decode()
    assert 'data-total="4500">4,500<' in english
    spanish_total = re.search(r'data-total="4500">([^<]+)<', spanish).group(1)
    assert spanish_total != "4,500" and spanish_total.replace("\xa0", " ") in ("4 500", "4.500")


def test_a_csv_export_and_an_unknown_one(browser, viewer, charted):
    client = browser(viewer)
    exported = client.get("/analytics/", {"export": "by_country"})
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    assert client.get("/analytics/", {"export": "nope"}).status_code == 404


def test_a_client_admin_syncs_now_and_comes_back_to_the_same_charts(browser, admin_user, number, fake_aldeamo):
    fake_aldeamo.answer = [point("2024-03-01 00:00", 4, phone_number=number.digits)]
    client = browser(admin_user)
    assert 'id="wa-sync-form"' in client.get("/analytics/").content.decode()
    answer = client.post("/analytics/sync/", {"waba": [number.waba.pk], "start": "2024-03-01", "end": "2024-03-02",
                                              "granularity": "DAILY", "query": "granularity=DAILY&start=2024-03-01"},
                         follow=True)
    assert answer.redirect_chain[-1][0] == "/analytics/?granularity=DAILY&start=2024-03-01"
    assert len(fake_aldeamo.calls) == 1 and "Synced 1 points (daily" in answer.content.decode()


def test_viewers_and_agents_may_not_sync(browser, viewer, agent, number, fake_aldeamo):
    for user in (viewer, agent):
        answer = browser(user).post("/analytics/sync/", {"waba": [number.waba.pk], "start": "2024-03-01",
                                                         "end": "2024-03-01", "granularity": "DAILY"}, follow=True)
        assert fake_aldeamo.calls == [] and "administer" in answer.content.decode()


def test_another_clients_wabas_are_not_charted(browser, viewer, charted):
    from tests.factories import PhoneNumberFactory

    theirs = PhoneNumberFactory()
    html = browser(viewer).get("/analytics/").content.decode()
    assert theirs.waba.waba_id not in html


def test_every_role_opens_analytics_from_the_nav(browser, viewer, agent, admin_user, superuser, charted):
    for user in (viewer, agent, admin_user, superuser):
        client = browser(user)
        assert 'href="/analytics/"' in client.get("/").content.decode()
        assert client.get("/analytics/").status_code == 200, user
