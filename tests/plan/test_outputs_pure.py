"""The pure side of `outputs`: names to variables, collisions refused, no line injection."""

from __future__ import annotations

import pytest

from identity_reconciler.plan.outputs import (
    IdentityOutput,
    OutputsError,
    env_pairs,
    render_env,
    select,
)


def _out(name: str, rid: str = "") -> IdentityOutput:
    return IdentityOutput(name, "user_assigned", rid or f"/x/{name}", "c", "p", "t", True)


def test_env_names_and_collisions() -> None:
    assert env_pairs([_out("id-a.b")])[0] == ("ID_A_B_CLIENT_ID", "c")
    with pytest.raises(OutputsError, match="same variable names"):
        env_pairs([_out("id-a"), _out("id_a")])


def test_select_by_name_or_id() -> None:
    outputs = [_out("id-a", "/s/1/id-a"), _out("id-a", "/s/2/id-a"), _out("id-b")]
    assert select(outputs, "id-b").name == "id-b"
    assert select(outputs, "/s/2/id-a").resource_id == "/s/2/id-a"
    with pytest.raises(OutputsError, match="ambiguous"):
        select(outputs, "id-a")


def test_a_value_with_a_line_break_is_refused() -> None:
    with pytest.raises(OutputsError, match="line break"):
        render_env([("A", "x\nINJECTED=1")])
