"""The provider call: the number's send slot, retries only where safe, the outcome recorded.

Provider failures are outcomes, not exceptions: a refusal marks the message
``failed`` with words a person can act on and the error's kind (the
``ProviderError`` class's ``kind``); a connection error, 429 or 5xx is retried
with capped, jittered exponential backoff; a read timeout marks it ``unknown``
after exactly one call.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from accounts import gateway, rates
from accounts.models import ProviderAccount
from messaging import hooks
from messaging.models import STATUS_FIELDS, Message, MessageStatus, SendOutcome
from messaging.webhooks.statuses import status_apply, status_events_attach
from providers.base import ProviderAuthError, ProviderError, ProviderRateLimited, ProviderTimeout
from providers.leave import SendLate, leave_by, leave_by_set
from providers.types import SendResult

logger = logging.getLogger("messaging.sending")

# A module attribute (not ``from … import``) so tests replace it with a fake:
# ``monkeypatch.setattr("messaging.sending.delivery.provider_client", lambda account: fake)``.
provider_client = gateway.provider_client

#: Injectable so tests do not wait: ``monkeypatch.setattr("messaging.sending.delivery.sleep", …)``.
sleep = time.sleep
#: The wait for the number's next send slot (accounts.rates), apart from the retry backoff above.
slot_sleep = time.sleep

#: Attempts in all for errors the provider marks retryable (connection refused, 429, 5xx).
MAX_ATTEMPTS = 3
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 8.0


@dataclass(frozen=True)
class Outcome:
    """How one send ended at the provider, ready to record."""

    status: str
    at: datetime
    result: SendResult | None = None
    error_code: str = ""
    error_title: str = ""
    #: The ``ProviderError`` class's kind (``providers.base.ERROR_KINDS``) for a failed or unknown send.
    error_kind: str = ""
    outcome: str = SendOutcome.ACCEPTED
    #: For a ``throttled`` outcome: whom to slow down ("number" or "recipient"), and the provider's Retry-After.
    throttle: str = ""
    retry_after: float | None = None


def _outcome_kind(exc: ProviderError) -> str:
    """Which kind of failure ``exc`` is, for the API's status code (see ``SendOutcome``).

    Refused credentials, and answers a correctly configured account never gets
    (404/405: a wrong base URL or path; a redirect), are the account's
    configuration; retryable failures that outlived the retries are an
    unreachable provider; an answer that may hide a send is unknown; any other
    refusal (400, Contacto Virtual codes 3-8 and 1002-1011) is the provider
    refusing this message.
    """
    if exc.maybe_delivered:
        return SendOutcome.UNKNOWN
    if exc.retryable:
        return SendOutcome.UNREACHABLE
    if isinstance(exc, ProviderAuthError) or (exc.status is not None and (exc.status in (404, 405) or
                                                                         300 <= exc.status < 400)):
        return SendOutcome.CONFIGURATION
    return SendOutcome.REFUSED


#: Not a message status: a send the provider refused to take because of throttling (see TemplateBatch.begin).
THROTTLED = "throttled"
#: WhatsApp's throttling errors: the number's throughput (130429) and the pair rate to one recipient (131056).
NUMBER_THROTTLE_CODES = ("130429",)
RECIPIENT_THROTTLE_CODES = ("131056",)


def throttle_of(exc: ProviderError) -> str:
    """Whom a provider error asks to slow down: "number", "recipient", or "" (not a throttling answer)."""
    if isinstance(exc, ProviderRateLimited):
        return "number"
    if exc.maybe_delivered:
        return ""
    text = f"{exc.code or ''} {exc.message} {exc.body if isinstance(exc.body, str | dict | list) else ''}"
    if any(code in text for code in NUMBER_THROTTLE_CODES):
        return "number"
    if any(code in text for code in RECIPIENT_THROTTLE_CODES):
        return "recipient"
    return ""


def backoff(attempt: int, error: ProviderError) -> float:
    """Seconds to wait before attempt ``attempt + 1``: exponential, capped, with jitter.

    "Equal jitter" (half fixed, half random) keeps a minimum pause while
    spreading retries of many senders; a 429's Retry-After is honoured up to
    the cap.
    """
    ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempt - 1))
    delay = ceiling / 2 + random.uniform(0, ceiling / 2)
    if isinstance(error, ProviderRateLimited) and error.retry_after:
        delay = max(delay, min(error.retry_after, BACKOFF_CAP_SECONDS))
    return delay


def call_provider(*, client, wire: Any, account: ProviderAccount, label: Any,
                   throttle_back: bool = False, on_throttle: Callable[[float], None] | None = None,
                   before_retry: Callable[[], None] | None = None) -> Outcome:
    """Send ``wire``, retrying only what is safe; the outcome, never a ProviderError.

    With ``throttle_back``, a throttling answer (:func:`throttle_of`) is
    returned at once as a ``throttled`` outcome instead of being retried here;
    otherwise ``on_throttle(delay)`` hears of a number throttle before the retry.
    ``before_retry()`` runs after the backoff, before each new attempt: a single
    send takes the number's next slot there, so a retry is counted like any send.

    Anything else raised (a bug, not a provider answer) propagates: the caller
    records the message as ``unknown`` (see :func:`internal_error`).
    """
    attempt = 0
    while True:
        attempt += 1
        try:
            result = client.send(wire)
        except ProviderError as exc:
            if throttle_back and (whom := throttle_of(exc)):
                logger.info("send %s: throttled by the provider (%s): %s", label, whom, exc)
                return Outcome(THROTTLED, timezone.now(), error_code=_error_code(exc), error_title=exc.message,
                               error_kind=exc.kind, throttle=whom, retry_after=getattr(exc, "retry_after", None))
            if exc.maybe_delivered:
                logger.warning("send %s: outcome unknown: %s", label, exc)
                return Outcome(MessageStatus.UNKNOWN, timezone.now(), error_title=_unknown_words(exc, account),
                               error_kind=exc.kind, outcome=SendOutcome.UNKNOWN)
            if exc.retryable and attempt < MAX_ATTEMPTS:
                logger.info("send %s: attempt %d failed (%s); retrying", label, attempt, exc)
                delay = backoff(attempt, exc)
                if on_throttle is not None and throttle_of(exc) == "number":
                    on_throttle(delay)  # every sender of the number waits too, not only this one
                sleep(delay)
                if before_retry is not None:
                    before_retry()
                else:
                    leave_by_set(None)  # retried in place (a campaign's send thread): no new slot, no deadline
                continue
            logger.info("send %s: failed after %d attempt(s): %s", label, attempt, exc)
            return Outcome(MessageStatus.FAILED, timezone.now(), error_code=_error_code(exc),
                           error_title=_failure_words(exc, account, attempt), error_kind=exc.kind,
                           outcome=_outcome_kind(exc))
        return Outcome(MessageStatus.SENT, timezone.now(), result=result)


def internal_error() -> Outcome:
    # The request may or may not have left.
    return Outcome(MessageStatus.UNKNOWN, timezone.now(), outcome=SendOutcome.UNKNOWN, error_title=_(
        "The portal hit an internal error while sending; the message may or may not have been sent. Check with the "
        "customer before sending it again."))


def deliver(*, message: Message, wire: Any, account: ProviderAccount) -> Message:
    """Take the number's next send slot, call the provider (retrying only what is safe), record the outcome.

    The call must leave by its slot's deadline (:mod:`providers.leave`): held
    up past it (a busy machine), nothing is sent and the number's next slot is
    taken -- up to ``LATE_RETRIES`` (``accounts.rates``) times, then it leaves whenever it can. A
    retry after a 5xx or a 429 takes a new slot with a new deadline.
    """
    late = 0

    def slot() -> None:
        leave_by_set(number_slot(phone_number_id=message.phone_number_id, digits=message.from_number,
                                 anyway=late >= rates.LATE_RETRIES))

    def slow_down(seconds: float) -> None:
        rates.number_slow_down(phone_number_id=message.phone_number_id, seconds=seconds)

    client = provider_client(account)
    with leave_by(None):
        while True:
            slot()
            try:
                outcome = call_provider(client=client, wire=wire, account=account, label=message.pk,
                                        on_throttle=slow_down, before_retry=slot)
            except SendLate:
                late += 1  # nothing left: the provider never saw it
                continue
            except Exception:
                record(message, account=account, outcome=internal_error())
                raise
            return record(message, account=account, outcome=outcome)


def number_slot(*, phone_number_id: int, digits: str, anyway: bool = False) -> float | None:
    """Wait for the business number's next send slot, shared with its campaigns and every other sender; the
    moment the send must have left by (None: whenever).
    """
    return rates.number_wait(phone_number_id=phone_number_id, digits=digits, sleep=slot_sleep, anyway=anyway)


def _provider_name(account: ProviderAccount) -> str:
    return account.get_provider_display()


def _error_code(exc: ProviderError) -> str:
    if exc.code is not None:
        return str(exc.code)[:32]
    if exc.status is not None:
        return str(exc.status)
    return ""


def _failure_words(exc: ProviderError, account: ProviderAccount, attempts: int) -> str:
    """Why a send failed, in words that say what to do about it."""
    name = _provider_name(account)
    if exc.retryable:
        return _(
            "%(provider)s could not take the message after %(attempts)d attempts (%(words)s). It was not sent; try "
            "again later."
        ) % {"provider": name, "attempts": attempts, "words": exc.message}
    if account.spec.errors_worded:
        return exc.message  # the adapter already words each code for a person
    if isinstance(exc, ProviderAuthError):
        return _(
            "%(provider)s refused the credentials (%(words)s): check the account's %(fields)s."
        ) % {"provider": name, "words": exc.message, "fields": _credential_names(account)}
    if exc.status == 400:
        return _(
            "%(provider)s rejected the message as invalid (%(words)s): check the recipient number and the content; "
            "for a template, that its name, language and parameters match the approved template."
        ) % {"provider": name, "words": exc.message}
    return _("%(provider)s rejected the message (%(words)s).") % {"provider": name, "words": exc.message}


def _credential_names(account: ProviderAccount) -> str:
    """The provider's required credentials by their field names: "API key and user id"."""
    names = [str(ProviderAccount._meta.get_field(field.name).verbose_name)
             for field in account.spec.credential_fields if field.required]
    return get_text_list(names, _("and"))


