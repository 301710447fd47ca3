"""A small, seeded estate for reliability runs, and the checks that say nothing was lost.

Each seed draws a few user-assigned identities (federated credentials, attachments to resources
of the default world, role grants at a Key Vault, a storage account, an app and the resource
group) and a function app's system-assigned identity with grants: two spec versions, `before`
(applied cleanly first) and `after` (applied under faults), so the faulty run creates, updates
and deletes. Things that are not ours sit beside them (an identity attached to the same app, a
grant made by hand to one of our identities, the world's own grant) and must come out of every
run exactly as they went in.

The checks read the emulator's store, not the reconciler's reader: the truth is what the
emulator holds, whatever apply believes it did.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from azure.mgmt.authorization.v2022_04_01.models import RoleAssignmentCreateParameters

from identity_reconciler.azure.clients import Session
from identity_reconciler.azure.errors import arm_errors
from identity_reconciler.core import armid, ownership, roles
from identity_reconciler.core.state import DesiredState, PrincipalKind
from identity_reconciler.spec import validate
from local_azure.store import Store

SUB = "11111111-1111-1111-1111-111111111111"
RG = "rg-myapp-prod-uks-01"
RG_ID = f"/subscriptions/{SUB}/resourceGroups/{RG}"
APP = f"{RG_ID}/providers/Microsoft.Web/sites/app-myapp-prod-uks-01"
FUNC = f"{RG_ID}/providers/Microsoft.Web/sites/func-myapp-prod-uks-01"
CONTAINER_APP = f"{RG_ID}/providers/Microsoft.App/containerApps/ca-myapp-prod-uks-01"
KV = f"{RG_ID}/providers/Microsoft.KeyVault/vaults/kv-myapp-prod-uks-01"
STORAGE = f"{RG_ID}/providers/Microsoft.Storage/storageAccounts/stmyappproduks01"
LEGACY = "id-legacy-prod-uks-01"  # an identity someone else made, attached to the app
ISSUER = "https://token.actions.githubusercontent.com"
RA_TYPE = "microsoft.authorization/roleassignments"
UAI_TYPE = "microsoft.managedidentity/userassignedidentities"
FIC_TYPE = UAI_TYPE + "/federatedidentitycredentials"

# (role, scope): non-privileged built-in roles where one would grant them.
GRANT_POOL: tuple[tuple[str, str], ...] = (
    ("Key Vault Secrets User", KV),
    ("Key Vault Reader", KV),
    ("Key Vault Certificates Officer", KV),
    ("Storage Blob Data Reader", STORAGE),
    ("Storage Blob Data Contributor", STORAGE),
    ("Storage Queue Data Contributor", STORAGE),
    ("Reader", RG_ID),
    ("Monitoring Reader", RG_ID),
    ("Log Analytics Reader", RG_ID),
    ("Website Contributor", APP),
    ("Reader", APP),
)
ATTACHABLE = (APP, CONTAINER_APP)


# --------------------------------------------------------------------------- specs


@dataclass
class _Identity:
    name: str
    credentials: dict[str, str]  # name -> subject
    attached: list[str]
    grants: list[tuple[str, str]]
    team: str


def _grant_lines(grants: Iterable[tuple[str, str]], indent: str) -> list[str]:
    out = [f"{indent}roles:"]
    out += [f"{indent}  - {{role: {role}, scope: {scope}}}" for role, scope in grants]
    return out


def _identity_lines(ident: _Identity) -> list[str]:
    lines = [f"  - name: {ident.name}", f"    tags: {{team: {ident.team}}}"]
    if ident.credentials:
        lines.append("    federated_credentials:")
        lines += [
            f'      - {{name: {name}, issuer: "{ISSUER}", subject: "{subject}"}}'
            for name, subject in sorted(ident.credentials.items())
        ]
    if ident.attached:
        lines.append("    assigned_to:")
        for rid in ident.attached:
            scope = armid.parse_scope(rid)
            rtype = f"{scope.namespace}/{scope.types[0]}"
            lines.append(f"      - {{type: {rtype}, name: {scope.names[0]}}}")
    if ident.grants:
        lines += _grant_lines(ident.grants, "    ")
    return lines


def _spec_text(identities: list[_Identity], func_grants: list[tuple[str, str]]) -> str:
    lines = [
        f"subscription: {SUB}",
        f"defaults: {{location: uksouth, resource_group: {RG}, tags: {{env: prod}}}}",
        "identities:" if identities else "identities: []",
    ]
    for ident in identities:
        lines += _identity_lines(ident)
    if func_grants:
        lines += [
            "resources:",
            "  - type: Microsoft.Web/sites",
            "    name: func-myapp-prod-uks-01",
            "    system_assigned: true",
        ]
        lines += _grant_lines(func_grants, "    ")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class EstateSpecs:
    """The two spec versions of one seed, as YAML text."""

    seed: int
    before: str
    after: str


def draw(seed: int, *, identities: tuple[int, int] = (2, 4)) -> EstateSpecs:
    """Seeded specs: `after` has ~10-20 grants; `before` shares part of it and differs."""
    rng = random.Random(f"estate:{seed}")
    count = rng.randint(*identities)
    after: list[_Identity] = []
    for i in range(count):
        creds = {
            f"gh-{k}": f"repo:contoso/svc{i}:environment:env{k}" for k in range(rng.randint(0, 2))
        }
        attached = [r for r in ATTACHABLE if rng.random() < 0.5]
        grants = rng.sample(GRANT_POOL, rng.randint(3, 5))
        after.append(_Identity(f"id-svc{i}-prod-uks-01", creds, attached, grants, "blue"))
    func_grants = rng.sample(GRANT_POOL[:6], rng.randint(0, 2))

    before: list[_Identity] = []
    for ident in after:
        if ident is after[0] or rng.random() < 0.3:
            continue  # created by the faulty run (always one: its grants wait for a new principal)
        creds = {n: s for n, s in ident.credentials.items() if rng.random() < 0.7}
        for name in list(creds)[:1]:
            if rng.random() < 0.5:
                creds[name] = creds[name] + "-old"  # an update
        kept = [g for g in ident.grants if rng.random() < 0.6]
        extra = [g for g in GRANT_POOL if g not in ident.grants and rng.random() < 0.15]
        attached = [r for r in ident.attached if rng.random() < 0.6]
        team = "blue" if rng.random() < 0.6 else "red"  # red: a tag update
        before.append(_Identity(ident.name, creds, attached, kept + extra, team))
    if rng.random() < 0.3:  # an identity the faulty run deletes, with its grants
        gone = rng.sample(GRANT_POOL, 2)
        before.append(_Identity("id-retired-prod-uks-01", {}, [], gone, "blue"))
    before_func = [g for g in func_grants if rng.random() < 0.5]
    return EstateSpecs(seed, _spec_text(before, before_func), _spec_text(after, func_grants))


def desired_of(text: str, folder: Path) -> DesiredState:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "estate.yaml").write_text(text)
    result = validate([str(folder)])
    if result.desired is None:
        problems = "; ".join(str(f) for f in result.findings[:3])
        raise AssertionError(f"generated specs do not validate: {problems}")
    return result.desired


# --------------------------------------------------------------------------- unowned objects


def setup_unowned(session: Session, seed: int) -> None:
    """Someone else's identity (with a credential), attached to the app, with a grant."""
    with arm_errors():
        msi = session.msi(SUB)
        legacy = msi.user_assigned_identities.create_or_update(
            RG, LEGACY, {"location": "uksouth", "tags": {"owner": "legacy"}}
        )
        msi.federated_identity_credentials.create_or_update(
            RG,
            LEGACY,
            "legacy-deploy",
            {
                "properties": {
                    "issuer": ISSUER,
                    "subject": f"repo:contoso/legacy:{seed}",
                    "audiences": ["api://AzureADTokenExchange"],
                }
            },
        )
        session.resources(SUB).resources.begin_update_by_id(
            APP,
            {"identity": {"type": "UserAssigned", "userAssignedIdentities": {str(legacy.id): {}}}},
            api_version="2024-11-01",
        ).result()
        assign(session, KV, "Key Vault Reader", str(legacy.principal_id), seed)


