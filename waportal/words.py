"""Provider words in the reader's language: one mapping per enum WhatsApp and the providers send in SCREAMING_CASE.

Everything a person reads — the workspace, admin columns and filters, alerts and their emails, history rows —
shows these through :func:`word` (or a model's ``TextChoices`` label through :func:`choice_label`), never the
raw value. A value no mapping knows yet (WhatsApp adds some) is shown humanised — ``ACCOUNT_UPDATE`` becomes
"Account update" — which is honest (it is the provider's word) and never SCREAMING_CASE.

A platform module (below every app): apps pass their own ``TextChoices`` to :func:`choice_label`.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

# Template categories: today's three, and the legacy ones Meta still returns for old templates.
TEMPLATE_CATEGORY = {
    "MARKETING": _("Marketing"),
    "UTILITY": _("Utility"),
    "AUTHENTICATION": _("Authentication"),
    "ACCOUNT_UPDATE": _("Account update"),
    "PAYMENT_UPDATE": _("Payment update"),
    "PERSONAL_FINANCE_UPDATE": _("Personal finance update"),
    "SHIPPING_UPDATE": _("Shipping update"),
    "RESERVATION_UPDATE": _("Reservation update"),
    "ISSUE_RESOLUTION": _("Issue resolution"),
    "APPOINTMENT_UPDATE": _("Appointment update"),
    "TRANSPORTATION_UPDATE": _("Transportation update"),
    "TICKET_UPDATE": _("Ticket update"),
    "ALERT_UPDATE": _("Alert update"),
    "AUTO_REPLY": _("Auto-reply"),
    "TRANSACTIONAL": _("Transactional"),
    "OTP": _("One-time password"),
}

# A template's or a number's quality as Meta rates it.
QUALITY = {
    "GREEN": _("High (green)"),
    "HIGH": _("High (green)"),
    "YELLOW": _("Medium (yellow)"),
    "MEDIUM": _("Medium (yellow)"),
    "RED": _("Low (red)"),
    "LOW": _("Low (red)"),
    "UNKNOWN": _("Unknown"),
    "NA": pgettext_lazy("quality", "Not rated yet"),
}

# A business number's code verification (``code_verification_status``).
CODE_VERIFICATION = {
    "VERIFIED": _("Verified"),
    "NOT_VERIFIED": _("Not verified"),
    "EXPIRED": _("Expired"),
    "PENDING": pgettext_lazy("verification", "Pending"),
}

# A business number's display-name review (``name_status``).
NAME_STATUS = {
    "APPROVED": pgettext_lazy("display name", "Approved"),
    "AVAILABLE_WITHOUT_REVIEW": _("Available without review"),
    "DECLINED": pgettext_lazy("display name", "Declined"),
    "EXPIRED": _("Expired"),
    "PENDING_REVIEW": _("Pending review"),
    "NONE": pgettext_lazy("display name", "None"),
}

# What a number's or a template's history row says changed.
FIELD = {
    "quality_rating": _("quality rating"),
    "code_verification_status": _("code verification"),
    "status": _("status"),
    "category": _("category"),
}

MAPPINGS = {"template_category": TEMPLATE_CATEGORY, "quality": QUALITY, "code_verification": CODE_VERIFICATION,
            "name_status": NAME_STATUS, "field": FIELD}


def humanise(value: object) -> str:
    """``ACCOUNT_UPDATE`` → "Account update", ``message.received`` → "Message received"; "" stays ""."""
    text = " ".join(str(value or "").replace("_", " ").replace(".", " ").split()).lower()
    return text[:1].upper() + text[1:]


def word(mapping: dict | str, value: object) -> str:
    """The reader's word for a provider value: its translated label, or the value humanised."""
    table = MAPPINGS[mapping] if isinstance(mapping, str) else mapping
    raw = str(value or "").strip()
    if not raw:
        return ""
    label = table.get(raw) or table.get(raw.upper())
    return str(label) if label is not None else humanise(raw)


def choice_label(choices, value: object) -> str:
    """A ``TextChoices`` value's translated label, or the value humanised when the choices do not know it."""
    raw = str(value or "")
    if not raw:
        return ""
    try:
        return str(choices(raw).label)
    except ValueError:
        return humanise(raw)
