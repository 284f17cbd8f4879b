"""Shared browser pieces of the page benchmarks (page_cost, class_times, browser_times): one way to do each.

- `Server`: `<venv python> -m streamlit run app.py` on a free loopback port (HF_HUB_OFFLINE=1), with readers of
  its CPU seconds (utime+stime, all threads, /proc/<pid>/stat) and resident memory (MB = 10^6 bytes).
- `DRAWN_JS`: "the page is idle and its last chart is drawn": frame and content drawn, no script running
  (`stStatusWidget`), no stale element from an earlier run, no skeleton, every visible plotly chart has its SVG,
  every BertViz iframe has an SVG with text inside it (the iframe is same-origin: srcdoc, allow-same-origin).
- `wait_drawn` / `wait_drawn_async`: poll DRAWN_JS every 50 ms; the timed window ends at the first moment it holds.
  A 1.5 s check that it keeps holding runs after that moment (outside the window); if a rerun shows up in it, the
  later moment is taken. No settling sleeps inside a timed window.
- `slider_rerun`: one keyboard step on the page's layer slider (or its first slider, or radio group), timed.
"""

from __future__ import annotations

import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["home", "tokens", "attention", "qkv", "similarity", "projection", "next_token"]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SERVER_CMD = f"{sys.executable} -m streamlit run app.py --server.port {{port}} --server.address 127.0.0.1 " \
             "--server.headless true"
POLL_S = 0.05
STABLE_S = 1.5
TIMEOUT_S = 180.0
CLK_TCK = os.sysconf("SC_CLK_TCK")

DRAWN_JS = """() => {
  if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
  if (!document.querySelector('[data-testid="stSidebar"]')) return false;
  if (document.querySelector('[data-stale="true"]')) return false;
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  if (!main || !main.querySelector('[data-testid="stElementContainer"]')) return false;
  if (main.querySelector('[data-testid="stSkeleton"]')) return false;
  for (const chart of main.querySelectorAll('[data-testid="stPlotlyChart"]')) {
    if (chart.offsetParent !== null && !chart.querySelector('.main-svg')) return false;
  }
  for (const frame of main.querySelectorAll('iframe')) {
    if (frame.offsetParent === null) continue;
    try { const doc = frame.contentDocument; if (!doc || !doc.querySelector('svg text')) return false; }
    catch (e) { /* cross-origin: cannot tell, count as drawn */ }
  }
  return true;
}"""

# The page's text as shown: main area and sidebar text, plus the text inside same-origin iframes (BertViz).
TEXT_JS = """() => {
  let text = document.body.innerText;
  for (const frame of document.querySelectorAll('iframe')) {
    try { text += '\\n' + frame.contentDocument.body.textContent; } catch (e) {}
  }
  return text;
}"""

SUBJECTS = ["teacher", "farmer", "pilot", "doctor", "painter", "sailor", "baker", "student", "writer", "singer",
            "driver", "gardener", "lawyer", "nurse", "chemist", "builder"]
ADJECTIVES = ["quiet", "tired", "clever", "young", "patient", "cheerful", "careful", "nervous", "brave", "calm"]
PLACES = ["harbour", "station", "library", "market", "bridge", "garden", "museum", "stadium", "castle", "bakery"]
VERBS = ["painted", "waited", "sang", "read", "walked", "slept", "cooked", "studied", "danced", "wrote"]
TIMES = ["morning", "evening", "winter", "weekend", "summer", "night", "spring", "autumn"]


