"""Named estates for golden and round-trip tests: each shows a family of plan features."""

from __future__ import annotations

from collections.abc import Callable

from plan_factories import (
    BLOB_READER,
    SUB,
    d_grant,
    d_identity,
    d_resource,
    desired,
    fic,
    guid,
    identity_id,
    l_fic,
    l_grant,
    l_identity,
    l_resource,
    live,
    plan,
    resource_id,
    rg_scope,
    system,
    user,
    vault,
)

from identity_reconciler.core import roles
from identity_reconciler.core.state import PrivilegeAllowance
from identity_reconciler.plan.model import Plan

APP = resource_id("app-myapp-prod-uks-01")
WEB = resource_id("app-web-prod-uks-01")
ME = identity_id("id-myapp-prod-uks-01")
NEW = identity_id("id-jobs-prod-uks-01")


def empty() -> Plan:
    return plan(
        desired([d_identity("id-myapp-prod-uks-01")]), live([l_identity("id-myapp-prod-uks-01")])
    )


def greenfield() -> Plan:
    """Everything new: creates only, principals known after apply."""
    state = desired(
        [d_identity("id-myapp-prod-uks-01", fics=[fic()])],
        [d_resource(APP, users=[ME]), d_resource(WEB, system=True)],
        [
            d_grant(user(ME), vault(), description="reads app secrets"),
            d_grant(system(WEB), rg_scope(), BLOB_READER),
        ],
    )
    return plan(state, live([], [l_resource(APP), l_resource(WEB)]))


def mixed() -> Plan:
    """Updates, deletes, a replace, notices and a located error, in one plan."""
    pid = guid("principal:id-myapp-prod-uks-01")
    state = desired(
        [
            d_identity("id-myapp-prod-uks-01", tags={"env": "prod"}, fics=[fic("github-prod")]),
            d_identity("id-jobs-prod-uks-01", location="westeurope"),
            d_identity("id-theirs-prod-uks-01"),
        ],
        [d_resource(APP, users=[ME]), d_resource(resource_id("app-ghost"), system=True, line=40)],
        [
            d_grant(user(ME), vault(), condition="@Resource[x] == 'y'"),
            d_grant(user(NEW), rg_scope(), BLOB_READER),
            d_grant(user(ME), rg_scope(), BLOB_READER),
        ],
    )
    state_live = live(
        [
            l_identity("id-myapp-prod-uks-01", tags={"env": "dev"}, fics=[l_fic("github-main")]),
            l_identity("id-jobs-prod-uks-01"),
            l_identity("id-theirs-prod-uks-01", owned=False),
            l_identity("id-old-prod-uks-01"),
        ],
        [l_resource(APP, type_="UserAssigned", users=[identity_id("id-old-prod-uks-01")])],
        [
            l_grant(pid, vault()),
            l_grant(pid, rg_scope(), BLOB_READER, owned=False),
            l_grant(guid("principal:id-jobs-prod-uks-01"), rg_scope(), BLOB_READER),
            l_grant(guid("principal:id-old-prod-uks-01"), vault()),
        ],
    )
    return plan(state, state_live)


def privileged() -> Plan:
    sub = f"/subscriptions/{SUB}"
    state = desired(
        [d_identity("id-deploy-prod-uks-01")],
        [],
        [d_grant(user(identity_id("id-deploy-prod-uks-01")), sub, roles.CONTRIBUTOR)],
        allow_privileged=(PrivilegeAllowance(roles.CONTRIBUTOR, sub, "deploys everything"),),
    )
    return plan(state, live([l_identity("id-deploy-prod-uks-01")]))


BLOB_CONDITION = (
    "((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read'}))"
    " OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/containers:name]"
    " StringEquals '{}'))"
)


AUDIT = "audit"


def condition() -> Plan:
    """A long ABAC condition that differs in one clause: shown as a word diff."""
    pid = guid("principal:id-myapp-prod-uks-01")
    state = desired(
        [d_identity("id-myapp-prod-uks-01")],
        [],
        [d_grant(user(ME), rg_scope(), BLOB_READER, condition=BLOB_CONDITION.replace("{}", AUDIT))],
    )
    state_live = live(
        [l_identity("id-myapp-prod-uks-01")],
        [],
        [
            l_grant(
                pid, rg_scope(), BLOB_READER,
                condition=BLOB_CONDITION.replace("{}", "logs"), condition_version="2.0",
            )
        ],
    )
    return plan(state, state_live)


GITLAB = "https://gitlab.com"
BRANCHES = "claims['sub'] matches 'repo:contoso/myapp:ref:refs/heads/*'"
REPO = "claims['repository_id'] eq '123456'"
WORKFLOWS = (
    "claims['sub'] matches 'repo:contoso/myapp:environment:*' and {} and "
    "claims['job_workflow_ref'] matches 'contoso/deploy/.github/workflows/*.yml@refs/heads/main'"
)


def flexible() -> Plan:
    """Flexible credentials: one created, a subject one becoming flexible, a long expression
    changed in one clause (a word diff), and one going back to a subject."""
    me = "id-myapp-prod-uks-01"
    state = desired(
        [
            d_identity(
                me,
                fics=[
                    fic("github-any-branch", expression=f"{BRANCHES} and {REPO}"),
                    fic("github-main", expression=f"{BRANCHES} and {REPO}".replace("*", "main")),
                    fic("github-deploy", expression=WORKFLOWS.format(REPO)),
                    fic("gitlab-main", "project_path:contoso/myapp:ref_type:branch:ref:main",
                        issuer=GITLAB),
                ],
            )
        ]
    )  # fmt: skip
    old_repo = "claims['repository_owner_id'] eq '654321'"
    state_live = live(
        [
            l_identity(
                me,
                fics=[
                    l_fic("github-main", identity=me),
                    l_fic("github-deploy", identity=me, expression=WORKFLOWS.format(old_repo)),
                    l_fic("gitlab-main", identity=me, issuer=GITLAB,
                          expression="claims['sub'] matches 'project_path:contoso/myapp:*'"),
                ],
            )
        ]
    )  # fmt: skip
    return plan(state, state_live)


SCENARIOS: dict[str, Callable[[], Plan]] = {
    "condition": condition,
    "empty": empty,
    "flexible": flexible,
    "greenfield": greenfield,
    "mixed": mixed,
    "privileged": privileged,
}
