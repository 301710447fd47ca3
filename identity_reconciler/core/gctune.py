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


# glibc's mallopt parameter for the most malloc arenas (malloc.h: M_ARENA_MAX).
_M_ARENA_MAX = -8
MALLOC_ARENAS = 2


def cap_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Let glibc's allocator keep at most `arenas` arenas, for a process of our own.

    The bulk read decodes pages in up to 16 worker threads, and glibc gives each thread an
    arena of its own; memory one arena frees is not reused by another, so the peak grows with
    the thread count rather than with what is alive. Two arenas took the 10,000-identity plan's
    peak from 261 MB to 222 MB at the same speed (`benchmarks/plan_scale.py`). The same as
    MALLOC_ARENA_MAX=2 in the environment; a no-op where the C library is not glibc.
    """
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):
        return False
