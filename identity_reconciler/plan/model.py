"""The plan: one typed object with one versioned JSON form, from which every view is drawn.

A plan is reviewed in a pull request and applied later, perhaps on another machine, so its JSON
form is the contract between `plan` and `apply`. It carries everything apply needs to act without
re-reading the specs (the ARM operations in order, the principal to resolve when an id is only
known after apply) and a checksum, so a plan edited after review is refused rather than applied.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from identity_reconciler.core.errors import UserError
from identity_reconciler.core.words import count

FORMAT_VERSION = "1.0"
# Shown wherever a value exists only once apply has run (a new identity's principalId).
KNOWN_AFTER_APPLY = "(known after apply)"

Action = Literal["create", "update", "delete"]
ALLOWED_ACTIONS: frozenset[tuple[str, ...]] = frozenset(
    {("create",), ("update",), ("delete",), ("delete", "create")}
)


class PlanFileError(UserError):
    """A plan file that cannot be trusted: not JSON, unknown format, malformed, or edited."""


class ChangeKind(StrEnum):
    IDENTITY = "identity"
    FEDERATED_CREDENTIAL = "federated_credential"
    ATTACHMENT = "attachment"
    SYSTEM_ASSIGNED = "system_assigned"
    GRANT = "grant"
    # Azure SQL contained users and their database roles: T-SQL, after every ARM change.
    SQL_USER = "sql_user"
    SQL_ROLE_MEMBER = "sql_role_member"

    @property
    def rank(self) -> int:
        """Dependency order: what a kind needs always has a lower rank."""
        return _KIND_RANK[self]


_KIND_RANK = {kind: i for i, kind in enumerate(ChangeKind)}


class Reason(StrEnum):
    """Why a change is planned: exists to explain the plan to the people reviewing it."""

    CREATE_BECAUSE_NOT_LIVE = "create_because_not_live"
    CREATE_BECAUSE_PARENT_REPLACED = "create_because_parent_replaced"
    UPDATE_BECAUSE_ADOPTED = "update_because_adopted"
    UPDATE_BECAUSE_TAGS_DIFFER = "update_because_tags_differ"
    UPDATE_BECAUSE_ISOLATION_SCOPE_DIFFERS = "update_because_isolation_scope_differs"
    UPDATE_BECAUSE_ISSUER_DIFFERS = "update_because_issuer_differs"
    UPDATE_BECAUSE_SUBJECT_DIFFERS = "update_because_subject_differs"
    UPDATE_BECAUSE_CLAIMS_MATCHING_EXPRESSION_DIFFERS = (
        "update_because_claims_matching_expression_differs"
    )
    UPDATE_BECAUSE_AUDIENCES_DIFFER = "update_because_audiences_differ"
    UPDATE_BECAUSE_CONDITION_DIFFERS = "update_because_condition_differs"
    UPDATE_BECAUSE_DESCRIPTION_DIFFERS = "update_because_description_differs"
    DELETE_BECAUSE_NOT_IN_SPEC = "delete_because_not_in_spec"
    DELETE_BECAUSE_PRINCIPAL_DELETED = "delete_because_principal_deleted"
    DELETE_BECAUSE_DESTROY = "delete_because_destroy"
    REPLACE_BECAUSE_IMMUTABLE_FIELD = "replace_because_immutable_field"
    REPLACE_BECAUSE_PRINCIPAL_REPLACED = "replace_because_principal_replaced"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Operation(_Model):
    """One write apply performs, in order. `id` and the body may hold KNOWN_AFTER_APPLY.

    ARM writes are PUT, PATCH or DELETE of `id`. A `TSQL` operation runs one T-SQL statement in
    the database whose ARM id is `id`: body `{"server": host name, "database", "tsql"}`.
    """

    method: Literal["PUT", "PATCH", "DELETE", "TSQL"]
    id: str
    body: dict[str, Any] | None = None


class Principal(_Model):
    """The principal a grant is for: what apply resolves when `principal_id` is not yet known.

    `id` is the user-assigned identity's id, or the resource's id for a system-assigned one;
    `address` names the change in this plan that creates it, if any.
    """

    kind: Literal["user_assigned", "system_assigned"]
    id: str
    principal_id: str
    address: str | None = None


class Change(_Model):
    address: str
    kind: ChangeKind
    actions: tuple[Action, ...]
    reason: str
    # The identity (or resource, for system-assigned) this change is about: views group by it.
    group: str
    id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    live_fingerprint: str | None
    depends_on: tuple[str, ...] = ()
    operations: tuple[Operation, ...]
    principal: Principal | None = None
    source: str | None = None
    # Make before break: the creates this delete waits for (Terraform's create_before_destroy).
    create_before_destroy: tuple[str, ...] = ()

    @field_validator("actions")
    @classmethod
    def _known_actions(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if tuple(value) not in ALLOWED_ACTIONS:
            raise ValueError(f"actions {list(value)} is not one of {sorted(ALLOWED_ACTIONS)}")
        return value

    @property
    def is_replace(self) -> bool:
        return self.actions == ("delete", "create")


class Diagnostic(_Model):
    """A located message that is not a change: a notice, or an error that blocks apply."""

    code: str
    message: str
    address: str | None = None
    source: str | None = None


class Violation(_Model):
    """One reason the plan is unsafe, and the flag that forces it."""

    reason: str
    message: str
    flag: str
    address: str | None = None


class Safety(_Model):
    safe: bool
    existing: int
    violations: tuple[Violation, ...] = ()


class Summary(_Model):
    """Counted like Terraform: a replace is one to add and one to destroy (and one replace)."""

    add: int = 0
    change: int = 0
    destroy: int = 0
    replace: int = 0

    @classmethod
    def of(cls, changes: tuple[Change, ...]) -> Summary:
        add = change = destroy = replace = 0
        for c in changes:
            if c.is_replace:
                replace += 1
            add += "create" in c.actions
            destroy += "delete" in c.actions
            change += c.actions == ("update",)
        return cls(add=add, change=change, destroy=destroy, replace=replace)


class Target(_Model):
    cloud: str
    tenant_id: str
    subscriptions: tuple[str, ...]


class Options(_Model):
    adopt: bool = False
    # Made by `destroy SPECS`: it aims at a state where what those specs own is gone.
    destroy: bool = False
    # --target: the addresses this partial plan is limited to (with their dependencies).
    targets: tuple[str, ...] = ()


class Plan(_Model):
    format_version: Literal["1.0"]
    tool_version: str
    created_at: str
    target: Target
    spec_digest: str
    options: Options
    live_requests: int = 0
    changes: tuple[Change, ...] = ()
    notices: tuple[Diagnostic, ...] = ()
    errors: tuple[Diagnostic, ...] = ()
    summary: Summary
    safety: Safety
    checksum: str

    @property
    def has_changes(self) -> bool:
        return bool(self.changes)

    @property
    def has_errors(self) -> bool:
        return bool(self.errors)

    def change(self, address: str) -> Change:
        for c in self.changes:
            if c.address == address:
                return c
        raise KeyError(address)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json(self) -> str:
        """The plan file: stable key order, so two plans of one estate differ only in time."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def sealed(cls, **fields: Any) -> Plan:
        """A plan with its checksum computed over everything else."""
        fields.pop("checksum", None)
        draft = cls.model_construct(checksum="", **fields)
        data = draft.model_dump(mode="json")
        return cls.model_validate({**data, "checksum": checksum_of(data)})

    @classmethod
    def from_json(cls, text: str | bytes) -> Plan:
        """Read a plan file; refuse anything this version cannot trust to apply."""
        try:
            raw = json.loads(text)
        except (ValueError, UnicodeDecodeError) as exc:
            raise PlanFileError(f"the plan file is not JSON: {exc}") from None
        if not isinstance(raw, dict):
            raise PlanFileError("the plan file must hold a JSON object")
        version = raw.get("format_version")
        if version != FORMAT_VERSION:
            raise PlanFileError(
                f"plan format_version {version!r} is not supported (this version reads "
                f"{FORMAT_VERSION!r}); run plan again with this version"
            )
        stored = raw.get("checksum")
        if not isinstance(stored, str) or stored != checksum_of(raw):
            raise PlanFileError(
                "plan checksum mismatch: the file was changed after it was written; "
                "run plan again and review the new plan"
            )
        try:
            plan = cls.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(top)"
            raise PlanFileError(
                f"the plan file is malformed at {where}: {first['msg']} "
                f"({count(exc.error_count(), 'problem')})"
            ) from None
        if checksum_of(plan.to_dict()) != stored:
            raise PlanFileError("plan checksum mismatch after reading: the file is not canonical")
        return plan


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def checksum_of(data: dict[str, Any]) -> str:
    """sha256 over the canonical JSON of a plan's fields other than `checksum`."""
    rest = {k: v for k, v in data.items() if k != "checksum"}
    return "sha256:" + hashlib.sha256(canonical_json(rest).encode("utf-8")).hexdigest()
