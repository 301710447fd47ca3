"""Addresses: the stable, human-readable names of the things a plan changes.

An address must read well in a pull request and be the same in every command that names the
same object (plan, apply, drift, destroy, audit, annotations, `--target`), so it is built from
names people wrote (resource group, identity, role, scope), never from GUIDs Azure chose, and
it depends only on the object and the estate's *home subscription*, decided by `estate_home`
alone:

- the estate's subscriptions are the specs' when the command has specs, else the
  subscriptions the command reads (`audit` without specs);
- one subscription: it is home, and objects in it are written without it (`identity.rg/name`),
  objects elsewhere with it (`identity.<subscription>/rg/name`);
- several: there is no home and every address names its subscription, since two of them may
  hold a resource group and identity of the same name.

`address_key` folds an address to what `--target` compares: case-insensitive, as ARM names
are, with the home subscription's qualifier dropped, so a home object may be spelt either way.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from identity_reconciler.core import armid, roles
from identity_reconciler.core.state import DesiredState
from identity_reconciler.plan.model import ChangeKind

# A subscription qualifier: a GUID starting a path inside an address (after `kind.`, after `/`
# in an attachment's identity part, after `@` in a grant's scope), followed by `/`.
_QUALIFIER = r"(?<=[./@]){}/"
_ANY_GUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def estate_subscriptions(desired: DesiredState) -> tuple[str, ...]:
    """The specs' subscriptions; when they name none, those their identities and resources use."""
    subs = {s.lower() for s in desired.subscriptions}
    if not subs:
        subs = {i.subscription_id.lower() for i in desired.identities.values()}
        for res in desired.resources.values():
            scope = armid.try_parse(res.resource_id)
            if scope is not None and scope.subscription_id:
                subs.add(scope.subscription_id)
    return tuple(sorted(subs))


def estate_home(desired: DesiredState | None, *, read: Iterable[str] = ()) -> str | None:
    """The home subscription of every address a command prints (None: qualify them all).

    With specs, their subscriptions decide, whatever else the command reads (so `audit --specs`
    prints the addresses `plan` prints); without, the subscriptions read (`read`).
    """
    if desired is not None:
        subs = set(estate_subscriptions(desired))
    else:
        subs = {s.strip().lower() for s in read}
    return next(iter(subs)) if len(subs) == 1 else None


class Namer:
    """Builds addresses against `home` (from `estate_home`; None: always qualify)."""

    def __init__(self, home: str | None) -> None:
        self.home = home.lower() if home else None

    @classmethod
    def of(cls, desired: DesiredState | None, *, read: Iterable[str] = ()) -> Namer:
        return cls(estate_home(desired, read=read))

    def _prefix(self, scope: armid.Scope) -> str:
        if scope.subscription_id is None or scope.subscription_id == self.home:
            return ""
        return f"{scope.subscription_id}/"

    def scope(self, scope_id: str) -> str:
        """`rg`, `rg/vaults/kv-1`, `subscription/<guid>`, `managementGroup/<name>`."""
        scope = armid.try_parse(scope_id)
        if scope is None:
            return scope_id.rstrip("/")
        if scope.kind is armid.ScopeKind.MANAGEMENT_GROUP:
            return f"managementGroup/{scope.management_group}"
        if scope.kind is armid.ScopeKind.SUBSCRIPTION:
            return f"subscription/{scope.subscription_id}"
        out = f"{self._prefix(scope)}{scope.resource_group}"
        for type_, name in zip(scope.types, scope.names, strict=True):
            out += f"/{type_}/{name}"
        return out

    def identity(self, identity_id: str) -> str:
        """`rg/name` of a user-assigned identity."""
        scope = armid.try_parse(identity_id)
        if scope is None or scope.kind is not armid.ScopeKind.RESOURCE:
            return identity_id.rstrip("/")
        return f"{self._prefix(scope)}{scope.resource_group}/{scope.name}"

    def identity_address(self, identity_id: str) -> str:
        return f"{ChangeKind.IDENTITY.value}.{self.identity(identity_id)}"

    def credential_address(self, identity_id: str, name: str) -> str:
        return f"{ChangeKind.FEDERATED_CREDENTIAL.value}.{self.identity(identity_id)}/{name}"

    def attachment_address(self, resource_id: str, identity_id: str) -> str:
        return (
            f"{ChangeKind.ATTACHMENT.value}.{self.scope(resource_id)}/{self.identity(identity_id)}"
        )

    def system_address(self, resource_id: str) -> str:
        return f"{ChangeKind.SYSTEM_ASSIGNED.value}.{self.scope(resource_id)}"

    def grant_address(self, principal: str, role_name: str, scope_id: str) -> str:
        """`grant.<principal>/<role name>@<scope>`; `principal` is an identity or resource name."""
        return f"{ChangeKind.GRANT.value}.{principal}/{role_name}@{self.scope(scope_id)}"


def address_key(address: str, home: str | None) -> str:
    """What `--target` compares: lower case, without the home subscription's qualifiers.

    The `[id]` a look-alike address ends with is an ARM id, left as it is."""
    body, bracket = _split_suffix(address.strip().lower())
    if home:
        body = re.sub(_QUALIFIER.format(re.escape(home.lower())), "", body)
    return body + bracket


def unqualified_key(address: str) -> str:
    """`address_key` without any subscription's qualifiers: what a misspelt target resembles."""
    body, bracket = _split_suffix(address.strip().lower())
    return re.sub(_QUALIFIER.format(_ANY_GUID), "", body) + bracket


def _split_suffix(address: str) -> tuple[str, str]:
    if address.endswith("]") and "[" in address:
        at = address.rindex("[")
        return address[:at], address[at:]
    return address, ""


def role_name(guid: str, fallback: str | None = None) -> str:
    """The built-in role's name, else what the specs called it, else the GUID."""
    role = roles.catalog().by_guid(guid)
    if role is not None:
        return role.name.strip()
    return fallback or guid.lower()
