"""Attention-visualization core: model layer, analysis type, pure computations and figure builders."""

import os

# torch's OpenMP threads spin while they wait for work (libgomp's default). With the cores busy (other sessions,
# the students' browsers, a long text) that spinning made a 14-token forward pass cost 1.0–1.3 CPU-s and 2–4.5 s
# instead of 0.14 CPU-s and 0.15 s (2 threads, load average ~10; bench/results/threads.md). PASSIVE lets waiting
# threads sleep. libgomp reads it once, when torch is first imported, so it is set here, before any of viz does.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
