"""What several commands take or do alike: the target options, loading specs, colour, files.

Imported only by the commands that need it (never while building the parser for `--help`),
since the target options name the clouds `azure/` knows.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from pathlib import Path

from identity_reconciler.azure.clients import CLOUD_NAMES, DEFAULT_LOCAL_STATE
from identity_reconciler.cmds import github
from identity_reconciler.core.findings import format_text, summary
from identity_reconciler.core.state import DesiredState
from identity_reconciler.spec import validate


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """--cloud, --world, --state-dir: where the live state is (plan, apply, drift, ...)."""
    parser.add_argument(
        "--cloud",
        choices=CLOUD_NAMES,
        default="azure",
        help="azure (default), azure-china, azure-usgov, or local (the embedded emulator; an "
        "already running one when IDENTITY_RECONCILER_LOCAL_ENDPOINT is set)",
    )
    parser.add_argument(
        "--world",
        metavar="FILE",
        help="with --cloud local: seed the emulator from this world file instead of the specs",
    )
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        help=f"with --cloud local: emulator state directory (default {DEFAULT_LOCAL_STATE}/)",
    )


def load_desired(paths: list[str], *, annotate: bool = False) -> DesiredState | None:
    """Validate specs; print located findings to stderr (or, with `annotate`, as GitHub
    annotations on stdout); None when there are errors."""
    result = validate(paths)
    for finding in result.findings:
        if annotate:
            print(github.finding_annotations([finding])[0])
        else:
            print(format_text(finding), file=sys.stderr)
    if not result.ok or result.desired is None:
        print(summary(result.findings, files=len(result.files)), file=sys.stderr)
        return None
    return result.desired


def write_atomic(path: str | Path, text: str) -> None:
    """Write `text` so that readers see the old file or the new one, never half of one."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def add_target_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--target",
        action="append",
        default=[],
        metavar="ADDRESS",
        help="limit the plan to this address (as the plan prints it) and what it depends on; "
        "repeatable; for exceptional cases only",
    )
