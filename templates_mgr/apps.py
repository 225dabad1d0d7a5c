from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TemplatesMgrConfig(AppConfig):
    name = "templates_mgr"
    verbose_name = _("Templates")
