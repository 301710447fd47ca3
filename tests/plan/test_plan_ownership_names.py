"""The cheap pre-check on role-assignment names never turns away a name we would give."""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from identity_reconciler.core import ownership


@given(scope=st.text(min_size=1, max_size=80), role=st.uuids(), principal=st.uuids())
def test_every_name_we_give_passes_the_pre_check(
    scope: str, role: uuid.UUID, principal: uuid.UUID
) -> None:
    name = ownership.assignment_name(scope, str(role), str(principal))
    assert ownership.may_be_owned_name(name)
    assert ownership.may_be_owned_name(name.upper())
    assert ownership.is_owned_assignment(name.upper(), scope, str(role), str(principal))


@given(name=st.uuids(version=4))
def test_names_others_pick_are_not_ours_without_hashing(name: uuid.UUID) -> None:
    assert not ownership.may_be_owned_name(str(name))
    assert not ownership.is_owned_assignment(str(name), "/subscriptions/x", "r", "p")


def test_malformed_names_are_not_ours() -> None:
    for name in ("", "5", "not-a-guid-at-all-but-36-characters!", "x" * 14 + "5"):
        assert not ownership.may_be_owned_name(name)