def assign(session: Session, scope: str, role: str, principal: str, seed: int) -> str:
    guid = roles.catalog().resolve(role).guid
    rng = random.Random(f"hand:{seed}:{scope}")
    name = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    with arm_errors():
        made = session.authorization(SUB).role_assignments.create(
            scope,
            name,
            RoleAssignmentCreateParameters(
                role_definition_id=f"/subscriptions/{SUB}/providers/"
                f"Microsoft.Authorization/roleDefinitions/{guid}",
                principal_id=principal,
                principal_type="ServicePrincipal",
            ),
        )
    return str(made.id)


# --------------------------------------------------------------------------- store checks


def _assignments(store: Store) -> list[dict[str, Any]]:
    return store.by_type(RA_TYPE)


def grant_key(doc: Mapping[str, Any]) -> tuple[str, str, str]:
    props = doc["properties"]
    return (
        armid.key(str(props["scope"])),
        str(doc["_roleDefinitionGuid"]).lower(),
        str(doc["_principalId"]).lower(),
    )


def is_ours(doc: Mapping[str, Any]) -> bool:
    scope, role, principal = grant_key(doc)
    return ownership.is_owned_assignment(str(doc["name"]), scope, role, principal)


@dataclass
class Unowned:
    """What is not ours, as the store held it: it must be there, unchanged, afterwards."""

    assignments: dict[str, dict[str, Any]] = field(default_factory=dict)
    identities: dict[str, dict[str, Any]] = field(default_factory=dict)
    credentials: dict[str, dict[str, Any]] = field(default_factory=dict)
    attachments: set[tuple[str, str]] = field(default_factory=set)


