"""Microsoft.ManagedIdentity: user-assigned identities, their federated credentials, and the
read-only views of system-assigned identities.

`identities` holds the user-assigned identities and their lookups; `federated` and `system`
build on it (one way: `identities` imports neither).
"""

from __future__ import annotations

from local_azure.kernel import Router
from local_azure.providers.managed_identity import federated, identities, system

NAMESPACE = identities.NAMESPACE
RESOURCE_TYPES = (identities.USER_ASSIGNED, federated.FEDERATED)


def register(router: Router) -> None:
    p = 10  # above any catch-all of generic resources
    identities.register(router, p)
    system.register(router, p)
    federated.register(router, p)
