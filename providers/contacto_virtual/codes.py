"""Contacto Virtual's numeric codes, in the provider's words and in plain English.

Two families, from the manual (seed ``002``):

- *Return codes* 1-8 come back synchronously in the JSON answer of ``send/``,
  ``balance/`` and ``template/`` (``{"code": 2, "status": "authentication error"}``).
  Their ``status`` words are the manual's "Concepto" column; we keep them next
  to a sentence that says what to do.
- *Delivery error codes* 1002-1011 (seed 002 l.67-78): "al momento de realizar
  el envío hacia whatsapp, puede retornar un error que queda almacenado en el
  campo status" -- so they may come back in the ``send/`` answer itself, and
  later in a ``failed`` webhook, under the status "sending error, return
  balance" (the provider refunds the message). Their words are gettext'd:
  they reach the person as the message's error.

The two ranges do not overlap, so :func:`describe_code` answers for both.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from providers.base import ProviderAuthError, ProviderError, ProviderRejected

PROVIDER_NAME = "Contacto Virtual"

#: The status the manual gives later sending failures (the 1002-1011 codes).
DELIVERY_ERROR_STATUS = "sending error, return balance"


@dataclass(frozen=True)
class ReturnCode:
    """One synchronous return code of the API.

    ``status`` is the provider's own words for it, ``message`` a sentence a user
    can act on, ``error`` the ProviderError subclass it maps to (None for
    success), ``field`` the request field at fault when there is one.
    """

    code: int
    status: str
    message: str
    error: type[ProviderError] | None = ProviderRejected
    field: str | None = None


RETURN_CODES: dict[int, ReturnCode] = {
    1: ReturnCode(
        code=1,
        status="Message sent",
        message="Contacto Virtual accepted the message for sending.",
        error=None,
    ),
    2: ReturnCode(
        code=2,
        status="authentication error",
        message=(
            "Contacto Virtual authentication error: invalid login or token. Check the account's login and "
            "API token (the API token is not the login password)."
        ),
        error=ProviderAuthError,
    ),
    3: ReturnCode(
        code=3,
        status="user without multiagent/chatbot",
        message=(
            "Contacto Virtual user without multiagent/chatbot: no chatbot or multiagent service is assigned "
            "to this login. Contact Contacto Virtual support."
        ),
    ),
    4: ReturnCode(
        code=4,
        status="error in the cell phone number to send",
        message=(
            "Contacto Virtual reported an error in the cell phone number to send: the mobile must be Colombian, "
            "57 followed by 10 digits (12 digits in all), e.g. 573102111111."
        ),
        field="mobile",
    ),
    5: ReturnCode(
        code=5,
        status="no balance or inactive chatbot/multiagent",
        message=(
            "Contacto Virtual: no balance or inactive chatbot/multiagent. Top up the account balance, or ask "
            "Contacto Virtual support to activate the chatbot/multiagent."
        ),
    ),
    6: ReturnCode(
        code=6,
        status="empty message",
        message=(
            "Contacto Virtual: empty message. The message reached the provider with no content; check the "
            "template and its variables."
        ),
    ),
    7: ReturnCode(
        code=7,
        status="id_template does not correspond to the project",
        message=(
            "Contacto Virtual: the template is not in this account's project (id_template does not correspond "
            "to the project). Check the template id Contacto Virtual showed when the template was created."
        ),
        field="id_template",
    ),
    8: ReturnCode(
        code=8,
        status=(
            "the number of variables received does not correspond to the number of variables created in the template"
        ),
        message=(
            "Contacto Virtual: the number of variables sent does not match the number of variables in the "
            "template. Send exactly one value for each {1}, {2}, ... placeholder of the template."
        ),
        field="template_variables",
    ),
}

#: ``template/`` answers code 4 when the account has no approved template: an
#: empty listing, not an error (the same number means "bad mobile" on ``send/``).
TEMPLATES_NONE_CODE = 4

#: Later sending failures (``failed`` webhooks), keyed by the code as the webhook
#: carries it (a string). The manual skips 1001 and 1009.
DELIVERY_ERROR_CODES: dict[str, str] = {
    "1002": _("The number is not active for sending WhatsApp messages."),
    "1003": _("The message could not be sent: check the wallet balance."),
    "1004": _(
        "Sending failed: the user is outside the session window (no recent conversation) and template "
        "messaging is disabled."
    ),
    "1005": _("Sending failed: the template did not match."),
    "1006": _(
        "Sending failed: the user is outside the session window (no recent conversation) and has not opted in "
        "to template messages."
    ),
    "1007": _(
        "Sending failed: the user is outside the session window (no recent conversation), has not opted in to "
        "template messages, and the template did not match."
    ),
    "1008": _("Sending failed: required template parameters are missing."),
    "1010": _("Sending failed: invalid media URL."),
    "1011": _("Sending failed: invalid message size."),
}


#: Every code in a few translated words, for lists where a whole sentence does not fit (campaign failures).
SHORT_WORDS = {
    "2": _("The provider refused the account's credentials."),
    "3": _("The account has no multiagent/chatbot service."),
    "4": _("The mobile number is not valid."),
    "5": _("No balance, or the account is inactive."),
    "6": _("The message was empty."),
    "7": _("The template is not in the account's project."),
    "8": _("The number of variables does not match the template."),
    "1002": _("The number is not active on WhatsApp."),
    "1003": _("Not enough balance in the wallet."),
    "1008": _("Template variables are missing."),
    "1010": _("The media link is not valid."),
    "1011": _("The message is too large."),
}


def short_words(code: str | int | None) -> str:
    """A known code in a few words ("" for a code the manual does not describe)."""
    number = normalise_code(code)
    words = SHORT_WORDS.get(str(number) if number is not None else str(code or "").strip())
    return str(words) if words else ""


def normalise_code(code: object) -> int | None:
    """The code as an int when it is one (``1``, ``"1"``, ``" 1 "``, ``1.0``), else None.

    The manual shows numbers, but PHP back ends often answer numeric strings.
    """
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, float) and code.is_integer():
        return int(code)
    if isinstance(code, str):
        text = code.strip()
        if text.isascii() and text.isdigit():
            return int(text)
    return None


def describe_code(code: str | int | None) -> str:
    """A plain English sentence for a Contacto Virtual code of either family.

    Unknown codes get a sentence that still names the code, so a user can quote
    it to the provider's support.
    """
    if code is None or not str(code).strip():
        return f"{PROVIDER_NAME} gave no error code."
    number = normalise_code(code)
    key = str(number) if number is not None else str(code).strip()
    if key in DELIVERY_ERROR_CODES:
        return str(DELIVERY_ERROR_CODES[key])
    if number is not None and number in RETURN_CODES:
        return RETURN_CODES[number].message
    return f"{PROVIDER_NAME} error code {key} (not described in the provider's manual)."
