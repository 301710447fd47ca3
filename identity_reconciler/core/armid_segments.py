"""The characters an ARM id segment may not hold, and why (`armid.check_segment` raises with them).

Kept apart from `armid.py` only for size; `armid` is the one public owner of these rules.
"""

from __future__ import annotations

import unicodedata

_FORBIDDEN = frozenset("%?#\\")
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def segment_problem(segment: str, text: str) -> str | None:
    """Why a path segment is refused (None: it is fine): a lower layer could rewrite it or
    read it differently.

    `requests`/`urllib3` remove `.` and `..` segments before sending, servers decode `%xx`, cut
    at `?` and `#`, some treat `\\` as `/`, trim whitespace, or fold compatibility characters
    (NFKC); format characters (U+202E...) make the id display differently from what it is.
    Any of these would let the scope that was judged and reviewed differ from the one ARM
    receives, so none is ever part of an id.
    """
    shown = f"in {text!r}"
    if segment == "":
        return f"empty segment ('//' or a trailing '/') {shown}"
    if segment in (".", ".."):
        return f"dot segment {segment!r} {shown}: ids are never relative"
    if segment != segment.strip():
        return f"segment {segment!r} {shown} has leading or trailing whitespace"
    for char in segment:
        if char in _FORBIDDEN:
            return f"character {char!r} {shown} is not allowed in an ARM id"
        if unicodedata.category(char) in _INVISIBLE:
            return (
                f"invisible or control character U+{ord(char):04X} {shown} is not allowed"
            )
    if unicodedata.normalize("NFKC", segment) != segment:
        return (
            f"segment {segment!r} {shown} changes under Unicode NFKC normalisation; "
            "write it in plain characters"
        )
    return None
