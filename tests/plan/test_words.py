"""Plurals in every count a user reads."""

from __future__ import annotations

import pytest

from identity_reconciler.core.words import count, plural


@pytest.mark.parametrize(
    ("noun", "many"),
    [
        ("file", "files"),
        ("identity", "identities"),
        ("entry", "entries"),
        ("retry", "retries"),
        ("ARM request", "ARM requests"),
        ("subscription", "subscriptions"),
        ("key", "keys"),
        ("match", "matches"),
        ("difference", "differences"),
    ],
)
def test_plural(noun: str, many: str) -> None:
    assert plural(noun) == many


def test_count() -> None:
    assert count(0, "error") == "0 errors"
    assert count(1, "error") == "1 error"
    assert count(2, "error") == "2 errors"
    assert count(1_000, "identity") == "1,000 identities"
    assert count(1, "name part") == "1 name part"
    assert count(3, "person", "people") == "3 people"
