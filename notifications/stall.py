"""A stalled worker or backlog, checked on a schedule by the task workers themselves (no cron).

Two conditions, both operator-level (the operators run the workers; a client can only wait):
- provider events still ``pending`` after ``STALL_EVENTS_MINUTES``: the operators are emailed, and the clients of
  the accounts whose events wait get an alert (their admins by default: their messages and statuses are late);
- tasks ``READY`` for ``STALL_TASKS_MINUTES`` while no worker heartbeat is alive: the operators only (no client can
  be named for a task, and none can act on it).

Operators (active superusers with an email) have no client, so no bell: they are emailed, at most once per
condition every ``ALERT_GROUP_SECONDS`` (one conditional UPDATE of a ``ScheduledJob`` row, so however many workers
check). Clients' alerts are grouped by :func:`~notifications.alerts.alert_raise` as usual.

Scheduling is the inventory refresh's: one ``ScheduledJob`` row, claimed by a starting worker and by each run.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import Count, Q
from django.tasks import TaskResultStatus
from django.utils import translation
from django.utils.translation import gettext as _
from django_tasks_db.models import DBTaskResult

from accounts.models import Client
from messaging.models import WebhookEvent
from notifications import clock, conf
from notifications.alerts import alert_raise
from notifications.models import AlertKind, ScheduledJob
from waportal.workers.models import WorkerHeartbeat
from waportal.workers.services import stale_seconds

JOB = "stall_check"


def _minutes(name: str) -> float:
    return float(conf.setting(name) or 0)


def stall_check_claim(*, force: bool = False):
    """Claim the next check (returns its time) unless a live chain holds it; None: nothing to enqueue."""
    minutes = _minutes("STALL_CHECK_MINUTES")
    if minutes <= 0:
        return None
    interval = timedelta(minutes=minutes)
    now = clock.now()
    ScheduledJob.objects.get_or_create(name=JOB)
    alive = Q(next_run_at__gt=now) & Q(next_run_at__lte=now + interval)
    due = now if force else now + interval
    claimed = ScheduledJob.objects.filter(name=JOB).exclude(alive if not force else Q(pk__in=[])).update(
        next_run_at=due)
    return due if claimed else None


def stall_check() -> dict:
    """Look for a backlog of provider events and for tasks no live worker runs; alert. Returns what it found."""
    now = clock.now()
    found = {"events": 0, "tasks": 0}
    events_minutes = _minutes("STALL_EVENTS_MINUTES")
    if events_minutes > 0:
        waiting = dict(WebhookEvent.objects.filter(
            state=WebhookEvent.State.PENDING, received_at__lt=now - timedelta(minutes=events_minutes))
            .values("provider_account_id").annotate(n=Count("id")).values_list("provider_account_id", "n"))
        found["events"] = sum(waiting.values())
        if waiting:
            for client in Client.objects.filter(provider_account_id__in=waiting, is_active=True).only(
                    "pk", "provider_account_id"):
                alert_raise(client_id=client.pk, kind=AlertKind.EVENTS_BACKLOG, object_key="events", params={
                    "events": waiting[client.provider_account_id], "minutes": int(events_minutes)})
            _operators_alert(kind=AlertKind.EVENTS_BACKLOG, params={
                "events": found["events"], "minutes": int(events_minutes)})
    tasks_minutes = _minutes("STALL_TASKS_MINUTES")
    if tasks_minutes > 0:
        alive = WorkerHeartbeat.objects.filter(seen_at__gte=now - timedelta(seconds=stale_seconds())).exists()
        if not alive:
            cut = now - timedelta(minutes=tasks_minutes)
            found["tasks"] = DBTaskResult.objects.filter(status=TaskResultStatus.READY, run_after__lt=cut).count()
            if found["tasks"]:
                _operators_alert(kind=AlertKind.WORKERS_STALLED, params={
                    "tasks": found["tasks"], "minutes": int(tasks_minutes)})
    return found


def _operators_alert(*, kind: str, params: dict) -> int:
    """Email the operators, at most once per kind within ``ALERT_GROUP_SECONDS``; returns how many were sent."""
    from notifications.alert_texts import alert_title
    from notifications.models import Alert

    now = clock.now()
    name = f"operators:{kind}"[:64]
    window = timedelta(seconds=float(conf.setting("ALERT_GROUP_SECONDS")))
    ScheduledJob.objects.get_or_create(name=name)
    if not ScheduledJob.objects.filter(name=name).filter(
            Q(last_run_at__isnull=True) | Q(last_run_at__lt=now - window)).update(last_run_at=now):
        return 0  # already told within the window
    operators = list(get_user_model().objects.filter(is_superuser=True, is_active=True).exclude(email="")
                     .values_list("email", flat=True))
    if not operators:
        return 0
    with translation.override(settings.LANGUAGE_CODE):
        title = alert_title(Alert(kind=kind, params=params, count=1))
        subject = _("[operators] %(title)s") % {"title": title}
    send_mail(subject[:200], title, None, operators)
    return len(operators)
