"""Self tests of the client's retries: which faults are retried, how long it waits, and what it raises.

The sandbox's network modes cover throttling, 503 and a connection closed before the
response. A raw socket server on 127.0.0.1 covers what the sandbox cannot play: a response
cut off after its headers, and a Retry-After longer than the environment allows.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import socket
import threading
from collections.abc import Iterator

import pytest

from contract_support.auth import VendorBasicAuth
from contract_support.client import ApiClient, InfrastructureError
from contract_support.config import load_environment
from contract_support.redaction import Redactor
from contract_support.reporting import format_call
from contract_support.sandbox import Credentials, SandboxServer

SANDBOX_CREDENTIALS = Credentials("retry.user", "retry-password", "retry-key", "retry-secret")
KNOWN_ID = 400000001
BODY = b'{"data": [], "warnings": [], "errors": []}'


def make_client(base_url: str, retries: dict | None = None, timeout_seconds: float | None = None) -> ApiClient:
    environment = load_environment("sandbox").with_base_url(base_url)
    if retries is not None:
        environment = dataclasses.replace(environment, retries={**environment.retries, **retries})
    if timeout_seconds is not None:
        limits = dataclasses.replace(environment.limits, timeout_seconds=timeout_seconds)
        environment = dataclasses.replace(environment, limits=limits)
    auth = VendorBasicAuth(SANDBOX_CREDENTIALS.username, SANDBOX_CREDENTIALS.password)
    return ApiClient(environment, auth, Redactor([SANDBOX_CREDENTIALS.password]))


@contextlib.contextmanager
def sandbox(fault: str) -> Iterator[str]:
    with SandboxServer(SANDBOX_CREDENTIALS, fault=fault) as server:
        yield server.base_url


@contextlib.contextmanager
def scripted_server(responses: list[bytes]) -> Iterator[str]:
    """Serve one raw response per connection, in order, and repeat the last one. Each connection closes after the write."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        served = 0
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(2)
                request = b""
                while b"\r\n\r\n" not in request:
                    request += connection.recv(65536)
                headers, _, body = request.partition(b"\r\n\r\n")
                length = next(
                    (int(line.split(b":")[1]) for line in headers.split(b"\r\n") if line.lower().startswith(b"content-length:")),
                    0,
                )
                while len(body) < length:
                    body += connection.recv(65536)
                connection.sendall(responses[min(served, len(responses) - 1)])
                served += 1

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(2)
        listener.close()


def http_response(status: str, body: bytes, *, declared_length: int | None = None, extra: str = "") -> bytes:
    length = len(body) if declared_length is None else declared_length
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n{extra}Connection: close\r\n\r\n"
    return head.encode("ascii") + body


CUT_BODY = http_response("200 OK", BODY[:10], declared_length=len(BODY))
FULL_BODY = http_response("200 OK", BODY)


def test_throttle_waits_for_retry_after():
    with sandbox("flaky-throttle") as base_url:
        client = make_client(base_url)
        calls = [client.get_customers([KNOWN_ID]) for _ in range(4)]

    retried = [call for call in calls if call.retries]

    assert [call.status for call in calls] == [200] * 4
    assert len(retried) == 1, [call.retries for call in calls]
    assert retried[0].retries[0].reason == "HTTP 429"
    assert retried[0].retries[0].sleep_seconds == 1.0
    assert retried[0].total_seconds >= 1.0, "the client did not wait the 1 s that Retry-After asked for"
    assert retried[0].elapsed_seconds < 0.9, "elapsed_seconds must time the last attempt only"


def test_retry_is_logged_and_attached(caplog):
    with sandbox("flaky-503") as base_url:
        client = make_client(base_url)
        with caplog.at_level(logging.WARNING, logger="contract_support.client"):
            calls = [client.get_customers([KNOWN_ID]) for _ in range(3)]

    retried = [call for call in calls if call.retries]
    attachment = format_call(retried[0], client.redactor)

    assert "retrying POST" in caplog.text
    assert "HTTP 503" in caplog.text
    assert "retries: HTTP 503" in attachment


def test_connection_closed_before_response_retried():
    with sandbox("flaky-reset") as base_url:
        client = make_client(base_url)
        calls = [client.get_customers([KNOWN_ID]) for _ in range(4)]

    reasons = [event.reason for call in calls for event in call.retries]

    assert [call.status for call in calls] == [200] * 4
    assert len(reasons) == 1, reasons
    assert "RemoteDisconnected" in reasons[0] or "ProtocolError" in reasons[0], reasons


def test_body_cut_after_headers_retried():
    with scripted_server([CUT_BODY, FULL_BODY]) as base_url:
        call = make_client(base_url).get_customers([KNOWN_ID])

    assert call.status == 200
    assert call.response_body == BODY
    assert len(call.retries) == 1
    assert "ProtocolError" in call.retries[0].reason


def test_body_always_cut_raises_infrastructure_error():
    with scripted_server([CUT_BODY]) as base_url:
        client = make_client(base_url, retries={"total": 2})
        with pytest.raises(InfrastructureError, match="dropped while reading the response body") as raised:
            client.get_customers([KNOWN_ID])

    assert "2 retries are used up" in str(raised.value)


def test_retry_after_capped_by_environment():
    throttled = http_response("429 Too Many Requests", BODY, extra="Retry-After: 4\r\n")
    with scripted_server([throttled, FULL_BODY]) as base_url:
        call = make_client(base_url, retries={"max_retry_after_seconds": 1}).get_customers([KNOWN_ID])

    assert call.status == 200
    assert call.retries[0].sleep_seconds == 1
    assert call.total_seconds < 3, "Retry-After: 4 was waited out despite max_retry_after_seconds: 1"


def test_status_still_failing_raises_infrastructure_error():
    unavailable = http_response("503 Service Unavailable", BODY)
    with scripted_server([unavailable]) as base_url:
        client = make_client(base_url, retries={"total": 2, "backoff_factor": 0})
        with pytest.raises(InfrastructureError, match="still HTTP 503 after 2 retries"):
            client.get_customers([KNOWN_ID])


def test_timeout_raises_infrastructure_error():
    with sandbox("flaky-slow") as base_url:
        client = make_client(base_url, retries={"total": 1, "backoff_factor": 0}, timeout_seconds=0.1)
        with pytest.raises(InfrastructureError, match=r"timed out after 0.1 s, also on 1 retries"):
            client.get_customers([KNOWN_ID])
