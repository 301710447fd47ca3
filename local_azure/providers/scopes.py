"""Existence checks for the scopes every provider hangs below: subscriptions, resource groups.

Every provider answers the same 404s for a missing subscription or resource group, so they are
raised here once (and re-exported by `resources.groups`). The management-group chain above a
subscription is here too: Microsoft.Resources seeds it, Microsoft.Authorization walks it.
"""

from __future__ import annotations

from dataclasses import dataclass

from local_azure.kernel import JSON, ArmError, Context
from local_azure.store import Store


def group_id(subscription_id: str, name: str) -> str:
    return f"/subscriptions/{subscription_id}/resourceGroups/{name}"


def subscription_not_found(subscription_id: str) -> ArmError:
    return ArmError(
        404,
        "SubscriptionNotFound",
        f"The subscription '{subscription_id}' could not be found.",
    )


def require_subscription(ctx: Context, subscription_id: str) -> JSON:
    """The subscription document, or 404 SubscriptionNotFound."""
    doc = ctx.store.get(f"/subscriptions/{subscription_id}")
    if doc is None:
        raise subscription_not_found(subscription_id)
    return doc


def require_resource_group(ctx: Context, subscription_id: str, rg: str) -> JSON:
    """The resource group document; 404 SubscriptionNotFound / ResourceGroupNotFound."""
    require_subscription(ctx, subscription_id)
    doc = ctx.store.get(group_id(subscription_id, rg))
    if doc is None:
        raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{rg}' could not be found.")
    return doc


@dataclass(frozen=True)
class Ref:
    """Where a resource lives: the parts of its id."""

    subscription_id: str
    resource_group: str
    namespace: str
    types: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def type(self) -> str:
        return "/".join((self.namespace, *self.types))

    @property
    def name(self) -> str:
        return self.names[-1]

    @property
    def group_id(self) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{self.resource_group}"

    @property
    def id(self) -> str:
        path = "/".join(f"{t}/{n}" for t, n in zip(self.types, self.names, strict=True))
        return f"{self.group_id}/providers/{self.namespace}/{path}"

    @property
    def parent_id(self) -> str:
        if len(self.names) == 1:
            return self.group_id
        return Ref(
            self.subscription_id,
            self.resource_group,
            self.namespace,
            self.types[:-1],
            self.names[:-1],
        ).id

    def type_path(self) -> str:
        """`Microsoft.Web/sites/app-1` as ARM's not-found message shows it."""
        path = "/".join(f"{t}/{n}" for t, n in zip(self.types, self.names, strict=True))
        return f"{self.namespace}/{path}"


def management_group_chain(store: Store, subscription_id: str) -> list[str]:
    """Management-group ids above a subscription, nearest first (following `_parent` links)."""
    sub = store.get(f"/subscriptions/{subscription_id}")
    if sub is None:
        return []
    listed = [str(m) for m in sub.get("_managementGroups") or []]
    chain: list[str] = []
    current: str | None = listed[0] if listed else None
    while current and current.lower() not in {c.lower() for c in chain}:
        chain.append(current)
        doc = store.get(current)
        current = doc.get("_parent") if doc else None
    chain += [m for m in listed if m.lower() not in {c.lower() for c in chain}]
    return chain