def snapshot_unowned(store: Store) -> Unowned:
    snap = Unowned()
    for doc in _assignments(store):
        if not is_ours(doc):
            snap.assignments[armid.key(str(doc["id"]))] = doc
    for doc in store.by_type(UAI_TYPE):
        if not ownership.is_owned_identity(doc.get("tags")):
            key = armid.key(str(doc["id"]))
            snap.identities[key] = doc
            for fic in store.children(key, FIC_TYPE):
                snap.credentials[armid.key(str(fic["id"]))] = fic
    for rid in (APP, CONTAINER_APP, FUNC):
        doc = store.get(rid) or {}
        attached = (doc.get("identity") or {}).get("userAssignedIdentities") or {}
        for ident in attached:
            if armid.key(ident) in snap.identities:
                snap.attachments.add((armid.key(rid), armid.key(ident)))
    return snap


def principal_of(store: Store, kind: PrincipalKind, object_id: str) -> str | None:
    doc = store.get(object_id)
    if doc is None:
        return None
    if kind is PrincipalKind.USER_ASSIGNED:
        return str(doc["properties"]["principalId"]).lower()
    found = (doc.get("identity") or {}).get("principalId")
    return str(found).lower() if found else None


def _check_identities(store: Store, desired: DesiredState, problems: list[str]) -> None:
    for ident in desired.identities.values():
        doc = store.get(ident.id)
        if doc is None:
            problems.append(f"lost identity {ident.name}")
            continue
        if not ownership.is_owned_identity(doc.get("tags")):
            problems.append(f"identity {ident.name} lacks the ownership tag")
        live = {str(f["name"]).lower(): f for f in store.children(ident.id, FIC_TYPE)}
        for fic in ident.federated_credentials or ():
            got = live.get(fic.name.lower())
            if got is None or got["properties"]["subject"] != fic.subject:
                problems.append(f"lost or wrong credential {ident.name}/{fic.name}")
    wanted = {armid.key(i.id) for i in desired.identities.values()}
    for doc in store.by_type(UAI_TYPE):
        if ownership.is_owned_identity(doc.get("tags")) and armid.key(str(doc["id"])) not in wanted:
            problems.append(f"owned identity {doc['name']} left behind")


def _check_attachments(store: Store, desired: DesiredState, problems: list[str]) -> None:
    for res in desired.resources.values():
        doc = store.get(res.resource_id) or {}
        block = doc.get("identity") or {}
        attached = {armid.key(k) for k in (block.get("userAssignedIdentities") or {})}
        for ident in res.user_assigned:
            if armid.key(ident) not in attached:
                problems.append(f"lost attachment {ident} on {res.resource_id}")
        if res.system_assigned and not block.get("principalId"):
            problems.append(f"system-assigned identity of {res.resource_id} is off")


def check_estate(
    store: Store, desired: DesiredState, unowned: Unowned, *, extra_unowned: Iterable[str] = ()
) -> list[str]:
    """Everything desired is there exactly once, nothing owned is left over, nothing unowned
    changed (`extra_unowned`: ids of grants others made during the run; they must survive)."""
    problems: list[str] = []
    docs = _assignments(store)
    counts = Counter(grant_key(d) for d in docs)
    problems += [f"duplicated grant {k} x{n}" for k, n in counts.items() if n > 1]
    present = set(counts)
    wanted: set[tuple[str, str, str]] = set()
    for grant in desired.grants.values():
        principal = principal_of(store, grant.principal.kind, grant.principal.id)
        if principal is None:
            problems.append(f"no principal for {grant.principal.id}")
            continue
        key = (armid.key(grant.scope), grant.role_definition_guid.lower(), principal)
        wanted.add(key)
        if key not in present:
            problems.append(f"lost grant {grant.role_name} at {grant.scope} for {principal}")
    for doc in docs:
        if is_ours(doc) and grant_key(doc) not in wanted:
            problems.append(f"owned grant {doc['name']} left behind ({grant_key(doc)})")
    _check_identities(store, desired, problems)
    _check_attachments(store, desired, problems)
    problems += compare_unowned(store, unowned)
    by_id = {armid.key(str(d["id"])) for d in docs}
    problems += [
        f"grant made by someone else is gone: {i}"
        for i in extra_unowned
        if armid.key(i) not in by_id
    ]
    return problems


def compare_unowned(store: Store, unowned: Unowned) -> list[str]:
    problems: list[str] = []
    for group in (unowned.assignments, unowned.identities, unowned.credentials):
        for key, before in group.items():
            now = store.get(key)
            if now != before:
                problems.append(f"unowned object {'deleted' if now is None else 'changed'}: {key}")
    for rid, ident in sorted(unowned.attachments):
        doc = store.get(rid) or {}
        attached = (doc.get("identity") or {}).get("userAssignedIdentities") or {}
        if ident not in {armid.key(k) for k in attached}:
            problems.append(f"unowned attachment removed: {ident} from {rid}")
    return problems
