"""Background delivery of sandbox callbacks through Django's tasks framework.

``outbox.enqueue_delivery`` asks for :func:`sandbox_deliver_due_callbacks` at the
end of each second in which outbox rows fall due, so the demo's ``manage.py
db_worker`` posts statuses, replies and template events on time with a few
tasks a second however many messages a campaign sends. The tasks are thin:
the outbox claim makes them safe to run alongside each other and
``sandbox_deliver_due``.
"""

from datetime import datetime

from django.tasks import task

from waportal.queueing import task_enqueue

from .delivery import deliver_callback, sandbox_deliver_due

# Rows one task delivers at most (oldest due first): about a second of work, so a
# backlog of callbacks never holds a worker for long while campaign slices wait.
BATCH = 50


@task()
def sandbox_deliver_callback(callback_id: int) -> str:
    """Deliver one callback if it is due and still pending; returns its resulting state.

    Kept for tasks enqueued before deliveries were asked for per due second.
    """
    return str(deliver_callback(callback_id))


@task()
def sandbox_deliver_due_callbacks() -> int:
    """Deliver up to ``BATCH`` due callbacks; when that many were due, come back after the tasks already waiting."""
    done = sandbox_deliver_due(limit=BATCH)
    if done >= BATCH:
        task_enqueue(sandbox_deliver_due_callbacks)
    return done


@task()
def sandbox_demo_activity(started_at: str = "", step: int = 0) -> int:
    """The demo's customers writing in (``demo_activity``); enqueues itself for the next one. Returns messages."""
    from .demo_activity import demo_activity_step

    outcome = demo_activity_step(started_at=datetime.fromisoformat(started_at) if started_at else None, step=step)
    if outcome.next_at is not None:
        task_enqueue(sandbox_demo_activity, run_after=outcome.next_at,
                     started_at=outcome.started_at.isoformat(), step=outcome.step)
    return len(outcome.written)
