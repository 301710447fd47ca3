"""What a no-change plan costs at scale, against a per-object refresh as Terraform does it.

The estate: 1,000 user-assigned identities and 5,000 grants over 50 resource groups, all matching
generated specs, plus 5,000 grants that have nothing to do with us. It is seeded straight into
the emulator's store (no 10,000 HTTP calls), then the emulator is served from a separate
process with injected latency, so the client figures below are the client's alone.

Measured, each in its own process (so peak RSS is its own):
  plan       validate the specs, read live state in bulk, diff (our `plan`, no changes
             expected). The specs have no `federated_credentials:` key, so credentials are not
             managed and not read: the reads are the bulk lists alone
  plan-fics  the same with `federated_credentials: []` on every identity: credentials are
             managed everywhere, and since ARM has no bulk list of them that costs one list
             per identity (what a plan costs when every identity's credentials are managed)
  lists      the bulk lists alone (identities and role assignments), for scale
  refresh    Terraform-style refresh: 1 GET per identity, 2 per grant (assignment + role
             definition), parallelism 10, through the same SDK clients

The targets (at most 100 requests, at least 20x faster than the refresh, at most 300 MB)
are for `plan`.

    python benchmarks/plan_scale.py [--identities 1000] [--latency-ms 30] [--page-size 1000]
        [--profile DIR]   (also writes cProfile stats of both plans' children into DIR)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any

_STARTED = time.perf_counter()  # the child's imports are timed from here to its measured window
SUB = "11111111-1111-1111-1111-111111111111"
TENANT = "22222222-2222-2222-2222-222222222222"
OPERATOR = "5c0b2f9e-7d4a-4c61-9a8e-3f1d6b2e9a70"
ROLES = {  # role name -> guid; five grants per identity, at three scopes of its group
    "Key Vault Secrets User": ("4633458b-17de-408a-b874-0445c86b69e6", "kv"),
    "Key Vault Reader": ("21090545-7ca7-4776-b22c-e363652d74d2", "kv"),
    "Storage Blob Data Reader": ("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", "st"),
    "Storage Queue Data Reader": ("19e7f393-937e-4f77-808e-94535e297925", "st"),
    "Reader": ("acdd72a7-3385-48ef-bd42-f606fba81ae7", "rg"),
}


def group_names(g: int) -> dict[str, str]:
    rg = f"rg-bench-{g:03d}"
    base = f"/subscriptions/{SUB}/resourceGroups/{rg}"
    return {
        "rg": rg,
        "kv_name": f"kv-bench-{g:03d}",
        "st_name": f"stbench{g:03d}",
        "rg_id": base,
        "kv": f"{base}/providers/Microsoft.KeyVault/vaults/kv-bench-{g:03d}",
        "st": f"{base}/providers/Microsoft.Storage/storageAccounts/stbench{g:03d}",
    }


def world(groups: int) -> dict[str, Any]:
    return {
        "tenant_id": TENANT,
        "operator": {"object_id": OPERATOR, "app_id": "8f3e1a27-2b6c-4d95-a0e4-6c7b9d1f2e35",
                     "display_name": "identity-reconciler-operator",
                     "roles": [{"role": "Owner", "scope": f"/subscriptions/{SUB}"}]},
        "subscriptions": [{
            "id": SUB, "display_name": "Bench",
            "resource_groups": [
                {"name": n["rg"], "location": "uksouth", "tags": {}, "resources": [
                    {"type": "Microsoft.KeyVault/vaults", "name": n["kv_name"]},
                    {"type": "Microsoft.Storage/storageAccounts", "name": n["st_name"]},
                ]}
                for n in map(group_names, range(1, groups + 1))
            ],
        }],
    }


def identity_name(g: int, i: int) -> str:
    return f"id-b{g:03d}x{i:03d}-prod-uks-01"


def write_specs(directory: Path, groups: int, per_group: int, *, credentials: bool) -> None:
    """One file per group; `credentials`: every identity manages its (empty) credential set."""
    directory.mkdir(parents=True, exist_ok=True)
    for g in range(1, groups + 1):
        n = group_names(g)
        lines = [
            f"subscription: {SUB}",
            "defaults:",
            "  location: uksouth",
            f"  resource_group: {n['rg']}",
            "  tags: {app: bench, env: prod}",
            "identities:",
        ]
        for i in range(per_group):
            lines.append(f"  - name: {identity_name(g, i)}")
            if credentials:
                lines.append("    federated_credentials: []")
            lines.append("    roles:")
            for role, (_, where) in ROLES.items():
                if where == "rg":
                    scope = f"{{resource_group: {n['rg']}}}"
                elif where == "kv":
                    scope = f"{{type: Microsoft.KeyVault/vaults, name: {n['kv_name']}}}"
                else:
                    scope = f"{{type: Microsoft.Storage/storageAccounts, name: {n['st_name']}}}"
                lines.append(f"      - {{role: {role}, scope: {scope}}}")
        (directory / f"{n['rg']}.yaml").write_text("\n".join(lines) + "\n")


def seed(
    state: Path, world_file: Path, groups: int, per_group: int, unrelated: int
) -> dict[str, Any]:
    """Identities through the MSI handler (in-process), grants through `seed_assignment`."""
    from identity_reconciler.core import ownership
    from local_azure.api import running
    from local_azure.kernel import Request
    from local_azure.providers.authorization.role_assignments import seed_assignment

    rng = random.Random(7)
    identities: list[tuple[str, str]] = []
    grants: list[str] = []
    with running(state_dir=state, world=world_file) as emu:
        ctx, router = emu.context, emu.router
        with ctx.store.transaction():
            for g in range(1, groups + 1):
                n = group_names(g)
                for i in range(per_group):
                    name = identity_name(g, i)
                    body = {"location": "uksouth", "tags": {
                        "app": "bench", "env": "prod",
                        ownership.OWNER_TAG: ownership.OWNER_TAG_VALUE}}
                    req = Request("PUT", f"/subscriptions/{SUB}/resourceGroups/{n['rg']}/providers/"
                                  f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
                                  {"api-version": "2024-11-30"}, {}, json.dumps(body).encode())
                    answer, _ = router.dispatch(ctx, req)
                    assert answer.status in (200, 201), answer.body
                    assert isinstance(answer.body, dict)
                    pid = answer.body["properties"]["principalId"]
                    identities.append((n["rg"], name))
                    for guid, where in ROLES.values():
                        scope = n["rg_id"] if where == "rg" else n[where]
                        doc = seed_assignment(
                            ctx, scope, guid, pid, "ServicePrincipal",
                            ownership.assignment_name(scope, guid, pid),
                            ownership.with_marker(None))
                        grants.append(str(doc["id"]))
            guids = [guid for guid, _ in ROLES.values()]
            for _ in range(unrelated):
                n = group_names(rng.randint(1, groups))
                scope = n[rng.choice(["rg_id", "kv", "st"])]
                doc = seed_assignment(ctx, scope, rng.choice(guids),
                                      str(uuid.UUID(int=rng.getrandbits(128), version=4)), "User")
                grants.append(str(doc["id"]))
    return {"identities": identities, "grants": grants}


# --------------------------------------------------------------------------- measured children


def _measure(fn: Any) -> dict[str, Any]:
    """Wall, CPU and peak RSS of `fn`; `startup_s` is what came before it in the child (module
    imports, reading inputs), kept apart so both sides of the comparison are timed alike."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    startup = wall0 - _STARTED
    extra = fn()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": rss_mb, "startup_s": startup, **extra}


