"""Text from specs and live Azure, made safe to show on one line to a person.

Control characters (C0, DEL, C1) and line/paragraph separators would break a line or drive a
terminal; format characters (Unicode category Cf: bidirectional overrides and isolates such as
U+202E and U+2066, zero-width spaces and joiners, tag characters) are invisible yet reorder or
hide what is displayed, so a tag or subject could read differently from what it is. All of
them are shown as `\\uXXXX` (`\\UXXXXXXXX` above the BMP) in every text and markdown view.
"""

from __future__ import annotations

import unicodedata

_SHOWN_ESCAPED = frozenset({"Cc", "Cf", "Zl", "Zp"})


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def visible(text: str) -> str:
    """`text` with every control, separator and format character escaped."""
    if text.isascii() and text.isprintable():
        return text
    return "".join(
        _escape(c) if unicodedata.category(c) in _SHOWN_ESCAPED else c for c in text
    )


def visible_lines(text: str) -> str:
    """`visible` applied to each line of a rendered view, keeping its line breaks."""
    return "\n".join(visible(line) for line in text.split("\n"))
