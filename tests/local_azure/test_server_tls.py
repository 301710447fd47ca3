"""TLS and HTTP transport: the private CA verifies, keep-alive works, limits and errors answer
in ARM's envelope without leaking tracebacks."""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import uuid

import pytest
import requests
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from local_azure.api import RunningEmulator
from local_azure.kernel import Context, Request, Response


def _connection(emu: RunningEmulator, host: str = "127.0.0.1") -> http.client.HTTPSConnection:
    port = int(emu.info.endpoint.rsplit(":", 1)[1])
    ctx = ssl.create_default_context(cafile=emu.info.ca_bundle)
    return http.client.HTTPSConnection(host, port, context=ctx, timeout=10)


def _echo(_ctx: Context, req: Request, params: dict[str, str]) -> Response:
    return Response(
        200,
        {
            "path": req.path,
            "query": req.query,
            "params": params,
            "caller": req.caller.object_id if req.caller else None,
            "body": req.body.decode(),
        },
    )


@pytest.fixture(scope="module")
def echo(emulator: RunningEmulator) -> str:
    """A tiny route on the shared emulator to exercise the transport."""
    path = f"/_test/{uuid.uuid4().hex}"
    for method in ("GET", "PUT", "HEAD", "DELETE"):
        emulator.router.add(method, path + "/{name}", _echo, name="test.echo")
    return path


def test_default_context_verifies_with_the_ca_bundle(emulator: RunningEmulator) -> None:
    for host in ("127.0.0.1", "localhost"):
        conn = _connection(emulator, host)
        conn.request("GET", "/_emulator/jwks")
        resp = conn.getresponse()
        assert resp.status == 200
        assert json.loads(resp.read())["keys"][0]["kty"] == "RSA"
        conn.close()


def test_system_trust_store_rejects_the_private_ca(emulator: RunningEmulator) -> None:
    port = int(emulator.info.endpoint.rsplit(":", 1)[1])
    ctx = ssl.create_default_context()
    with (
        pytest.raises(ssl.SSLCertVerificationError),
        socket.create_connection(("127.0.0.1", port), timeout=5) as sock,
    ):
        ctx.wrap_socket(sock, server_hostname="127.0.0.1")


def test_certificates_carry_the_extensions_strict_clients_require(
    emulator: RunningEmulator,
) -> None:
    with open(emulator.info.ca_bundle, "rb") as fh:
        ca = x509.load_pem_x509_certificate(fh.read())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign is True
    ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)

    port = int(emulator.info.endpoint.rsplit(":", 1)[1])
    pem = ssl.get_server_certificate(("127.0.0.1", port))
    leaf = x509.load_pem_x509_certificate(pem.encode())
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in list(eku)
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(ip) for ip in san.get_values_for_type(x509.IPAddress)} >= {"127.0.0.1", "::1"}
    assert "localhost" in san.get_values_for_type(x509.DNSName)
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    leaf.verify_directly_issued_by(ca)


def test_keep_alive_serves_many_requests_on_one_connection(
    emulator: RunningEmulator, echo: str
) -> None:
    token = emulator.issue_token()
    conn = _connection(emulator)
    for i in range(5):
        conn.request("GET", f"{echo}/n{i}", headers={"Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 200
        assert resp.getheader("Content-Length") == str(len(body))
        assert resp.getheader("Content-Type") == "application/json; charset=utf-8"
        assert resp.getheader("x-ms-request-id")
        assert resp.getheader("x-ms-ratelimit-remaining-subscription-reads")
        assert json.loads(body)["params"] == {"name": f"n{i}"}
    sock = conn.sock
    assert sock is not None  # still the same open connection
    conn.close()


def test_path_and_query_are_percent_decoded(emulator: RunningEmulator, echo: str) -> None:
    token = emulator.issue_token()
    resp = requests.get(
        f"{emulator.info.endpoint}{echo}/a%20b",
        params={"$filter": "principalId eq 'x y'", "api-version": "2022-04-01"},
        headers={"Authorization": f"Bearer {token}", "x-ms-correlation-request-id": "corr-1"},
        verify=emulator.info.ca_bundle,
        timeout=10,
    )
    assert resp.status_code == 200
    body = resp.json()
    assert body["params"] == {"name": "a b"}
    assert body["query"]["$filter"] == "principalId eq 'x y'"
    assert body["caller"] == emulator.context.store.meta_get("operator_object_id")
    assert resp.headers["x-ms-correlation-request-id"] == "corr-1"


def test_head_answers_without_a_body(emulator: RunningEmulator, echo: str) -> None:
    token = emulator.issue_token()
    conn = _connection(emulator)
    conn.request("HEAD", f"{echo}/x", headers={"Authorization": f"Bearer {token}"})
    resp = conn.getresponse()
    assert resp.status == 200
    assert resp.read() == b""
    conn.request("GET", f"{echo}/y", headers={"Authorization": f"Bearer {token}"})
    assert json.loads(conn.getresponse().read())["params"] == {"name": "y"}
    conn.close()


def test_oversized_body_is_refused_with_413(emulator: RunningEmulator, echo: str) -> None:
    conn = _connection(emulator)
    conn.putrequest("PUT", f"{echo}/big")
    conn.putheader("Content-Length", str(5 * 1024 * 1024))
    conn.putheader("Content-Type", "application/json")
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 413
    assert json.loads(resp.read())["error"]["code"] == "RequestEntityTooLarge"
    assert resp.getheader("Connection") == "close"
    conn.close()


def test_oversized_headers_are_refused(emulator: RunningEmulator) -> None:
    conn = _connection(emulator)
    conn.putrequest("GET", "/_emulator/jwks")
    for i in range(40):
        conn.putheader(f"x-filler-{i}", "v" * 2000)
    conn.endheaders()
    resp = conn.getresponse()
    assert resp.status == 431
    assert "error" in json.loads(resp.read())
    conn.close()


def test_unexpected_exception_is_a_500_envelope_without_traceback(
    emulator: RunningEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(_ctx: Context, _req: Request, _params: dict[str, str]) -> Response:
        raise RuntimeError("secret internals")

    path = f"/_test/{uuid.uuid4().hex}/boom"
    emulator.router.add("GET", path, boom)
    resp = requests.get(
        emulator.info.endpoint + path,
        headers={"Authorization": f"Bearer {emulator.issue_token()}"},
        verify=emulator.info.ca_bundle,
        timeout=10,
    )
    assert resp.status_code == 500
    error = resp.json()["error"]
    assert error["code"] == "InternalServerError"
    assert "secret internals" not in resp.text
    assert "Traceback" not in resp.text
    assert "secret internals" in caplog.text  # logged server-side


def test_unknown_route_is_an_arm_404(emulator: RunningEmulator) -> None:
    resp = requests.get(
        emulator.info.endpoint + "/subscriptions/x/providers/Nope.Nothing/things",
        params={"api-version": "2020-01-01"},
        headers={"Authorization": f"Bearer {emulator.issue_token()}"},
        verify=emulator.info.ca_bundle,
        timeout=10,
    )
    assert resp.status_code in (400, 404)
    assert resp.json()["error"]["code"]
    assert "Retry-After" not in resp.headers
