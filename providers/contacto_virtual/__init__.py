"""Contacto Virtual adapter: the multiagent/designer WhatsApp API (seed ``002``).

Form-encoded POSTs with the credentials in the form; answers carry a numeric
``code`` (:mod:`.codes`); delivery events and customer replies arrive by
webhook (:mod:`.webhooks`). Everything returned is a :mod:`providers.types`
dataclass.
"""

from .client import (
    BALANCE_PATH,
    CUSTOM_FIELD_MAX_LENGTH,
    PRODUCTION_BASE_URL,
    SEND_PATH,
    TEMPLATE_PATH,
    ContactoVirtualClient,
    mobile_problem,
    render_variables,
)
from .codes import DELIVERY_ERROR_CODES, DELIVERY_ERROR_STATUS, RETURN_CODES, ReturnCode, describe_code
from .webhooks import PROVIDER_TIME_ZONE, parse_timestamp, parse_webhook, reply_message_id

__all__ = [
    "BALANCE_PATH",
    "CUSTOM_FIELD_MAX_LENGTH",
    "DELIVERY_ERROR_CODES",
    "DELIVERY_ERROR_STATUS",
    "PRODUCTION_BASE_URL",
    "PROVIDER_TIME_ZONE",
    "RETURN_CODES",
    "SEND_PATH",
    "TEMPLATE_PATH",
    "ContactoVirtualClient",
    "ReturnCode",
    "describe_code",
    "mobile_problem",
    "parse_timestamp",
    "parse_webhook",
    "render_variables",
    "reply_message_id",
]
