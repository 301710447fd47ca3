"""A realistic estate for the read benchmarks: specs, a seeded emulator, measured children.

Shared by `plan_scale.py` (plan against a per-object refresh) and `grant_lists.py` (which way of
listing role assignments wins). The shape follows what Azure allows:

- N user-assigned identities spread over S subscriptions and G resource groups per
  subscription, each group with a key vault and a storage account;
- our grants: `grants` in all (default five per identity), at the identity's vault, storage
  account or resource group;
- unrelated grants, as many again by default, spread over the same subscriptions: users,
  groups and other service principals, at resource groups, resources, and a few at the
  subscription itself;
- at most 4,000 role assignments per subscription (ARM's fixed limit): an estate over it is
  refused rather than seeded, since Azure could not hold it.

Everything is seeded straight into the emulator's store (no HTTP), then the emulator is served
from a separate process with the realism knobs on, so a child's figures are the client's alone.
"""

from __future__ import annotations

import json
import random
import resource
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

STARTED = time.perf_counter()  # a child's imports are timed from here to its measured window
TENANT = "22222222-2222-2222-2222-222222222222"
OPERATOR = "5c0b2f9e-7d4a-4c61-9a8e-3f1d6b2e9a70"
ARM_LIMIT = 4000  # role assignments per subscription, fixed (RoleAssignmentLimitExceeded)
ROLES = {  # role name -> (guid, where); an identity's grants take these in order
    "Key Vault Secrets User": ("4633458b-17de-408a-b874-0445c86b69e6", "kv"),
    "Storage Blob Data Reader": ("2a2b9908-6ea1-4ae2-8e65-a410df84e7d1", "st"),
    "Reader": ("acdd72a7-3385-48ef-bd42-f606fba81ae7", "rg"),
    "Key Vault Reader": ("21090545-7ca7-4776-b22c-e363652d74d2", "kv"),
    "Storage Queue Data Reader": ("19e7f393-937e-4f77-808e-94535e297925", "st"),
}
UNRELATED_TYPES = (("User", 0.6), ("Group", 0.25), ("ServicePrincipal", 0.15))


def subscription(s: int) -> str:
    return f"{s + 1:08d}-1111-4111-8111-111111111111"


@dataclass(frozen=True)
class Group:
    sub: str
    rg: str

    @property
    def rg_id(self) -> str:
        return f"/subscriptions/{self.sub}/resourceGroups/{self.rg}"

    @property
    def kv_name(self) -> str:
        return "kv-" + self.rg[3:]

    @property
    def st_name(self) -> str:
        return "st" + self.rg[3:].replace("-", "")

    def scope(self, where: str) -> str:
        if where == "rg":
            return self.rg_id
        if where == "kv":
            return f"{self.rg_id}/providers/Microsoft.KeyVault/vaults/{self.kv_name}"
        return f"{self.rg_id}/providers/Microsoft.Storage/storageAccounts/{self.st_name}"

    def spec_scope(self, where: str) -> str:
        if where == "rg":
            return f"{{resource_group: {self.rg}}}"
        if where == "kv":
            return f"{{type: Microsoft.KeyVault/vaults, name: {self.kv_name}}}"
        return f"{{type: Microsoft.Storage/storageAccounts, name: {self.st_name}}}"


