"""Lifecycle guards on a drafted plan: make before break, and prevent_destroy.

Make before break: a grant or an attachment that moves (the specs drop one and add another for
the same identity) must never leave the identity without access in between. Every delete of an
owned grant or attachment whose principal stays therefore waits for every create of the same
kind for that principal, like Terraform's `create_before_destroy`; the change records which
creates it waits for, so the plan says so. If a create fails, the delete it waits for is
skipped, and the old access stays.

prevent_destroy: an identity or grant marked so in the specs makes any plan that deletes or
re-creates it an error, located where the flag was set. As in Terraform, the flag lives in the
specs, so removing the entry together with its flag removes the protection.
"""

from __future__ import annotations

from identity_reconciler.core import armid
from identity_reconciler.plan.context import DiffContext, Draft
from identity_reconciler.plan.model import ChangeKind, Reason

PREVENT_DESTROY = "prevent_destroy"
_MOVABLE = (ChangeKind.GRANT, ChangeKind.ATTACHMENT)


def make_before_break(ctx: DiffContext) -> None:
    """Deletes of grants and attachments wait for the creates that replace them."""
    creates: dict[tuple[ChangeKind, str], list[Draft]] = {}
    for draft in ctx.drafts():
        if draft.kind in _MOVABLE and draft.actions == ("create",):
            creates.setdefault((draft.kind, draft.group.lower()), []).append(draft)
    for draft in ctx.drafts():
        if draft.kind not in _MOVABLE or draft.actions != ("delete",):
            continue
        if draft.reason is not Reason.DELETE_BECAUSE_NOT_IN_SPEC:
            continue  # the principal itself goes: nothing replaces its access
        first = sorted(d.address for d in creates.get((draft.kind, draft.group.lower()), ()))
        if first:
            draft.depends_on |= set(first)
            draft.create_before_destroy = tuple(first)


def grant_deleted(ctx: DiffContext, draft: Draft, ref_key: str, scope: str, guid: str) -> None:
    """An error when a deleted (or replaced) grant is protected by prevent_destroy."""
    if not ref_key:
        return
    source = ctx.desired.protected_grants.get((ref_key, armid.key(scope), guid.lower()))
    if source is not None:
        _refuse(ctx, draft, str(source), "grant")


def check_identities(ctx: DiffContext) -> None:
    """An error for each protected identity that the plan deletes or re-creates."""
    protected = ctx.desired.protected_identities
    if not protected:
        return
    for draft in ctx.drafts():
        if draft.kind is ChangeKind.IDENTITY and "delete" in draft.actions and draft.id:
            source = protected.get(armid.key(draft.id))
            if source is not None:
                _refuse(ctx, draft, str(source), "identity")


def _refuse(ctx: DiffContext, draft: Draft, source: str, what: str) -> None:
    verb = "re-create" if draft.actions == ("delete", "create") else "delete"
    ctx.error(
        PREVENT_DESTROY,
        f"the plan would {verb} {draft.address} ({draft.reason.value}), but the {what} has "
        "prevent_destroy: true; change the specs so that it is kept, or remove "
        "prevent_destroy first",
        draft.address,
        source,
    )
