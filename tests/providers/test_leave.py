"""A send's deadline (``providers.leave``): past it, no byte of the request leaves; before it, nothing changes.

Against a real local server, through the pooled adapter: the check that
matters is the one in the connection, after the HTTP stack's own work.
"""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import ssl
import threading
import time

import pytest
import responses

from providers import base, leave
from providers.base import BaseClient
from providers.leave import SendLate, leave_by


class _Recording(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    requests: list[str] = []

    def do_POST(self):
        # Headers alone reaching the server count: a request cut after its first bytes is a request.
        type(self).requests.append(self.path)
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b'{"messageId": "m-1"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, *args):
        pass


class _Server(http.server.ThreadingHTTPServer):
    accepted = 0

    def process_request(self, request, client_address):
        self.accepted += 1
        return super().process_request(request, client_address)


@pytest.fixture
def server():
    _Recording.requests = []
    httpd = _Recording.server = _Server(("127.0.0.1", 0), _Recording)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def client(server):
    session = base.session_for(f"leave-test-{server}")
    yield BaseClient(base_url=server, session=session)
    session.close()


def test_without_a_deadline_requests_go_as_always(client):
    assert client.request("POST", "send", json_body={"to": "1"}).json() == {"messageId": "m-1"}
    with leave_by(None):
        client.request("POST", "send", json_body={"to": "2"}).json()
    assert _Recording.requests == ["/send", "/send"]


def test_a_request_before_its_deadline_leaves(client):
    with leave_by(time.time() + 5):
        assert client.request("POST", "send", json_body={"to": "1"}).json() == {"messageId": "m-1"}
    assert _Recording.requests == ["/send"]


def test_a_request_past_its_deadline_is_not_made(client):
    with leave_by(time.time() - 0.001), pytest.raises(SendLate):
        client.request("POST", "send", json_body={"to": "1"})
    assert _Recording.requests == []


def test_held_up_inside_the_http_stack_past_the_deadline_no_byte_leaves(client, server, monkeypatch):
    """The deadline is still ahead when the client hands the request over; the stack then takes too long
    (a thread waiting for the interpreter lock): the connection refuses to write its first byte."""
    client.request("POST", "send", json_body={"warm": "up"}).json()  # a kept-alive connection in the pool
    get_conn = leave.CheckedHTTPConnectionPool._get_conn

    def slow_get_conn(self, timeout=None):
        time.sleep(0.05)
        return get_conn(self, timeout)

    monkeypatch.setattr(leave.CheckedHTTPConnectionPool, "_get_conn", slow_get_conn)
    with leave_by(time.time() + 0.02), pytest.raises(SendLate) as late:
        client.request("POST", "send", json_body={"to": "1"})
    assert late.value.late_by > 0
    assert _Recording.requests == ["/send"]  # the warm-up only

    # The pool opens a new connection for the next request (urllib3 closed the one it could not trust).
    monkeypatch.setattr(leave.CheckedHTTPConnectionPool, "_get_conn", get_conn)
    assert client.request("POST", "send", json_body={"to": "1"}).json() == {"messageId": "m-1"}
    assert _Recording.requests == ["/send", "/send"]


def test_a_new_connections_handshake_is_not_held_against_the_deadline(client, monkeypatch):
    """Checked before the handshake: a round trip or two to a real provider would otherwise make every new
    connection's first request late, and each late one would throw its fresh connection away."""
    connect = leave.HTTPConnection.connect  # urllib3's: the handshake itself

    def slow_connect(self):
        time.sleep(0.05)
        return connect(self)

    monkeypatch.setattr(leave.HTTPConnection, "connect", slow_connect)
    with leave_by(time.time() + 0.02):
        assert client.request("POST", "send", json_body={"to": "1"}).json() == {"messageId": "m-1"}
    assert _Recording.requests == ["/send"]


def test_a_request_late_before_its_connection_exists_opens_none(client, server, monkeypatch):
    get_conn = leave.CheckedHTTPConnectionPool._get_conn

    def slow_get_conn(self, timeout=None):
        time.sleep(0.05)
        return get_conn(self, timeout)

    monkeypatch.setattr(leave.CheckedHTTPConnectionPool, "_get_conn", slow_get_conn)
    with leave_by(time.time() + 0.02), pytest.raises(SendLate):
        client.request("POST", "send", json_body={"to": "1"})
    assert _Recording.requests == [] and _Recording.server.accepted == 0


def test_a_connection_opened_ahead_of_its_request_is_not_held_against_the_deadline(server):
    """urllib3 opens an HTTPS connection before the request (``_validate_conn``): the handshake's time does not
    count; the next request on the kept-alive connection is checked again."""
    host, port = server.removeprefix("http://").split(":")
    conn = leave.CheckedHTTPConnection(host, int(port))
    try:
        with leave_by(time.time() + 0.02):
            conn.connect()
            time.sleep(0.05)  # a long handshake
            conn.request("POST", "/send", body=b"{}", headers={"Content-Type": "application/json"})
            assert conn.getresponse().status == 200
        with leave_by(time.time() - 0.001), pytest.raises(SendLate):
            conn.request("POST", "/send", body=b"{}", headers={"Content-Type": "application/json"})
    finally:
        conn.close()
    assert _Recording.requests == ["/send"]


def test_every_transport_is_checked_before_it_gets_the_request():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mocked:
        mocked.post("https://provider.example/send", json={"messageId": "m-1"})
        with leave_by(time.time() - 0.001), pytest.raises(SendLate):
            BaseClient(base_url="https://provider.example").request("POST", "send", json_body={})
        assert len(mocked.calls) == 0


def test_deadlines_nest_and_are_per_thread():
    seen = []
    with leave_by(time.time() - 1):
        with leave_by(None):
            leave.leave_check()  # the inner one rules
        thread = threading.Thread(target=lambda: seen.append(leave.leave_check()))
        thread.start()
        thread.join()  # another thread has no deadline
        with pytest.raises(SendLate):
            leave.leave_check()
    leave.leave_check()
    assert seen == [None]


def test_a_request_leaves_in_one_write_head_and_body_together(client, monkeypatch):
    """urllib3 writes the head and the body apart; a thread held up between them delivers the request late
    although it was checked in time. The checked connection writes them together."""
    writes: list[bytes] = []
    send = leave.HTTPConnection.send

    def recording(self, data):
        writes.append(bytes(data))
        return send(self, data)

    monkeypatch.setattr(leave.HTTPConnection, "send", recording)
    with leave_by(time.time() + 5):
        client.request("POST", "send", json_body={"to": "573001234567"}).json()
    client.request("GET", "ping")  # no body: the head alone, once
    assert len(writes) == 2
    assert writes[0].startswith(b"POST /send HTTP/1.1\r\n") and writes[0].endswith(b'{"to": "573001234567"}')
    assert writes[1].startswith(b"GET /ping HTTP/1.1\r\n") and writes[1].endswith(b"\r\n\r\n")
    assert _Recording.requests == ["/send", "/ping"]


def _self_signed(directory) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
                   .not_valid_after(now + datetime.timedelta(hours=1))
                   .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                  critical=False)
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


def test_over_https_a_slow_handshake_is_not_held_against_the_deadline(tmp_path, monkeypatch):
    """Real providers are HTTPS: urllib3 opens the connection (TCP and TLS) before the request, and the
    request still leaves when the handshake took longer than the margin."""
    cert, key = _self_signed(tmp_path)
    _Recording.requests = []
    httpd = _Server(("127.0.0.1", 0), _Recording)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{httpd.server_address[1]}"
    session = base.session_for(f"leave-test-{url}")
    session.verify = cert
    connect = leave.HTTPSConnection.connect  # urllib3's: TCP and TLS

    def slow_connect(self):
        time.sleep(0.05)
        return connect(self)

    monkeypatch.setattr(leave.HTTPSConnection, "connect", slow_connect)
    try:
        client = BaseClient(base_url=url, session=session)
        with leave_by(time.time() + 0.02):
            assert client.request("POST", "send", json_body={"to": "1"}).json() == {"messageId": "m-1"}
        with leave_by(time.time() - 0.001), pytest.raises(SendLate):  # late: not sent
            client.request("POST", "send", json_body={"to": "2"})
        assert _Recording.requests == ["/send"] and httpd.accepted == 1
    finally:
        session.close()
        httpd.shutdown()
        httpd.server_close()
