"""Which files are specs, and reading them safely.

Paths on the command line may be files (read whatever their extension) or directories
(every `*.yaml` / `*.yml` below, hidden folders skipped, symlinked folders not followed, in a
stable order). A symlink is read only when it resolves inside the folder given (for a file
named directly: its own folder); a file that is not regular (a FIFO, a device) is refused
without blocking. A file is read only up to the size limit and must be UTF-8 text.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from identity_reconciler.core.findings import Finding, Severity
from identity_reconciler.spec.errors import SpecLoadError

SPEC_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class SpecFile:
    path: Path
    display: str  # how messages name it: relative to the working directory when inside it


def display_path(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop
        return path.as_posix()


def _missing(display: str, message: str, fix: str) -> Finding:
    return Finding(display, 1, 1, Severity.ERROR, "IR004", message, fix)


def _walk(root: Path) -> Iterable[Path]:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith(".") and name.lower().endswith(SPEC_SUFFIXES):
                yield Path(dirpath) / name


def _inside(real: Path, root: Path) -> bool:
    try:
        real.relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        return False
    return True


def discover(paths: Sequence[str | Path]) -> tuple[list[SpecFile], list[Finding]]:
    """The spec files named by `paths`, each once, and a finding for each path that names none."""
    files: list[SpecFile] = []
    findings: list[Finding] = []
    seen: set[Path] = set()

    def add(path: Path, root: Path) -> None:
        try:
            real = path.resolve()
        except (OSError, RuntimeError):  # RuntimeError: a symlink loop
            real = path.absolute()
        if path.is_symlink() and not _inside(real, root):
            shown = display_path(path)
            findings.append(
                _missing(
                    shown,
                    f"{shown} is a symlink to a file outside {display_path(root)}; not read",
                    "commit the spec itself, or link only to files inside the spec folder",
                )
            )
            return
        if real not in seen:
            seen.add(real)
            files.append(SpecFile(path, display_path(path)))

    if not paths:
        findings.append(_missing(".", "no spec paths given", "name spec files or folders"))
    for raw in paths:
        path = Path(raw)
        shown = display_path(path)
        try:
            path.stat()  # is_dir() and friends raise for names the system refuses (too long)
        except (FileNotFoundError, NotADirectoryError, ValueError):
            pass  # reported below as missing (ValueError: a NUL byte in the name)
        except OSError as exc:
            findings.append(
                _missing(shown, f"cannot read {shown}: {exc.strerror or exc}", "check the path")
            )
            continue
        if path.is_dir():
            found = list(_walk(path))
            if not found:
                findings.append(
                    _missing(
                        shown,
                        f"no *.yaml or *.yml spec files under {shown}",
                        "point at a folder that holds specs, or at the spec files",
                    )
                )
            for f in found:
                add(f, path)
        elif path.is_file():
            add(path, path.parent)
        elif path.exists():
            findings.append(_missing(shown, f"{shown} is not a regular file", "name a spec file"))
        else:
            findings.append(
                _missing(shown, f"{shown}: no such file or folder", "check the path and spelling")
            )
    return files, findings


def read_bytes(spec: SpecFile, max_bytes: int) -> bytes:
    """The file's bytes, refusing anything over the limit before reading it into memory.

    Only a regular file is read. It is opened non-blocking, so a FIFO or a device (or a
    symlink to `/proc/self/fd/0`) cannot hang validation, and checked with fstat on the open
    descriptor, so what is read is what was checked.
    """
    try:
        fd = os.open(spec.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise SpecLoadError(
            spec.display, (1, 1), "IR004", f"cannot read file: {exc.strerror or exc}",
            "check that the file exists and is readable",
        ) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SpecLoadError(
                spec.display, (1, 1), "IR004", "not a regular file (a pipe, device or socket)",
                "keep only YAML files in the spec folder",
            )
        with os.fdopen(fd, "rb", closefd=False) as fh:
            data = fh.read(max_bytes + 1)
    except OSError as exc:
        raise SpecLoadError(
            spec.display, (1, 1), "IR004", f"cannot read file: {exc.strerror or exc}",
            "check that the file exists and is readable",
        ) from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise SpecLoadError(
            spec.display,
            (1, 1),
            "IR003",
            f"file is larger than {max_bytes:,} bytes",
            "split it into several spec files",
        )
    return data


def decode(spec: SpecFile, data: bytes) -> str:
    """UTF-8 text (a BOM is allowed), or a located error saying why the bytes are not a spec."""
    if b"\x00" in data:
        raise SpecLoadError(
            spec.display,
            (1, 1),
            "IR004",
            "binary file (contains NUL bytes), not a YAML spec",
            "remove it from the spec folder or name only YAML files",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        column = len(before) - (before.rfind(b"\n") + 1) + 1
        raise SpecLoadError(
            spec.display,
            (line, column),
            "IR004",
            f"not UTF-8 text (byte 0x{data[exc.start]:02x})",
            "save the file as UTF-8",
        ) from None
    if not text.strip():
        raise SpecLoadError(
            spec.display,
            (1, 1),
            "IR004",
            "empty file",
            "add a spec (subscription:, identities: ...) or delete the file",
        )
    return text


def digest(files: Sequence[tuple[SpecFile, bytes]]) -> str:
    """sha256 over the spec files, sorted by path: the same specs give the same digest anywhere."""
    h = hashlib.sha256()
    for spec, data in sorted(files, key=lambda item: item[0].display):
        name = spec.display.encode("utf-8", errors="surrogateescape")
        h.update(len(name).to_bytes(8, "big") + name)
        h.update(len(data).to_bytes(8, "big") + data)
    return "sha256:" + h.hexdigest()
