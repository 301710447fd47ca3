"""Fewer garbage collections while specs load: they make objects that all stay alive.

Loading 5,000 grants allocates a few hundred thousand objects and frees almost none, so
CPython's default generation-0 threshold (700 allocations) starts a collection every few
hundred microseconds, each scanning objects that cannot be garbage; at that size the collector
took 15–35 % of validate's CPU, and a regex call inside a collection 43 µs instead of 1.2 µs.
`loading()` raises the threshold for the duration and puts the old one back. The CLI does the
same while it imports a command (a quarter of `validate specs/`'s CPU went to collections
during the imports), then freezes what the imports made (`gc.freeze()`), so no collection
rescans the modules.
`benchmarks/validate_scale.py` prints the run with and without.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

# Generation-0 threshold while loading: a collection per 100,000 net allocations, not 700.
LOADING_THRESHOLD = 100_000
# Off only to measure the difference (benchmarks/validate_scale.py).
enabled = True


@contextlib.contextmanager
def loading() -> Iterator[None]:
    """Collect rarely inside the block; the thresholds are restored after it."""
    if not enabled:
        yield
        return
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], LOADING_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
