"""The one HTTP path of the adapters (``BaseClient.request``): redirects, the environment, session headers."""

from __future__ import annotations

import pytest
import requests
import responses

from providers import base
from providers.base import BaseClient, ProviderRejected

URL = "https://api.provider.example"


@pytest.fixture(autouse=True)
def _fresh_environment():
    base._environment.cache_clear()
    yield
    base._environment.cache_clear()


@responses.activate
def test_a_redirect_is_not_followed_and_names_the_base_url():
    responses.post(f"{URL}/send", status=302, headers={"Location": "https://elsewhere.example/login"})
    client = BaseClient(base_url=URL)
    with pytest.raises(ProviderRejected) as error:
        client.request("POST", "send", json_body={"a": 1})
    assert error.value.status == 302
    assert "elsewhere.example/login" in error.value.message and URL in error.value.message
    assert len(responses.calls) == 1


@responses.activate
def test_session_headers_and_the_call_headers_both_go_out():
    responses.get(f"{URL}/ping", json={"ok": True})
    session = requests.Session()
    session.headers["User-Agent"] = "waportal-test"
    BaseClient(base_url=URL, session=session).request("GET", "ping", headers={"apiKey": "secret"},
                                                      params={"a": "b"})
    sent = responses.calls[0].request
    assert sent.headers["User-Agent"] == "waportal-test" and sent.headers["apiKey"] == "secret"
    assert sent.url == f"{URL}/ping?a=b"


def test_environment_proxies_are_read_once_per_base_url_and_honour_no_proxy(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "bypassed.example")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/company.pem")
    proxies, verify = base._environment("https://api.provider.example")
    assert proxies["https"] == "http://proxy.internal:3128" and verify == "/etc/ssl/company.pem"
    assert base._environment("https://bypassed.example")[0] == {}
    monkeypatch.setenv("HTTPS_PROXY", "http://other:1")
    assert base._environment("https://api.provider.example")[0]["https"] == "http://proxy.internal:3128"  # cached


def test_the_environment_proxy_reaches_the_adapter(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    seen = {}

    class Recorder(requests.adapters.BaseAdapter):
        def send(self, request, **kwargs):
            seen.update(kwargs)
            response = requests.Response()
            response.status_code, response._content, response.request = 200, b"{}", request
            return response

        def close(self):
            pass

    session = requests.Session()
    session.mount("https://", Recorder())
    BaseClient(base_url=URL, session=session).request("GET", "ping")
    assert seen["proxies"]["https"] == "http://proxy.internal:3128" and seen["verify"] is True
