"""Attention-visualization core: model layer, analysis type, pure computations and figure builders."""

import os

# torch's OpenMP threads spin while they wait for work (libgomp: 300,000 turns by default). With the cores busy
# (other sessions, the students' browsers, a long text) that spinning made a 14-token forward pass cost 0.8–2.4 CPU-s
# and 1.8–13 s instead of ~0.15 s; never spinning (OMP_WAIT_POLICY=PASSIVE) cost a quiet machine 20–50 % per pass.
# 1,000 turns kept both: 0.097 s quiet, 0.154 s beside two busy processes (bench/omp_wait.py, results/threads.md).
# libgomp reads it once, when torch is first imported, so it is set here, before any of viz does.
os.environ.setdefault("GOMP_SPINCOUNT", "1000")

__version__ = "0.1.0"
