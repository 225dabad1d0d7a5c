"""The one send service: every outbound message goes through :func:`message_send`.

The admin composer, the API, replies from the inbox and campaigns all call it,
so the promises below hold everywhere:

- **Nothing is stored for a refused request.** Limits, tenancy, the template
  and the 24-hour window are checked first; a refusal is an
  :class:`~waportal.errors.ApplicationError` naming the field.
- **Stored before sent.** The message is committed with its own UUID and the
  request body exactly as it goes on the wire (Contacto Virtual's token masked)
  *before* the HTTP call, so a crash or a timeout never leaves a send
  unaccounted for, and a webhook racing the answer finds the row.
- **Provider failures are outcomes, not exceptions.** A refusal (401, 400,
  Contacto Virtual codes 2-8) marks the message ``failed`` with words a person
  can act on; a connection error, 429 or 5xx is retried with capped, jittered
  exponential backoff, because the provider did not take the message; a read
  timeout marks it ``unknown`` after exactly one call, because the message may
  be on its way and a blind resend could deliver it twice.
- **Never twice by accident.** An idempotency key returns the first stored
  message for the same request; the database's unique constraint settles races.

The package, by what each part does: :mod:`~messaging.sending.send` (one
message: ``message_send``, ``message_resend``, storing and idempotency),
:mod:`~messaging.sending.batch` (``TemplateBatch``: many template sends from
one number, the campaigns' path), :mod:`~messaging.sending.prepare` (a request
validated for the account's provider and built for the wire),
:mod:`~messaging.sending.checks` (what refuses a send before anything is
stored), :mod:`~messaging.sending.delivery` (the provider call, retries, the
outcome recorded). What other apps use is named here.
"""

from messaging.sending.batch import BatchItem, TemplateBatch, messages_lost_in_flight
from messaging.sending.checks import (
    Blocker,
    opted_out_among,
    opted_out_policy_register,
    recipient_opted_out,
    template_send_blockers,
)
from messaging.sending.delivery import NUMBER_THROTTLE_CODES, RECIPIENT_THROTTLE_CODES, THROTTLED, number_slot
from messaging.sending.send import RESENDABLE, message_resend, message_send, request_fingerprint

__all__ = [
    "NUMBER_THROTTLE_CODES",
    "RECIPIENT_THROTTLE_CODES",
    "RESENDABLE",
    "THROTTLED",
    "BatchItem",
    "Blocker",
    "TemplateBatch",
    "message_resend",
    "message_send",
    "messages_lost_in_flight",
    "number_slot",
    "opted_out_among",
    "opted_out_policy_register",
    "recipient_opted_out",
    "request_fingerprint",
    "template_send_blockers",
]
