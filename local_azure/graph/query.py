"""OData for the Graph endpoint: `$filter` clauses, `$select`, `$top` and `$skiptoken` pages.

Microsoft Graph accepts a small grammar on directory objects, and so does this: `prop eq
'value'`, `startswith(prop,'value')`, `collection/any(c:c eq 'value')`, and `in`, joined by
one kind of `and`/`or`. String comparisons ignore case, as Graph's do. Anything else is the
400 Graph answers for a filter it cannot run.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from local_azure.kernel import ArmError

JSON = dict[str, Any]
DEFAULT_PAGE = 100
MAX_PAGE = 999

_STRING = r"'((?:[^']|'')*)'"
_EQ = re.compile(rf"^(\w+)\s+eq\s+{_STRING}$", re.IGNORECASE)
_IN = re.compile(r"^(\w+)\s+in\s+\((.*)\)$", re.IGNORECASE)
_STARTS = re.compile(rf"^startswith\(\s*(\w+)\s*,\s*{_STRING}\s*\)$", re.IGNORECASE)
_ANY = re.compile(rf"^(\w+)/any\(\s*(\w+)\s*:\s*(\w+)\s+eq\s+{_STRING}\s*\)$", re.IGNORECASE)
_ITEM = re.compile(_STRING)


class GraphError(ArmError):
    """A Graph error answer: ARM's envelope plus Graph's `innerError`."""

    def body(self) -> JSON:
        out = super().body()
        request_id = str(uuid.uuid4())
        out["error"]["innerError"] = {
            "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
            "request-id": request_id,
            "client-request-id": request_id,
        }
        return out


def bad_request(message: str, code: str = "BadRequest") -> GraphError:
    return GraphError(400, code, message)


@dataclass(frozen=True)
class Clause:
    """One comparison: `op` is eq, startswith or any (any: an element of a collection)."""

    prop: str
    op: str
    values: tuple[str, ...]

    def matches(self, obj: JSON) -> bool:
        value = _prop(obj, self.prop)
        wanted = [v.casefold() for v in self.values]
        if self.op == "any":
            items = value if isinstance(value, list) else []
            return any(str(i).casefold() in wanted for i in items)
        if not isinstance(value, str):
            return False
        if self.op == "startswith":
            return value.casefold().startswith(wanted[0])
        return value.casefold() in wanted


def _prop(obj: JSON, name: str) -> Any:
    for key, value in obj.items():
        if key.lower() == name.lower():
            return value
    return None


def _unquote(text: str) -> str:
    return text.replace("''", "'")


def _split(text: str) -> tuple[list[str], str]:
    """Split on top-level ` and ` / ` or ` outside quotes and parentheses; one joiner only."""
    parts: list[str] = []
    joiners: set[str] = set()
    depth, quoted, start, i = 0, False, 0, 0
    lowered = text.lower()
    while i < len(text):
        ch = text[i]
        if ch == "'":
            quoted = not quoted
        elif not quoted and ch == "(":
            depth += 1
        elif not quoted and ch == ")":
            depth -= 1
        elif not quoted and depth == 0:
            for joiner in (" and ", " or "):
                if lowered.startswith(joiner, i):
                    parts.append(text[start:i].strip())
                    joiners.add(joiner.strip())
                    i += len(joiner)
                    start = i
                    break
            else:
                i += 1
                continue
            continue
        i += 1
    parts.append(text[start:].strip())
    if len(joiners) > 1:
        raise bad_request("Mixing 'and' and 'or' in one filter is not supported here.")
    return parts, (joiners.pop() if joiners else "and")


def parse_filter(text: str, allowed: dict[str, str], resource: str) -> tuple[list[Clause], str]:
    """Clauses and their joiner; `allowed` maps a property to its kind ('string' or 'list')."""
    parts, joiner = _split(text.strip())
    clauses = []
    for part in parts:
        clause = _clause(part)
        kind = next((k for p, k in allowed.items() if p.lower() == clause.prop.lower()), None)
        if kind is None or (kind == "list") != (clause.op == "any"):
            raise bad_request(
                "Unsupported or invalid query filter clause specified for property "
                f"'{clause.prop}' of resource '{resource}'.",
                "Request_UnsupportedQuery",
            )
        clauses.append(clause)
    return clauses, joiner


def _clause(part: str) -> Clause:
    if m := _EQ.match(part):
        return Clause(m.group(1), "eq", (_unquote(m.group(2)),))
    if m := _STARTS.match(part):
        return Clause(m.group(1), "startswith", (_unquote(m.group(2)),))
    if m := _ANY.match(part):
        if m.group(2) != m.group(3):
            raise bad_request(f"Invalid filter clause: unknown range variable '{m.group(3)}'.")
        return Clause(m.group(1), "any", (_unquote(m.group(4)),))
    if m := _IN.match(part):
        values = tuple(_unquote(v) for v in _ITEM.findall(m.group(2)))
        if not values:
            raise bad_request(f"Invalid filter clause: '{part}'.")
        return Clause(m.group(1), "eq", values)
    raise bad_request(f"Invalid filter clause: '{part}'.")


def select(objects: Sequence[JSON], clauses: list[Clause], joiner: str) -> list[JSON]:
    if not clauses:
        return list(objects)
    test: Callable[[JSON], bool] = (
        (lambda o: all(c.matches(o) for c in clauses))
        if joiner == "and"
        else (lambda o: any(c.matches(o) for c in clauses))
    )
    return [o for o in objects if test(o)]


def project(obj: JSON, fields: str | None) -> JSON:
    """`$select`: the named properties (and `id`, `@odata.type`), in the object's order."""
    if not fields:
        return obj
    wanted = {f.strip().lower() for f in fields.split(",") if f.strip()} | {"id"}
    return {k: v for k, v in obj.items() if k.lower() in wanted or k.startswith("@odata.")}


def page_size(top: str | None) -> int:
    if top is None:
        return DEFAULT_PAGE
    try:
        size = int(top)
    except ValueError:
        raise bad_request(f"Invalid page size specified: '{top}'.") from None
    if not 1 <= size <= MAX_PAGE:
        raise bad_request(f"Invalid page size specified: '{top}'. Must be between 1 and 999.")
    return size


def skip(token: str | None) -> int:
    if token is None:
        return 0
    if not token.isdigit():
        raise bad_request("Specified skip token is invalid.", "Request_BadRequest")
    return int(token)


def next_link(base: str, path: str, query: dict[str, str], offset: int) -> str:
    """An absolute `@odata.nextLink` that keeps the request's own options."""
    kept = {k: v for k, v in query.items() if k.lower() != "$skiptoken"}
    kept["$skiptoken"] = str(offset)
    encoded = "&".join(f"{quote(k, safe='$')}={quote(v, safe='')}" for k, v in kept.items())
    return f"{base}{path}?{encoded}"
