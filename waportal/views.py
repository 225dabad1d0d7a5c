from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import never_cache


def favicon(request):
    """Browsers ask for /favicon.ico on pages that name none (the admin's): the workspace's icon."""
    return redirect(static("workspace/favicon.svg"), permanent=True)


@never_cache
def healthz(request):
    """The process is up."""
    return JsonResponse({"status": "ok"})


@never_cache
def readyz(request):
    """The process is up and the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any database failure means not ready
        return JsonResponse({"status": "unavailable", "database": "down"}, status=503)
    return HttpResponse('{"status": "ok", "database": "ok"}', content_type="application/json")
