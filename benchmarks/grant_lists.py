"""Which way of listing a subscription's role assignments is fastest when pages cost their size?

ARM pages a list with opaque skip tokens, so the pages of one list come one after another; with
latency that grows per item, the subscription's list is a chain of big, slow pages. Two ways
split it into requests that can run side by side:

  pages      one list per subscription, following nextLink (the baseline)
  groups     `atScope()` at the subscription (what is at or above it) plus one unfiltered
             list per resource group (at, above and below it; the above part is dropped as a
             duplicate), all in parallel, after one list of the resource groups
  principals one `principalId eq '{id}'` list per identity we know (ARM takes one principal
             per filter: a batch is one request per principal), all in parallel

Each runs in a fresh process against the estate of `realistic_estate.py` (default 1,000
identities over 5 subscriptions, 2,000 assignments each), served with the realism knobs, after
the read bucket has refilled. `principals` finds only our identities' assignments (5,000), which
is all a plan needs apart from owned orphans; the other two find every assignment. Printed:
requests, wall and CPU seconds, assignments kept, per way, median of `--repeat` runs.

    python benchmarks/grant_lists.py [--identities 1000] [--subscriptions 5] [--groups 10]
        [--latency-ms 30] [--per-item-ms 0.5] [--threads 16] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import realistic_estate as est  # a sibling module, found through the path set above

WAYS = ("pages", "groups", "principals")
RA = "/providers/Microsoft.Authorization/roleAssignments"


def child(way: str, info: Any, threads: int, principals: list[list[str]]) -> dict[str, Any]:
    from identity_reconciler.azure import reader
    from identity_reconciler.azure.clients import connect_emulator

    api = reader.AUTHORIZATION_API

    def run() -> dict[str, Any]:
        with connect_emulator(info) as session:
            subs = list(info.subscription_ids)

            def items(sub: str, path: str, flt: str | None = None) -> list[dict[str, Any]]:
                params = {"$filter": flt} if flt else None
                return list(reader._pages(session, sub, path, api, params))

            def groups_of(sub: str) -> list[str]:
                ops = session.resources(sub).resource_groups
                return [f"/subscriptions/{sub}/resourceGroups/{g.name}" for g in ops.list()]

            with ThreadPoolExecutor(threads) as pool:
                if way == "pages":
                    futs = [pool.submit(items, s, f"/subscriptions/{s}{RA}") for s in subs]
                elif way == "groups":
                    futs = [pool.submit(items, s, f"/subscriptions/{s}{RA}", "atScope()")
                            for s in subs]
                    rgs = [(s, f) for s in subs for f in [pool.submit(groups_of, s)]]
                    futs += [pool.submit(items, s, f"{rg}{RA}")
                             for s, f in rgs for rg in f.result()]
                else:
                    futs = [pool.submit(items, s, f"/subscriptions/{s}{RA}",
                                        f"principalId eq '{p}'") for s, p in principals]
                found = {str(b["id"]).lower() for f in futs for b in f.result()}
            return {"requests": session.requests, "assignments": len(found)}

    return est.measure(run)


def principals_of(info: Any) -> list[tuple[str, str]]:
    from identity_reconciler.azure import reader
    from identity_reconciler.azure.clients import connect_emulator

    with connect_emulator(info) as session:
        return [(s, i.principal_id) for s in info.subscription_ids
                for i in reader.list_identities(session, s)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--identities", type=int, default=1000)
    ap.add_argument("--subscriptions", type=int, default=5)
    ap.add_argument("--groups", type=int, default=10, help="resource groups per subscription")
    ap.add_argument("--latency-ms", type=float, default=30.0)
    ap.add_argument("--per-item-ms", type=float, default=0.5)
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--child", choices=WAYS, help=argparse.SUPPRESS)
    ap.add_argument("--info", help=argparse.SUPPRESS)
    ap.add_argument("--principals", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        info = SimpleNamespace(**json.loads(Path(args.info).read_text()))
        principals = json.loads(Path(args.principals).read_text())
        print(json.dumps(child(args.child, info, args.threads, principals)))
        return 0

    estate = est.Estate(args.identities, args.subscriptions, args.groups)
    estate.per_subscription()
    work = Path(tempfile.mkdtemp(prefix="grant-lists-"))
    try:
        world_file = work / "world.json"
        world_file.write_text(json.dumps(est.world(estate)))
        est.seed(work / "state", world_file, estate)
        knobs = ["--latency-ms", str(args.latency_ms), "--latency-per-item-ms",
                 str(args.per_item_ms), "--throttle-reads"]
        proc, served = est.serve(work / "state", world_file, knobs)
        try:
            info_file = work / "info.json"
            info_file.write_text(json.dumps(served))
            pfile = work / "principals.json"
            pfile.write_text(json.dumps(principals_of(SimpleNamespace(**served))))
            load = os.getloadavg()
            print(f"{args.identities} identities over {args.subscriptions} subscriptions x "
                  f"{args.groups} groups; {args.latency_ms:g} ms + {args.per_item_ms:g} ms/item, "
                  f"read throttling on, {args.threads} threads; load average {load[0]:.1f}")
            rows = {}
            for way in WAYS:
                time.sleep(12)  # the read bucket back to full
                rows[way] = est.run_child(__file__, way, info_file, "--threads",
                                          str(args.threads), "--principals", str(pfile),
                                          repeat=args.repeat, pause_s=12)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'way':12}{'requests':>9}{'wall s':>8}{'cpu s':>7}{'found':>7}   walls")
    for way, r in rows.items():
        print(f"{way:12}{r['requests']:>9}{r['wall_s']:>8.2f}{r['cpu_s']:>7.2f}"
              f"{r['assignments']:>7}   {r['walls']}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
