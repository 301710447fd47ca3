"""Realism knobs: throttling with Retry-After that the SDK honours, seeded 5xx answers,
dropped connections, latency, request counters and run-time settings."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
import requests
from azure.identity import ManagedIdentityCredential
from azure.mgmt.resource.subscriptions import SubscriptionClient

from local_azure.api import RunningEmulator
from local_azure.kernel import Context, Request, Response, Settings

Fresh = Callable[..., RunningEmulator]
ECHO = "/subscriptions/11111111-1111-1111-1111-111111111111/providers/Test.Emulator/echo"


def _echo(_ctx: Context, req: Request, _params: dict[str, str]) -> Response:
    return Response(200, {"method": req.method})


def _start(fresh: Fresh, **settings: Any) -> RunningEmulator:
    emu: RunningEmulator = fresh(settings=Settings(**settings))
    for method in ("GET", "PUT", "DELETE"):
        emu.router.add(method, ECHO, _echo, name="test.echo", priority=50)
    return emu


def _call(emu: RunningEmulator, method: str = "GET", path: str = ECHO) -> requests.Response:
    return requests.request(
        method,
        emu.info.endpoint + path,
        headers={"Authorization": f"Bearer {emu.issue_token()}"},
        verify=emu.info.ca_bundle,
        timeout=10,
    )


def _admin(emu: RunningEmulator, method: str, path: str, **kw: Any) -> requests.Response:
    return requests.request(
        method,
        emu.info.endpoint + path,
        headers={"X-IDENTITY-HEADER": emu.info.identity_header},
        verify=emu.info.ca_bundle,
        timeout=10,
        **kw,
    )


def test_throttling_answers_429_with_retry_after_per_category(fresh_emulator: Fresh) -> None:
    emu = _start(fresh_emulator, throttle=True)
    emu.configure(throttle_limits={"reads": {"burst": 2, "per_second": 0.5}})
    first = _call(emu)
    assert first.status_code == 200
    assert first.headers["x-ms-ratelimit-remaining-subscription-reads"] == "1"
    assert _call(emu).status_code == 200
    throttled = _call(emu)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "2"
    error = throttled.json()["error"]
    assert error["code"] == "SubscriptionRequestsThrottled"
    assert "Number of 'read' requests for subscription" in error["message"]
    # writes have their own bucket
    put = _call(emu, "PUT")
    assert put.status_code == 200
    assert put.headers["x-ms-ratelimit-remaining-subscription-writes"] == "199"
    assert emu.stats()["faults"]["throttled"] == 1


def test_unthrottled_answers_report_arm_like_budgets(fresh_emulator: Fresh) -> None:
    emu = _start(fresh_emulator)
    assert _call(emu).headers["x-ms-ratelimit-remaining-subscription-reads"] == "11999"
    assert _call(emu, "DELETE").headers["x-ms-ratelimit-remaining-subscription-deletes"]


def test_sdk_retries_after_429(
    fresh_emulator: Fresh, identity_env: Callable[[RunningEmulator], None]
) -> None:
    emu = fresh_emulator(settings=Settings(throttle=True))
    if emu.router.match("GET", "/subscriptions") is None:  # without the resources provider
        emu.router.add("GET", "/subscriptions", lambda _c, _r, _p: Response(200, {"value": []}))
    emu.configure(throttle_limits={"reads": {"burst": 1, "per_second": 1}})
    identity_env(emu)
    with ManagedIdentityCredential(connection_verify=emu.info.ca_bundle) as cred:
        client = SubscriptionClient(cred, **emu.sdk_kwargs())
        list(client.subscriptions.list())
        emu.reset_stats()
        started = time.monotonic()
        list(client.subscriptions.list())  # first try is throttled; the SDK waits and retries
        elapsed = time.monotonic() - started
    stats = emu.stats()["by_status"]
    assert stats.get("429") == 1
    assert stats.get("200") == 1
    assert elapsed >= 0.9


def test_error_rate_injects_seeded_500_and_503(fresh_emulator: Fresh) -> None:
    def statuses(emu: RunningEmulator) -> list[tuple[int, str | None]]:
        out = []
        for _ in range(30):
            resp = _call(emu)
            out.append((resp.status_code, resp.headers.get("Retry-After")))
        return out

    first = statuses(_start(fresh_emulator, error_rate=1.0, seed=7))
    again = statuses(_start(fresh_emulator, error_rate=1.0, seed=7))
    other = statuses(_start(fresh_emulator, error_rate=1.0, seed=8))
    assert first == again
    assert first != other
    assert {s for s, _ in first} == {500, 503}
    assert all(ra is None for s, ra in first if s == 500)
    assert {ra for s, ra in first if s == 503} == {None, "1"}


def test_error_rate_spares_admin_and_token_endpoint(fresh_emulator: Fresh) -> None:
    emu = _start(fresh_emulator, error_rate=1.0, drop_rate=0.0)
    assert _admin(emu, "GET", "/_emulator/settings").status_code == 200
    resp = requests.get(
        emu.info.identity_endpoint,
        params={"api-version": "2019-08-01", "resource": "https://management.azure.com/"},
        headers={"X-IDENTITY-HEADER": emu.info.identity_header},
        verify=emu.info.ca_bundle,
        timeout=10,
    )
    assert resp.status_code == 200
    emu.configure(token_endpoint_faults=True)
    resp = requests.get(
        emu.info.identity_endpoint,
        params={"api-version": "2019-08-01", "resource": "https://management.azure.com/"},
        headers={"X-IDENTITY-HEADER": emu.info.identity_header},
        verify=emu.info.ca_bundle,
        timeout=10,
    )
    assert resp.status_code in (500, 503)


def test_dropped_connections_reset_without_an_answer(fresh_emulator: Fresh) -> None:
    emu = _start(fresh_emulator, drop_rate=1.0)
    with pytest.raises(requests.ConnectionError):
        _call(emu)
    assert _admin(emu, "GET", "/_emulator/stats").json()["by_status"] == {"dropped": 1}
    emu.configure(drop_rate=0.0)
    assert _call(emu).status_code == 200


def test_latency_is_added_to_arm_requests(fresh_emulator: Fresh) -> None:
    emu = _start(fresh_emulator, latency_ms=150)
    _call(emu)  # warm the connection-independent paths
    started = time.monotonic()
    assert _call(emu).status_code == 200
    assert time.monotonic() - started >= 0.15


def test_stats_count_by_method_route_and_status_and_reset(fresh_emulator: Fresh) -> None:
    emu = _start(fresh_emulator)
    assert _admin(emu, "POST", "/_emulator/stats/reset").json()["total"] == 0
    _call(emu)
    _call(emu, "PUT")
    _call(emu, "GET", "/nowhere")
    stats = _admin(emu, "GET", "/_emulator/stats").json()
    assert stats["total"] == 3
    assert stats["by_method"] == {"GET": 2, "PUT": 1}
    assert stats["by_route"]["test.echo"] == 2
    assert stats["by_status"] == {"200": 2, "404": 1}
    emu.reset_stats()
    assert emu.stats()["total"] == 0


def test_settings_can_be_read_and_changed_at_run_time(fresh_emulator: Fresh) -> None:
    emu = _start(fresh_emulator)
    settings = _admin(emu, "GET", "/_emulator/settings").json()
    assert settings["throttle"] is False
    assert settings["throttle_limits"]["reads"] == {"burst": 250, "per_second": 25}
    changed = _admin(
        emu, "PATCH", "/_emulator/settings", json={"latency_ms": 5, "enforce_rbac": False}
    )
    assert changed.status_code == 200
    assert changed.json()["latency_ms"] == 5.0
    assert emu.settings.latency_ms == 5.0
    for bad in ({"nope": 1}, {"error_rate": 2}, {"throttle": "yes"}, {"page_size": 0}):
        resp = _admin(emu, "PATCH", "/_emulator/settings", json=bad)
        assert resp.status_code == 400, bad
        assert resp.json()["error"]["code"] == "InvalidSettings"
    assert emu.settings.latency_ms == 5.0


def test_retry_after_is_kept_only_where_clients_should_wait(fresh_emulator: Fresh) -> None:
    emu = _start(fresh_emulator)
    path = "/subscriptions/11111111-1111-1111-1111-111111111111/providers/Test.Emulator/ra"

    def answer(status: int) -> Callable[[Context, Request, dict[str, str]], Response]:
        return lambda _c, _r, _p: Response(status, {}, {"Retry-After": "1"})

    for status in (202, 409, 503):
        emu.router.add("GET", f"{path}{status}", answer(status))
    assert _call(emu, "GET", f"{path}202").headers.get("Retry-After") == "1"
    assert "Retry-After" not in _call(emu, "GET", f"{path}409").headers
    assert _call(emu, "GET", f"{path}503").headers.get("Retry-After") == "1"


def test_seed_setting_reseeds_fault_choices(fresh_emulator: Fresh) -> None:
    emu = _start(fresh_emulator, error_rate=1.0, seed=11)
    first = [_call(emu).status_code for _ in range(12)]
    emu.configure(seed=11)
    assert [_call(emu).status_code for _ in range(12)] == first
