"""The frame: the workspace's login and logout, and the Settings page (the admin pages the role may use)."""

from __future__ import annotations

import math

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.utils.translation import gettext as _

from accounts.throttling import login_wait
from workspace import nav
from workspace.context import frame


class LoginView(auth_views.LoginView):
    """Sign in, limited per address and per username like the admin login (django-axes locks out too)."""

    template_name = "workspace/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        wait = login_wait(request)
        if wait is not None:
            message = _("Too many login attempts: try again in %(seconds)d seconds.") % {"seconds": math.ceil(wait)}
            response = render(request, "workspace/login.html",
                              {"form": self.get_form(), "locked": message}, status=429)
            response["Retry-After"] = str(math.ceil(wait))
            return response
        return super().post(request, *args, **kwargs)


class LogoutView(auth_views.LogoutView):
    next_page = "workspace:login"


@login_required
def settings_view(request):
    context = frame(request, current="settings", title=_("Settings"))
    context["groups"] = nav.settings_groups(request)
    return render(request, "workspace/settings.html", context)
