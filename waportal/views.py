from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache


def home(request):
    return redirect("admin:index")


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
