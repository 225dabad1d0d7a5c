from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkersConfig(AppConfig):
    name = "waportal.workers"
    label = "workers"
    verbose_name = _("Background workers")
    default_auto_field = "django.db.models.BigAutoField"
