"""Real-browser test support: start the app on a free loopback port, drive Debian's Chromium with Playwright."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-default-apps",
]
# idle: no "running" widget, and the app's own script state (an attribute Streamlit keeps on stApp) not running
IDLE_SCRIPT = ("() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && !['running', 'rerunRequested']"
               ".includes(document.querySelector('[data-testid=\"stApp\"]')?.getAttribute('data-test-script-state'))")
# before an input: watch the app's script state, so that even a rerun too quick to show the status widget is seen
ARM_SCRIPT = """() => { window.__reran = false; const app = document.querySelector('[data-testid="stApp"]');
  if (app) new MutationObserver((_, watcher) => { window.__reran = true; watcher.disconnect(); })
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']}); }"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    """`streamlit run app.py` (as `make run` starts it) on a free loopback port, stopped (with its children) on exit."""

    def __init__(self, env: dict | None = None, run: list[str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = [*(run or [sys.executable, "-m", "streamlit", "run", "app.py"]),
                        "--server.port", str(self.port), "--server.address", "127.0.0.1", "--server.headless", "true"]
        self.env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env or {})}
        self.process: subprocess.Popen | None = None
        self.log = ROOT / "artifacts" / f"server-{self.port}.log"

    def __enter__(self) -> AppServer:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            self.command, cwd=ROOT, env=self.env, stdout=self.log.open("w"), stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.__exit__(None, None, None)
        raise RuntimeError(f"server did not become healthy; see {self.log}")

    def rss_bytes(self) -> int:
        """Resident memory of the server process."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        return 0

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def block_internet(context, base_url: str) -> list[str]:
    """Abort every request that is not to the app's own server; returns the list of blocked URLs."""
    blocked: list[str] = []

    def route(request_route):
        url = request_route.request.url
        if url.startswith(base_url) or url.startswith(("data:", "blob:", "about:")):
            request_route.continue_()
        else:
            blocked.append(url)
            request_route.abort()

    context.route("**/*", route)
    return blocked


def offline_tab(browser, base_url: str):
    """A tall browser tab that records page errors and dialogs (page.problems) and may reach only the app; for a
    module-scoped fixture (`yield from offline_tab(browser, app_server.url)`), which checks nothing left the
    machine at its end."""
    context = browser.new_context(viewport={"width": 1400, "height": 4000})
    blocked = block_internet(context, base_url)
    page = context.new_page()
    page.problems = []
    page.on("pageerror", lambda error: page.problems.append(f"page error: {error}"))
    page.on("dialog", lambda dialog: (page.problems.append(f"dialog: {dialog.message}"), dialog.dismiss()))
    yield page
    assert blocked == []
    context.close()


def wait_idle(page, timeout_ms: int = 120_000) -> None:
    """Wait until the app has rendered something and the script has stopped running."""
    # attached, not visible: in presentation mode the sidebar starts collapsed
    page.wait_for_selector('[data-testid="stSidebar"]', state="attached", timeout=timeout_ms)
    page.wait_for_selector('[data-testid="stMainBlockContainer"] [data-testid="stElementContainer"]',
                           timeout=timeout_ms)
    for _ in range(3):  # the status widget can blink between reruns; require it gone three times
        page.wait_for_timeout(400)
        page.wait_for_function(IDLE_SCRIPT, timeout=timeout_ms)


def set_text(page, label: str, text: str) -> None:
    """Type into the sidebar text area with this label and commit it (Ctrl+Enter), as a person would."""
    area = page.get_by_label(label, exact=True)
    area.fill(text)
    _arm(page)
    area.press("Control+Enter")
    _wait_for_rerun(page)


def _arm(page) -> None:
    """Call before an input that starts a rerun; _wait_for_rerun then returns as soon as the rerun has started."""
    page.evaluate(ARM_SCRIPT)


def _wait_for_rerun(page) -> None:
    """Give the app up to 3 s to start the rerun an input triggers, so wait_idle does not return too early.

    Armed (_arm before the input), it returns once the app's script state has changed; unarmed, it waits for the
    status widget, which a very fast rerun never shows (then the whole 3 s pass: 6 s of every page visit before)."""
    with contextlib.suppress(Exception):
        if page.evaluate("() => window.__reran === undefined"):
            page.wait_for_selector('[data-testid="stStatusWidget"]', timeout=3000)
        else:
            page.wait_for_function("() => window.__reran === true", timeout=3000)


def upload_sense_set(page, url: str, csv_path, word: str, *, timeout_ms: int = 120_000) -> None:
    """On the PCA page: choose "Upload a CSV", upload csv_path, type the shared word, wait for the separation chart."""
    page.goto(f"{url}/projection?model=bundled:minilm")
    wait_idle(page, timeout_ms=timeout_ms)
    _arm(page)
    page.get_by_text("Upload a CSV", exact=True).click()
    _wait_for_rerun(page)
    wait_idle(page)
    page.locator('[data-testid="stFileUploader"] input[type="file"]').set_input_files(str(csv_path))
    box = page.get_by_label("Word the sentences share", exact=True)
    box.wait_for(timeout=60_000)
    box.fill(word)
    box.press("Enter")
    page.get_by_text("Where do the senses separate?", exact=True).wait_for(timeout=120_000)
    wait_idle(page)


def choose(page, label: str, option: str) -> None:
    """Pick an option of the Streamlit selectbox with this label."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.click()
    _arm(page)
    page.get_by_role("option", name=option, exact=True).click()
    _wait_for_rerun(page)


def screenshot(page, name: str) -> Path:
    """The whole page: Streamlit scrolls inside its main block, so the viewport is stretched to fit it first."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 0")
    page.set_viewport_size({"width": size["width"], "height": min(max(height, size["height"]), 12_000)})
    page.wait_for_timeout(300)
    page.screenshot(path=str(path))
    page.set_viewport_size(size)
    return path


def open_page(page, stem: str) -> None:
    """Go to a page by clicking its link in the sidebar, as a person does (the session and its text stay)."""
    _arm(page)
    page.locator(f'[data-testid="stSidebarNav"] a[href$="/{"" if stem == "home" else stem}"]').first.click()
    _wait_for_rerun(page)
