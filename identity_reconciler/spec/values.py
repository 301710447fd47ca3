"""Single spec values: names, ids, URLs, tags. Each check says what is wrong and the fix.

The Annotated types here carry both the check (AfterValidator) and, where useful, the JSON
Schema pattern an editor can show while typing.
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field

from identity_reconciler.core import armid, identity_hosts
from identity_reconciler.core.ownership import OWNER_TAG, OWNER_TAG_VALUE
from identity_reconciler.spec.rules import CONFIGURABLE_RULES

IDENTITY_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,127}$")
FIC_NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$")
LOCATION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ]{0,63}$")
RESOURCE_NAME_RE = re.compile(
    r"^[A-Za-z0-9][A-Za-z0-9_.()-]{0,259}(/[A-Za-z0-9][A-Za-z0-9_.()-]{0,259})*$"
)
RESOURCE_TYPE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z][A-Za-z0-9]*)+(/[A-Za-z0-9]+)+$")
SQL_SERVER_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
SQL_DATABASE_RE = re.compile(r"^[^<>*%&:\\/?\x00-\x1f]{1,128}(?<![. ])$")
SQL_ROLE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_$#@ .-]{0,127}$")
TAG_KEY_FORBIDDEN = set("<>%&\\?/")

# Resource types whose identity block identity-reconciler manages, by their canonical casing.
IDENTITY_HOST_TYPES: dict[str, str] = {h.type.lower(): h.type for h in identity_hosts.TABLE}
DEFAULT_AUDIENCE = "api://AzureADTokenExchange"
MAX_FEDERATED_CREDENTIALS = 20
MAX_TAGS = 50
MAX_DESCRIPTION = 2048
MAX_CONDITION = 8192
DEFAULT_NAMING = "id-{app}-{env}-{location}-{instance}"


def _pattern(regex: re.Pattern[str]) -> dict[str, Any]:
    return {"pattern": regex.pattern}


# --------------------------------------------------------------------------- single values


class SpecValueError(ValueError):
    """A bad single value; `fix` says what to write instead (shown next to the message)."""

    def __init__(self, message: str, fix: str | None = None, *, key: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix
        # A check of a whole mapping may name the key it is about, to be located there.
        self.key = key


def _guid(value: str) -> str:
    if not armid.GUID_RE.match(value):
        raise SpecValueError(
            f"{value!r} is not a GUID", "write the id, e.g. 11111111-1111-1111-1111-111111111111"
        )
    return value.lower()


def _identity_name(value: str) -> str:
    if not IDENTITY_NAME_RE.match(value):
        raise SpecValueError(
            f"identity name {value!r} must be 3-128 letters, digits, '-' or '_', "
            "starting with a letter or digit",
            "rename it, e.g. id-myapp-prod-uks-01",
        )
    return value


def _fic_name(value: str) -> str:
    if not FIC_NAME_RE.match(value):
        raise SpecValueError(
            f"federated credential name {value!r} must be 3-120 letters, digits, '-' or '_', "
            "starting with a letter or digit",
            "rename it, e.g. github-production",
        )
    return value


def _resource_group(value: str) -> str:
    if not armid.RESOURCE_GROUP_RE.match(value):
        raise SpecValueError(
            f"resource group name {value!r} must be 1-90 letters, digits, '-', '_', '.', '(' "
            "or ')', not ending in '.'",
            "e.g. rg-myapp-prod-uks-01",
        )
    return value


def _location(value: str) -> str:
    if not LOCATION_RE.match(value):
        raise SpecValueError(
            f"location {value!r} is not an Azure region name", "write e.g. uksouth or westeurope"
        )
    return value.replace(" ", "").lower()


def _resource_name(value: str) -> str:
    if not RESOURCE_NAME_RE.match(value):
        raise SpecValueError(
            f"resource name {value!r} must start with a letter or digit and hold only "
            "letters, digits, '-', '_', '.', '(' or ')' (a child: parent/child)",
            "write the resource's name as Azure shows it",
        )
    return value


def _host_type(value: str) -> str:
    canonical = IDENTITY_HOST_TYPES.get(value.lower())
    if canonical is None:
        allowed = ", ".join(IDENTITY_HOST_TYPES.values())
        raise SpecValueError(
            f"resource type {value!r} cannot hold managed identities here", f"use one of {allowed}"
        )
    return canonical


def _resource_type(value: str) -> str:
    if not RESOURCE_TYPE_RE.match(value):
        raise SpecValueError(
            f"resource type {value!r} is not of the form Namespace/type",
            "write e.g. Microsoft.KeyVault/vaults",
        )
    return value


def _https_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or any(c.isspace() for c in value):
        raise SpecValueError(
            f"issuer {value!r} must be an https:// URL",
            "write e.g. https://token.actions.githubusercontent.com",
        )
    return value


def _subject(value: str) -> str:
    """Azure compares a token's subject to the credential's character for character."""
    wild = next((c for c in "*?" if c in value), None)
    if wild is not None:
        raise SpecValueError(
            f"subject {value!r} contains {wild!r}, but Azure matches subjects exactly: no "
            "token would ever match it",
            "list one credential per subject instead (up to 20 per identity), e.g. "
            "repo:contoso/myapp:environment:production for a GitHub environment, or match "
            "many with claims_matching_expression: \"claims['sub'] matches "
            "'repo:contoso/myapp:ref:refs/heads/*' and claims['repository_id'] eq '123456'\"",
        )
    return value


# A flexible credential's expression, as Microsoft Learn defines language version 1: clauses
# claims['<claim>'] <operator> '<comparand>', one space apart, joined by ' and '; operators
# `matches` (wildcards * and ?) and `eq`; inside a comparand a quote is written twice.
CLAIMS_CLAUSE_RE = re.compile(
    r"claims\['(?P<claim>[A-Za-z_][A-Za-z0-9_.-]*)'\] (?P<op>matches|eq) "
    r"'(?P<comparand>(?:[^']|'')*)'"
)
_UNQUOTED_CLAUSE_RE = re.compile(r"claims\['[^']*'\] (?:matches|eq) (?P<comparand>[^\s']+)")
CLAIMS_EXAMPLE = (
    "claims['sub'] matches 'repo:contoso/myapp:ref:refs/heads/*' and "
    "claims['repository_id'] eq '123456'"
)


def claims_clauses(value: str) -> list[tuple[str, str, str]]:
    """(claim, operator, comparand) of each clause; SpecValueError naming the first place the
    text stops being an expression, and how to write it."""
    clauses: list[tuple[str, str, str]] = []
    pos = 0
    while True:
        found = CLAIMS_CLAUSE_RE.match(value, pos)
        if found is None:
            raise _claims_error(value, pos)
        comparand = found["comparand"].replace("''", "'")
        clauses.append((found["claim"], found["op"], comparand))
        pos = found.end()
        if pos == len(value):
            return clauses
        if not value.startswith(" and ", pos):
            raise _claims_error(value, pos, after_clause=True)
        pos += len(" and ")


def _claims_error(value: str, pos: int, *, after_clause: bool = False) -> SpecValueError:
    rest = value[pos:]
    shown = rest if len(rest) <= 40 else rest[:37] + "..."
    where = f"at character {pos + 1} ({shown!r})" if rest else "at its end"
    unquoted = _UNQUOTED_CLAUSE_RE.match(value, pos)
    if after_clause:
        fix = "join clauses with ' and ' (single spaces), e.g. " + CLAIMS_EXAMPLE
    elif unquoted is not None:
        fix = f"put the comparand in single quotes: '{unquoted['comparand']}'"
    elif not rest.strip():
        fix = "end the expression with a clause, or remove the trailing 'and' or spaces"
    else:
        fix = (
            "write clauses claims['<claim>'] matches|eq '<value>', one space apart, joined by "
            f"' and ', e.g. {CLAIMS_EXAMPLE}"
        )
    return SpecValueError(f"claims matching expression is not valid {where}", fix)


def _claims_expression(value: str) -> str:
    claims_clauses(value)
    return value


def _non_blank(value: str) -> str:
    if not value.strip():
        raise SpecValueError("must not be blank", "write a value or remove the key")
    return value


def _sql_server(value: str) -> str:
    if not SQL_SERVER_RE.match(value):
        raise SpecValueError(
            f"SQL server name {value!r} must be 1-63 lower-case letters, digits or '-', "
            "not starting or ending with '-'",
            "write the server name without .database.windows.net, e.g. sql-myapp-prod-uks-01",
        )
    return value


def _sql_database(value: str) -> str:
    if not SQL_DATABASE_RE.match(value):
        raise SpecValueError(
            f"database name {value!r} is not a valid Azure SQL database name",
            "use at most 128 characters without <>*%&:\\/? and not ending in '.' or a space",
        )
    return value


def _sql_role(value: str) -> str:
    if not SQL_ROLE_RE.match(value):
        raise SpecValueError(
            f"database role {value!r} must be letters, digits, '_', '$', '#', '@', '.', '-' "
            "or spaces",
            "e.g. db_datareader",
        )
    if value.lower() == "public":
        raise SpecValueError(
            "every database user is in the role 'public'; it cannot be granted",
            "remove it, or name a role such as db_datareader",
        )
    return value


def _tags(value: dict[str, str]) -> dict[str, str]:
    if len(value) > MAX_TAGS:
        raise SpecValueError(f"{len(value)} tags; Azure allows {MAX_TAGS}", "drop some tags")
    for key, text in value.items():
        if not key or len(key) > 512 or TAG_KEY_FORBIDDEN & set(key):
            raise SpecValueError(
                f"tag name {key!r} is not allowed", "use 1-512 characters without <>%&\\?/"
            )
        if len(text) > 256:
            raise SpecValueError(f"tag {key!r}: value longer than 256 characters", "shorten it")
        if key.lower() == OWNER_TAG and text.lower() != OWNER_TAG_VALUE:
            raise SpecValueError(
                f"tag {key!r} is reserved: identity-reconciler sets it to {OWNER_TAG_VALUE!r}",
                "remove the tag",
            )
    return value


Guid = Annotated[str, AfterValidator(_guid), Field(json_schema_extra=_pattern(armid.GUID_RE))]
IdentityName = Annotated[
    str, AfterValidator(_identity_name), Field(json_schema_extra=_pattern(IDENTITY_NAME_RE))
]
ResourceGroupName = Annotated[
    str,
    AfterValidator(_resource_group),
    Field(json_schema_extra=_pattern(armid.RESOURCE_GROUP_RE)),
]
Location = Annotated[str, AfterValidator(_location), Field(examples=["uksouth"])]
Tags = Annotated[dict[str, str], AfterValidator(_tags)]
ResourceName = Annotated[str, AfterValidator(_resource_name)]
HostType = Annotated[
    str,
    AfterValidator(_host_type),
    Field(json_schema_extra={"enum": list(IDENTITY_HOST_TYPES.values())}),
]
NonBlank = Annotated[str, AfterValidator(_non_blank)]


def _iso_date(value: str) -> str:
    try:
        if len(value) != 10:
            raise ValueError(value)
        return _dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise SpecValueError(
            f"{value!r} is not a date", "write it as YYYY-MM-DD, e.g. 2027-01-31"
        ) from None


IsoDate = Annotated[
    str, AfterValidator(_iso_date), Field(json_schema_extra={"format": "date"})
]
FicName = Annotated[
    str, AfterValidator(_fic_name), Field(json_schema_extra=_pattern(FIC_NAME_RE))
]
HttpsUrl = Annotated[str, Field(max_length=600), AfterValidator(_https_url)]
FicSubject = Annotated[
    str,
    Field(max_length=600, description="the token's subject, matched exactly (no wildcards)"),
    AfterValidator(_non_blank),
    AfterValidator(_subject),
]
ClaimsExpressionText = Annotated[
    str,
    Field(
        description="language version 1: clauses `claims['CLAIM'] matches 'VALUE'` or "
        "`claims['CLAIM'] eq 'VALUE'` joined by `and` (matches takes the wildcards * and ?)",
        examples=[CLAIMS_EXAMPLE],
    ),
    AfterValidator(_non_blank),
    AfterValidator(_claims_expression),
]
ResourceType = Annotated[str, AfterValidator(_resource_type)]
SqlServerName = Annotated[str, AfterValidator(_sql_server)]
SqlDatabaseName = Annotated[str, AfterValidator(_sql_database)]
SqlRoleName = Annotated[str, AfterValidator(_sql_role)]
RuleSetting = Literal["error", "warning", "info", "off"]
RuleId = Literal[CONFIGURABLE_RULES]  # type: ignore[valid-type]
