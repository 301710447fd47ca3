"""How the emulator holds many concurrent clients: 50 threads, each its own TLS connection.

Starts an emulator on loopback, releases `--clients` threads at once; each sends `--requests`
requests on one keep-alive connection (every fifth a PUT of a new identity, the rest GETs of
the resource group's identity list) with the operator's token. Prints requests, errors,
wall seconds, requests per second and latency percentiles. Bounded and self-stopping.

    python benchmarks/concurrent_clients.py [--clients 50] [--requests 10]
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time

import requests

from local_azure.api import running

RG = "/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/rg-myapp-prod-uks-01"
IDENTITIES = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities"
PARAMS = {"api-version": "2023-01-31"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=10)
    args = parser.parse_args()
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    with running() as emu:
        token, ca, base = emu.issue_token(), emu.info.ca_bundle, emu.info.endpoint
        barrier = threading.Barrier(args.clients + 1)

        def client(n: int) -> None:
            with requests.Session() as http:
                http.headers["Authorization"] = f"Bearer {token}"
                barrier.wait(timeout=60)
                for i in range(args.requests):
                    started = time.perf_counter()
                    try:
                        if i % 5 == 4:
                            resp = http.put(
                                f"{base}{IDENTITIES}/id-bench-{n}-{i}",
                                params=PARAMS,
                                json={"location": "uksouth"},
                                verify=ca,
                                timeout=60,
                            )
                        else:
                            resp = http.get(base + IDENTITIES, params=PARAMS, verify=ca, timeout=60)
                        ok = resp.status_code in (200, 201)
                        problem = f"{resp.status_code}" if not ok else ""
                    except requests.RequestException as exc:
                        ok, problem = False, type(exc).__name__
                    with lock:
                        latencies.append(time.perf_counter() - started)
                        if not ok:
                            errors.append(problem)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(args.clients)]
        for t in threads:
            t.start()
        barrier.wait(timeout=60)
        started = time.perf_counter()
        for t in threads:
            t.join(timeout=300)
        wall = time.perf_counter() - started
    total = len(latencies)
    q = statistics.quantiles(latencies, n=100) if total > 1 else [0.0] * 99
    print(
        f"clients {args.clients}  requests {total:,}  errors {len(errors)}  "
        f"wall {wall:.2f} s  {total / wall:,.0f} req/s"
    )
    print(
        f"latency ms: p50 {q[49] * 1000:.1f}  p95 {q[94] * 1000:.1f}  p99 {q[98] * 1000:.1f}  "
        f"max {max(latencies) * 1000:.1f}"
    )
    if errors:
        print("errors:", sorted(set(errors))[:10])
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
