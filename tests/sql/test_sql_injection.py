"""No name can change what a generated statement does: quoting, proven by parsing.

Each generated statement is tokenized with SQL Server's quoting rules. For any user and role
name, the statement must have exactly the token structure it has for a plain name (so no extra
statement, keyword, comment or operator appeared), and every identifier and string token must
read back as the name that went in.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sql_fakes import FakeCatalog, RecordingConnection, Token, skeleton, tokenize

from identity_reconciler.sql import execute, quote_literal, quote_name, read_database, tsql
from identity_reconciler.sql.quote import UnsafeName

# Any name the package accepts: every Unicode character but control characters (refused, see
# below) and surrogates (cannot be encoded), 1-128 long, with what matters to the lexer likely.
DANGEROUS = st.sampled_from(["]", "[", "'", ";", "--", "/*", "*/", "N'", " ", "]]", "''"])
NAMES = st.lists(
    st.one_of(DANGEROUS, st.text(st.characters(exclude_categories=["Cc", "Cs", "Zl", "Zp"]),
                                 max_size=8)),
    min_size=1, max_size=12,
).map("".join).filter(lambda s: 0 < len(s) <= 128)

ONE_NAME: dict[str, Callable[[str], str]] = {
    "create_user": tsql.create_user,
    "mark_owned": tsql.mark_owned,
    "drop_user": tsql.drop_user,
}
TWO_NAMES: dict[str, Callable[[str, str], str]] = {
    "add_member": tsql.add_member,
    "drop_member": tsql.drop_member,
}
PLAIN_USER, PLAIN_ROLE = "id-plain", "db_plain"


def _names(tokens: list[Token]) -> list[str]:
    return [t.value for t in tokens if t.kind in ("ident", "nstr")]


def _check(statement: str, plain: str, *, names: dict[str, str]) -> None:
    tokens = tokenize(statement)
    expected = tokenize(plain)
    assert skeleton(tokens) == skeleton(expected)
    assert not [t for t in tokens if t.kind == "comment"]
    assert sum(t.text == ";" for t in tokens) == sum(t.text == ";" for t in expected)
    # Every place that held the plain name now holds the new one, unchanged.
    want = [names.get(v, v) for v in _names(expected)]
    assert _names(tokens) == want


@pytest.mark.parametrize("builder", sorted(ONE_NAME))
@given(user=NAMES)
@settings(max_examples=150, deadline=None)
def test_user_names_cannot_inject(builder: str, user: str) -> None:
    make = ONE_NAME[builder]
    _check(make(user), make(PLAIN_USER), names={PLAIN_USER: user})


@pytest.mark.parametrize("builder", sorted(TWO_NAMES))
@given(role=NAMES, user=NAMES)
@settings(max_examples=150, deadline=None)
def test_role_and_user_names_cannot_inject(builder: str, role: str, user: str) -> None:
    make = TWO_NAMES[builder]
    _check(make(role, user), make(PLAIN_ROLE, PLAIN_USER),
           names={PLAIN_ROLE: role, PLAIN_USER: user})


@given(name=NAMES)
@settings(max_examples=200, deadline=None)
def test_quoting_round_trips_as_one_token(name: str) -> None:
    (ident,) = tokenize(quote_name(name))
    assert (ident.kind, ident.value) == ("ident", name)
    (literal,) = tokenize(quote_literal(name))
    assert (literal.kind, literal.value) == ("nstr", name)


@given(user=NAMES, role=st.sampled_from(["db_datareader", "db_datawriter"]))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_fake_database_runs_hostile_names_as_names(user: str, role: str) -> None:
    """End to end: a hostile name becomes exactly one user with exactly that name."""
    catalog = FakeCatalog(directory={user.lower(): "0b5e7a43-5e3c-4f4c-9d6b-1c1f0a7d2e11"})
    conn = RecordingConnection(catalog)
    execute(conn, [tsql.create_user(user), tsql.add_member(role, user)])
    live = read_database(RecordingConnection(catalog), "/s/x", "db")
    created = [u for u in live.users.values() if u.type == "E"]
    assert [(u.name, u.owned, sorted(u.roles)) for u in created] == [(user, True, [role])]


def test_examples_read_as_intended() -> None:
    assert quote_name("a]b") == "[a]]b]"
    assert quote_literal("o'brien") == "N'o''brien'"
    statement = tsql.add_member("db_datareader", "x]; DROP TABLE t; --")
    assert statement.endswith("ALTER ROLE [db_datareader] ADD MEMBER [x]]; DROP TABLE t; --];")


@pytest.mark.parametrize(
    "name",
    ["", "x" * 129, "a\x00b", "x\n## Approved", "a\rb", "a\x1b[31mb", "a\u2028b", "a\x85b"],
)
def test_names_that_cannot_be_identifiers_or_shown_safely_are_refused(name: str) -> None:
    with pytest.raises(UnsafeName):
        quote_name(name)
    with pytest.raises(UnsafeName):
        tsql.create_user(name)
    if name and len(name) <= 128:  # control characters: not even as a string literal
        with pytest.raises(UnsafeName):
            quote_literal(name)
