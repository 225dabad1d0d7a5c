"""Accounts admin, split by what it administers; importing the package registers every part.

- ``provider_accounts``: provider accounts (credentials, test, sync, webhook secret).
- ``inventory``: clients, WABAs and business numbers.
- ``users``: users, their memberships, the audit trail.
- ``rates``: a business number's send limit.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from accounts.admin import inventory, provider_accounts, rates, users  # noqa: F401

admin.site.site_header = _("waportal · WhatsApp Business")
admin.site.site_title = _("waportal")
admin.site.index_title = _("Portal")
