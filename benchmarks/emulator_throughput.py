"""Emulator throughput on loopback, through real HTTPS keep-alive clients.

Runs `identity-reconciler emulator serve` as its own process (as users run it) and measures:
1. GET throughput with a few keep-alive clients in threads (bounded by count and time), once
   with requests (what SDK clients use) and once with http.client (lighter, so the figure is
   closer to the server's own limit);
2. that 50 concurrent clients are all answered without errors;
3. listing N role assignments through azure-mgmt-authorization (seeded beforehand with
   `seed_assignment` into the state directory the server then opens).

    python benchmarks/emulator_throughput.py [--clients 8] [--requests 4000] [--seconds 20]
        [--concurrent 50] [--assignments 5000]

Prints requests, seconds and requests/s per part; exits 1 if any request failed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

ARM = "https://management.azure.com/"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"


@dataclass
class Tally:
    ok: int = 0
    errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, ok: bool) -> None:
        with self.lock:
            if ok:
                self.ok += 1
            else:
                self.errors += 1


def seed_assignments(state: Path, count: int) -> tuple[str | None, float]:
    """Seed `count` Reader assignments (spread over resource groups) into a state directory."""
    from local_azure.api import running
    from local_azure.providers import authorization

    with running(state_dir=state) as emu:
        if not emu.info.subscription_ids:
            return None, 0.0
        sub = emu.info.subscription_ids[0]
        started = time.perf_counter()
        for i in range(count):
            scope = f"/subscriptions/{sub}/resourceGroups/rg-bench-{i % 50:02d}"
            authorization.seed_assignment(
                emu.context, scope, READER, str(uuid.UUID(int=i + 1)), "ServicePrincipal"
            )
        return sub, time.perf_counter() - started


def start_server(state: Path) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "identity_reconciler", "emulator", "serve", "--state", str(state)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(10)
        raise SystemExit("the emulator did not start")
    return proc, json.loads(line)


def get_token(info: dict[str, Any]) -> str:
    resp = requests.get(
        info["identity_endpoint"],
        params={"api-version": "2019-08-01", "resource": ARM},
        headers={"X-IDENTITY-HEADER": info["identity_header"]},
        verify=info["ca_bundle"],
        timeout=10,
    )
    resp.raise_for_status()
    return str(resp.json()["access_token"])


def hammer(
    info: dict[str, Any], url: str, token: str, clients: int, total: int, seconds: float
) -> tuple[Tally, float]:
    """`clients` threads, one keep-alive session each, sharing a budget of `total` GETs."""
    tally = Tally()
    budget = iter(range(total))
    budget_lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client() -> None:
        with requests.Session() as session:
            # per-request verify: a session-level one loses to REQUESTS_CA_BUNDLE in requests
            verify = info["ca_bundle"]
            session.headers["Authorization"] = f"Bearer {token}"
            while time.monotonic() < deadline:
                with budget_lock:
                    if next(budget, None) is None:
                        return
                try:
                    resp = session.get(url, timeout=30, verify=verify)
                    tally.add(resp.status_code == 200)
                except requests.RequestException:
                    tally.add(False)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally, time.perf_counter() - started


def hammer_raw(
    info: dict[str, Any], url: str, token: str, clients: int, total: int
) -> tuple[Tally, float]:
    """Like `hammer` with http.client: shows what the server sustains when clients are light."""
    tally = Tally()
    parts = urlsplit(url)
    target = f"{parts.path}?{parts.query}"

    def client(n: int) -> None:
        ctx = ssl.create_default_context(cafile=info["ca_bundle"])
        conn = http.client.HTTPSConnection(
            parts.hostname or "", parts.port, context=ctx, timeout=30
        )
        try:
            for _ in range(n):
                conn.request("GET", target, headers={"Authorization": f"Bearer {token}"})
                resp = conn.getresponse()
                resp.read()
                tally.add(resp.status == 200)
        except OSError:
            tally.add(False)
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(total // clients,)) for _ in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally, time.perf_counter() - started


def list_assignments(info: dict[str, Any], sub: str) -> tuple[int, float]:
    from azure.identity import ManagedIdentityCredential
    from azure.mgmt.authorization import AuthorizationManagementClient

    os.environ["IDENTITY_ENDPOINT"] = info["identity_endpoint"]
    os.environ["IDENTITY_HEADER"] = info["identity_header"]
    with ManagedIdentityCredential(connection_verify=info["ca_bundle"]) as cred:
        client = AuthorizationManagementClient(
            cred,
            sub,
            base_url=info["endpoint"],
            credential_scopes=[ARM + ".default"],
            connection_verify=info["ca_bundle"],
        )
        client.role_definitions.get(f"/subscriptions/{sub}", READER)  # token + connection warm
        started = time.perf_counter()
        count = sum(1 for _ in client.role_assignments.list_for_subscription())
        return count, time.perf_counter() - started


def report(name: str, tally: Tally, seconds: float) -> None:
    total = tally.ok + tally.errors
    print(
        f"{name}: requests={total} ok={tally.ok} errors={tally.errors} "
        f"seconds={seconds:.2f} req/s={total / seconds:.0f}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--assignments", type=int, default=5000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="emulator-bench-") as tmp:
        state = Path(tmp) / "state"
        sub, seeding = seed_assignments(state, args.assignments)
        print(f"seeded {args.assignments} role assignments in {seeding:.2f} s")
        proc, info = start_server(state)
        try:
            token = get_token(info)
            path = f"/subscriptions/{sub}" if sub else "/subscriptions"
            url = f"{info['endpoint']}{path}?api-version=2022-12-01"
            tally, seconds = hammer(info, url, token, args.clients, args.requests, args.seconds)
            report(f"GET throughput ({args.clients} requests.Session clients)", tally, seconds)
            failed = tally.errors

            tally, seconds = hammer_raw(info, url, token, args.clients, args.requests)
            report(f"GET throughput ({args.clients} http.client clients)", tally, seconds)
            failed += tally.errors

            per_client = 20
            tally, seconds = hammer(
                info, url, token, args.concurrent, args.concurrent * per_client, args.seconds
            )
            report(f"{args.concurrent} concurrent clients", tally, seconds)
            failed += tally.errors

            if sub is None:
                print("no subscription in the world: role assignment listing skipped")
                return 1
            count, seconds = list_assignments(info, sub)
            print(
                f"list role assignments (azure-mgmt-authorization): items={count} "
                f"seconds={seconds:.2f} items/s={count / seconds:.0f}"
            )
            if count < args.assignments:
                print(f"expected at least {args.assignments} assignments, got {count}")
                failed += 1
        finally:
            proc.send_signal(signal.SIGTERM)
            code = proc.wait(30)
            print(f"server exit code {code}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
