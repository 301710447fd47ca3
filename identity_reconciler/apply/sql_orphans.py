"""Which owned SQL users belong to a principal that no longer exists.

A contained user made FROM EXTERNAL PROVIDER carries its principal's client id in its SID. An
owned user (marked managed-by) that the specs no longer name is an orphan when that client id
is none of the user-assigned identities listed, and its name is neither a listed user-assigned
identity's nor a resource's with a system-assigned identity (ARM does not show a
system-assigned identity's client id, so its resource name, which its user is named after,
stands in). Listed means: in the subscriptions read, then in every other subscription the
credentials can see, since a database may hold users for identities of other subscriptions.
Those lists are made once, and only when a candidate is found.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from identity_reconciler.azure.clients import Session
from identity_reconciler.azure.errors import arm_errors
from identity_reconciler.azure.reader import list_identities, list_system_identities
from identity_reconciler.core.live import LiveState
from identity_reconciler.sql.model import LiveUser, fold


class _Evidence:
    """Client ids and names of the identities that exist, gathered lazily."""

    def __init__(self, session: Session, live: LiveState, read: Sequence[str]) -> None:
        self.session = session
        self.read = [s.lower() for s in read]
        self.client_ids = set(live.client_ids)
        self.names = set(live.identity_names)
        self._systems_read = False
        self._others_read = False

    def explains(self, app_id: str, name: str) -> bool:
        if app_id in self.client_ids or name in self.names:
            return True
        if not self._systems_read:
            self._systems_read = True
            for sub in self.read:
                self.names |= {fold(n) for n, _ in list_system_identities(self.session, sub)}
            if name in self.names:
                return True
        if not self._others_read:
            self._others_read = True
            with arm_errors():
                visible = {
                    str(s.subscription_id).lower()
                    for s in self.session.subscriptions().subscriptions.list()
                    if s.subscription_id
                }
            for sub in sorted(visible - set(self.read)):
                for ident in list_identities(self.session, sub):
                    self.client_ids.add(ident.client_id.lower())
                    self.names.add(fold(ident.name))
                self.names |= {fold(n) for n, _ in list_system_identities(self.session, sub)}
        return app_id in self.client_ids or name in self.names


def orphan_rule(
    session: Session, live: LiveState, subscriptions: Sequence[str]
) -> Callable[[LiveUser], bool]:
    evidence = _Evidence(session, live, subscriptions)

    def orphaned(user: LiveUser) -> bool:
        app_id = (user.app_id or "").lower()
        if not (live.principals_complete and app_id):
            return False
        return not evidence.explains(app_id, fold(user.name))

    return orphaned
