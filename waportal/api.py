"""API plumbing shared by every app: pagination and the one exception handler."""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from providers.base import ProviderAuthError, ProviderError, ProviderRateLimited, ProviderTimeout
from waportal.errors import ApplicationError

logger = logging.getLogger(__name__)


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500


def provider_error_payload(exc: ProviderError) -> dict:
    """A provider failure in words a user can act on, with what we know of it."""
    detail = exc.message
    if isinstance(exc, ProviderAuthError):
        detail = _("The provider refused the account's credentials: %(words)s") % {"words": exc.message}
    elif isinstance(exc, ProviderTimeout):
        detail = _("The provider did not answer in time: %(words)s") % {"words": exc.message}
    payload = {"detail": detail, "provider_error": type(exc).__name__, "retryable": exc.retryable}
    if exc.status is not None:
        payload["provider_status"] = exc.status
    if exc.code is not None:
        payload["provider_code"] = exc.code
    if exc.field:
        payload[exc.field] = [detail]
    return payload


def exception_handler(exc, context):
    """DRF's handler, plus ApplicationError / ProviderError / Django ValidationError as JSON."""
    if isinstance(exc, ApplicationError):
        return Response(exc.as_dict(), status=exc.http_status)
    if isinstance(exc, ProviderError):
        logger.info("provider error in API: %s", exc)
        http_status = status.HTTP_502_BAD_GATEWAY
        if isinstance(exc, ProviderRateLimited):
            http_status = status.HTTP_503_SERVICE_UNAVAILABLE
        elif isinstance(exc, ProviderTimeout):
            http_status = status.HTTP_504_GATEWAY_TIMEOUT
        elif exc.status == 400 or type(exc).__name__ == "ProviderRejected":
            http_status = status.HTTP_400_BAD_REQUEST
        return Response(provider_error_payload(exc), status=http_status)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "error_dict"):
            data = {k: [str(m) for e in v for m in e.messages] for k, v in exc.error_dict.items()}
        else:
            data = {"non_field_errors": exc.messages}
        return Response(data, status=status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
