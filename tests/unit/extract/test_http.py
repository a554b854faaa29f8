"""The HTTP client (extract.http), in-process against a local misbehaving server (testing.fake_api):
Retry-After, which statuses are retried and how often, refused connections, TLS verification, and the
bounds of the retry policy. answers/faults.md tabulates the cases.
"""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
import threading
import time

import pytest
import requests
import urllib3
from urllib3.exceptions import MaxRetryError

from pricing_pipeline.extract import http as http_client
from pricing_pipeline.extract.http import http_get, http_session
from pricing_pipeline.extract.responses import SourceError
from pricing_pipeline.testing.fake_api import Respond
from tests.support.fault_api import DAY, RATES_BODY, RATES_PATH, RETRIES


def test_retry_after_is_honoured_before_the_next_attempt(fault_settings):
    server = fault_settings
    server.script(RATES_PATH, Respond(429, b"", {"Retry-After": "1"}))
    started = time.monotonic()
    response = http_get(http_session(), "exchange_rates", f"{server.url}{RATES_PATH}")
    assert time.monotonic() - started >= 0.9  # a lower bound: the wait asked for was not skipped
    assert (response.status, response.attempts, response.body) == (200, 2, RATES_BODY)
    assert server.count(RATES_PATH) == 2


def test_retry_after_longer_than_the_cap_is_not_waited_for(fault_settings):
    server = fault_settings
    server.script(RATES_PATH, *[Respond(429, b"quota", {"Retry-After": "3600"})] * 5)
    started = time.monotonic()
    with pytest.raises(SourceError) as error:
        http_get(http_session(), "exchange_rates", f"{server.url}{RATES_PATH}")
    assert time.monotonic() - started < 60  # generous: the point is not waiting an hour
    message = str(error.value)
    assert f"GET {server.url}{RATES_PATH} answered HTTP 429 after 1 attempt(s)" in message
    assert "Retry-After asks for 3600 s, longer than the 3 s" in message
    assert server.count(RATES_PATH) == 1


def test_unreadable_retry_after_falls_back_to_backoff(fault_settings):
    server = fault_settings
    server.script(RATES_PATH, Respond(503, b"", {"Retry-After": "soon"}))
    response = http_get(http_session(), "exchange_rates", f"{server.url}{RATES_PATH}")
    assert (response.status, response.attempts) == (200, 2)


def test_other_5xx_is_retried_and_counted(fault_settings):
    server = fault_settings
    server.script(RATES_PATH, *[Respond(502, b"bad gateway")] * 10)
    with pytest.raises(SourceError, match=rf"HTTP 502 after {RETRIES + 1} attempt\(s\), retries exhausted"):
        http_get(http_session(), "exchange_rates", f"{server.url}{RATES_PATH}")
    assert server.count(RATES_PATH) == RETRIES + 1


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413, 422])
def test_client_errors_are_not_retried(status, fault_settings):
    server = fault_settings
    server.script(RATES_PATH, Respond(status, b"no", {"Retry-After": "1"}))
    with pytest.raises(SourceError, match=rf"HTTP {status} after 1 attempt\(s\), not retried"):
        http_get(http_session(), "exchange_rates", f"{server.url}{RATES_PATH}")
    assert server.count(RATES_PATH) == 1


def test_connection_refused_names_url_and_attempts(fault_settings):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/frankfurter/{DAY}..{DAY}"
    with pytest.raises(SourceError) as error:
        http_get(http_session(), "exchange_rates", url)
    message = str(error.value)
    assert f"GET {url} failed after {RETRIES + 1} attempt(s), no HTTP status" in message
    assert "Connection refused" in message


def test_retries_and_timeouts_are_bounded(monkeypatch):
    for name in (
        "PIPELINE_HTTP_TIMEOUT",
        "PIPELINE_HTTP_CONNECT_TIMEOUT",
        "PIPELINE_HTTP_RETRIES",
        "PIPELINE_HTTP_BACKOFF",
        "PIPELINE_HTTP_RETRY_AFTER_MAX",
    ):
        monkeypatch.delenv(name, raising=False)
    session = http_session()
    policy = session.retry_policy
    assert isinstance(policy, http_client.RetryPolicy)
    assert policy.retries == 3 and policy.backoff_max == 10 and policy.jitter > 0
    assert 429 in policy.statuses and 503 in policy.statuses and 404 not in policy.statuses
    tls_failure = requests.exceptions.SSLError(MaxRetryError(None, "https://x", urllib3.exceptions.SSLError("bad")))
    assert not policy.retries_error(tls_failure)  # TLS errors are final at once
    assert session.get_adapter("https://api.frankfurter.dev").max_retries.total == 0  # the policy is the only loop
    assert http_client.http_timeout() == (5.0, 30.0)
    assert session.verify is True
    # (retries + 1) * (connect + read) + retries * longest pause: 4 * 35 + 3 * 60
    assert http_client.http_time_bound() == 320
    assert http_client.http_time_bound() < 600  # the runner's cell timeout, the last backstop


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PIPELINE_HTTP_TIMEOUT", "abc"),
        ("PIPELINE_HTTP_TIMEOUT", "0"),
        ("PIPELINE_HTTP_RETRIES", "-1"),
        ("PIPELINE_HTTP_RETRIES", "1000"),
    ],
)
def test_unusable_http_setting_is_a_clear_error(name, value, monkeypatch):
    monkeypatch.setenv(name, value)
    with pytest.raises(SourceError, match=rf"{name}='{value}' is not usable; expected a number from"):
        http_session()
        http_client.http_timeout()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_tls_certificate_is_verified(tmp_path, monkeypatch):
    for name, value in {"PIPELINE_HTTP_TIMEOUT": "2", "PIPELINE_HTTP_RETRIES": "3", "NO_PROXY": "127.0.0.1"}.items():
        monkeypatch.setenv(name, value)
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    handshakes = []

    def serve():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            handshakes.append(1)
            try:
                with context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1024)
            except (OSError, ssl.SSLError):
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    url = f"https://127.0.0.1:{listener.getsockname()[1]}/v1/{DAY}..{DAY}"
    try:
        with pytest.raises(SourceError) as error:
            http_get(http_session(), "exchange_rates", url)
    finally:
        listener.close()
    message = str(error.value)
    assert f"GET {url} failed after 1 attempt(s), no HTTP status" in message
    assert "CERTIFICATE_VERIFY_FAILED" in message
    assert len(handshakes) == 1  # a certificate failure is not retried
