"""What the realism knobs cost a client, through the real SDK over HTTPS.

1. Latency that grows with the answer: lists N identities with page size P, with the knobs off
   and with `latency_per_item_ms` (and `latency_per_kib_ms`), and prints requests and seconds.
2. ARM's read bucket alone (`throttle_reads`: 250 burst, 25/s per principal and subscription):
   sends R reads of one identity as fast as the SDK retries allow and prints how many were
   answered 429, and the seconds they took, against the same reads unthrottled.

    python benchmarks/realism_knobs.py [--identities 200] [--page-size 50] [--per-item-ms 2]
                                       [--per-kib-ms 1] [--reads 400]
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

from azure.identity import ManagedIdentityCredential
from azure.mgmt.msi import ManagedServiceIdentityClient

from local_azure.api import RunningEmulator, Settings, running

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"


def _client(emu: RunningEmulator) -> tuple[ManagedIdentityCredential, Any]:
    os.environ.update(emu.environ())
    cred = ManagedIdentityCredential(connection_verify=emu.info.ca_bundle)
    return cred, ManagedServiceIdentityClient(cred, SUB, **emu.sdk_kwargs())


def _list(emu: RunningEmulator, msi: Any) -> tuple[int, int, float]:
    emu.reset_stats()
    started = time.monotonic()
    count = sum(1 for _ in msi.user_assigned_identities.list_by_resource_group(RG))
    return count, emu.stats()["total"], time.monotonic() - started


def latency(args: argparse.Namespace) -> None:
    with running(settings=Settings(page_size=args.page_size)) as emu:
        cred, msi = _client(emu)
        for i in range(args.identities):
            name = f"id-{i:05d}"
            msi.user_assigned_identities.create_or_update(RG, name, {"location": "uksouth"})
        rows = [("off", *_list(emu, msi))]
        emu.configure(latency_per_item_ms=args.per_item_ms)
        rows.append((f"{args.per_item_ms} ms/item", *_list(emu, msi)))
        emu.configure(latency_per_item_ms=0, latency_per_kib_ms=args.per_kib_ms)
        rows.append((f"{args.per_kib_ms} ms/KiB", *_list(emu, msi)))
        msi.close()
        cred.close()
    base = rows[0][3]
    print(f"list {args.identities} identities, page size {args.page_size}")
    print(f"{'knob':>14} {'items':>6} {'requests':>9} {'seconds':>8} {'x off':>6}")
    for knob, items, requests, seconds in rows:
        print(f"{knob:>14} {items:>6} {requests:>9} {seconds:>8.2f} {seconds / base:>6.1f}")


def reads(args: argparse.Namespace) -> None:
    print(f"\n{args.reads} reads of one identity, SDK retries on")
    print(f"{'bucket':>14} {'requests':>9} {'429s':>5} {'seconds':>8}")
    for label, settings in (("off", Settings()), ("reads only", Settings(throttle_reads=True))):
        with running(settings=settings) as emu:
            cred, msi = _client(emu)
            msi.user_assigned_identities.create_or_update(RG, "id-read", {"location": "uksouth"})
            emu.reset_stats()
            started = time.monotonic()
            for _ in range(args.reads):
                msi.user_assigned_identities.get(RG, "id-read")
            seconds = time.monotonic() - started
            stats = emu.stats()
            msi.close()
            cred.close()
        throttled = stats["by_status"].get("429", 0)
        print(f"{label:>14} {stats['total']:>9} {throttled:>5} {seconds:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--identities", type=int, default=200)
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--per-item-ms", type=float, default=2.0)
    parser.add_argument("--per-kib-ms", type=float, default=1.0)
    parser.add_argument("--reads", type=int, default=400)
    args = parser.parse_args()
    latency(args)
    reads(args)


if __name__ == "__main__":
    main()
