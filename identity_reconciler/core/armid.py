"""ARM resource ids and RBAC scopes: parse, validate, normalise, build.

ARM ids are case-insensitive, and Azure itself is inconsistent about casing (it answers with
`resourcegroups` where the docs say `resourceGroups`). Everything that compares ids goes through
`key()`; everything that shows an id to a person uses the canonical spelling from `Scope.id`.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from enum import StrEnum

from identity_reconciler.core.armid_segments import segment_problem
from identity_reconciler.core.errors import UserError

GUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
# Resource group names: 1-90 of letters, digits, underscores, parentheses, hyphens, periods
# (unicode letters allowed), not ending in a period.
RESOURCE_GROUP_RE = re.compile(r"^[-\w._()]{1,90}(?<!\.)$")
MANAGEMENT_GROUP_RE = re.compile(r"^[-\w._()]{1,90}$")
NAMESPACE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+$")
SEGMENT_RE = re.compile(r"^[^/?#\s][^/?#]*$")
TYPE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
IDENTITY_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$")
FIC_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,119}$")

USER_ASSIGNED_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities"
FIC_TYPE = "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials"
FIC_CHILD = "federatedIdentityCredentials"
ROLE_DEFINITION_PREFIX = "/providers/Microsoft.Authorization/roleDefinitions/"
# The one definition of the role-assignment extension segment: `{scope}{ROLE_ASSIGNMENTS}{name}`.
ROLE_ASSIGNMENTS = "/providers/Microsoft.Authorization/roleAssignments/"


class ArmIdError(UserError):
    """An ARM id or scope that cannot be parsed; the message says what was expected."""


class ScopeKind(StrEnum):
    MANAGEMENT_GROUP = "management_group"
    SUBSCRIPTION = "subscription"
    RESOURCE_GROUP = "resource_group"
    RESOURCE = "resource"

    @property
    def breadth(self) -> int:
        """Larger is broader: management group > subscription > resource group > resource."""
        return _BREADTH[self]


_BREADTH = {
    ScopeKind.RESOURCE: 0,
    ScopeKind.RESOURCE_GROUP: 1,
    ScopeKind.SUBSCRIPTION: 2,
    ScopeKind.MANAGEMENT_GROUP: 3,
}


def key(arm_id: str) -> str:
    """The comparison key of an ARM id: lower case, no trailing slash."""
    return arm_id.rstrip("/").lower()


@dataclass(frozen=True)
class Scope:
    """A parsed RBAC scope or resource id.

    `types` and `names` hold the resource type path below the provider namespace, e.g.
    `("vaults",)` / `("kv-1",)`, or `("servers", "databases")` / `("sql-1", "appdb")`.
    """

    kind: ScopeKind
    management_group: str | None = None
    subscription_id: str | None = None
    resource_group: str | None = None
    namespace: str | None = None
    types: tuple[str, ...] = ()
    names: tuple[str, ...] = ()

    @property
    def resource_type(self) -> str | None:
        """`Namespace/type[/subtype]`, e.g. `Microsoft.KeyVault/vaults`."""
        if self.namespace is None:
            return None
        return "/".join((self.namespace, *self.types))

    @property
    def name(self) -> str | None:
        return self.names[-1] if self.names else None

    @property
    def id(self) -> str:
        """The canonical ARM id (docs casing: `resourceGroups`, lower-case subscription)."""
        if self.kind is ScopeKind.MANAGEMENT_GROUP:
            return f"/providers/Microsoft.Management/managementGroups/{self.management_group}"
        out = f"/subscriptions/{self.subscription_id}"
        if self.kind is ScopeKind.SUBSCRIPTION:
            return out
        out += f"/resourceGroups/{self.resource_group}"
        if self.kind is ScopeKind.RESOURCE_GROUP:
            return out
        out += f"/providers/{self.namespace}"
        # equivalent mutant [True → False]: types and names are parsed in pairs, always as many
        for t, n in zip(self.types, self.names, strict=True):
            out += f"/{t}/{n}"
        return out

    @property
    def key(self) -> str:
        return key(self.id)


def check_segment(segment: str, text: str) -> None:
    """Refuse a path segment that a lower layer could rewrite or read differently: `.`/`..`,
    empty, encoded, padded, invisible, `?`/`#`/`\\`, NFKC-unstable (`armid_segments.py`)."""
    problem = segment_problem(segment, text)
    if problem is not None:
        raise ArmIdError(problem)


def _segments(value: object) -> tuple[str, list[str]]:
    if not isinstance(value, str) or not value:
        raise ArmIdError("a scope must be a non-empty ARM id such as /subscriptions/<guid>")
    if not value.startswith("/"):
        raise ArmIdError(f"scope {value!r} must start with '/'")
    if value == "/":
        raise ArmIdError("the root scope '/' cannot be managed; name a management group instead")
    parts = value.split("/")[1:]
    for part in parts:
        check_segment(part, value)
    return value, parts


def parse_scope(value: str) -> Scope:
    """Parse an ARM id used as an RBAC scope or a resource id, strictly.

    Accepts management group, subscription, resource group and resource ids (nested child
    resources included), written exactly: no surrounding whitespace, no trailing '/', and no
    segment `check_segment` refuses. Raises ArmIdError with the expected shape otherwise.
    """
    text, parts = _segments(value)
    return _scope_of(text, parts)


def _scope_of(text: str, parts: list[str]) -> Scope:
    lower = [p.lower() for p in parts]
    if lower[0] == "providers":
        is_mg = lower[1:3] == ["microsoft.management", "managementgroups"]
        if len(parts) == 4 and is_mg:
            if not MANAGEMENT_GROUP_RE.match(parts[3]):
                raise ArmIdError(f"management group name {parts[3]!r} is not valid")
            return Scope(ScopeKind.MANAGEMENT_GROUP, management_group=parts[3])
        raise ArmIdError(
            f"scope {text!r} is not a management group id "
            "(/providers/Microsoft.Management/managementGroups/<name>)"
        )
    if lower[0] != "subscriptions" or len(parts) < 2:
        raise ArmIdError(f"scope {text!r} must start with /subscriptions/<guid> or /providers/")
    sub = parts[1]
    if not GUID_RE.match(sub):
        raise ArmIdError(f"subscription id {sub!r} in {text!r} is not a GUID")
    sub = sub.lower()
    if len(parts) == 2:
        return Scope(ScopeKind.SUBSCRIPTION, subscription_id=sub)
    if lower[2] != "resourcegroups" or len(parts) < 4:
        raise ArmIdError(f"scope {text!r}: expected /resourceGroups/<name> after the subscription")
    rg = parts[3]
    if not RESOURCE_GROUP_RE.match(rg):
        raise ArmIdError(
            f"resource group name {rg!r} is not valid (1-90 of letters, digits, -_.())"
        )
    if len(parts) == 4:
        return Scope(ScopeKind.RESOURCE_GROUP, subscription_id=sub, resource_group=rg)
    rest = parts[4:]
    if rest[0].lower() != "providers" or len(rest) < 4 or len(rest) % 2 != 0:
        raise ArmIdError(
            f"scope {text!r}: expected /providers/<Namespace>/<type>/<name>[/<type>/<name>...] "
            "after the resource group"
        )
    namespace = rest[1]
    if not NAMESPACE_RE.match(namespace):
        raise ArmIdError(f"provider namespace {namespace!r} is not valid (e.g. Microsoft.KeyVault)")
    if namespace.lower() == "microsoft.authorization":
        raise ArmIdError(
            f"scope {text!r} is an authorization object (a role assignment, definition or lock), "
            "not a resource"
        )
    pairs = rest[2:]
    types = tuple(pairs[0::2])
    names = tuple(pairs[1::2])
    if any(t.lower() == "providers" for t in types):
        raise ArmIdError(
            f"scope {text!r} names an extension resource (a second /providers/); use the "
            "resource it extends"
        )
    for type_ in types:
        if not TYPE_RE.match(type_):
            raise ArmIdError(f"resource type segment {type_!r} in {text!r} is not valid")
    for segment in names:
        if not SEGMENT_RE.match(segment):
            raise ArmIdError(f"segment {segment!r} in {text!r} is not valid")
    scope = Scope(
        ScopeKind.RESOURCE,
        subscription_id=sub,
        resource_group=rg,
        namespace=namespace,
        types=types,
        names=names,
    )
    _check_known_names(scope, text)
    return scope


def _check_known_names(scope: Scope, text: str) -> None:
    """ARM's documented name rules for the types this tool writes."""
    rtype = (scope.resource_type or "").lower()
    if rtype == USER_ASSIGNED_TYPE.lower() and not IDENTITY_NAME_RE.match(scope.names[0]):
        raise ArmIdError(
            f"identity name {scope.names[0]!r} in {text!r} is not valid (3-128 of letters, "
            "digits, '-' and '_', starting with a letter or digit)"
        )
    if rtype == FIC_TYPE.lower() and not FIC_NAME_RE.match(scope.names[1]):
        raise ArmIdError(
            f"federated credential name {scope.names[1]!r} in {text!r} is not valid (3-120 of "
            "letters, digits, '-' and '_', starting with a letter or digit)"
        )


