"""The built-in role catalog: names <-> ids for every Azure built-in role, offline.

Which roles are privileged is judged from their permissions in `core/privilege.py`.

Specs name roles the way people say them ("key vault secrets user", a former name, a GUID, an
ARM role-definition id); everything downstream wants one lower-case GUID. `RoleCatalog.resolve`
is that single translation, offline, so validation needs no Azure account.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources

from identity_reconciler.core import armid
from identity_reconciler.core.errors import UserError

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
RBAC_ADMINISTRATOR = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"

# Roles that can change almost anything they are granted on: worth a second look at any scope.
BROAD_WRITE_ROLE_GUIDS: frozenset[str] = frozenset({OWNER, CONTRIBUTOR})

CATALOG_FILE = "builtin-roles.json"
RENAMES_FILE = "builtin-role-renames.json"


class UnknownRoleError(UserError):
    """A role name that is neither a built-in role nor a former name of one."""

    def __init__(self, name: str, suggestions: Sequence[str]) -> None:
        hint = f"; did you mean {_or_list(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown role {name.strip()!r}{hint}")
        self.name = name
        self.suggestions = tuple(suggestions)


@dataclass(frozen=True)
class Permission:
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    data_actions: tuple[str, ...] = ()
    not_data_actions: tuple[str, ...] = ()


@dataclass(frozen=True)
class BuiltinRole:
    name: str
    guid: str
    description: str = ""
    permissions: tuple[Permission, ...] = ()

    @property
    def id(self) -> str:
        """The tenant-level role definition id."""
        return armid.role_definition_id(self.guid)

    @functools.cached_property
    def data_plane_type(self) -> str | None:
        """The one resource type this role's data actions act on, else None.

        A role whose data actions all live under one `Namespace/type` (Key Vault Secrets User:
        `Microsoft.KeyVault/vaults/secrets/...`) is meant for single resources of that type;
        granting it on a whole resource group or subscription opens every such resource there.
        """
        types = {_resource_type(a) for p in self.permissions for a in p.data_actions}
        if len(types) != 1:
            return None
        (only,) = types
        return only


@dataclass(frozen=True)
class RoleRef:
    """A resolved role: its GUID and the name to show; `builtin` False means a custom role id."""

    guid: str
    name: str
    builtin: bool = True
    former_name: str | None = None
    role: BuiltinRole | None = field(default=None, compare=False, repr=False)


def _resource_type(action: str) -> str | None:
    parts = action.split("/")
    if len(parts) < 3 or "*" in parts[0] or "*" in parts[1]:
        return None
    return f"{parts[0]}/{parts[1]}"


def _or_list(items: Sequence[str]) -> str:
    quoted = [repr(i) for i in items]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


def normalise_name(name: str) -> str:
    """Role names compare case-insensitively with whitespace trimmed and runs collapsed."""
    return " ".join(name.split()).casefold()


def looks_like_id(text: str) -> bool:
    """True when a role reference is written as a GUID or a role-definition id, not a name."""
    stripped = text.strip()
    return stripped.startswith("/") or bool(armid.GUID_RE.match(stripped))


class RoleCatalog:
    """Every built-in role, looked up by GUID, by current name or by former name."""

    def __init__(
        self, roles: Iterable[BuiltinRole], renames: Mapping[str, str] | None = None
    ) -> None:
        self._by_guid: dict[str, BuiltinRole] = {}
        self._by_name: dict[str, BuiltinRole] = {}
        for role in roles:
            self._by_guid[role.guid.lower()] = role
            self._by_name[normalise_name(role.name)] = role
        # Current names always win over former ones (a name can be reused by a new role).
        self._former: dict[str, tuple[str, BuiltinRole]] = {}
        for former, guid in (renames or {}).items():
            current = self._by_guid.get(guid.lower())
            key = normalise_name(former)
            if current is not None and key not in self._by_name:
                self._former[key] = (former, current)
        self._names = sorted(self._by_name)

    def __len__(self) -> int:
        return len(self._by_guid)

    def roles(self) -> list[BuiltinRole]:
        return list(self._by_guid.values())

    def by_guid(self, guid: str) -> BuiltinRole | None:
        return self._by_guid.get(guid.strip().lower())

    def by_name(self, name: str) -> BuiltinRole | None:
        """The role with this current name (case-insensitive, whitespace-trimmed)."""
        return self._by_name.get(normalise_name(name))

    def former(self, name: str) -> tuple[str, BuiltinRole] | None:
        """`(former name as spelt in the catalog, current role)` for a role's former name."""
        return self._former.get(normalise_name(name))

    def name_of(self, guid: str) -> str:
        """The role's name, or the GUID itself for a role that is not built in."""
        role = self.by_guid(guid)
        return role.name if role else guid.lower()

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Closest current role names to a misspelt one (difflib ratio, best first)."""
        key = normalise_name(name)
        matches = difflib.get_close_matches(key, self._names, n=limit, cutoff=0.6)
        if not matches:
            # A fragment ("secrets user") is as good a hint as a near-spelling.
            matches = [n for n in self._names if key and key in n][:limit]
        return [self._by_name[m].name.strip() for m in matches]

    def resolve(self, text: str) -> RoleRef:
        """A role by name, former name, GUID or role-definition id.

        An unknown GUID is accepted as a custom role (`builtin=False`); an unknown name raises
        UnknownRoleError with suggestions, and a malformed id raises armid.ArmIdError.
        """
        if looks_like_id(text):
            guid = armid.role_definition_guid(text)
            role = self.by_guid(guid)
            if role is None:
                return RoleRef(guid=guid, name=guid, builtin=False)
            return RoleRef(guid=role.guid, name=role.name.strip(), role=role)
        role = self.by_name(text)
        if role is not None:
            return RoleRef(guid=role.guid, name=role.name.strip(), role=role)
        former = self.former(text)
        if former is not None:
            old, current = former
            return RoleRef(
                guid=current.guid, name=current.name.strip(), former_name=old, role=current
            )
        raise UnknownRoleError(text, self.suggest(text))


def _parse_roles(raw: object) -> list[BuiltinRole]:
    if not isinstance(raw, list):
        raise ValueError(f"{CATALOG_FILE}: expected a list of roles")
    out: list[BuiltinRole] = []
    for item in raw:
        perms = tuple(
            Permission(
                actions=tuple(p.get("actions") or ()),
                not_actions=tuple(p.get("notActions") or ()),
                data_actions=tuple(p.get("dataActions") or ()),
                not_data_actions=tuple(p.get("notDataActions") or ()),
            )
            for p in item.get("permissions") or ()
        )
        out.append(
            BuiltinRole(
                name=item["roleName"],
                guid=item["id"].lower(),
                description=item.get("description") or "",
                permissions=perms,
            )
        )
    return out


def _read_data(name: str) -> object:
    return json.loads(resources.files("identity_reconciler.data").joinpath(name).read_bytes())


@functools.cache
def catalog() -> RoleCatalog:
    """The packaged catalog, read once per process."""
    raw_renames = _read_data(RENAMES_FILE)
    renames: dict[str, str] = {}
    if isinstance(raw_renames, dict):
        for former, _current, guid, _date in raw_renames.get("renames", []):
            renames[former] = guid
    return RoleCatalog(_parse_roles(_read_data(CATALOG_FILE)), renames)

