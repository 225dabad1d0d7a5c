"""Baselines served by the same gunicorn as the portal.

- ``noop``: a bare Django view answering 200 to the same POST.
- ``insert``: a bare view doing one INSERT of the raw body (the floor for a
  receiver that must store the body before answering).
"""

from django.db import connection
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

TABLE = "bench_raw_body"
CREATE = f"CREATE TABLE IF NOT EXISTS {TABLE} (id bigserial PRIMARY KEY, body text NOT NULL, received_at timestamptz NOT NULL DEFAULT now())"


@csrf_exempt
def noop(request):
    _ = request.body  # read it, as a receiver would
    return HttpResponse(b'{"status": "ok"}', content_type="application/json")


@csrf_exempt
def insert(request):
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE} (body) VALUES (%s)", [request.body.decode()])
    return HttpResponse(b'{"status": "ok"}', content_type="application/json")
