"""The one timing helper of the benchmark: the best of several runs, since other work only ever adds time."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_of(function: Callable[[], object], repeats: int = 3) -> float:
    """Seconds of the fastest of `repeats` calls; the timed window holds only the call."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)
