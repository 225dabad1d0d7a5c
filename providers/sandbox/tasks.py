"""Background delivery of sandbox callbacks through Django's tasks framework.

Each outbox row is enqueued with ``run_after`` = its due time (see
``callbacks._enqueue``), so the demo's ``manage.py db_worker`` posts
statuses, replies and template events when they fall due. The task is thin:
the outbox claim makes it safe to run alongside ``sandbox_deliver_due``.
"""

from django.tasks import task

from .callbacks import deliver_callback, sandbox_deliver_due


@task()
def sandbox_deliver_callback(callback_id: int) -> str:
    """Deliver one callback if it is due and still pending; returns its resulting state."""
    return str(deliver_callback(callback_id))


@task()
def sandbox_deliver_due_callbacks() -> int:
    """Deliver everything due (a catch-up after the worker was down); returns how many."""
    return sandbox_deliver_due()