@dataclass(frozen=True)
class Estate:
    identities: int = 1000
    subscriptions: int = 5
    groups_per_subscription: int = 10
    grants: int = -1  # ours in all; -1: five per identity
    unrelated: int = -1  # -1: as many as ours (half the estate is not ours)

    @property
    def our_grants(self) -> int:
        return 5 * self.identities if self.grants < 0 else self.grants

    @property
    def unrelated_grants(self) -> int:
        return self.our_grants if self.unrelated < 0 else self.unrelated

    def subs(self) -> list[str]:
        return [subscription(s) for s in range(self.subscriptions)]

    def groups(self) -> list[Group]:
        return [
            Group(sub, f"rg-s{s:02d}g{g:03d}")
            for s, sub in enumerate(self.subs())
            for g in range(self.groups_per_subscription)
        ]

    def layout(self) -> list[tuple[Group, str, int]]:
        """(group, identity name, how many grants) per identity, round-robin over groups."""
        groups = self.groups()
        n, total = self.identities, self.our_grants
        out = []
        for k in range(n):
            count = total // n + (1 if k < total % n else 0)
            if count > len(ROLES):
                raise SystemExit(f"at most {len(ROLES)} grants per identity")
            group = groups[k % len(groups)]
            out.append((group, f"id-{group.rg[3:]}x{k:05d}-prod-uks-01", count))
        return out

    def per_subscription(self) -> dict[str, int]:
        """Role assignments each subscription would hold; refuses an estate ARM could not."""
        counts = dict.fromkeys(self.subs(), 0)
        for group, _, count in self.layout():
            counts[group.sub] += count
        for i, sub in enumerate(counts):
            counts[sub] += self.unrelated_grants // self.subscriptions + (
                1 if i < self.unrelated_grants % self.subscriptions else 0)
        worst = max(counts.values())
        if worst > ARM_LIMIT:
            raise SystemExit(f"{worst} role assignments in one subscription: ARM holds at most "
                             f"{ARM_LIMIT}; use more --subscriptions or fewer grants")
        return counts


def world(estate: Estate) -> dict[str, Any]:
    return {
        "tenant_id": TENANT,
        "operator": {"object_id": OPERATOR, "app_id": "8f3e1a27-2b6c-4d95-a0e4-6c7b9d1f2e35",
                     "display_name": "identity-reconciler-operator",
                     "roles": [{"role": "Owner", "scope": f"/subscriptions/{s}"}
                               for s in estate.subs()]},
        "subscriptions": [{
            "id": sub, "display_name": f"Bench {i}",
            "resource_groups": [
                {"name": g.rg, "location": "uksouth", "tags": {}, "resources": [
                    {"type": "Microsoft.KeyVault/vaults", "name": g.kv_name},
                    {"type": "Microsoft.Storage/storageAccounts", "name": g.st_name},
                ]}
                for g in estate.groups() if g.sub == sub
            ],
        } for i, sub in enumerate(estate.subs())],
    }


def write_specs(directory: Path, estate: Estate, *, credentials: bool = False) -> None:
    """One file per group; `credentials`: every identity manages its (empty) credential set."""
    directory.mkdir(parents=True, exist_ok=True)
    by_group: dict[Group, list[str]] = {}
    for group, name, count in estate.layout():
        lines = by_group.setdefault(group, [
            f"subscription: {group.sub}", "defaults:", "  location: uksouth",
            f"  resource_group: {group.rg}", "  tags: {app: bench, env: prod}", "identities:"])
        lines.append(f"  - name: {name}")
        if credentials:
            lines.append("    federated_credentials: []")
        if count:
            lines.append("    roles:")
        for role, (_, where) in list(ROLES.items())[:count]:
            lines.append(f"      - {{role: {role}, scope: {group.spec_scope(where)}}}")
    for group, lines in by_group.items():
        (directory / f"{group.rg}.yaml").write_text("\n".join(lines) + "\n")


def seed(state: Path, world_file: Path, estate: Estate) -> dict[str, Any]:
    """Identities through the MSI handler (in-process), grants through `seed_assignment`.

    Returns what a per-object refresh reads: identities as (subscription, group, name) and our
    grants' ids, each interleaved over subscriptions as a refresh of a mixed config would be.
    """
    from identity_reconciler.core import ownership
    from local_azure.api import running
    from local_azure.kernel import Request
    from local_azure.providers.authorization.role_assignments import seed_assignment

    rng = random.Random(7)
    identities: list[tuple[str, str, str]] = []
    grants: list[str] = []
    with running(state_dir=state, world=world_file) as emu:
        ctx, router = emu.context, emu.router
        with ctx.store.transaction():
            for group, name, count in estate.layout():
                body = {"location": "uksouth", "tags": {
                    "app": "bench", "env": "prod", ownership.OWNER_TAG: ownership.OWNER_TAG_VALUE}}
                req = Request("PUT", f"{group.rg_id}/providers/"
                              f"Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
                              {"api-version": "2024-11-30"}, {}, json.dumps(body).encode())
                answer, _ = router.dispatch(ctx, req)
                assert answer.status in (200, 201), answer.body
                assert isinstance(answer.body, dict)
                pid = answer.body["properties"]["principalId"]
                identities.append((group.sub, group.rg, name))
                for guid, where in list(ROLES.values())[:count]:
                    scope = group.scope(where)
                    doc = seed_assignment(
                        ctx, scope, guid, pid, "ServicePrincipal",
                        ownership.assignment_name(scope, guid, pid), ownership.with_marker(None))
                    grants.append(str(doc["id"]))
            _seed_unrelated(ctx, estate, rng, seed_assignment)
    return {"identities": identities, "grants": grants}


