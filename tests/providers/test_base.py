"""The one HTTP path of the adapters (``BaseClient.request``): redirects, the environment, session headers,
the pooled transport adapter."""

from __future__ import annotations

import http.server
import threading

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


# --- the pooled adapter (ProviderHTTPAdapter) against a real local server ---


class _Counting(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    connections: set[tuple[str, int]] = set()

    def do_POST(self):
        type(self).connections.add(self.client_address)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"messages": [{"id": "wamid.1"}]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Set-Cookie", "session=abc; Path=/")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def local_server():
    _Counting.connections = set()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_pooled_adapter_reuses_one_pool_and_connection_and_keeps_no_cookies(local_server):
    session = base.session_for(f"adapter-test-{local_server}")
    adapter = session.get_adapter(local_server)
    assert isinstance(adapter, base.ProviderHTTPAdapter)
    client = BaseClient(base_url=local_server, session=session)
    first = client.request("POST", "v1/messages", json_body={"to": "573001234567"})
    first.json()  # the body read gives the connection back to the pool
    pool = adapter.get_connection_with_tls_context(first.request, True)
    for _ in range(3):
        response = client.request("POST", "v1/messages", json_body={"to": "573001234567"})
        assert response.json() == {"messages": [{"id": "wamid.1"}]}
    assert adapter.get_connection_with_tls_context(response.request, True) is pool
    assert len(_Counting.connections) == 1  # one kept-alive TCP connection
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.encoding == "utf-8" and response.url == f"{local_server}/v1/messages"
    assert response.headers["Set-Cookie"] and not response.cookies and not session.cookies

    # Closing the adapter (the session) forgets its pools: the next request finds a fresh one.
    adapter.close()
    assert client.request("POST", "v1/messages", json_body={}).json()
    assert adapter.get_connection_with_tls_context(response.request, True) is not pool


def test_the_pooled_adapter_sends_through_a_proxy_the_usual_way():
    adapter = base.ProviderHTTPAdapter()
    request = requests.Request("POST", "https://api.provider.example/v1/messages").prepare()
    direct = adapter.get_connection_with_tls_context(request, True)
    proxied = adapter.get_connection_with_tls_context(request, True, proxies={"https": "http://proxy.internal:3128"})
    assert direct.proxy is None and proxied.proxy.host == "proxy.internal"
    assert adapter.get_connection_with_tls_context(request, True) is direct
    # TLS settings are part of what the pool is remembered by.
    assert adapter.get_connection_with_tls_context(request, "/etc/ssl/company.pem") is not direct
