"""What campaigns let the apps above it hear about (see :mod:`waportal.hooks`).

- ``campaign_status_changed(campaign=Campaign, previous=str)``: the campaign moved from ``previous`` to
  ``campaign.status`` (started, scheduled, paused by a person or by the portal — ``pause_kind`` says which —,
  resumed, completed, cancelled). Fired right after the conditional UPDATE that moved it, in its transaction.
"""

from waportal.hooks import Hook

campaign_status_changed = Hook("campaigns.campaign_status_changed", "A campaign's status changed.")
