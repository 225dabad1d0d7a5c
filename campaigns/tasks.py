"""Background tasks for campaigns (``django.tasks``, database backend).

``campaign_run`` works one slice (:func:`campaigns.runner.campaign_work`, about
``CAMPAIGN_SLICE_SECONDS``) and re-enqueues itself while the campaign needs
it — immediately after a full slice, at ``start_at`` for a scheduled campaign,
or a couple of seconds later while another worker holds the last claims. Short
slices keep one ``db_worker`` free to process webhooks between them; several
tasks per campaign (``CAMPAIGN_WORKERS``) let several ``db_worker`` processes
share one campaign. A task stops re-enqueuing when the campaign is paused,
cancelled, completed, or when its ``generation`` is older than the campaign's
(a resume or a recovery started fresh tasks).

The claim owner is the task result's id, so a claim names the run that made it. A slice that would be a second
process on a number while another number waits with nobody serving it steps aside (:mod:`campaigns.spread`).
"""

from __future__ import annotations

from django.tasks import task
from django.tasks.base import TaskContext

from campaigns import runner, spread
from waportal.queueing import task_enqueue


@task(takes_context=True)
def campaign_run(context: TaskContext, campaign_id: int, generation: int) -> dict:
    if spread.campaign_steps_aside(campaign_id=campaign_id, task_id=str(context.task_result.id)):
        task_enqueue(campaign_run, campaign_id=campaign_id, generation=generation)
        return runner.SliceOutcome(again=True, reason="stepped aside").as_dict()
    outcome = runner.campaign_work(campaign_id=campaign_id, generation=generation,
                                   worker_id=str(context.task_result.id))
    if outcome.again:
        task_enqueue(campaign_run, run_after=outcome.run_after, campaign_id=campaign_id, generation=generation)
    return outcome.as_dict()
