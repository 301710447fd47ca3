"""Spec files are what the user committed, nothing else.

Reproduced before: a committed symlink `specs/x.yaml -> /proc/self/fd/0`, or a FIFO in the
folder, hung `validate`; a symlink to a file outside the repository was read, and about 40
characters of it (a `ghs_` token) appeared in the error, the GitHub annotations and the plan
comment. Hanging cases run in a subprocess bounded by a timeout, so a regression fails rather
than stalls the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from identity_reconciler.cli import main

TOKEN = "ghs_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
VALID = """subscription: 11111111-1111-1111-1111-111111111111
defaults: {location: uksouth, resource_group: rg-myapp-prod-uks-01}
identities:
  - name: id-ok-prod-uks-01
"""


def _validate(folder: Path) -> tuple[int, str]:
    """`validate folder` in a subprocess whose stdin is a pipe kept open and never written to
    (what `/proc/self/fd/0` then names); killed and failed after 30 s if it blocks."""
    log = folder.parent / "validate.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "identity_reconciler", "validate", str(folder)],
            stdin=subprocess.PIPE, stdout=out, stderr=subprocess.STDOUT,
        )
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            pytest.fail("validate blocked on a spec file")
        finally:
            assert proc.stdin is not None
            proc.stdin.close()
    return code, log.read_text()


@pytest.mark.parametrize("kind", ["fifo", "stdin symlink"])
def test_a_pipe_in_the_folder_is_refused_without_hanging(tmp_path: Path, kind: str) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    (specs / "ok.yaml").write_text(VALID)
    if kind == "fifo":
        os.mkfifo(specs / "x.yaml")
    else:
        (specs / "x.yaml").symlink_to("/proc/self/fd/0")
    code, output = _validate(specs)
    assert code == 1
    assert "x.yaml" in output
    assert "IR004" in output
    assert "Traceback" not in output


def test_a_fifo_named_directly_is_refused_without_hanging(tmp_path: Path) -> None:
    fifo = tmp_path / "x.yaml"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "identity_reconciler", "validate", str(fifo)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert done.returncode == 1
    assert "not a regular file" in done.stdout + done.stderr


@pytest.mark.parametrize("fmt", ["text", "json", "github"])
def test_a_symlink_outside_the_folder_is_not_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str
) -> None:
    secret = tmp_path / "home" / ".git-credentials"
    secret.parent.mkdir()
    secret.write_text(f"https://x-access-token:{TOKEN}@github.com\n")
    specs = tmp_path / "repo" / "specs"
    specs.mkdir(parents=True)
    (specs / "ok.yaml").write_text(VALID)
    (specs / "creds.yaml").symlink_to(secret)
    assert main(["validate", str(specs), "--format", fmt]) == 1
    out, err = capsys.readouterr()
    assert "creds.yaml" in out + err
    assert "outside" in out + err
    assert "x-access-token" not in out + err
    assert TOKEN[:8] not in out + err


def test_a_symlink_inside_the_folder_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    specs = tmp_path / "specs"
    (specs / "shared").mkdir(parents=True)
    (specs / "shared" / "real.yml").write_text(VALID)
    (specs / "link.yaml").symlink_to(specs / "shared" / "real.yml")
    assert main(["validate", str(specs)]) == 0
    capsys.readouterr()


@pytest.mark.parametrize(
    "text",
    [
        f"https://x-access-token:{TOKEN}@github.com\n",  # a whole file that is one string
        f"subscription: {TOKEN}\n",  # a value quoted in an error
        f"{TOKEN}: 1\nsubscription: 11111111-1111-1111-1111-111111111111\n",  # a key
        f"subscription: 11111111-1111-1111-1111-111111111111\ndefaults: {{location: '{TOKEN}'",
    ],
)
@pytest.mark.parametrize("command", ["validate-text", "validate-github", "plan-markdown"])
def test_token_shaped_text_in_a_failed_spec_is_never_quoted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, command: str
) -> None:
    spec = tmp_path / "specs" / "bad.yaml"
    spec.parent.mkdir()
    spec.write_text(text)
    verb, fmt = command.split("-")
    args = [verb, str(spec.parent), "--format", fmt]
    if verb == "plan":
        args += ["--cloud", "local", "--state-dir", str(tmp_path / "state")]
    assert main(args) == 1
    out, err = capsys.readouterr()
    assert "bad.yaml" in out + err
    assert TOKEN[:8] not in out + err
    assert "x-access-token" not in out + err
