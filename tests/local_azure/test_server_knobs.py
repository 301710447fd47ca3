"""Realism knobs for benchmarks, through the real SDK: latency that grows with the answer
(per item listed, per KiB) and ARM's read bucket on its own (250 burst, 25/s per principal
and subscription, 429 with Retry-After)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.identity import ManagedIdentityCredential
from azure.mgmt.msi import ManagedServiceIdentityClient

from local_azure.api import RunningEmulator
from local_azure.faults import items_in
from local_azure.kernel import Settings

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
Fresh = Callable[..., RunningEmulator]


@pytest.fixture
def cloud(
    fresh_emulator: Fresh, identity_env: Callable[[RunningEmulator], None]
) -> Iterator[Callable[[Settings], tuple[RunningEmulator, ManagedServiceIdentityClient]]]:
    clients: list[Any] = []

    def make(settings: Settings) -> tuple[RunningEmulator, ManagedServiceIdentityClient]:
        emu = fresh_emulator(settings=settings)
        identity_env(emu)
        cred = ManagedIdentityCredential(connection_verify=emu.info.ca_bundle)
        # No retries: the test sees each 429 itself.
        client = ManagedServiceIdentityClient(cred, SUB, retry_total=0, **emu.sdk_kwargs())
        clients.extend([client, cred])
        return emu, client

    yield make
    for c in reversed(clients):
        c.close()


def _admin(emu: RunningEmulator, method: str, **kw: Any) -> requests.Response:
    return requests.request(
        method,
        emu.info.endpoint + "/_emulator/settings",
        headers={"X-IDENTITY-HEADER": emu.info.identity_header},
        verify=emu.info.ca_bundle,
        timeout=10,
        **kw,
    )


def test_items_are_counted_as_listed() -> None:
    assert items_in({"value": [1, 2, 3], "nextLink": "x"}) == 3
    assert items_in({"id": "/x", "name": "x"}) == 1
    assert items_in({"error": {"code": "NotFound"}}) == 0
    assert items_in(None) == 0


def test_latency_grows_with_items_listed(cloud: Callable[..., Any]) -> None:
    emu, msi = cloud(Settings())
    for i in range(12):
        name = f"id-lat-{i:02d}"
        msi.user_assigned_identities.create_or_update(RG, name, {"location": "uksouth"})
    list(msi.user_assigned_identities.list_by_resource_group(RG))  # token and connection warm
    started = time.monotonic()
    list(msi.user_assigned_identities.list_by_resource_group(RG))
    baseline = time.monotonic() - started

    settings = _admin(emu, "PATCH", json={"latency_per_item_ms": 50}).json()
    assert settings["latency_per_item_ms"] == 50.0
    started = time.monotonic()
    listed = list(msi.user_assigned_identities.list_by_resource_group(RG))
    slow = time.monotonic() - started
    assert len(listed) == 12
    assert slow >= 0.6  # 12 items x 50 ms
    started = time.monotonic()
    msi.user_assigned_identities.get(RG, "id-lat-00")
    assert time.monotonic() - started < slow / 3  # one item costs one item's delay
    assert baseline < 0.6


def test_latency_grows_with_kib(cloud: Callable[..., Any]) -> None:
    emu, msi = cloud(Settings(latency_per_kib_ms=400))
    msi.user_assigned_identities.create_or_update(
        RG, "id-big", {"location": "uksouth", "tags": {f"t{i:02d}": "v" * 200 for i in range(15)}}
    )
    started = time.monotonic()
    msi.user_assigned_identities.get(RG, "id-big")  # > 3 KiB: at least 1.2 s
    assert time.monotonic() - started >= 1.2
    emu.configure(latency_per_kib_ms=0)
    started = time.monotonic()
    msi.user_assigned_identities.get(RG, "id-big")
    assert time.monotonic() - started < 1.2


def test_knobs_are_off_by_default_and_validated(fresh_emulator: Fresh) -> None:
    emu = fresh_emulator()
    settings = _admin(emu, "GET").json()
    assert settings["latency_per_item_ms"] == 0.0
    assert settings["latency_per_kib_ms"] == 0.0
    assert settings["throttle_reads"] is False
    assert settings["throttle_limits"]["reads"] == {"burst": 250, "per_second": 25}
    for bad in ({"latency_per_item_ms": -1}, {"latency_per_kib_ms": "1"}, {"throttle_reads": 1}):
        resp = _admin(emu, "PATCH", json=bad)
        assert resp.status_code == 400, bad
        assert resp.json()["error"]["code"] == "InvalidSettings"


def test_read_throttling_alone_at_arm_limits(cloud: Callable[..., Any]) -> None:
    emu, msi = cloud(Settings(throttle_reads=True))
    msi.user_assigned_identities.create_or_update(RG, "id-read", {"location": "uksouth"})
    served = 0
    exc: HttpResponseError | None = None
    while served < 3000:  # 250 burst plus 25/s of refill: reads faster than 25/s run it dry
        try:
            msi.user_assigned_identities.get(RG, "id-read")
        except HttpResponseError as err:
            exc = err
            break
        served += 1
    assert served > 250  # the burst was served first
    assert exc is not None
    assert exc.status_code == 429
    assert exc.error is not None
    assert exc.error.code == "SubscriptionRequestsThrottled"
    assert exc.response is not None
    assert int(exc.response.headers["Retry-After"]) >= 1  # type: ignore[attr-defined]
    # writes keep their own, unthrottled budget
    msi.user_assigned_identities.create_or_update(RG, "id-write", {"location": "uksouth"})
    # another principal has its own bucket
    other = emu.issue_token(_new_sp(emu))
    resp = requests.get(
        f"{emu.info.endpoint}/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/id-read?api-version=2024-11-30",
        headers={"Authorization": f"Bearer {other}"},
        verify=emu.info.ca_bundle,
        timeout=10,
    )
    assert resp.status_code == 200
    assert int(resp.headers["x-ms-ratelimit-remaining-subscription-reads"]) == 249
    # switched off at run time, reads pass again
    assert _admin(emu, "PATCH", json={"throttle_reads": False}).status_code == 200
    msi.user_assigned_identities.get(RG, "id-read")


def _new_sp(emu: RunningEmulator) -> str:
    """A second principal: the principal of a new identity."""
    msi_body = requests.put(
        f"{emu.info.endpoint}/subscriptions/{SUB}/resourceGroups/{RG}/providers/"
        "Microsoft.ManagedIdentity/userAssignedIdentities/id-other?api-version=2024-11-30",
        json={"location": "uksouth"},
        headers={"Authorization": f"Bearer {emu.issue_token()}"},
        verify=emu.info.ca_bundle,
        timeout=10,
    ).json()
    return str(msi_body["properties"]["principalId"])