def try_parse(value: str) -> Scope | None:
    """`parse_scope`, or None for anything it refuses (cached: plans ask about the same ids)."""
    return _try_parse(value) if isinstance(value, str) else None


# equivalent mutant: the cache size bounds memory, never a result
@functools.lru_cache(maxsize=1 << 16)
def _try_parse(value: str) -> Scope | None:
    try:
        return parse_scope(value)
    except ArmIdError:
        return None


def canonical(value: str) -> str:
    """The canonical spelling of an id `parse_id` accepts (ArmIdError otherwise)."""
    return parse_id(value).id


@dataclass(frozen=True)
class ArmId:
    """Any id the tool writes to: a scope or resource (nested children included), or a role
    assignment (`assignment` set: the extension `{scope}/providers/Microsoft.Authorization/
    roleAssignments/{name}` of `scope`)."""

    scope: Scope
    assignment: str | None = None

    @property
    def id(self) -> str:
        if self.assignment is None:
            return self.scope.id
        return f"{self.scope.id}{ROLE_ASSIGNMENTS}{self.assignment}"

    @property
    def key(self) -> str:
        return key(self.id)

    @property
    def subscription_id(self) -> str | None:
        return self.scope.subscription_id

    @property
    def kind(self) -> str:
        """`role_assignment`, `identity`, `federated_credential`, else the scope kind."""
        if self.assignment is not None:
            return "role_assignment"
        rtype = (self.scope.resource_type or "").lower()
        if rtype == USER_ASSIGNED_TYPE.lower():
            return "identity"
        if rtype == FIC_TYPE.lower():
            return "federated_credential"
        return self.scope.kind.value

    @property
    def parent_identity(self) -> str | None:
        """The identity id a federated credential sits under."""
        if self.kind != "federated_credential":
            return None
        s = self.scope
        return Scope(
            ScopeKind.RESOURCE, subscription_id=s.subscription_id,
            resource_group=s.resource_group, namespace=s.namespace,
            types=s.types[:1], names=s.names[:1],
        ).id


