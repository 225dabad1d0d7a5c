"""Webhook secrets never reach a log line, whoever writes it."""

from __future__ import annotations

import logging

import pytest
from django.test import Client as HttpClient

from waportal.logs import mask

SECRET = "s3cr3t-Webhook_token-abcdefghijklmnop"


def test_mask_replaces_the_secret_segment_of_any_webhook_path():
    assert mask(f"POST /webhooks/aldeamo/{SECRET}/ HTTP/1.1") == "POST /webhooks/aldeamo/***/ HTTP/1.1"
    assert mask(f"http://x/webhooks/contacto-virtual/{SECRET}/?a=1") == "http://x/webhooks/contacto-virtual/***/?a=1"
    assert mask("/api/v1/messages/") == "/api/v1/messages/"


def test_every_record_is_masked_in_its_message_args_and_traceback(caplog):
    caplog.set_level(logging.INFO)
    logger = logging.getLogger("anything.at.all")
    logger.info("Not Found: %s", f"/webhooks/aldeamo/{SECRET}/")
    logger.info("%(r)s %(s)s", {"r": f"POST /webhooks/aldeamo/{SECRET}/ HTTP/1.1", "s": "200"})  # gunicorn's atoms
    try:
        raise ConnectionError(f"Max retries exceeded with url: /webhooks/aldeamo/{SECRET}/")
    except ConnectionError:
        logger.exception("callback failed")
    text = "\n".join(caplog.text.splitlines())
    assert SECRET not in text
    assert text.count("/webhooks/aldeamo/***/") >= 3  # the traceback also quotes the raising line


@pytest.mark.django_db
def test_a_webhook_request_with_the_real_secret_logs_no_secret(caplog):
    from tests.factories import ProviderAccountFactory

    account = ProviderAccountFactory()
    caplog.set_level(logging.DEBUG)
    HttpClient().get(account.webhook_path)  # 405: Django logs "Method Not Allowed: <path>"
    assert "/webhooks/aldeamo/***/" in caplog.text
    assert account.webhook_secret not in caplog.text
