"""What identity-reconciler owns, and how that is recognisable on the objects themselves.

There is no state file: live Azure is the state. Ownership is therefore written onto the
objects: a tag on user-assigned identities, and a deterministic name (plus a description
marker) on role assignments. A PUT of the same grant always targets the same name, so a
retried or repeated apply is idempotent, and a grant someone else made is never ours.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

OWNER_TAG = "managed-by"
OWNER_TAG_VALUE = "identity-reconciler"
DESCRIPTION_MARKER = "[managed-by identity-reconciler]"

# Fixed forever: changing it would orphan every grant ever created.
ASSIGNMENT_NAMESPACE = "6f1c9c3e-4b8e-5f3a-9d2e-7a61c0b3e5d4"
_NAMESPACE_BYTES = bytes.fromhex(ASSIGNMENT_NAMESPACE.replace("-", ""))


def uuid5(namespace: bytes, name: str) -> str:
    """RFC 4122 version-5 UUID, as `str(uuid.uuid5(...))` gives it, without importing `uuid`
    (which costs every command's start-up a `platform` import)."""
    digest = bytearray(
        hashlib.sha1(namespace + name.encode("utf-8"), usedforsecurity=False).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def assignment_name(scope: str, role_definition_guid: str, principal_id: str) -> str:
    """Deterministic role-assignment name: uuid5(namespace, lower(scope)|role guid|principal)."""
    material = f"{scope.rstrip('/').lower()}|{role_definition_guid.lower()}|{principal_id.lower()}"
    return uuid5(_NAMESPACE_BYTES, material)


def may_be_owned_name(name: str) -> bool:
    """Whether a role-assignment name could be one of ours, without hashing: our names are
    version-5 UUIDs, and the names ARM, the portal and the CLIs pick are version 4. Most
    assignments of a subscription are not ours; this spares them the uuid5."""
    return len(name) == 36 and name[14] == "5"


def is_owned_assignment(
    name: str, scope: str, role_definition_guid: str, principal_id: str
) -> bool:
    """True when a live assignment's name is the one we would have given it."""
    if not may_be_owned_name(name):
        return False
    return name.lower() == assignment_name(scope, role_definition_guid, principal_id)


def is_owned_identity(tags: Mapping[str, str] | None) -> bool:
    """User-assigned identities we created carry `managed-by: identity-reconciler`."""
    if not tags:
        return False
    return any(
        k.lower() == OWNER_TAG and v.lower() == OWNER_TAG_VALUE for k, v in tags.items()
    )


def with_marker(description: str | None) -> str:
    """The description written on a grant: the user's text (if any) and the ownership marker."""
    text = (description or "").strip()
    if DESCRIPTION_MARKER in text:
        return text
    return f"{text} {DESCRIPTION_MARKER}".strip()