_ASSIGNMENT_PATH = ["providers", "microsoft.authorization", "roleassignments"]


def parse_id(value: str) -> ArmId:
    """Parse any id the tool reads or writes, as strictly as `parse_scope`."""
    text, parts = _segments(value)
    lower = [p.lower() for p in parts]
    for i in range(len(parts) - 3):
        if lower[i : i + 3] == _ASSIGNMENT_PATH:
            if i + 4 != len(parts):
                break
            if i == 0:
                raise ArmIdError(f"{text!r}: role assignments at the root scope are not managed")
            name = parts[i + 3]
            if not GUID_RE.match(name):
                raise ArmIdError(f"role assignment name {name!r} in {text!r} is not a GUID")
            return ArmId(_scope_of(text, parts[:i]), name.lower())
    return ArmId(_scope_of(text, parts))


# equivalent mutant: the cache size bounds memory, never a result
@functools.lru_cache(maxsize=1 << 16)
def try_parse_id(value: str) -> ArmId | None:
    """`parse_id`, or None for anything it refuses."""
    try:
        return parse_id(value)
    except ArmIdError:
        return None


def role_assignment_id(scope: str, name: str) -> str:
    """The canonical id of role assignment `name` (a GUID) at `scope`."""
    return parse_id(f"{scope}{ROLE_ASSIGNMENTS}{name}").id


