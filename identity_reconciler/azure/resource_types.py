"""Per-type facts for reading and writing identity blocks through generic resources.

Generic `resources.get_by_id` needs an api-version the resource provider accepts, and each
provider spells the combined identity type its own way. Known types are listed; any other type
is looked up once per namespace in the provider's registration (latest stable version).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from identity_reconciler.azure.errors import ArmRequestError
from identity_reconciler.core import identity_hosts


@dataclass(frozen=True)
class ResourceType:
    name: str  # canonical spelling, e.g. Microsoft.Web/sites
    api_version: str
    # How this provider spells "both" in the identity block.
    both_spelling: str = "SystemAssigned, UserAssigned"
    # PATCH of just the identity block is supported (else PUT of the read-modified body).
    patch: bool = True
    # The property naming the primary user-assigned identity, where the type has one.
    primary_property: str | None = None


_NO_SPACE = "SystemAssigned,UserAssigned"

# Identity hosts come from the one table in core; the others are read (never written) here.
KNOWN: dict[str, ResourceType] = {
    t.name.lower(): t
    for t in (
        *(
            ResourceType(
                h.type,
                h.api_version,
                h.both_spelling or identity_hosts.SPACED,
                h.patch,
                h.primary_property,
            )
            for h in identity_hosts.TABLE
        ),
        ResourceType("Microsoft.Storage/storageAccounts", "2023-05-01", _NO_SPACE),
        ResourceType("Microsoft.KeyVault/vaults", "2023-07-01"),
    )
}


class TypeCatalog:
    """Known types, plus types learned from the provider registration (cached per namespace)."""

    def __init__(self) -> None:
        self._learned: dict[str, ResourceType] = {}
        self._namespaces: set[str] = set()
        self._lock = threading.Lock()

    def get(
        self, resource_type: str, lookup: Callable[[str], dict[str, list[str]]]
    ) -> ResourceType:
        """`lookup(namespace)` -> {type path: [api versions]}, asked only for unknown types."""
        lkey = resource_type.lower()
        if lkey in KNOWN:
            return KNOWN[lkey]
        with self._lock:
            if lkey in self._learned:
                return self._learned[lkey]
            namespace, _, path = resource_type.partition("/")
            if namespace.lower() not in self._namespaces:
                for tpath, versions in lookup(namespace).items():
                    stable = sorted(v for v in versions if "preview" not in v.lower())
                    chosen = (stable or sorted(versions))[-1] if versions else None
                    if chosen:
                        full = f"{namespace}/{tpath}"
                        self._learned[full.lower()] = ResourceType(full, chosen)
                self._namespaces.add(namespace.lower())
            if lkey not in self._learned:
                raise ArmRequestError(
                    0,
                    "UnknownResourceType",
                    f"resource type {resource_type!r} is not registered with provider "
                    f"{namespace!r}; check the type in the spec ({path or '?'})",
                )
            return self._learned[lkey]


def canonical_type(resource_type: str) -> str:
    """The documented spelling of a known type (any casing in); others unchanged."""
    known = KNOWN.get(resource_type.lower())
    return known.name if known else resource_type
