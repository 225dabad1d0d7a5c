"""django-axes lockout answer: JSON for the API, a page for the admin login."""

from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _


def lockout_response(request, original_response=None, credentials=None):
    message = _("Too many failed login attempts: this account is locked for 15 minutes.")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    return render(request, "admin/lockout.html", {"title": _("Locked out"), "message": message}, status=429)
