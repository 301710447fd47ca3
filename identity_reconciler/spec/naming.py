"""Naming patterns such as `id-{app}-{env}-{location}-{instance}`, turned into matchers.

Placeholders are lower-case words separated by the pattern's literals; `{app}` may itself
contain hyphens (`id-my-app-prod-uks-01`), `{instance}` is two or three digits.
"""

from __future__ import annotations

import re
from functools import lru_cache

from identity_reconciler.core.errors import UserError

_PLACEHOLDER_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PLACEHOLDER_PATTERNS = {
    "app": r"[a-z0-9]+(?:-[a-z0-9]+)*",
    "instance": r"[0-9]{2,3}",
}
_EXAMPLE_VALUES = {"app": "myapp", "env": "prod", "location": "uks", "instance": "01"}


class NamingPatternError(UserError):
    """A `policy.naming` that cannot be turned into a matcher."""


@lru_cache(maxsize=32)
def naming_regex(pattern: str) -> re.Pattern[str]:
    """`id-{app}-{env}-{location}-{instance}` -> an anchored regex (lower case, '-' separated)."""
    if pattern.count("{") != pattern.count("}"):
        raise NamingPatternError(f"naming pattern {pattern!r} has unbalanced braces")
    out, pos = "", 0
    for m in _PLACEHOLDER_RE.finditer(pattern):
        literal = pattern[pos : m.start()]
        if "{" in literal or "}" in literal:
            raise NamingPatternError(f"naming pattern {pattern!r}: placeholders look like {{app}}")
        out += re.escape(literal)
        out += f"(?P<{m[1]}>{_PLACEHOLDER_PATTERNS.get(m[1], '[a-z0-9]+')})"
        pos = m.end()
    tail = pattern[pos:]
    if "{" in tail or "}" in tail:
        raise NamingPatternError(f"naming pattern {pattern!r}: placeholders look like {{app}}")
    try:
        return re.compile(f"^{out}{re.escape(tail)}$")
    except re.error as exc:  # e.g. the same placeholder twice
        raise NamingPatternError(f"naming pattern {pattern!r}: {exc}") from None


def naming_example(pattern: str) -> str:
    return _PLACEHOLDER_RE.sub(lambda m: _EXAMPLE_VALUES.get(m[1], "x"), pattern)
