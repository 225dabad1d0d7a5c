"""URLconf of ``manage.py run_sandbox``: the sandbox alone, at the same ``/sandbox/`` paths as in the portal.

Keeping the prefix means a provider account's base URL differs only by host
and port between the in-portal sandbox and the standalone one.
"""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path


def healthz(request: HttpRequest) -> JsonResponse:
    """Up check for scripts waiting on the standalone server."""
    return JsonResponse({"status": "ok", "service": "sandbox"})


urlpatterns = [
    path("healthz", healthz, name="sandbox-healthz"),
    path("sandbox/", include("sandbox.urls")),
]
