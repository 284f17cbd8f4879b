"""Browser-side timings in Debian's Chromium: Enter-to-drawn per page, websocket bytes, cold start, BertViz draw."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

from browser_views import Server, launch, new_session, page_url, wait_drawn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser_support import block_internet, choose, wait_idle  # noqa: E402
from inputs import MODELS, SIZES, text_of_tokens  # noqa: E402

from viz.model import BUNDLED, load_model, resolve_model  # noqa: E402

DRAW_TIMEOUT_MS = 60_000
RESULTS = Path(__file__).resolve().parent / "results"
BERTVIZ_SIZES = (16, 64, 124)  # text_of_tokens(…, 128) came out over the app's 128-token limit
# The app's BertViz iframe has drawn: its (same-origin, srcdoc) document holds SVG text; returns the HTML's bytes.
# -1: the page finished with no iframe and a drawn chart instead (the text is over the app's BertViz token limit).
APP_BERTVIZ_JS = """() => {
  const frame = document.querySelector('iframe[data-testid="stIFrame"]');
  const doc = frame && frame.contentDocument;
  if (doc && doc.querySelector('svg text')) return new Blob([frame.srcdoc || '']).size;
  const done = !document.querySelector('[data-testid="stStatusWidget"]') && !frame;
  return done && document.querySelector('[data-testid="stPlotlyChart"] .main-svg') ? -1 : false;
}"""


def page_stems() -> list[str]:
    pages = Path(__file__).resolve().parents[1] / "pages"
    return ["home"] + sorted(path.stem for path in pages.glob("*.py") if path.stem != "home")


def real_tokens(tokenizer, text: str, limit: int = 512) -> int:
    """The token count the app analyses (special tokens included, cut at the model's 512)."""
    return min(len(tokenizer(text)["input_ids"]), limit)


def enter_to_drawn(playwright, server: Server) -> list[dict]:
    """Per model, size and page: Ctrl+Enter in the sidebar's Text box to the page idle with its last chart drawn
    (browser_views.wait_drawn: polled, its first moment, once the server has answered the key press)."""
    rows = []
    browser = launch(playwright)
    for key in MODELS:
        tokenizer = load_model(resolve_model(key)).tokenizer
        for size in SIZES:
            text = text_of_tokens(tokenizer, size)
            for stem in page_stems():
                context, page, received = new_session(browser)
                page.goto(page_url(server, stem))
                wait_idle(page)
                choose(page, "Model", BUNDLED[key].name)
                wait_idle(page)
                area = page.get_by_label("Text", exact=True)
                area.fill(text)
                received[0] = 0
                started = time.monotonic()
                area.press("Control+Enter")
                try:
                    ended, _ = wait_drawn(page, server.pid, started, timeout_s=DRAW_TIMEOUT_MS / 1000,
                                          ready=lambda received=received: received[0] > 0)
                    seconds = ended - started
                except TimeoutError:
                    seconds = None
                rows.append({"model": key, "tokens": real_tokens(tokenizer, text), "page": stem,
                             "enter_to_drawn_s": seconds, "ws_MB": received[0] / 1e6})
                print(rows[-1], flush=True)
                context.close()
    browser.close()
    return rows


def app_bertviz_draw(playwright, server: Server) -> list[dict]:
    """The app's own BertViz: the Attention page opened by link (head view, model view) to the SVG drawn inside its
    iframe, polled in the page by Playwright (no settling wait); HTML MB = 10^6 bytes of the iframe's srcdoc."""
    rows = []
    browser = launch(playwright)
    for key in MODELS:
        tokenizer = load_model(resolve_model(key)).tokenizer
        for size in BERTVIZ_SIZES:
            text = text_of_tokens(tokenizer, size)
            for view in ("Head view", "Model view"):
                query = urllib.parse.urlencode({"model": key, "text": text, "attn_bertviz_kind": view})
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = context.new_page()
                started = time.monotonic()
                try:
                    page.goto(page_url(server, "attention", query), wait_until="commit")
                    size_bytes = page.wait_for_function(APP_BERTVIZ_JS, polling=50, timeout=DRAW_TIMEOUT_MS)
                    seconds, html_mb = time.monotonic() - started, size_bytes.json_value() / 1e6
                    if html_mb < 0:  # not drawn by BertViz: over the app's limit
                        seconds = html_mb = None
                except Exception:
                    seconds = html_mb = None
                rows.append({"model": key, "tokens": real_tokens(tokenizer, text), "view": view,
                             "load_to_svg_s": seconds, "html_MB": html_mb})
                print(rows[-1], flush=True)
                context.close()
    browser.close()
    return rows


def cold_start(playwright) -> list[dict]:
    """Process start to first page drawn (encoder home page, then the decoder), converted-model cache empty/full."""
    rows = []
    browser = launch(playwright)
    empty = Path(tempfile.mkdtemp())
    try:
        for label, env in (("empty cache", {"ATTNVIZ_CACHE": str(empty)}), ("full cache", {})):
            started = time.perf_counter()
            with Server(RESULTS / "cold_start_server.log", env=env) as server:
                page = browser.new_context().new_page()
                page.goto(server.url)
                wait_idle(page)
                first = time.perf_counter() - started
                choose(page, "Model", BUNDLED["bundled:smollm2"].name)
                wait_idle(page, timeout_ms=180_000)
                decoder = time.perf_counter() - started
            rows.append({"cache": label, "first_page_s": first, "decoder_ready_s": decoder})
            print(rows[-1], flush=True)
    finally:
        shutil.rmtree(empty, ignore_errors=True)
        browser.close()
    return rows


def _serve_file(path: Path):
    """A route handler answering with a local file (Playwright passes (route, request), so no default args)."""
    return lambda route: route.fulfill(path=str(path), content_type="application/javascript")


def bertviz_draw(playwright, files: list[dict], asset_routes: dict[str, Path]) -> None:
    """Load raw BertViz HTML in Chromium (CDN libraries served from local files) and time until its SVG draws."""
    browser = launch(playwright)
    for row in files:
        row["draw_s"] = None
        if not row.get("file"):
            continue
        context = browser.new_context()
        block_internet(context, "file://")  # registered first: Playwright tries the last-registered route first
        for pattern, path in asset_routes.items():
            context.route(pattern, _serve_file(path))
        page = context.new_page()
        started = time.perf_counter()
        try:
            page.goto(Path(row["file"]).as_uri(), timeout=DRAW_TIMEOUT_MS)
            page.wait_for_selector("svg rect, svg text", timeout=DRAW_TIMEOUT_MS)
            row["draw_s"] = time.perf_counter() - started
        except Exception:
            row["draw_s"] = None
        print({k: v for k, v in row.items() if k != "file"}, flush=True)
        context.close()
    browser.close()