def child_plan(info: Any, specs: str) -> dict[str, Any]:
    from identity_reconciler.azure.clients import connect_emulator
    from identity_reconciler.azure.reader import read_live
    from identity_reconciler.plan import compute_plan
    from identity_reconciler.spec import validate

    def run() -> dict[str, Any]:
        t0 = time.perf_counter()
        result = validate([specs])
        assert result.desired is not None, [str(f) for f in result.errors][:3]
        t1 = time.perf_counter()
        with connect_emulator(info) as session:
            live = read_live(session, result.desired)
            by_method = session.counter.by_method()
        t2 = time.perf_counter()
        plan = compute_plan(result.desired, live)
        t3 = time.perf_counter()
        credential_lists = sum(
            1 for i in live.identities.values() if i.federated_credentials is not None)
        return {"requests": live.requests, "by_method": by_method,
                "credential_lists": credential_lists, "changes": len(plan.changes),
                "errors": len(plan.errors), "validate_s": t1 - t0, "read_s": t2 - t1,
                "diff_s": t3 - t2, "identities": len(live.identities),
                "grants": len(live.grants)}

    return _measure(run)


def child_lists(info: Any) -> dict[str, Any]:
    from identity_reconciler.azure.clients import connect_emulator
    from identity_reconciler.azure.reader import list_identities, list_subscription_grants

    def run() -> dict[str, Any]:
        with connect_emulator(info) as session:
            with ThreadPoolExecutor(2) as pool:
                ids = pool.submit(list_identities, session, SUB)
                grants = pool.submit(list_subscription_grants, session, SUB)
                counts = (len(ids.result()), len(grants.result()))
            return {"requests": session.requests, "identities": counts[0], "grants": counts[1]}

    return _measure(run)


