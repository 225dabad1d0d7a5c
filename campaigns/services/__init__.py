"""Writes of the campaigns app, one entry point for its parts.

- ``setup``: create, change, the recipient list (typed or an uploaded CSV), the dry run and its report.
- ``control``: start or schedule, reschedule, pause, resume, cancel, retry the failed, delete, recover.

As in ``accounts.services``: ``campaigns.services`` is the app's "writes" module, the one name every caller
(API views, admin, the workspace, the demo, tests) reaches as ``services.campaign_start(...)``; callers keep
asking the app for a write without knowing which part holds it.
"""

from campaigns.services.control import (
    campaign_cancel,
    campaign_delete,
    campaign_pause,
    campaign_resume,
    campaign_retry_failed,
    campaign_start,
    campaigns_recover,
)
from campaigns.services.setup import (
    START_AT_TOLERANCE,
    campaign_check_csv,
    campaign_create,
    campaign_create_with_csv,
    campaign_create_with_recipients,
    campaign_recipients_set,
    campaign_report_seen,
    campaign_update,
    campaign_upload_attach,
)

__all__ = [
    "START_AT_TOLERANCE",
    "campaign_cancel",
    "campaign_check_csv",
    "campaign_create",
    "campaign_create_with_csv",
    "campaign_create_with_recipients",
    "campaign_delete",
    "campaign_pause",
    "campaign_recipients_set",
    "campaign_report_seen",
    "campaign_resume",
    "campaign_retry_failed",
    "campaign_start",
    "campaign_update",
    "campaign_upload_attach",
    "campaigns_recover",
]
