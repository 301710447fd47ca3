"""Flexible federated credentials: the `claimsMatchingExpression` that only the
2025-01-31-preview and 2025-05-31-preview api-versions define, checked as Azure checks it when
the credential is written.

What the REST specs say: the property is `{value: string, languageVersion: int32}`, both
required; a credential defines either `subject` or `claimsMatchingExpression`, not both. The
stable versions published after the previews (2026-04-30, 2026-05-31) do not have it and still
require `subject`, so the gate is a list of versions, not "this one and later".

What Microsoft Learn says ("Flexible federated identity credentials"): language version 1 is
the only one; an expression is clauses `claims['<claim>'] <operator> '<comparand>'` joined by
`and`, with the operators `matches` (wildcards `*` and `?`) and `eq`, and single quotes as the
escape character. The official REST example writes a comparand without quotes
(`claims['sub'] matches system:serviceaccount:ns:*`) and expects 201, so an unquoted comparand
without spaces is accepted too. Neither source gives a length limit for the expression, so none
is applied here beyond the server's request-size limit.
"""

from __future__ import annotations

import re
from typing import Any

from local_azure.kernel import JSON, ArmError

# Api-versions whose FederatedIdentityCredentialProperties define claimsMatchingExpression.
VERSIONS = ("2025-01-31-preview", "2025-05-31-preview")
LANGUAGE_VERSION = 1
TARGET = "properties.claimsMatchingExpression"
_CLAUSE = re.compile(
    r"claims\[\s*'(?P<claim>[A-Za-z_][A-Za-z0-9_.-]*)'\s*\]\s+(?P<op>matches|eq)\s+"
    r"(?P<comparand>'(?:[^']|'')*'|[^\s']\S*)"
)
_AND = re.compile(r"\s+and\s+")


def _invalid_part(value: str) -> str | None:
    """Where `value` stops being clauses joined by `and` (None: it does not). Read clause by
    clause, so an `and` inside a quoted comparand is part of the comparand, as the quotes say."""
    pos = 0
    while True:
        clause = _CLAUSE.match(value, pos)
        if clause is None:
            return value[pos:]
        pos = clause.end()
        if pos == len(value):
            return None
        joined = _AND.match(value, pos)
        if joined is None:
            return value[pos:]
        pos = joined.end()


def supported(api_version: str | None) -> bool:
    """Whether `api_version` defines `claimsMatchingExpression`."""
    return api_version in VERSIONS


def _bad(message: str, target: str) -> ArmError:
    return ArmError(400, "BadRequest", message, target=target)


def unsupported(api_version: str | None) -> ArmError:
    """A credential that names an expression at a version without it: refused, never dropped
    (dropping it would store a credential other than the one the caller asked for)."""
    return _bad(
        f"The property 'claimsMatchingExpression' is not supported in api-version "
        f"'{api_version}'. Use one of the api-versions {', '.join(VERSIONS)}.",
        TARGET,
    )


def check(raw: Any) -> JSON:
    """The expression as stored (`{languageVersion, value}`), or 400 BadRequest."""
    if not isinstance(raw, dict):
        raise _bad("'claimsMatchingExpression' must be an object with 'languageVersion' and "
                   "'value'.", TARGET)  # fmt: skip
    version, value = raw.get("languageVersion"), raw.get("value")
    if isinstance(version, bool) or version != LANGUAGE_VERSION:
        raise _bad(
            f"'claimsMatchingExpression.languageVersion' must be {LANGUAGE_VERSION}; got "
            f"'{version}'.",
            TARGET + ".languageVersion",
        )
    if not isinstance(value, str) or not value.strip():
        raise _bad("'claimsMatchingExpression.value' is required.", TARGET + ".value")
    invalid = _invalid_part(value.strip())
    if invalid is not None:
        raise _bad(
            f"'claimsMatchingExpression.value' is not a valid expression at '{invalid}'. Use "
            "claims['<claim>'] matches|eq '<value>', joined with 'and'.",
            TARGET + ".value",
        )
    return {"languageVersion": LANGUAGE_VERSION, "value": value}
