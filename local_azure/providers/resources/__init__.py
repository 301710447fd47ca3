"""Microsoft.Resources: discovery, providers, resource groups, and the generic resource types.

`discovery` answers metadata endpoints, tenants, subscriptions and locations;
`provider_registry` the resource providers and their api-versions; `groups` resource groups;
`generic` every other seeded type (`catalog`, `defaults`), with their bodies
(`resource_bodies`, `sql`), identity blocks (`identity_blocks`) and lists (`resource_lists`).
"""

from __future__ import annotations

from local_azure.kernel import Router
from local_azure.providers.resources import discovery, generic, groups, provider_registry


def register(router: Router) -> None:
    discovery.register(router)
    provider_registry.register(router)
    groups.register(router)
    generic.register(router, groups.API_VERSIONS)
