"""Fresh inventory: a scheduled refresh (the sandbox provider, in-process) finds a number's quality dropped:
history, a ``number.quality`` event and an alert; one chain of refresh tasks however many workers start."""

from __future__ import annotations

import pytest

from accounts.models import Membership, PhoneNumber, Role
from notifications import inventory
from notifications.models import Alert, AlertKind, Delivery, InventoryChange, ScheduledJob, WebhookEndpoint
from tests.factories import UserFactory
from tests.support.sandbox_account import sandbox_aldeamo_account

pytestmark = pytest.mark.django_db



@pytest.fixture
def synced(db, settings):
    with sandbox_aldeamo_account(settings) as account:
        inventory.inventory_refresh()
        yield account


def test_a_quality_drop_found_by_the_refresh_is_kept_sent_and_alerted(synced):
    from sandbox.models import QualityRating, SandboxPhoneNumber

    sandbox_number = SandboxPhoneNumber.objects.order_by("pk").first()
    number = PhoneNumber.objects.get(phone_number_id=sandbox_number.phone_number_id)
    admin = UserFactory(is_staff=True, email="boss@example.com")
    Membership.objects.create(user=admin, client=number.client, role=Role.ADMIN)
    endpoint = WebhookEndpoint.objects.create(client=number.client, url="https://hooks.example.com/q",
                                              events=["number.quality"])
    before = number.quality_rating
    new = QualityRating.RED if before != QualityRating.RED else QualityRating.YELLOW
    SandboxPhoneNumber.objects.filter(pk=sandbox_number.pk).update(quality_rating=new)

    assert inventory.inventory_refresh()["failed"] == 0

    change = InventoryChange.objects.get(phone_number=number)
    assert (change.field, change.old_value, change.new_value) == ("quality_rating", before, new)
    alert = Alert.objects.get(kind=AlertKind.NUMBER_QUALITY)
    assert alert.client_id == number.client_id and alert.receipts.filter(user=admin).exists()
    from notifications.events import outbox_fan_out

    outbox_fan_out()
    delivery = Delivery.objects.get(endpoint=endpoint)
    assert delivery.type == "number.quality" and delivery.data["new"] == new
    # Nothing changed: nothing recorded again.
    inventory.inventory_refresh()
    assert InventoryChange.objects.count() == 1


def test_one_refresh_chain_however_many_workers_start(settings, fake_clock):
    settings.INVENTORY_REFRESH_MINUTES = 60
    first = inventory.inventory_refresh_claim()
    assert first is not None
    assert inventory.inventory_refresh_claim() is None  # a second worker starting: the chain is alive
    fake_clock.advance(minutes=61)  # the chain died (its task lost): the next worker start revives it
    assert inventory.inventory_refresh_claim() is not None
    assert ScheduledJob.objects.get(name=inventory.JOB).next_run_at == fake_clock.now + inventory._interval()
    settings.INVENTORY_REFRESH_MINUTES = 0
    assert inventory.inventory_refresh_claim() is None
