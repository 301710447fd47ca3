"""ARM scopes as Azure RBAC sees them: parsing, existence, and the at/above/below relations.

A role assignment applies to its own scope and everything below it, and management groups sit
above subscriptions (nearest first in the chain the world seeds). Listing "at or above" a scope
therefore walks the scope's ancestors — every path prefix, the subscription's management-group
chain and the root — while "below" is a prefix match on ids, widened for management groups to
the subscriptions and groups they contain.
"""

from __future__ import annotations

from dataclasses import dataclass

from local_azure.kernel import JSON, ArmError, Context
from local_azure.providers import scopes
from local_azure.providers.scopes import management_group_chain
from local_azure.store import Store

MG_PREFIX = "/providers/Microsoft.Management/managementGroups/"
SUBSCRIPTION_TYPE = "subscription"
MANAGEMENT_GROUP_TYPE = "Microsoft.Management/managementGroups"


@dataclass(frozen=True)
class Scope:
    """A parsed scope. `path` is canonical: fixed keywords in ARM casing, no trailing slash."""

    path: str
    subscription: str | None = None
    resource_group: str | None = None
    management_group: str | None = None
    resource: str | None = None  # the top-level resource id when the scope is (in) a resource

    @property
    def key(self) -> str:
        return self.path.lower()

    @property
    def is_root(self) -> bool:
        return self.path == "/"


def parse(raw: str) -> Scope:
    """A scope from a path fragment (leading slashes optional), or 400 MissingSubscription."""
    segs = [s for s in raw.strip().split("/") if s]
    if not segs:
        return Scope("/")
    low = [s.lower() for s in segs]
    if low[:3] == ["providers", "microsoft.management", "managementgroups"] and len(segs) >= 4:
        tail = "/".join(segs[4:])
        path = MG_PREFIX + segs[3] + (f"/{tail}" if tail else "")
        return Scope(path, management_group=segs[3])
    if low[0] == "providers" and len(segs) >= 2:
        return Scope("/" + "/".join(segs))  # tenant-level, e.g. /providers/Microsoft.Capacity
    if low[0] != "subscriptions" or len(segs) < 2:
        raise missing_subscription()
    sub = segs[1].lower()
    path = f"/subscriptions/{sub}"
    rg = None
    rest: list[str] = segs[2:]
    if rest and rest[0].lower() == "resourcegroups":
        if len(rest) < 2:
            raise missing_subscription()
        rg = rest[1]
        path += f"/resourceGroups/{rg}"
        rest = rest[2:]
    resource = None
    if rest:
        if rest[0].lower() != "providers" or len(rest) < 4:
            raise missing_subscription()
        rest = ["providers", *rest[1:]]
        resource = path + "/" + "/".join(rest[:4])
        path += "/" + "/".join(rest)
    return Scope(path, subscription=sub, resource_group=rg, resource=resource)


def missing_subscription() -> ArmError:
    return ArmError(
        400,
        "MissingSubscription",
        "The request did not have a subscription or a valid tenant level resource provider.",
    )


def management_group_ancestors(store: Store, mg_id: str) -> list[str]:
    """A management group's parents, nearest first (cycles cut)."""
    out: list[str] = []
    seen = {mg_id.lower()}
    doc = store.get(mg_id)
    while doc is not None and doc.get("_parent"):
        parent = str(doc["_parent"])
        if parent.lower() in seen:
            break
        seen.add(parent.lower())
        out.append(parent)
        doc = store.get(parent)
    return out


def require_scope(ctx: Context, scope: Scope) -> JSON | None:
    """404 when the scope's subscription, group, management group or resource is missing.

    Only the top-level resource is checked: data-plane sub-scopes (a blob container under a
    storage account, say) are valid RBAC scopes the emulator does not model as documents.
    """
    if scope.management_group is not None:
        doc = ctx.store.get(MG_PREFIX + scope.management_group)
        if doc is None:
            raise ArmError(
                404,
                "ManagementGroupNotFound",
                f"The management group '{scope.management_group}' could not be found.",
            )
        return doc
    if scope.subscription is None:
        return None  # the root or a tenant-level provider scope: nothing to look up
    if scope.resource_group is not None:
        doc = scopes.require_resource_group(ctx, scope.subscription, scope.resource_group)
    else:
        doc = scopes.require_subscription(ctx, scope.subscription)
    if scope.resource is None:
        return doc
    res = ctx.store.get(scope.resource)
    if res is None:
        kind = "/".join(scope.resource.split("/providers/", 1)[1].split("/")[:3])
        where = f" under resource group '{scope.resource_group}'" if scope.resource_group else ""
        raise ArmError(
            404,
            "ResourceNotFound",
            f"The Resource '{kind}'{where} was not found. For more details please go to "
            "https://aka.ms/ARMResourceNotFoundFix",
        )
    return res


# ---------------------------------------------------------------------- relations


def ancestors(store: Store, scope: Scope) -> list[str]:
    """Every scope at or above `scope`, root first: "/", management groups, path prefixes.

    Path prefixes include non-scopes such as `.../providers`; nothing is assigned there, so
    asking costs a lookup and changes no answer.
    """
    out = ["/"]
    if scope.management_group is not None:
        out += reversed(management_group_ancestors(store, MG_PREFIX + scope.management_group))
        start = MG_PREFIX.rstrip("/")
    else:
        if scope.subscription is not None:
            out += reversed(management_group_chain(store, scope.subscription))
        start = ""
    prefix = start
    for seg in (s for s in scope.path[len(start) :].split("/") if s):
        prefix += "/" + seg
        out.append(prefix)
    return out


def is_at_or_above(store: Store, candidate: str, target: Scope) -> bool:
    key = candidate.rstrip("/").lower() or "/"
    return key in {a.lower() for a in ancestors(store, target)}


def descendant_roots(store: Store, scope: Scope) -> list[str]:
    """Scopes whose subtrees lie below `scope` (itself; for a management group, its members)."""
    if scope.is_root:
        return ["/"]
    if scope.management_group is None:
        return [scope.path]
    mg_key = (MG_PREFIX + scope.management_group).lower()
    roots = [MG_PREFIX + scope.management_group]
    for doc in store.by_type(MANAGEMENT_GROUP_TYPE):
        mg_id = str(doc.get("id", ""))
        if mg_key in {a.lower() for a in management_group_ancestors(store, mg_id)}:
            roots.append(mg_id)
    for doc in store.by_type(SUBSCRIPTION_TYPE):
        sub_id = str(doc.get("subscriptionId") or str(doc.get("id", "")).rsplit("/", 1)[-1])
        if mg_key in {m.lower() for m in management_group_chain(store, sub_id)}:
            roots.append(f"/subscriptions/{sub_id}")
    return roots
