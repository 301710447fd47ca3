"""`outputs --format github` appends `KEY=value` lines to $GITHUB_OUTPUT: a name or value with a
line break would add a step output of the attacker's choosing (`evil=...`). Names become keys
only through [A-Z0-9_]; a value with CR or LF is refused, nothing rendered."""

from __future__ import annotations

import pytest

from identity_reconciler.plan.outputs import IdentityOutput, OutputsError, env_pairs, render_env

RID = "/subscriptions/1/resourceGroups/rg/providers/Microsoft.ManagedIdentity/x/id-a"


def _output(name: str = "id-a", client_id: str = "c1", principal_id: str = "p1") -> IdentityOutput:
    return IdentityOutput(
        name=name, kind="user_assigned", resource_id=RID, client_id=client_id,
        principal_id=principal_id, tenant_id="t1", exists=True,
    )


@pytest.mark.parametrize("name", ["id-a\nevil=1", "id-a\revil=1", "id-a\u2028evil=1", "a=b"])
def test_a_hostile_name_gives_one_key_per_line(name: str) -> None:
    text = render_env(env_pairs([_output(name=name)]))
    lines = text.splitlines()
    assert len(lines) == 3
    assert all(line.split("=", 1)[0].replace("_", "").isalnum() for line in lines)
    assert "\nevil" not in text


@pytest.mark.parametrize("value", ["c1\nevil=1", "c1\revil=1", "c1\r\nevil<<EOF"])
def test_a_value_with_a_line_break_is_refused(value: str) -> None:
    with pytest.raises(OutputsError):
        render_env(env_pairs([_output(client_id=value)]))
