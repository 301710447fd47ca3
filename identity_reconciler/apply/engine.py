"""Apply a plan: stale check, dependency order, bounded concurrency, retries, honest results.

`apply_plan(session, plan)` is the whole of apply for any caller (the `apply` command, `drift
--fix`): it refuses a stale plan before writing anything, then runs every change in dependency
order through `azure/execute.py`, filling in principal ids that only exist once their identity
does, and reports each change as done, failed (with ARM's code, message and request id) or
skipped (with the failure it depended on). Nothing here decides what to change; the plan did.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from identity_reconciler.apply.concurrency import DEFAULT_CEILING, Concurrency, remaining_of
from identity_reconciler.apply.executor import DEFAULT_PARALLELISM, Events, Interrupted, execute
from identity_reconciler.apply.graph import ARM_KINDS, Node, build_graph
from identity_reconciler.apply.report import ApplyResult, report_of
from identity_reconciler.apply.retry import REMAINING_HEADER, Retrier, RetryPolicy, category
from identity_reconciler.apply.sql_apply import bind_sql_principal
from identity_reconciler.apply.sql_binding import check_sql_bound
from identity_reconciler.apply.stale import (
    Stale,
    StaleChange,
    Target,
    check_plan,
    is_block,
    target_of,
)
from identity_reconciler.azure.clients import Session
from identity_reconciler.azure.errors import ArmRequestError
from identity_reconciler.azure.execute import WriteResult, run_operation
from identity_reconciler.azure.live_reads import (
    current_fingerprint,
    find_equal_grant,
    principal_id_of,
)
from identity_reconciler.azure.owned import owned_now
from identity_reconciler.core import armid
from identity_reconciler.core.errors import UserError
from identity_reconciler.plan import (
    KNOWN_AFTER_APPLY,
    Change,
    ChangeKind,
    Operation,
    Plan,
    needs_principal,
    resolve_principal,
)
from identity_reconciler.plan.binding import check_bound


class StalePlan(UserError):
    """The up-front check found objects that changed since the plan: nothing was written."""

    def __init__(self, stale: list[Stale]) -> None:
        self.stale = stale
        head = stale[0].message
        more = f" (and {len(stale) - 1} more)" if len(stale) > 1 else ""
        super().__init__(head + more)


# Runs one SQL change (its TSQL operations, one transaction per database); raises on failure.
SqlRunner = Callable[[Change], Any]


class SqlUnavailable(Exception):
    """A SQL change, and no way to reach its database in this apply."""

    code = "SqlConnectionUnavailable"


@dataclass(frozen=True)
class ApplyOptions:
    # The most writes in flight; fewer while ARM's write bucket runs low (`apply/concurrency.py`).
    parallelism: int = DEFAULT_CEILING
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # T-SQL changes go to this runner; without one they fail (and their dependents are skipped).
    sql: SqlRunner | None = None


@dataclass(frozen=True)
class Done:
    """What one change produced: the principal it created (if any) and notes for the summary."""

    principal_id: str | None = None
    notes: tuple[str, ...] = ()
    tries: int = 1


class PartiallyApplied(Exception):
    """A change with several writes failed after some of them succeeded."""

    def __init__(self, cause: BaseException, completed: list[str]) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.completed = completed


Waiting = Callable[[str, str, float], None]  # (address, why, seconds)


class _Applier:
    """The action the executor runs for each change (called from worker threads)."""

    def __init__(
        self,
        session: Session,
        retrier: Retrier,
        waiting: Waiting | None,
        sql: SqlRunner | None = None,
        concurrency: Concurrency | None = None,
    ) -> None:
        self.session = session
        self.sql = sql
        self.concurrency = concurrency
        self.retrier = retrier
        self.waiting = waiting
        self._lock = threading.Lock()
        self._blocks: dict[str, Stale | None] = {}  # resource key -> stale found (None: fresh)

    def __call__(self, node: Node, needed: Mapping[str, Any]) -> Done:
        change = node.change
        if change.kind not in ARM_KINDS:
            return self._sql(change, needed)
        # The object the plan fingerprinted: a replaced grant's old one, known before the new
        # principal is; a new grant's, only once its principal id fills in its name.
        target = target_of(change)
        if target is not None:
            self._check_fresh(change, target)
        new_principal = False
        if needs_principal(change):
            resolved = resolve_principal(change, self._principal(change, needed))
            if target is None and (late := target_of(resolved)) is not None:
                self._check_fresh(resolved, late)
            change, new_principal = resolved, True
        principal: str | None = None
        notes: list[str] = []
        tries = 0
        completed: list[str] = []
        kind = change.kind.value
        for op in change.operations:
            if op.method == "DELETE" and op.id != KNOWN_AFTER_APPLY:
                self._check_owned(change, kind, op.id)

            def write(op: Operation = op) -> WriteResult:
                began = time.monotonic()
                try:
                    return run_operation(self.session, kind, op, hook=self._hook(op.method))
                finally:
                    if self.concurrency is not None:
                        self.concurrency.timed(time.monotonic() - began)

            try:
                attempted = self.retrier.call(
                    write,
                    method=op.method,
                    confirm_exists=self._confirm(change) if op.method == "PUT" else None,
                    new_principal=new_principal,
                    on_wait=self._on_wait(change.address),
                )
            except Exception as exc:
                if completed:
                    raise PartiallyApplied(exc, completed) from exc
                raise
            tries += attempted.tries
            completed.append(op.method)
            if attempted.note:
                notes.append(attempted.note)
            result: WriteResult | None = attempted.value
            if result is not None and result.principal_id:
                principal = result.principal_id
        return Done(principal_id=principal, notes=tuple(notes), tries=tries)

    def _check_owned(self, change: Change, kind: str, object_id: str) -> None:
        """Never delete what identity-reconciler does not own, whatever the plan file says."""
        owned = self._read(lambda: owned_now(self.session, kind, object_id))
        if owned is False:
            raise ArmRequestError(
                0,
                "NotOwned",
                f"{change.address}: refusing to delete {object_id}, which identity-reconciler "
                "does not own (no ownership tag or deterministic name)",
            )

    def _sql(self, change: Change, needed: Mapping[str, Any]) -> Done:
        if self.sql is None:
            raise SqlUnavailable(
                f"{change.address} is a T-SQL change; this apply has no database connection "
                "for it (apply the SQL changes where the database is reachable)"
            )
        if change.principal is not None:  # CREATE USER … WITH OBJECT_ID of a new principal
            change = bind_sql_principal(change, self._principal(change, needed))
        self.sql(change)
        return Done()

    def _hook(self, method: str) -> Callable[[int, Mapping[str, str]], None]:
        retrier, concurrency = self.retrier, self.concurrency
        bucket = category(method)

        def observe(_status: int, headers: Mapping[str, str]) -> None:
            retrier.observe(method, headers)
            if concurrency is not None and bucket != "reads":
                concurrency.observe(remaining_of(headers.get(f"{REMAINING_HEADER}-{bucket}")))

        return observe

    def _on_wait(self, address: str) -> Callable[[str, float], None] | None:
        if self.waiting is None:
            return None
        waiting = self.waiting
        return lambda why, seconds: waiting(address, why, seconds)

    def _read(self, fn: Callable[[], Any]) -> Any:
        return self.retrier.call(fn, method="GET").value

    def _principal(self, change: Change, needed: Mapping[str, Any]) -> str:
        """The principal id a grant needs, from the change that created it or from ARM."""
        assert change.principal is not None
        p = change.principal
        made = needed.get(p.address or "")
        if isinstance(made, Done) and made.principal_id:
            return made.principal_id
        found = self._read(lambda: principal_id_of(self.session, p.kind, p.id))
        if not found:
            raise ArmRequestError(
                0,
                "PrincipalUnknown",
                f"the principal of {p.id} is not known: it was not created by this apply and "
                "ARM shows none; run plan again",
            )
        return str(found)

    def _confirm(self, change: Change) -> Callable[[], str | None] | None:
        if change.kind is not ChangeKind.GRANT or not change.after:
            return None
        after = change.after
        scope = str(after.get("scope", ""))
        guid = armid.role_definition_guid(str(after.get("role_definition_id", "")))
        pid = str(after.get("principal_id", ""))

        def confirm() -> str | None:
            grant = self._read(lambda: find_equal_grant(self.session, scope, guid, pid))
            return None if grant is None else str(grant.name)

        return confirm

    def _check_fresh(self, change: Change, target: Target) -> None:
        """Right before the first write: the object is still as the plan saw it."""
        if is_block(change):
            key = armid.key(target.id)
            with self._lock:
                checked = key in self._blocks
                stale = self._blocks.get(key)
            if not checked:  # one lane per resource: no other change to it runs meanwhile
                stale = self._compare(change, target)
                with self._lock:
                    self._blocks[key] = stale
            if stale is not None:
                raise StaleChange(
                    Stale(change.address, stale.object_id, stale.expected, stale.found)
                )
            return
        stale = self._compare(change, target)
        if stale is not None:
            raise StaleChange(stale)

    def _compare(self, change: Change, target: Target) -> Stale | None:
        found = self._read(
            lambda: current_fingerprint(self.session, target, hook=self._hook("GET"))
        )
        if found == change.live_fingerprint:
            return None
        return Stale(change.address, target.id, change.live_fingerprint, found)


def apply_plan(
    session: Session,
    plan: Plan,
    *,
    options: ApplyOptions | None = None,
    events: Events | None = None,
    waiting: Waiting | None = None,
    cancel: threading.Event | None = None,
    check_first: bool = True,
) -> ApplyResult:
    """Apply `plan` through `session`; raises StalePlan (nothing written) when it is stale.

    The caller has already refused plans with errors or unforced safety violations. On Ctrl-C,
    running writes finish, nothing new starts, and the result says what was done
    (`interrupted=True`); a later plan and apply converge.
    """
    options = options or ApplyOptions()
    if plan.has_errors:
        raise ValueError("the plan has errors; apply refuses it")
    check_bound(plan)  # every operation does what its change says, or nothing runs
    check_sql_bound(plan)  # and every T-SQL statement is one its change shows
    started = time.monotonic()
    before = session.requests
    graph = build_graph(plan.changes)
    if check_first and plan.changes:
        stale = check_plan(session, plan, parallelism=options.parallelism)
        if stale:
            raise StalePlan(stale)
    cancel = cancel or threading.Event()
    retrier = Retrier(options.retry, cancel=cancel)
    ceiling = max(1, options.parallelism)
    concurrency = Concurrency(min(DEFAULT_PARALLELISM, ceiling), ceiling)
    applier = _Applier(session, retrier, waiting, options.sql, concurrency)
    interrupted = False
    try:
        outcomes = execute(
            graph,
            applier,
            parallelism=ceiling,
            events=events,
            cancel=cancel,
            limit=concurrency.limit,
        )
    except Interrupted as exc:
        outcomes, interrupted = exc.outcomes, True
    return report_of(
        graph,
        outcomes,
        seconds=time.monotonic() - started,
        requests=session.requests - before,
        retries=retrier.retries,
        throttled=retrier.throttled,
        paced=retrier.paced,
        interrupted=interrupted,
    )
