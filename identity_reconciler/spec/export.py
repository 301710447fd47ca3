"""Live estate -> spec documents: the inverse of the builder, for adopting an existing estate.

Each document is what a person would have written: one file per resource group, defaults for
the subscription, resource group, most common location and the tags every identity shares,
roles by built-in name, scopes in the
structured form when they are in the same subscription. Everything is sorted, so exporting the
same estate twice gives the same bytes, and the output is checked against the builder's own
reading of it (a scope that would not come back as the same ARM id is written as an ARM id).

What the spec format cannot say is not silently dropped: it is returned as a note for the
person running the export (e.g. an identity attached to a resource type specs do not manage).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from identity_reconciler.core import armid, ownership, privilege, roles
from identity_reconciler.core.live import LiveGrant, LiveIdentity, LiveResourceIdentity, LiveState
from identity_reconciler.spec.export_credentials import credential_entry
from identity_reconciler.spec.export_yaml import dump_document
from identity_reconciler.spec.values import IDENTITY_HOST_TYPES

DEFAULT_SCHEMA_REF = "../schemas/spec.schema.json"
ALLOWANCE_JUSTIFICATION = (
    "exported as found live; write down why this broad grant is needed, or remove it"
)
_SYSTEM = "systemassigned"
_BROAD = armid.ScopeKind.SUBSCRIPTION.breadth


@dataclass(frozen=True)
class ExportedFile:
    name: str  # file name, e.g. rg-myapp-prod-uks-01.yaml
    resource_group: str
    text: str
    identities: int = 0
    resources: int = 0
    grants: int = 0
    unowned: tuple[str, ...] = ()  # identities without the ownership tag


@dataclass
class Export:
    files: list[ExportedFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what the spec format cannot express


def host_type(resource_type: str) -> str | None:
    """The canonical spelling of a type whose identity block specs manage, else None."""
    return IDENTITY_HOST_TYPES.get(resource_type.lower())


class _Exporter:
    def __init__(
        self, live: LiveState, subscriptions: Iterable[str], groups: frozenset[str]
    ) -> None:
        self.live = live
        self.subs = frozenset(s.lower() for s in subscriptions)
        self.sub = ""  # the subscription of the file being written
        self.groups = groups
        self.notes: list[str] = []
        self.catalog = roles.catalog()
        self.by_principal: dict[str, list[LiveGrant]] = {}
        for g in sorted(
            live.grants.values(),
            key=lambda g: (armid.key(g.scope), g.role_definition_guid, g.name),
        ):
            self.by_principal.setdefault(g.principal_id.lower(), []).append(g)

    def in_scope(self, resource_group: str | None) -> bool:
        return not self.groups or (resource_group or "").lower() in self.groups

    # ------------------------------------------------------------------ files

    def export(self, schema_ref: str) -> Export:
        Lists = tuple[list[LiveIdentity], list[LiveResourceIdentity]]
        by_group: dict[tuple[str, str], Lists] = {}

        def bucket(sub: str, rg: str) -> Lists:
            for (known_sub, known), lists in by_group.items():
                if known_sub == sub.lower() and known.lower() == rg.lower():
                    return lists
            return by_group.setdefault((sub.lower(), rg), ([], []))

        for ident in self.live.identities.values():
            sub = ident.subscription_id.lower()
            if sub in self.subs and self.in_scope(ident.resource_group):
                bucket(sub, ident.resource_group)[0].append(ident)
        for res in self.live.resources.values():
            parsed = armid.try_parse(res.resource_id)
            if parsed is None or parsed.subscription_id not in self.subs:
                continue
            if not self.in_scope(parsed.resource_group) or not res.system_principal_id:
                continue
            if _SYSTEM not in armid.normalise_identity_type(res.identity_type):
                continue
            if host_type(res.resource_type) is None:
                self.notes.append(
                    f"{res.resource_id}: system-assigned identity on a {res.resource_type}, "
                    "which specs cannot manage (only "
                    f"{', '.join(IDENTITY_HOST_TYPES.values())}); not exported"
                )
                continue
            bucket(parsed.subscription_id or "", parsed.resource_group or "")[1].append(res)
        out = Export(notes=self.notes)
        names = Counter(rg.lower() for _, rg in by_group)
        for sub, rg in sorted(by_group, key=lambda k: (k[1].lower(), k[0])):
            identities, resources = by_group[(sub, rg)]
            # One file per resource group; a name two subscriptions share gets the
            # subscription's first block, so neither file overwrites the other.
            name = f"{rg}.yaml" if names[rg.lower()] == 1 else f"{rg}.{sub[:8]}.yaml"
            out.files.append(
                self.file(
                    sub, rg, identities=identities, resources=resources, schema_ref=schema_ref,
                    name=name,
                )
            )
        return out

    def file(
        self,
        sub: str,
        rg: str,
        *,
        identities: list[LiveIdentity],
        resources: list[LiveResourceIdentity],
        schema_ref: str,
        name: str,
    ) -> ExportedFile:
        self.sub = sub
        identities = sorted(identities, key=lambda i: i.name.lower())
        resources = sorted(resources, key=lambda r: armid.key(r.resource_id))
        locations = Counter(i.location for i in identities)
        location = min(locations, key=lambda loc: (-locations[loc], loc)) if locations else None
        doc: dict[str, Any] = {"subscription": self.sub}
        doc["defaults"] = {"resource_group": rg, **({"location": location} if location else {})}
        shared = _shared_tags(identities)
        if shared:
            doc["defaults"]["tags"] = shared
        allowances: dict[tuple[str, str], dict[str, Any]] = {}
        grants = 0
        ident_entries = []
        for ident in identities:
            entry, count = self.identity(ident, rg, location, allowances, shared)
            ident_entries.append(entry)
            grants += count
        res_entries = []
        for res in resources:
            entry, count = self.resource(res, rg, allowances)
            res_entries.append(entry)
            grants += count
        if ident_entries:
            doc["identities"] = ident_entries
        if res_entries:
            doc["resources"] = res_entries
        if allowances:
            doc["policy"] = {"allow_privileged": [allowances[k] for k in sorted(allowances)]}
        unowned = tuple(i.name for i in identities if not ownership.is_owned_identity(i.tags))
        header = _header(schema_ref, self.sub, rg, unowned)
        return ExportedFile(
            name=name,
            resource_group=rg,
            text=header + dump_document(doc),
            identities=len(identities),
            resources=len(resources),
            grants=grants,
            unowned=unowned,
        )

    # ------------------------------------------------------------------ entries

    def identity(
        self,
        ident: LiveIdentity,
        rg: str,
        location: str | None,
        allowances: dict[tuple[str, str], dict[str, Any]],
        shared: dict[str, str],
    ) -> tuple[dict[str, Any], int]:
        entry: dict[str, Any] = {"name": ident.name}
        if ident.resource_group != rg:
            entry["resource_group"] = ident.resource_group
        if ident.location != location:
            entry["location"] = ident.location
        if ident.isolation_scope:
            entry["isolation_scope"] = ident.isolation_scope
        tags = {
            k: v
            for k, v in sorted(ident.tags.items())
            if k.lower() != ownership.OWNER_TAG and shared.get(k) != v
        }
        if tags:
            entry["tags"] = tags
        if ident.federated_credentials is not None:
            # Written even when empty: a listed set is managed, so credentials added outside
            # git later show up as drift.
            creds = sorted(ident.federated_credentials, key=lambda c: c.name.lower())
            written = [credential_entry(ident.name, c) for c in creds]
            self.notes += [note for _, note in written if note]
            entry["federated_credentials"] = [e for e, _ in written if e is not None]
        attached = self.attachments(ident)
        if attached:
            entry["assigned_to"] = attached
        grants = self.grants(ident.principal_id, ident.resource_group, ident.id, allowances)
        if grants:
            entry["roles"] = grants
        return entry, len(grants)

    def attachments(self, ident: LiveIdentity) -> list[dict[str, Any]]:
        key = armid.key(ident.id)
        out: list[tuple[tuple[str, str, str], dict[str, Any]]] = []
        for res in self.live.resources.values():
            if key not in res.user_assigned:
                continue
            parsed = armid.try_parse(res.resource_id)
            canonical = host_type(res.resource_type)
            if parsed is None or canonical is None or parsed.name is None:
                self.notes.append(
                    f"identity {ident.name}: attached to {res.resource_id} "
                    f"({res.resource_type}), which specs cannot manage; not exported"
                )
                continue
            ref: dict[str, Any] = {}
            if parsed.subscription_id != ident.subscription_id.lower():
                ref["subscription"] = parsed.subscription_id
            if (parsed.resource_group or "") != ident.resource_group:
                ref["resource_group"] = parsed.resource_group
            name = "/".join(parsed.names)  # a slot is app/slot
            ref.update({"type": canonical, "name": name})
            sort = (canonical.lower(), (parsed.resource_group or "").lower(), name.lower())
            out.append((sort, ref))
        return [ref for _, ref in sorted(out, key=lambda item: item[0])]

    def resource(
        self,
        res: LiveResourceIdentity,
        rg: str,
        allowances: dict[tuple[str, str], dict[str, Any]],
    ) -> tuple[dict[str, Any], int]:
        parsed = armid.parse_scope(res.resource_id)
        entry: dict[str, Any] = {}
        if parsed.resource_group != rg:
            entry["resource_group"] = parsed.resource_group
        entry["type"] = host_type(res.resource_type)
        entry["name"] = "/".join(parsed.names)
        entry["system_assigned"] = True
        grants = self.grants(
            res.system_principal_id or "", parsed.resource_group or "", res.resource_id, allowances
        )
        if grants:
            entry["roles"] = grants
        return entry, len(grants)

    def grants(
        self,
        principal_id: str,
        resource_group: str,
        owner: str,
        allowances: dict[tuple[str, str], dict[str, Any]],
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for g in self.by_principal.get(principal_id.lower(), []):
            scope = armid.try_parse(g.scope)
            if scope is None:
                self.notes.append(
                    f"{owner}: role assignment {g.name} at scope {g.scope!r} cannot be written "
                    "in a spec (the root scope or an unparseable id); not exported"
                )
                continue
            entry: dict[str, Any] = {
                "role": self.role(g.role_definition_guid),
                "scope": self.scope_value(scope, resource_group),
            }
            if g.condition:
                entry["condition"] = g.condition
                if g.condition_version and g.condition_version != "2.0":
                    self.notes.append(
                        f"{owner}: role assignment {g.name} has condition version "
                        f"{g.condition_version}; specs write 2.0 (plan will show an update)"
                    )
            description = _strip_marker(g.description)
            if description:
                entry["description"] = description
            out.append(entry)
            guid = g.role_definition_guid.lower()
            if privilege.forced_at(guid, scope.kind) is not None:
                allowances[(guid, scope.key)] = {
                    "role": entry["role"],
                    "scope": entry["scope"],
                    "justification": ALLOWANCE_JUSTIFICATION,
                }
        return out

    def role(self, guid: str) -> str:
        role = self.catalog.by_guid(guid)
        return role.name.strip() if role is not None else armid.role_definition_id(guid)

    def scope_value(self, scope: armid.Scope, resource_group: str) -> str | dict[str, Any]:
        """Structured when in the export's subscription and it reads back as the same id."""
        if scope.subscription_id != self.sub or scope.kind is armid.ScopeKind.MANAGEMENT_GROUP:
            return scope.id
        if scope.kind is armid.ScopeKind.SUBSCRIPTION:
            return {"subscription": self.sub}
        if scope.kind is armid.ScopeKind.RESOURCE_GROUP:
            return {"resource_group": scope.resource_group}
        value: dict[str, Any] = {}
        if scope.resource_group != resource_group:
            value["resource_group"] = scope.resource_group
        value["type"] = scope.resource_type
        value["name"] = "/".join(scope.names)
        rebuilt = armid.Scope(
            armid.ScopeKind.RESOURCE,
            subscription_id=self.sub,
            resource_group=value.get("resource_group", resource_group),
            namespace=scope.namespace,
            types=tuple(str(value["type"]).partition("/")[2].split("/")),
            names=tuple(str(value["name"]).split("/")),
        )
        return value if rebuilt.key == scope.key else scope.id


