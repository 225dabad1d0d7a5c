"""Which task workers are alive: each writes its heartbeat here every few seconds."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class WorkerHeartbeat(models.Model):
    worker_id = models.CharField(_("worker id"), max_length=64, primary_key=True)
    seen_at = models.DateTimeField(_("last seen"), db_index=True)
    started_at = models.DateTimeField(_("started"))
    host = models.CharField(_("host"), max_length=200, blank=True)
    pid = models.IntegerField(_("process id"), default=0)

    class Meta:
        verbose_name = _("worker heartbeat")
        verbose_name_plural = _("worker heartbeats")

    def __str__(self) -> str:
        return self.worker_id
