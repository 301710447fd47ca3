"""Token-shaped strings never leave the tool inside a message it writes.

A spec folder can hold, by mistake or by malice, a file that is not a spec: a symlink to a
credentials file, a pasted token. Whatever a message quotes from such a file (a value, a key,
a snippet) reaches the terminal, GitHub annotations and the pull-request comment, so every
quoted text passes through `redact_tokens`. The shapes are the common credential formats;
the cost of a false positive is one `<redacted>` in an error message.
"""

from __future__ import annotations

import re

REDACTED = "<redacted>"
_TOKEN_RE = re.compile(
    "|".join(
        (
            r"\bgh[pousr]_[A-Za-z0-9]{20,}",  # GitHub tokens: ghp_, gho_, ghu_, ghs_, ghr_
            r"\bgithub_pat_[A-Za-z0-9_]{20,}",  # GitHub fine-grained tokens
            r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",  # JWTs
            r"(?<=[Bb]earer )[A-Za-z0-9\-_.~+/]{8,}=*",  # bearer tokens
            r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key ids
            r"\bxox[abprs]-[A-Za-z0-9-]{10,}",  # Slack tokens
            r"\bglpat-[A-Za-z0-9_-]{20,}",  # GitLab tokens
            r"(?<=[?&]sig=)[A-Za-z0-9%+/=]{16,}",  # SAS signatures
            r"(?<=[Aa]ccount[Kk]ey=)[A-Za-z0-9+/=]{20,}",  # storage connection strings
            r"(?<=://)[^/\s:@]+:[^/\s@]+(?=@)",  # user:password@ in URLs
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----",  # PEM private keys
        )
    )
)


def redact_tokens(text: str) -> str:
    """`text` with every token-shaped substring replaced by `<redacted>`."""
    return _TOKEN_RE.sub(REDACTED, text)
