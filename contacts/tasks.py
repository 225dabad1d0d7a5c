"""Background tasks for contacts (``django.tasks``, database backend): thin, they call services."""

from __future__ import annotations

from django.tasks import task

from contacts import consent


@task()
def consent_confirmation_send(phone_number_id: int, to: str, opted_out: bool) -> str:
    message = consent.confirmation_send(phone_number_id=phone_number_id, to=to, opted_out=opted_out)
    return str(message.pk) if message is not None else ""


@task()
def contact_import_run(import_id: int) -> None:
    from contacts import imports

    imports.contact_import_run(import_id=import_id)