def _seed_unrelated(ctx: Any, estate: Estate, rng: random.Random, seed_assignment: Any) -> None:
    guids = [guid for guid, _ in ROLES.values()]
    by_sub: dict[str, list[Group]] = {}
    for g in estate.groups():
        by_sub.setdefault(g.sub, []).append(g)
    subs = estate.subs()
    kinds = [k for k, _ in UNRELATED_TYPES]
    weights = [w for _, w in UNRELATED_TYPES]
    for k in range(estate.unrelated_grants):
        sub = subs[k % len(subs)]
        if rng.random() < 0.02:
            scope = f"/subscriptions/{sub}"
        else:
            scope = rng.choice(by_sub[sub]).scope(rng.choice(("rg", "kv", "st")))
        principal = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        seed_assignment(ctx, scope, rng.choice(guids), principal,
                        rng.choices(kinds, weights)[0])


def interleave(items: list[Any], key: Callable[[Any], str]) -> list[Any]:
    """Round-robin over `key` (the subscription): a refresh of a config that mixes them."""
    lanes: dict[str, list[Any]] = {}
    for item in items:
        lanes.setdefault(key(item), []).append(item)
    out: list[Any] = []
    queues = list(lanes.values())
    for i in range(max((len(q) for q in queues), default=0)):
        out += [q[i] for q in queues if i < len(q)]
    return out


# --------------------------------------------------------------------------- serving, measuring


def serve(state: Path, world_file: Path, knobs: list[str]) -> tuple[
    subprocess.Popen[str], dict[str, Any]
]:
    """The emulator in its own process with `knobs` (serve options); its first line, parsed."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "local_azure", "serve", "--state", str(state),
         "--world", str(world_file), *knobs],
        stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise SystemExit("the emulator did not start")
    return proc, dict(json.loads(line))


def measure(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Wall, CPU and peak RSS of `fn`; `startup_s` is what came before it in the child (module
    imports, reading inputs), kept apart so both sides of a comparison are timed alike."""
    wall0, cpu0 = time.perf_counter(), time.process_time()
    startup = wall0 - STARTED
    extra = fn()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"wall_s": wall, "cpu_s": cpu, "peak_rss_mb": rss_mb, "startup_s": startup, **extra}


def run_child(script: str, kind: str, info_file: Path, *extra: str,
              repeat: int = 1, pause_s: float = 0.0) -> dict[str, Any]:
    """The run with the median wall time of `repeat` fresh child processes of `script`;
    `pause_s` between runs lets ARM's read bucket refill after a run that emptied it."""
    runs = []
    for i in range(max(1, repeat)):
        if i and pause_s:
            time.sleep(pause_s)
        out = subprocess.run(
            [sys.executable, script, "--child", kind, "--info", str(info_file), *extra],
            check=True, capture_output=True, text=True,
        )
        runs.append(dict(json.loads(out.stdout.strip().splitlines()[-1])))
    runs.sort(key=lambda r: float(r["wall_s"]))
    median = runs[len(runs) // 2]
    median["walls"] = [round(float(r["wall_s"]), 2) for r in runs]
    median["cpus"] = sorted(round(float(r["cpu_s"]), 2) for r in runs)
    return median


def profiled(target: str | None, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
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
