"""Logging set-up: every record, from any logger in the process, has webhook secrets masked.

A provider calls ``/webhooks/<kind>/<secret>/``: whoever reads that path can
post events into every client of the account. Paths end up in log lines in
many places (Django's "Not Found: …", gunicorn's access log, runserver, a
failed callback in the sandbox, an exception's message), so masking is done
once, where records are made (``logging.setLogRecordFactory``), not in each
handler or formatter. Installed by Django itself through ``LOGGING_CONFIG``,
so it runs in web processes, workers, management commands and tests alike.
"""

from __future__ import annotations

import logging
import logging.config
import re
from typing import Any

#: ``/webhooks/<kind>/`` followed by the secret segment.
SECRET_PATH = re.compile(r"(/webhooks/[A-Za-z0-9_-]+/)[^/\s?#\"'<>]+")
MASK = "***"


def mask(text: str) -> str:
    """``text`` with every webhook secret in a path replaced by ``***``."""
    if "/webhooks/" not in text:
        return text
    return SECRET_PATH.sub(r"\g<1>" + MASK, text)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    if value is None or isinstance(value, int | float | bool):
        return value
    text = str(value)  # a request, an exception, a URL object: keep it only if it carries no secret
    masked = mask(text)
    return value if masked == text else masked


def _mask_record(record: logging.LogRecord) -> logging.LogRecord:
    if isinstance(record.msg, str):
        record.msg = mask(record.msg)
    elif record.msg is not None:
        record.msg = _masked(record.msg)
    if isinstance(record.args, dict):
        record.args = {key: _masked(value) for key, value in record.args.items()}
    elif isinstance(record.args, tuple):
        record.args = tuple(_masked(value) for value in record.args)
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        # Formatters use exc_text when set: format the traceback once, masked.
        record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
    return record


_installed = False


def install_masking() -> None:
    """Wrap the process's log record factory once (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return _mask_record(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True


def configure(config: dict[str, Any] | None) -> None:
    """Django's ``LOGGING_CONFIG`` callable: the usual ``dictConfig``, then the masking."""
    if config:
        logging.config.dictConfig(config)
    install_masking()
