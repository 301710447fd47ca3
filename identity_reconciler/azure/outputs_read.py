"""The live side of `outputs`: the identities the specs declare, and nothing else.

One list request per subscription finds every user-assigned identity (client id, principal id,
tenant); one GET per resource whose system-assigned identity the specs manage gives its
principal id. No grants, no credentials: an app deployment waiting for its client id should not
pay for a plan's read.
"""

from __future__ import annotations

from identity_reconciler.azure import convert
from identity_reconciler.azure.clients import Session
from identity_reconciler.azure.reader import list_identities, read_resource, read_scope
from identity_reconciler.core import armid
from identity_reconciler.core.live import LiveState
from identity_reconciler.core.state import DesiredState


def read_declared_identities(session: Session, desired: DesiredState) -> LiveState:
    before = session.requests
    scope = read_scope(desired)
    wanted = {armid.key(i.id) for i in desired.identities.values()}
    identities = {
        armid.key(live.id): live
        for subscription in scope.subscriptions
        for live in list_identities(session, subscription)
        if armid.key(live.id) in wanted
    }
    resources = {
        armid.key(res.resource_id): read_resource(
            session, convert.canonical_id(res.resource_id), res.resource_type
        )
        for res in desired.resources.values()
        if res.system_assigned
    }
    return LiveState(identities=identities, resources=resources,
                     requests=session.requests - before)