def _unknown_words(exc: ProviderError, account: ProviderAccount) -> str:
    name = _provider_name(account)
    if isinstance(exc, ProviderTimeout):
        cause = _("%(provider)s did not answer in time") % {"provider": name}
    else:
        cause = _("%(provider)s gave an answer the portal could not read (%(words)s)") % {
            "provider": name, "words": exc.message}
    return _(
        "%(cause)s, so the message may or may not have been sent. It was not retried automatically. Its status will "
        "update if the provider reports it; otherwise use \"Send again\", knowing the customer may get it twice."
    ) % {"cause": cause}


def apply_outcome(message: Message, outcome: Outcome) -> bool:
    """Put ``outcome`` on the message in memory (forward only, :func:`status_apply`); whether it moved."""
    if outcome.result is not None:
        message.provider_message_id = outcome.result.message_id[:128]
        if outcome.result.id_kind == "whatsapp":
            message.whatsapp_id = outcome.result.message_id[:128]
    status_before = message.status
    status_apply(message, status=outcome.status, at=outcome.at, error_code=outcome.error_code,
                 error_title=outcome.error_title, error_kind=outcome.error_kind, first_hand=True)
    return message.status != status_before


def record(message: Message, *, account: ProviderAccount, outcome: Outcome | None) -> Message:
    """Store the outcome without undoing a status a webhook may already have recorded.

    With the provider's id known, status events that arrived before it (the
    webhook beat the answer) are attached and applied by the same rule
    (:func:`~messaging.webhooks.statuses.status_events_attach`). ``outcome``
    None only attaches those events (the outcome itself was stored).
    """
    with transaction.atomic():
        fresh = Message.objects.select_for_update().get(pk=message.pk)
        before = fresh.status
        if outcome is not None:
            apply_outcome(fresh, outcome)
            fresh.send_outcome = outcome.outcome
        if outcome is None or outcome.result is not None:
            status_events_attach(fresh, account_id=account.pk)
        fresh.save(update_fields=[*STATUS_FIELDS, "provider_message_id", "send_outcome"])
        if fresh.status != before:
            hooks.statuses_changed.fire(messages=[fresh])
    fresh.replayed = False
    return fresh
