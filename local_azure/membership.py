"""Group membership in the directory: which principals a group holds (direct members only).

Kept as one metadata entry per group, written when a world is seeded. It decides who signs in to
a SQL server whose Microsoft Entra administrator is a group, as Azure SQL decides it from the
token's group claims.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from local_azure.store import Store

_PREFIX = "group-members:"


def members(store: Store, group_id: str) -> frozenset[str]:
    raw = store.meta_get(_PREFIX + group_id.lower())
    return frozenset(json.loads(raw)) if raw else frozenset()


def add_members(store: Store, group_id: str, object_ids: Iterable[str]) -> None:
    current = members(store, group_id) | {o.lower() for o in object_ids}
    store.meta_set(_PREFIX + group_id.lower(), json.dumps(sorted(current)))


def is_member(store: Store, group_id: str, object_id: str) -> bool:
    return object_id.lower() in members(store, group_id)
