"""The built-in role catalog: names <-> ids for every Azure built-in role, offline.

Which roles are privileged is judged from their permissions in `core/privilege.py`.

Specs name roles the way people say them ("key vault secrets user", a former name, a GUID, an
ARM role-definition id); everything downstream wants one lower-case GUID. `RoleCatalog.resolve`
is that single translation, offline, so validation needs no Azure account.
"""

from __future__ import annotations

import functools
import json
import pkgutil
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

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
    """Every built-in role, looked up by GUID, by current name or by former name.

    Built from the packaged JSON, a role's object (its permissions as tuples) is made the first
    time the role is asked for: a run names a handful of the 935 roles, and making all of them
    cost `validate` a twentieth of its start-up.
    """

    def __init__(
        self,
        names: Mapping[str, str],
        items: Mapping[str, Mapping[str, Any]],
        renames: Mapping[str, str] | None = None,
    ) -> None:
        """`names`: GUID -> current name; `items`: GUID -> the role's JSON object, read only
        when the role is first asked for; `renames`: former name -> GUID."""
        self._names_of = names
        self._raw = items
        self._built: dict[str, BuiltinRole] = {}
        self._by_name: dict[str, str] = {normalise_name(n): guid for guid, n in names.items()}
        # Current names always win over former ones (a name can be reused by a new role).
        self._former: dict[str, tuple[str, str]] = {}
        for former, guid in (renames or {}).items():
            key = normalise_name(former)
            if guid.lower() in names and key not in self._by_name:
                self._former[key] = (former, guid.lower())
        self._names = sorted(self._by_name)

    @classmethod
    def from_text(cls, text: str, renames: Mapping[str, str] | None = None) -> RoleCatalog:
        """The catalog of the packaged file: a JSON list, one role per line.

        In that layout each line's name and GUID are read with one regex and the line itself is
        parsed only when its role is asked for; any other layout is parsed whole.
        """
        lines = text.splitlines()
        if len(lines) > 2 and (lines[0], lines[-1]) == ("[", "]"):
            found = [_ROLE_LINE.match(line) for line in lines[1:-1]]
            if all(found):
                matches = [m for m in found if m is not None]
                return cls(
                    {m[2].lower(): json.loads(m[1]) for m in matches},
                    _ParsedOnDemand({m[2].lower(): m.string.removesuffix(",") for m in matches}),
                    renames,
                )
        return cls.from_json(json.loads(text), renames)

    @classmethod
    def from_json(cls, raw: object, renames: Mapping[str, str] | None = None) -> RoleCatalog:
        """The catalog of the packaged JSON list (`roleName`, `id`, `permissions`, ...)."""
        if not isinstance(raw, list):
            raise ValueError(f"{CATALOG_FILE}: expected a list of roles")
        items = {item["id"].lower(): item for item in raw}
        return cls({guid: item["roleName"] for guid, item in items.items()}, items, renames)

    def _role(self, guid: str) -> BuiltinRole:
        role = self._built.get(guid)
        if role is None:
            role = self._built[guid] = _parse_role(self._raw[guid])
        return role

    def __len__(self) -> int:
        return len(self._names_of)

    def roles(self) -> list[BuiltinRole]:
        return [self._role(guid) for guid in self._names_of]

    def by_guid(self, guid: str) -> BuiltinRole | None:
        key = guid.strip().lower()
        return self._role(key) if key in self._names_of else None

    def by_name(self, name: str) -> BuiltinRole | None:
        """The role with this current name (case-insensitive, whitespace-trimmed)."""
        guid = self._by_name.get(normalise_name(name))
        return self._role(guid) if guid is not None else None

    def former(self, name: str) -> tuple[str, BuiltinRole] | None:
        """`(former name as spelt in the catalog, current role)` for a role's former name."""
        found = self._former.get(normalise_name(name))
        return (found[0], self._role(found[1])) if found is not None else None

    def name_of(self, guid: str) -> str:
        """The role's name, or the GUID itself for a role that is not built in."""
        role = self.by_guid(guid)
        return role.name if role else guid.lower()

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Closest current role names to a misspelt one (difflib ratio, best first)."""
        import difflib  # only for a misspelt name

        key = normalise_name(name)
        matches = difflib.get_close_matches(key, self._names, n=limit, cutoff=0.6)
        if not matches:
            # A fragment ("secrets user") is as good a hint as a near-spelling.
            matches = [n for n in self._names if key and key in n][:limit]
        return [self._role(self._by_name[m]).name.strip() for m in matches]

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


# One role's line in the packaged catalog: `{"roleName": "...", "id": "<guid>", ...},`
_ROLE_LINE = re.compile(r'\{"roleName": ("(?:[^"\\]|\\.)*"), "id": "([0-9A-Fa-f-]{36})"')


class _ParsedOnDemand(dict[str, Mapping[str, Any]]):
    """GUID -> the role's JSON object, parsed from its line the first time it is read."""

    def __init__(self, lines: Mapping[str, str]) -> None:
        super().__init__()
        self._lines = lines

    def __missing__(self, guid: str) -> Mapping[str, Any]:
        item: Mapping[str, Any] = json.loads(self._lines[guid])
        self[guid] = item
        return item


def _parse_role(item: Mapping[str, Any]) -> BuiltinRole:
    perms = tuple(
        Permission(
            actions=tuple(p.get("actions") or ()),
            not_actions=tuple(p.get("notActions") or ()),
            data_actions=tuple(p.get("dataActions") or ()),
            not_data_actions=tuple(p.get("notDataActions") or ()),
        )
        for p in item.get("permissions") or ()
    )
    return BuiltinRole(
        name=item["roleName"],
        guid=item["id"].lower(),
        description=item.get("description") or "",
        permissions=perms,
    )


def _read_data(name: str) -> str:
    data = pkgutil.get_data("identity_reconciler.data", name)  # also from a zipped install
    if data is None:
        raise FileNotFoundError(f"identity_reconciler.data/{name}")
    return data.decode("utf-8")


@functools.cache
def catalog() -> RoleCatalog:
    """The packaged catalog, read once per process."""
    raw_renames = json.loads(_read_data(RENAMES_FILE))
    renames: dict[str, str] = {}
    if isinstance(raw_renames, dict):
        for former, _current, guid, _date in raw_renames.get("renames", []):
            renames[former] = guid
    return RoleCatalog.from_text(_read_data(CATALOG_FILE), renames)

