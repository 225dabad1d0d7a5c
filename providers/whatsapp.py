"""WhatsApp's own error codes (Cloud API and on-premises), as a person would say them.

Shared by the providers that relay Meta's errors as they are (Aldeamo does, in
its send answers and failed statuses); a provider with its own codes words
them in its own package (``providers/contacto_virtual/codes.py``).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

ERRORS = {
    "470": gettext_lazy("More than 24 hours since the customer last wrote."),
    "1013": gettext_lazy("The number is not a WhatsApp user."),
    "130429": gettext_lazy("The sender number reached its throughput limit."),
    "131000": gettext_lazy("WhatsApp had an unexpected error."),
    "131008": gettext_lazy("A required parameter is missing."),
    "131009": gettext_lazy("A parameter value is not valid."),
    "131016": gettext_lazy("WhatsApp was temporarily unavailable."),
    "131021": gettext_lazy("The recipient is the sender number itself."),
    "131026": gettext_lazy("The number cannot receive this message (not on WhatsApp, an old app, or terms not "
                           "accepted)."),
    "131031": gettext_lazy("The business account is locked or restricted."),
    "131042": gettext_lazy("A payment problem with the business account."),
    "131045": gettext_lazy("The sender number is not registered."),
    "131047": gettext_lazy("More than 24 hours since the customer last wrote."),
    "131048": gettext_lazy("Spam limit: too many of this business's messages were blocked or reported."),
    "131049": gettext_lazy("WhatsApp held it back to protect the customer (marketing messages limit)."),
    "131050": gettext_lazy("The customer stopped marketing messages from this business."),
    "131051": gettext_lazy("WhatsApp does not support this message type."),
    "131053": gettext_lazy("The media could not be downloaded."),
    "131056": gettext_lazy("Too many messages to this number in a short time."),
    "132000": gettext_lazy("The number of variables does not match the template."),
    "132001": gettext_lazy("The template does not exist in this language or is not approved."),
    "132005": gettext_lazy("The message is too long once the variables are filled in."),
    "132007": gettext_lazy("The template's content breaks WhatsApp's policy."),
    "132012": gettext_lazy("A variable's format does not match the template."),
    "132015": gettext_lazy("The template is paused for low quality."),
    "132016": gettext_lazy("The template is disabled."),
    "132018": gettext_lazy("A variable has a line break, a tab or too many spaces."),
    "133010": gettext_lazy("The sender number is not registered on WhatsApp."),
}


def error_words(code: str | int | None) -> str:
    """WhatsApp's error ``code`` in words ("" for a code this table does not know)."""
    words = ERRORS.get(str(code or "").strip())
    return str(words) if words else ""
