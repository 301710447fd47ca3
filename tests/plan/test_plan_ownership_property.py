"""Property: over random live estates, no plan ever deletes what identity-reconciler does not own.

Random identities (owned or not, inside a managed group or not, desired or not, moved or not),
random role assignments (owned by name or not, on any principal), random attachments and system
switches, with and without adopt. Whatever the mix, every delete in the plan must target an
owned identity (absent from the specs and in a managed group, or replaced), an owned role
assignment, or an attachment of an identity we manage; and the plan must stay a valid, acyclic,
round-trippable plan.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from plan_factories import (
    BLOB_READER,
    KV_SECRETS_USER,
    RG,
    d_grant,
    d_identity,
    d_resource,
    desired,
    guid,
    identity_id,
    l_grant,
    l_identity,
    l_resource,
    live,
    plan,
    resource_id,
    rg_scope,
    system,
    user,
    vault,
)

from identity_reconciler.core import armid, ownership
from identity_reconciler.core.live import LiveGrant, LiveIdentity
from identity_reconciler.plan.model import Plan

NAMES = [f"id-{n}" for n in ("api", "web", "jobs", "etl", "ops", "bot")]
GROUPS = [RG, "rg-other"]
SCOPES = [vault(), rg_scope(), rg_scope("rg-other"), vault("kv-shared")]
ROLES = [KV_SECRETS_USER, BLOB_READER]
APP = resource_id("app-myapp")

identity_specs = st.lists(
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(NAMES),
            "rg": st.sampled_from(GROUPS),
            "owned": st.booleans(),
            "desired": st.booleans(),
            "moved": st.booleans(),
            "attached": st.booleans(),
            "wanted_on_app": st.booleans(),
        }
    ),
    max_size=6,
    unique_by=lambda d: (d["name"], d["rg"]),
)
grant_specs = st.lists(
    st.fixed_dictionaries(
        {
            "principal": st.integers(min_value=0, max_value=7),
            "scope": st.sampled_from(SCOPES),
            "role": st.sampled_from(ROLES),
            "owned": st.booleans(),
            "desired": st.booleans(),
            "foreign_marker": st.booleans(),
        }
    ),
    max_size=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    identities=identity_specs,
    grants=grant_specs,
    system_live=st.booleans(),
    system_wanted=st.sampled_from([None, True, False]),
    adopt=st.booleans(),
)
def test_no_plan_deletes_what_it_does_not_own(
    identities: list[dict[str, object]],
    grants: list[dict[str, object]],
    system_live: bool,
    system_wanted: bool | None,
    adopt: bool,
) -> None:
    live_ids = [
        l_identity(str(i["name"]), rg=str(i["rg"]), owned=bool(i["owned"])) for i in identities
    ]
    wanted_ids = [
        d_identity(
            str(i["name"]), rg=str(i["rg"]), location="westeurope" if i["moved"] else "uksouth"
        )
        for i in identities
        if i["desired"]
    ]
    app = l_resource(
        APP,
        type_="SystemAssigned, UserAssigned" if system_live else "UserAssigned",
        users=[identity_id(str(i["name"]), str(i["rg"])) for i in identities if i["attached"]],
    )
    principals = [i.principal_id for i in live_ids] + [
        app.system_principal_id or guid("none"),
        guid("stranger"),
    ]
    live_grants: list[LiveGrant] = []
    wanted_grants = []
    for g in grants:
        pid = principals[int(str(g["principal"])) % len(principals)]
        scope, role = str(g["scope"]), str(g["role"])
        if any(
            (x.scope, x.role_definition_guid, x.principal_id) == (scope, role, pid)
            for x in live_grants
        ):
            continue
        marker = ownership.DESCRIPTION_MARKER if g["foreign_marker"] else None
        live_grants.append(l_grant(pid, scope, role, owned=bool(g["owned"]), description=marker))
        owner = next((i for i in live_ids if i.principal_id == pid), None)
        if g["desired"] and owner is not None:
            wanted_grants.append(d_grant(user(owner.id), scope, role))
        elif g["desired"] and pid == app.system_principal_id:
            wanted_grants.append(d_grant(system(APP), scope, role))
    wanted_on_app = [
        identity_id(str(i["name"]), str(i["rg"])) for i in identities if i["wanted_on_app"]
    ]
    state = desired(
        wanted_ids,
        [d_resource(APP, system=system_wanted, users=wanted_on_app)],
        wanted_grants,
    )
    p = plan(state, live(live_ids, [app], live_grants), adopt=adopt)
    _check(p, live_ids, live_grants, {armid.key(d.id) for d in wanted_ids}, adopt)


def _check(
    p: Plan,
    live_ids: list[LiveIdentity],
    live_grants: list[LiveGrant],
    desired_keys: set[str],
    adopt: bool,
) -> None:
    identities = {armid.key(i.id): i for i in live_ids}
    grants = {armid.key(g.id): g for g in live_grants}
    for change in p.changes:
        deleted = [op for op in change.operations if op.method == "DELETE"]
        if change.kind == "identity":
            ident = identities.get(armid.key(change.id or ""))
            if ident is not None and not ownership.is_owned_identity(ident.tags):
                # Only adoption may touch an unowned identity, and never destructively.
                assert adopt, change.address
                assert change.actions == ("update",), change.address
        for op in deleted:
            if change.kind == "identity":
                ident = identities[armid.key(op.id)]
                assert ownership.is_owned_identity(ident.tags), change.address
                # Absent from the specs: only inside a managed group. In them: only a replace.
                in_specs = armid.key(op.id) in desired_keys
                assert change.is_replace if in_specs else ident.resource_group == RG

            elif change.kind == "grant":
                g = grants[armid.key(op.id)]
                assert ownership.is_owned_assignment(
                    g.name, g.scope, g.role_definition_guid, g.principal_id
                ), change.address
            else:
                raise AssertionError(f"unexpected DELETE in {change.address}")
        if change.kind == "attachment" and "delete" in change.actions:
            ident_id = str((change.before or {})["identity_id"])
            ident = identities[armid.key(ident_id)]
            managed = armid.key(ident_id) in desired_keys and (
                adopt or ownership.is_owned_identity(ident.tags)
            )
            owned_here = ownership.is_owned_identity(ident.tags) and ident.resource_group == RG
            assert managed or owned_here, change.address
    addresses = {c.address for c in p.changes}
    assert len(addresses) == len(p.changes)
    assert all(d in addresses for c in p.changes for d in c.depends_on)
    assert Plan.from_json(p.to_json()) == p
