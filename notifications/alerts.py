"""Alerts: raised by the hook receivers and the delivery runs, grouped, put in the bell of the client's
subscribed people and emailed to them (by a task, in each person's language).

Who hears of an alert: the client's admins, unless their subscription says otherwise, and anyone of the
client with an active subscription to its kind. Repeats of one kind for one object within
``ALERT_GROUP_SECONDS`` grow the first alert's ``count`` (unread again) instead of adding alerts or emails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.models import Membership, Role
from notifications import clock, conf
from notifications.alert_texts import alert_title
from notifications.models import Alert, AlertReceipt, AlertSubscription


@dataclass(frozen=True)
class Recipient:
    user_id: int
    email: str
    by_email: bool
    language: str


def alert_recipients(*, client_id: int, kind: str) -> list[Recipient]:
    subscriptions = {s.user_id: s for s in AlertSubscription.objects.filter(client_id=client_id)}
    admins = set(Membership.objects.filter(client_id=client_id, role=Role.ADMIN).values_list("user_id", flat=True))
    members = set(Membership.objects.filter(client_id=client_id).values_list("user_id", flat=True))
    wanted = []
    for user_id in members:
        subscription = subscriptions.get(user_id)
        if subscription is None:
            if user_id in admins:
                wanted.append(user_id)
        elif subscription.is_active and (not subscription.kinds or kind in subscription.kinds):
            wanted.append(user_id)
    users = get_user_model().objects.filter(pk__in=wanted, is_active=True).only("pk", "email")
    recipients = []
    for user in users:
        subscription = subscriptions.get(user.pk)
        recipients.append(Recipient(
            user_id=user.pk, email=user.email, by_email=subscription.email if subscription else True,
            language=(subscription.language if subscription and subscription.language else settings.LANGUAGE_CODE)))
    return sorted(recipients, key=lambda r: r.user_id)


def alert_raise(*, client_id: int, kind: str, object_key: str = "", params: dict | None = None) -> Alert:
    """Raise an alert, or count a repeat of a recent one of the same kind for the same object."""
    now = clock.now()
    window = timedelta(seconds=float(conf.setting("ALERT_GROUP_SECONDS")))
    object_key = str(object_key)[:64]
    with transaction.atomic():
        recent = (Alert.objects.select_for_update()
                  .filter(client_id=client_id, kind=kind, object_key=object_key, last_at__gte=now - window)
                  .order_by("-last_at").first())
        if recent is not None:
            recent.count += 1
            recent.last_at = now
            recent.params = {**recent.params, **(params or {})}
            recent.save(update_fields=["count", "last_at", "params"])
            AlertReceipt.objects.filter(alert=recent).update(read_at=None)
            return recent
        alert = Alert.objects.create(client_id=client_id, kind=kind, object_key=object_key, params=params or {},
                                     first_at=now, last_at=now)
        recipients = alert_recipients(client_id=client_id, kind=kind)
        AlertReceipt.objects.bulk_create([AlertReceipt(alert=alert, user_id=r.user_id) for r in recipients])
        if any(r.by_email and r.email for r in recipients):
            transaction.on_commit(lambda: _email_later(alert.pk))
    return alert


def _email_later(alert_id: int) -> None:
    from notifications.tasks import alert_email_task
    from waportal.queueing import task_enqueue

    task_enqueue(alert_email_task, alert_id=alert_id)


def alert_email_send(*, alert_id: int) -> int:
    """Email an alert to each recipient not emailed yet, in their language; returns how many were sent."""
    alert = Alert.objects.filter(pk=alert_id).select_related("client").first()
    if alert is None:
        return 0
    recipients = {r.user_id: r for r in alert_recipients(client_id=alert.client_id, kind=alert.kind)}
    sent = 0
    for receipt in AlertReceipt.objects.filter(alert=alert, emailed_at__isnull=True):
        recipient = recipients.get(receipt.user_id)
        if recipient is None or not recipient.by_email or not recipient.email:
            continue
        with translation.override(recipient.language):
            title = alert_title(alert)
            subject = _("[%(client)s] %(title)s") % {"client": alert.client.name or alert.client.client_id,
                                                     "title": title}
            body = "\n\n".join([title, _("See every alert: %(url)s") % {
                "url": settings_url(reverse("admin:notifications_alertreceipt_changelist"))}])
        send_mail(subject[:200], body, None, [recipient.email])
        AlertReceipt.objects.filter(pk=receipt.pk).update(emailed_at=clock.now())
        sent += 1
    return sent


def settings_url(path: str) -> str:
    base = str(conf.setting("PUBLIC_BASE_URL") or "").rstrip("/")
    return f"{base}{path}"


def alerts_mark_read(*, user, alert_ids: list[int] | None = None) -> int:
    receipts = AlertReceipt.objects.filter(user=user, read_at__isnull=True)
    if alert_ids is not None:
        receipts = receipts.filter(alert_id__in=alert_ids)
    return receipts.update(read_at=clock.now())
