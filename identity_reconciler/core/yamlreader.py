"""PyYAML's pure-Python reader compiles its one large regex when first used, not at import.

`yaml/reader.py` compiles `Reader.NON_PRINTABLE`, a character class spanning all of Unicode, in
its class body; `import yaml` always runs it, and building that class's tables was 6 % of
`validate specs/` (57 M of 940 M instructions). The specs are parsed by libyaml (`CSafeLoader`),
which never uses the pure-Python reader, so the console script's process defers the compile:
`install()` adds an import hook that, the first time `yaml.reader` is imported, runs it with
that one pattern standing in as a `LazyPattern`, compiled on its first use. Every other
`re.compile` call goes through untouched, the hook removes itself once used, and a PyYAML whose
pattern differs is imported exactly as it is. As with `pluginless`, only the console script
calls it: a process that imports identity-reconciler as a library keeps PyYAML as it comes.
"""

from __future__ import annotations

import functools
import importlib.machinery
import re
import sys
import types
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:  # importlib.abc imports importlib.resources: 12 ms of every start-up
    from importlib.abc import Loader

MODULE = "yaml.reader"
# yaml/reader.py, PyYAML 5.1 to 6.0.x: Reader.NON_PRINTABLE.
NON_PRINTABLE = "[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


class LazyPattern:
    """Stands in for `re.compile(pattern, flags)` and compiles it on first use."""

    def __init__(self, pattern: str, flags: int) -> None:
        self.pattern = pattern
        self.flags = flags

    @functools.cached_property
    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.pattern, self.flags)

    def __getattr__(self, name: str) -> Any:  # search, match, sub, groups, ...
        return getattr(self.compiled, name)

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r})"


class _Loader:
    def __init__(self, loader: Loader) -> None:
        self._loader = loader

    def __getattr__(self, name: str) -> Any:  # get_source, get_filename, ...: the real one's
        return getattr(self._loader, name)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        real = re.compile

        def compile_(pattern: Any, flags: Any = 0) -> Any:
            if pattern == NON_PRINTABLE and flags == 0:
                return LazyPattern(pattern, flags)
            return real(pattern, flags)

        re.compile = compile_  # only while yaml/reader.py runs
        try:
            self._loader.exec_module(module)
        finally:
            re.compile = real


class _Finder:
    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname != MODULE:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path, target)
        if spec is None or spec.loader is None:
            return None  # not ours to find: the finders after this one look as usual
        spec.loader = cast("Loader", _Loader(spec.loader))
        # Once. Removing itself while the import system walks sys.meta_path is safe only
        # because that walk stops at the spec returned here.
        sys.meta_path.remove(self)
        return spec


def install() -> bool:
    """Defer the compile for the next import of `yaml.reader`; False when already imported."""
    if MODULE in sys.modules or any(isinstance(f, _Finder) for f in sys.meta_path):
        return False
    sys.meta_path.insert(0, _Finder())
    return True
