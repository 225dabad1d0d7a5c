"""One ModelAdmin instance serves every request: nothing of one request may leak into another's page.

gunicorn runs 8 threads per worker and Django keeps one ``ProviderAccountAdmin`` per site, so a request or
object kept on ``self`` between two steps of a view is overwritten by whichever request runs in between; the
webhook URL (it carries the account's secret and is built from the request's host) would then be another
account's. The interleavings below are deterministic: request A's change view starts, request B runs to its
rendered end at one step of A, then A finishes. Each page must carry its own account's URL and never the other's.
"""

from __future__ import annotations

import threading

import pytest
from django.contrib import admin
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.db import connection
from django.test import RequestFactory

from accounts.models import ProviderAccount
from tests.factories import ContactoVirtualAccountFactory, ProviderAccountFactory, UserFactory

pytestmark = pytest.mark.django_db

# The steps of A's change view where B is run in full: its start (the object is fetched), the building of the
# form, the page's context, and between the view's return and the (lazy) rendering of its TemplateResponse.
STEPS = ["get_object", "get_fieldsets", "get_form", "render_change_form", "before_rendering"]


@pytest.fixture
def shared_admin():
    return admin.site.get_model_admin(ProviderAccount)


@pytest.fixture
def world(settings):
    settings.ALLOWED_HOSTS = ["portal-a.example", "portal-b.example"]
    settings.PUBLIC_BASE_URL = ""  # the URL is built from each request's host
    operator = UserFactory(username="operator", is_superuser=True)
    return operator, ProviderAccountFactory(name="Account A"), ContactoVirtualAccountFactory(name="Account B")


def _request(user, host: str, account: ProviderAccount):
    request = RequestFactory().get(f"/admin/accounts/provideraccount/{account.pk}/change/", HTTP_HOST=host)
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def _page(model_admin, request, account: ProviderAccount) -> str:
    response = model_admin.change_view(request, str(account.pk))
    response.render()
    assert response.status_code == 200
    return response.content.decode()


def _expected(host: str, account: ProviderAccount) -> str:
    return f"http://{host}{account.webhook_path}"


def _assert_own(page: str, own: str, other: str) -> None:
    assert own in page
    assert other not in page


@pytest.mark.parametrize("step", STEPS)
def test_interleaved_requests_each_get_their_own_webhook_url(world, shared_admin, monkeypatch, step):
    operator, account_a, account_b = world
    request_a = _request(operator, "portal-a.example", account_a)
    request_b = _request(operator, "portal-b.example", account_b)
    pages: dict[str, str] = {}

    def run_b() -> None:
        pages["b"] = _page(shared_admin, request_b, account_b)

    if step == "before_rendering":
        response = shared_admin.change_view(request_a, str(account_a.pk))
        run_b()
        response.render()
        pages["a"] = response.content.decode()
    else:
        original = getattr(type(shared_admin), step)

        def interleaved(self, request, *args, **kwargs):
            result = original(self, request, *args, **kwargs)
            if request is request_a and "b" not in pages:
                run_b()
            return result

        monkeypatch.setattr(type(shared_admin), step, interleaved)
        pages["a"] = _page(shared_admin, request_a, account_a)

    assert "b" in pages, f"B never ran inside A at {step}"
    url_a, url_b = _expected("portal-a.example", account_a), _expected("portal-b.example", account_b)
    _assert_own(pages["a"], url_a, url_b)
    _assert_own(pages["b"], url_b, url_a)
    assert account_b.webhook_secret not in pages["a"] and account_a.webhook_secret not in pages["b"]


def test_two_threads_on_one_admin_each_get_their_own_webhook_url(world, shared_admin, monkeypatch):
    """The same in real threads: both are inside the view at once (they meet when fetching the object)."""
    operator, account_a, account_b = world
    requests = {"a": (_request(operator, "portal-a.example", account_a), account_a),
                "b": (_request(operator, "portal-b.example", account_b), account_b)}
    # A thread has its own database connection, outside the test's transaction: hand the view its object.
    objects = {account_a.pk: account_a, account_b.pk: account_b}
    barrier = threading.Barrier(2, timeout=10)

    def meeting(self, request, object_id, from_field=None):
        barrier.wait()
        return objects.get(int(object_id))

    monkeypatch.setattr(type(shared_admin), "get_object", meeting)
    monkeypatch.setattr("accounts.admin.provider_accounts.account_setup_notes", lambda **kwargs: [])
    pages: dict[str, str] = {}
    errors: list[BaseException] = []

    def serve(name: str) -> None:
        request, account = requests[name]
        try:
            response = shared_admin.change_view(request, str(account.pk))
            response.render()
            pages[name] = response.content.decode()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=serve, args=(name,)) for name in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    url_a, url_b = _expected("portal-a.example", account_a), _expected("portal-b.example", account_b)
    _assert_own(pages["a"], url_a, url_b)
    _assert_own(pages["b"], url_b, url_a)
