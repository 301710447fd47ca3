"""The console script caps glibc's malloc arenas for its own process, and only for it."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from identity_reconciler.core import gctune


@pytest.mark.skipif(
    sys.platform != "linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)
def test_the_cap_is_set_on_glibc() -> None:
    assert gctune.cap_malloc_arenas() is True


def test_only_the_console_script_caps_arenas() -> None:
    """`main(argv)` from another program leaves the caller's allocator alone, and a command
    that reads no Azure (`show`) does not pay for the cap's `ctypes` import."""
    probe = (
        "import sys\n"
        "from identity_reconciler import cli\n"
        "from identity_reconciler.core import gctune\n"
        "calls = []\n"
        "gctune.cap_malloc_arenas = lambda arenas=2: calls.append(arenas) or True\n"
        "cli.main(['show', '/nonexistent/plan.json'])\n"
        "print(len(calls))\n"
        "sys.argv = ['identity-reconciler', 'show', '/nonexistent/plan.json']\n"
        "cli.main()\n"
        "print(len(calls))\n"
        "sys.argv = ['identity-reconciler', 'plan', '/nonexistent/specs']\n"
        "cli.main()\n"
        "print(len(calls))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[-3:] == ["0", "0", "1"]
