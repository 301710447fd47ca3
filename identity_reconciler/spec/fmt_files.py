"""`fmt` over files and folders: which files would change, and writing them."""

from __future__ import annotations

import difflib
import os
import stat
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from identity_reconciler.core.findings import Finding
from identity_reconciler.spec.errors import SpecLoadError
from identity_reconciler.spec.files import SpecFile, decode, discover, read_bytes
from identity_reconciler.spec.fmt import FormatError, format_text
from identity_reconciler.spec.yamlload import Limits


@dataclass
class FormatResult:
    files: int = 0
    changed: list[str] = field(default_factory=list)  # display paths, in the order given
    diffs: list[str] = field(default_factory=list)  # unified diffs of the changed files
    errors: list[str] = field(default_factory=list)  # `file:line:col: message` lines


def format_paths(paths: Sequence[str | Path], *, write: bool) -> FormatResult:
    """Format every spec file under `paths`; rewrite the changed ones only when `write`."""
    specs, missing = discover(paths)
    result = FormatResult(files=len(specs))
    result.errors += [_line(f) for f in missing]
    for spec in specs:
        try:
            before = decode(spec, read_bytes(spec, Limits().max_file_bytes))
            after = format_text(before, spec.display)
        except SpecLoadError as exc:
            result.errors.append(_line(exc.finding))
            continue
        except FormatError as exc:
            result.errors.append(str(exc))
            continue
        if after == before:
            continue
        result.changed.append(spec.display)
        result.diffs.append(_diff(spec, before, after))
        if write:
            try:
                _write(spec, after)
            except OSError as exc:
                result.errors.append(f"{spec.display}:1:1: cannot write: {exc.strerror or exc}")
    return result


def _line(finding: Finding) -> str:
    return f"{finding.file}:{finding.line}:{finding.column}: {finding.message}"


def _diff(spec: SpecFile, before: str, after: str) -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True),
            after.splitlines(keepends=True),
            fromfile=f"a/{spec.display}",
            tofile=f"b/{spec.display}",
        )
    )


def _write(spec: SpecFile, text: str) -> None:
    """Replace the file in one rename, so an interrupted run leaves the old or the new text.

    A symlinked spec has its target rewritten (the link stays), with the target's permissions.
    The temporary file gets a fresh name, created exclusively: a name fixed in advance could
    already be a symlink committed to the folder, and writing through it would put the text
    anywhere the user can write.
    """
    target = spec.path.resolve()
    mode = stat.S_IMODE(target.stat().st_mode)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".fmt-tmp")
    temporary = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            os.fchmod(fh.fileno(), mode)
        temporary.replace(target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
