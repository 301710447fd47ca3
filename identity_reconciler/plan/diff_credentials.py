"""Federated credentials of the user-assigned identities the specs name.

A credential trusts a token by its exact subject, or (a flexible credential) by a claims
matching expression; the two are compared as Entra matches them, exactly. A credential whose
name is in the specs but whose issuer, subject, expression or audiences differ is updated in
place; one the specs do not list is deleted, but only where the specs manage the identity's
credentials (a `federated_credentials` key).

The PUT body names what the credential matches: `subject`, or `claimsMatchingExpression`. When
a flexible credential goes back to a subject, the body also says `claimsMatchingExpression:
null`, so the write is sent at an api-version that knows the property and clears it, rather
than at one where an expression it cannot see might be kept.
"""

from __future__ import annotations

from typing import Any

from identity_reconciler.core import armid
from identity_reconciler.core.live import LiveFederatedCredential, LiveIdentity
from identity_reconciler.core.state import DesiredIdentity, FederatedCredential
from identity_reconciler.plan import normalise
from identity_reconciler.plan.context import DiffContext, Draft, Fate, where
from identity_reconciler.plan.model import ChangeKind, Operation, Reason

Credential = FederatedCredential | LiveFederatedCredential


def fic_view(fic: Credential) -> dict[str, Any]:
    """What a reviewer sees of a credential: the subject, or the expression and its language
    version; never both keys, so a switch shows one going and the other coming."""
    view: dict[str, Any] = {"name": fic.name, "issuer": fic.issuer}
    expression = fic.claims_matching_expression
    if expression is not None:
        view["claims_matching_expression"] = expression.value
        view["language_version"] = expression.language_version
    else:
        view["subject"] = fic.subject
    view["audiences"] = sorted(normalise.audiences(fic.audiences))
    return view


def fic_put(
    fic_id: str, fic: FederatedCredential, old: LiveFederatedCredential | None
) -> Operation:
    props: dict[str, Any] = {"issuer": fic.issuer}
    expression = fic.claims_matching_expression
    if expression is None:
        props["subject"] = fic.subject
    props["audiences"] = list(fic.audiences)
    if expression is not None:
        props["claimsMatchingExpression"] = {
            "value": expression.value,
            "languageVersion": expression.language_version,
        }
    elif old is not None and old.claims_matching_expression is not None:
        props["claimsMatchingExpression"] = None
    return Operation(method="PUT", id=fic_id, body={"properties": props})


def plan_credentials(
    ctx: DiffContext, d: DesiredIdentity, live: LiveIdentity | None, fate: Fate, identity: str
) -> None:
    """Credentials of a desired identity; one being replaced gets all of them anew.

    None means the specs do not manage this identity's credentials: nothing is compared.
    """
    if d.federated_credentials is None:
        return
    wanted = {c.name.lower(): c for c in d.federated_credentials}

    def put(
        fic: FederatedCredential,
        reason: Reason,
        old: LiveFederatedCredential | None = None,
    ) -> Draft:
        fic_id = old.id if old is not None else f"{d.id}/{armid.FIC_CHILD}/{fic.name}"
        return ctx.add(
            Draft(
                address=ctx.names.credential_address(d.id, fic.name),
                kind=ChangeKind.FEDERATED_CREDENTIAL,
                actions=("create",),
                reason=reason,
                group=identity,
                id=fic_id,
                before=None,
                after=fic_view(fic),
                live_fingerprint=None,
                operations=(fic_put(fic_id, fic, old),),
                depends_on={identity} if fate is not Fate.KEEP else set(),
                source=where(fic.source),
            )
        )

    if fate is not Fate.KEEP:
        first = (
            Reason.CREATE_BECAUSE_PARENT_REPLACED
            if fate is Fate.REPLACE
            else Reason.CREATE_BECAUSE_NOT_LIVE
        )
        for name in sorted(wanted):
            put(wanted[name], first)
        return
    assert live is not None
    if live.federated_credentials is None:
        ctx.error(
            "credentials_not_read",
            f"internal error: the federated credentials of identity {d.name} were not read, "
            "so they cannot be compared; the live-state reader must read them for every "
            "existing identity in the specs",
            identity,
            where(d.source),
        )
        return
    have = {c.name.lower(): c for c in live.federated_credentials}
    ctx.existing += len(have)
    # ARM keeps issuer+subject (issuer+expression) unique per identity: a credential that takes
    # over the pair of one being deleted waits for that delete.
    freed: dict[tuple[str, tuple[str, str]], str] = {}
    for name in sorted(have.keys() - wanted.keys()):
        old = have[name]
        address = ctx.names.credential_address(d.id, old.name)
        freed[(old.issuer, old.match)] = address
        ctx.add(
            Draft(
                address=address,
                kind=ChangeKind.FEDERATED_CREDENTIAL,
                actions=("delete",),
                reason=Reason.DELETE_BECAUSE_NOT_IN_SPEC,
                group=identity,
                id=old.id,
                before=fic_view(old),
                after=None,
                live_fingerprint=old.fingerprint,
                operations=(Operation(method="DELETE", id=old.id),),
            )
        )
    for name in sorted(wanted):
        fic = wanted[name]
        old_or_none = have.get(name)
        pair = (fic.issuer, fic.match)
        needs = {freed[pair]} if pair in freed else set()
        if old_or_none is None:
            put(fic, Reason.CREATE_BECAUSE_NOT_LIVE).depends_on |= needs
            continue
        reason = credential_reason(fic, old_or_none)
        if reason is None:
            continue
        draft = put(fic, reason, old_or_none)
        draft.actions = ("update",)
        draft.before = fic_view(old_or_none)
        draft.live_fingerprint = old_or_none.fingerprint
        draft.depends_on |= needs


def credential_reason(fic: FederatedCredential, old: LiveFederatedCredential) -> Reason | None:
    """Issuer, subject and expression compare exactly: Entra matches them exactly (an
    expression's wildcards are for the token's claims, not for this comparison)."""
    if fic.issuer.strip() != old.issuer.strip():
        return Reason.UPDATE_BECAUSE_ISSUER_DIFFERS
    want, have = fic.claims_matching_expression, old.claims_matching_expression
    if want is not None:
        if have is None or (want.value.strip(), want.language_version) != (
            have.value.strip(),
            have.language_version,
        ):
            return Reason.UPDATE_BECAUSE_CLAIMS_MATCHING_EXPRESSION_DIFFERS
    elif have is not None or (fic.subject or "").strip() != (old.subject or "").strip():
        return Reason.UPDATE_BECAUSE_SUBJECT_DIFFERS
    if normalise.audiences(fic.audiences) != normalise.audiences(old.audiences):
        return Reason.UPDATE_BECAUSE_AUDIENCES_DIFFER
    return None
