"""The emulator's own defences: loopback only, a bearer token on every ARM route, bounded
requests, slow clients cut off without stalling others, a connection cap, and 50 concurrent
clients served without an error.

Complements tests/local_azure/test_server_tls.py (413 for a large body, 431 for large headers)
and test_server_cli.py (`emulator serve --host` refuses non-loopback hosts).
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import requests

from local_azure import server
from local_azure.api import RunningEmulator, running
from local_azure.app import EmulatorError
from local_azure.gateway import ADMIN_PREFIX, PUBLIC_PATHS

RG = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-myapp-prod-uks-01"
IDENTITIES = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
MSI_API = "2023-01-31"


def _port(emu: RunningEmulator) -> int:
    return int(emu.info.endpoint.rsplit(":", 1)[1])


@contextmanager
def _tls(emu: RunningEmulator, *, handshake: bool = True) -> Iterator[socket.socket]:
    raw = socket.create_connection(("127.0.0.1", _port(emu)), timeout=10)
    if not handshake:
        with raw:
            yield raw
        return
    context = ssl.create_default_context(cafile=emu.info.ca_bundle)
    with context.wrap_socket(raw, server_hostname="127.0.0.1") as conn:
        yield conn


def _answer(conn: socket.socket) -> bytes:
    chunks = []
    try:
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    except (TimeoutError, ssl.SSLError, ConnectionError):
        pass
    return b"".join(chunks)


def _status(answer: bytes) -> int:
    match = re.match(rb"HTTP/1\.1 (\d{3})", answer)
    assert match, answer[:200]
    return int(match.group(1))


# ---------------------------------------------------------------------- who may connect


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.10", "10.0.0.1", "example.com", ""])
def test_the_python_api_refuses_non_loopback_hosts(host: str) -> None:
    with pytest.raises(EmulatorError, match="loopback"), running(host=host):
        pass


def _concrete(pattern: str) -> str:
    return re.sub(r"\{(\w+)(\*?)\}", lambda m: "x1/y1" if m.group(2) else "x1", pattern)


def test_every_arm_and_admin_route_answers_401_without_a_token(
    emulator: RunningEmulator,
) -> None:
    routes = list(emulator.router._routes)
    assert len(routes) > 50  # the whole router, not a sample
    checked = 0
    with requests.Session() as http:
        for route in routes:
            path = _concrete(route.pattern)
            if path.lower().rstrip("/") in PUBLIC_PATHS and route.method == "GET":
                continue  # the token endpoint (own secret, below), JWKS and metadata
            for headers in ({}, {"Authorization": "Bearer not-a-token"}):
                resp = http.request(
                    route.method,
                    emulator.info.endpoint + path,
                    params={"api-version": "2022-04-01"},
                    data=b"{}" if route.method in ("PUT", "PATCH", "POST") else None,
                    headers=headers,
                    verify=emulator.info.ca_bundle,
                    timeout=10,
                )
                assert resp.status_code == 401, (route.name, path, resp.status_code, resp.text)
                if not path.startswith(ADMIN_PREFIX):
                    assert resp.headers["WWW-Authenticate"].startswith("Bearer ")
            checked += 1
    assert checked == len(routes) - len(PUBLIC_PATHS)


def test_the_token_endpoint_needs_its_secret(emulator: RunningEmulator) -> None:
    url = emulator.info.identity_endpoint
    params = {"api-version": "2019-08-01", "resource": "https://management.azure.com/"}
    verify = emulator.info.ca_bundle
    assert requests.get(url, params=params, verify=verify, timeout=10).status_code == 401
    wrong = {"X-IDENTITY-HEADER": "guess"}
    assert (
        requests.get(url, params=params, headers=wrong, verify=verify, timeout=10).status_code
        == 403
    )
    right = {"X-IDENTITY-HEADER": emulator.info.identity_header}
    assert requests.get(url, params=params, headers=right, verify=verify, timeout=10).ok


# ---------------------------------------------------------------------- bounded requests


@pytest.mark.parametrize(
    ("request_head", "status"),
    [
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\n" + b"".join(b"X-%d: v\r\n" % i for i in range(150)) + b"\r\n", 431),
        (b"PUT /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 411),
        (b"PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", 400),
        (b"PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", 413),
        (b"NOT-HTTP\r\n\r\n", 400),
    ],
    ids=[
        "long-request-line",
        "too-many-headers",
        "chunked",
        "negative-length",
        "huge-length",
        "garbage",
    ],
)
def test_malformed_and_oversized_requests_are_refused_before_they_cost_anything(
    emulator: RunningEmulator, request_head: bytes, status: int
) -> None:
    with _tls(emulator) as conn:
        conn.sendall(request_head)
        answer = _answer(conn)
    assert _status(answer) == status
    assert b"Traceback" not in answer
    assert b'"error"' in answer


# ---------------------------------------------------------------------- slow and many clients


@pytest.fixture
def impatient(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningEmulator]:
    """An emulator whose read timeout is 0.5 s."""
    monkeypatch.setattr(server._Handler, "timeout", 0.5)
    with running() as emu:
        yield emu


def _served(emu: RunningEmulator) -> bool:
    resp = requests.get(
        emu.info.endpoint + "/metadata/endpoints",
        verify=emu.info.ca_bundle,
        params={"api-version": "2022-09-01"},
        timeout=5,
    )
    return resp.status_code == 200


@pytest.mark.parametrize("stall", ["before-tls-handshake", "mid-request"])
def test_a_slow_client_is_cut_off_and_does_not_stall_others(
    impatient: RunningEmulator, stall: str
) -> None:
    with _tls(impatient, handshake=stall != "before-tls-handshake") as conn:
        if stall == "mid-request":
            conn.sendall(b"GET /metadata/endpoints?api-ver")
        assert _served(impatient)  # others are served while it dawdles
        started = time.monotonic()
        conn.settimeout(5)
        answer = _answer(conn)  # returns when the server closes the connection
        assert time.monotonic() - started < 4
    assert b"200 OK" not in answer


@pytest.fixture
def capped(monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningEmulator]:
    """An emulator that takes 8 connections at most (and waits 5 s for a slow client)."""
    monkeypatch.setattr(server._Handler, "timeout", 5.0)
    monkeypatch.setattr(server, "MAX_CONNECTIONS", 8)
    with running() as emu:
        yield emu


def test_connections_beyond_the_cap_are_closed_at_once(capped: RunningEmulator) -> None:
    with _tls(capped) as first:
        first.sendall(b"GET /_emulator/jwks HTTP/1.1\r\nHost: x\r\n\r\n")
        assert b"200 OK" in first.recv(65536)  # one served connection, kept alive
        extra = [
            socket.create_connection(("127.0.0.1", _port(capped)), timeout=5) for _ in range(12)
        ]
        try:
            time.sleep(0.3)
            refused = held = 0
            for sock in extra:
                sock.settimeout(0.05)
                try:
                    refused += sock.recv(1) == b""
                except TimeoutError:
                    held += 1  # accepted, waiting for its TLS handshake: within the cap
                except ConnectionError:
                    refused += 1
            assert (refused, held) == (12 - 7, 7)
        finally:
            for sock in extra:
                sock.close()
    assert _served_within(capped, 10.0)  # and the cap frees up as connections end


def _served_within(emu: RunningEmulator, seconds: float) -> bool:
    """Served again once the server has seen the closed sockets end (on a loaded machine its
    handshake threads notice the close a little later; the cap must still free up)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return _served(emu)
        except requests.exceptions.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_fifty_concurrent_clients_are_served_without_an_error(
    fresh_emulator: Callable[..., RunningEmulator],
) -> None:
    emu = fresh_emulator()
    token, ca = emu.issue_token(), emu.info.ca_bundle
    failures: list[str] = []
    barrier = threading.Barrier(50)

    def client(n: int) -> None:
        params = {"api-version": MSI_API}
        with requests.Session() as http:
            http.headers["Authorization"] = f"Bearer {token}"
            barrier.wait(timeout=30)
            for i in range(10):
                if i % 5 == 4:
                    url = f"{emu.info.endpoint}{IDENTITIES}/id-load-{n}-{i}"
                    body = {"location": "uksouth"}
                    resp = http.put(url, json=body, params=params, verify=ca, timeout=30)
                else:
                    url = emu.info.endpoint + IDENTITIES
                    resp = http.get(url, params=params, verify=ca, timeout=30)
                if resp.status_code not in (200, 201):
                    failures.append(f"{n}/{i}: {resp.status_code} {resp.text[:200]}")

    threads = [threading.Thread(target=client, args=(n,)) for n in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    assert failures == []
    resp = requests.get(
        emu.info.endpoint + IDENTITIES,
        params={"api-version": MSI_API},
        headers={"Authorization": f"Bearer {token}"},
        verify=emu.info.ca_bundle,
        timeout=30,
    )
    names = {i["name"] for i in resp.json()["value"]}
    assert {f"id-load-{n}-{i}" for n in range(50) for i in (4, 9)} <= names
