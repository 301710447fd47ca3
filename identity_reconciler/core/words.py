"""Counted nouns: "1 file, 2 errors", never "1 files" or "2 error(s)"."""

from __future__ import annotations

_VOWELS = "aeiou"


def plural(noun: str) -> str:
    """The English plural of `noun` (its last word), for the nouns this tool counts."""
    head, _, last = noun.rpartition(" ")
    if last.endswith("y") and len(last) > 1 and last[-2] not in _VOWELS:
        last = last[:-1] + "ies"
    elif last.endswith(("s", "x", "ch", "sh")):
        last += "es"
    else:
        last += "s"
    return f"{head} {last}" if head else last


def count(n: int, noun: str, many: str | None = None) -> str:
    """`1 file`, `2 files`, `1,000 identities` (`many` overrides the plural)."""
    return f"{n:,} {noun if n == 1 else many or plural(noun)}"
