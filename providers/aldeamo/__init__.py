"""Aldeamo (tellit WA) adapter: the only package that knows Aldeamo's wire format.

``AldeamoClient`` speaks to the HTTP API (send, templates, ISV analytics and
inventory); ``parse_webhook`` turns the JSON Aldeamo POSTs to us into events.
Both return only the types of :mod:`providers.types`.
"""

from providers.aldeamo.client import AldeamoClient
from providers.aldeamo.sending import build_send_body, service_for
from providers.aldeamo.webhooks import parse_webhook

__all__ = ["AldeamoClient", "build_send_body", "parse_webhook", "service_for"]