def _shared_tags(identities: list[LiveIdentity]) -> dict[str, str]:
    """Tags every identity of a file carries with the same value: written once, in defaults.

    Only from two identities on: a single identity's tags read better on the identity.
    """
    if len(identities) < 2:
        return {}
    common = {k: v for k, v in identities[0].tags.items() if k.lower() != ownership.OWNER_TAG}
    for ident in identities[1:]:
        common = {k: v for k, v in common.items() if ident.tags.get(k) == v}
    return dict(sorted(common.items()))


def _strip_marker(description: str | None) -> str:
    """The person's part of a description: ours adds the marker at the end, after a space."""
    return (description or "").replace(ownership.DESCRIPTION_MARKER, "").strip()


def _header(schema_ref: str, subscription: str, rg: str, unowned: tuple[str, ...]) -> str:
    lines = [
        f"# yaml-language-server: $schema={schema_ref}",
        "#",
        f"# Exported from live Azure: subscription {subscription}, resource group {rg}.",
    ]
    if unowned:
        lines.append(
            "# Not owned by identity-reconciler yet (plan refuses to take them over until it "
            "runs with --adopt):"
        )
        lines += [f"#   {name}" for name in unowned]
    return "\n".join(lines) + "\n"


def export_specs(
    live: LiveState,
    *,
    subscription_ids: Iterable[str],
    resource_groups: Iterable[str] = (),
    schema_ref: str = DEFAULT_SCHEMA_REF,
) -> Export:
    """Spec files for the identities and system-assigned resources of some subscriptions.

    Every grant of an exported identity is written, wherever its scope is in `live` (another
    subscription, a management group). `resource_groups` (names, any case) narrows what is
    exported; empty exports every group.
    """
    groups = frozenset(g.lower() for g in resource_groups)
    return _Exporter(live, subscription_ids, groups).export(schema_ref)
