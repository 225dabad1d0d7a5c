"""What an alert says, in the reader's language: alerts store their kind and parameters, never a sentence."""

from __future__ import annotations

from django.utils.translation import gettext as _

from notifications.models import Alert, AlertKind
from waportal.words import humanise, word


def alert_title(alert: Alert) -> str:
    p = {"name": "", "language": "", "reason": "", "old": "", "new": "", "url": "", "number": "", "count": alert.count,
         "provider": "", "account": "", "events": 0, "minutes": 0, "tasks": 0, **alert.params}
    # The provider's words (ACCOUNT_UPDATE, GREEN) in the reader's language.
    mapping = {AlertKind.TEMPLATE_CATEGORY: "template_category", AlertKind.NUMBER_QUALITY: "quality"}.get(alert.kind)
    if mapping:
        p["old"], p["new"] = word(mapping, p["old"]) or "—", word(mapping, p["new"]) or "—"
    texts = {
        AlertKind.TEMPLATE_PAUSED: _("Template %(name)s (%(language)s) was paused by WhatsApp."),
        AlertKind.TEMPLATE_REJECTED: _("Template %(name)s (%(language)s) was rejected: %(reason)s"),
        AlertKind.TEMPLATE_DISABLED: _("Template %(name)s (%(language)s) was disabled by WhatsApp."),
        AlertKind.TEMPLATE_CATEGORY: _("Template %(name)s (%(language)s) changed category from %(old)s to %(new)s."),
        AlertKind.CAMPAIGN_PAUSED: _("Campaign %(name)s was paused by the portal: %(reason)s"),
        AlertKind.WEBHOOK_UNPROCESSED: _("Provider events could not be processed: %(reason)s"),
        AlertKind.ENDPOINT_DISABLED: _("Webhook endpoint %(url)s was disabled: it kept failing."),
        AlertKind.NUMBER_QUALITY: _("The quality rating of number %(number)s changed from %(old)s to %(new)s."),
        AlertKind.CREDENTIALS_REFUSED: _("Provider %(provider)s refused the credentials of account %(account)s: "
                                         "check them."),
        AlertKind.EVENTS_BACKLOG: _("%(events)s provider events have waited more than %(minutes)s minutes to be "
                                    "processed: the background workers are stalled or behind."),
        AlertKind.WORKERS_STALLED: _("%(tasks)s background tasks have waited more than %(minutes)s minutes and no "
                                     "task worker is alive."),
    }
    text = texts.get(alert.kind, humanise(alert.kind)) % p
    if alert.count > 1:
        text = _("%(text)s (%(count)s times)") % {"text": text, "count": alert.count}
    return text
