"""A world for the local emulator in which a user's own specs make sense.

Specs reference things identity-reconciler does not create: subscriptions, resource groups, the
resources that get identities or serve as grant scopes, SQL servers with an Entra admin. Locally
those must exist before a plan means anything, so we derive them from the DesiredState and merge
them into the packaged default world (which keeps the seed scenario working alongside).
"""

from __future__ import annotations

import copy
import re
from importlib import resources
from typing import Any

import yaml

from identity_reconciler.core import armid
from identity_reconciler.core.state import DesiredState

DEFAULT_LOCATION = "uksouth"
# Kinds the emulator and Azure use to tell App Service apps from function apps.
_SITE_KIND = "app"


def default_world() -> dict[str, Any]:
    text = resources.files("identity_reconciler.data").joinpath("default-world.yaml").read_text()
    world = yaml.safe_load(text)
    if not isinstance(world, dict):
        raise ValueError("the packaged default world is not a mapping")
    return world


class _WorldBuilder:
    def __init__(self, base: dict[str, Any]) -> None:
        self.world = base
        self.world.setdefault("subscriptions", [])
        self.world.setdefault("management_groups", [])

    def subscription(self, sid: str) -> dict[str, Any]:
        for sub in self.world["subscriptions"]:
            if str(sub.get("id", "")).lower() == sid.lower():
                sub.setdefault("resource_groups", [])
                return sub  # type: ignore[no-any-return]
        sub = {"id": sid, "display_name": f"Local {sid[:8]}", "resource_groups": []}
        self.world["subscriptions"].append(sub)
        return sub

    def resource_group(self, sid: str, name: str, location: str | None) -> dict[str, Any]:
        sub = self.subscription(sid)
        for rg in sub["resource_groups"]:
            if str(rg.get("name", "")).lower() == name.lower():
                rg.setdefault("resources", [])
                return rg  # type: ignore[no-any-return]
        rg = {"name": name, "location": location or DEFAULT_LOCATION, "tags": {}, "resources": []}
        sub["resource_groups"].append(rg)
        return rg

    def resource(self, scope: armid.Scope, location: str | None = None) -> dict[str, Any] | None:
        """Ensure the top-level resource of `scope` (and a nested database) exists."""
        if scope.subscription_id is None or scope.resource_group is None:
            return None
        rg = self.resource_group(scope.subscription_id, scope.resource_group, location)
        if scope.namespace is None:
            return None
        rtype = f"{scope.namespace}/{scope.types[0]}"
        name = scope.names[0]
        for res in rg["resources"]:
            if (
                str(res.get("type", "")).lower() == rtype.lower()
                and str(res.get("name", "")).lower() == name.lower()
            ):
                entry: dict[str, Any] = res
                break
        else:
            entry = {"type": rtype, "name": name}
            if rtype.lower() == "microsoft.web/sites":
                entry["kind"] = _SITE_KIND
            rg["resources"].append(entry)
        if rtype.lower() == "microsoft.sql/servers":
            if "entra_admin" not in entry:
                entry["entra_admin"] = {"login": "sqladmins", "object_id": _SQL_ADMIN_ID}
                self._principal(_SQL_ADMIN_ID, "Group", "sqladmins")
            if len(scope.types) > 1 and scope.types[1].lower() == "databases":
                dbs = entry.setdefault("databases", [])
                if scope.names[1].lower() not in {str(d).lower() for d in dbs}:
                    dbs.append(scope.names[1])
        elif len(scope.types) > 1:
            self._child(rg, scope)
        return entry

    @staticmethod
    def _child(rg: dict[str, Any], scope: armid.Scope) -> None:
        """A child resource (a queue, a blob container, a slot) as its own entry."""
        rtype = scope.resource_type or ""
        name = "/".join(scope.names)
        for res in rg["resources"]:
            if (
                str(res.get("type", "")).lower() == rtype.lower()
                and str(res.get("name", "")).lower() == name.lower()
            ):
                return
        rg["resources"].append({"type": rtype, "name": name})

    def _principal(self, object_id: str, kind: str, name: str) -> None:
        principals = self.world.setdefault("principals", [])
        if not any(str(p.get("object_id", "")).lower() == object_id for p in principals):
            principals.append({"object_id": object_id, "kind": kind, "display_name": name})

    def management_group(self, name: str) -> None:
        groups = self.world["management_groups"]
        if any(str(g.get("name", "")).lower() == name.lower() for g in groups):
            return
        groups.append({"name": name, "display_name": name, "parent": None, "subscriptions": []})


# A fixed, recognisable object id for the SQL Entra admin group of derived SQL servers.
_SQL_ADMIN_ID = "44444444-4444-4444-4444-444444444444"


# The location inside the emulator's input ("subscriptions[0].resource_groups[1]...: ").
_WORLD_PATH = re.compile(r"^[\w.\[\]]+: ")


def refused(exc: Exception) -> ValueError:
    """The emulator refused the world built from the specs: say so in the specs' terms.

    The user never wrote (or asked for) a world, so its name and its field paths stay out.
    """
    detail = _WORLD_PATH.sub("", str(exc).removeprefix("world: "), count=1)
    return ValueError(f"the local Azure cannot hold what the specs name: {detail}")


def world_for(desired: DesiredState | None, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The default world (or `base`) plus everything `desired` references."""
    builder = _WorldBuilder(copy.deepcopy(base) if base is not None else default_world())
    if desired is None:
        return builder.world
    for sid in desired.subscriptions:
        builder.subscription(sid)
    rg_locations: dict[tuple[str, str], str] = {}
    for ident in desired.identities.values():
        rg_locations.setdefault(
            (ident.subscription_id.lower(), ident.resource_group.lower()), ident.location
        )
        builder.resource_group(ident.subscription_id, ident.resource_group, ident.location)

    def location_of(scope: armid.Scope) -> str | None:
        key = ((scope.subscription_id or "").lower(), (scope.resource_group or "").lower())
        return rg_locations.get(key)

    for res in desired.resources.values():
        scope = armid.try_parse(res.resource_id)
        if scope is not None:
            builder.resource(scope, location_of(scope))
    for grant in desired.grants.values():
        scope = armid.try_parse(grant.scope)
        if scope is None:
            continue
        if scope.kind is armid.ScopeKind.MANAGEMENT_GROUP and scope.management_group:
            builder.management_group(scope.management_group)
        elif scope.kind is armid.ScopeKind.SUBSCRIPTION and scope.subscription_id:
            builder.subscription(scope.subscription_id)
        elif scope.kind is armid.ScopeKind.RESOURCE_GROUP:
            builder.resource_group(
                scope.subscription_id or "", scope.resource_group or "", location_of(scope)
            )
        else:
            builder.resource(scope, location_of(scope))
        if grant.principal.kind.value == "system_assigned":
            principal_scope = armid.try_parse(grant.principal.id)
            if principal_scope is not None:
                builder.resource(principal_scope, location_of(principal_scope))
    for db in desired.sql:
        scope = armid.try_parse(db.server_id.rstrip("/") + "/databases/" + db.database)
        if scope is not None:
            builder.resource(scope, location_of(scope))
    return builder.world
