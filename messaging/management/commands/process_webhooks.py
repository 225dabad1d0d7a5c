"""``manage.py process_webhooks [--loop]``: process stored webhook events from a shell.

The task worker normally does this (``webhook_events_process_task``); the
command is for operators (catch up after an outage, replay after a fix with
``--requeue``) and for benchmarks, which need to time processing on its own.
"""

from __future__ import annotations

import signal
import time

from django.core.management.base import BaseCommand, CommandParser

from messaging.models import WebhookEvent
from messaging.webhooks.process import webhook_events_process, webhook_events_requeue


class Command(BaseCommand):
    help = "Process pending webhook events in batches (once until nothing is pending, or --loop to keep polling)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--loop", action="store_true", help="Keep polling for new events until stopped.")
        parser.add_argument("--limit", type=int, default=500, help="Events per batch (default 500).")
        parser.add_argument("--interval", type=float, default=0.5,
                            help="With --loop: seconds to wait when nothing is pending (default 0.5).")
        parser.add_argument("--max-seconds", type=float, default=None,
                            help="Stop after this many seconds (for benchmarks).")
        parser.add_argument("--requeue", action="store_true",
                            help="First put unprocessed and error events back in the queue (replay after a fix).")
        parser.add_argument("--account", type=int, default=None, help="With --requeue: only this provider account.")

    def handle(self, *args, **options) -> None:
        stop = False

        def _stop(signum, frame):  # finish the current batch, then leave
            nonlocal stop
            stop = True

        if options["requeue"]:
            count = webhook_events_requeue(
                states=[WebhookEvent.State.UNPROCESSED, WebhookEvent.State.ERROR], account_id=options["account"])
            self.stdout.write(f"Requeued {count} events.")
        previous = signal.signal(signal.SIGTERM, _stop)
        started = time.monotonic()
        total = 0
        try:
            while not stop:
                if options["max_seconds"] is not None and time.monotonic() - started >= options["max_seconds"]:
                    break
                count = webhook_events_process(limit=options["limit"])
                total += count
                if count and options["verbosity"] >= 2:
                    self.stdout.write(f"Processed {count} events.")
                if count < options["limit"]:
                    if not options["loop"]:
                        break
                    time.sleep(options["interval"])
        except KeyboardInterrupt:
            pass
        finally:
            signal.signal(signal.SIGTERM, previous)
        elapsed = time.monotonic() - started
        rate = total / elapsed if elapsed > 0 else 0.0
        self.stdout.write(f"Processed {total} events in {elapsed:.2f} s ({rate:.0f}/s).")
