"""`outputs`: what application deployments need to know about the identities the specs declare.

For each user-assigned identity its client id (what an app sets as AZURE_CLIENT_ID), principal
id and resource id; for each managed system-assigned identity its principal id (ARM does not
return a client id for those). Rendered as JSON, as `KEY=value` lines for a shell or a `.env`
file, or as GitHub step outputs. None of these values is a secret.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass

from identity_reconciler.core import armid
from identity_reconciler.core.errors import UserError
from identity_reconciler.core.live import LiveState
from identity_reconciler.core.state import DesiredState


class OutputsError(UserError):
    """Outputs that cannot be given: an identity not created yet, or ambiguous names."""


@dataclass(frozen=True)
class IdentityOutput:
    name: str
    kind: str  # user_assigned | system_assigned
    resource_id: str
    client_id: str | None
    principal_id: str | None
    tenant_id: str | None
    exists: bool

    @property
    def env_prefix(self) -> str:
        return re.sub(r"[^A-Za-z0-9]", "_", self.name).upper()


def compute_outputs(desired: DesiredState, live: LiveState) -> list[IdentityOutput]:
    """One entry per declared identity, in a stable order (kind, then resource id)."""
    out: list[IdentityOutput] = []
    for ident in sorted(desired.identities.values(), key=lambda i: armid.key(i.id)):
        found = live.identities.get(armid.key(ident.id))
        out.append(IdentityOutput(
            name=ident.name, kind="user_assigned", resource_id=found.id if found else ident.id,
            client_id=found.client_id if found else None,
            principal_id=found.principal_id if found else None,
            tenant_id=(found.tenant_id or None) if found else None, exists=found is not None,
        ))
    for res in sorted(desired.resources.values(), key=lambda r: armid.key(r.resource_id)):
        if not res.system_assigned:
            continue
        block = live.resources.get(armid.key(res.resource_id))
        principal = block.system_principal_id if block and block.exists else None
        out.append(IdentityOutput(
            name=res.resource_id.rstrip("/").rsplit("/", 1)[-1], kind="system_assigned",
            resource_id=res.resource_id, client_id=None, principal_id=principal,
            tenant_id=None, exists=principal is not None,
        ))
    return out


def check_complete(outputs: list[IdentityOutput]) -> None:
    """Refuse to hand a deployment an empty id: every declared identity must exist live."""
    missing = [o for o in outputs if not o.exists]
    if missing:
        names = ", ".join(f"{o.name} ({o.kind.replace('_', '-')})" for o in missing)
        raise OutputsError(f"not in Azure yet: {names}; run plan and apply first")


def select(outputs: list[IdentityOutput], name: str) -> IdentityOutput:
    """The one identity named (by name or resource id), for `--identity`."""
    found = [o for o in outputs if name in (o.name, o.resource_id)
             or armid.key(o.resource_id) == name.lower()]
    if len(found) != 1:
        known = ", ".join(sorted(o.name for o in outputs)) or "none"
        what = "is ambiguous (give its resource id)" if found else "is not declared"
        raise OutputsError(f"identity {name!r} {what}; the specs declare: {known}")
    return found[0]


def env_pairs(outputs: list[IdentityOutput], *, chosen: IdentityOutput | None = None
              ) -> list[tuple[str, str]]:
    """`KEY=value` pairs: NAME_CLIENT_ID, NAME_PRINCIPAL_ID, NAME_RESOURCE_ID per identity, or
    for one chosen identity the variables azure-identity reads (AZURE_CLIENT_ID, ...)."""
    if chosen is not None:
        wanted = [("AZURE_CLIENT_ID", chosen.client_id), ("AZURE_TENANT_ID", chosen.tenant_id),
                  ("AZURE_PRINCIPAL_ID", chosen.principal_id),
                  ("AZURE_IDENTITY_RESOURCE_ID", chosen.resource_id)]
        return [(k, v) for k, v in wanted if v]
    seen: dict[str, str] = {}
    pairs: list[tuple[str, str]] = []
    for o in outputs:
        if o.env_prefix in seen:
            raise OutputsError(
                f"{o.name!r} and {seen[o.env_prefix]!r} give the same variable names "
                f"({o.env_prefix}_*); use --format json or --identity"
            )
        seen[o.env_prefix] = o.name
        for suffix, value in (("CLIENT_ID", o.client_id), ("PRINCIPAL_ID", o.principal_id),
                              ("RESOURCE_ID", o.resource_id)):
            if value:
                pairs.append((f"{o.env_prefix}_{suffix}", value))
    return pairs


def render_env(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"{key}={_single_line(value)}\n" for key, value in pairs)


def render_json(outputs: list[IdentityOutput]) -> str:
    return json.dumps({"identities": [asdict(o) for o in outputs]}, indent=2) + "\n"


def _single_line(value: str) -> str:
    if "\n" in value or "\r" in value:  # ARM ids and GUIDs never are; refuse to inject a line
        raise OutputsError(f"refusing a value with a line break: {value!r}")
    return value