def sentence(index: int, subject: str | None = None) -> str:
    """The index-th 9-word sentence; distinct for every index below 1,600. `subject` replaces the subject word."""
    subject = subject or SUBJECTS[(index // 10) % 16]
    return (f"The {ADJECTIVES[index % 10]} {subject} near the {PLACES[(index // 3) % 10]} "
            f"{VERBS[(index // 7) % 10]} every {TIMES[index % 8]}.")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # fields 14 and 15 of stat(5)


def tree_cpu(root: int, skip: int) -> dict[int, float]:
    """CPU seconds per process under `root`, except the `skip` subtree (the server): Playwright's driver and
    Chromium. Counts children that have exited and been waited for (cutime+cstime), e.g. closed renderers."""
    parents, cpu = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid], cpu[pid] = int(fields[1]), sum(int(f) for f in fields[11:15]) / CLK_TCK
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    found, todo = {}, list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid != skip:
            found[pid] = cpu[pid]
            todo += children.get(pid, [])
    return found


def tree_cpu_seconds(root: int, skip: int) -> float:
    """The CPU seconds of tree_cpu(root, skip) together."""
    return sum(tree_cpu(root, skip).values())


class Server:
    """The app on a free loopback port, started with `command` ({port} replaced) in `cwd`; stopped on exit."""

    def __init__(self, log: Path, command: str = SERVER_CMD, cwd: Path = ROOT, env: dict | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.argv = shlex.split(command.replace("{port}", str(self.port)))
        if "/" in self.argv[0]:  # a relative program path is read from where this script was started
            self.argv[0] = str(Path(self.argv[0]).absolute())
        self.cwd, self.log, self.env = cwd, log, {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}

    def __enter__(self) -> Server:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(self.argv, cwd=self.cwd, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
                                        env=self.env, start_new_session=True)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"server did not become healthy; see {self.log}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def rss_mb(self) -> float:
        """Resident memory in MB (10^6 bytes)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
        return 0.0

    def __exit__(self, *exc) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def page_url(server: Server, stem: str, query: str = "") -> str:
    return f"{server.url}/{'' if stem == 'home' else stem}" + (f"?{query}" if query else "")


def launch(playwright):
    """One headless Chromium (sync or async Playwright)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


class _Poll:
    """The state of one drawn-wait: when DRAWN_JS first held (and the CPU then), reset when it stops holding."""

    def __init__(self, pid: int | None, started: float, timeout_s: float):
        self.pid, self.started, self.timeout_s = pid, started, timeout_s
        self.since = self.cpu = None

    def step(self, drawn: bool) -> bool:
        """Feed one observation; True when drawn has held for STABLE_S."""
        now = time.monotonic()
        if drawn and self.since is None:
            self.since, self.cpu = now, cpu_seconds(self.pid) if self.pid else None
        elif not drawn:
            self.since = None
        if self.since is not None and now - self.since >= STABLE_S:
            return True
        if self.since is None and now - self.started > self.timeout_s:
            raise TimeoutError("page was not drawn in time")
        return False


def wait_drawn(page, pid: int | None, started: float, timeout_s: float = TIMEOUT_S, ready=None) -> tuple:
    """Sync Playwright: (monotonic time, server CPU) when the page was last seen becoming drawn.
    `ready()` (optional) must also hold, e.g. "the rerun has started"."""
    poll = _Poll(pid, started, timeout_s)
    while not poll.step(page.evaluate(DRAWN_JS) and (ready is None or ready())):
        time.sleep(POLL_S)
    return poll.since, poll.cpu


async def wait_drawn_async(page, pid: int | None, started: float, timeout_s: float = TIMEOUT_S,
                           poll_s: float = POLL_S) -> tuple:
    """Async Playwright twin of wait_drawn (same JS, same rule)."""
    import asyncio

    poll = _Poll(pid, started, timeout_s)
    while not poll.step(await page.evaluate(DRAWN_JS)):
        await asyncio.sleep(poll_s)
    return poll.since, poll.cpu


# DRAWN_JS run by the page itself (Playwright's wait_for_function polling), so a class of 30 pages costs the harness
# no round trip per poll: it answers the epoch milliseconds at which the page first became drawn once that has held
# for STABLE_S (a later rerun resets it, as _Poll does).
DRAWN_STABLE_JS = """(stableMs) => {
  const drawn = (""" + DRAWN_JS + """)();
  const now = performance.timeOrigin + performance.now();
  if (!drawn) { window.__drawnSince = null; return false; }
  if (window.__drawnSince == null) window.__drawnSince = now;
  return now - window.__drawnSince >= stableMs ? window.__drawnSince : false;
}"""


async def drawn_after_async(page, started_epoch: float, timeout_s: float = TIMEOUT_S, poll_ms: int = 100) -> float:
    """Async: seconds from `started_epoch` (time.time() before the link was opened) to the page first drawn."""
    handle = await page.wait_for_function(DRAWN_STABLE_JS, arg=STABLE_S * 1000, polling=poll_ms,
                                          timeout=timeout_s * 1000)
    return await handle.json_value() / 1000 - started_epoch


def new_session(browser):
    """A new browser context and page (sync), with a counter of the websocket bytes it receives."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    received = [0]
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda payload: received.__setitem__(0, received[0] + len(payload))))
    return context, page, received


# Streamlit >= 1.5x draws a slider thumb as react-aria's <input type="range"> (no explicit role="slider")
SLIDER = '[data-testid="stSlider"] input[type="range"], [data-testid="stSlider"] [role="slider"]'
RADIO = '[data-testid="stMainBlockContainer"] [data-testid="stRadio"] input[type="radio"]'
CONTROLS_JS = """() => {
  const SLIDER = '""" + SLIDER + """';
  const main = document.querySelector('[data-testid="stMainBlockContainer"]');
  const label = (el, box) => { const b = el.closest(box); return b ? b.innerText.split('\\n')[0].trim() : ''; };
  const sliders = Array.from(main.querySelectorAll(SLIDER)).map((el, i) => ({
    kind: 'slider', index: i, label: label(el, '[data-testid="stSlider"]'),
    visible: el.closest('[data-testid="stSlider"]').offsetParent !== null, room: true,
    at_max: (el.value ?? el.getAttribute('aria-valuenow')) === (el.max || el.getAttribute('aria-valuemax'))}));
  const radios = Array.from(main.querySelectorAll('[data-testid="stRadio"] input[type="radio"]')).map((el, i) => ({
    kind: 'radio', index: i, label: label(el, '[data-testid="stRadio"]'),
    visible: el.closest('[data-testid="stRadio"]').offsetParent !== null, room: el.checked, value: el.value}));
  return sliders.concat(radios);
}"""
VALUE_JS = """([selector, index]) => {
  const el = document.querySelectorAll(selector)[index];
  if (el.closest('[data-testid="stSlider"]')) return el.value ?? el.getAttribute('aria-valuenow');
  const checked = el.closest('[data-testid="stRadio"]').querySelector('input:checked');
  return checked ? checked.parentElement.innerText || checked.value : null;
}"""


def _pick_control(page) -> tuple[dict | None, str]:
    """The layer slider when there is one, else the first visible slider, else the first radio group."""
    candidates = [c for c in page.evaluate(CONTROLS_JS) if c["visible"] and c["room"]]
    sliders = [c for c in candidates if c["kind"] == "slider"]
    layer = [c for c in sliders if "layer" in c["label"].lower()]
    chosen = (layer or sliders or [c for c in candidates if c["kind"] == "radio"] or [None])[0]
    selector = (", ".join(f'[data-testid="stMainBlockContainer"] {part.strip()}' for part in SLIDER.split(","))
                if chosen and chosen["kind"] == "slider" else RADIO)
    return chosen, selector


def slider_rerun(page, server: Server, received: list) -> dict:
    """Move one control one step with the keyboard (ArrowRight, or ArrowLeft at the maximum) and time the rerun
    until drawn. The rerun counts as started once the server has sent a websocket frame after the key press."""
    chosen, selector = _pick_control(page)
    if chosen is None:
        return {"slider": None}
    control = page.locator(selector).nth(chosen["index"])
    before = page.evaluate(VALUE_JS, [selector, chosen["index"]])
    control.focus()
    url0, bytes0 = page.url, received[0]
    cpu0, started = server.cpu(), time.monotonic()
    control.press("ArrowLeft" if chosen.get("at_max") else "ArrowRight")
    ended, cpu1 = wait_drawn(page, server.pid, started, ready=lambda: received[0] > bytes0)
    return {"slider": chosen["label"] + ("" if chosen["kind"] == "slider" else " (radio, no slider shown)"),
            "from": before, "to": page.evaluate(VALUE_JS, [selector, chosen["index"]]),
            "cpu_slider_s": round(cpu1 - cpu0, 3), "wall_slider_s": round(ended - started, 3),
            "ws_slider_mb": round((received[0] - bytes0) / 1e6, 3), "url_changed": page.url != url0}
