"""Training runs shared by every session of this process: one at a time, one per settings, the rest queued.

A class pressing Train together starts one training, not thirty: a run is keyed by its settings, everyone asking
for the same settings watches the same run, different settings wait in a first-come queue worked by one thread.
The thread holds one of cached.model_work()'s slots while it trains, so the app's other work keeps the other
core(s). A run nobody watches any more (everyone pressed Stop) is dropped from the queue, or stopped.
A finished run is saved to .cache/trained/<key>/ and is found there again after a restart.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field

import streamlit as st

from viz import training as task
from viz.model import training as trainer_model
from viz.ui.cached import model_work

QUEUED, RUNNING, DONE, STOPPED, FAILED = "queued", "running", "done", "stopped", "failed"
KEEP_FINISHED = 8  # finished runs kept in memory (a big one's snapshots are ~30 MB); older ones reload from disk


@dataclass
class Run:
    """One training run: its settings (and text), its status, its history so far, and who watches it."""

    settings: task.TrainSettings
    text: str | None = None
    status: str = QUEUED
    history: trainer_model.History | None = None
    error: str = ""
    watchers: set = field(default_factory=set)
    stop: threading.Event = field(default_factory=threading.Event)
    started: float = 0.0

    @property
    def steps_per_second(self) -> float:
        history = self.history
        return history.done_steps / history.seconds if history and history.seconds else 0.0


class Trainer:
    """The process's runs by key, the queue of waiting keys, and the one worker thread."""

    def __init__(self, *, hold_slot: bool = True) -> None:
        self.lock = threading.Lock()
        self.runs: dict[str, Run] = {}
        self.queue: deque[str] = deque()
        self.worker: threading.Thread | None = None
        self.hold_slot = hold_slot

    def find(self, settings: task.TrainSettings) -> Run | None:
        """The run of these settings in this process, or a finished one on disk, or None."""
        with self.lock:
            run = self.runs.get(settings.key)
            if run is not None:
                return run
        history = trainer_model.load_history(settings)
        if history is None:
            return None
        with self.lock:
            found = self.runs.setdefault(settings.key, Run(settings, status=DONE, history=history))
            self._forget_old_runs()
            return found

    def _forget_old_runs(self) -> None:
        """Drop the oldest finished runs past KEEP_FINISHED (called with the lock held)."""
        finished = [key for key, run in self.runs.items() if run.status in (DONE, STOPPED, FAILED)]
        for key in finished[:-KEEP_FINISHED]:
            del self.runs[key]

    def request(self, settings: task.TrainSettings, text: str | None, watcher: str) -> Run:
        """Watch the run of these settings, queueing it when nobody trains it yet."""
        found = self.find(settings)
        with self.lock:
            if found is None or found.status in (STOPPED, FAILED):
                found = self.runs[settings.key] = Run(settings, text)
            if found.status in (QUEUED, RUNNING, DONE):
                found.watchers.add(watcher)
            if found.status == QUEUED and settings.key not in self.queue:
                self.queue.append(settings.key)
            if self.worker is None or not self.worker.is_alive():
                self.worker = threading.Thread(target=self._work, name="attnviz-training", daemon=True)
                self.worker.start()
        return found

    def leave(self, settings: task.TrainSettings, watcher: str) -> None:
        """Stop watching; a run nobody watches any more leaves the queue, or stops at its next step."""
        with self.lock:
            run = self.runs.get(settings.key)
            if run is None:
                return
            run.watchers.discard(watcher)
            if run.watchers or run.status not in (QUEUED, RUNNING):
                return
            run.stop.set()
            if run.status == QUEUED:
                self.queue.remove(settings.key)
                run.status = STOPPED

    def waiting_before(self, settings: task.TrainSettings) -> int:
        """How many runs will train before this queued one (the running one included)."""
        with self.lock:
            ahead = list(self.queue).index(settings.key) if settings.key in self.queue else 0
            return ahead + any(run.status == RUNNING for run in self.runs.values())

    def _work(self) -> None:
        while True:
            with self.lock:
                if not self.queue:
                    self.worker = None
                    return
                run = self.runs[self.queue.popleft()]
                run.status, run.started = RUNNING, time.perf_counter()
            self._train(run)

    def _train(self, run: Run) -> None:
        def progress(history):
            run.history = history
        try:
            if self.hold_slot:
                with model_work():
                    model, tokenizer, history = trainer_model.train(run.settings, run.text, on_progress=progress,
                                                                    should_stop=run.stop.is_set)
            else:
                model, tokenizer, history = trainer_model.train(run.settings, run.text, on_progress=progress,
                                                                should_stop=run.stop.is_set)
            run.history = history
            if run.stop.is_set():
                run.status = STOPPED
                return
            trainer_model.save(model, tokenizer, history, run.text)
            run.status = DONE
        except Exception as error:  # noqa: BLE001  (the page shows why; the worker goes on with the queue)
            run.error, run.status = f"{type(error).__name__}: {error}", FAILED
        with self.lock:
            self._forget_old_runs()


@st.cache_resource(show_spinner=False)
def trainer() -> Trainer:
    """The one Trainer of this process."""
    return Trainer()


def watcher_id() -> str:
    """This browser session's id (who watches a run)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    context = get_script_run_ctx()
    return context.session_id if context else "no-session"
