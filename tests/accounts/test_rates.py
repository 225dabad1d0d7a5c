"""A business number's send limit shared by every sender (issue 21): the token bucket in the database."""

from __future__ import annotations

import time

import pytest

from accounts import rates
from accounts.models import NumberRate, Role
from messaging import sending
from messaging.models import MessageStatus
from messaging.sending import delivery
from providers.base import ProviderRateLimited
from tests.factories import MembershipFactory
from tests.messaging.conftest import FakeClient
from tests.messaging.factories import aldeamo_number, open_window

pytestmark = pytest.mark.django_db


@pytest.fixture
def number(db):
    return aldeamo_number(digits="573004445566")


def test_a_number_gets_its_row_with_the_configured_limit_on_its_first_send(number, settings):
    settings.CAMPAIGN_PACE_LIMITS = {number.digits: 1000}
    first, interval, per_second = rates.number_slots(phone_number_id=number.pk, digits=number.digits)
    assert per_second == 1000 and interval == pytest.approx(1 / (1000 * 0.98))  # the default headroom
    assert NumberRate.objects.get(phone_number=number).per_second == 1000
    assert abs(first - time.time()) < 1


def test_grants_never_overlap_whoever_asks_so_the_number_never_exceeds_its_limit(number):
    NumberRate.objects.create(phone_number=number, per_second=10)
    grants = [rates.number_slots(phone_number_id=number.pk, digits=number.digits, count=count)
              for count in (3, 1, 4, 2)]  # a campaign worker, the API, another worker, the composer
    slots = sorted(first + i * interval for (first, interval, _rate), count in zip(grants, (3, 1, 4, 2),
                                                                                   strict=True)
                   for i in range(count))
    gaps = [b - a for a, b in zip(slots, slots[1:], strict=False)]
    assert len(slots) == 10 and min(gaps) == pytest.approx(1 / 9.8, abs=1e-6)
    # Ten slots at 9.8/s (the limit, with the default headroom) span 0.92 s: any 1 s window holds at most 10.
    assert slots[-1] - slots[0] == pytest.approx(9 / 9.8, abs=1e-3)


def test_an_edited_limit_applies_to_the_next_grant(number):
    NumberRate.objects.create(phone_number=number, per_second=80)
    assert rates.number_slots(phone_number_id=number.pk, digits=number.digits)[2] == 80
    NumberRate.objects.filter(phone_number=number).update(per_second=20)  # a coexistence number
    _first, interval, per_second = rates.number_slots(phone_number_id=number.pk, digits=number.digits)
    assert per_second == 20 and interval == pytest.approx(1 / (20 * 0.98))


def test_a_grant_starts_no_earlier_than_asked(number):
    NumberRate.objects.create(phone_number=number, per_second=50)
    later = time.time() + 5
    first, _interval, _rate = rates.number_slots(phone_number_id=number.pk, digits=number.digits, not_before=later)
    assert first == pytest.approx(later, abs=1e-6)


def test_a_throttle_holds_every_sender_of_the_number_back_and_is_shown(number):
    NumberRate.objects.create(phone_number=number, per_second=80)
    rates.number_slow_down(phone_number_id=number.pk, seconds=2)
    first, _interval, _rate = rates.number_slots(phone_number_id=number.pk, digits=number.digits)
    assert first >= time.time() + 1.5
    assert rates.throttled_numbers([number.pk]) == {number.pk}


def test_single_sends_take_their_slot_from_the_same_bucket(number, monkeypatch):
    NumberRate.objects.create(phone_number=number, per_second=4)
    client = FakeClient()
    monkeypatch.setattr(delivery, "provider_client", lambda account: client)
    waited: list[float] = []
    monkeypatch.setattr(delivery, "slot_sleep", waited.append)
    agent = MembershipFactory(client=number.client, role=Role.AGENT).user
    open_window(number, "573001230000")
    for _ in range(3):
        message = sending.message_send(actor=agent, phone_number=number, to="573001230000", type="text",
                                       content={"body": "Hola"})
        assert message.status == MessageStatus.SENT
    # Back to back at 4/s: the second and third waited for the slots 0.25 s and 0.5 s after the first.
    assert len(waited) == 2 and waited[1] > waited[0] > 0.15
    assert NumberRate.objects.get(phone_number=number).next_slot >= time.time() + 0.5


def test_a_429_on_a_single_send_holds_the_whole_number_back(number, monkeypatch):
    NumberRate.objects.create(phone_number=number, per_second=80)
    client = FakeClient()
    client.script = [ProviderRateLimited("Too many requests", status=429, retry_after=1.5)]
    monkeypatch.setattr(delivery, "provider_client", lambda account: client)
    monkeypatch.setattr(delivery, "sleep", lambda seconds: None)
    agent = MembershipFactory(client=number.client, role=Role.AGENT).user
    open_window(number, "573001230001")
    started = time.time()
    message = sending.message_send(actor=agent, phone_number=number, to="573001230001", type="text",
                                   content={"body": "Hola"})
    assert message.status == MessageStatus.SENT and len(client.sent) == 2  # retried once, sent once
    # The whole number was held back 1.5 s, and the retry itself took the first slot after the hold (a retry is a
    # send like any other); the campaigns of the number wait behind it.
    assert time.time() - started >= 1.4
    first, _interval, _rate = rates.number_slots(phone_number_id=number.pk, digits=number.digits)
    assert first >= started + 1.5
    assert rates.throttled_numbers([number.pk]) == {number.pk}


def test_a_single_send_woken_too_late_for_its_slot_takes_the_next_one(number, monkeypatch):
    NumberRate.objects.create(phone_number=number, per_second=10)
    waits: list[float] = []

    def oversleep(seconds: float) -> None:  # the machine was busy: the first wake-up comes 50 ms late
        waits.append(seconds)
        time.sleep(seconds + (0.05 if len(waits) == 1 else 0))

    rates.number_slots(phone_number_id=number.pk, digits=number.digits)  # someone else's slot just now
    rates.number_wait(phone_number_id=number.pk, digits=number.digits, sleep=oversleep)
    assert len(waits) == 2  # gave its late slot up and left at the next one
    assert rates.leave_tolerance() < 0.05


def test_the_margin_lets_a_send_leave_a_little_late_and_the_window_still_holds_the_limit(settings):
    settings.CAMPAIGN_NUMBER_HEADROOM = 0.98
    tolerance = rates.leave_tolerance()
    assert 0.005 <= tolerance <= 0.0103
    for limit in (20, 80, 1000):  # slots 1 / (limit * 0.98) apart, each left up to `tolerance` late
        assert limit * 0.98 * (1 + tolerance) <= limit


@pytest.mark.parametrize("value", [0, 1001])
def test_the_admin_refuses_a_number_limit_outside_1_to_1000(value, superuser, client):
    """The admin form (operators) checks the same range as the API and the service."""
    from django.urls import reverse

    from accounts.models import NumberRate
    from tests.factories import PhoneNumberFactory

    rate = NumberRate.objects.create(phone_number=PhoneNumberFactory(), per_second=80)
    client.force_login(superuser)
    response = client.post(reverse("admin:accounts_numberrate_change", args=[rate.pk]), {"per_second": value})
    assert response.status_code == 200 and "per_second" in response.context["adminform"].form.errors
    rate.refresh_from_db()
    assert rate.per_second == 80
