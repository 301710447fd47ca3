"""Shared ARM answer shapes for the resource providers: public bodies, pages, OData filters.

ARM lists page with `{"value": [...], "nextLink": ...}`. The SDK follows `nextLink` keeping only
that URL's own query (it swaps in its own api-version), so every query parameter a page depends
on (`$filter`, `$top`, the skip token) travels inside an absolute nextLink.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import quote

from local_azure.kernel import JSON, ArmError, Request, Response

SKIP_TOKEN = "$skiptoken"  # noqa: S105 (a query parameter name)


def public(body: JSON) -> JSON:
    """The document as ARM shows it: without internal `_`-keys (top level only)."""
    return {k: v for k, v in body.items() if not k.startswith("_")}


def page(
    req: Request,
    items: Sequence[JSON],
    page_size: int,
    *,
    keep: Iterable[str] = ("$filter", "$top", "$expand"),
) -> Response:
    """One page of `items` starting at the request's skip token, with an absolute nextLink.

    `$top` is a page size, as in ARM: it shortens each page, and the nextLink (which keeps it)
    leads on to the rest, so SDK pagers still walk every item.
    """
    start = _offset(req.q(SKIP_TOKEN))
    top = _top(req.q("$top"))
    size = max(1, page_size) if not top else min(max(1, page_size), top)
    end = min(len(items), start + size)
    body: JSON = {"value": [public(i) for i in items[start:end]]}
    if end < len(items):
        params = [("api-version", req.api_version or "")]
        params += [(k, v) for k in keep if (v := req.q(k)) is not None]
        params.append((SKIP_TOKEN, str(end)))
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params)
        body["nextLink"] = f"{req.base_url}{quote(req.path)}?{query}"
    return Response(200, body)


Seek = Callable[[int, int], list[tuple[int, JSON]]]  # (after seq, limit) -> [(seq, doc)]


def seek_page(
    req: Request,
    seek: Seek,
    page_size: int,
    *,
    skip_param: str = SKIP_TOKEN,
    keep: Iterable[str] = ("$filter", "$top", "$expand"),
) -> Response:
    """One page of a store list that resumes after the seq its skip token names.

    Unlike `page`, nothing before the token is read again, so walking N items in pages of P
    costs about N, not N²/P. The token is the seq of the last item served; `$top` is a page
    size, as in ARM, kept in each nextLink. `skip_param` is how the provider spells the
    parameter in its nextLinks (read back case-insensitively).
    """
    after = _offset(req.q(SKIP_TOKEN))
    top = _top(req.q("$top"))
    size = max(1, page_size) if not top else min(max(1, page_size), top)
    rows = seek(after, size + 1)
    served = rows[:size]
    body: JSON = {"value": [public(doc) for _, doc in served]}
    if len(rows) > size:
        params = [("api-version", req.api_version or "")]
        params += [(k, v) for k in keep if (v := req.q(k)) is not None]
        params.append((skip_param, str(served[-1][0])))
        query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params)
        body["nextLink"] = f"{req.base_url}{quote(req.path)}?{query}"
    return Response(200, body)


def _offset(token: str | None) -> int:
    if token is None:
        return 0
    if not token.isdigit():
        raise ArmError(400, "InvalidSkipToken", f"The skip token '{token}' is not valid.")
    return int(token)


def _top(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise ArmError(
            400,
            "InvalidTopInQueryString",
            f"Invalid $top '{value}' specified in the query string.",
        )
    return int(value)


# ---------------------------------------------------------------------- OData $filter

_TERM = re.compile(r"\s*(\w+)\s+eq\s+'((?:[^']|'')*)'\s*", re.IGNORECASE)
_SUBSTRINGOF = re.compile(r"\s*substringof\(\s*'((?:[^']|'')*)'\s*,\s*(\w+)\s*\)\s*", re.IGNORECASE)

Clause = list[tuple[str, str, str]]  # (operator "eq"|"substringof", field lower-case, value)


def parse_filter(text: str, fields: Iterable[str]) -> list[Clause]:
    """`a eq 'x' and b eq 'y' or ...` -> OR of AND-clauses; 400 InvalidFilterInQueryString else.

    Only equality on the named `fields` (and `substringof('x', name)`) is understood, as ARM's
    resource and resource-group lists do; `and` binds tighter than `or`.
    """
    allowed = {f.lower() for f in fields}
    ors: list[Clause] = []
    for disjunct in re.split(r"\s+or\s+", text.strip(), flags=re.IGNORECASE):
        clause: Clause = []
        for term in re.split(r"\s+and\s+", disjunct, flags=re.IGNORECASE):
            if m := _TERM.fullmatch(term):
                name, value, op = m.group(1).lower(), m.group(2), "eq"
            elif (m := _SUBSTRINGOF.fullmatch(term)) and "substringof" in allowed:
                name, value, op = m.group(2).lower(), m.group(1), "substringof"
            else:
                raise invalid_filter(text)
            if op == "eq" and name not in allowed:
                raise invalid_filter(text)
            clause.append((op, name, value.replace("''", "'")))
        ors.append(clause)
    return ors


def invalid_filter(text: str) -> ArmError:
    return ArmError(
        400,
        "InvalidFilterInQueryString",
        f"Invalid $filter '{text}' specified in the query string.",
    )


def matches(clauses: list[Clause], get: Callable[[str], Any]) -> bool:
    """Whether a document passes a parsed filter; `get(field)` reads a field from it.

    Tag filters pair up: `tagName eq 'a' and tagValue eq 'b'` means the tag a has value b.
    """
    return any(_clause_matches(c, get) for c in clauses)


def _clause_matches(clause: Clause, get: Callable[[str], Any]) -> bool:
    tags: dict[str, str] = {k.lower(): str(v) for k, v in (get("tags") or {}).items()}
    tag_name = next((v for op, f, v in clause if op == "eq" and f == "tagname"), None)
    for op, field, value in clause:
        if field == "tagname":
            if value.lower() not in tags:
                return False
        elif field == "tagvalue":
            if tag_name is None:
                if value not in tags.values():
                    return False
            elif tags.get(tag_name.lower()) != value:
                return False
        elif op == "substringof":
            if value.lower() not in str(get(field) or "").lower():
                return False
        elif str(get(field) or "").lower() != value.lower():
            return False
    return True


# ---------------------------------------------------------------------- request fields

_TAG_RESERVED = re.compile(r"[<>%&\\?/\x00-\x1f]")


def parse_tags(raw: Any) -> dict[str, str] | None:
    """Validated `tags` of a write body (None when absent), as ARM checks them."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        raise ArmError(
            400,
            "InvalidRequestContent",
            "The request content was invalid and could not be deserialized: "
            "'tags' must be an object of string values.",
        )
    bad = [k for k in raw if _TAG_RESERVED.search(k)]
    if bad:
        raise ArmError(
            400,
            "InvalidTagNameCharacters",
            f"The tag names '{','.join(bad)}' have reserved characters '<,>,%,&,\\,?,/' "
            "or control characters.",
        )
    if len(raw) > 50:
        raise ArmError(
            400,
            "TooManyTags",
            f"The number of tags '{len(raw)}' exceeds the maximum of '50' tags per resource.",
        )
    return dict(raw)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 merge: objects merge recursively, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out
