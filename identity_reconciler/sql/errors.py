"""What a SQL Server error means for identity-reconciler, and how to fix it.

Drivers report server errors as text with the message number in it — pyodbc and mssql-python as
`... [SQL Server]Principal 'x' has a duplicate display name ... (33131)`, others as `Msg 33131`
— and a login that never reached the server as a time-out (`Login timeout expired`, SQLSTATE
HYT00). `explain()` recognises the errors people hit when creating users for Entra principals
and returns the cause and the fix, to be shown after the driver's own message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBER = re.compile(r"(?:\((\d{4,5})\)|\bMsg\s+(\d{4,5})\b|\berror\s+(\d{4,5})\b)", re.IGNORECASE)
_TIMEOUT = re.compile(r"login timeout expired|\bHYT00\b|timed? ?out", re.IGNORECASE)
# mssql-python bundles its ODBC driver, which needs system libraries it cannot install itself.
_DRIVER_LIBRARIES = re.compile(
    r"failed to load (?:the|ODBC) driver|libltdl|libgssapi_krb5|libkrb5", re.IGNORECASE
)
SYSTEM_PACKAGES = "libltdl7 libkrb5-3 libgssapi-krb5-2"


@dataclass(frozen=True)
class Explanation:
    code: str  # the message number, or "login-timeout"
    cause: str
    fix: str

    def __str__(self) -> str:
        return f"{self.cause}. Fix: {self.fix}"


KNOWN: dict[str, Explanation] = {
    "33131": Explanation(
        "33131",
        "two or more Microsoft Entra principals share this display name (identities of the same "
        "name in different resource groups, for instance), so the server cannot tell which one "
        "is meant",
        "create the user by object id — `resolve_by: object_id` on the user in the spec (the "
        "default), which emits CREATE USER … WITH OBJECT_ID — or give the principals distinct "
        "display names",
    ),
    "33134": Explanation(
        "33134",
        "the server could not resolve the principal in Microsoft Entra ID: its own identity may "
        "not read the directory, or no principal with that object id exists in the server's "
        "tenant (deleted since the plan, or in another tenant)",
        "give the SQL server's managed identity the Directory Readers role (or the Graph "
        "permissions User.Read.All, GroupMember.Read.All and Application.Read.All), check "
        "that the identity still exists in the server's tenant, then plan again",
    ),
    "33130": Explanation(
        "33130",
        "the server cannot see the principal yet: Microsoft Entra has not replicated a new "
        "identity, or the display name matches no principal",
        "wait a few minutes and apply again (apply already retries for a while), or correct "
        "the name",
    ),
    "15023": Explanation(
        "15023",
        "a user, group or role with this name already exists in the database (made by someone "
        "else since the plan was read)",
        "plan again; if it is the identity's own user made by hand, plan with --adopt to manage "
        "it, otherwise drop or rename the other principal",
    ),
    "18456": Explanation(
        "18456",
        "the server refused the sign-in: the identity running identity-reconciler is not the "
        "server's Microsoft Entra administrator nor a member of its admin group (or the token "
        "is for another tenant or audience)",
        "run as the server's Entra admin or add this identity to the admin group (az sql server "
        "ad-admin create), or grant it a database user with ALTER ANY USER and role membership "
        "rights",
    ),
    "driver-libraries": Explanation(
        "driver-libraries",
        "mssql-python could not load its bundled ODBC driver: a system library it needs is "
        "missing",
        f"install it with the system's package manager — Debian/Ubuntu: apt-get install -y "
        f"{SYSTEM_PACKAGES}; RHEL/Fedora: dnf install -y libtool-ltdl krb5-libs; Alpine: apk "
        "add libtool krb5-libs",
    ),
    "login-timeout": Explanation(
        "login-timeout",
        "the login timed out before the server answered: a firewall, a private endpoint or a "
        "paused serverless database keeps this machine from reaching port 1433",
        "allow this machine's address in the server's firewall (az sql server firewall-rule "
        "create), run where the private endpoint's DNS name resolves, or resume the database, "
        "then apply again",
    ),
}


def explain(message: str) -> Explanation | None:
    """The explanation of the first known error in a driver's message, if any."""
    for match in _NUMBER.finditer(message):
        number = next(g for g in match.groups() if g)
        if number in KNOWN:
            return KNOWN[number]
    if _DRIVER_LIBRARIES.search(message):
        return KNOWN["driver-libraries"]
    if _TIMEOUT.search(message):
        return KNOWN["login-timeout"]
    return None


def with_explanation(message: str) -> str:
    """`message`, followed by the cause and fix when the error is a known one."""
    found = explain(message)
    return message if found is None else f"{message} — {found}"
