"""Browser-side timings in Debian's Chromium: Enter-to-drawn per page, websocket bytes, cold start, BertViz draw."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from browser_support import AppServer, block_internet, choose, launch, set_text, wait_idle  # noqa: E402
from inputs import MODELS, SIZES, text_of_tokens  # noqa: E402

from viz.model import BUNDLED, load_model, resolve_model  # noqa: E402

DRAW_TIMEOUT_MS = 60_000


def page_stems() -> list[str]:
    pages = Path(__file__).resolve().parents[1] / "pages"
    return ["home"] + sorted(path.stem for path in pages.glob("*.py") if path.stem != "home")


def enter_to_drawn(playwright, server: AppServer) -> list[dict]:
    rows = []
    browser = launch(playwright)
    for key in MODELS:
        tokenizer = load_model(resolve_model(key)).tokenizer
        for size in SIZES:
            text = text_of_tokens(tokenizer, size)
            for stem in page_stems():
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = context.new_page()
                received = [0]
                page.on("websocket", lambda ws, received=received: ws.on(
                    "framereceived", lambda payload: received.__setitem__(0, received[0] + len(payload))))
                page.goto(f"{server.url}/{'' if stem == 'home' else stem}")
                wait_idle(page)
                choose(page, "Model", BUNDLED[key].name)
                wait_idle(page)
                received[0] = 0
                started = time.perf_counter()
                set_text(page, "Text", text)
                try:
                    wait_idle(page, timeout_ms=DRAW_TIMEOUT_MS)
                    seconds = time.perf_counter() - started
                except Exception:
                    seconds = None
                rows.append({"model": key, "tokens": size, "page": stem, "enter_to_drawn_s": seconds,
                             "ws_MB": received[0] / 2**20})
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
            with AppServer(env=env) as server:
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