def split_role_assignment(assignment_id: str) -> tuple[str, str]:
    """(canonical scope id, name) of a role assignment id; ArmIdError for anything else."""
    parsed = parse_id(assignment_id)
    if parsed.assignment is None:
        raise ArmIdError(f"{assignment_id!r} is not a role assignment id")
    return parsed.scope.id, parsed.assignment


def credential_id(identity: str, name: str) -> str:
    """The canonical id of federated credential `name` of an identity."""
    return parse_scope(f"{identity}/{FIC_CHILD}/{name}").id


def identity_of_credential(fic_id: str) -> str:
    """The canonical identity id a federated credential id sits under."""
    parent = parse_id(fic_id).parent_identity
    if parent is None:
        raise ArmIdError(f"{fic_id!r} is not a federated credential id")
    return parent


def resource_id(subscription_id: str, resource_group: str, resource_type: str, name: str) -> str:
    """Build a top-level resource id from `Namespace/type` and a name."""
    namespace, _, type_path = resource_type.partition("/")
    if not type_path or "/" in type_path:
        raise ArmIdError(f"resource type {resource_type!r} must be <Namespace>/<type>")
    return parse_scope(
        f"/subscriptions/{subscription_id}/resourceGroups/{resource_group}"
        f"/providers/{namespace}/{type_path}/{name}"
    ).id


def identity_id(subscription_id: str, resource_group: str, name: str) -> str:
    return resource_id(subscription_id, resource_group, USER_ASSIGNED_TYPE, name)


def role_definition_guid(value: str) -> str:
    """The GUID of a role definition from any of its id forms, lower case.

    Accepts a bare GUID, `/providers/Microsoft.Authorization/roleDefinitions/<guid>` (tenant
    form) and `/subscriptions/<s>/providers/Microsoft.Authorization/roleDefinitions/<guid>`
    (subscription form, as ARM returns it), and any other scope-prefixed form.
    """
    text = value.strip().rstrip("/")
    guid = text.rsplit("/", 1)[-1]
    if "/" in text and "/providers/microsoft.authorization/roledefinitions/" not in text.lower():
        raise ArmIdError(f"{value!r} is not a role definition id")
    if not GUID_RE.match(guid):
        raise ArmIdError(f"role definition id {value!r} does not end in a GUID")
    return guid.lower()


def role_definition_id(guid: str, subscription_id: str | None = None) -> str:
    """The role definition id ARM expects in a PUT (subscription form when one is known)."""
    prefix = f"/subscriptions/{subscription_id}" if subscription_id else ""
    return f"{prefix}{ROLE_DEFINITION_PREFIX}{guid.lower()}"


def normalise_identity_type(value: str | None) -> frozenset[str]:
    """`"SystemAssigned, UserAssigned"` (Web, Compute) == `"SystemAssigned,UserAssigned"` (App)."""
    if not value:
        return frozenset()
    parts = {p.strip().lower() for p in value.split(",")}
    parts.discard("none")
    parts.discard("")
    return frozenset(parts)
