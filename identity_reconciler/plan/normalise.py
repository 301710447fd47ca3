"""The comparison forms that keep a plan quiet.

Azure answers in its own spellings: `resourcegroups`, `UK South` or `uksouth`, a missing
description or one with extra spaces, `principalType` omitted or filled in, audiences in any
order. A plan that shows such differences trains people to ignore plans, so every field is
compared in the form defined here, and only real differences become changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from identity_reconciler.core import armid, ownership

DEFAULT_CONDITION_VERSION = "2.0"


def location(value: str | None) -> str:
    """`UK South` == `uksouth`."""
    return "".join((value or "").split()).lower()


def tags(value: Mapping[str, str] | None) -> dict[str, str]:
    """Tag names are case-insensitive in ARM, values are not."""
    return {k.lower(): v for k, v in (value or {}).items()}


def isolation_scope(value: str | None) -> str | None:
    """ARM may answer `None` (the string) for an identity created without isolation."""
    if not value or value.strip().lower() == "none":
        return None
    return value.strip().lower()


def text(value: str | None) -> str:
    """Whitespace runs collapse; None and blank are the same."""
    return " ".join((value or "").split())


def description(desired: str | None) -> str:
    """The description as written on a grant: the user's text plus the ownership marker."""
    return text(ownership.with_marker(desired))


def condition(value: str | None, version: str | None) -> tuple[str, str]:
    """An ABAC condition and its version; the version means nothing without a condition."""
    cond = text(value)
    if not cond:
        return ("", "")
    return (cond, (version or DEFAULT_CONDITION_VERSION).strip())


def audiences(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v.strip() for v in values if v.strip())


def identity_types(value: str | None) -> frozenset[str]:
    return armid.normalise_identity_type(value)


def identity_type_string(
    system: bool, user: bool, *, live_type: str | None, resource_type: str
) -> str:
    """The `identity.type` to send: ARM spells the combination two ways, per provider.

    Follow the live spelling when the resource already uses the combined form; otherwise
    Microsoft.App wants no space and the rest (Web, Compute) want `", "`.
    """
    if system and user:
        if live_type and "," in live_type:
            sep = "," if ", " not in live_type else ", "
        else:
            sep = "," if resource_type.lower().startswith("microsoft.app/") else ", "
        return f"SystemAssigned{sep}UserAssigned"
    if system:
        return "SystemAssigned"
    if user:
        return "UserAssigned"
    return "None"
