"""Rate limits hold: a forged X-Forwarded-For is no new client, and every process counts together."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.test import RequestFactory

from accounts.throttling import client_ip

TOKEN_URL = "/api/v1/auth/token/"


@pytest.fixture
def rates(settings):
    def set_rates(**rates):
        rest = dict(settings.REST_FRAMEWORK)
        rest["DEFAULT_THROTTLE_RATES"] = {**rest["DEFAULT_THROTTLE_RATES"], **rates}
        settings.REST_FRAMEWORK = rest

    return set_rates


def _statuses(api, count, **per_request):
    answers = []
    for i in range(count):
        extra = {key: value(i) if callable(value) else value for key, value in per_request.items()}
        answers.append(api.post(TOKEN_URL, {"username": extra.pop("username", "nobody"), "password": "x"},
                                format="json", **extra).status_code)
    return answers


def test_a_rotating_x_forwarded_for_does_not_lift_the_anonymous_limit(api, rates, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    rates(anon="3/minute")
    codes = [api.get("/api/schema/", HTTP_X_FORWARDED_FOR=f"10.0.{i}.1").status_code for i in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]


def test_a_rotating_x_forwarded_for_does_not_lift_the_login_limit(api, rates, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    rates(login_ip="3/minute", login_user="100/minute")
    codes = _statuses(api, 5, username=lambda i: f"user{i}", HTTP_X_FORWARDED_FOR=lambda i: f"10.0.{i}.1")
    assert codes == [400, 400, 400, 429, 429]


def test_logins_are_limited_per_username_from_any_address(api, rates):
    rates(login_ip="100/minute", login_user="3/minute")
    codes = _statuses(api, 5, username="victim", REMOTE_ADDR=lambda i: f"192.0.2.{i}")
    assert codes == [400, 400, 400, 429, 429]
    assert _statuses(api, 1, username="someone-else", REMOTE_ADDR="192.0.2.99") == [400]


def test_the_admin_login_is_limited_too(client, rates, db):
    rates(login_ip="2/minute", login_user="100/minute")
    codes = [client.post("/admin/login/", {"username": f"u{i}", "password": "x"}).status_code for i in range(3)]
    assert codes[:2] == [200, 200] and codes[2] == 429


def test_behind_trusted_proxies_the_client_is_counted_from_the_right(settings):
    request = RequestFactory().get("/", REMOTE_ADDR="10.9.9.9",
                                   HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.7, 10.0.0.2")
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.9.9.9"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "10.0.0.2"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(request) == "203.0.113.7"  # what the client wrote (6.6.6.6) never counts
    settings.TRUSTED_PROXY_COUNT = 5
    assert client_ip(request) == "6.6.6.6"


# --- real processes -----------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="gunicorn needs the test database on a server")
@pytest.mark.django_db(transaction=True)
def test_two_gunicorn_processes_share_the_count_and_mask_the_secret_in_their_access_log(tmp_path: Path):
    from tests.factories import ProviderAccountFactory

    account = ProviderAccountFactory()
    port = _free_port()
    access_log = tmp_path / "access.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "waportal.settings.dev", "DATABASE_URL": _database_url(),
           "LOGIN_THROTTLE_IP": "10/minute", "LOGIN_THROTTLE_USER": "1000/minute", "TRUSTED_PROXY_COUNT": "0",
           "SECRET_KEY": django_settings.SECRET_KEY, "FIELD_ENCRYPTION_KEY": ",".join(
               django_settings.FIELD_ENCRYPTION_KEYS)}
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "waportal.wsgi:application", "--bind",
         f"127.0.0.1:{port}", "--workers", "2", "--access-logfile", str(access_log),
         "--access-logformat", '%(p)s %(s)s "%(r)s"'],
        cwd=django_settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        codes = []
        for i in range(40):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)  # a new connection each time
            conn.request("POST", TOKEN_URL, body=f'{{"username": "u{i}", "password": "x"}}',
                         headers={"Content-Type": "application/json", "X-Forwarded-For": f"10.1.{i}.1",
                                  "Connection": "close"})
            codes.append(conn.getresponse().status)
            conn.close()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("POST", account.webhook_path, body="{}", headers={"Content-Type": "application/json"})
        assert conn.getresponse().status == 200
        conn.close()
        time.sleep(0.5)  # let the access log be written
    finally:
        server.terminate()
        server.wait(timeout=20)
    lines = access_log.read_text().splitlines()
    pids = {line.split()[0] for line in lines if TOKEN_URL in line}
    assert len(pids) == 2, f"both workers should have answered some logins: {lines[:5]}"
    assert codes.count(400) == 10 and codes.count(429) == 30, codes
    assert account.webhook_secret not in access_log.read_text()
    assert any(re.search(r"/webhooks/aldeamo/\*\*\*/", line) for line in lines)
