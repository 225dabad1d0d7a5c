"""Webhooks: store every provider callback once, then turn stored bodies into statuses and messages.

Two halves, on purpose (issue 9: the receiver must keep up with a bare one-INSERT
view, and processing must reach 1,000 events/s with one worker):

- :mod:`~messaging.webhooks.receive` is the endpoint and
  :func:`~messaging.webhooks.record.webhook_record` runs in the request: one
  INSERT of the raw body, with ``ON CONFLICT DO NOTHING`` on (account, body
  hash), so a redelivered body is a no-op and five simultaneous copies store
  one row. Nothing is parsed there.
- :func:`~messaging.webhooks.process.webhook_events_process` runs in a worker:
  it claims pending events in batches (``SELECT … FOR UPDATE SKIP LOCKED``
  where the database has it), parses them with the provider's adapter, and
  applies the whole batch with a constant number of queries
  (:mod:`~messaging.webhooks.batch`): one lookup of every message the batch
  refers to, ``bulk_create`` for status history and inbound messages,
  ``bulk_update`` for message statuses, contacts, conversations and templates.
  Statuses (:mod:`~messaging.webhooks.statuses`, whose ``status_apply`` the
  send service uses too), inbound messages (:mod:`~messaging.webhooks.inbound`)
  and template events (:mod:`~messaging.webhooks.templates`) each have their
  module.

Every step is idempotent: a replayed event finds its status events, messages
and template values already there and changes nothing. What the adapter cannot
read stays stored as ``unprocessed`` with the reason; what our own code fails
on is ``error``. Both are visible in the admin and replayable with
:func:`~messaging.webhooks.process.webhook_event_reprocess`.

Reasons stored on events are operator diagnostics in English, like the
adapters' own; they are data, not interface text.
"""
