"""``manage.py run_sandbox --port N [--host 127.0.0.1]``: the sandbox as its own HTTP server.

Serves only the sandbox URLs (``sandbox.standalone_urls``, chosen per
request instead of overriding ``ROOT_URLCONF``: the same
``/sandbox/…`` paths as inside the portal, plus ``/healthz``) with a bounded
pool of worker threads, so benchmarks and outside checks can aim the portal
at a separate process. Callbacks that fall due are delivered by a background
loop (``--no-deliver`` leaves them to ``db_worker``). Stops on Ctrl-C, or
after ``--duration`` seconds.

``--processes N`` forks N-1 more processes serving the same listening socket
(the sandbox's state is in the database, so they agree): one Python process
answers at most about a core's worth of requests, and a benchmark standing in
for a remote provider must not queue behind one interpreter lock. Only the
first process delivers callbacks.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import socketserver
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.db import close_old_connections, connections
from django.middleware.common import CommonMiddleware

from sandbox.conf import setting

STANDALONE_URLCONF = "sandbox.standalone_urls"
logger = logging.getLogger("sandbox")


class PooledWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    """A WSGI server handling each connection on a fixed pool of threads.

    socketserver's ThreadingMixIn starts one thread per connection with no
    limit; a benchmark hammering the sandbox must not be able to exhaust the
    machine, so connections queue for ``max_threads`` workers instead
    (``process_request`` below replaces the mix-in's). The mix-in is still
    inherited because it is how Django's server handler recognises a threaded
    server, the condition for keeping HTTP/1.1 connections open: a provider
    keeps its clients' connections alive, and a sandbox that closed each one
    would charge every send a TCP connect the real thing does not.
    """

    def __init__(self, *args: Any, max_threads: int = 16, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pool = ThreadPoolExecutor(max_workers=max_threads, thread_name_prefix="sandbox-http")
        self.open_connections: set[Any] = set()
        self.open_lock = threading.Lock()

    def share(self) -> None:
        """Prepare the listening socket for several processes: all wake for a connection, one accepts it,
        and the others' accept must fail at once (socketserver then returns to its loop) instead of blocking
        until a connection that may never come -- which would also block shutdown."""
        self.socket.setblocking(False)

    def get_request(self) -> tuple[Any, Any]:
        request, client_address = self.socket.accept()
        request.setblocking(True)
        # The handler writes an answer's headers and body separately: on a kept-alive connection
        # Nagle's algorithm would hold the body until the client's delayed ACK (~40 ms).
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return request, client_address

    def process_request(self, request: Any, client_address: Any) -> None:
        self.pool.submit(self._process, request, client_address)

    def _process(self, request: Any, client_address: Any) -> None:
        with self.open_lock:
            self.open_connections.add(request)
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            # Django's request_finished has already applied CONN_MAX_AGE to this thread's
            # connections: the pool's fixed threads keep them (bounded) or close them.
            with self.open_lock:
                self.open_connections.discard(request)
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        with self.open_lock:  # kept-alive connections waiting for a request: end them, freeing their threads
            for request in self.open_connections:
                with contextlib.suppress(OSError):
                    request.shutdown(socket.SHUT_RD)
        self.pool.shutdown(wait=False, cancel_futures=True)


class StandaloneHandler(WSGIHandler):
    """Django's WSGI handler answering from the sandbox-only URLconf.

    The URLconf is chosen per request (``request.urlconf``, which Django's
    resolver honours) rather than by rewriting ``settings.ROOT_URLCONF``, so
    nothing global changes -- the command can even run inside a test process.

    Of the portal's middleware only ``CommonMiddleware`` runs (the host check,
    ``Content-Length`` for kept-alive connections): the rest is for people in
    browsers (sessions, CSRF, locale, login lockouts, CSP and the other
    security headers), while the sandbox stands for a provider's API
    answering programs. Its answers carry the few headers an API's do, so a
    client's cost of reading them is a provider's, not the portal's pages'.
    """

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async)
        self._view_middleware, self._template_response_middleware, self._exception_middleware = [], [], []
        self._middleware_chain = convert_exception_to_response(
            CommonMiddleware(convert_exception_to_response(self._get_response)))

    def get_response(self, request: Any) -> Any:
        request.urlconf = STANDALONE_URLCONF
        return super().get_response(request)


class QuietRequestHandler(WSGIRequestHandler):
    """Django's request logging, but not for every request when ``--quiet``; idle connections closed.

    A kept-alive connection holds one of the pool's threads while it waits for
    its next request, so a connection idle for ``timeout`` seconds is closed
    (clients such as urllib3 notice and reconnect) and the thread serves others.
    """

    quiet = False
    timeout = 5.0  # seconds a kept-alive connection may sit idle (socketserver sets it on the socket)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except TimeoutError:  # idle past the timeout (Django's copy of this method does not catch it)
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        if not self.quiet:
            super().log_message(format, *args)


class Command(BaseCommand):
    help = "Serve the sandbox provider (Aldeamo and Contacto Virtual simulations) as a standalone HTTP server."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, required=True, help="TCP port (0 picks a free one).")
        parser.add_argument("--host", default="127.0.0.1", help="Address to bind (default 127.0.0.1).")
        parser.add_argument("--threads", type=int, default=16, help="Worker threads per process (default 16).")
        parser.add_argument("--processes", type=int, default=1,
                            help="Processes serving the same socket (default 1).")
        parser.add_argument("--duration", type=float, default=0, help="Stop after this many seconds (0: until Ctrl-C).")
        parser.add_argument("--no-deliver", action="store_true", help="Do not deliver due callbacks from this process.")
        parser.add_argument("--deliver-interval", type=float, default=1.0, help="Seconds between delivery passes.")
        parser.add_argument("--quiet", action="store_true", help="Do not log every request.")
        parser.add_argument(
            "--force", action="store_true", help="Run even when settings.SANDBOX_ENABLED is off (never in production)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not setting("SANDBOX_ENABLED") and not options["force"]:
            raise CommandError("SANDBOX_ENABLED is off in these settings; pass --force if you really mean it.")
        if options["threads"] < 1:
            raise CommandError("--threads must be at least 1.")
        if options["processes"] < 1:
            raise CommandError("--processes must be at least 1.")

        from sandbox.models import SandboxAccount

        if SandboxAccount._meta.db_table not in connections["default"].introspection.table_names():
            raise CommandError("The sandbox tables do not exist: run `manage.py migrate` first.")

        QuietRequestHandler.quiet = options["quiet"]
        handler = StandaloneHandler()
        try:
            server = PooledWSGIServer(
                (options["host"], options["port"]), QuietRequestHandler, max_threads=options["threads"]
            )
        except OSError as exc:
            raise CommandError(f"Cannot listen on {options['host']}:{options['port']}: {exc}")
        server.set_app(handler)
        host, port = server.server_address[:2]
        children = self._fork(server, options["processes"] - 1, options["threads"])
        self.stdout.write(f"Sandbox listening on http://{host}:{port}/sandbox/ (Ctrl-C to stop)", ending="\n")
        self.stdout.flush()

        stop = threading.Event()
        threads = [threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)]
        if not options["no_deliver"]:
            threads.append(
                threading.Thread(target=self._deliver_loop, args=(stop, options["deliver_interval"]), daemon=True)
            )
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + options["duration"] if options["duration"] > 0 else None
        try:
            while not stop.is_set():
                if deadline is not None and time.monotonic() >= deadline:
                    break
                stop.wait(0.2)
        except KeyboardInterrupt:
            self.stdout.write("Stopping the sandbox…")
        finally:
            stop.set()
            server.shutdown()
            server.server_close()
            for thread in threads[1:]:
                thread.join(timeout=5)
            for pid in children:
                try:
                    os.kill(pid, signal.SIGTERM)
                    os.waitpid(pid, 0)
                except (ProcessLookupError, ChildProcessError):
                    pass
        self.stdout.write("Sandbox stopped.")

    def _deliver_loop(self, stop: threading.Event, interval: float) -> None:
        """Post callbacks as they fall due, so the standalone sandbox works without a task worker."""
        from sandbox.delivery import sandbox_deliver_due

        last_error = ""
        while not stop.wait(interval):
            try:
                close_old_connections()
                sandbox_deliver_due()
                last_error = ""
            except Exception as exc:  # keep serving; the next pass retries
                if str(exc) != last_error:  # log a persistent failure once, not every second
                    logger.exception("sandbox: delivery pass failed")
                last_error = str(exc)
        connections.close_all()

    @staticmethod
    def _fork(server: PooledWSGIServer, count: int, threads: int) -> list[int]:
        """Fork ``count`` processes serving ``server``'s socket; their pids (the children never return)."""
        if count <= 0:
            return []
        connections.close_all()  # a database connection must not be shared across fork
        server.share()
        parent, children = os.getpid(), []
        for _ in range(count):
            pid = os.fork()
            if pid == 0:
                _serve_forked(server, threads=threads, parent=parent)  # never returns
            children.append(pid)
        return children


def _serve_forked(server: PooledWSGIServer, *, threads: int, parent: int) -> None:
    """A forked process: serve the inherited socket until SIGTERM or until the parent is gone, then exit."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    server.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sandbox-http")
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    while not stop.wait(0.5) and os.getppid() == parent:
        pass
    server.shutdown()
    connections.close_all()
    os._exit(0)
