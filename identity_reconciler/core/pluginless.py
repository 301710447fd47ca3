"""A command-line process runs no pydantic plugins, and so does not pay to look for them.

Pydantic finds plugins through package entry points the first time a model is built: it
imports `importlib.metadata` (and with it `email`, `zipfile`, `csv` and `socket`) and reads the
metadata of every installed distribution. That was a twentieth of `validate specs/`'s start-up,
for plugins (observability hooks on validation) that the CLI neither needs nor should pick up
from whatever else is installed beside it.

`install()` puts a stand-in for pydantic's private loader module in `sys.modules` before any
model exists: its `get_plugins()` returns no plugins. Anything else asked of the stand-in comes
from the real module, loaded under its own name on first use, so a pydantic release that asks
the loader for more keeps working (and `.ci/latest` would show the cost coming back). Only the
console script calls it: a process that imports identity-reconciler as a library keeps its own
plugins.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import sys
import types
from collections.abc import Iterable

LOADER = "pydantic.plugin._loader"


def _get_plugins() -> Iterable[object]:
    return ()


@functools.cache
def _real_loader() -> types.ModuleType | None:
    import pydantic.plugin

    spec = importlib.machinery.PathFinder.find_spec("_loader", list(pydantic.plugin.__path__))
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _real_attribute(name: str) -> object:
    # Dunders are the import system asking what kind of module this is (`__path__`: none).
    real = None if name.startswith("__") else _real_loader()
    if real is None:
        raise AttributeError(f"module {LOADER!r} has no attribute {name!r}")
    return getattr(real, name)


def install() -> bool:
    """Stand in for pydantic's plugin loader; False when it was already loaded (too late)."""
    if LOADER in sys.modules:
        return False
    stand_in = types.ModuleType(LOADER, "pydantic plugins: none in identity-reconciler's CLI")
    setattr(stand_in, "get_plugins", _get_plugins)  # noqa: B010 (a module made at run time)
    setattr(stand_in, "__getattr__", _real_attribute)  # noqa: B010
    sys.modules[LOADER] = stand_in
    return True
