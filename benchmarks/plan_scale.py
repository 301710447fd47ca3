"""What a no-change plan costs on a realistic estate, against a Terraform-style refresh.

The estate (`realistic_estate.py`): by default 1,000 user-assigned identities over 5
subscriptions, 5,000 grants of ours and 5,000 that are not (2,000 per subscription, under ARM's
4,000), all matching generated specs. The emulator serves it from its own process with ARM's
read throttling on (250 burst, 25 per second per principal and subscription) and latency that
grows with the answer (default 30 ms + 0.5 ms per item listed), for both sides alike.

Measured, each in its own process (so peak RSS is its own):
  plan       validate the specs, read live state in bulk, diff (our `plan`, no changes
             expected). The specs have no `federated_credentials:` key, so credentials are
             neither managed nor read
  plan-fics  (--fics) the same with `federated_credentials: []` on every identity: one
             credential list per identity, as ARM has no bulk list of them
  refresh    Terraform-style refresh: 1 GET per identity, 2 per grant (assignment, then its
             role definition, as azurerm's read does), 10 at a time (Terraform's default
             -parallelism), through the same SDK clients. A 429 is waited out for exactly the
             Retry-After ARM sent and tried again, as Terraform's Azure SDK does; every attempt
             is counted. Objects are read interleaved over subscriptions, so every
             subscription's bucket is drawn on (the refresh's best case)

Plans run first, each with full buckets; the refresh runs last (it empties them).

    python benchmarks/plan_scale.py [--identities 1000] [--subscriptions 5] [--groups 10]
        [--grants N] [--unrelated N] [--latency-ms 30] [--per-item-ms 0.5] [--no-throttle]
        [--repeat 3] [--refresh-repeat 1] [--no-refresh] [--fics] [--profile DIR]

The last line printed is one JSON object (identities, grants, subscriptions, requests, wall_s,
cpu_s, rss_mb, refresh_requests, refresh_wall_s, speedup, per_item_ms, read_throttle).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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

from identity_reconciler.core import gctune


def child_plan(info: Any, specs: str) -> dict[str, Any]:
    from identity_reconciler.azure.clients import connect_emulator
    from identity_reconciler.azure.reader import read_live
    from identity_reconciler.plan import compute_plan
    from identity_reconciler.spec import validate

    def run() -> dict[str, Any]:
        t0, c0 = time.perf_counter(), time.process_time()
        result = validate([specs])
        assert result.desired is not None, [str(f) for f in result.errors][:3]
        t1, c1 = time.perf_counter(), time.process_time()
        rss_validate = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with connect_emulator(info) as session:
            live = read_live(session, result.desired)
            by_method = session.counter.by_method()
        t2, c2 = time.perf_counter(), time.process_time()
        rss_read = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        plan = compute_plan(result.desired, live)
        t3, c3 = time.perf_counter(), time.process_time()
        credential_lists = sum(
            1 for i in live.identities.values() if i.federated_credentials is not None)
        return {"requests": live.requests, "by_method": by_method,
                "credential_lists": credential_lists, "changes": len(plan.changes),
                "errors": len(plan.errors), "validate_s": t1 - t0, "read_s": t2 - t1,
                "diff_s": t3 - t2, "validate_cpu_s": c1 - c0, "read_cpu_s": c2 - c1,
                "diff_cpu_s": c3 - c2, "identities": len(live.identities),
                "grants": len(live.grants), "rss_validate_mb": rss_validate,
                "rss_read_mb": rss_read}

    return est.measure(run)


def child_refresh(info: Any, ids_file: str, parallelism: int) -> dict[str, Any]:
    from azure.core.exceptions import HttpResponseError

    from identity_reconciler.azure.clients import connect_emulator

    data = json.loads(Path(ids_file).read_text())

    def run() -> dict[str, Any]:
        throttled = 0
        # No SDK retries: this loop waits out each 429 itself, for exactly its Retry-After.
        with connect_emulator(info, retries=0) as session:

            def patient(call: Any) -> Any:
                nonlocal throttled
                while True:
                    try:
                        return call()
                    except HttpResponseError as exc:
                        if exc.status_code != 429 or exc.response is None:
                            raise
                        throttled += 1
                        headers = getattr(exc.response, "headers", {})
                        time.sleep(float(headers.get("Retry-After") or 1))

            def identity(sub: str, rg: str, name: str) -> None:
                patient(lambda: session.msi(sub).user_assigned_identities.get(rg, name))

            def grant(assignment_id: str) -> None:
                sub = assignment_id.split("/")[2]
                auth = session.authorization(sub)
                ra = patient(lambda: auth.role_assignments.get_by_id(assignment_id))
                patient(lambda: auth.role_definitions.get_by_id(ra.role_definition_id))

            with ThreadPoolExecutor(parallelism) as pool:
                futures = [pool.submit(identity, *i) for i in data["identities"]]
                futures += [pool.submit(grant, g) for g in data["grants"]]
                for f in futures:
                    f.result()
            return {"requests": session.requests, "throttled": throttled,
                    "by_method": session.counter.by_method()}

    return est.measure(run)


def child(args: argparse.Namespace) -> int:
    info = SimpleNamespace(**json.loads(Path(args.info).read_text()))
    if args.child in ("plan", "plan-fics"):
        gctune.cap_malloc_arenas()  # as the console script does for its own process
        result = est.profiled(args.profile, lambda: child_plan(info, args.specs))
    else:
        result = child_refresh(info, args.ids, args.parallelism)
    print(json.dumps(result))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--identities", type=int, default=1000)
    ap.add_argument("--subscriptions", type=int, default=5)
    ap.add_argument("--groups", type=int, default=10, help="resource groups per subscription")
    ap.add_argument("--grants", type=int, default=-1, help="ours in all (default 5 per identity)")
    ap.add_argument("--unrelated", type=int, default=-1, help="not ours (default: as many)")
    ap.add_argument("--latency-ms", type=float, default=30.0, help="per request")
    ap.add_argument("--per-item-ms", type=float, default=0.5, help="per item an answer lists")
    ap.add_argument("--no-throttle", action="store_true", help="ARM's read bucket off")
    ap.add_argument("--page-size", type=int, default=1000, help="emulator list page size")
    ap.add_argument("--parallelism", type=int, default=10, help="of the per-object refresh")
    ap.add_argument("--repeat", type=int, default=3, help="plan runs; the median is reported")
    ap.add_argument("--refresh-repeat", type=int, default=1)
    ap.add_argument("--no-refresh", action="store_true", help="plan only (speedup: null)")
    ap.add_argument("--fics", action="store_true", help="also the plan managing credentials")
    ap.add_argument("--profile", metavar="DIR",
                    help="write cProfile stats of the plan children to DIR/<mode>.prof")
    ap.add_argument("--child", choices=("plan", "plan-fics", "refresh"), help=argparse.SUPPRESS)
    ap.add_argument("--info", help=argparse.SUPPRESS)
    ap.add_argument("--specs", help=argparse.SUPPRESS)
    ap.add_argument("--ids", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)

    estate = est.Estate(args.identities, args.subscriptions, args.groups, args.grants,
                        args.unrelated)
    per_sub = estate.per_subscription()
    work = Path(tempfile.mkdtemp(prefix="plan-scale-"))
    try:
        world_file = work / "world.json"
        world_file.write_text(json.dumps(est.world(estate)))
        specs, fics, state = work / "specs", work / "specs-fics", work / "state"
        est.write_specs(specs, estate)
        if args.fics:
            est.write_specs(fics, estate, credentials=True)
        t0 = time.perf_counter()
        ids = est.seed(state, world_file, estate)
        print(f"seeded {len(ids['identities'])} identities over {args.subscriptions} "
              f"subscriptions, {len(ids['grants'])} grants of ours and "
              f"{estate.unrelated_grants} unrelated (at most {max(per_sub.values())} per "
              f"subscription) in {time.perf_counter() - t0:.1f} s")
        ours = {"identities": est.interleave(ids["identities"], lambda i: i[0]),
                "grants": est.interleave(ids["grants"], lambda g: g.split("/")[2])}
        (work / "ids.json").write_text(json.dumps(ours))
        knobs = ["--latency-ms", str(args.latency_ms), "--latency-per-item-ms",
                 str(args.per_item_ms), "--page-size", str(args.page_size)]
        if not args.no_throttle:
            knobs.append("--throttle-reads")
        proc, served = est.serve(state, world_file, knobs)
        try:
            info_file = work / "info.json"
            info_file.write_text(json.dumps(served))
            load = os.getloadavg()
            print(f"emulator: {args.latency_ms:g} ms + {args.per_item_ms:g} ms per item, "
                  f"read throttling {'off' if args.no_throttle else 'on'}, page size "
                  f"{args.page_size}; load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} on "
                  f"{os.cpu_count()} cpus")
            prof = args.profile and str(Path(args.profile).resolve())
            pause = 0.0 if args.no_throttle else 12.0  # 250 tokens at 25/s, and some
            plan = est.run_child(__file__, "plan", info_file, "--specs", str(specs),
                                 *(["--profile", f"{prof}/plan.prof"] if prof else []),
                                 repeat=args.repeat)
            plan_fics = None
            if args.fics:
                time.sleep(pause)
                plan_fics = est.run_child(
                    __file__, "plan-fics", info_file, "--specs", str(fics),
                    *(["--profile", f"{prof}/plan-fics.prof"] if prof else []),
                    repeat=args.repeat, pause_s=pause)
            refresh = None
            if not args.no_refresh:
                refresh = est.run_child(
                    __file__, "refresh", info_file, "--ids", str(work / "ids.json"),
                    "--parallelism", str(args.parallelism), repeat=args.refresh_repeat,
                    pause_s=pause)
            load_after = os.getloadavg()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"load average after: {load_after[0]:.1f} {load_after[1]:.1f} {load_after[2]:.1f}")
    report(plan, plan_fics, refresh, args, len(ids["grants"]) + estate.unrelated_grants)
    return 0


def report(plan: dict[str, Any], fics: dict[str, Any] | None, refresh: dict[str, Any] | None,
           args: argparse.Namespace, grants_total: int) -> None:
    print()
    print(f"{'':40}{'requests':>9}{'wall s':>8}{'cpu s':>7}{'peak MB':>9}{'imports s':>11}")
    rows: list[tuple[str, dict[str, Any]]] = [("(a)  our plan, no changes", plan)]
    if fics:
        rows.append(("(a*) same, credentials managed", fics))
    if refresh:
        rows.append((f"(b)  per-object refresh (x{args.parallelism})", refresh))
    for label, r in rows:
        print(f"{label:40}{r['requests']:>9}{r['wall_s']:>8.2f}{r['cpu_s']:>7.2f}"
              f"{r['peak_rss_mb']:>9.0f}{r['startup_s']:>11.2f}   walls {r['walls']}")
    print()
    for label, f in (("(a) ", plan), ("(a*)", fics)):
        if f is None:
            continue
        r = f
        print(f"{label} {r['changes']} changes, {r['errors']} errors; wall: validate "
              f"{r['validate_s']:.2f} s, read {r['read_s']:.2f} s, diff {r['diff_s']:.2f} s; "
              f"cpu: validate {r['validate_cpu_s']:.2f} s, read {r['read_cpu_s']:.2f} s, diff "
              f"{r['diff_cpu_s']:.2f} s; kept {r['identities']} identities, {r['grants']} "
              f"grants; {r['credential_lists']} credential lists; requests {r['by_method']}; "
              f"peak RSS after validate {r['rss_validate_mb']:.0f} MB, after read "
              f"{r['rss_read_mb']:.0f} MB")
    speedup = None
    if refresh:
        speedup = refresh["wall_s"] / plan["wall_s"]
        print(f"(b)  {refresh['requests']} requests of which {refresh['throttled']} answered "
              f"429; speed-up of (a) over (b), wall: {speedup:.1f}x (target >= 20x)")
    print(f"requests of (a): {plan['requests']} (target <= 100)")
    print(json.dumps({
        "identities": args.identities, "grants": grants_total,
        "subscriptions": args.subscriptions, "requests": plan["requests"],
        "wall_s": round(plan["wall_s"], 3), "cpu_s": round(plan["cpu_s"], 3),
        "rss_mb": round(plan["peak_rss_mb"], 1),
        "refresh_requests": refresh["requests"] if refresh else None,
        "refresh_wall_s": round(refresh["wall_s"], 2) if refresh else None,
        "speedup": round(speedup, 1) if speedup else None,
        "per_item_ms": args.per_item_ms, "read_throttle": not args.no_throttle,
    }))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