def child_refresh(info: Any, ids_file: str, parallelism: int) -> dict[str, Any]:
    from identity_reconciler.azure.clients import connect_emulator

    data = json.loads(Path(ids_file).read_text())

    def run() -> dict[str, Any]:
        with connect_emulator(info) as session:
            msi, auth = session.msi(SUB), session.authorization(SUB)

            def identity(rg: str, name: str) -> None:
                msi.user_assigned_identities.get(rg, name)

            def grant(assignment_id: str) -> None:
                ra = auth.role_assignments.get_by_id(assignment_id)
                auth.role_definitions.get_by_id(ra.role_definition_id)

            with ThreadPoolExecutor(parallelism) as pool:
                futures = [pool.submit(identity, rg, n) for rg, n in data["identities"]]
                futures += [pool.submit(grant, g) for g in data["grants"]]
                for f in futures:
                    f.result()
            return {"requests": session.requests, "by_method": session.counter.by_method()}

    return _measure(run)


# --------------------------------------------------------------------------- orchestration


def run_child(kind: str, info_file: Path, *extra: str, repeat: int = 1) -> dict[str, Any]:
    """The run with the median wall time of `repeat` fresh child processes."""
    runs = []
    for _ in range(max(1, repeat)):
        out = subprocess.run(
            [sys.executable, __file__, "--child", kind, "--info", str(info_file), *extra],
            check=True, capture_output=True, text=True,
        )
        runs.append(dict(json.loads(out.stdout.strip().splitlines()[-1])))
    runs.sort(key=lambda r: float(r["wall_s"]))
    median = runs[len(runs) // 2]
    median["walls"] = [round(float(r["wall_s"]), 2) for r in runs]
    return median


def serve(state: Path, world_file: Path, latency_ms: float, page_size: int) -> tuple[
    subprocess.Popen[str], dict[str, Any]
]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "identity_reconciler", "emulator", "serve", "--state", str(state),
         "--world", str(world_file), "--latency-ms", str(latency_ms),
         "--page-size", str(page_size)],
        stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise SystemExit("the emulator did not start")
    return proc, dict(json.loads(line))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--identities", type=int, default=1000)
    ap.add_argument("--groups", type=int, default=50)
    ap.add_argument("--unrelated", type=int, default=5000)
    ap.add_argument("--latency-ms", type=float, default=30.0)
    ap.add_argument("--page-size", type=int, default=1000,
                    help="emulator list page size (the emulator's default, 1000)")
    ap.add_argument("--parallelism", type=int, default=10, help="of the per-object refresh")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run each measurement N times and report the median by wall time")
    ap.add_argument("--profile", metavar="DIR",
                    help="write cProfile stats of the plan children to DIR/<mode>.prof")
    ap.add_argument("--child", choices=("plan", "plan-fics", "lists", "refresh"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--info", help=argparse.SUPPRESS)
    ap.add_argument("--specs", help=argparse.SUPPRESS)
    ap.add_argument("--ids", help=argparse.SUPPRESS)
    args = ap.parse_args()

    if args.child:
        info = SimpleNamespace(**json.loads(Path(args.info).read_text()))
        if args.child in ("plan", "plan-fics"):
            result = profiled(args.profile, lambda: child_plan(info, args.specs))
        elif args.child == "lists":
            result = child_lists(info)
        else:
            result = child_refresh(info, args.ids, args.parallelism)
        print(json.dumps(result))
        return 0

    per_group = args.identities // args.groups
    work = Path(tempfile.mkdtemp(prefix="plan-scale-"))
    try:
        world_file = work / "world.json"
        world_file.write_text(json.dumps(world(args.groups)))
        specs, fics, state = work / "specs", work / "specs-fics", work / "state"
        write_specs(specs, args.groups, per_group, credentials=False)
        write_specs(fics, args.groups, per_group, credentials=True)
        t0 = time.perf_counter()
        ids = seed(state, world_file, args.groups, per_group, args.unrelated)
        print(f"seeded {len(ids['identities'])} identities, {len(ids['grants'])} grants "
              f"({len(ids['grants']) - args.unrelated} ours) in {time.perf_counter() - t0:.1f} s")
        ours = {"identities": ids["identities"],
                "grants": ids["grants"][: len(ids["grants"]) - args.unrelated]}
        (work / "ids.json").write_text(json.dumps(ours))
        proc, served = serve(state, world_file, args.latency_ms, args.page_size)
        try:
            info_file = work / "info.json"
            info_file.write_text(json.dumps(served))
            print(f"emulator: latency {args.latency_ms:g} ms, page size {args.page_size}; "
                  f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cpus; "
                  f"median of {args.repeat} run(s) each")
            n = args.repeat
            prof = args.profile and str(Path(args.profile).resolve())
            plan = run_child("plan", info_file, "--specs", str(specs),
                             *(["--profile", f"{prof}/plan.prof"] if prof else []), repeat=n)
            plan_fics = run_child("plan-fics", info_file, "--specs", str(fics),
                                  *(["--profile", f"{prof}/plan-fics.prof"] if prof else []),
                                  repeat=n)
            lists = run_child("lists", info_file, repeat=n)
            refresh = run_child("refresh", info_file, "--ids", str(work / "ids.json"),
                                "--parallelism", str(args.parallelism), repeat=n)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    report(plan, plan_fics, lists, refresh, args)
    return 0


def report(plan: dict[str, Any], fics: dict[str, Any], lists: dict[str, Any],
           refresh: dict[str, Any], args: argparse.Namespace) -> None:
    print()
    print(f"{'':44}{'requests':>9}{'wall s':>8}{'cpu s':>7}{'peak MB':>9}{'(b)/x':>8}"
          f"{'imports s':>11}")
    rows = (("(a)  our plan, no changes", plan),
            ("(a*) same, credentials managed everywhere", fics),
            ("     of which the bulk lists", lists),
            (f"(b)  per-object refresh (x{args.parallelism})", refresh))
    for label, r in rows:
        print(f"{label:44}{r['requests']:>9}{r['wall_s']:>8.2f}{r['cpu_s']:>7.2f}"
              f"{r['peak_rss_mb']:>9.0f}{refresh['wall_s'] / r['wall_s']:>7.1f}x"
              f"{r['startup_s']:>11.2f}")
    print("wall, cpu: the measured run in its own process, after its imports (column imports s);"
          " (b)/x: (b)'s wall over the row's")
    if args.repeat > 1:
        for short, r in zip(("(a)", "(a*)", "lists", "(b)"), (plan, fics, lists, refresh),
                            strict=True):
            print(f"  walls of {short}, sorted: {r['walls']}")
    print()
    for label, r in (("(a) ", plan), ("(a*)", fics)):
        print(f"{label} {r['changes']} changes, {r['errors']} errors; validate "
              f"{r['validate_s']:.2f} s, read {r['read_s']:.2f} s, diff {r['diff_s']:.2f} s; "
              f"kept {r['identities']} identities, {r['grants']} grants; "
              f"{r['credential_lists']} credential lists; requests {r['by_method']}")
    print()
    speedup = refresh["wall_s"] / plan["wall_s"]
    cold = (refresh["wall_s"] + refresh["startup_s"]) / (plan["wall_s"] + plan["startup_s"])
    checks = (("requests", f"{plan['requests']}", "<= 100", plan["requests"] <= 100),
              ("speed-up over (b), wall", f"{speedup:.1f}x", ">= 20x", speedup >= 20),
              ("peak RSS", f"{plan['peak_rss_mb']:.0f} MB", "<= 300 MB",
               plan["peak_rss_mb"] <= 300))
    print("targets, for (a):")
    for name, value, target, ok in checks:
        print(f"  {name:26}{value:>10}  {target:10} {'met' if ok else 'MISSED'}")
    print(f"  (speed-up with both sides' imports counted: {cold:.1f}x)")
    print(f"(a*) for comparison: {fics['requests']} requests "
          f"({fics['credential_lists']} of them credential lists, one per identity: ARM has "
          f"no bulk list), {refresh['wall_s'] / fics['wall_s']:.1f}x faster than (b), "
          f"{fics['peak_rss_mb']:.0f} MB")


def profiled(target: str | None, fn: Any) -> dict[str, Any]:
    """Run `fn` under cProfile when `target` names a stats file, worker threads included (the
    bulk reads decode and convert pages in the reader's pool). Timings then include the
    profiler's overhead: profile runs are for finding hot spots, not for the table."""
    if not target:
        return dict(fn())
    import cProfile
    import pstats
    import threading

    workers: list[cProfile.Profile] = []

    def start_worker(*_: Any) -> None:
        sys.setprofile(None)
        prof = cProfile.Profile()
        workers.append(prof)
        prof.enable()

    Path(target).parent.mkdir(parents=True, exist_ok=True)
    main = cProfile.Profile()
    threading.setprofile(start_worker)
    try:
        result = dict(main.runcall(fn))
    finally:
        threading.setprofile(None)
    stats = pstats.Stats(main)
    for prof in workers:
        stats.add(prof)
    stats.dump_stats(target)
    return result


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    raise SystemExit(main())
