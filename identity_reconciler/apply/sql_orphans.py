"""Which owned SQL users belong to a principal that no longer exists.

A contained user made FROM EXTERNAL PROVIDER carries its principal's client id in its SID. An
owned user (marked managed-by) that the specs no longer name is an orphan when that client id
is none of the user-assigned identities listed in the subscriptions read, and its name is
neither a listed user-assigned identity's nor a resource's with a system-assigned identity
there (ARM does not show a system-assigned identity's client id, so its resource name, which
its user is named after, stands in). The resource names cost one paged list per subscription,
made only once a candidate is found.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from identity_reconciler.azure.clients import Session
from identity_reconciler.azure.reader import list_system_identities
from identity_reconciler.core.state import LiveState
from identity_reconciler.sql.model import LiveUser, fold


def orphan_rule(
    session: Session, live: LiveState, subscriptions: Sequence[str]
) -> Callable[[LiveUser], bool]:
    systems: set[str] | None = None

    def system_names() -> set[str]:
        nonlocal systems
        if systems is None:
            systems = {
                fold(name)
                for sub in subscriptions
                for name, _ in list_system_identities(session, sub)
            }
        return systems

    def orphaned(user: LiveUser) -> bool:
        app_id = (user.app_id or "").lower()
        if not (live.principals_complete and app_id) or app_id in live.client_ids:
            return False
        name = fold(user.name)
        return name not in live.identity_names and name not in system_names()

    return orphaned
