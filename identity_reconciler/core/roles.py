"""The built-in role catalog: names <-> ids for every Azure built-in role, offline.

Privileged roles are named here once, because spec lint, plan safety and audit all ask the same
question ("is this grant dangerous at this scope?").
"""

from __future__ import annotations

OWNER = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"
CONTRIBUTOR = "b24988ac-6180-42a0-ab88-20f7382dd24c"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
USER_ACCESS_ADMINISTRATOR = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"
RBAC_ADMINISTRATOR = "f58310d9-a9f6-439a-9e8d-f62e7b41a168"

# Roles that can take over a subscription: granting them broadly always needs an explicit,
# justified allowance (spec policy) and a forcing flag (plan safety).
PRIVILEGED_ROLE_GUIDS: frozenset[str] = frozenset(
    {OWNER, CONTRIBUTOR, USER_ACCESS_ADMINISTRATOR, RBAC_ADMINISTRATOR}
)
