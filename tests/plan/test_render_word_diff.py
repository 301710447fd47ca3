"""Long string changes read as word diffs; short or rewritten ones as `old -> new`."""

from __future__ import annotations

from plan_scenarios import BLOB_CONDITION

from identity_reconciler.plan.render_common import changed

LOGS = BLOB_CONDITION.replace("{}", "logs")


def test_one_clause_of_a_long_condition_is_marked_in_context() -> None:
    got = changed(LOGS, BLOB_CONDITION.replace("{}", "audit"))
    assert got == (
        "… Microsoft.Storage/storageAccounts/blobServices/containers:name] StringEquals "
        "[-'logs'-]{+'audit'+}))"
    )


def test_two_distant_changes_keep_their_own_context() -> None:
    new = LOGS.replace(" OR ", " AND ").replace("blobs/read", "blobs/write")
    got = changed(LOGS, new)
    assert "[-OR-]{+AND+}" in got
    assert "/blobs/read'-]{+'Microsoft" in got
    assert got.startswith("… (ActionMatches{")
    assert got.count("…") == 2


def test_short_strings_and_rewrites_show_both_values() -> None:
    assert changed("a", "b") == '"a" -> "b"'
    assert changed(LOGS, "x") == f'"{LOGS}" -> "x"'
    assert changed(1, 2) == "1 -> 2"


def test_controls_in_a_word_diff_are_escaped() -> None:
    got = changed(LOGS, LOGS.replace("logs", "lo\ngs\u202e"))
    assert "\n" not in got
    assert "\\u000a" in got


def test_an_added_line_break_alone_is_still_shown() -> None:
    assert changed(LOGS, LOGS + "\n").endswith("{+\\u000a+}")
