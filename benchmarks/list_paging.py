"""What the emulator's paged lists cost per page, in-process (no HTTP, no latency).

Seeds the plan_scale estate (1,000 identities, 5,000 of our grants over 50 resource groups and
5,000 unrelated ones) into an in-memory emulator, then walks each list through the router,
following nextLinks, once with one page for everything and once with the given page size. A
list that rescans everything per page costs pages × the whole list; one that seeks costs about
the same however it is paged.

    python benchmarks/list_paging.py [--identities 1000] [--unrelated 5000] [--page-size 1000]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import plan_scale  # a sibling script, found through the path set above

from local_azure.api import running
from local_azure.kernel import Request

SUB = plan_scale.SUB
LISTS = {
    "role assignments, subscription": (
        f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleAssignments",
        "2022-04-01",
        None,
    ),
    "role assignments, one group": (
        f"/subscriptions/{SUB}/resourceGroups/rg-bench-007/providers/"
        "Microsoft.Authorization/roleAssignments",
        "2022-04-01",
        None,
    ),
    "role assignments, atScope() of a group": (
        f"/subscriptions/{SUB}/resourceGroups/rg-bench-007/providers/"
        "Microsoft.Authorization/roleAssignments",
        "2022-04-01",
        "atScope()",
    ),
    "identities, subscription": (
        f"/subscriptions/{SUB}/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
        "2024-11-30",
        None,
    ),
}


def walk(emu: object, path: str, api: str, flt: str | None) -> tuple[int, int, float]:
    """(items, pages, seconds) of one full traversal."""
    ctx, router = emu.context, emu.router  # type: ignore[attr-defined]
    query = {"api-version": api, **({"$filter": flt} if flt else {})}
    items = pages = 0
    t0 = time.perf_counter()
    url: str | None = path
    while url:
        answer, _ = router.dispatch(
            ctx, Request("GET", url, query, {}, b"", base_url="https://127.0.0.1:1")
        )
        assert answer.status == 200, answer.body
        body = answer.body
        assert isinstance(body, dict)
        json.dumps(body)  # the server serialises every answer; count it
        items += len(body["value"])
        pages += 1
        link = body.get("nextLink")
        if link:
            parts = urlsplit(link)
            url, query = parts.path, dict(parse_qsl(parts.query))
        else:
            url = None
    return items, pages, time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--identities", type=int, default=1000)
    ap.add_argument("--groups", type=int, default=50)
    ap.add_argument("--unrelated", type=int, default=5000)
    ap.add_argument("--page-size", type=int, default=1000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="list-paging-") as tmp:
        work = Path(tmp)
        world_file = work / "world.json"
        world_file.write_text(json.dumps(plan_scale.world(args.groups)))
        plan_scale.seed(
            work / "state", world_file, args.groups, args.identities // args.groups, args.unrelated
        )
        with running(state_dir=work / "state", world=world_file) as emu:
            print(f"{'list':40}{'items':>7}{'pages':>7}{'s':>8}{'pages':>7}{'s':>8}{'ratio':>7}")
            for label, (path, api, flt) in LISTS.items():
                emu.context.settings.page_size = 1_000_000
                walk(emu, path, api, flt)  # warm the SQLite page cache
                n, p1, one = walk(emu, path, api, flt)
                emu.context.settings.page_size = args.page_size
                _, pn, paged = walk(emu, path, api, flt)
                print(f"{label:40}{n:>7}{p1:>7}{one:>8.3f}{pn:>7}{paged:>8.3f}{paged / one:>7.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
