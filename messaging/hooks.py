"""What messaging lets the apps above it hear about (see :mod:`waportal.hooks`).

Fired inside the transaction that stored the change, after it is written:
- ``inbound_stored(messages=[Message, …])``: new customer messages (a webhook batch; replays are not fired again);
- ``statuses_changed(messages=[Message, …])``: outbound messages whose status fields changed (webhooks and send
  outcomes): the status moved forward, or a late report filled the time of a step it skipped;

Template changes a provider reports go through ``templates_mgr.hooks.templates_changed`` (a sync finds them too).
- ``events_unprocessed(events=[WebhookEvent, …])``: stored provider events that processing could not apply
  (state unprocessed or error, ``client`` set when attributed); fired after their outcome is written.
"""

from waportal.hooks import Hook

inbound_stored = Hook("messaging.inbound_stored", "New customer messages were stored.")
statuses_changed = Hook("messaging.statuses_changed", "Outbound messages' statuses moved forward.")
events_unprocessed = Hook("messaging.events_unprocessed", "Stored provider events could not be processed.")
