"""Is this session the place the plan was made for? Tenant and subscriptions, every one.

A plan names its cloud, tenant and subscriptions, and `plan/binding.py` keeps every operation
inside them. Here apply learns, from ARM, that each of those subscriptions belongs to the
plan's tenant under the credentials in use. A plan that names no tenant is refused, never
waved through: an empty field is what an editor would leave to skip this check.
"""

from __future__ import annotations

from identity_reconciler.azure.clients import Session
from identity_reconciler.plan import Plan


class WrongTarget(ValueError):
    """The credentials reach another tenant than the plan was made for."""


def check_target(session: Session, plan: Plan) -> None:
    wanted = plan.target.tenant_id.strip().lower()
    if not wanted:
        raise WrongTarget("the plan names no tenant; refusing to apply it (run plan again)")
    subs = plan.target.subscriptions
    found = (
        {sub: session.tenant_of(sub) for sub in subs}
        if subs
        else {"(default)": session.tenant_id(None)}
    )
    for sub, tenant in found.items():
        if tenant.lower() != wanted:
            raise WrongTarget(
                f"the plan was made for tenant {plan.target.tenant_id}, but subscription {sub} "
                f"is in tenant {tenant} for these credentials"
            )
