"""django-axes lockout answer: JSON for the API, a page for the admin login."""

import math

from django.contrib import admin
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.throttling import login_wait


def lockout_response(request, original_response=None, credentials=None):
    message = _("Too many failed login attempts: this account is locked for 15 minutes.")
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    return render(request, "admin/lockout.html", {"title": _("Locked out"), "message": message}, status=429)


def admin_login(request, extra_context=None):
    """The admin login, limited per address and per username like the API's token endpoint."""
    if request.method == "POST":
        wait = login_wait(request)
        if wait is not None:
            message = _("Too many login attempts: try again in %(seconds)d seconds.") % {"seconds": math.ceil(wait)}
            response = render(request, "admin/lockout.html", {"title": _("Locked out"), "message": message},
                              status=429)
            response["Retry-After"] = str(math.ceil(wait))
            return response
    return admin.site.login(request, extra_context)
