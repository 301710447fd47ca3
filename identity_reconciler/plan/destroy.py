"""Destroy: the desired state in which everything the given specs own is gone.

`destroy SPECS` does not get a planner of its own: it plans, with the ordinary diff, towards a
state where the identities those specs declare are retired (deleted when owned, with their owned
grants and attachments), the system-assigned identities they switch on are switched off (their
owned grants go with them), and their Azure SQL users are dropped (only users marked as ours).
The result is an ordinary plan: reviewed, saved, applied, and held to the same ownership rules
and safety checks (deleting an identity always needs --allow-delete-identity).

The managed scope plays no part: a destroy removes what those specs own, never other owned
objects that happen to share a resource group or subscription with them.
"""

from __future__ import annotations

import dataclasses

from identity_reconciler.core import armid
from identity_reconciler.core.state import DesiredResourceIdentity, DesiredState


def destroy_state(desired: DesiredState) -> DesiredState:
    resources = {
        key: DesiredResourceIdentity(
            resource_id=r.resource_id,
            resource_type=r.resource_type,
            # Switched off only where the specs switched it on; never touched otherwise.
            system_assigned=False if r.system_assigned else None,
            user_assigned=(),
            source=r.source,
        )
        for key, r in desired.resources.items()
    }
    sql = tuple(
        dataclasses.replace(
            db, users=(), prune=False, retire=tuple(u.user_name for u in db.users)
        )
        for db in desired.sql
    )
    return dataclasses.replace(
        desired,
        identities={},
        resources=resources,
        grants={},
        sql=sql,
        managed_resource_groups=frozenset(),
        managed_subscriptions=frozenset(),
        retiring=frozenset(armid.key(i.id) for i in desired.identities.values()),
    )
