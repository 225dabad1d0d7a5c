"""Issue 24's operator-level alerts: a provider refusing an account's credentials (a send, a sync, a connection
test) alerts each client of the account once, grouped; provider events left pending and tasks no live worker runs
alert the operators (email, once per window) and, for events, the clients of their accounts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from accounts.models import Role
from messaging.models import WebhookEvent
from messaging.sending import delivery
from notifications import stall
from notifications.models import Alert, AlertKind, ScheduledJob
from notifications.tasks import alert_email_task
from providers.base import ProviderAuthError
from tests.factories import UserFactory
from tests.messaging.conftest import FakeClient
from tests.messaging.factories import member, open_window
from waportal.workers.models import WorkerHeartbeat

pytestmark = pytest.mark.django_db

CUSTOMER = "573131234567"


def send_emails(captured) -> None:
    for callback in captured:
        callback()
    for alert in Alert.objects.all():
        alert_email_task.call(alert_id=alert.pk)


@pytest.fixture
def refusing(monkeypatch):
    client = FakeClient()
    client.script = [ProviderAuthError("Authentication Error", status=401) for _ in range(10)]
    monkeypatch.setattr(delivery, "provider_client", lambda account: client)
    monkeypatch.setattr(delivery, "sleep", lambda seconds: None)
    return client


def test_sends_refused_for_credentials_make_one_grouped_alert_and_one_email(
        api_as, settings, line, client_admin, refusing, django_capture_on_commit_callbacks):
    settings.LANGUAGE_CODE = "en"  # the recipients' language: assertions read the source strings
    open_window(line, CUSTOMER)
    agent = member(line, Role.AGENT)
    body = {"from": line.digits, "to": CUSTOMER, "type": "text", "text": {"body": "Hola"}}
    with django_capture_on_commit_callbacks() as captured:
        for _ in range(3):
            assert api_as(agent).post("/api/v1/messages/", body, format="json").status_code == 502
    send_emails(captured)

    alert = Alert.objects.get()
    account = line.client.provider_account
    assert alert.kind == AlertKind.CREDENTIALS_REFUSED and alert.count == 3
    assert alert.client_id == line.client_id and alert.object_key == f"account:{account.pk}"
    assert alert.receipts.filter(user=client_admin).exists()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["admin@example.com"]
    assert account.name in mail.outbox[0].body and "check them" in mail.outbox[0].body


def test_a_sync_refused_for_credentials_alerts_the_accounts_clients(line, client_admin, monkeypatch):
    from accounts.services import provider_account_sync
    from accounts.services import sync as sync_module

    def refuse(account):
        raise ProviderAuthError("Authentication Error", status=401)

    monkeypatch.setattr(sync_module, "_sync_isv", refuse)
    monkeypatch.setattr(sync_module, "_sync_single_line", refuse)
    account = line.client.provider_account
    for _ in range(2):
        with pytest.raises(ProviderAuthError):
            provider_account_sync(account=account)
    alert = Alert.objects.get()
    assert (alert.kind, alert.client_id, alert.count) == (AlertKind.CREDENTIALS_REFUSED, line.client_id, 2)

    from accounts.services import provider_account_test_connection
    from accounts.services import provider_accounts as accounts_module

    monkeypatch.setattr(accounts_module, "_isv_connection_words", refuse)
    monkeypatch.setattr(accounts_module, "provider_client", lambda account: type("C", (), {
        "check_connection": lambda self: refuse(account)})())
    monkeypatch.setattr(accounts_module, "provider_account_balance_refresh", lambda account: refuse(account))
    assert not provider_account_test_connection(account=account).ok
    assert Alert.objects.get().count == 3  # a connection test refused: the same alert, grouped


@pytest.fixture
def operator(db):
    return UserFactory(is_staff=True, is_superuser=True, email="ops@example.com")


def pending_event(line, *, minutes_ago: float, n: int = 0) -> WebhookEvent:
    event = WebhookEvent.objects.create(provider_account=line.client.provider_account, body_sha256=f"{n:064d}",
                                        body="{}", state=WebhookEvent.State.PENDING)
    WebhookEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=minutes_ago))
    return event


def test_events_pending_too_long_alert_the_client_and_email_the_operators_once(
        settings, line, client_admin, operator, django_capture_on_commit_callbacks):
    settings.STALL_EVENTS_MINUTES = 15
    pending_event(line, minutes_ago=5, n=1)
    assert stall.stall_check()["events"] == 0 and not Alert.objects.exists() and not mail.outbox

    pending_event(line, minutes_ago=20, n=2)
    with django_capture_on_commit_callbacks() as captured:
        assert stall.stall_check()["events"] == 1
        assert stall.stall_check()["events"] == 1  # the next check: grouped, no new email
    send_emails(captured)

    alert = Alert.objects.get()
    assert (alert.kind, alert.client_id, alert.count) == (AlertKind.EVENTS_BACKLOG, line.client_id, 2)
    assert alert.receipts.filter(user=client_admin).exists()
    assert sorted(m.to[0] for m in mail.outbox) == ["admin@example.com", "ops@example.com"]


def test_tasks_ready_too_long_without_a_live_worker_email_the_operators_once(settings, operator, db):
    from notifications.tasks import alert_email_task as some_task

    settings.STALL_TASKS_MINUTES = 15
    settings.LANGUAGE_CODE = "en"  # the operators' emails' language
    some_task.enqueue(alert_id=0)
    DBTaskResult.objects.filter(status=TaskResultStatus.READY).update(
        enqueued_at=timezone.now() - timedelta(minutes=30), run_after=timezone.now() - timedelta(minutes=30))
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1
    WorkerHeartbeat.objects.create(worker_id="w1", seen_at=timezone.now(), started_at=timezone.now())
    assert stall.stall_check()["tasks"] == 0 and not mail.outbox  # a worker is alive: merely busy

    WorkerHeartbeat.objects.filter(worker_id="w1").update(seen_at=timezone.now() - timedelta(minutes=10))
    assert stall.stall_check()["tasks"] == 1
    assert stall.stall_check()["tasks"] == 1
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["ops@example.com"]
    assert "no task worker is alive" in mail.outbox[0].body
    assert not Alert.objects.exists()  # operator-level: no client is alerted for a stalled worker


def test_one_stall_check_chain_however_many_workers_start(settings, db):
    settings.STALL_CHECK_MINUTES = 5
    assert stall.stall_check_claim() is not None
    assert stall.stall_check_claim() is None
    assert ScheduledJob.objects.get(name=stall.JOB).next_run_at is not None
    settings.STALL_CHECK_MINUTES = 0
    assert stall.stall_check_claim() is None
