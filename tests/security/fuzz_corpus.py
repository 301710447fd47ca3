"""Generators of hostile input for the fuzz tests and `benchmarks/fuzz_inputs.py`.

Each generator takes a seeded `random.Random` and returns one input, so a failing input can be
regenerated from its seed. The families: spec files (real specs mutated byte- and token-wise,
and random documents over the spec's own vocabulary), command lines (over the options argparse
actually declares), and plan files (a real plan mutated as JSON and as bytes). The YAML bombs
are fixed texts, measured separately.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from identity_reconciler.cli import build_parser
from identity_reconciler.cmds.cli_model import describe

REPO = Path(__file__).resolve().parents[2]
SEED_SPECS = sorted(
    [*REPO.glob("specs/*.yaml"), *REPO.glob("tests/spec/bad/*.yaml")], key=lambda p: p.name
)

# fmt: off
YAML_TOKENS = [
    "&a ", "*a", "<<: *a", "!!python/object/apply:os.system ['x']", "!!binary aGk=", "!ref x",
    "---\n", "...\n", "%YAML 1.1\n", "{", "}", "[", "]", ": ", "- ", "? ", "|\n", ">-\n", "\t",
    "#", "'", "\"", "\\", "\u0000", "\ufeff", "\u2028", "\r", "\n", "    ", "~", "null", "yes",
    "0x1F", "1e309", ".nan", "-.inf", "0o17", "2026-01-01", "=", "@", "`", "%", "!",
]
SPEC_KEYS = [
    "subscription", "defaults", "location", "resource_group", "tags", "identities", "name",
    "federated_credentials", "issuer", "subject", "audiences", "assigned_to", "type", "roles",
    "role", "scope", "condition", "condition_version", "description", "resources",
    "system_assigned", "sql", "server", "database", "users", "identity", "prune", "policy",
    "naming", "allow_privileged", "justification", "rules", "safety", "max_delete_percent",
    "min_existing", "management_group", "isolation_scope", "IR102", "unknown", "<<",
]
SPEC_WORDS = [
    "11111111-1111-1111-1111-111111111111", "uksouth", "rg-myapp-prod-uks-01", "Owner",
    "id-myapp-prod-uks-01", "Key Vault Secrets User", "Microsoft.Web/sites",
    "app-myapp-prod-uks-01", "Microsoft.KeyVault/vaults", "kv-myapp-prod-uks-01",
    "https://token.actions.githubusercontent.com",
    "/subscriptions/11111111-1111-1111-1111-111111111111", "2.0", "off", "", "db_datareader",
    "/providers/Microsoft.Management/managementGroups/mg-platform", "{app}-{env}",
    "x" * 300,
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "sql-myapp-prod-uks-01", "appdb", "None",
]
ARG_WORDS = [
    "", "-", "--", "-x", "--nope", "=", "0", "-1", "1e309", "nan", "inf", "100", "101", "abc",
    "yes", "local", "azure", "json", "markdown", "text", "github",
    "x" * 5000,
    "\u00e9\u2713\u202e", "--help", "-h", "--version", "\u0000", "a=b", "@args", ".", "*",
    "-vv", "-qq",
]
# fmt: on


def mutate_bytes(rng: random.Random, data: bytes, rounds: int) -> bytes:
    """Random byte edits and token splices, as a fuzzer would make them."""
    out = bytearray(data)
    for _ in range(rounds):
        op = rng.randrange(7)
        pos = rng.randrange(len(out) + 1)
        if op == 0 and out:
            del out[pos : pos + rng.randint(1, 16)]
        elif op == 1:
            out[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 4)))
        elif op == 2:
            out[pos:pos] = rng.choice(YAML_TOKENS).encode("utf-8")
        elif op == 3 and out:
            start = rng.randrange(len(out))
            out[pos:pos] = out[start : start + rng.randint(1, 200)]
        elif op == 4 and out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
        elif op == 5:
            lines = bytes(out).split(b"\n")
            rng.shuffle(lines[rng.randrange(len(lines)) :])
            out = bytearray(b"\n".join(lines))
        else:
            del out[pos:]
    return bytes(out)


def _value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth > 4 or roll < 0.45:
        return rng.choice(
            [
                rng.choice(SPEC_WORDS),
                rng.randint(-(10**12), 10**12),
                rng.random() * 1e6,
                rng.choice([True, False, None]),
                "".join(rng.choice("ab-_{}/:. \n'\"&*!%@`") for _ in range(rng.randint(0, 12))),
            ]
        )
    if roll < 0.7:
        return [_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(SPEC_KEYS): _value(rng, depth + 1) for _ in range(rng.randint(0, 5))}


def spec_document(rng: random.Random) -> Any:
    """A random document over the spec's keys and values (half of them near-valid)."""
    if rng.random() < 0.5:
        try:
            base = yaml.safe_load(rng.choice(SEED_SPECS).read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            base = None  # a seed from the bad corpus that is not YAML at all
        if isinstance(base, dict):
            _perturb(rng, base, rng.randint(1, 4))
            return base
    return {rng.choice(SPEC_KEYS): _value(rng, 0) for _ in range(rng.randint(0, 6))}


def _perturb(rng: random.Random, node: Any, times: int) -> None:
    for _ in range(times):
        target = node
        for _ in range(rng.randint(0, 4)):
            children = list(target.values()) if isinstance(target, dict) else target
            containers = [c for c in children if isinstance(c, dict | list)]
            if not containers:
                break
            target = rng.choice(containers)
        if isinstance(target, dict):
            key = rng.choice([*target, rng.choice(SPEC_KEYS)]) if target else "x"
            if rng.random() < 0.3:
                target.pop(key, None)
            else:
                target[key] = _value(rng, 2)
        elif isinstance(target, list):
            target.append(_value(rng, 2))


def spec_text(rng: random.Random) -> bytes:
    """One spec file's bytes: a real spec mutated, or a random document in a random style."""
    if rng.random() < 0.6:
        seed = rng.choice(SEED_SPECS).read_bytes()
        return mutate_bytes(rng, seed, rng.randint(1, 8))
    doc = spec_document(rng)
    text = yaml.safe_dump(
        doc, default_flow_style=rng.choice([None, True, False]), allow_unicode=rng.random() < 0.5
    )
    return mutate_bytes(rng, text.encode("utf-8"), rng.randint(0, 2))


# ---------------------------------------------------------------------- command lines


_TREE = describe(build_parser())
COMMANDS = _TREE.walk()


def argv(rng: random.Random, paths: list[str]) -> list[str]:
    """A command line: a real command path, its positionals (mostly), real and bogus options,
    values from `paths` and from hostile words; `--cloud local` on most commands that take it.

    `paths` must all lie inside the run's sandbox: nothing here names a file outside it.
    """
    cmd = rng.choice(COMMANDS)
    out = list(cmd.path)
    if rng.random() < 0.1:
        out[:0] = rng.choice([["-v"], ["-q"], ["-vv"], ["--no-color"], ["--log-format", "json"]])
    for positional in cmd.positionals:
        if rng.random() < 0.85:
            pool = list(positional.choices) or paths
            out += [rng.choice(pool) for _ in range(rng.choice([1, 1, 1, 2]))]
    for option in cmd.options:
        if option.required and rng.random() < 0.9:
            out += [option.flags[-1], rng.choice(list(option.choices) or [*paths, *SPEC_WORDS])]
    for _ in range(rng.randint(0, 4)):
        roll = rng.random()
        if roll < 0.8 and cmd.options:
            option = rng.choice(cmd.options)
            out.append(rng.choice(option.flags))
            if option.takes_value:
                pool = list(option.choices) or (paths if option.value_kind != "text" else [])
                if not pool or rng.random() < 0.15:
                    pool = pool + ARG_WORDS
                out.append(rng.choice(pool))
        elif roll < 0.93:
            if any(p.many for p in cmd.positionals):
                out.append(rng.choice(paths))
        else:
            out.append(rng.choice(ARG_WORDS))
    if any(o.flags == ("--cloud",) for o in cmd.options) and rng.random() < 0.9:
        out += ["--cloud", "local"]
    return out


# ---------------------------------------------------------------------- plan files


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _set(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    parent = node
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return node


_REPLACEMENTS: list[Callable[[random.Random, Any], Any]] = [
    lambda r, v: None,
    lambda r, v: "",
    lambda r, v: 0,
    lambda r, v: -1,
    lambda r, v: True,
    lambda r, v: [],
    lambda r, v: {},
    lambda r, v: [v],
    lambda r, v: {"x": v},
    lambda r, v: str(v) + r.choice(["x", " ", "/..", "\n"]),
    lambda r, v: str(v).upper(),
    lambda r, v: 10**30,
    lambda r, v: 1.5,
    lambda r, v: "(known after apply)",
    lambda r, v: r.choice(["PUT", "PATCH", "DELETE", "TSQL", "POST"]),
    lambda r, v: "/subscriptions/11111111-1111-1111-1111-111111111111",
]


def plan_mutation(rng: random.Random, plan_text: str) -> tuple[str, bool]:
    """A mutated plan file and whether its content is still the original's (format only)."""
    data = json.loads(plan_text)
    roll = rng.random()
    if roll < 0.15:  # format-only edits: key order, indentation, ASCII escapes
        text = json.dumps(
            _shuffled(rng, data),
            indent=rng.choice([None, 0, 1, 4]),
            ensure_ascii=rng.random() < 0.5,
            sort_keys=rng.random() < 0.3,
        )
        return text, True
    if roll < 0.35:
        raw = mutate_bytes(rng, plan_text.encode("utf-8"), rng.randint(1, 6))
        return raw.decode("utf-8", errors="surrogateescape"), False
    mutated = copy.deepcopy(data)
    for _ in range(rng.randint(1, 3)):
        path = rng.choice(_paths(mutated)[1:])
        if rng.random() < 0.2 and isinstance(path[-1], str):
            parent = mutated
            for key in path[:-1]:
                parent = parent[key]
            parent.pop(path[-1], None)
            continue
        old: Any = mutated
        for key in path:
            old = old[key]
        mutated = _set(mutated, path, rng.choice(_REPLACEMENTS)(rng, old))
    if rng.random() < 0.2 and isinstance(mutated, dict):
        mutated[rng.choice(["extra", "checksum_v2", "signature"])] = "x"
    return json.dumps(mutated), mutated == data


def _shuffled(rng: random.Random, node: Any) -> Any:
    if isinstance(node, dict):
        items = list(node.items())
        rng.shuffle(items)
        return {k: _shuffled(rng, v) for k, v in items}
    if isinstance(node, list):
        return [_shuffled(rng, v) for v in node]
    return node


# ---------------------------------------------------------------------- YAML bombs


def bombs() -> dict[str, bytes]:
    """Fixed hostile files: what each one costs is measured, and each must fail (or pass)
    within the loader's limits."""
    laughs = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    laughs += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    big_scalar = b"subscription: " + b"x" * (4 * 1024 * 1024) + b"\n"
    long_line = b"identities: [" + b"{name: id-a}," * 300_000 + b"]\n"
    filler = b"# " + b"x" * 1000 + b"\n"
    return {
        "billion laughs (10^9 nodes by aliases)": "\n".join(laughs).encode() + b"\n",
        "quadratic aliases (10,000 aliases of one list)": (
            b"base: &b ["
            + b",".join([b"x"] * 1000)
            + b"]\nuse: ["
            + b",".join([b"*b"] * 10_000)
            + b"]\n"
        ),
        "deep nesting (100,000 flow levels)": b"a: " + b"[" * 100_000 + b"]" * 100_000 + b"\n",
        "deep block nesting (3,000 levels)": b"".join(b" " * i + b"k:\n" for i in range(3000)),
        "5 MiB + 1 byte file": filler * (5 * 1024 * 1024 // len(filler) + 1),
        "4 MiB scalar": big_scalar,
        "3.9 MB single line (300,000 flow items)": long_line,
        "many documents (66,000, just under the node cap)": b"---\nsubscription: x\n" * 66_000,
        "many keys (150,000)": b"".join(b"k%d: v\n" % i for i in range(150_000)),
    }
