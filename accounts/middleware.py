"""Show times in the user's zone: their profile's, else the portal default."""

import zoneinfo

from django.utils import timezone

from accounts import conf


class UserTimezoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = conf.setting("DEFAULT_USER_TIME_ZONE")
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            profile = getattr(user, "portal_profile", None)
            if profile is not None and profile.time_zone:
                name = profile.time_zone
        try:
            timezone.activate(zoneinfo.ZoneInfo(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(zoneinfo.ZoneInfo(conf.setting("DEFAULT_USER_TIME_ZONE")))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
