"""Plan and apply against live Azure (or the local emulator): the one copy of the sequence.

`plan_live` is what `plan`, `apply SPECS` and `drift` (through `drift_live`) all run. The cloud
the plan records is the session's, so `apply SPECS` without `--cloud` (which opens the default
cloud) and `plan --cloud X` record the cloud that was actually read.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NamedTuple

from identity_reconciler.apply import ApplyOptions, ApplyResult, Progress, apply_plan
from identity_reconciler.apply.sql_apply import SqlChangeRunner
from identity_reconciler.azure.clients import Session, open_session
from identity_reconciler.azure.reader import list_credentials, read_live
from identity_reconciler.core import armid
from identity_reconciler.core.errors import UserError
from identity_reconciler.core.live import LiveFederatedCredential, LiveState
from identity_reconciler.core.state import DesiredState
from identity_reconciler.plan import Plan, compute_plan
from identity_reconciler.plan.drift import DriftReport, drift_report
from identity_reconciler.plan.names import estate_home
from identity_reconciler.plan.removed import deleted_identities, with_removed_credentials
from identity_reconciler.plan.target import check_targets, targeted
from identity_reconciler.reconcile.sql_plan import plan_with_sql


class LivePlan(NamedTuple):
    plan: Plan
    live: LiveState


def check_world(cloud: str, world: str | Path | None) -> None:
    if world and cloud != "local":
        raise UserError("--world applies only to --cloud local")


@contextlib.contextmanager
def open_live(
    cloud: str,
    *,
    world: str | Path | None = None,
    state_dir: str | Path | None = None,
    desired: DesiredState | None = None,
) -> Iterator[Session]:
    """The session for `--cloud NAME`; a bad `--world` or `--state-dir` is the user's to fix."""
    check_world(cloud, world)
    with contextlib.ExitStack() as stack:
        try:
            session = stack.enter_context(
                open_session(cloud, world=world, state_dir=state_dir, desired=desired)
            )
        except (ValueError, OSError) as exc:  # bad --world file, unusable --state-dir, ...
            raise UserError(str(exc)) from exc
        yield session


def plan_live(
    session: Session,
    desired: DesiredState,
    *,
    adopt: bool = False,
    destroy: bool = False,
    targets: Sequence[str] = (),
) -> LivePlan:
    """Read the live state the specs are about and diff; Azure SQL users last, because they need
    both the session and the ARM plan (whose new identities their users must wait for); then
    `--target` narrows the plan to the named addresses and what they depend on."""
    check_targets(targets)  # before reading Azure: a target that is no address fails at once
    live = read_live(session, desired)
    plan = compute_plan(desired, live, adopt=adopt, cloud=session.cloud, destroy=destroy)
    plan = _with_removed_credentials(session, live, plan)
    plan = plan_with_sql(session, desired, live, plan, adopt=adopt)
    plan = targeted(plan, targets, home=estate_home(desired), policy=desired.safety)
    return LivePlan(plan, live)


def drift_live(
    session: Session, desired: DesiredState, *, adopt: bool = False
) -> tuple[Plan, DriftReport]:
    """The correcting plan, and the same comparison told as drift (plus what a plan leaves
    alone on purpose: grants added by hand, identities that lost their ownership tag)."""
    plan, live = plan_live(session, desired, adopt=adopt)
    return plan, drift_report(plan, desired, live, adopt=adopt)


def apply_live(
    session: Session, plan: Plan, *, options: ApplyOptions | None = None
) -> ApplyResult:
    """Apply `plan` with progress on stderr; Azure SQL changes run as T-SQL, a connection per
    database. Raises `StalePlan` (nothing written) when an object changed since the plan."""
    progress = Progress(sys.stderr, len(plan.changes))
    sql = SqlChangeRunner(session)
    try:
        return apply_plan(
            session,
            plan,
            options=dataclasses.replace(options or ApplyOptions(), sql=sql),
            events=progress.events(),
            waiting=progress.waiting,
        )
    finally:
        sql.close()
        progress.close()


def _with_removed_credentials(session: Session, live: LiveState, plan: Plan) -> Plan:
    """Identity deletes list the federated credentials that go with them. Credentials the read
    did not fetch (the specs do not manage them) cost one list per deleted identity, and only
    for those: a plan that deletes no identity reads nothing more."""
    doomed = deleted_identities(plan)
    if not doomed:
        return plan
    before = session.requests
    known: dict[str, tuple[LiveFederatedCredential, ...]] = {}
    for identity_id in doomed:
        key = armid.key(identity_id)
        ident = live.identities.get(key)
        if ident is not None and ident.federated_credentials is not None:
            known[key] = ident.federated_credentials
        else:
            known[key] = list_credentials(session, identity_id)
    return with_removed_credentials(plan, known, requests=session.requests - before)
