"""What the demo already holds when it opens: earlier conversations (with the portal's replies and their
statuses) and one finished campaign, made the way real ones are.

``demo_setup`` calls :func:`demo_history_seed` while the provider calls are routed in-process
(``in_process``) and with ``session`` posting the sandbox's callbacks to the portal in-process too, since
the web server is not up yet. It composes the portal's services (the simulator sits on top of the portal).
Safe to repeat: nothing is added once the demo campaign exists.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import requests
from django.utils import timezone

from .delivery import sandbox_deliver_due
from .demo_activity import ANDINA, COBRANZAS, SALUD
from .replies import sandbox_customer_reply

logger = logging.getLogger("sandbox")

CAMPAIGN_NAME = "Demo: pedidos despachados"
CAMPAIGN_TEMPLATE = "order_update"
# (minutes ago, business line, customer, inbound type, the agent's answer or "").
HISTORY: tuple[tuple[int, str, str, str, str], ...] = (
    (95, ANDINA, "573135550101", "text", "¡Hola! Claro que sí, atendemos de lunes a sábado de 8:00 a 18:00."),
    (80, SALUD, "573135550102", "document", "Recibimos tu orden médica; te confirmamos la cita en breve."),
    (60, COBRANZAS, "573135550103", "text", "Con gusto revisamos el cobro. ¿Nos confirmas tu número de cédula?"),
    (45, ANDINA, "573135550104", "location", ""),
    (30, SALUD, "573135550105", "image", ""),
)
CAMPAIGN_RECIPIENTS = (
    ("573135550111", "Ana", "#1042"),
    ("573135550112", "Jorge", "#1043"),
    ("573135550113", "Lucía", "#1044"),
    ("573135550114", "Mateo", "#1045"),
    ("573135550115", "Sofía", "#1046"),
)


@dataclass(frozen=True)
class HistoryReport:
    conversations: int
    replies: int
    campaign: str  # the campaign's status, "" when none was made


def _process() -> None:
    from messaging.webhooks.process import webhook_events_process

    while webhook_events_process():
        pass


def demo_history_seed(*, actor, session: requests.Session) -> HistoryReport | None:
    """Seed the history once (None when the demo campaign is already there)."""
    from accounts.models import PhoneNumber
    from campaigns import runner
    from campaigns import services as campaigns
    from campaigns.models import Campaign, CampaignStatus
    from messaging.sending import message_send
    from templates_mgr.models import Template

    if Campaign.objects.filter(name=CAMPAIGN_NAME).exists():
        return None
    now = timezone.now()
    for minutes, line, customer, type, _answer in HISTORY:
        sandbox_customer_reply(phone_number=line, from_number=customer, type=type, session=session,
                               now=now - timedelta(minutes=minutes))
    _process()
    replies = 0
    for _minutes, line, customer, _type, answer in HISTORY:
        if not answer:
            continue
        number = PhoneNumber.objects.filter(digits=line).first()
        if number is None:
            continue
        message_send(actor=actor, phone_number=number, to=customer, type="text", content={"body": answer})
        replies += 1

    status = ""
    number = PhoneNumber.objects.filter(digits=ANDINA).first()
    template = Template.objects.filter(name=CAMPAIGN_TEMPLATE, waba__phone_numbers=number).first() if number else None
    if number is not None and template is not None:
        campaign = campaigns.campaign_create_with_recipients(
            actor=actor, phone_number=number, template=template, name=CAMPAIGN_NAME, pace=60,
            recipients=[{"phone": phone, "variables": {"body_1": name, "body_2": order}}
                        for phone, name, order in CAMPAIGN_RECIPIENTS],
        )
        campaigns.campaign_report_seen(actor=actor, campaign=campaign)
        campaign = campaigns.campaign_start(actor=actor, campaign=campaign)
        for _slice in range(20):  # a handful of sends: one slice or two; the queued tasks then find it done
            campaign.refresh_from_db()
            outcome = runner.campaign_work(campaign_id=campaign.pk, generation=campaign.generation,
                                           worker_id="demo_setup", budget_seconds=10)
            if not outcome.again:
                break
        campaign.refresh_from_db()
        status = campaign.status
        if status != CampaignStatus.COMPLETED:
            logger.warning("sandbox demo history: the demo campaign is %s, not completed", status)
    else:
        logger.warning("sandbox demo history: no line %s or template %s; no campaign", ANDINA, CAMPAIGN_TEMPLATE)
    # The statuses due by now (sent, delivered…); later ones are posted by the task workers once serving.
    sandbox_deliver_due(session=session)
    _process()
    return HistoryReport(conversations=len(HISTORY), replies=replies, campaign=str(status))
