"""Federated credentials as the specs write them, for `export`.

A credential matches by its exact subject or by a claims matching expression (written as a
plain string when it uses language version 1, the only one there is). What the specs cannot say
is not written, and the person exporting is told why: a subject with wildcards (Azure matches
subjects exactly, so it trusts no token), or a credential that shows neither a subject nor an
expression.
"""

from __future__ import annotations

from typing import Any

from identity_reconciler.core.live import LiveFederatedCredential
from identity_reconciler.spec.values import DEFAULT_AUDIENCE


def credential_entry(
    identity: str, c: LiveFederatedCredential
) -> tuple[dict[str, Any] | None, str | None]:
    """(the spec entry, None), or (None, a note saying why it is not exported)."""
    expression = c.claims_matching_expression
    matched: dict[str, Any]
    if expression is not None:
        value: Any = expression.value
        if expression.language_version != 1:
            value = {"value": expression.value, "language_version": expression.language_version}
        matched = {"claims_matching_expression": value}
    elif c.subject is None:
        return None, (
            f"identity {identity}: federated credential {c.name} shows neither a subject nor a "
            "claims matching expression. Not exported: plan will delete it"
        )
    elif any(w in c.subject for w in "*?"):
        return None, (
            f"identity {identity}: federated credential {c.name} has subject {c.subject!r}; "
            "Azure matches subjects exactly, so it trusts no token. Not exported: plan will "
            "delete it; list the exact subjects instead, or match them with a "
            "claims_matching_expression"
        )
    else:
        matched = {"subject": c.subject}
    entry: dict[str, Any] = {"name": c.name, "issuer": c.issuer, **matched}
    listed = list(c.audiences)
    if listed != [DEFAULT_AUDIENCE]:
        entry["audiences"] = listed
    return entry, None
