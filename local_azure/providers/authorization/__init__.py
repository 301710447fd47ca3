"""Microsoft.Authorization: role definitions, role assignments and permissions.

`role_definitions` and `role_assignments` hold the state and its rules, `role_assignment_lists`
and `role_assignment_index` answer the questions asked of it, `rbac_scopes` is ARM's scope
hierarchy as RBAC sees it, and `routes` assembles the provider.
"""

from __future__ import annotations

from local_azure.providers.authorization.role_assignments import ROLE_ASSIGNMENTS
from local_azure.providers.authorization.role_definitions import ROLE_DEFINITIONS
from local_azure.providers.authorization.routes import (
    PERMISSIONS,
    register,
    seed_assignment,
    seed_builtin_roles,
)

__all__ = ["PERMISSIONS", "register", "seed_assignment", "seed_builtin_roles"]

NAMESPACE = "Microsoft.Authorization"
RESOURCE_TYPES = (ROLE_ASSIGNMENTS, ROLE_DEFINITIONS, PERMISSIONS)
