"""Start-up: `--version`, `--help` and `validate` load no Azure SDK, cryptography or emulator.

Checked in a fresh interpreter, by the modules it holds at the end of the run, not by time
(`benchmarks/startup.py` measures the time).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MARK = "MODULES:"
# What only commands that reach Azure may load.
HEAVY = ("azure", "cryptography", "local_azure")
RUN = f"""
import json, sys
import identity_reconciler.cli as cli
try:
    cli.main(json.loads(sys.argv[1]))
except SystemExit:
    pass
print({MARK!r} + json.dumps(sorted(sys.modules)))
"""


def loaded(*argv: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", RUN, json.dumps(argv)],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    ).stdout
    modules: list[str] = json.loads(out.rsplit(MARK, 1)[1])
    return [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]


@pytest.mark.parametrize(
    "argv",
    [
        ("--version",),
        ("--help",),
        ("validate", "specs/"),
        ("validate", "--help"),
        ("show", "no-such-plan.json"),  # reads plan files, never Azure
    ],
    ids=" ".join,
)
def test_offline_commands_load_nothing_of_azure(argv: tuple[str, ...]) -> None:
    assert loaded(*argv) == []


def test_a_command_that_reaches_azure_does_load_it() -> None:
    """The check above can fail: `plan` needs the SDK, and the same probe sees it."""
    assert any(m.startswith("azure.") for m in loaded("plan", "--help"))


WHOLE_PROCESS = f"""
import json, sys
sys.argv = ["identity-reconciler", *json.loads(sys.argv[1])]
import identity_reconciler.cli as cli
try:
    code = cli.main()  # as the console script calls it: the process is the CLI's alone
except SystemExit as exc:
    code = exc.code
print({MARK!r} + json.dumps([code, sorted(sys.modules)]))
"""


def test_the_console_script_does_not_look_for_pydantic_plugins() -> None:
    """Pydantic's plugin search imports importlib.metadata and reads every installed package's
    metadata; the CLI's own process skips it, and validates exactly as before."""
    result = subprocess.run(
        [sys.executable, "-c", WHOLE_PROCESS, json.dumps(["validate", "specs/"])],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )
    code, modules = json.loads(result.stdout.rsplit(MARK, 1)[1])
    assert "importlib.metadata" not in modules
    assert "pydantic.plugin._loader" in modules  # the stand-in pydantic asked for
    assert code == 0
    assert "1 warning" in result.stderr
    library = subprocess.run(
        [sys.executable, "-c", RUN, json.dumps(["validate", "specs/"])],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )
    assert result.stdout.rsplit(MARK, 1)[0] == library.stdout.rsplit(MARK, 1)[0]


def test_the_plugin_stand_in_hands_on_what_it_does_not_know() -> None:
    from identity_reconciler.core import pluginless

    assert pluginless._real_attribute("PYDANTIC_ENTRY_POINT_GROUP") == "pydantic"
    with pytest.raises(AttributeError):
        pluginless._real_attribute("__path__")  # not a package: the import system asks
    assert pluginless.install() is False  # this test process already built models


YAML_PROBE = f"""
import json, sys, re
sys.argv = ["identity-reconciler", "validate", "specs/"]
import identity_reconciler.cli as cli
try:
    cli.main()
except SystemExit:
    pass
import yaml, yaml.reader
pattern = yaml.reader.Reader.NON_PRINTABLE
state = [type(pattern).__name__, "compiled" in vars(pattern),
         any(type(f).__name__ == "_Finder" for f in sys.meta_path)]
try:
    yaml.load("a: \\x07", Loader=yaml.SafeLoader)  # the pure-Python reader, which uses it
    refused = False
except yaml.reader.ReaderError:
    refused = True
print({MARK!r} + json.dumps([*state, refused, "compiled" in vars(pattern),
                              isinstance(re.compile("x"), re.Pattern)]))
"""


def test_the_console_script_defers_pyyamls_reader_regex() -> None:
    """libyaml parses the specs, so the pure-Python reader's Unicode-wide regex is compiled
    only if something uses that reader, and it still refuses what it refused before."""
    out = subprocess.run(
        [sys.executable, "-c", YAML_PROBE], capture_output=True, text=True, cwd=REPO,
        timeout=120, check=True,
    ).stdout
    kind, compiled_after_validate, hook_left, refused, compiled_after_use, re_intact = (
        json.loads(out.rsplit(MARK, 1)[1])
    )
    assert (kind, compiled_after_validate) == ("LazyPattern", False)
    assert not hook_left  # the import hook removed itself once used
    assert refused
    assert compiled_after_use
    assert re_intact


def test_the_yaml_reader_deferral_touches_nothing_else() -> None:
    import re

    import yaml.reader

    from identity_reconciler.core import yamlreader

    assert isinstance(yaml.reader.Reader.NON_PRINTABLE, re.Pattern)  # a library process: as is
    assert yamlreader.install() is False  # already imported: too late, and says so
    lazy = yamlreader.LazyPattern(yamlreader.NON_PRINTABLE, 0)
    assert lazy.search("ok\x07") is not None
    assert lazy.search("ok") is None
    assert lazy.compiled.pattern == yaml.reader.Reader.NON_PRINTABLE.pattern


@pytest.mark.parametrize("argv", [["--version"], ["validate", "specs/"]], ids=" ".join)
def test_the_start_up_hooks_import_nothing_heavy(argv: list[str]) -> None:
    """The hooks above must not cost what they save: `importlib.abc` alone imports
    `importlib.resources`, `tempfile` and `random` (12 ms)."""
    result = subprocess.run(
        [sys.executable, "-c", WHOLE_PROCESS, json.dumps(argv)],
        capture_output=True, text=True, cwd=REPO, timeout=120, check=False,
    )
    _code, modules = json.loads(result.stdout.rsplit(MARK, 1)[1])
    assert not {"importlib.abc", "importlib.resources", "tempfile"} & set(modules)
