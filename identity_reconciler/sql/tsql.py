"""The T-SQL statements a plan carries: each one guarded so that running it twice is harmless.

A plan is applied later than it was made, perhaps twice (a retry after a dropped connection), so
every statement checks the catalog before it acts: `CREATE USER` only when no principal has the
name, `ALTER ROLE … ADD MEMBER` only when the direct membership is missing, and `DROP USER` only
while the user still carries our ownership mark. Direct memberships are checked in
`sys.database_role_members`, not with IS_ROLEMEMBER, which also counts nested roles and would
leave a wanted direct membership forever unplanned-yet-missing.

Ownership is an extended property on the user (`managed-by = identity-reconciler`, the same
words as the tag on identities), readable from `sys.extended_properties` (class 4: database
principal). It is dropped with the user.

Every name enters the text through `quote.py` (identifiers and N'' literals), which is why the
string-built SQL below is safe; tests parse each statement to prove it for arbitrary names.
"""

from __future__ import annotations

import re

from identity_reconciler.core.ownership import OWNER_TAG, OWNER_TAG_VALUE
from identity_reconciler.sql.quote import UnsafeName, name_literal, quote_literal, quote_name

MARK_NAME = OWNER_TAG
MARK_VALUE = OWNER_TAG_VALUE
_DATABASE_PRINCIPAL_CLASS = 4
# The object id of a principal this plan creates: apply fills it in (`bind_object_id`).
OBJECT_ID_AFTER_APPLY = "(known after apply)"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


def _object_id(value: str) -> str:
    if value != OBJECT_ID_AFTER_APPLY and not _GUID.match(value):
        raise UnsafeName(f"object id {value[:40]!r} is not a GUID")
    return f"'{value.lower() if value != OBJECT_ID_AFTER_APPLY else value}'"


def bind_object_id(statement: str, object_id: str) -> str:
    """`statement` with the object id of a principal created during apply filled in."""
    if not _GUID.match(object_id):
        raise UnsafeName(f"object id {object_id[:40]!r} is not a GUID")
    placeholder = f"WITH OBJECT_ID = {_object_id(OBJECT_ID_AFTER_APPLY)};"
    return statement.replace(placeholder, f"WITH OBJECT_ID = {_object_id(object_id)};")


def needs_object_id(statement: str) -> bool:
    return f"WITH OBJECT_ID = {_object_id(OBJECT_ID_AFTER_APPLY)};" in statement


def _is_marked(user: str) -> str:
    return (
        "SELECT 1 FROM sys.extended_properties "  # noqa: S608
        f"WHERE class = {_DATABASE_PRINCIPAL_CLASS} "
        f"AND major_id = DATABASE_PRINCIPAL_ID({name_literal(user)}) "
        f"AND minor_id = 0 AND name = {quote_literal(MARK_NAME)}"
    )


def _is_member(role: str, user: str) -> str:
    return (
        "SELECT 1 FROM sys.database_role_members "  # noqa: S608
        f"WHERE role_principal_id = DATABASE_PRINCIPAL_ID({name_literal(role)}) "
        f"AND member_principal_id = DATABASE_PRINCIPAL_ID({name_literal(user)})"
    )


def _add_mark(user: str) -> str:
    return (
        "EXEC sys.sp_addextendedproperty "
        f"@name = {quote_literal(MARK_NAME)}, @value = {quote_literal(MARK_VALUE)}, "
        f"@level0type = N'USER', @level0name = {name_literal(user)};"
    )


def create_user(user: str, object_id: str | None = None) -> str:
    """A contained user for an Entra principal, named `user`, marked ours.

    With `object_id` the server binds the user to that principal (`WITH OBJECT_ID`), so a
    display name shared by two principals (Msg 33131) cannot make it fail or pick the wrong one;
    without it the server looks the principal up by the display name `user`.
    The mark is set in the same guarded block, so a user someone else created in the meantime
    is never marked as ours; a re-run finds the user and does nothing.
    """
    by_id = "" if object_id is None else f" WITH OBJECT_ID = {_object_id(object_id)}"
    return (
        "IF NOT EXISTS (SELECT 1 FROM sys.database_principals "  # noqa: S608
        f"WHERE name = {name_literal(user)}) "
        f"BEGIN CREATE USER {quote_name(user)} FROM EXTERNAL PROVIDER{by_id}; "
        f"{_add_mark(user)} END;"
    )


def mark_owned(user: str) -> str:
    """Adopt an existing user: mark it ours (once)."""
    return f"IF NOT EXISTS ({_is_marked(user)}) {_add_mark(user)}"


def transfer_schema(schema: str, user: str, to: str = "dbo") -> str:
    """Give a schema `user` owns to `to` (dbo), so that `user` can be dropped; once only."""
    return (
        "IF EXISTS (SELECT 1 FROM sys.schemas "  # noqa: S608
        f"WHERE name = {name_literal(schema)} AND principal_id = DATABASE_PRINCIPAL_ID("
        f"{name_literal(user)})) ALTER AUTHORIZATION ON SCHEMA::{quote_name(schema)} TO "
        f"{quote_name(to)};"
    )


def drop_user(user: str) -> str:
    """Drop the user only while it still carries our mark (never someone else's user)."""
    return f"IF EXISTS ({_is_marked(user)}) DROP USER {quote_name(user)};"


def add_member(role: str, user: str) -> str:
    return (
        f"IF NOT EXISTS ({_is_member(role, user)}) "
        f"ALTER ROLE {quote_name(role)} ADD MEMBER {quote_name(user)};"
    )


def drop_member(role: str, user: str) -> str:
    return (
        f"IF EXISTS ({_is_member(role, user)}) "
        f"ALTER ROLE {quote_name(role)} DROP MEMBER {quote_name(user)};"
    )
