"""Flexible federated credentials: the `claimsMatchingExpression` of api-version
2025-01-31-preview and later, checked as Azure checks it when the credential is written.

Microsoft Entra's restricted expression language (language version 1) compares claims of the
incoming token: `claims['sub'] matches 'repo:contoso/*'`, `claims['job_workflow_ref'] eq
'...'`, joined with `and`. A credential names either a `subject` or an expression, never both,
and the expression must name language version 1.
"""

from __future__ import annotations

import re
from typing import Any

from local_azure.kernel import JSON, ArmError

FIRST_VERSION = "2025-01-31-preview"
LANGUAGE_VERSION = 1
MAX_EXPRESSION_LENGTH = 600
_CLAUSE = re.compile(
    r"^claims\[\s*'(?P<claim>[A-Za-z_][A-Za-z0-9_.-]*)'\s*\]\s+(?P<op>matches|eq)\s+"
    r"(?P<comparand>'(?:[^']|'')*'|[^\s']\S*)$"
)


def supported(api_version: str | None) -> bool:
    """Whether `api_version` knows `claimsMatchingExpression` (2025-01-31-preview and later)."""
    return bool(api_version) and str(api_version) >= FIRST_VERSION


def _bad(message: str, target: str) -> ArmError:
    return ArmError(400, "BadRequest", message, target=target)


def check(raw: Any) -> JSON:
    """The expression as stored (`{languageVersion, value}`), or 400 BadRequest."""
    target = "properties.claimsMatchingExpression"
    if not isinstance(raw, dict):
        raise _bad("'claimsMatchingExpression' must be an object with 'languageVersion' and "
                   "'value'.", target)  # fmt: skip
    version, value = raw.get("languageVersion"), raw.get("value")
    if isinstance(version, bool) or version != LANGUAGE_VERSION:
        raise _bad(
            f"'claimsMatchingExpression.languageVersion' must be {LANGUAGE_VERSION}; got "
            f"'{version}'.",
            target + ".languageVersion",
        )
    if not isinstance(value, str) or not value.strip():
        raise _bad("'claimsMatchingExpression.value' is required.", target + ".value")
    if len(value) > MAX_EXPRESSION_LENGTH:
        raise _bad(
            f"'claimsMatchingExpression.value' is longer than {MAX_EXPRESSION_LENGTH} characters.",
            target + ".value",
        )
    for clause in re.split(r"\s+and\s+", value.strip()):
        if not _CLAUSE.match(clause):
            raise _bad(
                f"'claimsMatchingExpression.value' is not a valid expression: '{clause}'. Use "
                "claims['<claim>'] matches|eq '<value>', joined with 'and'.",
                target + ".value",
            )
    return {"languageVersion": LANGUAGE_VERSION, "value": value}
